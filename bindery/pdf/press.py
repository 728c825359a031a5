"""Layout -> the print shop's PDF: PDF/X-4 with the output intent of the book's CMYK
profile (FOGRA39 by default), bleed and crop marks, every font embedded whole, no links."""

from __future__ import annotations

import functools
import re
import uuid
from importlib.resources import files

from ..model import Book, Made
from .layout import Layout
from .writer import compress_once, objects, pages, ref, write_pdf

VARIANT = "pdf/x-4"
MM = 72 / 25.4
#: Crop marks: how far past the bleed they start, how long they are, how wide, in points.
MARK_GAP = 1 * MM
MARK_LENGTH = 6 * MM
MARK_WIDTH = 0.25


def press_pdf(book: Book, layout: Layout) -> Made:
    """The PDF for a print shop: PDF/X-4, bleed and crop marks, fonts embedded whole."""
    def finish(document, pdf):
        finish_press(document, pdf, book)

    return write_pdf(book, layout, VARIANT, press=True, finisher=finish, full_fonts=True)


def finish_press(document, pdf, book: Book, folds: list[float] = (),
                 whole_fonts: bool = True) -> None:
    """PDF/X-4 for the shop: boxes, marks (and fold marks at ``folds``, x in points from the
    trim's left edge: a cover's spine), the fonts' names (without a subset tag when they
    are embedded whole), the output intent, a stable id."""
    import pydyf

    found = objects(pdf)
    bleed = book.print.bleed_mm * MM
    all_pages = pages(pdf)
    for number, page in enumerate(all_pages, start=1):
        # PDF/X: no annotation may lie inside the bleed box, so the print file has no links.
        page.pop("Annots", None)
        # The sheet (MediaBox) is the trim plus the bleed plus a slug for the marks; the
        # BleedBox is the trim plus the bleed book.toml asks for (WeasyPrint would cap it
        # at 10 pt); the finished page is the TrimBox, and its ArtBox too.
        x0, y0, x1, y1 = (float(value) for value in page["TrimBox"])
        page["BleedBox"] = pydyf.Array((x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed))
        page["CropBox"] = page["MediaBox"]
        page["ArtBox"] = page["TrimBox"]
        if book.print.marks != "none":
            slug = (_slug_line(book, number, len(all_pages), document, (x0, y0), bleed)
                    if book.print.slug_line else [])
            _draw_marks(pdf, page, (x0, y0, x1, y1), bleed,
                        registration=book.print.marks == "crop+registration",
                        folds=[x0 + fold for fold in folds], extra=slug)
    for obj in pdf.objects:
        # The fonts are embedded whole: their names lose the subset tag (ABCDEF+).
        if whole_fonts and isinstance(obj, dict) and obj.get("Type") in ("/Font",
                                                                          "/FontDescriptor"):
            for key in ("BaseFont", "FontName"):
                name = obj.get(key)
                if isinstance(name, bytes) and b"+" in name:
                    obj[key] = b"/" + name.split(b"+", 1)[1]
    # Any DeviceRGB colour (a picture in RGB) is calibrated sRGB; the marks' registration
    # colour is a colour space of the pages too.
    srgb = pydyf.Stream([(files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()],
                        pydyf.Dictionary({"N": 3}), compress=True)
    pdf.add_object(srgb)
    for page in pages(pdf):
        resources = found[ref(page["Resources"])]
        colour_spaces = found[ref(resources["ColorSpace"])]
        colour_spaces["DefaultRGB"] = pydyf.Array(("/ICCBased", srgb.reference))
        colour_spaces["Registration"] = _registration()
        break   # WeasyPrint shares one resource dictionary between all pages
    profile = document.color_profiles.get("device-cmyk")
    description = profile.name if profile is not None else ""
    for intent in pdf.catalog.get("OutputIntents", ()):
        if "FOGRA39" in description:
            # A registered printing condition: name it as the ICC registry does.
            intent["OutputConditionIdentifier"] = pydyf.String("FOGRA39")
            intent["RegistryName"] = pydyf.String("http://www.color.org")
            intent["OutputCondition"] = pydyf.String(
                "Offset printing, coated paper (ISO 12647-2:2004/Amd 1)")
        else:
            # A book's own profile: the condition is whatever its profile describes.
            intent["OutputConditionIdentifier"] = pydyf.String("Custom")
            intent["Info"] = pydyf.String(description or "Custom CMYK printing condition")
    # WeasyPrint draws the XMP document id at random; make it a function of the book.
    document_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{book.identifier}#press")
    metadata = found[ref(pdf.catalog["Metadata"])]
    metadata.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", f"xmp.did:{document_id}".encode(),
                              part if isinstance(part, bytes) else str(part).encode())
                       for part in metadata.stream]
    compress_once(pdf)


def _registration():
    import pydyf

    # The registration colour prints on every plate: a Separation named All (ISO 32000 8.6.6.4).
    return pydyf.Array(("/Separation", "/All", "/DeviceCMYK", pydyf.Dictionary({
        "FunctionType": 2, "Domain": pydyf.Array((0, 1)), "N": 1,
        "C0": pydyf.Array((0, 0, 0, 0)), "C1": pydyf.Array((1, 1, 1, 1))})))


