"""Pages -> pages a unit at a time: the front matter, each chapter and the colophon laid out
on their own, from the page number and side each begins on, and joined into one document.

A layout unit is what the print template marks off with ``<!-- bindery:unit -->`` (Bindery's
marks each chapter and the colophon). A unit opens on a new page, so nothing flows across a
mark: laid out alone from the right first page, a unit gives the pages one pass over the whole
book gives, and the joined document writes the same bytes (``tests/test_units.py``). What
crosses units is given to each:

- its first page number (``@page :first { counter-reset: page N }``) and side (the root's
  ``break-before``). When the unit asks to open on the other side, it is laid out from the
  next page and a blank page goes first, as one pass makes it;
- the page numbers of anchors in other units, for ``target-counter()`` (the contents page,
  "see page 42"): WeasyPrint's target collector is given them (the last build's numbers, 0
  the first time), and a unit is laid out again when a number it printed has moved.

Each unit laid out is kept for the next build in this process (``watch``, ``serve``), keyed by
its HTML (first page number and side included) and checked against the files its layout read
and the numbers it printed: after an edit, only the units whose text changed, or which begin
on another page, are laid out again.

Stylesheets that carry state from one unit to the next (``counter-increment``,
``counter-set``, ``target-text()``, ``@page :first``, ``@page :nth(N)``) make units unsafe:
such a book is laid out in one pass (``layout.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..model import Book, PageStart
from .layout import page_box, weasyprint_log
from .pagemap import page_starts

MARK = "<!-- bindery:unit -->"

_UNSAFE = re.compile(r"counter-(?:increment|set)\s*:|target-text\s*\("
                     r"|@page[^{;]*:(?:first|nth\((?![^)]*\bof\b))", re.IGNORECASE)
_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
#: What a unit's key leaves out: the title and meta tags, which change nothing on a page
#: (the build's date is one); the joined document takes its metadata from this build's.
_METADATA = re.compile(r"<title>[^<]*</title>|<meta\b[^>]*>", re.IGNORECASE)
#: How many times the units are laid out before the page numbers they print settle.
_ROUNDS = 4


@dataclass(frozen=True)
class Unit:
    """One unit laid out alone, from the page its key names."""

    document: Any                      # WeasyPrint's Document
    html: Any                          # WeasyPrint's HTML (its elements, for the page map)
    first_break: str                   # the first element's break-before
    anchors: dict[str, int]            # anchor -> index of its page in the unit
    starts: tuple[PageStart, ...]      # the page map, numbered from 1 in the unit
    printed: dict[str, int]            # another unit's anchor -> the page number it printed
    read: dict[str, str]               # url -> digest of each file the layout read
    warnings: tuple                    # what WeasyPrint said
    profiles: dict[str, bytes]         # its colour profiles' bytes, as laid out


@dataclass(frozen=True)
class Joined:
    """The units laid out and joined: the book's document, its page map and the units."""

    document: Any
    starts: tuple[PageStart, ...]
    warnings: tuple
    units: tuple[Unit, ...]


#: The units the last build in this process laid out (key -> Unit), and the anchors' page
#: numbers it found: the next build starts from them.
_KEPT: dict[str, Unit] = {}
_NUMBERS: dict[str, int] = {}
#: A unit's text's digest -> its first element's break-before, from the last build: which of
#: its two possible first pages to try first.
_BREAKS: dict[str, str] = {}


def split(html: str) -> tuple[str, str, list[str]] | None:
    """The print document as the text before and after the units, and the units' texts;
    None when it has fewer than two units or its styles carry state across them."""
    body = _BODY.search(html)
    end = html.rfind("</body>")
    if body is None or end < body.end() or "</head>" not in html[:body.start()]:
        return None
    pieces = html[body.end():end].split(MARK)
    if len(pieces) < 2:
        return None
    return html[:body.end()], html[end:], pieces


def unsafe(html_head: str, stylesheets: list[str]) -> bool:
    """Whether the document's styles carry state from one unit to the next."""
    return any(_UNSAFE.search(text) for text in (html_head, *stylesheets))


