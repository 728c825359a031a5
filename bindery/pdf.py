"""Layout -> PDF bytes: the tagged reading PDF and the print shop's PDF, from one layout.

The book is laid out once, with bleed and crop marks (``@page`` properties WeasyPrint reads
at layout time). The press PDF is that layout as it is. The reading PDF is the same pages
written without the marks and with every page box cut to the trim: same pages, same text,
no second layout.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .errors import BookWarning
from .layout import Layout, weasyprint_log
from .model import Book


@dataclass(frozen=True)
class PdfOutput:
    data: bytes
    warnings: tuple[BookWarning, ...]


def reading_pdf(book: Book, layout: Layout) -> PdfOutput:
    """The PDF to read and to print at home: tagged PDF/UA-1, trim size, no marks."""
    with weasyprint_log(book) as warnings, _painting(layout, marks=False):
        data = layout.document.write_pdf(pdf_variant="pdf/ua-1", finisher=_cut_to_trim)
    return PdfOutput(data, tuple(warnings))


@contextmanager
def _painting(layout: Layout, marks: bool) -> Iterator[None]:
    """Write the laid-out pages with or without crop marks, and leave them as they were.

    WeasyPrint reads ``marks`` from each page box's style when it paints, and adds the
    marks as a background layer every time it does: both are put back afterwards, so each
    PDF written from the layout is the same whatever was written before it.
    """
    saved = []
    for page in layout.document.pages:
        box = page._page_box   # WeasyPrint keeps the page box private; used only here
        layers = box.background.layers if box.background is not None else None
        saved.append((box, box.style["marks"], list(layers) if layers is not None else None))
        if not marks:
            box.style["marks"] = ()
    try:
        yield
    finally:
        for box, page_marks, layers in saved:
            box.style["marks"] = page_marks
            if layers is not None:
                box.background.layers[:] = layers


def _cut_to_trim(document, pdf) -> None:
    """A WeasyPrint finisher: every page's boxes become its TrimBox (the page size)."""
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("Type") == "/Page" and "TrimBox" in obj:
            obj["MediaBox"] = obj["TrimBox"]
            obj["BleedBox"] = obj["TrimBox"]
