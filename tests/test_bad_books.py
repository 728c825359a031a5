"""Bad and hostile books: each fails with one clear line (or builds safely), nothing is lost.

Every case is the tiny fixture book with one thing wrong, built over the outputs of the good
book. A failing case must exit 1 with one line naming the file, no traceback, and leave the
previous outputs and the manifest byte for byte as they were.
"""

from __future__ import annotations

import os
import random
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

from bindery.check.reader import Epub
from bindery.cli import main

from helpers import EPOCH, ROOT, TINY, copy_book, output_contents


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), "utf-8")


def _toml(book: Path, old: str, new: str) -> None:
    _edit(book / "book.toml", old, new)


def _chapter(book: Path, markdown: str, name: str = "deux.md", title: str = "Deux") -> None:
    (book / "chapitres" / name).write_text(f"---\ntitle: {title}\n---\n\n{markdown}\n",
                                           "utf-8")


def _book_template(book: Path, name: str, text: str) -> None:
    path = book / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _book_style(book: Path, extra: str) -> None:
    (book / "styles").mkdir(exist_ok=True)
    css = (ROOT / "styles" / "print.css").read_text("utf-8")
    (book / "styles" / "print.css").write_text(css + "\n" + extra + "\n", "utf-8")


def _outside(book: Path) -> Path:
    """A file beside the book folder, outside it."""
    secret = book.parent / "secret.png"
    shutil.copy(book / "images" / "diagramme.png", secret)
    return secret


def _symlink_image(book: Path) -> None:
    os.symlink(_outside(book), book / "images" / "link.png")
    _chapter(book, "![A picture](../images/link.png)")


def _symlink_style(book: Path) -> None:
    evil = book.parent / "evil.css"
    evil.write_text("body { margin: 0 }", "utf-8")
    (book / "styles").mkdir()
    os.symlink(evil, book / "styles" / "print.css")


def _nested(prefix: str, depth: int) -> str:
    if prefix == "list":
        return "\n".join("  " * level + "- item" for level in range(depth))
    return "> " * depth + "deep"


