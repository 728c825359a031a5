"""Layout -> the reading PDF: tagged PDF/UA-1 at the trim size, running heads and folios
marked as pagination artifacts, no marks and no output intent.

It is the same laid-out pages as the press PDF (one layout), every page box cut to the trim.
"""

from __future__ import annotations

from ..model import Book, Made
from .layout import Layout
from .writer import compress_once, objects, pages, ref, structure_order, write_pdf

VARIANT = "pdf/ua-1"


def reading_pdf(book: Book, layout: Layout) -> Made:
    """The PDF to read and to print at home: tagged PDF/UA-1, trim size, no marks."""
    formulas = {tex for chapter in book.chapters for tex in chapter.formulas}

    def finish(document, pdf):
        found = objects(pdf)                       # one walk of the objects, shared
        page_list = pages(pdf)
        for page in page_list:
            page["MediaBox"] = page["TrimBox"]      # the trim is the page
            page["BleedBox"] = page["TrimBox"]
        elements = [obj for obj in found.values()
                    if isinstance(obj, dict) and obj.get("Type") == "/StructElem"]
        _notes(pdf, found, elements)
        _pagination_artifacts(pdf, found, elements, page_list)
        _header_scopes(pdf, found, elements)
        _formulas(pdf, formulas, elements)
        compress_once(pdf)

    return write_pdf(book, layout, VARIANT, press=False, finisher=finish)


def _notes(pdf, found=None, elements=None) -> None:
    """Each footnote is a ``Note`` (with an ``ID``) right after its call, a ``Reference``.

    WeasyPrint puts the notes of a page in the structure tree where it lays them out, at
    the foot of the page, after the page's text; a screen reader would read them there,
    away from the sentence that calls them. The note's marker is its ``Lbl``, so the note
    is the element holding a ``Lbl`` that is not a list item; calls and notes come in the
    same order, one call per note.
    """
    import pydyf

    if elements is not None and not any(e.get("S") == "/Reference" for e in elements):
        return                                     # no footnote call, no note to move
    found = objects(pdf) if found is None else found
    order = structure_order(pdf, found)
    calls = [element for element in order if element.get("S") == "/Reference"]
    notes = []
    for element in order:
        parent = found.get(ref(element["P"])) if "P" in element else None
        if element.get("S") == "/Lbl" and parent is not None and parent.get("S") == "/Span":
            notes.append(parent)
    for number, (call, note) in enumerate(zip(calls, notes), start=1):
        note["S"] = "/Note"
        note["ID"] = pydyf.String(f"note-{number}")
        area = found[ref(note["P"])]
        area["K"] = pydyf.Array(kid for kid in area["K"] if kid != note.reference)
        holder = found[ref(call["P"])]
        kids = list(holder["K"])
        kids.insert(kids.index(call.reference) + 1, note.reference)
        holder["K"] = pydyf.Array(kids)
        note["P"] = holder.reference
        if not area["K"] and "P" in area:          # the footnote area, now empty
            above = found[ref(area["P"])]
            above["K"] = pydyf.Array(kid for kid in above["K"] if kid != area.reference)


def _formulas(pdf, formulas: set[str], elements=None) -> None:
    """A formula is tagged ``Formula`` (PDF/UA 7.7), its TeX as its alternative text.
    WeasyPrint tags the picture print draws of it as a ``Figure``; its ``Alt`` says which."""
    if not formulas:
        return
    for obj in pdf.objects if elements is None else elements:
        if (isinstance(obj, dict) and obj.get("Type") == "/StructElem"
                and obj.get("S") == "/Figure"
                and getattr(obj.get("Alt"), "string", None) in formulas):
            obj["S"] = "/Formula"


def _header_scopes(pdf, found=None, elements=None) -> None:
    """Each table header cell says what it heads (PDF/UA: ``/Scope``): the column under it
    when it is in the table's head, else its row. WeasyPrint 70 writes only ``/O /Table``."""
    import pydyf

    found = objects(pdf) if found is None else found
    for obj in pdf.objects if elements is None else elements:
        if not (isinstance(obj, dict) and obj.get("Type") == "/StructElem"
                and obj.get("S") == "/TH" and "P" in obj):
            continue
        row = found.get(ref(obj["P"]))
        group = found.get(ref(row["P"])) if row is not None and "P" in row else None
        scope = "/Column" if group is not None and group.get("S") == "/THead" else "/Row"
        attributes = obj.get("A")
        if not isinstance(attributes, dict):
            attributes = obj["A"] = pydyf.Dictionary({"O": "/Table"})
        attributes["Scope"] = scope


def _pagination_artifacts(pdf, found=None, elements=None, page_list=None) -> None:
    """Running heads and folios become pagination artifacts, outside the structure tree.

    WeasyPrint 70 tags the text of page-margin boxes with marked-content ids whose structure
    elements it leaves out of the tree (an artifact in the tree needs PDF 2.0). Here those
    sequences become ``/Artifact <</Type /Pagination>>``, as PDF/UA-1 wants for them, and
    the orphan elements are dropped.
    """
    import pydyf

    found = objects(pdf) if found is None else found
    page_list = pages(pdf) if page_list is None else page_list
    root_ref = pdf.catalog.get("StructTreeRoot")
    if root_ref is None:
        return
    root = found[ref(root_ref)]
    reachable: set[int] = set()
    todo = [ref(kid) for kid in root["K"]]
    while todo:
        number = todo.pop()
        if number in reachable:
            continue
        reachable.add(number)
        element = found[number]
        for kid in element.get("K", ()):
            if isinstance(kid, bytes) and kid.endswith(b" R"):
                todo.append(ref(kid))
    orphans = [obj for obj in (pdf.objects if elements is None else elements)
               if isinstance(obj, dict) and obj.get("Type") == "/StructElem"
               and obj.number not in reachable]
    artifacts: dict[int, set[int]] = {}      # page object number -> MCIDs
    for orphan in orphans:
        # Left in the file, unreferenced: marking a pydyf object free breaks the numbering
        # of its compressed object stream.
        for kid in orphan.get("K", ()):
            if isinstance(kid, int):
                artifacts.setdefault(ref(orphan["Pg"]), set()).add(kid)
    page_numbers = [page.number for page in page_list]
    for page in page_list:
        mcids = artifacts.get(page.number)
        if not mcids:
            continue
        stream = found[ref(page["Contents"])].stream
        for i in range(1, len(stream) - 1):
            item = stream[i]
            if (item.__class__ is not bytes and isinstance(item, dict)
                    and item.get("MCID") in mcids and stream[i + 1] == b"BDC"):
                stream[i - 1] = "/Artifact"
                stream[i] = pydyf.Dictionary({"Type": "/Pagination"})
    parent_tree = found[ref(root["ParentTree"])]
    nums = parent_tree["Nums"]
    for index in range(0, len(nums), 2):
        page_index, refs = nums[index], nums[index + 1]
        if not isinstance(refs, list) or page_index >= len(page_numbers):
            continue
        for mcid in artifacts.get(page_numbers[page_index], ()):
            if mcid < len(refs):
                refs[mcid] = b"null"
