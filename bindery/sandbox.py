"""Book folder -> the sandbox a build reads through: the book's folders, then Bindery's own.

Templates and styles are looked up in the book's own ``templates/`` and ``styles/`` folders
first, then in the project's; the same name wins. WeasyPrint reads through
``pdf/fetcher.py``, which serves ``data:`` URLs and files inside those folders (symbolic
links are followed and must stay inside too) and refuses everything else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BookError
from .paths import within
from .resources import PACKAGE, STYLES, TEMPLATES


def url_path(url: str) -> Path:
    """The path a ``file:`` URL names."""
    from urllib.request import url2pathname      # 20 ms to import: only when asked

    return Path(url2pathname(unquote(urlsplit(url).path)))


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
        return any(within(path, root) for root in self.roots)

    def find(self, folders: tuple[Path, ...], name: str) -> Path | None:
        """The first file called ``name`` in ``folders``; a link leading outside is an error."""
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:
            return None
        for folder in folders:
            candidate = folder.joinpath(*parts)
            if os.path.lexists(candidate):
                if not within(candidate, folder):
                    raise BookError("symbolic link points outside its folder", candidate)
                if not candidate.is_file():
                    raise BookError("is not a regular file", candidate,
                                    hint="a template or a style is a file")
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

    def book_file(self, url: str) -> str | None:
        """The name in the book's folder of the file a ``file:`` URL gives (looked up again
        as ``restyle`` does); None for Bindery's own files and for any other URL."""
        if urlsplit(url).scheme.lower() != "file":
            return None
        path = self.restyle(url_path(url)).resolve()
        root = self.book_root.resolve()
        return path.relative_to(root).as_posix() if within(path, root) else None

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


class ResourceRefused(Exception):
    """A reference that a build must not follow; the layout stage makes it a BookError."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"`{url}` {reason}")
        self.url = url
        self.reason = reason
