"""Pages -> Layout: WeasyPrint lays the print document out once, for every PDF and the page map.

WeasyPrint is imported here, and only when something needs a layout. Its log is captured:
warnings become the build's warnings, and a reference the sandboxed fetcher refuses stops
the build with an error naming it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

from ..errors import BookError, BookWarning
from ..model import Book, PageStart
from ..render import Pages
from ..resources import STYLES
from ..sandbox import Sandbox
from .footnotes import lost_footnotes
from .glyphs import coverage_warnings
from .pagemap import page_starts


@dataclass(frozen=True)
class Layout:
    """The book laid out: WeasyPrint's ``Document`` and where each page begins."""

    document: Any
    starts: tuple[PageStart, ...]
    warnings: tuple[BookWarning, ...]
    units: tuple = ()           # laid out a unit at a time: theirs (they own the pages)
    read: tuple = ()            # (url, sha256) of each file the layout read

    @property
    def page_count(self) -> int:
        return len(self.document.pages)


def page_box(page):
    """A laid-out page's box tree. WeasyPrint keeps it private (``Page._page_box``, checked
    against WeasyPrint 70.0); this is the one place that reaches it."""
    return page._page_box


class Collect(logging.Handler):
    """The log records made at warning level and above while it is attached, in order."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_AT = re.compile(r"\s+at (\d+):(\d+)")
#: WeasyPrint says this once per character no font has; ``glyphs`` says it once a chapter.
_NOTDEF = ".notdef glyph rendered"


@contextmanager
def weasyprint_log(book: Book, source: Path | None = None) -> Iterator[list[BookWarning]]:
    """Collect what WeasyPrint logs at warning level and above as the build's warnings,
    naming ``source`` (and the line and column WeasyPrint gives) when it is known."""
    logger = logging.getLogger("weasyprint")
    handler = Collect()
    logger.addHandler(handler)
    propagate = logger.propagate
    logger.propagate = False
    found: list[BookWarning] = []
    try:
        yield found
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        for record in handler.records:
            message = record.getMessage()
            if _NOTDEF in message:
                continue          # said once a chapter, with the line: glyphs.py
            place = _AT.search(message) if source is not None else None
            if place:
                found.append(BookWarning(f"WeasyPrint: {_AT.sub('', message, count=1)}",
                                         source, int(place[1]), int(place[2])))
            else:
                found.append(BookWarning(f"WeasyPrint: {message}", source or book.config))


def isolate_fonts() -> None:
    """Point the layout engine's font lookup (fontconfig) at Bindery's own configuration,
    which searches no folder of the machine: only the fonts Bindery ships and those the
    book's stylesheets name are used. Done before WeasyPrint first reads its fonts."""
    os.environ["FONTCONFIG_FILE"] = str(STYLES / "fonts.conf")


#: The libraries WeasyPrint 70 cannot do without, by their Linux sonames (``text/ffi.py``).
_SONAMES = ("libgobject-2.0.so.0", "libpango-1.0.so.0", "libharfbuzz.so.0",
            "libfontconfig.so.1", "libpangoft2-1.0.so.0")
#: One import at a time: the search is left out for the import that is running.
_IMPORTING = threading.Lock()


def import_weasyprint() -> None:
    """Import WeasyPrint, its fonts isolated first, without searching for its libraries.

    WeasyPrint tries six names for each library, and cffi hands each name that does not
    open to ``ctypes.util.find_library``, which on Linux runs ldconfig, gcc and ld: 22
    searches, 0.25 s of a 0.8 s import here, in every build. Where every library it needs
    opens by its soname (which is how the search's answer is opened too), the search is
    left out while WeasyPrint imports; elsewhere WeasyPrint imports as it always does. Its
    optional libraries (HarfBuzz's subsetter and painter) open by their sonames or not at
    all: HarfBuzz has only ever had ``.so.0``, which is the name WeasyPrint tries."""
    isolate_fonts()
    with _IMPORTING:
        if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
            import weasyprint  # noqa: F401
            return
        import ctypes
        import ctypes.util

        try:
            for soname in _SONAMES:
                ctypes.CDLL(soname)
        except OSError:
            import weasyprint  # noqa: F401
            return
        search = ctypes.util.find_library
        ctypes.util.find_library = lambda name: None
        try:
            import weasyprint  # noqa: F401, F811
        finally:
            ctypes.util.find_library = search