def _words(count: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = "le la les un une des livre page mot texte ligne encre papier".split()
    paragraphs, words = [], []
    for _ in range(count):
        words.append(rng.choice(vocabulary))
        if len(words) == 120:
            paragraphs.append(" ".join(words) + ".")
            words = []
    paragraphs.append(" ".join(words) + ".")
    return "\n\n".join(paragraphs)


def _megabyte_paragraph() -> str:
    rng = random.Random(3)
    vocabulary = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()
    words, size = [], 0
    while size < 1_000_000:
        word = rng.choice(vocabulary)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


@dataclass
class Case:
    name: str
    mutate: Callable[[Path], None]
    message: str                      # a fragment of the error or warning line
    status: int = 1
    warning: bool = False             # the message is a warning; the build succeeds
    args: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("epub", "pdf")
    where: str = ""                   # the file the message must name


CASES = [
    # book.toml
    Case("missing book.toml", lambda b: (b / "book.toml").unlink(), "book.toml not found",
         where="book.toml"),
    Case("empty book.toml", lambda b: (b / "book.toml").write_text(""), "book.toml is empty",
         where="book.toml"),
    Case("invalid TOML", lambda b: _toml(b, 'language = "fr"', 'language = "fr'),
         "invalid TOML", where="book.toml:3"),
    Case("missing title", lambda b: _toml(b, 'title = "Petit traité d\'essai"\n', ""),
         "`title` is missing", where="book.toml"),
    Case("missing authors", lambda b: _edit(b / "book.toml", "[[authors]]", "[[editors]]", 2),
         "`authors` is missing", where="book.toml"),
    Case("missing language", lambda b: _toml(b, 'language = "fr"\n', ""),
         "`language` is missing", where="book.toml"),
    Case("invalid language tag", lambda b: _toml(b, 'language = "fr"', 'language = "french"'),
         "`language` must be a BCP 47 tag such as `en` or `pt-BR`, got `french`",
         where="book.toml:3"),
    Case("identifier not a URN", lambda b: _toml(b, 'identifier = "urn:uuid:',
                                                 'identifier = "isbn:'),
         "`identifier` must be `urn:uuid:...` or `urn:isbn:...`", where="book.toml:4"),
    Case("identifier with a broken UUID",
         lambda b: _toml(b, 'identifier = "urn:uuid:', 'identifier = "urn:uuid:zz'),
         "invalid UUID", where="book.toml:4"),
    Case("invalid trim", lambda b: _toml(b, 'trim = "A6"', 'trim = "napkin"'),
         "[print] `trim` must be", where="book.toml"),
    Case("control character in book.toml",
         lambda b: _toml(b, 'subtitle = "Un livre', 'subtitle = "Un \\u000clivre'),
         "control character U+000C", where="book.toml:2"),
    Case("book.toml not UTF-8",
         lambda b: (b / "book.toml").write_bytes(
             (b / "book.toml").read_text("utf-8").encode("latin-1")),
         "not UTF-8 text: byte 0xe9 at byte offset", where="book.toml:1"),
    Case("unknown key", lambda b: _toml(b, 'title =', 'colour = "red"\ntitle ='),
         "unknown key `colour` is ignored", status=0, warning=True, where="book.toml:1"),
    Case("unknown key with --strict", lambda b: _toml(b, 'title =', 'colour = "red"\ntitle ='),
         "unknown key `colour` is ignored", args=("--strict",), where="book.toml:1"),
    # chapters
    Case("chapter listed but missing", lambda b: (b / "chapitres" / "deux.md").unlink(),
         "is listed in book.toml but not found", where="chapitres/deux.md"),
    Case("chapter present but not listed",
         lambda b: _chapter(b, "Hors liste.", name="extra.md"),
         "`chapitres/extra.md` is not listed in `chapters`", status=0, warning=True,
         where="book.toml"),
    Case("two chapters with the same id",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter", "role: chapter\nid: un"),
         "two chapters have the id `un`", where="chapitres/deux.md"),
    Case("chapter not UTF-8",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             "---\ntitle: Deux\n---\n\nÉté.\n".encode("latin-1")),
         "not UTF-8 text: byte 0xc9 at byte offset 21", where="chapitres/deux.md:5"),
    Case("chapter with a byte-order mark builds",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             b"\xef\xbb\xbf---\ntitle: Deux\n---\n\nAvec BOM.\n"), "", status=0),
    Case("empty chapter", lambda b: _chapter(b, ""), "chapter is empty", status=0,
         warning=True, where="chapitres/deux.md"),
    Case("empty chapter with --strict", lambda b: _chapter(b, ""), "chapter is empty",
         args=("--strict",), where="chapitres/deux.md"),
    Case("front matter not closed",
         lambda b: (b / "chapitres" / "deux.md").write_text("---\ntitle: Deux\n\nTexte.\n"),
         "front matter is not closed", where="chapitres/deux.md:1"),
    Case("front matter line without a colon",
         lambda b: (b / "chapitres" / "deux.md").write_text("---\ntitle Deux\n---\n\nT.\n"),
         "front matter line must be `key: value`", where="chapitres/deux.md:2"),
    Case("unknown role",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter", "role: novel"),
         "unknown role `novel`", where="chapitres/deux.md:3"),
    Case("control character in a chapter", lambda b: _chapter(b, "Un saut\x0cde page."),
         "control character U+000C cannot appear in a book", where="chapitres/deux.md:5:8"),
    # templates
    Case("template syntax error",
         lambda b: _book_template(b, "partials/chapter.html",
                                  "<section>\n{% if chapter.title %}\n<h1>x</h1>\n</section>\n"),
         "template syntax error", where="templates/partials/chapter.html"),
    Case("template with an undefined variable",
         lambda b: _book_template(b, "partials/titlepage.html",
                                  "<section>\n<h1>{{ book.titel }}</h1>\n</section>\n"),
         "template error", where="templates/partials/titlepage.html:2"),
    Case("template reaching outside",
         lambda b: _book_template(b, "partials/titlepage.html",
                                  '{% include "../../../../etc/hostname" %}\n'),
         "template `../../../../etc/hostname` not found",
         where="templates/partials/titlepage.html:1"),
    # images
    Case("missing image", lambda b: _chapter(b, "![Un dessin](../images/absent.png)"),
         "image `../images/absent.png` not found", where="chapitres/deux.md:5"),
    Case("image in a format EPUB does not allow",
         lambda b: ((b / "images" / "dessin.bmp").write_bytes(b"BM" + b"\0" * 60),
                    _chapter(b, "![Un dessin](../images/dessin.bmp)")),
         "EPUB allows gif, jpeg, jpg, png, svg, webp", where="chapitres/deux.md:5"),
    Case("image without alt text", lambda b: _chapter(b, "![](../images/diagramme.png)"),
         "has no alt text", where="chapitres/deux.md:5"),
    Case("image path climbing out of the book",
         lambda b: (_outside(b), _chapter(b, "![Secret](../../secret.png)")),
         "is outside the book folder", where="chapitres/deux.md:5"),
    Case("absolute image path", lambda b: _chapter(b, "![Nom](/etc/hostname)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("file:// image", lambda b: _chapter(b, "![Nom](file:///etc/hostname)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("http:// image", lambda b: _chapter(b, "![Nom](http://127.0.0.1:9/x.png)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("symbolic link pointing outside", _symlink_image, "is outside the book folder",
         where="chapitres/deux.md:5"),
    # styles
    Case("stylesheet reading a local file", lambda b: _book_style(
        b, "body { background: url(file:///etc/hostname) }"),
         "reference `file:///etc/hostname` is outside the book's folders",
         where="styles/print.css"),
    Case("stylesheet reading the network", lambda b: _book_style(
        b, "body { background: url(http://127.0.0.1:9/x.png) }"),
         "reads nothing from the network", where="styles/print.css"),
    Case("stylesheet that is a link outside", _symlink_style,
         "symbolic link points outside its folder", where="styles/print.css"),
    Case("declaration WeasyPrint ignores", lambda b: _book_style(b, "p { colour: red; }"),
         "Ignored `colour: red`, unknown property", status=0, warning=True,
         where="styles/print.css"),
    # hostile Markdown
    Case("raw script", lambda b: _chapter(b, "<script>alert('x')</script>"), "", status=0),
    Case("raw iframe", lambda b: _chapter(b, '<iframe src="https://example.org"></iframe>'),
         "", status=0),
    Case("event handler", lambda b: _chapter(b, '<img src="x" onload="alert(1)"> <b onclick=x>b'),
         "", status=0),
    Case("object and embed", lambda b: _chapter(b, '<object data="x"></object><embed src="y">'),
         "", status=0),
    Case("external stylesheet", lambda b: _chapter(
        b, '<link rel="stylesheet" href="http://example.org/x.css">'), "", status=0),
    Case("javascript: link", lambda b: _chapter(b, "[clic](javascript:alert(1))"),
         "link `javascript:alert(1)` is not allowed", where="chapitres/deux.md:5"),
    Case("data:text/html link", lambda b: _chapter(b, "[clic](data:text/html,<b>x</b>)"),
         "is not allowed", where="chapitres/deux.md:5"),
    Case("XML specials everywhere",
         lambda b: (_toml(b, 'title = "Petit', 'title = "<Tom> & \\"Jerry\\" \'Petit'),
                    _edit(b / "book.toml", 'name = "Anne Dupont"', 'name = "A&B <x>"'),
                    _chapter(b, 'Texte avec & < > " \' et &amp; &lt;tag&gt;.',
                             title='"A < B & C"')), "", status=0),
    Case("200 levels of nested lists", lambda b: _chapter(b, _nested("list", 200)),
         "nest more than 24 levels deep", where="chapitres/deux.md"),
    Case("200 levels of nested quotes", lambda b: _chapter(b, _nested("quote", 200)),
         "nest more than 24 levels deep", where="chapitres/deux.md:5"),
    # Big input builds: the EPUB, with its page list, needs the whole book laid out.
    Case("a 1 MB paragraph", lambda b: _chapter(b, _megabyte_paragraph()), "", status=0,
         formats=("epub",)),
    Case("a 100,000-word chapter", lambda b: _chapter(b, _words(100_000)), "", status=0,
         formats=("epub",)),
]


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The good tiny book's EPUB and PDF, built once: every case starts from them."""
    from conftest import build_book
    root = tmp_path_factory.mktemp("previous")
    return build_book(TINY, root / "out", formats=("epub", "pdf")).out