def lay_out_units(book: Book, parts: tuple[str, str, list[str]], base_url: str,
                  fetcher_for: Callable) -> Joined | None:
    """Lay the units out, each from the page it begins on, until the page numbers they
    print are those their targets are on; None when they do not settle. ``fetcher_for()``
    makes a URL fetcher confined to the book."""
    head, tail, pieces = parts
    rtl = book.direction == "rtl"
    render = _renderer(book, base_url)
    owner = {name: index for index, piece in enumerate(pieces) for name in _ID.findall(piece)}
    numbers = dict(_NUMBERS)
    memo: dict[str, str] = {}
    breaks: dict[str, str] = {}
    for _ in range(_ROUNDS):
        laid, start, kept, hint = [], 1, {}, "auto"
        for index, piece in enumerate(pieces):
            def outside(name: str, index=index) -> int | None:
                return numbers.get(name, 0) if owner.get(name, index) != index else None
            hint = breaks.get(_digest_of(piece), _BREAKS.get(_digest_of(piece), hint))
            unit, blank, key = _unit(head, piece, tail, start, rtl, hint, outside, render,
                                     fetcher_for, memo)
            kept[key] = unit
            hint = breaks[_digest_of(piece)] = unit.first_break
            laid.append((start, blank, unit))
            start += blank + len(unit.document.pages)
        found = {name: first + blank + page for first, blank, unit in laid
                 for name, page in unit.anchors.items()}
        settled = all(found.get(name, 0) == number
                      for _, _, unit in laid for name, number in unit.printed.items())
        numbers.update(found)
        _KEPT.clear()
        _KEPT.update(kept)
        if settled:
            _NUMBERS.clear()
            _NUMBERS.update(numbers)
            _BREAKS.clear()
            _BREAKS.update(breaks)
            return _join(laid, _metadata(head, tail, render.base_url))
    return None


def _metadata(head: str, tail: str, base_url: str):
    """The document's metadata (title, authors, dates...) as WeasyPrint reads it from this
    build's head: a unit kept from the last build carries the last build's."""
    import weasyprint
    from weasyprint.document import DocumentMetadata
    from weasyprint.html import get_html_metadata

    return DocumentMetadata(**get_html_metadata(weasyprint.HTML(string=head + tail,
                                                                base_url=base_url)))


def _unit(head: str, piece: str, tail: str, start: int, rtl: bool, hint: str, outside,
          render, fetcher_for, memo) -> tuple[Unit, int, str]:
    """The unit that begins on page ``start``, whether a blank page goes before it, and its
    key. It is laid out from ``start`` or, when it asks to open on the other side, from the
    next page; ``hint`` (its break-before last time) says which to try first."""
    side = _side(start, rtl)
    first_try = 1 if _opens_on(hint, rtl) not in (None, side) else 0
    for blank in (first_try, 1 - first_try):
        unit, key = _laid(head, piece, tail, start + blank, rtl, outside, render,
                          fetcher_for, memo)
        wanted = _opens_on(unit.first_break, rtl)
        if (wanted is not None and wanted != side) == bool(blank):
            return unit, blank, key
    raise AssertionError("a unit opens on neither side")


def _laid(head, piece, tail, first, rtl, outside, render, fetcher_for, memo):
    """The unit laid out from page ``first``: kept from the last build when its HTML, the
    files it read and the numbers it printed are all the same, else laid out now."""
    style = f"@page :first {{ counter-reset: page {first} }}"
    if _side(first, rtl) != _side(1, rtl):
        style += f" html {{ break-before: {_side(first, rtl)} }}"
    at = head.rfind("</head>")
    html = f"{head[:at]}<style>{style}</style>\n{head[at:]}{piece}{tail}"
    # Relative paths are read from the book's folder: another folder, another unit.
    key = _digest_of(f"{render.base_url}\n{_METADATA.sub('', html)}")
    kept = _KEPT.get(key)
    if kept is not None and all(outside(name) == number
                                for name, number in kept.printed.items()):
        if all(memo.setdefault(url, _digest(fetcher_for(), url)) == digest
               for url, digest in kept.read.items()):
            return kept, key
    fetcher = fetcher_for()
    printed: dict[str, int] = {}
    html_object, document, warnings = render(html, fetcher, _collector(outside, printed))
    boxes = [page_box(page) for page in document.pages]
    elements = {element.get("id"): element for element in html_object.etree_element.iter()
                if element.get("id") is not None}
    anchors: dict[str, int] = {}        # a block split across pages: its first page
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    memo.update(fetcher.read)
    return Unit(document, html_object, _first_break(boxes[0]) if boxes else "auto", anchors,
                tuple(page_starts(boxes, elements)), printed, dict(fetcher.read),
                tuple(warnings), {name: profile.content for name, profile
                                  in document.color_profiles.items()}), key


