"""Books written for mdBook: ``{{#include}}`` and ``{{#rustdoc_include}}`` in code blocks
bring in the book's listing files as mdBook does, a Rust block's hidden lines are left out,
an edited listing rebuilds the book; and the real thing, chapters 3 and 4 of *The Rust
Programming Language* (tests/books/rust, MIT/Apache-2.0, see its SOURCE.md)."""

from __future__ import annotations

import dataclasses
import html
import re
import zipfile

import pytest

from bindery import builder as pipeline
from bindery.builder import BuildRequest
from bindery.convert import convert
from bindery.errors import BookError
from bindery.source import load

from conftest import build_book
from helpers import BOOKS, EPOCH, TINY, copy_book, source_date_epoch

RUST = BOOKS / "rust"

LISTING = """fn main() {
    // ANCHOR: setup
    let x = 5;
    // ANCHOR: inner
    let y = 6;
    // ANCHOR_END: inner
    // ANCHOR_END: setup
    println!("{x} {y}");
    // ANCHOR: setup
    let z = 7;
    // ANCHOR_END: setup
}
"""


def _book(tmp_path, markdown: str):
    book = copy_book(TINY, tmp_path / "book")
    (book / "listings").mkdir()
    (book / "listings" / "main.rs").write_text(LISTING, "utf-8")
    (book / "listings" / "output.txt").write_text("$ cargo run\nhello\nlast line\n", "utf-8")
    (book / "listings" / "control.c").write_text("int a;\n\x0c\nint b;\n", "utf-8")
    (book / "chapitres" / "un.md").write_text("---\ntitle: Test\n---\n\n" + markdown, "utf-8")
    return book


def _blocks(tmp_path, markdown: str):
    """The text of each code block of the chapter, and the conversion's warnings."""
    book = convert(load(_book(tmp_path, markdown)))
    chapter = book.chapters[0]
    blocks = [html.unescape(re.sub(r"<[^>]+>", "", block)).rstrip("\n").replace(" \n", "\n")
              for block in re.findall(r"<pre [^>]*>(.*?)</pre>", str(chapter.body), re.S)]
    return blocks, chapter, book


def _fence(directive: str, language: str = "rust") -> str:
    return f"```{language}\n{directive}\n```\n\n"


@pytest.mark.parametrize("target, expected", [
    ("main.rs", LISTING.rstrip("\n")),
    ("main.rs:3", "    let x = 5;"),
    ("main.rs:8:8", '    println!("{x} {y}");'),
    ("main.rs::1", "fn main() {"),
    ("main.rs:12:", "}"),
    ("main.rs::", LISTING.rstrip("\n")),
    ("main.rs:setup", "    let x = 5;\n    let y = 6;"),        # the first part, marks left out
    ("main.rs:inner", "    let y = 6;"),
])
def test_include_takes_the_lines_mdbook_takes(tmp_path, target, expected):
    blocks, _, _ = _blocks(tmp_path, _fence(f"{{{{#include ../listings/{target}}}}}", "text"))
    assert blocks == [expected]


def test_rustdoc_include_prints_what_mdbook_shows(tmp_path):
    """mdBook keeps the rest of the file as hidden lines, for rustdoc's tests; a reader sees
    only the part asked for (an anchor opened twice: both parts)."""
    blocks, chapter, book = _blocks(tmp_path, _fence(
        "{{#rustdoc_include ../listings/main.rs:setup}}") + _fence(
        "{{ #rustdoc_include ../listings/main.rs:2:3 }}"))
    assert blocks == ["    let x = 5;\n    let y = 6;\n    let z = 7;",
                      "    // ANCHOR: setup\n    let x = 5;"]
    assert chapter.includes == (("listings/main.rs", chapter.includes[0][1]),)
    assert book.includes == {"listings/main.rs": chapter.includes[0][1]}


def test_rust_blocks_hide_rustdoc_s_hidden_lines_and_other_blocks_do_not(tmp_path):
    code = "# fn main() {\nlet a = 1;\n#\n## not hidden\n    # indented hidden\n# }"
    blocks, _, _ = _blocks(tmp_path, f"```rust,ignore\n{code}\n```\n\n```python\n{code}\n```\n")
    assert blocks == ["let a = 1;\n# not hidden", code]


def test_an_escaped_directive_is_written_as_is_and_a_console_keeps_its_last_line(tmp_path):
    blocks, chapter, _ = _blocks(tmp_path, _fence("\\{{#include ../listings/main.rs}}", "text")
                                 + _fence("{{#include ../listings/output.txt}}", "console"))
    assert blocks == ["{{#include ../listings/main.rs}}", "$ cargo run\nhello\nlast line"]
    assert chapter.includes == (("listings/output.txt", chapter.includes[0][1]),)


