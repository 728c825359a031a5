"""Layout -> PDF bytes, for any variant: the laid-out pages painted for one PDF, and the
helpers that finish WeasyPrint's PDF object tree (pydyf objects) before it is serialised."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from ..model import Book, Made
from .layout import Layout, fresh_profile, page_box, weasyprint_log
from .keptpages import kept_pages
from .textruns import fast_text_runs


def write_pdf(book: Book, layout: Layout, variant: str, press: bool,
              finisher: Callable, **options) -> Made:
    """The laid-out pages as a PDF of ``variant``; ``press`` keeps the marks and the output
    intent, ``finisher`` finishes the object tree."""
    keep = bool(layout.units)
    # What is replaced while a PDF is written (WeasyPrint's painting of lines and pages) is
    # replaced for the whole process: one PDF at a time (threads gain nothing here).
    with _WRITING, weasyprint_log(book) as warnings, _painting(layout, press=press), \
            _note_tags(), _object_streams_at_level_6(), _plain_items_quickly(), \
            _page_references(), _svg_left_as_found(), fast_text_runs(keep=keep) as write, \
            kept_pages(write if keep else None, (press, variant),
                       layout.document.pages), _DEFLATED.kept(keep, press):
        data = layout.document.write_pdf(pdf_variant=variant, finisher=finisher, **options)
    return Made(data, tuple(warnings))


_WRITING = threading.Lock()


def _unlocked_in_child() -> None:
    """A process forked while another thread wrote starts with the lock free."""
    global _WRITING
    _WRITING = threading.Lock()


os.register_at_fork(after_in_child=_unlocked_in_child)


@contextmanager
def _object_streams_at_level_6() -> Iterator[None]:
    """pydyf deflates the object streams and the cross-reference stream at level 9: for the
    long book's reading PDF (1 MB of objects, a 66 KB cross-reference stream) that took
    0.17 s of each write, the cross-reference stream alone 0.07 s. Level 6 takes 0.03 s,
    for a file 0.9 % larger. pydyf reaches zlib through its module's name (checked against
    pydyf 0.13); the other streams are deflated once, before, and inline images as pydyf
    does.
    """
    import types
    import zlib

    import pydyf

    pydyf.zlib = types.SimpleNamespace(compress=zlib.compress,
                                       compressobj=lambda level=9: zlib.compressobj(6))
    try:
        yield
    finally:
        pydyf.zlib = zlib


@contextmanager
def _plain_items_quickly() -> Iterator[None]:
    """pydyf turns each value of each object into bytes through ``_to_bytes``, which asks
    ``isinstance`` up to three times: a tagged book's structure tree makes that hundreds of
    thousands of calls (the Rust book's chapters 5 to 10, 220 pages with code: 656,000 for
    the reading PDF). Meanwhile bytes, names and numbers take the short way, to the bytes
    pydyf gives them, and the rest pydyf's own (checked against pydyf 0.13)."""
    import pydyf

    made = pydyf._to_bytes

    def to_bytes(item):
        kind = item.__class__
        if kind is bytes:
            return item
        if kind is str:
            return item.encode("ascii")
        if kind is int:
            return str(item).encode("ascii")
        return made(item)

    pydyf._to_bytes = to_bytes
    try:
        yield
    finally:
        pydyf._to_bytes = made


@contextmanager
def _page_references() -> Iterator[None]:
    """pydyf's ``PDF.page_references`` builds a tuple of every page's reference each time
    it is read, and WeasyPrint 70's tagging reads it once per structure element: writing
    a tagged book took time in the pages times the elements. Here the tuple is kept while a
    PDF is written, and made again when a page is added (checked against pydyf 0.13)."""
    import pydyf

    made = pydyf.PDF.page_references

    def page_references(pdf):
        kids = pdf.pages["Kids"]
        kept = pdf.__dict__.get("_bindery_page_references")
        if kept is None or kept[0] is not kids or kept[1] != len(kids):
            kept = (kids, len(kids), made.fget(pdf))
            pdf.__dict__["_bindery_page_references"] = kept
        return kept[2]

    pydyf.PDF.page_references = property(page_references)
    try:
        yield
    finally:
        pydyf.PDF.page_references = made


@contextmanager
def _svg_left_as_found() -> Iterator[None]:
    """Each SVG drawn as it was parsed, however often the layout is written.

    WeasyPrint 70 draws a ``<use>`` of a ``<symbol>`` by renaming the symbol's element
    ``svg`` in the parsed tree, and leaves it so: the next PDF written from the same layout
    then drew every symbol a second time, where it is defined (each formula's glyphs, as
    ziamath writes them). ``watch`` writes a kept layout again after each edit, and the
    reading and press PDFs may be written from one layout: here each SVG's element names
    are put back once it is drawn.
    """
    from weasyprint.svg import SVG

    draw = SVG.draw

    def draw_and_restore(svg, *args, **kwargs):
        names = [(element, element.tag) for element in svg.tree._etree_node.iter()]
        try:
            return draw(svg, *args, **kwargs)
        finally:
            for element, name in names:
                element.tag = name

    SVG.draw = draw_and_restore
    try:
        yield
    finally:
        SVG.draw = draw


