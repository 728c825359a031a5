"""Pages -> pages a unit at a time: the front matter, each chapter and the colophon laid out
on their own, from the page number and side each begins on, and joined into one document.

A layout unit is what the print template marks off with ``<!-- bindery:unit -->`` (Bindery's
marks each chapter and the colophon). A unit opens on a new page, so nothing flows across a
mark: laid out alone from the right first page, a unit gives the pages one pass over the whole
book gives, and the joined document writes the same bytes (``tests/test_units.py``). What
crosses units is given to each:

- the page it follows: every unit but the first is laid out after a lead page, numbered and
  sided as the page before it (``@page :first { counter-reset: page N }``, the root's
  ``break-before``), and dropped afterwards. The unit's own forced break makes its first page,
  and the blank page before it when it opens on the other side, as one pass makes them
  (``:blank``, ``:left`` and named pages included);
- the named strings (``string-set``) as the units before it left them, set on the lead page;
- the page numbers of anchors in other units, for ``target-counter()`` (the contents page,
  "see page 42"): WeasyPrint's target collector is given them (the last build's numbers, 0
  the first time), and a unit is laid out again when a number it printed has moved.

Each unit laid out is kept for the next build, in this process (``watch``, ``serve``) or,
stored in the output folder, in the next (``unitstore.py``), keyed by its HTML (its lead page
included) and checked against the files its layout read and the numbers it printed: after
an edit, only the units whose text changed are laid out again. A unit that begins on
another page on the same side is numbered again instead (``renumber.py``; not a stored
unit, whose layout context is not stored), unless its text prints one of its own pages.
A long book of which nothing is kept lays its second half out in a second process
meanwhile (``ahead.py``).

What units cannot give makes a book laid out in one pass (``layout.py``): styles that carry
other state across units, or a mark inside an element (``boundaries.py``), and, found while
laying out, a unit that does not open a page (it runs on) or a footnote that runs past the
end of its unit onto a page of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..model import Book, PageStart
from .layout import fresh_profile, page_box, weasyprint_log
from .leads import lead_html, note_runs_past, runs_on, side, strings_left
from .pagemap import page_starts
from .renumber import keeping_context, renumber, unit_context
from .sheets import Sheets

_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")
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
    strings: tuple                     # the named strings as its last page leaves them
    last_page: str                     # its last page's name ('' for none)
    anchors: dict[str, int]            # anchor -> index of its page in the unit
    starts: tuple[PageStart, ...]      # the page map, numbered from 1 in the unit
    printed: dict[str, int]            # another unit's anchor -> the page number it printed
    read: dict[str, str]               # url -> digest of each file the layout read
    warnings: tuple                    # what WeasyPrint said
    profiles: dict[str, bytes]         # its colour profiles' bytes, as laid out
    first: int                         # the number of the page it was laid out from
    context: Any                       # WeasyPrint's layout context, to number it again


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
#: What the last build in another process kept (``unitstore``), until this process lays out.
_STORED: list[tuple[bytes, bytes | None]] = []


@contextmanager
def kept_aside() -> Iterator[None]:
    """Meanwhile, what is laid out is not kept for a next build (a build that asked for
    nothing to be kept), and what was kept stays."""
    kept, numbers = dict(_KEPT), dict(_NUMBERS)
    try:
        yield
    finally:
        _KEPT.clear()
        _KEPT.update(kept)
        _NUMBERS.clear()
        _NUMBERS.update(numbers)


def restore(data: tuple[bytes, bytes | None] | None, forget: bool = False) -> None:
    """Start the next layout by units from the units another process kept (``data``: the
    store's base and edits, ``unitstore.taken``), unless this process keeps units of its
    own (let go first with ``forget``: a build that is not ``watch``'s)."""
    if forget:
        from .unitstore import forget as forget_base

        _KEPT.clear()
        _NUMBERS.clear()
        forget_base()
    _STORED[:] = [data] if data is not None and not _KEPT else []


def keeps() -> bool:
    """Whether this process keeps units of a layout before (``watch``)."""
    return bool(_KEPT)


def stored(before=None) -> tuple[bytes, bool] | None:
    """The units this process keeps, after ``before``, as bytes for a next process, and
    whether they are edits to the store it read (``unitstore.stored``; None: none, or
    unwritable)."""
    from .unitstore import stored

    return stored(_KEPT, _NUMBERS, before) if _KEPT else None


def lay_out_units(book: Book, parts: tuple[str, str, list[str]], base_url: str,
                  fetcher_for: Callable, before_fork: Callable | None = None) -> Joined | None:
    """Lay the units out, each from the page it begins on, until the page numbers they
    print are those their targets are on; None when they do not settle, or when a unit
    turns out not to be one (it runs on from the last page, or a note runs past its end).
    ``fetcher_for()`` makes a URL fetcher confined to the book. With ``before_fork``, a
    long book of which nothing is kept lays its second half out in a second process
    meanwhile (``ahead.py``), which is forked after ``before_fork()``."""
    head, tail, pieces = parts
    rtl = book.direction == "rtl"
    render = _renderer(book, base_url)

    def laid_out_empty():
        """The book's document laid out empty, which parses its stylesheets and registers
        their fonts with this build's configuration, as the first unit would; its layout
        context (the one an SVG image of a unit from elsewhere is drawn with)."""
        return render(head + tail, fetcher_for(), _collector(lambda name: None, {}))[3]

    if _STORED:
        from .unitstore import taken as taken_back

        taken = taken_back(*_STORED.pop(), render.sheets.font_config, fetcher_for(),
                           laid_out_empty())
        _KEPT.update(taken[0] if taken else {})
        _NUMBERS.update(taken[1] if taken else {})
    owner = {name: index for index, piece in enumerate(pieces) for name in _ID.findall(piece)}
    numbers = dict(_NUMBERS)
    memo: dict[str, str] = {}

    def chain(first: int, start: int, carried, laid: list, kept: dict, ahead=None) -> bool:
        """Lay the units from ``first`` on out in turn, from page ``start`` (into ``laid``
        and ``kept``); False when one is not a unit. Those ``ahead`` laid out come from it."""
        for index in range(first, len(pieces)):
            if ahead is not None and index == ahead.index:
                _KEPT.update(ahead.units(start, carried, render, fetcher_for(), laid))
            def outside(name: str, index=index) -> int | None:
                return numbers.get(name, 0) if owner.get(name, index) != index else None
            unit, key = _laid(head, pieces[index], tail, start, rtl, carried, outside, render,
                              fetcher_for, memo, kept)
            if unit is None:
                return False
            kept[key] = unit
            laid.append((start, unit))
            start += len(unit.document.pages)
            carried = (unit.strings, unit.last_page)
        return True

    from .ahead import Ahead

    def first_parse() -> None:           # the stylesheets parsed (fonts registered) here
        before_fork()
        laid_out_empty()

    ahead = Ahead.start(chain, pieces, _KEPT.update, first_parse) if (
        before_fork is not None and not _KEPT) else None
    try:
        for _ in range(_ROUNDS):
            laid, kept = [], {}
            if not chain(0, 1, None, laid, kept, ahead):
                return None
            ahead = None
            found = {name: first + page for first, unit in laid
                     for name, page in unit.anchors.items()}
            settled = all(found.get(name, 0) == number
                          for _, unit in laid for name, number in unit.printed.items())
            numbers.update(found)
            _KEPT.clear()
            _KEPT.update(kept)
            if settled:
                _NUMBERS.clear()
                _NUMBERS.update(numbers)
                return _join(laid, _metadata(head, tail, render.base_url))
    finally:
        if ahead is not None:
            ahead.close()
    return None


def _metadata(head: str, tail: str, base_url: str):
    """The document's metadata (title, authors, dates...) as WeasyPrint reads it from this
    build's head: a unit kept from the last build carries the last build's."""
    import weasyprint
    from weasyprint.document import DocumentMetadata
    from weasyprint.html import get_html_metadata

    return DocumentMetadata(**get_html_metadata(weasyprint.HTML(string=head + tail,
                                                                base_url=base_url)))


def _laid(head, piece, tail, start, rtl, carried, outside, render, fetcher_for, memo, taken):
    """The unit that begins on page ``start`` and its key, or None when it is not a unit.

    Every unit but the first is laid out after a lead page, numbered ``start - 1`` and on
    that page's side and with its name, which holds an empty element setting the named
    strings (``string-set``) as the units before left them (``carried``). The unit's own
    forced break then takes it to the next page, or past a blank page when it opens on the
    other side, as one pass does; the lead page is dropped. The unit is kept from the last
    build when its HTML, the files it read and the numbers it printed are all the same,
    else laid out now; kept from another page, it is numbered again (``renumber.py``) when
    that gives its pages (``taken`` holds the units this round has placed already)."""
    first = start - 1 if carried is not None else start
    turn = f" html {{ break-before: {side(first, rtl)} }}" if (
        side(first, rtl) != side(1, rtl)) else ""
    at = head.rfind("</head>")
    lead = "" if carried is None else lead_html(*carried)

    def html_from(number) -> str:
        style = f"@page :first {{ counter-reset: page {number} }}{turn}"
        return f"{head[:at]}<style>{style}</style>\n{head[at:]}{lead}{piece}{tail}"

    html = html_from(first)
    # Relative paths are read from the book's folder: another folder, another unit. The
    # key leaves the first page's number out, not its side.
    key = _digest_of(f"{render.base_url}\n{_METADATA.sub('', html_from('N'))}")
    kept = _KEPT.get(key)
    if kept is not None and key not in taken and all(
            outside(name) == number for name, number in kept.printed.items()) and all(
            _read_now(url, fetcher_for, memo) == digest for url, digest in kept.read.items()):
        if kept.first == first:
            return kept, key
        if renumber(kept.document, kept.context, int(carried is not None), first - kept.first):
            _KEPT[key] = dataclasses.replace(kept, first=first)
            return _KEPT[key], key
    fetcher = fetcher_for()
    printed: dict[str, int] = {}
    html_object, document, warnings, context = render(html, fetcher,
                                                      _collector(outside, printed))
    boxes = [page_box(page) for page in document.pages]
    if carried is not None:
        if len(boxes) < 2 or runs_on(boxes[0]):
            return None, key
        ended = strings_left(boxes)              # the lead page's strings, then the unit's
        del document.pages[0]
        boxes = boxes[1:]
    else:
        ended = strings_left(boxes)
    if note_runs_past(boxes):
        return None, key
    elements = {element.get("id"): element for element in html_object.etree_element.iter()
                if element.get("id") is not None}
    anchors: dict[str, int] = {}        # a block split across pages: its first page
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    memo.update(fetcher.read)
    last_page = boxes[-1].page_type.name if boxes else ""
    return Unit(document, html_object, ended, last_page, anchors,
                tuple(page_starts(boxes, elements)), printed, dict(fetcher.read),
                tuple(warnings), {name: profile.content for name, profile
                                  in document.color_profiles.items()}, first, context), key


def _renderer(book: Book, base_url: str):
    """Lays out one unit's HTML with a fetcher and a target collector; WeasyPrint's
    ``Document`` makes its own collector, so the one given takes its place meanwhile (the
    one reach into WeasyPrint's internals for units, checked against WeasyPrint 70.0). The
    units of one build share their stylesheets, parsed once (``sheets.py``)."""
    import weasyprint
    import weasyprint.document

    sheets = Sheets()

    def render(html: str, fetcher, collector):
        with weasyprint_log(book) as warnings, keeping_context() as contexts, \
                sheets.shared():
            saved = weasyprint.document.TargetCollector
            weasyprint.document.TargetCollector = collector
            try:
                html_object = weasyprint.HTML(string=html, base_url=base_url,
                                              url_fetcher=fetcher)
                document = html_object.render(font_config=sheets.font_config)
            finally:
                weasyprint.document.TargetCollector = saved
        return html_object, document, warnings, unit_context(contexts)

    render.base_url, render.sheets = base_url, sheets
    return render


def _digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_now(url: str, fetcher_for: Callable, memo: dict) -> str | None:
    """The digest of what ``url`` gives now: read once a build, however many units read it
    (every unit reads the fonts)."""
    if url not in memo:
        memo[url] = _digest(fetcher_for(), url)
    return memo[url]


def _digest(fetcher, url: str) -> str | None:
    from weasyprint.urls import FatalURLFetchingError

    try:
        return hashlib.sha256(fetcher.file(url)[1]).hexdigest()
    except FatalURLFetchingError:        # refused or gone: the unit is laid out again
        return None


def _join(laid, metadata) -> Joined:
    """One document of every unit's pages."""
    all_pages, starts, warnings, said = [], [], [], set()
    for first, unit in laid:
        all_pages.extend(unit.document.pages)
        starts.extend(dataclasses.replace(start, number=start.number + first - 1)
                      for start in unit.starts)
        for warning in unit.warnings:
            if warning.message not in said:
                said.add(warning.message)
                warnings.append(warning)
    units = tuple(unit for _, unit in laid)
    document = units[0].document.copy(all_pages)
    document.metadata = metadata
    # Writing a PDF changes a colour profile's Pillow object (its bytes grow): a unit kept
    # from the last build would carry that into this one. Each joined document gets
    # profiles made again from the bytes the unit's layout read.
    document.color_profiles = {name: fresh_profile(profile, units[0].profiles[name])
                               for name, profile in document.color_profiles.items()}
    return Joined(document, tuple(starts), tuple(warnings), units)


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