@pytest.mark.parametrize("directive, message", [
    ("{{#include ../listings/none.rs}}", "no file `../listings/none.rs`"),
    ("{{#include ../listings/" + "a" * 300 + "}}", "no file"),
    ("{{#include ../listings/main.rs:" + "9" * 5000 + "}}", "no `ANCHOR: 999"),
    ("{{#include ../listings/control.c}}", "book/listings/control.c:2:1: control character"),
    ("{{#include ../../secret.txt}}", "`../../secret.txt` is outside the book folder"),
    ("{{#include ../../none.txt}}", "`../../none.txt` is outside the book folder"),
    ("{{#include /etc/passwd}}", "`/etc/passwd` is outside the book folder"),
    ("{{#include ../listings/main.rs:nowhere}}", "no `ANCHOR: nowhere` in the file"),
])
def test_a_directive_that_cannot_be_followed_is_an_error_at_its_line(tmp_path, directive,
                                                                      message):
    (tmp_path / "secret.txt").write_text("not the book's\n", "utf-8")
    with pytest.raises(BookError) as error:
        _blocks(tmp_path, "Text.\n\n" + _fence(directive))
    where = "listings/control.c" if "control" in message else "chapitres/un.md:8"
    assert message in str(error.value) and where in str(error.value)


def test_a_listing_s_file_name_and_caption_are_paragraphs_around_its_code(tmp_path):
    """The Rust book's <Listing> (mdbook-trpl): its attributes are the author's words."""
    book = convert(load(_book(tmp_path, (
        'See Listing 1-2.\n\n<Listing number="1-2" file-name="src/main.rs" '
        'caption="The `inner` part &amp; more">\n\n'
        + _fence("{{#include ../listings/main.rs:inner}}") + "</Listing>\n"))))
    body = str(book.chapters[0].body)
    # (the test book is French: a narrow space before each colon)
    paragraphs = re.findall(r"<p [^>]*>(.*?)</p>", body.replace("\u202f", ""), re.S)
    assert paragraphs[1:] == ["Filename: src/main.rs",
                              "Listing 1-2: The <code>inner</code> part &amp; more"]
    assert body.index("Filename") < body.index("<pre") < body.index("<p id=\"un-4\">Listing 1-2")
    assert not [w for w in book.warnings if "Listing" in str(w) or "listing" in str(w)]


def test_other_double_braces_are_code_like_the_rest(tmp_path):
    """Handlebars' {{#each}} is not mdBook's: no warning, nothing changed."""
    code = "{{#each items}}\n  {{this}}\n{{/each}}"
    blocks, _, book = _blocks(tmp_path, f"```handlebars\n{code}\n```\n\nUse `{{{{#each}}}}`.\n")
    assert blocks == [code] and not book.warnings


def test_a_directive_outside_a_code_block_is_left_as_text_with_a_warning(tmp_path):
    book = convert(load(_book(tmp_path, "Intro.\n\n{{#include ../listings/main.rs}}\n")))
    assert "{{#include" in str(book.chapters[0].body)          # as text (typeset)
    assert any("outside a code block" in str(warning) and "chapitres/un.md:7" in str(warning)
               for warning in book.warnings), book.warnings


def test_an_edited_listing_rebuilds_the_book_and_an_unchanged_one_does_not(tmp_path):
    book = _book(tmp_path, _fence("{{#include ../listings/main.rs:inner}}"))
    out = tmp_path / "out"

    def build():
        with source_date_epoch(EPOCH):
            return pipeline.build(BuildRequest(book, out, ("epub",), parallel=False))

    def epub_text() -> str:
        with zipfile.ZipFile(out / "petit-traite.epub") as archive:
            return archive.read("EPUB/text/un.xhtml").decode()

    assert build().outputs[0].rebuilt and "6" in epub_text()
    assert not build().outputs[0].rebuilt                # nothing changed: nothing made
    listing = book / "listings" / "main.rs"
    listing.write_text(LISTING.replace("let y = 6;", "let y = 60;"), "utf-8")
    rebuilt = build().outputs[0]
    assert rebuilt.rebuilt and "listings/main.rs" in rebuilt.reason and "60" in epub_text()
    assert not build().outputs[0].rebuilt
    # Another file included instead: the one no longer included is no input any more.
    chapter = book / "chapitres" / "un.md"
    chapter.write_text(chapter.read_text("utf-8").replace("main.rs:inner", "output.txt"))
    assert build().outputs[0].rebuilt and "hello" in epub_text()
    assert not build().outputs[0].rebuilt
    # A link retargeted is a change of what is included.
    (book / "listings" / "v2.txt").write_text("revised\n", "utf-8")
    (book / "listings" / "output.txt").unlink()
    (book / "listings" / "output.txt").symlink_to("main.rs")
    assert build().outputs[0].rebuilt and "println" in epub_text()
    (book / "listings" / "output.txt").unlink()
    (book / "listings" / "output.txt").symlink_to("v2.txt")
    assert build().outputs[0].rebuilt and "revised" in epub_text()
    assert not build().outputs[0].rebuilt


