"""Layout -> the print shop's PDF: PDF/X-4 with the output intent of the book's CMYK
profile (FOGRA39 by default), bleed and crop marks, every font embedded whole, no links."""

from __future__ import annotations

import re
import uuid
from importlib.resources import files

from ..model import Book, Made
from .layout import Layout
from .writer import compress_once, objects, pages, ref, write_pdf

VARIANT = "pdf/x-4"


def press_pdf(book: Book, layout: Layout) -> Made:
    """The PDF for a print shop: PDF/X-4, bleed and crop marks, fonts embedded whole."""
    def finish(document, pdf):
        _finish(document, pdf, book)

    return write_pdf(book, layout, VARIANT, press=True, finisher=finish, full_fonts=True)


def _finish(document, pdf, book: Book) -> None:
    import pydyf

    found = objects(pdf)
    for page in pages(pdf):
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
    for page in pages(pdf):
        resources = found[ref(page["Resources"])]
        colour_spaces = found[ref(resources["ColorSpace"])]
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
    metadata = found[ref(pdf.catalog["Metadata"])]
    metadata.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", f"xmp.did:{document_id}".encode(),
                              part if isinstance(part, bytes) else str(part).encode())
                       for part in metadata.stream]
    compress_once(pdf)
