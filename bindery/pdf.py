"""Layout -> PDF bytes: the tagged reading PDF and the print shop's PDF/X-4, from one layout.

The book is laid out once, with bleed and crop marks (``@page`` properties WeasyPrint reads
at layout time). The press PDF is that layout as it is, as PDF/X-4 with the FOGRA39 output
intent and every font embedded whole. The reading PDF is the same pages written as tagged
PDF/UA-1 without the marks, every page box cut to the trim: same pages, no second layout.

Both writers finish WeasyPrint's PDF object tree before it is serialised (its ``finisher``
hook): the reading PDF marks running heads and folios as pagination artifacts, the press PDF
gets a reproducible XMP document id, a calibrated default for any RGB colour and no links.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Iterator

from .errors import BookWarning
from .layout import Layout, weasyprint_log
from .model import Book

PRESS_VARIANT = "pdf/x-4"
READING_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class PdfOutput:
    data: bytes
    warnings: tuple[BookWarning, ...]


def reading_pdf(book: Book, layout: Layout) -> PdfOutput:
    """The PDF to read and to print at home: tagged PDF/UA-1, trim size, no marks."""
    with weasyprint_log(book) as warnings, _painting(layout, press=False):
        data = layout.document.write_pdf(pdf_variant=READING_VARIANT,
                                         finisher=_finish_reading)
    return PdfOutput(data, tuple(warnings))


def press_pdf(book: Book, layout: Layout) -> PdfOutput:
    """The PDF for a print shop: PDF/X-4, bleed and crop marks, fonts embedded whole."""
    def finish(document, pdf):
        _finish_press(document, pdf, book)

    with weasyprint_log(book) as warnings, _painting(layout, press=True):
        data = layout.document.write_pdf(pdf_variant=PRESS_VARIANT, full_fonts=True,
                                         finisher=finish)
    return PdfOutput(data, tuple(warnings))


@contextmanager
def _painting(layout: Layout, press: bool) -> Iterator[None]:
    """Write the laid-out pages for one PDF, and leave them as they were.

    WeasyPrint reads ``marks`` from each page box's style when it paints, and adds the marks
    as a background layer every time it does; the colour profiles (the press output intent)
    belong to the whole document. For the reading PDF the marks and the profiles are taken
    away; afterwards everything is put back, so each PDF written from the layout is the same
    whatever was written before it.
    """
    document = layout.document
    saved = []
    for page in document.pages:
        box = page._page_box   # WeasyPrint keeps the page box private; used only here
        layers = box.background.layers if box.background is not None else None
        saved.append((box, box.style["marks"], list(layers) if layers is not None else None))
        if not press:
            box.style["marks"] = ()
    profiles = dict(document.color_profiles)
    if not press:
        document.color_profiles.clear()
    # WeasyPrint subsets a font in place when it writes a PDF: start from the whole fonts.
    document.fonts.clear()
    try:
        yield
    finally:
        document.fonts.clear()
        document.color_profiles.clear()
        document.color_profiles.update(profiles)
        for box, page_marks, layers in saved:
            box.style["marks"] = page_marks
            if layers is not None:
                box.background.layers[:] = layers


# -- finishing WeasyPrint's object tree (pydyf objects) ------------------------------------

def _objects(pdf) -> dict[int, object]:
    return {obj.number: obj for obj in pdf.objects if getattr(obj, "number", None)}


def _ref(reference: bytes) -> int:
    """The object number of a pydyf reference such as b'12 0 R'."""
    return int(reference.split()[0])


def _pages(pdf) -> list:
    return [obj for obj in pdf.objects
            if isinstance(obj, dict) and obj.get("Type") == "/Page"]


def _finish_reading(document, pdf) -> None:
    for page in _pages(pdf):
        page["MediaBox"] = page["TrimBox"]      # the trim is the page
        page["BleedBox"] = page["TrimBox"]
    _pagination_artifacts(pdf)
    _compress_once(pdf)


def _compress_once(pdf) -> None:
    """Compress each stream once, instead of twice as pydyf would.

    pydyf compresses a stream every time it reads its data, at level 9, and it reads it
    twice (once for the file identifier, once to write it): with whole fonts and a colour
    profile that was most of the time spent writing. Level 6 halves the rest for 0.2 % more
    bytes.
    """
    import zlib

    import pydyf

    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and obj.compress and "Filter" not in obj.extra:
            raw = b"\n".join(pydyf._to_bytes(item) for item in obj.stream)
            compressor = zlib.compressobj(level=6)
            obj.stream = [compressor.compress(raw) + compressor.flush()]
            obj.extra["Filter"] = "/FlateDecode"
            obj.compress = False


def _pagination_artifacts(pdf) -> None:
    """Running heads and folios become pagination artifacts, outside the structure tree.

    WeasyPrint 70 tags the text of page-margin boxes with marked-content ids whose structure
    elements it leaves out of the tree (an artifact in the tree needs PDF 2.0). Here those
    sequences become ``/Artifact <</Type /Pagination>>``, as PDF/UA-1 wants for them, and
    the orphan elements are dropped.
    """
    import pydyf

    objects = _objects(pdf)
    root_ref = pdf.catalog.get("StructTreeRoot")
    if root_ref is None:
        return
    root = objects[_ref(root_ref)]
    reachable: set[int] = set()
    todo = [_ref(kid) for kid in root["K"]]
    while todo:
        number = todo.pop()
        if number in reachable:
            continue
        reachable.add(number)
        element = objects[number]
        for kid in element.get("K", ()):
            if isinstance(kid, bytes) and kid.endswith(b" R"):
                todo.append(_ref(kid))
    orphans = [obj for obj in pdf.objects
               if isinstance(obj, dict) and obj.get("Type") == "/StructElem"
               and obj.number not in reachable]
    artifacts: dict[int, set[int]] = {}      # page object number -> MCIDs
    for orphan in orphans:
        # Left in the file, unreferenced: marking a pydyf object free breaks the numbering
        # of its compressed object stream.
        for kid in orphan.get("K", ()):
            if isinstance(kid, int):
                artifacts.setdefault(_ref(orphan["Pg"]), set()).add(kid)
    page_numbers = [page.number for page in _pages(pdf)]
    for page in _pages(pdf):
        mcids = artifacts.get(page.number)
        if not mcids:
            continue
        stream = objects[_ref(page["Contents"])].stream
        for i in range(1, len(stream) - 1):
            item = stream[i]
            if (isinstance(item, dict) and item.get("MCID") in mcids
                    and stream[i + 1] == b"BDC"):
                stream[i - 1] = "/Artifact"
                stream[i] = pydyf.Dictionary({"Type": "/Pagination"})
    parent_tree = objects[_ref(root["ParentTree"])]
    nums = parent_tree["Nums"]
    for index in range(0, len(nums), 2):
        page_index, refs = nums[index], nums[index + 1]
        if not isinstance(refs, list) or page_index >= len(page_numbers):
            continue
        for mcid in artifacts.get(page_numbers[page_index], ()):
            if mcid < len(refs):
                refs[mcid] = b"null"


def _finish_press(document, pdf, book: Book) -> None:
    import pydyf

    objects = _objects(pdf)
    for page in _pages(pdf):
        # PDF/X: no annotation may lie inside the bleed box, so the print file has no links.
        page.pop("Annots", None)
        # WeasyPrint caps the BleedBox at 10 pt outside the trim; the bleed is what book.toml
        # asked for, and the media box is exactly the trim plus that bleed.
        page["BleedBox"] = page["MediaBox"]
    for obj in pdf.objects:
        # The fonts are embedded whole: their names lose the subset tag (ABCDEF+).
        if isinstance(obj, dict) and obj.get("Type") in ("/Font", "/FontDescriptor"):
            for key in ("BaseFont", "FontName"):
                name = obj.get(key)
                if isinstance(name, bytes) and b"+" in name:
                    obj[key] = b"/" + name.split(b"+", 1)[1]
    # Any DeviceRGB colour (the crop marks are drawn in RGB black) is calibrated sRGB.
    srgb = pydyf.Stream([(files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()],
                        pydyf.Dictionary({"N": 3}), compress=True)
    pdf.add_object(srgb)
    for page in _pages(pdf):
        resources = objects[_ref(page["Resources"])]
        colour_spaces = objects[_ref(resources["ColorSpace"])]
        colour_spaces["DefaultRGB"] = pydyf.Array(("/ICCBased", srgb.reference))
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
    metadata = objects[_ref(pdf.catalog["Metadata"])]
    metadata.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", f"xmp.did:{document_id}".encode(),
                              part if isinstance(part, bytes) else str(part).encode())
                       for part in metadata.stream]
    _compress_once(pdf)
