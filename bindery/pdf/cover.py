"""Book + page count -> the cover wrap: back, spine and front on one sheet, PDF/X-4 for the
print shop like the press PDF, with bleed on every edge and marks in the slug past it.

The spine is as wide as the book is thick: its leaves (half its pages, blanks included)
times the thickness of one leaf of its paper (``[cover] paper`` or ``caliper``); a
saddle-stitched or unbound book has none. The spine's text (title and author) runs top to
bottom in English, bottom to top in the continental European languages, and is left out
when the spine is too thin to hold it. The back carries the description and, when the
book's identifier is an ISBN, its EAN-13 barcode (python-barcode, as vectors). The front
has the e-book cover: the book's own image over the trim and the bleed, or Bindery's
typographic design drawn as type and rules.
"""

from __future__ import annotations

import base64
import re

from ..errors import BookWarning
from ..model import Book, Made
from ..render import render_cover
from ..sandbox import Sandbox
from .layout import Layout, import_weasyprint, weasyprint_log
from .press import MM, VARIANT, finish_press
from .writer import write_pdf

#: Below this width the spine has no text: it would not be legible.
SPINE_TEXT_MM = 6.0
#: Languages whose books print the spine from bottom to top (the rest read top to bottom).
_READS_UP = {"fr", "de", "it", "es", "nl", "pt", "ca", "da", "sv", "no", "nb", "pl", "cs",
             "hu", "ru"}


def cover_pdf(book: Book, pages: int, sandbox: Sandbox, date: str) -> Made:
    """The cover wrap for ``pages`` pages, dated ``date`` (W3C, the build's date)."""
    import_weasyprint()
    import weasyprint

    from .fetcher import url_fetcher

    spine = book.print.spine_mm(pages)
    isbn = isbn13(book.identifier)
    language = book.language.split("-")[0].lower()
    html = render_cover(
        book, sandbox, date=date, spine=spine, isbn=_grouped(isbn) if isbn else None,
        barcode=_barcode(isbn) if isbn else None, spine_text=spine >= SPINE_TEXT_MM,
        spine_reads_down=language not in _READS_UP,
        cover_image=book.cover.resolve().as_uri() if book.cover is not None else None,
        fonts=sandbox.style("fonts/LinLibertine_R.otf").resolve().parent.as_uri(),
        profile=sandbox.style("color/FOGRA39-bindery.icc").resolve().as_uri())
    fetcher = url_fetcher(sandbox)
    with weasyprint_log(book) as warnings:
        document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    if 0 < spine < SPINE_TEXT_MM:
        warnings.append(BookWarning(f"the spine is {spine:.1f} mm wide ({pages} pages on "
                                    f"{book.print.paper}): too thin for its title, left "
                                    f"blank", book.config))
    folds = [book.print.trim.width_mm * MM, (book.print.trim.width_mm + spine) * MM]

    def finish(document, pdf):
        finish_press(document, pdf, book, folds=folds if spine else folds[:1],
                     whole_fonts=False)

    # Subsets: a cover has a few dozen glyphs, and a subset keeps the small capitals'
    # text (WeasyPrint maps whole fonts' small capitals to private-use characters).
    made = write_pdf(book, Layout(document, (), ()), VARIANT, press=True, finisher=finish)
    return Made(made.data, made.warnings + tuple(warnings), tuple(sorted(fetcher.read.items())))


def isbn13(identifier: str) -> str | None:
    """The ISBN-13 in a book's identifier (``urn:isbn:978…``, ``isbn:…``, an ISBN-10
    converted), its check digit verified; None when it is no ISBN."""
    text = re.sub(r"^(urn:)?isbn:", "", identifier.strip(), flags=re.I)
    digits = re.sub(r"[\s-]", "", text).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        if sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits)) % 11:
            return None
        digits = "978" + digits[:9]
        digits += str(-sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        return None
    if sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10:
        return None
    return digits


def _grouped(isbn: str) -> str:
    return f"{isbn[:3]}-{isbn[3:12]}-{isbn[12]}"


def _barcode(isbn: str) -> str:
    """The EAN-13 bars as an SVG data URL: pure black bars on white, no text (the digits
    are set under it in the book's face)."""
    from barcode import EAN13
    from barcode.writer import SVGWriter

    svg = EAN13(isbn[:12], writer=SVGWriter()).render(
        {"write_text": False, "module_width": 0.33, "module_height": 22.0,
         "quiet_zone": 3.63}).decode("utf-8")
    svg = re.sub(r"<!DOCTYPE[^>]*>|<!--.*?-->|<\?xml[^>]*\?>", "", svg, flags=re.S)
    svg = svg.replace("fill:black", "fill:device-cmyk(0 0 0 1)").replace(
        "fill:white", "fill:device-cmyk(0 0 0 0)")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.strip().encode()).decode()
