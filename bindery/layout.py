"""Pages -> Layout: WeasyPrint lays the print document out once, for every PDF and the page map.

WeasyPrint is imported here, and only when something needs a layout. Its log is captured:
warnings become the build's warnings, and a reference the sandboxed fetcher refuses stops
the build with an error naming it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import BookError, BookWarning
from .fetch import Sandbox
from .model import Book
from .pagemap import PageStart, page_starts
from .render import Pages


@dataclass(frozen=True)
class Layout:
    """The book laid out: WeasyPrint's ``Document`` and where each page begins."""

    document: Any
    starts: tuple[PageStart, ...]
    warnings: tuple[BookWarning, ...]

    @property
    def page_count(self) -> int:
        return len(self.document.pages)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def weasyprint_log(book: Book) -> Iterator[list[BookWarning]]:
    """Collect what WeasyPrint logs at warning level and above as the build's warnings."""
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    propagate = logger.propagate
    logger.propagate = False
    found: list[BookWarning] = []
    try:
        yield found
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        found.extend(BookWarning(f"WeasyPrint: {record.getMessage()}", book.config)
                     for record in handler.records)


def lay_out(book: Book, pages: Pages, sandbox: Sandbox) -> Layout:
    """Lay the print document out; every PDF and the EPUB's page list come from this."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    with weasyprint_log(book) as warnings:
        try:
            html = weasyprint.HTML(string=pages.print_html, base_url=pages.print_base_url,
                                   url_fetcher=sandbox.url_fetcher())
            document = html.render()
        except FatalURLFetchingError as error:
            refusal = getattr(error, "refusal", None)
            reason = f"reference {refusal}" if refusal else str(error)
            raise BookError(f"print document: {reason}", book.config,
                            hint="books read only their own files") from None
        except RecursionError:
            raise BookError("the book nests too deep to lay out", book.config) from None
        elements = {element.get("id"): element for element in html.etree_element.iter()
                    if element.get("id") is not None}
        starts = page_starts(document.pages, elements)
    return Layout(document=document, starts=tuple(starts), warnings=tuple(warnings))
