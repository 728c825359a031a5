"""The e-books in a real reading engine: foliate-js (the engine of Foliate and of several
reading apps), pinned in tests/tools, opens the EPUB and the kepub in headless Chromium.
Every document of the reading order renders with the file's text, every contents entry
leads where it says, and tapping a note reference opens the note. A screenshot of the first
chapter is left in tests/output/ for a person to look at."""

from __future__ import annotations

import re
import shutil

import pytest

from bindery.check.reader import Epub
from bindery.namespaces import NS

from browser import SCREENSHOTS, TOOLS, browser, serve
from helpers import ROOT

HARNESS = ROOT / "tests" / "reader" / "harness.html"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def chrome():
    with browser() as chrome:
        yield chrome


@pytest.fixture(scope="module")
def shelf(tmp_path_factory, default_book, tiny_book, guide_book):
    """The harness, foliate-js and the books, served from one folder."""
    root = tmp_path_factory.mktemp("reader")
    shutil.copy(HARNESS, root / "harness.html")
    (root / "foliate").symlink_to(TOOLS / "foliate-js", target_is_directory=True)
    for built in (default_book, tiny_book, guide_book):
        for fmt in ("epub", "kepub"):
            shutil.copy(built[fmt], root / built[fmt].name)
    with serve(root) as (url, requested):
        yield url, requested


CASES = [(name, fmt) for name in ("default", "tiny", "guide") for fmt in ("epub", "kepub")]


@pytest.fixture
def books(default_book, tiny_book, guide_book):
    return {"default": default_book, "tiny": tiny_book, "guide": guide_book}


def _open(chrome, shelf, path):
    """A page of the harness with the e-book at ``path`` open in foliate-js."""
    url, _ = shelf
    page = chrome.new_page(viewport={"width": 600, "height": 900})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url + "harness.html")
    page.wait_for_function("window.readerReady === true")
    return page, page.evaluate("url => reader.open(url)", url + path.name)


@pytest.mark.parametrize("name,fmt", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_every_document_renders_and_every_contents_entry_leads_to_it(
        name, fmt, chrome, shelf, books):
    path = books[name][fmt]
    epub = Epub.open(path)
    page, book = _open(chrome, shelf, path)
    assert book["title"] == epub.metadata("dc:title")[0]

    # Every document of the reading order renders, with the file's text.
    linear = [href for href, ref in zip(epub.spine, epub.opf.find("opf:spine", NS))
              if ref.get("linear", "yes") == "yes"]
    rendered = [index for index, section in enumerate(book["sections"])
                if section["linear"] != "no"]
    assert len(rendered) == len(linear)
    for index, href in zip(rendered, linear):
        shown = page.evaluate("i => reader.show(i)", index)
        assert shown["index"] == index and shown["height"] > 0
        assert shown["text"] == _squeeze(epub.text(href)), href
        assert shown["text"] or shown["images"], f"{href} shows nothing"

    # Every contents entry leads to its document, and to its heading when it names one.
    assert [entry["label"] for entry in book["toc"]] == [
        label for _, label in epub.nav("toc")]
    for entry in book["toc"]:
        shown = page.evaluate("href => reader.show(href)", entry["href"])
        assert shown["index"] == shown["wanted"], entry
        if "#" in entry["href"]:
            assert shown["anchorId"] == entry["href"].split("#")[1], entry
            assert shown["anchorShown"], f"{entry} leads to a page without its heading"
        # The reader's own idea of where it is: this document (a short chapter's page may
        # already show its next section, which foliate then names).
        assert shown["tocItem"].split("#")[0] == entry["href"].split("#")[0], entry

    # The first chapter, for a person to look at.
    page.evaluate("href => reader.show(href)", book["toc"][0]["href"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"reader-{name}-{fmt}-first-chapter.png"))
    assert page.errors == []
    assert not [entry for entry in shelf[1] if entry[1] >= 400]
    page.close()


@pytest.mark.parametrize("fmt", ["epub", "kepub"])
def test_a_note_reference_opens_its_note(fmt, chrome, shelf, guide_book):
    """The guide's notes: tapping the first reference of each chapter opens a pop-up with
    that note's text, and nothing else."""
    path = guide_book[fmt]
    epub = Epub.open(path)
    page, book = _open(chrome, shelf, path)
    chapters = [href for href in epub.spine
                if epub.document(href).find(".//x:a[@role='doc-noteref']", NS) is not None]
    assert len(chapters) >= 2
    for chapter in chapters:
        page.evaluate("href => reader.show(href)", epub.path_of(chapter))
        note = page.evaluate("() => reader.openNote()")
        assert note["type"] == "footnote", note
        note_id = note["href"].split("#")[1]
        aside = epub.document(chapter).find(f".//x:aside[@id='{note_id}']", NS)
        assert note["text"] == _squeeze("".join(aside.itertext()))
    assert page.errors == []
    page.close()