@contextmanager
def _note_tags() -> Iterator[None]:
    """Footnote calls and markers tagged for what they are.

    WeasyPrint 70 tags both pseudo-elements of a footnote (``::footnote-call`` in the text,
    ``::footnote-marker`` before the note) ``NonStruct``; here the call is a ``Reference``
    and the marker a ``Lbl``, so that the reading PDF's finisher can find each note and put
    it after its call (``reading.py``). WeasyPrint's private ``_get_pdf_tag`` is reached
    only here (checked against WeasyPrint 70.0).
    """
    from weasyprint.pdf import tags

    tag_of = tags._get_pdf_tag
    pseudo = {"footnote-call": "Reference", "footnote-marker": "Lbl"}

    def tag(element_tag):
        name = (element_tag or "").partition("::")[2]
        return pseudo.get(name) or tag_of(element_tag)

    tags._get_pdf_tag = tag
    try:
        yield
    finally:
        tags._get_pdf_tag = tag_of


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
        box = page_box(page)
        layers = box.background.layers if box.background is not None else None
        saved.append((box, box.style["marks"], list(layers) if layers is not None else None))
        if not press:
            box.style["marks"] = ()
    profiles = dict(document.color_profiles)
    document.color_profiles.clear()
    if press:      # drawn with copies: the layout's own profiles keep the bytes they had
        document.color_profiles.update({name: fresh_profile(profile, profile.content)
                                        for name, profile in profiles.items()})
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

def objects(pdf) -> dict[int, object]:
    return {obj.number: obj for obj in pdf.objects if getattr(obj, "number", None)}


def ref(reference: bytes) -> int:
    """The object number of a pydyf reference such as b'12 0 R'."""
    return int(reference.split()[0])


def structure_order(pdf, found=None) -> list:
    """The structure elements in the order of the structure tree (the reading order)."""
    found = objects(pdf) if found is None else found
    root_ref = pdf.catalog.get("StructTreeRoot")
    if root_ref is None:
        return []
    order, todo = [], [ref(kid) for kid in reversed(found[ref(root_ref)]["K"])]
    while todo:
        element = found[todo.pop()]
        order.append(element)
        todo.extend(ref(kid) for kid in reversed(element.get("K", ()))
                    if isinstance(kid, bytes) and kid.endswith(b" R"))
    return order


def pages(pdf) -> list:
    return [obj for obj in pdf.objects
            if isinstance(obj, dict) and obj.get("Type") == "/Page"]


def compress_once(pdf) -> None:
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
            raw = b"\n".join([item if item.__class__ is bytes else _to_bytes(item)
                              for item in obj.stream])
            deflated = _DEFLATED.last.get(raw)
            if deflated is None:
                compressor = zlib.compressobj(level=6)
                deflated = compressor.compress(raw) + compressor.flush()
            if _DEFLATED.now is not None:
                _DEFLATED.now[raw] = deflated
            obj.stream = [deflated]
            obj.extra["Filter"] = "/FlateDecode"
            obj.compress = False


class _Deflated:
    """While a layout kept from the last build is written again (``watch``), the streams
    the last such PDF of its kind held, by their bytes, deflated: a page of a kept unit, a
    font subset with the same glyphs, is not compressed again (the long book's reading PDF:
    0.29 -> 0.11 s). Only the last PDF's are held, so the memory is that of one PDF's
    streams (7 MB for 308 pages). The press PDF is written in a second process, whose
    memory goes with it: this serves the press only when a build makes it here."""

    def __init__(self):
        self.written: dict[bool, dict[bytes, bytes]] = {}     # by kind: press or not
        self.last: dict[bytes, bytes] = {}                    # while a PDF is written
        self.now: dict[bytes, bytes] | None = None

    @contextmanager
    def kept(self, keep: bool, press: bool) -> Iterator[None]:
        if not keep:
            yield
            return
        self.last, self.now = self.written.get(press, {}), {}
        try:
            yield
            self.written[press] = self.now
        finally:
            self.last, self.now = {}, None


_DEFLATED = _Deflated()


def _to_bytes(item) -> bytes:
    """A content-stream item as pydyf writes it: pydyf's private ``_to_bytes``, reached
    only here (checked against pydyf 0.13)."""
    import pydyf

    return pydyf._to_bytes(item)