def lay_out(book: Book, pages: Pages, sandbox: Sandbox, units: bool = False,
            before_fork=None) -> Layout:
    """Lay the print document out; every PDF and the EPUB's page list come from this.

    With ``units``, a unit at a time (``units.py``) when the document is marked into units
    and its styles allow it; else in one pass. Both give the same pages; units cost more
    the first time (each is parsed and styled on its own, after a lead page) and much less
    when most are kept from the last build, in this process or its store (``units.py``).
    With ``before_fork`` (called before a second process is forked), a long book's second
    half is laid out meanwhile in a second process (``ahead.py``)."""
    import_weasyprint()
    from . import units as units_module

    css_warnings = _stylesheet_warnings(book, pages, sandbox)
    laid = _by_units(book, pages, sandbox, before_fork) if units else None
    if laid is None:
        laid = _in_one_pass(book, pages, sandbox)
        if laid.lost and not units:
            # WeasyPrint's one pass can leave footnotes off every page where, a unit at a
            # time, it prints them (a page or two late at worst, which the proof finds).
            # That layout is taken when it loses fewer; nothing of it is kept for a next
            # build, which this one does not ask for.
            with units_module.kept_aside():
                again = _by_units(book, pages, sandbox)
            if again is not None and len(again.lost) < len(laid.lost):
                laid = again._replace(units=())
    document, starts, warnings, kept, lost, read = laid
    blanks = padding(len(document.pages), book.print.binding)
    if blanks:
        starts = _insert_blanks(document, starts, blanks)
    said = {warning.message for warning in css_warnings}
    warnings = css_warnings + coverage_warnings(book, sandbox) + [
        w for w in warnings if _AT.sub("", w.message, count=1) not in said] + lost
    return Layout(document=document, starts=tuple(starts), warnings=tuple(warnings),
                  units=kept, read=read)


class _Laid(NamedTuple):
    document: Any
    starts: list[PageStart]
    warnings: list
    units: tuple            # the units, to be kept for the next build ('watch')
    lost: list              # a warning for each footnote left off every page
    read: tuple             # (url, sha256) of each file read, kept units' included


def _stylesheet_warnings(book: Book, pages: Pages, sandbox: Sandbox) -> list[BookWarning]:
    """Each stylesheet read once on its own first, so that what WeasyPrint says about a
    declaration it ignores names the file, the line and the column."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    from .fetcher import url_fetcher

    fetcher = url_fetcher(sandbox)
    found_all: list[BookWarning] = []
    for path in pages.print_stylesheets:
        with weasyprint_log(book, path) as found:
            try:
                weasyprint.CSS(filename=str(path.resolve()), url_fetcher=fetcher)
            except FatalURLFetchingError as error:
                raise _refused(error, sandbox, path) from None
        found_all.extend(found)
    return found_all


def _by_units(book: Book, pages: Pages, sandbox: Sandbox, before_fork=None) -> _Laid | None:
    """The book laid out a unit at a time; None when it is not marked into units, its
    styles do not allow it, or a unit turns out not to be one."""
    from . import boundaries, units as units_module
    from .fetcher import url_fetcher

    parts = boundaries.split(pages.print_html)
    if parts is None or boundaries.unsafe(pages.print_html, list(pages.print_stylesheets)):
        return None
    with weasyprint_log(book) as warnings, _layout_errors(book, pages, sandbox):
        joined = units_module.lay_out_units(book, parts, pages.print_base_url,
                                            lambda: url_fetcher(sandbox), before_fork)
    if joined is None:
        return None
    read = {pair for unit in joined.units for pair in unit.read.items()}
    return _Laid(joined.document, list(joined.starts), list(joined.warnings), joined.units,
                 _lost(book, pages, joined.document), tuple(sorted(read)))


def _in_one_pass(book: Book, pages: Pages, sandbox: Sandbox) -> _Laid:
    import weasyprint

    from .fetcher import url_fetcher

    fetcher = url_fetcher(sandbox)
    with weasyprint_log(book) as warnings, _layout_errors(book, pages, sandbox):
        html = weasyprint.HTML(string=pages.print_html, base_url=pages.print_base_url,
                               url_fetcher=fetcher)
        document = html.render()
    elements = {element.get("id"): element for element in html.etree_element.iter()
                if element.get("id") is not None}
    starts = page_starts([page_box(page) for page in document.pages], elements)
    return _Laid(document, starts, warnings, (), _lost(book, pages, document),
                 tuple(sorted(fetcher.read.items())))


@contextmanager
def _layout_errors(book: Book, pages: Pages, sandbox: Sandbox) -> Iterator[None]:
    """A reference the fetcher refused, or a book nested too deep, as a BookError; and
    WeasyPrint failing inside its own code on a book with stylesheets of its own (70.0
    raises ``KeyError: ('none',)`` for ``::footnote-marker { display: none }``), as the
    book's error naming them, not as a defect of Bindery's."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    try:
        yield
    except FatalURLFetchingError as error:
        raise _refused(error, sandbox, None) from None
    except RecursionError:
        raise BookError("the book nests too deep to lay out", book.config) from None
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - WeasyPrint's, told where the book can act
        own = [path for path in pages.print_stylesheets
               if path.resolve().is_relative_to(sandbox.book_root.resolve())]
        if not own or not _raised_in(error, Path(weasyprint.__file__).parent):
            raise
        others = "".join(f", or in {path.name}" for path in own[1:])
        raise BookError(
            f"the layout engine (WeasyPrint {weasyprint.__version__}) failed on this book "
            f"({type(error).__name__}: {error}): a rule it cannot lay out in this "
            f"stylesheet{others} is the likeliest cause", own[0],
            hint="take out the rules added last to find it") from None


