"""The typographic proof (`bindery check --typography`): nothing to mark on the default and
fixture books; on a deliberately bad book, each kind of finding, named by page."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

import bindery.resources
from bindery.builder.pipeline import lay_out_only
from bindery.cli import main

from conftest import build_book
from helpers import BOOKS, ROOT, TINY, copy_book

#: The bad book's own print stylesheet: Bindery's, with the protections taken off.
UNPROTECTED = """
p { widows: 1; orphans: 1; }
h1, h2, h3, h4, h5, h6 { break-after: auto; }
figure, table { break-inside: auto; break-after: auto; }
"""

WORDS = ("the press and the forme were locked before the proofs came back from the "
         "reader who marked every widow in red ink").split()


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _bad_chapters() -> dict[str, str]:
    rng = random.Random(12)
    one = ["---\ntitle: Loose ends\n---\n"]
    for section in range(14):
        one.append(f"## Section {section + 1}\n")
        for _ in range(rng.randint(1, 4)):
            one.append(_prose(rng, rng.randint(20, 140)) + "\n")
    one.append("A line with a name too long to break: Pneumonoultramicroscopicsilicovolcano"
               "coniosis and Supercalifragilisticexpialidocious and Honorificabilitudinitatibus "
               "stand in it.\n")
    one.append("Code that cannot break: `" + "x" * 90 + "` in the text.\n")
    one.append("-".join(["well", "known", "self", "made", "long", "term", "low", "cost",
                         "high", "speed", "hand", "set", "cold", "type"] * 40) + "\n")
    for words in (40, 75, 110):
        one.append(_prose(rng, words) + "\n")
        one.append("<figure>\n<figcaption>A caption above its picture.</figcaption>\n"
                   '<img src="../images/tall.svg" alt="A tall block" width="100%">\n'
                   "</figure>\n")
    for _ in range(3):
        one.append(_prose(rng, 120) + "\n")
    one.append("| Year | Press |\n|---:|:---|\n" + "".join(
        f"| {1450 + row} | press {row} |\n" for row in range(14)) + "\nTable: Presses.\n")
    two = ["---\ntitle: A short last page\n---\n"]
    return {"un.md": "\n".join(one), "deux.md": "\n".join(two)}


@pytest.fixture(scope="module")
def bad_book(tmp_path_factory):
    book = copy_book(TINY, tmp_path_factory.mktemp("badtype") / "book")
    for name, text in _bad_chapters().items():
        (book / "chapitres" / name).write_text(text, "utf-8")
    (book / "images" / "tall.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="80">'
        '<rect width="100" height="80" fill="black"/></svg>', "utf-8")
    (book / "styles").mkdir()
    bindery_print = (bindery.resources.STYLES / "print.css").read_text("utf-8")
    (book / "styles" / "print.css").write_text(bindery_print + UNPROTECTED, "utf-8")
    # The second chapter: enough text that its last page holds a line or two. The length
    # is searched on the chapter alone (a chapter opens on a new page, so it lays out the
    # same), then the whole book is laid out once.
    config = book / "book.toml"
    whole = config.read_text("utf-8")
    config.write_text(whole.replace('"chapitres/un.md", ', "").replace(
        ', "chapitres/annexe.md"', ""), "utf-8")
    chapter = book / "chapitres" / "deux.md"
    rng = random.Random(3)
    for words in range(150, 600, 7):
        text = "---\ntitle: A short last page\n---\n\n" + _prose(rng, words) + "\n"
        chapter.write_text(text, "utf-8")
        if any(f.kind == "short last page" for f in lay_out_only(book)):
            break
    config.write_text(whole, "utf-8")
    return book, lay_out_only(book)


KINDS = ["widow", "orphan", "heading at the foot", "caption at the foot", "hyphen run",
         "hyphen at the foot",
         "loose line", "overflow", "short last page", "split figure", "split table"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_bad_book_shows_each_kind_of_finding(bad_book, kind):
    _, findings = bad_book
    found = [finding for finding in findings if finding.kind == kind]
    assert found, sorted({finding.kind for finding in findings})
    for finding in found:
        assert finding.page >= 1 and finding.text and finding.advice
        assert str(finding).startswith(f"page {finding.page}: {kind}: “")


def test_findings_name_pages_a_reader_can_check(bad_book, tmp_path):
    """A widow's line really is the first line of its page, and an orphan's the last."""
    book, findings = bad_book
    built = build_book(book, tmp_path / "out", formats=("pdf",))
    pages = [page.extract_text() for page in PdfReader(built["pdf"]).pages]
    for finding in findings:
        if finding.kind in ("widow", "orphan"):
            start = finding.text.removesuffix(" …").split()[0]
            assert start in pages[finding.page - 1], finding


@pytest.mark.parametrize("book", [ROOT / "book", TINY, BOOKS / "guide"])
def test_the_default_and_fixture_books_have_nothing_to_mark(book):
    result = CliRunner().invoke(main, ["check", "--typography", "--strict", str(book)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "typography: no findings"


def test_strict_fails_on_a_finding_and_each_build_says_how_many(bad_book, tmp_path):
    book, findings = bad_book
    result = CliRunner().invoke(main, ["check", "--typography", "--strict", str(book)])
    assert result.exit_code == 1
    assert result.output.count("\n") == len(findings) + 1
    built = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                      "--format", "pdf"])
    assert built.exit_code == 0
    assert f"typography: {len(findings)} findings (" in built.output
    headings = sum(finding.kind == "heading at the foot" for finding in findings)
    assert f"{headings} heading{'s' if headings > 1 else ''} at the foot" in built.output


def test_spaces_a_code_line_keeps_at_its_break_are_no_overflow(tmp_path):
    """A line of code wraps after a space, which ``pre-wrap`` keeps at the end of the line,
    hanging past the edge where nothing shows: the ink is within the text block. (Found in
    the Rust book: ``error: could not compile `structs` (bin "structs") due to…``.) Each
    length of the first word puts the break elsewhere; one of them at the very edge."""
    book = copy_book(TINY, tmp_path / "book")
    lines = "\n".join(f"{'x' * count} tail" for count in range(30, 75))
    (book / "chapitres" / "deux.md").write_text(
        f"---\ntitle: Code\n---\n\n```text\n{lines}\n```\n", "utf-8")
    findings = lay_out_only(book)
    assert not [finding for finding in findings if finding.kind == "overflow"]
