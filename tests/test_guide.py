"""The field guide (tests/books/guide): every construct of issue 12 in each of its two
chapters, built and read back: EPUBCheck and Ace clean, each footnote on the page of its
call, no font but Bindery's, header cells with a scope, formulas drawn as paths, and no
Markdown or HTML syntax left as text in any output."""

from __future__ import annotations

import re

import pikepdf
import pytest
from pypdf import PdfReader

from bindery.check.ace import run_ace
from bindery.check.reader import Epub
from bindery.namespaces import NS

from helpers import normalise

CHAPTERS = ("text/notes.xhtml", "text/figures.xhtml")
#: The faces in styles/fonts (PostScript names); formulas are paths, not text.
BINDERY_FONTS = {"Linux-Libertine", "Linux-Libertine-Italic", "Linux-Libertine-Bold",
                 "Linux-Libertine-Bold-Italic", "Linux-Libertine-Mono"}

#: Each construct, as an XPath that finds it in a chapter's e-book document.
CONSTRUCTS = {
    "note reference": "//x:a[@epub:type='noteref' and @role='doc-noteref']",
    "footnote": "//x:aside[@epub:type='footnote' and @role='doc-footnote']",
    "multi-paragraph footnote": "//x:aside[@epub:type='footnote'][count(x:p) >= 2]",
    "sub-heading with its id": "//x:h2[@id]",
    "heading written at level one, now h2": "//x:h2[starts-with(@id, 'another-heading') or "
                                            "starts-with(@id, 'a-heading')]",
    "link to another chapter's section": "//x:a[contains(@href, '.xhtml#')]",
    "page reference": "//x:a[@class='page']",
    "highlighted code": "//x:pre[contains(@class, 'code')]/x:code[contains(@class, 'language-')]",
    "plain code block": "//x:pre/x:code[@class='code']",
    "inline code": "//x:p/x:code",
    "table with caption and scoped headers": "//x:table[x:caption]//x:th[@scope='col']",
    "raw HTML table": "//x:table[not(x:caption)]//x:th[@scope]",
    "definition list": "//x:dl/x:dd",
    "subscript": "//x:sub",
    "superscript": "//x:sup",
    "strike-through": "//x:s",
    "small capitals": "//x:span[@class='smallcaps']",
    "verse": "//x:div[@class='verse']",
    "note callout": "//*[@class='note']",
    "tip callout": "//*[@class='tip']",
    "warning callout": "//*[@class='warning']",
    "aside": "//*[@class='aside']",
    "pull quote": "//*[@class='pullquote']",
    "section break": "//x:hr",
    "breakable address": "//x:a[starts-with(@href, 'https:')]/x:wbr",
    "e-mail address": "//x:a[starts-with(@href, 'mailto:')]",
    "inline math": "//m:math[@display='inline']",
    "display math": "//m:math[@display='block']",
    "Markdown picture": "//x:figure/x:img[starts-with(@src, '../images/')]",
    "HTML figure with a width": "//x:figure[@id]/x:img[contains(@style, 'width')]",
    "kbd": "//x:kbd",
    "abbreviation": "//x:abbr[@title]",
    "line break": "//x:br",
}


@pytest.fixture
def guide(guide_book):
    return guide_book


@pytest.mark.parametrize("document", CHAPTERS)
def test_each_chapter_uses_every_construct(guide, document):
    root = Epub.open(guide["epub"]).document(document)
    missing = [name for name, path in CONSTRUCTS.items()
               if not root.xpath(path, namespaces=NS)]
    assert missing == []


def test_the_epub_passes_epubcheck_and_ace(guide, epubcheck):
    result = epubcheck(guide["epub"])[0]
    assert result.clean, result.messages
    assert run_ace(guide["epub"]).violations == []
    assert [str(warning) for warning in guide.report.warnings] == []


def _pages(path) -> list[str]:
    return [normalise(page.extract_text()) for page in PdfReader(path).pages]


def test_each_footnote_is_on_the_page_of_its_call(guide):
    pages = _pages(guide["pdf"])
    for call, note in (
            ("first duty is to the text", "A note with two paragraphs."),
            ("first duty is to the text", "goes on to the next page in print"),
            ("never notice the first.", "An inline note, written where it is called."),
            ("are where books break", "A note in the second chapter."),
            ("with their notes and references", "Inline notes work here too.")):
        with_call = [n for n, text in enumerate(pages) if call in text]
        with_note = [n for n, text in enumerate(pages) if note in text]
        assert with_call and with_note == with_call[:1], (call, note)


def test_print_uses_only_bindery_s_fonts_and_draws_formulas(guide):
    for name in ("pdf", "press"):
        with pikepdf.open(guide[name]) as pdf:
            fonts = set()
            for page in pdf.pages:
                for font in (page.Resources.get("/Font") or {}).values():
                    base = str(font.BaseFont).lstrip("/").split("+")[-1]
                    descendant = font.get("/DescendantFonts")
                    descriptor = (descendant[0] if descendant else font).FontDescriptor
                    assert any(key in descriptor for key in ("/FontFile", "/FontFile2",
                                                             "/FontFile3")), base
                    fonts.add(base)
        assert {"Linux-Libertine", "Linux-Libertine-Mono"} <= fonts <= BINDERY_FONTS, fonts
    with pikepdf.open(guide["pdf"]) as pdf:
        formulas = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)
                    and obj.get("/S") == "/Formula"]
        headers = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)
                   and obj.get("/S") == "/TH"]
        curves = sum(1 for page in pdf.pages
                     for _, operator in pikepdf.parse_content_stream(page)
                     if str(operator) == "c")
    epub = Epub.open(guide["epub"])
    tex = [m.get("alttext") for document in CHAPTERS
           for m in epub.document(document).iter(f"{{{NS['m']}}}math")]
    assert sorted(str(f.Alt) for f in formulas) == sorted(tex)
    assert headers and all(str(th.A.Scope) in ("/Column", "/Row") for th in headers)
    assert curves > 300


#: What an author writes that must never reach a reader as text.
SYNTAX = re.compile(r"\[\^|\^\[|:::|\{\.|\{#|~~|\$\$|\\frac|\\sum|</?(figure|img|kbd|abbr|"
                    r"sup|sub|dl|dt|dd|table|tr|td|th|br|q|em|code)\b|Table:|```|\]\(|!\[")


def _epub_text_outside_code(epub: Epub, document: str) -> str:
    root = epub.document(document)
    for element in list(root.iter(f"{{{NS['x']}}}code", f"{{{NS['m']}}}math")):
        tail = element.tail
        parent = element.getparent()
        parent.remove(element)
        if tail:
            previous = parent[-1] if len(parent) else None
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
    return "".join(root.find("x:body", NS).itertext())


def test_no_syntax_is_left_as_text_in_any_output(guide):
    epub = Epub.open(guide["epub"])
    for document in CHAPTERS:
        text = _epub_text_outside_code(epub, document)
        assert not SYNTAX.search(text), SYNTAX.search(text)
    for name in ("pdf", "booklet"):
        text = " ".join(_pages(guide[name]))
        found = SYNTAX.search(text.replace("<figure>", ""))   # a caption names the element
        assert found is None, text[max(0, found.start() - 60):found.end() + 60]
