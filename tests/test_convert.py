"""Markdown -> XHTML fragments: CommonMark, typography, figures, ids, links."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from bindery.convert import convert
from bindery.errors import BookError
from bindery.source import load

from helpers import TINY, copy_book

XHTML = "http://www.w3.org/1999/xhtml"


def _convert(tmp_path, markdown: str, language: str = "en"):
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "un.md").write_text(
        "---\ntitle: Test\n---\n\n" + markdown, "utf-8")
    loaded = load(book)
    loaded = dataclasses.replace(loaded, language=language)
    chapter = convert(loaded).chapters[0]
    return chapter, etree.fromstring(f'<div xmlns="{XHTML}">{chapter.body}</div>')


def test_typography(tmp_path):
    chapter, _ = _convert(tmp_path, '"Quoted" and \'single\' -- then --- and... J. R. Smith '
                                    "ran 3 km.")
    text = str(chapter.body)
    assert "“Quoted”" in text and "‘single’" in text
    assert "–" in text and "—" in text and "…" in text
    assert "J.\u00a0R.\u00a0Smith" in text
    assert "3\u00a0km" in text


def test_raw_html_keeps_its_allowed_part_and_nothing_else(tmp_path):
    chapter, tree = _convert(tmp_path, "<script>alert(1)</script> <b onload=x>bold</b>")
    assert tree.find(f".//{{{XHTML}}}script") is None
    assert "alert" not in str(chapter.body) and "script" not in str(chapter.body)
    (bold,) = tree.iter(f"{{{XHTML}}}b")
    assert bold.text == "bold" and dict(bold.attrib) == {}


def test_every_block_gets_an_id_prefixed_by_the_chapter(tmp_path):
    _, tree = _convert(tmp_path, "Para\n\n## Head\n\n- a\n- b\n\n> quote\n")
    ids = [e.get("id") for e in tree.iter() if e.tag != f"{{{XHTML}}}div" and e.get("id")]
    blocks = [e for e in tree.iter() if etree.QName(e).localname in
              ("p", "h2", "ul", "li", "blockquote")]
    assert all(e.get("id") for e in blocks)
    # headings are named after their text, every other block after its chapter
    assert [e.get("id") for e in tree.iter(f"{{{XHTML}}}h2")] == ["head"]
    assert all(i.startswith("un-") for i in ids if i != "head") and len(set(ids)) == len(ids)


def test_headings_follow_the_chapter_title_without_gaps(tmp_path):
    _, tree = _convert(tmp_path, "# One\n\ntext\n\n### Three\n\ntext\n")
    tags = [etree.QName(e).localname for e in tree.iter() if etree.QName(e).localname[0] == "h"]
    assert tags == ["h2", "h3"]


def test_caption_only_figure_and_credit_span(tmp_path):
    _, tree = _convert(tmp_path, "::: figure\nA caption, [credit Someone]{.credit}\n:::\n")
    figure = tree.find(f"{{{XHTML}}}figure")
    caption = figure.find(f"{{{XHTML}}}figcaption")
    assert figure.find(f"{{{XHTML}}}img") is None
    assert caption.find(f"{{{XHTML}}}span").get("class") == "credit"


def test_attributes_other_than_class_are_dropped(tmp_path):
    _, tree = _convert(tmp_path, "[x]{.a onclick=evil #id}\n")
    span = tree.find(f".//{{{XHTML}}}span")
    assert dict(span.attrib) == {"class": "a"}


@pytest.mark.parametrize("markdown, message", [
    ("![](../images/diagramme.png)", "has no alt text"),
    ("![x](../images/none.png)", "not found"),
    ("![x](/etc/hostname)", "must be a file inside the book"),
    ("![x](http://127.0.0.1:9/x.png)", "must be a file inside the book"),
    ("[x](javascript:alert(1))", "is not allowed"),
    ("[x](other.md)", "points to no chapter"),
])
def test_bad_references_name_chapter_and_line(tmp_path, markdown, message):
    with pytest.raises(BookError) as raised:
        _convert(tmp_path, "text\n\n" + markdown + "\n")
    assert message in str(raised.value)
    assert "un.md:7" in str(raised.value)


def test_nesting_too_deep_is_an_error_not_lost_text(tmp_path):
    with pytest.raises(BookError) as raised:
        _convert(tmp_path, "> " * 200 + "deep\n")
    assert "nest" in str(raised.value)


@pytest.mark.parametrize("markdown", ["[x](#nowhere)", "[x](deux.md#nowhere)"])
def test_links_to_anchors_that_do_not_exist_are_errors(tmp_path, markdown):
    with pytest.raises(BookError) as raised:
        _convert(tmp_path, markdown + "\n")
    assert "points to no" in str(raised.value)


def test_links_to_chapters_by_file_or_by_id(tmp_path):
    chapter, tree = _convert(tmp_path, "[a](deux.md) [b](#deux) [c](deux.md#deux)\n")
    hrefs = [a.get("href") for a in tree.iter(f"{{{XHTML}}}a")]
    assert hrefs == ["#deux", "#deux", "#deux"]


def test_a_fence_s_language_is_the_word_before_its_attributes(tmp_path):
    """mdBook and rustdoc write ```` ```rust,ignore,does_not_compile ````: the language, then
    attributes; the block is highlighted as Rust, with no warning."""
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "un.md").write_text(
        "---\ntitle: Test\n---\n\n```rust,ignore,does_not_compile\nfn main() {}\n```\n",
        "utf-8")
    converted = convert(load(book))
    tree = etree.fromstring(f'<div xmlns="{XHTML}">{converted.chapters[0].body}</div>')
    code = tree.find(f".//{{{XHTML}}}code")
    assert code.get("class") == "code language-rust"
    assert code.xpath(".//x:span[@class='hl-k']/text()", namespaces={"x": XHTML}) == ["fn"]
    assert not [w for w in converted.warnings if "Pygments" in str(w)]


def test_a_paragraph_that_is_only_an_html_picture_is_set_as_one(tmp_path):
    """mdBook's books place a picture as an HTML <img> alone in its paragraph (over several
    lines): no first-line indent pushes it past the text block."""
    chapter, tree = _convert(tmp_path, 'Text before.\n\n<img alt="Two tables" src="../images/'
                                       'diagramme.png"\nclass="center" />\n\nText <img '
                                       'alt="x" src="../images/diagramme.png"/> inline.\n')
    paragraphs = tree.findall(f".//{{{XHTML}}}p")
    assert [p.get("class") for p in paragraphs] == [None, "picture", None]


def test_watch_converts_again_only_the_chapters_that_changed(tmp_path, monkeypatch):
    """A build that keeps its layout (watch) keeps its chapters converted: after an edit,
    only the edited chapter is converted again, and the outputs, warnings and checked links
    are those of a new build. A changed image converts every chapter again."""
    from bindery.builder import BuildRequest, build
    from bindery.convert import markdown

    from helpers import EPOCH, GUIDE, output_contents

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book_dir = copy_book(GUIDE, tmp_path / "book")
    notes = book_dir / "chapters" / "notes.md"
    notes.write_text(notes.read_text("utf-8") + "\nA line of [its own kind]{.nonesuch}.\n",
                     "utf-8")
    converted: list[str] = []
    convert_chapter = markdown._convert_chapter
    monkeypatch.setattr(markdown, "_convert_chapter", lambda md, book, chapter, shared: (
        converted.append(chapter.id) or convert_chapter(md, book, chapter, shared)))
    watched = BuildRequest(book_dir, tmp_path / "watched", ("epub", "pdf"), parallel=False,
                           keep_layout=True)
    build(watched)
    assert sorted(converted) == ["figures", "notes"]
    figures = book_dir / "chapters" / "figures.md"
    for edited, old, new in ((figures, "the", "thee"), (notes, "the", "thee")):
        converted.clear()
        edited.write_text(edited.read_text("utf-8").replace(f" {old} ", f" {new} ", 1),
                          "utf-8")
        report = build(watched)
        assert converted == [edited.stem]
        fresh = build(BuildRequest(book_dir, tmp_path / f"new-{edited.stem}", ("epub", "pdf"),
                                   parallel=False))
        assert [str(w) for w in report.warnings] == [str(w) for w in fresh.warnings]
        assert any("nonesuch" in str(w) for w in report.warnings)
        mine, theirs = (output_contents(tmp_path / name) for name in
                        ("watched", f"new-{edited.stem}"))
        assert {name: data for name, data in mine.items() if not name.startswith(".")} == {
            name: data for name, data in theirs.items() if not name.startswith(".")}
    converted.clear()
    diagram = book_dir / "images" / "diagram.png"
    from PIL import Image
    with Image.open(diagram) as picture:
        picture.rotate(90, expand=True).save(diagram)
    build(watched)
    assert sorted(converted) == ["figures", "notes"]


def test_watch_converts_again_a_chapter_whose_included_file_changed(tmp_path, monkeypatch):
    """What a chapter's code blocks include is part of what it converts from: another
    chapter's file, or a listing first included by a build that then failed (``--strict``
    and a warning), whose edit the next build must see."""
    from bindery.builder import BuildRequest, build
    from bindery.check.reader import Epub

    from helpers import EPOCH

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book_dir = copy_book(TINY, tmp_path / "book")
    (book_dir / "listings").mkdir()
    snippet = book_dir / "listings" / "snippet.txt"
    snippet.write_text("OLD_SNIPPET\n", "utf-8")
    un, deux = (book_dir / "chapitres" / f"{name}.md" for name in ("un", "deux"))
    watched = BuildRequest(book_dir, tmp_path / "out", ("epub",), parallel=False,
                           keep_layout=True, strict=True)
    build(watched)
    text = deux.read_text("utf-8")
    un.write_text(un.read_text("utf-8") + "\n```text\n{{#include ../listings/snippet.txt}}\n```"
                  "\n\n```text\n{{#include deux.md}}\n```\n", "utf-8")
    deux.write_text(text + "\nUn mot.[^seule]\n\n[^seule]: Une note.\n\n[^orpheline]: Seule.\n",
                    "utf-8")
    with pytest.raises(BookError, match="never referred to"):
        build(watched)                   # a warning, and --strict: nothing written
    snippet.write_text("NEW_SNIPPET\n", "utf-8")
    deux.write_text(text + "\nUn autre mot.\n", "utf-8")
    build(watched)
    epub = Epub.open(tmp_path / "out" / "petit-traite.epub")
    assert "NEW_SNIPPET" in epub.text("text/un.xhtml")
    assert "Un autre mot." in epub.text("text/un.xhtml")         # deux.md, included
    deux.write_text(text + "\nUn troisième mot.\n", "utf-8")
    build(watched)
    epub = Epub.open(tmp_path / "out" / "petit-traite.epub")
    assert "Un troisième mot." in epub.text("text/un.xhtml")


def test_pandoc_heading_attributes_are_taken_out_of_the_heading(tmp_path):
    """Bookdown and Quarto books mark headings ``{-}`` or ``{.unnumbered}`` (Bindery
    numbers none), with or without an id, as pandoc reads them."""
    _, tree = _convert(tmp_path, "## Preface {.unnumbered}\n\n## Spatial bias {- #spatial}\n\n"
                                 "## Notes {#notes -}\n\n## Sets {a} and {b}\n\n"
                                 '## Data {.unnumbered title="not #this" #sec-data}\n\n'
                                 "## Appendix {.appendix .unlisted}\n\n"
                                 "See [the notes](#notes), [bias](#spatial), [data](#sec-data).\n")
    headings = [("".join(h.itertext()), h.get("id")) for h in tree.iter(f"{{{XHTML}}}h2")]
    assert headings == [("Preface", "preface"), ("Spatial bias", "spatial"),
                        ("Notes", "notes"), ("Sets {a} and {b}", "sets-a-and-b"),
                        ("Data", "sec-data"), ("Appendix", "appendix")]


def test_pandoc_and_quarto_callouts_are_named_blocks(tmp_path):
    """``::: {.note}`` as pandoc writes a named block, and Quarto's callouts with their
    titles (an attribute, or a heading that opens the callout and is no section)."""
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "un.md").write_text(
        "---\ntitle: Test\n---\n\n"
        '::: {.note}\nPandoc.\n:::\n\n'
        '::: {.callout-tip title="Try it"}\nQuarto, titled.\n:::\n\n'
        '::: callout-important\n## Read this *first*\n\nA heading as title.\n:::\n\n'
        '::: {.callout-caution collapse="true" icon=false}\nFolded in Quarto.\n:::\n\n'
        '::: {.cell}\nNo block of Bindery.\n:::\n', "utf-8")
    converted = convert(load(book))           # a French book: its labels are French
    tree = etree.fromstring(f'<div xmlns="{XHTML}" xmlns:epub="http://www.idpf.org/2007/ops">'
                            f'{converted.chapters[0].body}</div>')
    blocks = [(block.get("class"), block.get("role"), block.get("aria-label"),
               "".join(block[0].itertext()), "".join(block[1].itertext()))
              for block in tree if block.get("class") in (
                  "note", "tip", "warning", "important", "caution")]
    assert blocks == [("note", "note", "Note", "Note", "Pandoc."),
                      ("tip", "doc-tip", "Try it", "Try it", "Quarto, titled."),
                      ("important", "doc-notice", "Read this first", "Read this first",
                       "A heading as title."),
                      ("caution", "doc-notice", "Prudence", "Prudence", "Folded in Quarto.")]
    assert tree.find(f".//{{{XHTML}}}h2") is None
    unknown = [str(w) for w in converted.warnings if "no block Bindery knows" in str(w)]
    assert len(unknown) == 1 and "`::: cell`" in unknown[0] and "un.md:23:" in unknown[0]


def test_code_chunks_of_quarto_and_r_markdown_are_highlighted_in_their_language(tmp_path):
    """```` ```{r} ```` (R Markdown, bookdown, Quarto) and pandoc's ```` ```{.python} ````
    name their language in braces; a chunk's ``#|`` options are not code."""
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "un.md").write_text(
        "---\ntitle: Test\n---\n\n```{r setup, echo=FALSE}\n#| label: fig-x\n#| echo: true\n"
        "x <- function(y) y\n```\n\n```{.python .numberLines}\ndef f(): pass\n```\n", "utf-8")
    converted = convert(load(book))
    tree = etree.fromstring(f'<div xmlns="{XHTML}">{converted.chapters[0].body}</div>')
    blocks = [(code.get("class"), "".join(code.itertext()).strip())
              for code in tree.iter(f"{{{XHTML}}}code")]
    assert blocks == [("code language-r", "x <- function(y) y"),
                      ("code language-python", "def f(): pass")]
    assert tree.xpath("//x:code[1]//x:span[@class='hl-kr']/text()",
                      namespaces={"x": XHTML}) == ["function"]
    assert not [w for w in converted.warnings if "Pygments" in str(w)]
