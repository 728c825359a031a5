"""A real book, not written for Bindery: three chapters of *The Performance of Open Source
Applications* (CC BY 3.0, tests/books/posa, see its SOURCE.md), with only each chapter's
title line turned into front matter. Its footnotes, raw-HTML figures and anchors, tables,
definition lists, code and math reach both outputs; nothing of its syntax is shown as
text; what Bindery cannot carry is a warning naming the line."""

from __future__ import annotations

import posixpath
import re

import pikepdf
import pytest
from pypdf import PdfReader

from bindery.check.ace import run_ace
from bindery.check.reader import Epub
from bindery.namespaces import NS

from conftest import build_book
from helpers import BOOKS, normalise

POSA = BOOKS / "posa"
CHAPTERS = {"text/pugixml.xhtml": 20, "text/infinispan.xhtml": 20, "text/zotonic.xhtml": 7}
#: Markdown and HTML an author writes, which must never reach a reader as text.
SYNTAX = re.compile(r"\[\^|\^\[|\]\(|!\[|```|</?(div|span|img|a|h2|b|p|small|table|td)\b"
                    r"|\bclass=\"|^\s*\|[-:]")


@pytest.fixture(scope="module")
def posa(tmp_path_factory):
    return build_book(POSA, tmp_path_factory.mktemp("posa") / "out")


def test_the_real_book_builds_valid_and_accessible(posa, epubcheck):
    result = epubcheck(posa["epub"])[0]
    assert result.clean, result.messages
    assert run_ace(posa["epub"]).violations == []
    # What Bindery cannot carry is said, at its line: the authors' raw <h2> lines, and
    # the classes of their HTML figures, which no stylesheet of the book styles.
    messages = [str(warning) for warning in posa.report.warnings]
    assert [m for m in messages if "<h2> removed" in m] and all(
        re.search(r"\.markdown:\d+: (raw HTML: <h2> removed|class `(center|figure|"
                  r"figcaption)` is styled by none)", m) for m in messages), messages


def test_its_notes_figures_anchors_tables_and_math_reach_the_epub(posa):
    epub = Epub.open(posa["epub"])
    for document, notes in CHAPTERS.items():
        root = epub.document(document)
        assert len(root.xpath("//x:aside[@epub:type='footnote']", namespaces=NS)) == notes
        assert len(root.xpath("//x:a[@epub:type='noteref']", namespaces=NS)) >= notes
        # <a name="figure-4.1"></a> anchors became ids, and the links to them resolve
        targets = [a.get("href")[1:] for a in root.iter(f"{{{NS['x']}}}a")
                   if (a.get("href") or "").startswith("#figure-")]
        ids = {element.get("id") for element in root.iter()}
        assert all(target in ids for target in targets)
        images = root.xpath("//x:img", namespaces=NS)
        assert images and all(image.get("alt") for image in images)
        folder = posixpath.dirname(epub.path_of(document))
        assert all(posixpath.normpath(posixpath.join(folder, image.get("src"))) in epub.names
                   for image in images)
    pugixml = epub.document("text/pugixml.xhtml")
    assert sorted(m.get("alttext") for m in pugixml.iter(f"{{{NS['m']}}}math")) == [
        "1000 \\cdot 32 = 32000", "2^{16} = 65536", "2^{32}"]
    zotonic = epub.document("text/zotonic.xhtml")
    assert zotonic.xpath("//x:table//x:th[@scope='col']", namespaces=NS)
    assert zotonic.xpath("//x:dl/x:dt", namespaces=NS)


def _text_outside_code(epub: Epub, document: str) -> str:
    root = epub.document(document)
    for code in list(root.iter(f"{{{NS['x']}}}code")):
        code.text = ""
        for child in list(code):
            code.remove(child)
    return "".join(root.find("x:body", NS).itertext())


def test_no_markdown_or_html_is_left_as_text(posa):
    epub = Epub.open(posa["epub"])
    for document in CHAPTERS:
        text = _text_outside_code(epub, document)
        found = SYNTAX.search(text)
        assert found is None, text[max(0, found.start() - 80):found.end() + 80]
    pdf = " ".join(normalise(page.extract_text()) for page in PdfReader(posa["pdf"]).pages)
    for pattern in (r"\[\^", r"\]\(", r"<(div|img|span|h2|small)\b", r"class=\"", r"```"):
        assert not re.search(pattern, pdf), pattern
    with pikepdf.open(posa["pdf"]) as tagged:
        notes = [obj for obj in tagged.objects if isinstance(obj, pikepdf.Dictionary)
                 and obj.get("/S") == "/Note"]
    assert len(notes) == sum(CHAPTERS.values())
