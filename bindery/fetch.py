"""What a build may read: the book's folders, then Bindery's own; nothing else, no network.

Templates and styles are looked up in the book's own ``templates/`` and ``styles/`` folders
first, then in the project's; the same name wins. WeasyPrint gets :class:`BookFetcher`,
which serves ``data:`` URLs and files inside those folders (symbolic links are followed
and must stay inside too) and refuses everything else, ``http(s)://`` included.
"""

from __future__ import annotations

import functools
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BookError

PACKAGE = Path(__file__).resolve().parent
PROJECT = PACKAGE.parent
TEMPLATES = PROJECT / "templates"
STYLES = PROJECT / "styles"


@dataclass(frozen=True)
class Sandbox:
    """The folders one book's build reads from, in lookup order."""

    book_root: Path

    @property
    def template_folders(self) -> tuple[Path, ...]:
        return (self.book_root / "templates", TEMPLATES)

    @property
    def style_folders(self) -> tuple[Path, ...]:
        return (self.book_root / "styles", STYLES)

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.book_root, TEMPLATES, STYLES, PACKAGE)

    def inside(self, path: Path) -> bool:
        """Whether ``path``, with every symbolic link followed, lies in one of the roots."""
        resolved = Path(path).resolve()
        return any(resolved.is_relative_to(root.resolve()) for root in self.roots)

    def find(self, folders: tuple[Path, ...], name: str) -> Path | None:
        """The first file called ``name`` in ``folders``; a link leading outside is an error."""
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:
            return None
        for folder in folders:
            candidate = folder.joinpath(*parts)
            if candidate.is_file():
                if not Path(candidate).resolve().is_relative_to(folder.resolve()):
                    raise BookError("symbolic link points outside its folder", candidate)
                return candidate
        return None

    def template(self, name: str) -> Path | None:
        return self.find(self.template_folders, name)

    def style(self, name: str) -> Path:
        path = self.find(self.style_folders, name)
        if path is None:
            raise BookError(f"style `{name}` not found", self.book_root / "styles",
                            hint="Bindery looks in the book's styles/ folder, then its own")
        return path

    def restyle(self, path: Path) -> Path:
        """A file under one style folder, looked up again in lookup order.

        Lets a book's ``styles/print.css`` use the project's fonts, and lets a book replace a
        font the project's stylesheet names, by giving a file of the same name.
        """
        resolved = path.resolve()
        for folder in self.style_folders:
            if resolved.is_relative_to(folder.resolve()):
                found = self.find(self.style_folders,
                                  resolved.relative_to(folder.resolve()).as_posix())
                return found or path
        return path

    def url_fetcher(self):
        """A WeasyPrint URL fetcher confined to this sandbox."""
        return _fetcher_class()(self)


class ResourceRefused(Exception):
    """A reference that a build must not follow; the layout stage makes it a BookError."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"`{url}` {reason}")
        self.url = url
        self.reason = reason


@functools.cache
def _fetcher_class():
    # WeasyPrint is imported only when a PDF is made, so the class is built on first use.
    from urllib.request import url2pathname

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

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                raise Refused(url, "is not allowed: a book reads nothing from the network")
            path = Path(url2pathname(unquote(urlsplit(url).path)))
            if not self.sandbox.inside(path):
                raise Refused(url, "is outside the book's folders")
            path = self.sandbox.restyle(path)
            try:
                data = path.read_bytes()
            except OSError:
                raise Refused(url, "was not found") from None
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=data, headers={"Content-Type": media_type})

    return BookFetcher
