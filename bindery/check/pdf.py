"""A PDF -> what is wrong with it for a reader or a printer: pages, fonts, title."""

from __future__ import annotations

from pathlib import Path


def pdf_fonts(reader) -> dict[str, bool]:
    """Every font used on any page (Type 3 aside) -> whether it is embedded."""
    fonts: dict[str, bool] = {}

    def visit(resources):
        resources = resources.get_object() if resources is not None else None
        if not resources:
            return
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            if font.get("/Subtype") == "/Type3":
                continue
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2",
                                                          "/FontFile3"))
            fonts[str(font.get("/BaseFont"))] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return fonts


def check_pdf(path: Path) -> list[str]:
    """Problems with a PDF: unreadable, no pages, a font not embedded, no title."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = reader.pages
    except (PdfReadError, OSError, ValueError) as error:
        return [f"not a readable PDF: {error}"]
    problems = []
    if not len(pages):
        problems.append("the PDF has no pages")
    for name, embedded in pdf_fonts(reader).items():
        if not embedded:
            problems.append(f"font {name} is not embedded")
    if not (reader.metadata and reader.metadata.title):
        problems.append("the PDF has no title")
    return problems
