"""Sandbox -> WeasyPrint's URL fetcher: ``data:`` URLs and the sandbox's files, nothing else.

Symbolic links are followed and must stay inside; ``http(s)://``, ``file://`` elsewhere and
redirects are refused, and a refusal stops the layout with an error naming the reference.
The fetcher remembers a digest of every file it gave, so that a layout kept for the next
build knows when a file it read has changed (``units``).
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BookError
from ..paths import read_file
from ..sandbox import ResourceRefused, Sandbox, url_path


def url_fetcher(sandbox: Sandbox):
    """A WeasyPrint URL fetcher confined to ``sandbox``."""
    return fetcher_class()(sandbox)


@functools.cache
def fetcher_class():
    # WeasyPrint is imported only when a PDF is made, so the class is built on first use.
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class Refused(FatalURLFetchingError):
        """Stops the layout: WeasyPrint would otherwise only log a failed fetch."""

        def __init__(self, url: str, reason: str):
            super().__init__(f"`{url}` {reason}")
            self.refusal = ResourceRefused(url, reason)

    class BookFetcher(URLFetcher):
        def __init__(self, sandbox: Sandbox):
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False,
                             fail_on_errors=True)
            self.sandbox = sandbox
            #: url -> sha256 of the bytes given for it
            self.read: dict[str, str] = {}

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            path, data = self.file(url)
            self.read[url] = hashlib.sha256(data).hexdigest()
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=data, headers={"Content-Type": media_type})

        def file(self, url: str) -> tuple[Path, bytes]:
            """The sandbox's file a ``file:`` URL names, and its bytes; else refused."""
            if urlsplit(url).scheme.lower() != "file":
                raise Refused(url, "is not allowed: a book reads nothing from the network")
            path = url_path(url)
            if not self.sandbox.inside(path):
                raise Refused(url, "is outside the book's folders")
            path = self.sandbox.restyle(path)
            try:
                return path, read_file(path, "resource")
            except BookError as error:
                raise Refused(url, f"cannot be read: {error.message}") from None

    return BookFetcher
