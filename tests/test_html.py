"""Raw HTML in a chapter: what a book can carry is kept, as valid XHTML, in both outputs;
everything else is removed with a warning at its line, never shown as text."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from bindery.check.reader import Epub
from bindery.cli import main
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, append_lines, copy_book, normalise

X = f"{{{NS['x']}}}"

HTML = """

<figure id="fig-html">
<img src="../images/diagramme.png" alt="Le diagramme, en HTML" width="60%" onclick="alert(1)">
<figcaption>Une figure en <em>HTML</em>.</figcaption>
</figure>

Du texte avec <sup>exposant</sup>, <kbd>Ctrl</kbd>, un <a href="un.md">lien</a>, <script>alert(2)</script>et <b>gras <i>non fermé</b> puis<br>ligne.

<center>Centré</center>

<table>
<tr><th>Nom</th><th>Valeur</th></tr>
<tr><td>a</td><td>1</td></tr>
</table>

<!-- une note pour l’auteur -->
<iframe src="http://example.com/frame"></iframe>

<div class="epigraph" style="color: red">

Un *exergue* en Markdown, dans un div.

</div>

<img src="../images/diagramme.png" alt="Une image seule" width="120" height="abc">

<img src="../images/diagramme.png" alt="La moitié" style="width: 50%; float: right;" />

<img src="../images/diagramme.png" alt="En em" style="width: 20em" />
"""


@pytest.fixture(scope="module")
def html_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    book = copy_book(TINY, root / "book")
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + HTML, "utf-8")
    lines = chapter.read_text("utf-8").split("\n")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return build_book(book, root / "out2"), result.output, lines


LONE_IMAGE = '<img src="../images/diagramme.png" alt="Une image seule"'
HALF_IMAGE = '<img src="../images/diagramme.png" alt="La moitié"'
EM_IMAGE = '<img src="../images/diagramme.png" alt="En em"'


def _line(lines, start: str) -> int:
    return next(number for number, line in enumerate(lines, 1) if line.startswith(start))


def test_allowed_html_is_kept_as_xhtml(html_book, epubcheck):
    built, _, _ = html_book
    root = Epub.open(built["epub"]).document("text/deux.xhtml")
    figure = root.find(f".//{X}figure[@id='fig-html']")
    image = figure.find(f"{X}img")
    assert image.get("alt") == "Le diagramme, en HTML"
    assert image.get("src") == "../images/diagramme.png"
    assert image.get("style") == "width: 60%" and image.get("onclick") is None
    assert normalise("".join(figure.find(f"{X}figcaption").itertext())) == "Une figure en HTML."
    assert [e.text for e in root.iter(f"{X}sup")] == ["exposant"]
    assert [e.text for e in root.iter(f"{X}kbd")] == ["Ctrl"]
    (bold,) = root.iter(f"{X}b")
    assert bold.find(f"{X}i").text == "non fermé"           # closed where <b> closes
    assert [a.get("href") for a in root.iter(f"{X}a") if a.text == "lien"] == ["un.xhtml#un"]
    assert [(th.text, th.get("scope")) for th in root.iter(f"{X}th")] == [
        ("Nom", "col"), ("Valeur", "col")]
    (epigraph,) = [div for div in root.iter(f"{X}div") if div.get("class") == "epigraph"]
    assert epigraph.get("style") is None
    assert normalise("".join(epigraph.itertext())) == "Un exergue en Markdown, dans un div."
    assert epigraph.find(f"{X}p/{X}em").text == "exergue"
    lone = [img for img in root.iter(f"{X}img") if img.get("alt") == "Une image seule"]
    assert lone[0].get("width") == "120" and lone[0].get("height") is None
    # A size in the style, as mdBook books give their diagrams, is kept; the rest goes.
    sized = {img.get("alt"): img.get("style") for img in root.iter(f"{X}img")}
    assert sized["La moitié"] == "width: 50%" and sized["En em"] is None
    result = epubcheck(built["epub"])[0]
    assert result.clean, result.messages


def test_nothing_outside_the_list_reaches_either_output(html_book):
    built, _, _ = html_book
    epub = Epub.open(built["epub"])
    body = epub.zip.read(epub.path_of("text/deux.xhtml")).decode()
    for gone in ("alert", "<script", "<iframe", "<center", "onclick", "style=\"color",
                 "example.com/frame", "une note pour"):
        assert gone not in body, gone
    pdf = normalise(" ".join(page.extract_text() for page in PdfReader(built["pdf"]).pages))
    for gone in ("alert", "<", ">", "script", "iframe"):
        assert gone not in pdf, gone
    assert "Centré" in pdf and "Une figure en HTML." in pdf and "Ctrl" in pdf


def test_each_removal_is_a_warning_at_its_line(html_book):
    _, output, lines = html_book
    figure = _line(lines, "<figure")
    prose = _line(lines, "Du texte avec")
    expected = [
        f"deux.md:{figure}: raw HTML: `onclick` on <img> removed",
        f"deux.md:{prose}: raw HTML: <script> and its content removed",
        f"deux.md:{_line(lines, '<center>')}: raw HTML: <center> removed",
        f"deux.md:{_line(lines, '<iframe')}: raw HTML: <iframe> and its content removed",
        f"deux.md:{_line(lines, '<div class')}: raw HTML: `style` on <div> removed",
        f"deux.md:{_line(lines, LONE_IMAGE)}: raw HTML: the height `abc` of <img> removed",
        f"deux.md:{_line(lines, HALF_IMAGE)}: raw HTML: `float` in the style of <img> removed",
        f"deux.md:{_line(lines, EM_IMAGE)}: raw HTML: the width `20em` in the style of <img> "
        "removed",
    ]
    for message in expected:
        assert message in output, (message, output)
    assert "une note pour" not in output       # a comment is the author's, not a removal


def test_strict_refuses_what_it_would_remove(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n\n<marquee>Vite</marquee>\n", "utf-8")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub", "--strict"])
    assert result.exit_code == 1
    assert "raw HTML: <marquee> removed" in result.output


@pytest.mark.parametrize("html, message", [
    ('<img src="../images/diagramme.png">', "image `../images/diagramme.png` has no alt text"),
    ('<img src="/etc/passwd" alt="x">', "image `/etc/passwd` must be a file inside the book"),
    ('<img src="../images/nulle.png" alt="x">', "image `../images/nulle.png` not found"),
    ('<a href="ailleurs.md">x</a>', "link `ailleurs.md` points to no chapter"),
    ('<span id="deux">x</span>', "raw HTML: id `deux` is used twice in the book"),
])
def test_raw_html_is_held_to_the_markdown_rules(tmp_path, html, message):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "deux.md"
    line = append_lines(chapter, f"Avant {html} après.", gap="\n\n")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 1, result.output
    assert f"deux.md:{line}: {message}" in result.output
