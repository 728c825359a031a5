"""The reading PDF read back with pypdf: size, pages, metadata, outline, fonts, text."""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib

import pytest
from pypdf import PdfReader

from bindery.check.pdf import check_pdf, pdf_fonts

from helpers import BOOK

A5 = (419.53, 595.28)
A6 = (297.64, 419.53)


def test_every_page_is_a5(default_book):
    reader = PdfReader(default_book["pdf"])
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(A5[0], abs=0.5)
        assert height == pytest.approx(A5[1], abs=0.5)


def test_the_trim_size_comes_from_book_toml(tiny_book):
    page = PdfReader(tiny_book["pdf"]).pages[0]
    assert float(page.mediabox.width) == pytest.approx(A6[0], abs=0.5)
    assert float(page.mediabox.height) == pytest.approx(A6[1], abs=0.5)


def test_page_count_title_page_first_colophon_last(default_book):
    reader = PdfReader(default_book["pdf"])
    assert len(reader.pages) == default_book.report.pages
    assert 4 <= len(reader.pages) <= 8
    first = reader.pages[0].extract_text()
    assert "ISIS: run." in first and "Jorge Vanstreels" in first
    assert "Two years ago" not in first
    assert "Colophon" in reader.pages[-1].extract_text()


def test_article_starts_after_the_title_page_and_bio_follows_it(default_book):
    texts = [page.extract_text() for page in PdfReader(default_book["pdf"]).pages]
    article = next(i for i, text in enumerate(texts) if "Two years ago" in text)
    bio = next(i for i, text in enumerate(texts) if "About the Author" in text)
    colophon = next(i for i, text in enumerate(texts) if "Colophon" in text)
    assert 0 < article < bio < colophon


def test_page_numbers_on_body_pages(default_book):
    """Every page with text carries its folio, except the title page and the colophon;
    blank pages carry nothing."""
    reader = PdfReader(default_book["pdf"])
    texts = [page.extract_text() for page in reader.pages]
    body = [number for number, text in enumerate(texts, start=1)
            if text.strip() and number > 1 and not text.startswith("Colophon")]
    assert len(body) >= 3
    for number in body:
        lines = [line.strip() for line in texts[number - 1].split("\n")]
        assert any(line == str(number) or line.endswith(f" {number}")
                   or line.startswith(f"{number} ") for line in lines), number


def test_metadata(default_book):
    config = tomllib.loads((BOOK / "book.toml").read_text("utf-8"))
    reader = PdfReader(default_book["pdf"])
    info = reader.metadata
    assert info.title == config["title"]
    assert info.author == "Jorge Vanstreels"
    assert info.subject == config["description"]
    assert info.creation_date.year == 2023      # from SOURCE_DATE_EPOCH
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_outline_has_one_entry_per_chapter(default_book):
    reader = PdfReader(default_book["pdf"])
    titles = [entry.title for entry in reader.outline if not isinstance(entry, list)]
    assert titles == ["ISIS: run.", "About the Author", "Colophon"]
    pages = [reader.get_destination_page_number(entry) for entry in reader.outline
             if not isinstance(entry, list)]
    texts = [page.extract_text() for page in reader.pages]
    for title, page in zip(titles, pages):
        assert title in texts[page]
    assert pages == sorted(pages) and pages[0] == 2      # the article opens on page 3


def test_links_are_live(default_book):
    reader = PdfReader(default_book["pdf"])
    uris = [annotation.get_object()["/A"]["/URI"]
            for page in reader.pages for annotation in page.get("/Annots") or []
            if "/URI" in annotation.get_object().get("/A", {})]
    assert "https://twitter.com/Jorgevs" in uris


def test_every_font_is_embedded_and_none_is_dejavu(default_book, tiny_book):
    for built in (default_book, tiny_book):
        fonts = pdf_fonts(PdfReader(built["pdf"]))
        assert fonts and all(fonts.values()), fonts
        assert not [name for name in fonts if "DejaVu" in name], fonts
        assert any("Libertine" in name for name in fonts)


def test_true_italic_and_bold_faces(tiny_book):
    names = set(pdf_fonts(PdfReader(tiny_book["pdf"])))
    assert any(name.endswith("Linux-Libertine-Italic") for name in names)
    assert any(name.endswith("Linux-Libertine-Bold") for name in names)
    assert any(name.endswith("Linux-Libertine-Bold-Italic") for name in names)


def test_text_of_every_page_is_extractable(default_book):
    """Every page has text but the blanks a book leaves: the verso before a chapter that
    opens on a recto, and those that fill the last sheet, just before the colophon."""
    texts = [page.extract_text().strip() for page in PdfReader(default_book["pdf"]).pages]
    blanks = [number for number, text in enumerate(texts, start=1) if not text]
    openings = {number for number, text in enumerate(texts, start=1)
                if text.startswith(("ISIS: run.", "About the Author"))}
    colophon = len(texts)
    for number in blanks:
        assert number + 1 in openings or all(
            not texts[n - 1] for n in range(number, colophon)), (number, blanks)


def test_bindery_structure_check_passes(default_book, tiny_book):
    assert check_pdf(default_book["pdf"]) == []
    assert check_pdf(tiny_book["pdf"]) == []


def test_weasyprint_logs_no_warning_and_no_error(tmp_path):
    """WeasyPrint's own logger, listened to directly while both books build."""
    from conftest import build_book
    from helpers import TINY

    records = []

    class Listen(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Listen(logging.WARNING)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        for book in (BOOK, TINY):
            built = build_book(book, tmp_path / book.name)
            assert not [w for w in built.report.warnings if "WeasyPrint" in str(w)]
    finally:
        logger.removeHandler(handler)
    assert [record.getMessage() for record in records] == []


def test_every_pdf_is_structurally_sound(default_book, tiny_book):
    """Every object of every PDF reads back in pypdf's strict mode: the cross-reference
    table points at each object where it is (a lenient reader would hide a broken one)."""
    for built in (default_book, tiny_book):
        for fmt in ("pdf", "press", "booklet"):
            reader = PdfReader(built[fmt], strict=True)
            for number in range(1, int(reader.trailer["/Size"])):
                reader.get_object(number)
            title = reader.trailer["/Info"].get_object()["/Title"]
            assert title.startswith(("ISIS", "Petit")), (built.book.name, fmt)


_IMPORT = """
import subprocess, sys
started = []
real = subprocess.Popen.__init__
def counted(self, args, *rest, **kwargs):
    started.append(args)
    real(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = counted
from bindery.pdf import layout
layout._SONAMES += tuple(sys.argv[1:])
layout.import_weasyprint()
from weasyprint.text import ffi
assert ffi.pango.pango_units_from_double(1) == 1024
import ctypes
try:
    ctypes.CDLL("libharfbuzz-subset.so.0")
except OSError:
    assert ffi.harfbuzz_subset is None
else:
    assert ffi.harfbuzz_subset is not None      # fonts are subset as with the search
print(len(started))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sonames are Linux's")
def test_weasyprint_is_imported_without_a_library_search():
    """Each search runs ldconfig, gcc or ld: none where every library opens by its soname,
    and WeasyPrint's own search where one does not."""
    def processes(*sonames: str) -> int:
        done = subprocess.run([sys.executable, "-c", _IMPORT, *sonames], check=True,
                              capture_output=True, text=True)
        return int(done.stdout)

    assert processes() == 0
    assert processes("libnot-a-library.so.9") > 0