def _renderer(book: Book, base_url: str):
    """Lays out one unit's HTML with a fetcher and a target collector; WeasyPrint's
    ``Document`` makes its own collector, so the one given takes its place meanwhile (the
    one reach into WeasyPrint's internals for units, checked against WeasyPrint 70.0)."""
    import weasyprint
    import weasyprint.document

    def render(html: str, fetcher, collector):
        with weasyprint_log(book) as warnings:
            saved = weasyprint.document.TargetCollector
            weasyprint.document.TargetCollector = collector
            try:
                html_object = weasyprint.HTML(string=html, base_url=base_url,
                                              url_fetcher=fetcher)
                document = html_object.render()
            finally:
                weasyprint.document.TargetCollector = saved
        return html_object, document, warnings

    render.base_url = base_url
    return render


def _digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(fetcher, url: str) -> str | None:
    from weasyprint.urls import FatalURLFetchingError

    try:
        return hashlib.sha256(fetcher.file(url)[1]).hexdigest()
    except FatalURLFetchingError:        # refused or gone: the unit is laid out again
        return None


def _join(laid, metadata) -> Joined:
    """One document of every unit's pages, blank pages where a unit opens a page late."""
    from weasyprint.document import Page

    all_pages, starts, warnings, said = [], [], [], set()
    for first, blank, unit in laid:
        if blank:
            all_pages.append(Page(page_box(unit.document.pages[0]).copy_with_children([])))
        all_pages.extend(unit.document.pages)
        starts.extend(dataclasses.replace(start, number=start.number + first - 1 + blank)
                      for start in unit.starts)
        for warning in unit.warnings:
            if warning.message not in said:
                said.add(warning.message)
                warnings.append(warning)
    units = tuple(unit for _, _, unit in laid)
    document = units[0].document.copy(all_pages)
    document.metadata = metadata
    # Writing a PDF changes a colour profile's Pillow object (its bytes grow): a unit kept
    # from the last build would carry that into this one. Each joined document gets
    # profiles made again from the bytes the unit's layout read.
    document.color_profiles = {name: _fresh(profile, units[0].profiles[name])
                               for name, profile in document.color_profiles.items()}
    return Joined(document, tuple(starts), tuple(warnings), units)


def _fresh(profile, content: bytes):
    import io

    from weasyprint.css import ColorProfile

    return ColorProfile(io.BytesIO(content), profile.src, profile.rendering_intent,
                        profile.components)


def _side(number: int, rtl: bool) -> str:
    """The side page ``number`` is on: the first page is a right-hand page, or a left-hand
    one in a right-to-left book (WeasyPrint's rule)."""
    first, other = ("left", "right") if rtl else ("right", "left")
    return first if number % 2 else other


def _opens_on(value: str, rtl: bool) -> str | None:
    """The side a ``break-before`` value asks a unit to open on, if any."""
    if value in ("left", "right"):
        return value
    if value in ("recto", "verso"):
        return "right" if (value == "recto") != rtl else "left"
    return None


def _first_break(page) -> str:
    """The ``break-before`` of the body's first child on a laid-out page."""
    todo = [page]
    while todo:
        box = todo.pop(0)
        if getattr(box, "element_tag", None) == "body":
            children = [child for child in box.children if getattr(child, "style", None)]
            return children[0].style["break_before"] if children else "auto"
        todo.extend(getattr(box, "children", ()))
    return "auto"


class _Target:
    """Stands for an anchor in another unit: its page is all ``target-counter()`` reads."""

    def __init__(self, number: int):
        self.cached_counter_values = {"page": [number]}


def _collector(outside: Callable[[str], int | None], printed: dict[str, int]):
    """A WeasyPrint target collector that knows the anchors of the other units."""
    from weasyprint.css.targets import TargetCollector, TargetLookupItem

    class Items(dict):
        def get(self, name, default=None):
            if name in self:
                return self[name]
            number = outside(name) if isinstance(name, str) else None
            if number is None:
                return default
            item = TargetLookupItem("up-to-date")
            item.target_box = _Target(number)
            printed[name] = number
            self[name] = item
            return item

    class Collector(TargetCollector):
        def __init__(self):
            super().__init__()
            self.target_lookup_items = Items()

    return Collector
