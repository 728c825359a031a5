"""What real authors write reaches the reader: definition lists, sub- and superscript,
strike-through, headings with ids in their own script, and links to them across chapters."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

import bindery.resources
from bindery.check.reader import Epub
from bindery.cli import main
from bindery.convert.sections import heading_slug
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, append_lines, copy_book, normalise

DEUX = """
L’eau, H~2~O, et le carré x^2^ ; un mot ~~barré~~.

Composition
:   L’art d’assembler les caractères.

*Justification*
:   L’alignement des deux bords.

    Avec un second paragraphe.

### Une section d’abord profonde {#profonde}

Voir [la justification](#profonde), [le premier chapitre](un.md) et
[sa section](un.md#analyse-et-méthode).

Renvois : [](un.md#analyse-et-méthode){.page} et [la section profonde](#profonde){.page}.

Du code en ligne : `print("a" -- 'b'...)`, puis un bloc :

```python
def composer(page, largeur=148):
    '''Compose une page -- vite.'''
    # un commentaire assez long pour que la ligne dépasse la justification de la page au format A6
    return [ligne for ligne in page.lignes if ligne.largeur <= largeur]
```

```
un bloc sans langue "droit"
```

| Ville | Année | Tirage |
|:------|------:|-------:|
| Lyon  | 1473  |    300 |
| Paris | 1470  |  1 200 |

Table: Les premiers *tirages*.

---

Écrire à <mail@example.org> ou lire <https://example.org/un/chemin/assez/long/pour/couper>.

::: epigraph
Le livre est un outil.
:::

::: warning
Ne pas plier la couverture.
:::

::: verse
Le vent se lève,
il faut tenter de vivre.
:::

Un nom en [petites capitales]{.smallcaps}.

# Puis une grande

## Résultats

## Résultats
"""

UN = """
## Analyse et méthode

Texte de la section.
"""


@pytest.fixture(scope="module")
def constructs_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("constructs")
    book = copy_book(TINY, root / "book")
    for name, text in (("deux.md", DEUX), ("un.md", UN)):
        chapter = book / "chapitres" / name
        chapter.write_text(chapter.read_text("utf-8") + text, "utf-8")
    return build_book(book, root / "out")


def test_inline_and_block_syntax_become_markup(constructs_book):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    assert [e.text for e in root.iter(f"{{{NS['x']}}}sub")] == ["2"]
    assert [e.text for e in root.iter(f"{{{NS['x']}}}sup")] == ["2"]
    assert [e.text for e in root.iter(f"{{{NS['x']}}}s")] == ["barré"]
    (dl,) = root.iter(f"{{{NS['x']}}}dl")
    assert [child.tag.split("}")[1] for child in dl] == ["dt", "dd", "dt", "dd"]
    assert len(dl[3].findall("x:p", NS)) == 2


def test_no_markdown_syntax_is_left_as_text(constructs_book):
    text = Epub.open(constructs_book["epub"]).text("text/deux.xhtml")
    pdf = " ".join(page.extract_text() for page in PdfReader(constructs_book["pdf"]).pages)
    for output in (normalise(text), normalise(pdf)):
        for syntax in ("~", "^", "{#", ":   ", "](#"):
            assert syntax not in output, syntax
    assert "H2O" in normalise(pdf)


def test_headings_follow_the_title_without_gaps_and_have_ids_from_their_text(constructs_book):
    epub = Epub.open(constructs_book["epub"])
    root = epub.document("text/deux.xhtml")
    headings = [(e.tag.split("}")[1], e.get("id"), normalise("".join(e.itertext())))
                for e in root.iter() if e.tag.split("}")[-1] in ("h1", "h2", "h3", "h4")]
    assert headings == [("h1", "deux-title", "Deuxième chapitre : la suite"),
                        ("h2", "profonde", "Une section d'abord profonde"),
                        ("h2", "puis-une-grande", "Puis une grande"),
                        ("h3", "résultats", "Résultats"),
                        ("h3", "résultats-2", "Résultats")]
    assert "analyse-et-méthode" in {e.get("id") for e in epub.document("text/un.xhtml").iter()}


def test_links_to_headings_resolve_across_chapters(constructs_book, epubcheck):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    hrefs = [a.get("href") for a in root.iter(f"{{{NS['x']}}}a")]
    assert "#profonde" in hrefs and "un.xhtml#un" in hrefs
    assert "un.xhtml#analyse-et-méthode" in hrefs
    assert epubcheck(constructs_book["epub"])[0].clean, \
        epubcheck(constructs_book["epub"])[0].messages


def test_a_link_to_no_heading_is_an_error_naming_the_line(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "deux.md"
    line = append_lines(chapter, "Voir [ailleurs](un.md#nulle-part).")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 1
    assert f"deux.md:{line}: link `un.md#nulle-part` points to no heading" in result.output


def test_code_is_highlighted_untouched_and_set_in_the_book_s_mono_face(constructs_book):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    blocks = list(root.iter(f"{{{NS['x']}}}pre"))
    assert [b[0].get("class") for b in blocks] == ["code language-python", "code"]
    keywords = blocks[0].xpath(".//x:span[@class='hl-k']/text()", namespaces=NS)
    assert [keyword.strip() for keyword in keywords[:2]] == ["def", "return"]
    code = "".join(blocks[0].itertext())
    assert "'''Compose une page -- vite.'''" in code          # no typographer in code
    assert 'print("a" -- \'b\'...)' in "".join(
        "".join(c.itertext()) for c in root.iter(f"{{{NS['x']}}}code"))
    assert '"droit"' in "".join(blocks[1].itertext())
    reader = PdfReader(constructs_book["pdf"])
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert "Linux-Libertine-Mono" in fonts
    assert all(name.startswith("Linux-Libertine") for name in fonts), fonts


def test_tables_carry_their_header_association_in_both_outputs(constructs_book):
    import pikepdf

    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    headers = list(root.iter(f"{{{NS['x']}}}th"))
    assert [(th.text, th.get("scope")) for th in headers] == [
        ("Ville", "col"), ("Année", "col"), ("Tirage", "col")]
    (caption,) = root.iter(f"{{{NS['x']}}}caption")
    assert normalise("".join(caption.itertext())) == "Les premiers tirages."
    assert caption.getparent().tag == f"{{{NS['x']}}}table"
    pdf_text = normalise(" ".join(p.extract_text() for p in PdfReader(
        constructs_book["pdf"]).pages))
    assert "Les premiers tirages." in pdf_text and "Table:" not in pdf_text
    with pikepdf.open(constructs_book["pdf"]) as pdf:
        scopes = [str(obj.get("/A", {}).get("/Scope")) for obj in pdf.objects
                  if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/TH"]
    assert scopes == ["/Column"] * 3


def test_a_thematic_break_is_a_section_break_and_addresses_are_not_hyphenated(
        constructs_book):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    assert len(list(root.iter(f"{{{NS['x']}}}hr"))) == 1
    pdf = [page.extract_text() for page in PdfReader(constructs_book["pdf"]).pages]
    text = "\n".join(pdf)
    assert "mail@ex-" not in text and "example.org/un/che-" not in text
    assert "---" not in text
    address = root.xpath("//x:a[starts-with(@href, 'https://example.org')]", namespaces=NS)[0]
    # A break is possible after each / . @ and nowhere else.
    assert [e.tail for e in address] == ["example.", "org/", "un/", "chemin/", "assez/",
                                         "long/", "pour/", "couper"]
    assert address.text == "https://"


def test_page_references_show_the_title_in_the_epub_and_the_page_in_print(constructs_book):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    references = root.xpath("//x:a[@class='page']", namespaces=NS)
    assert [(a.get("href"), a.text) for a in references] == [
        ("un.xhtml#analyse-et-méthode", "Analyse et méthode"),
        ("#profonde", "la section profonde")]
    pages = [normalise(page.extract_text()) for page in PdfReader(constructs_book["pdf"]).pages]
    analysis = next(n for n, text in enumerate(pages, 1) if "Texte de la section." in text)
    deep = next(n for n, text in enumerate(pages, 1) if "Une section d'abord profonde" in text)
    assert f"Renvois : page {analysis} et la section profonde (page {deep})." in " ".join(pages)


def test_a_class_no_stylesheet_styles_is_a_warning_at_its_line(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "un.md"
    line = append_lines(chapter, "Un [mot]{.inconnue} et [un autre]{.smallcaps}.")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 0
    assert f"un.md:{line}: class `inconnue` is styled by none of the book's stylesheets" \
        in result.output
    assert "smallcaps" not in result.output
    (book / "styles").mkdir()
    (book / "styles" / "common.css").write_text(
        (Path(bindery.resources.STYLES) / "common.css").read_text("utf-8")
        + "\n.inconnue { letter-spacing: 0.1em; }\n", "utf-8")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 0 and "inconnue" not in result.output, result.output


def test_sections_are_in_the_table_of_contents_and_the_ncx(constructs_book):
    epub = Epub.open(constructs_book["epub"])
    nav = epub.document(epub.nav_href)
    (toc,) = nav.xpath("//x:nav[@epub:type='toc']", namespaces=NS)
    chapter = toc.xpath("x:ol/x:li[x:a[@href='text/deux.xhtml']]", namespaces=NS)[0]
    sections = chapter.xpath("x:ol/x:li/x:a", namespaces=NS)
    assert [(a.get("href"), a.text) for a in sections] == [
        ("text/deux.xhtml#profonde", "Une section d’abord profonde"),
        ("text/deux.xhtml#puis-une-grande", "Puis une grande")]   # depth 2: no h3
    ncx = etree.fromstring(epub.zip.read(epub.path_of("toc.ncx")))
    points = ncx.xpath("//ncx:navPoint[ncx:content/@src='text/deux.xhtml']/ncx:navPoint"
                       "/ncx:content/@src", namespaces=NS)
    assert points == ["text/deux.xhtml#profonde", "text/deux.xhtml#puis-une-grande"]


def test_toc_depth_one_lists_the_chapters_alone(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "un.md").write_text(
        (book / "chapitres" / "un.md").read_text("utf-8") + UN, "utf-8")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + "\n[epub]\ntoc_depth = 1\n", "utf-8")
    built = build_book(book, tmp_path / "out", formats=("epub",))
    epub = Epub.open(built["epub"])
    assert all("#" not in href for href, _ in epub.nav("toc"))


def test_named_blocks_carry_their_semantics(constructs_book):
    root = Epub.open(constructs_book["epub"]).document("text/deux.xhtml")
    epigraph = root.xpath("//*[@class='epigraph']", namespaces=NS)[0]
    assert (epigraph.get(f"{{{NS['epub']}}}type"), epigraph.get("role")) == (
        "epigraph", "doc-epigraph")
    warning = root.xpath("//*[@class='warning']", namespaces=NS)[0]
    assert (warning.get("role"), warning.get("aria-label")) == ("doc-notice", "Attention")
    # The label is the block's first text, not CSS generated content that Kindle drops.
    assert warning[0].get("class") == "label" and warning[0].text == "Attention"
    verse = root.xpath("//*[@class='verse']/x:p", namespaces=NS)[0]
    assert "Le vent se lève,\nil faut tenter de vivre." in "".join(verse.itertext())
    assert root.xpath("//x:span[@class='smallcaps']/text()", namespaces=NS) == [
        "petites capitales"]


def test_an_unknown_named_block_is_a_warning_at_its_line(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "un.md"
    line = append_lines(chapter, "::: inconnu\nTexte.\n:::")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 0
    assert f"un.md:{line}: `::: inconnu` is no block Bindery knows" in result.output


@pytest.mark.parametrize("text, slug", [("Analyse & méthode", "analyse-méthode"),
                                        ("2024 results", "section-2024-results"),
                                        ("Глава первая", "глава-первая"),
                                        ("!!!", "section")])
def test_heading_ids_are_readable_in_the_book_s_script(text, slug):
    assert heading_slug(text) == slug