@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_book(case: Case, tmp_path: Path, previous: Path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = output_contents(out)
    case.mutate(book)
    arguments = ["build", "book", "--out", "out", *case.args]
    for fmt in case.formats:
        arguments += ["--format", fmt]
    result = CliRunner().invoke(main, arguments)
    output = result.output
    assert "Traceback" not in output
    assert result.exit_code == case.status, output
    lines = [line for line in output.strip().split("\n") if line]
    if case.status == 1:
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, output
        assert case.message in errors[0], errors[0]
        assert case.where in errors[0], errors[0]
        assert output_contents(out) == before                 # nothing lost, manifest included
        assert not list(out.glob(".*.tmp"))
    elif case.warning:
        warnings = [line for line in lines if line.startswith("warning: ")]
        assert any(case.message in line and case.where in line for line in warnings), output
    if case.status == 0:
        _assert_safe_outputs(out, previous_pdf=before["petit-traite.pdf"])


def _assert_safe_outputs(out: Path, previous_pdf: bytes) -> None:
    """A book that builds: every XHTML file parses, and no active content got through."""
    epub_path = out / "petit-traite.epub"
    assert zipfile.is_zipfile(epub_path)
    epub = Epub.open(epub_path)
    banned = {"script", "iframe", "object", "embed", "link", "style"}
    for name in epub.names:
        if not name.endswith(".xhtml"):
            continue
        root = etree.fromstring(epub.zip.read(name))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            local = etree.QName(element).localname
            if local in banned and not (local == "link" and element.getparent().tag.endswith(
                    "head")):
                raise AssertionError(f"<{local}> in {name}")
            for attribute, value in element.attrib.items():
                assert not etree.QName(attribute).localname.startswith("on"), (name, attribute)
                assert not value.strip().lower().startswith(("javascript:", "data:text/html")), (
                    name, attribute)
    if (out / "petit-traite.pdf").read_bytes() != previous_pdf:
        assert PdfReader(out / "petit-traite.pdf").pages


def test_the_corpus_is_big_enough():
    failing = [case for case in CASES if case.status == 1]
    assert len(CASES) >= 30 and len(failing) >= 30


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(main, ["--debug", "build", str(tmp_path / "none"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert result.exception is not None and "no such book folder" in str(result.exception)