def _draw_marks(pdf, page, trim: tuple[float, float, float, float], bleed: float,
                registration: bool, folds: list[float] = (), extra: list[str] = ()) -> None:
    """Crop marks at the trim's corners, in the slug outside the bleed: they start a
    millimetre past the bleed, run 6 mm, 0.25 pt wide, in the registration colour. With
    ``registration``, a target (a circle and a cross) at the middle of each edge too. The
    page's own content is wrapped in q/Q, so the marks are drawn in the page's default space."""
    import pydyf

    x0, y0, x1, y1 = trim
    start, end = bleed + MARK_GAP, bleed + MARK_GAP + MARK_LENGTH
    lines = []
    for x, side in ((x0, -1), (x1, 1)):
        for y, up in ((y0, -1), (y1, 1)):
            lines.append((x + side * start, y, x + side * end, y))       # horizontal
            lines.append((x, y + up * start, x, y + up * end))           # vertical
    for x in folds:                                                       # fold lines
        lines += [(x, y0 - start, x, y0 - end), (x, y1 + start, x, y1 + end)]
    ops = ["q", "/Registration CS 1 SCN", f"{MARK_WIDTH} w", "0 J"]
    ops += [f"{a:.3f} {b:.3f} m {c:.3f} {d:.3f} l S" for a, b, c, d in lines]
    if registration:
        middle = (start + end) / 2
        for cx, cy in (((x0 + x1) / 2, y1 + middle), ((x0 + x1) / 2, y0 - middle),
                       (x0 - middle, (y0 + y1) / 2), (x1 + middle, (y0 + y1) / 2)):
            ops += _target(cx, cy, MARK_LENGTH / 2)
    ops += extra
    ops.append("Q")
    opening = pydyf.Stream([b"q"])
    closing = pydyf.Stream([b"Q\n" + "\n".join(ops).encode()])
    pdf.add_object(opening)
    pdf.add_object(closing)
    page["Contents"] = pydyf.Array((opening.reference, page["Contents"], closing.reference))


def _slug_line(book: Book, number: int, count: int, document, origin, bleed: float) -> list[str]:
    """The slug line under the page, outside the bleed: title, page, date, in 6 pt
    Linux Libertine drawn as outlines (a printer's mark, not the book's text)."""
    date = (document.metadata.created or "")[:10]
    text = f"{book.title}  ·  {book.slug}  ·  page {number} of {count}  ·  {date}"
    x, y = origin[0], origin[1] - bleed - MARK_GAP - MARK_LENGTH - 4 * MM
    return ["/Registration cs 1 scn"] + outlines(text, x, y, 6.0)


def outlines(text: str, x: float, y: float, size: float) -> list[str]:
    """``text`` as filled glyph outlines of Linux Libertine, its baseline at ``y``."""
    from fontTools.pens.basePen import BasePen

    font, glyphs, cmap, units = _face()
    scale = size / units
    ops: list[str] = []

    class Pen(BasePen):
        def __init__(self, dx):
            super().__init__(glyphs)
            self.dx = dx

        def _point(self, point) -> str:
            return f"{x + self.dx + point[0] * scale:.2f} {y + point[1] * scale:.2f}"

        def _moveTo(self, point):
            ops.append(f"{self._point(point)} m")

        def _lineTo(self, point):
            ops.append(f"{self._point(point)} l")

        def _curveToOne(self, a, b, c):
            ops.append(f"{self._point(a)} {self._point(b)} {self._point(c)} c")

        def _closePath(self):
            ops.append("h")

    advance = 0.0
    for character in text:
        name = cmap.get(ord(character), cmap.get(ord("?")))
        glyphs[name].draw(Pen(advance))
        advance += font["hmtx"][name][0] * scale
    return ops + ["f"]


@functools.cache
def _face():
    from fontTools.ttLib import TTFont

    from ..resources import STYLES

    font = TTFont(STYLES / "fonts" / "LinLibertine_R.otf")
    return font, font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm


def _target(cx: float, cy: float, size: float) -> list[str]:
    """A registration target: a circle with a cross through it."""
    r, k = size * 0.6, size * 0.6 * 0.5523       # four Bézier quarter circles
    return [f"{cx - size:.3f} {cy:.3f} m {cx + size:.3f} {cy:.3f} l S",
            f"{cx:.3f} {cy - size:.3f} m {cx:.3f} {cy + size:.3f} l S",
            f"{cx + r:.3f} {cy:.3f} m "
            f"{cx + r:.3f} {cy + k:.3f} {cx + k:.3f} {cy + r:.3f} {cx:.3f} {cy + r:.3f} c "
            f"{cx - k:.3f} {cy + r:.3f} {cx - r:.3f} {cy + k:.3f} {cx - r:.3f} {cy:.3f} c "
            f"{cx - r:.3f} {cy - k:.3f} {cx - k:.3f} {cy - r:.3f} {cx:.3f} {cy - r:.3f} c "
            f"{cx + k:.3f} {cy - r:.3f} {cx + r:.3f} {cy - k:.3f} {cx + r:.3f} {cy:.3f} c S"]