def _raised_in(error: BaseException, folder: Path) -> bool:
    """Whether ``error`` was raised by code in ``folder``."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    return trace is not None and Path(trace.tb_frame.f_code.co_filename).is_relative_to(folder)


def _lost(book: Book, pages: Pages, document) -> list[BookWarning]:
    return lost_footnotes(book, pages.print_html, [page_box(page) for page in document.pages])


def padding(count: int, binding: str) -> int:
    """How many blank pages make ``count`` pages bindable: a multiple of four for saddle
    stitching (each sheet folds into four pages), an even number for perfect binding."""
    return {"saddle": -count % 4, "perfect": count % 2}.get(binding, 0)


def _insert_blanks(document, starts: list[PageStart], blanks: int) -> list[PageStart]:
    """Blank pages go where a book puts them: before the colophon, which stays the last
    page (it has no folio and symmetric margins, so moving it changes nothing on it); never
    inside a chapter. Returns the page map with the pages from the colophon on renumbered
    (a blank page begins no block)."""
    from weasyprint.document import Page

    colophon = next((start.number - 1 for start in starts
                     if start.block_id.startswith("colophon")), len(document.pages) - 1)
    blank = page_box(document.pages[colophon]).copy_with_children([])
    for _ in range(blanks):
        document.pages.insert(colophon, Page(blank))
    return [dataclasses.replace(start, number=start.number + blanks)
            if start.number > colophon else start for start in starts]


def _refused(error, sandbox: Sandbox, path: Path | None) -> BookError:
    """A reference the fetcher refused, as an error naming the file (and line) that made it."""
    refusal = getattr(error, "refusal", None)
    if refusal is None:
        return BookError(f"a resource could not be read: {error}", path)
    url = refusal.url
    candidates = [path] if path is not None else []
    for folder in (*sandbox.style_folders, *sandbox.template_folders):
        if folder.is_dir():
            candidates += sorted(p for p in folder.rglob("*") if p.is_file()
                                 and p.suffix in (".css", ".html", ".xhtml", ".xml"))
    for candidate in candidates:
        try:
            text = candidate.read_text("utf-8", errors="replace")
        except OSError:
            continue
        index = text.find(url)
        if index != -1:
            line = text.count("\n", 0, index) + 1
            return BookError(f"reference `{url}` {refusal.reason}", candidate, line,
                             hint="books read only their own files")
    return BookError(f"print document: reference `{url}` {refusal.reason}", path,
                     hint="books read only their own files")


def fresh_profile(profile, content: bytes):
    """A colour profile made again from ``content``: writing a PDF changes a profile's
    Pillow object (its bytes grow), so a profile that was written with is not reused."""
    import io

    from weasyprint.css import ColorProfile

    return ColorProfile(io.BytesIO(content), profile.src, profile.rendering_intent,
                        profile.components)