def code_free(texts: dict[str, str]) -> str:
    """The books' documents' text outside code blocks, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<pre .*?</pre>", "", "".join(
        texts.values()), flags=re.S)))


@pytest.fixture(scope="module")
def rust(tmp_path_factory):
    return build_book(RUST, tmp_path_factory.mktemp("rust") / "out",
                      formats=("epub", "pdf"))


def test_the_rust_book_s_listings_are_in_its_code_blocks(rust, epubcheck):
    assert epubcheck(rust["epub"])[0].clean
    with zipfile.ZipFile(rust["epub"]) as archive:
        texts = {name: archive.read(name).decode() for name in archive.namelist()
                 if name.startswith("EPUB/text/ch")}
    assert len(texts) == 8
    code = "".join(html.unescape(re.sub(r"<[^>]+>", "", block)) for text in texts.values()
                   for block in re.findall(r"<pre [^>]*>(.*?)</pre>", text, re.S))
    assert "{{#" not in "".join(texts.values())
    # Listings of both chapters, their compilers' messages, a part taken by an anchor.
    assert "let mut x = 5;" in code and "error[E0384]: cannot assign twice" in code
    assert "fn first_word(s: &String) -> usize {" in code
    assert "The value of x is: 6" in code                  # a console's last line
    assert "ANCHOR" not in code and "\n# " not in code
    warnings = [str(warning) for warning in rust.report.warnings]
    assert not [w for w in warnings if "Pygments" in w or "include" in w or "<listing>" in w]
    assert "Listing 4-1: A variable and the scope in which it is valid" in code_free(texts)


def test_the_rust_book_prints_its_code_and_diagrams_inside_the_page(rust):
    """Its seven Graphviz diagrams (SVG 1.1, with their DOCTYPE) are drawn, and no line of
    code, no diagram, no table leaves the text block (the typographic proof)."""
    import pypdfium2

    assert rust.report.typography is not None
    assert [f for f in rust.report.typography if f.kind == "overflow"] == []
    document = pypdfium2.PdfDocument(str(rust["pdf"]))
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert "let mut x = 5;" in text and "{{#" not in text
    assert "let x = 5;\r\nlet y = x;" in re.sub(r"(?<=\n) +", "", text)   # listing 4-2
    # Each variable of the diagrams is a table headed "name value": 12 in the 7 diagrams.
    lines = [line.strip() for line in text.split("\r\n")]
    assert lines.count("name value") == 12 and lines.count("ptr") == 12


def test_a_link_to_a_chapter_s_mdbook_page_is_a_link_to_the_chapter(tmp_path):
    """Books written for mdBook link their chapters by the HTML pages it makes of them."""
    title = _slug(TINY / "chapitres" / "deux.md")
    assert title == "deuxième-chapitre-la-suite"
    _, chapter, _ = _blocks(tmp_path, f"See [the second](deux.html), [the annex](annexe.html)"
                                      f", [its title](deux.md#{title}) and [mdBook's id]"
                                      f"(deux.html#deuxième-chapitre--la-suite).\n")
    assert str(chapter.body).count('href="#deux"') == 3 and 'href="#annexe"' in str(chapter.body)
    with pytest.raises(BookError, match=r"link `absent\.html` points to no chapter"):
        _blocks(tmp_path / "absent", "See [nothing](absent.html).\n")
    # A heading of the chapter with the title's words: the link could go to either.
    book = _book(tmp_path / "both", f"See [it](deux.md#{title}).\n")
    deux = book / "chapitres" / "deux.md"
    deux.write_text(deux.read_text("utf-8") + "\n## Deuxième chapitre : la suite\n", "utf-8")
    with pytest.raises(BookError, match=r"could go to chapter `deux` \(its title\) or to its"):
        convert(load(book))


def _slug(chapter) -> str:
    """mdBook's id for a chapter's first heading: its title in lower case, words joined by
    hyphens (the title is in the front matter here)."""
    title = re.search(r"^title:\s*\"?(.*?)\"?$", chapter.read_text("utf-8"), re.M)[1]
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")
