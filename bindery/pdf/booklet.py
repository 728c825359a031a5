"""Reading PDF -> saddle-stitch booklet: its pages imposed two-up on sheets, never rasterised.

The pages are padded with blanks to a multiple of four (the blanks go before the back page,
never into the text) and placed, as PDF form XObjects, in the order that makes a folded stack
of sheets read 1, 2, 3... For 8 pages the sheet sides carry 8|1, 2|7, 6|3, 4|5. Books too
thick to fold as one are split into signatures of a given number of sheets. Creep moves the
pages of inner sheets towards the fold, the innermost by the full amount. A page is scaled
only when it does not fit its half of the sheet, and then uniformly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from ..model import BookletSettings, Trim
from ..source.units import SHEETS, parse_sheet

MM = 72 / 25.4


@dataclass(frozen=True)
class Side:
    """One side of a sheet: the page numbers on its left and right halves (None: blank)."""

    left: int | None
    right: int | None
    back: bool            # the back of its sheet
    sheet: int            # the sheet's place in its signature, 0 = outermost
    sheets: int           # how many sheets its signature has
    signature: int


def page_order(count: int) -> list[int | None]:
    """The book's pages padded with blanks to a multiple of four, blanks before the last."""
    if count < 1:
        raise ValueError("a booklet needs at least one page")
    blanks = -count % 4
    if count == 1:
        return [1] + [None] * blanks
    return list(range(1, count)) + [None] * blanks + [count]


def plan(count: int, sheets_per_signature: int = 0) -> list[Side]:
    """Every sheet side, in printing order, for a book of ``count`` pages."""
    order = page_order(count)
    size = 4 * sheets_per_signature if sheets_per_signature > 0 else len(order)
    sides = []
    for signature, start in enumerate(range(0, len(order), size)):
        pages = order[start:start + size]
        sheets = len(pages) // 4
        last = len(pages) - 1
        for sheet in range(sheets):
            sides.append(Side(pages[last - 2 * sheet], pages[2 * sheet], False, sheet, sheets,
                              signature))
            sides.append(Side(pages[2 * sheet + 1], pages[last - 1 - 2 * sheet], True, sheet,
                              sheets, signature))
    return sides


def sheet_for(trim: Trim, name: str | None) -> tuple[str, float, float]:
    """The sheet (name, landscape width and height in mm) for pages of ``trim``.

    By default the smallest standard paper that holds two pages side by side: A4 for A5,
    Letter for half-letter, A5 for A6.
    """
    if name is not None:
        sheet = parse_sheet(name)
        if sheet is None:
            raise ValueError(f"unknown sheet size `{name}`")
        return sheet
    fitting = [(long * short, key, long, short) for key, (short, long) in SHEETS.items()
               if long + 0.5 >= 2 * trim.width_mm and short + 0.5 >= trim.height_mm]
    if not fitting:
        short, long = SHEETS["a3"]
        return "a3", long, short
    _, key, long, short = min(fitting)
    return key, long, short


def impose(pdf: bytes, trim: Trim, settings: BookletSettings, title: str,
           date: datetime) -> bytes:
    """The booklet PDF for the reading PDF ``pdf``."""
    import pikepdf

    _, sheet_w_mm, sheet_h_mm = sheet_for(trim, settings.sheet)
    width, height = sheet_w_mm * MM, sheet_h_mm * MM
    source = pikepdf.Pdf.open(io.BytesIO(pdf))
    out = pikepdf.Pdf.new()
    forms = [out.copy_foreign(_form(page)) for page in source.pages]
    boxes = [[float(v) for v in page.mediabox] for page in source.pages]
    for side in plan(len(forms), settings.sheets_per_signature):
        page = out.add_blank_page(page_size=(width, height))
        placed = pikepdf.Dictionary()
        operations = []
        if side.back and settings.flip == "long-edge":
            # Printers that flip on the long edge turn the back of a landscape sheet
            # upside down: print it turned by 180 degrees, so it comes out upright.
            operations.append(f"-1 0 0 -1 {_n(width)} {_n(height)} cm")
        creep = 0.0
        if side.sheets > 1:
            creep = settings.creep_mm * MM * side.sheet / (side.sheets - 1)
        for half, number in ((0, side.left), (1, side.right)):
            if number is None:
                continue
            x0, y0, x1, y1 = boxes[number - 1]
            w, h = x1 - x0, y1 - y0
            fits = w <= width / 2 + 0.01 and h <= height + 0.01    # within 1/100 pt
            scale = 1.0 if fits else min((width / 2) / w, height / h)
            x = half * width / 2 + (width / 2 - w * scale) / 2 - x0 * scale
            x += creep if half == 0 else -creep          # towards the fold
            y = (height - h * scale) / 2 - y0 * scale
            name = f"/Page{number}"      # fixed names: the same bytes every build
            placed[name] = forms[number - 1]
            operations.append(f"q {_n(scale)} 0 0 {_n(scale)} {_n(x)} {_n(y)} cm {name} Do Q")
        page.Resources = pikepdf.Dictionary(XObject=placed)
        page.Contents = out.make_stream(("q " + " ".join(operations) + " Q").encode())
    stamp = date.strftime("D:%Y%m%d%H%M%SZ")
    out.docinfo["/Title"] = f"{title} (booklet)"
    out.docinfo["/Creator"] = source.docinfo.get("/Creator", "Bindery")
    out.docinfo["/Producer"] = "Bindery booklet imposition (pikepdf)"
    out.docinfo["/CreationDate"] = stamp
    out.docinfo["/ModDate"] = stamp
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buffer.getvalue()


def _form(page):
    """The page as a form XObject (qpdf's), its content stream's data as the page has it,
    still compressed: qpdf's form holds the data decoded, and deflating the whole book
    again took most of the booklet's time (0.09 of 0.12 s saving the long book's)."""
    import pikepdf

    form = page.as_form_xobject()
    contents = page.obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream) and contents.get("/Filter") == pikepdf.Name.FlateDecode \
            and "/DecodeParms" not in contents:
        form.write(contents.read_raw_bytes(), filter=pikepdf.Name.FlateDecode)
    return form


def _n(value: float) -> str:
    """A number for a content stream: short, and the same on every machine."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
