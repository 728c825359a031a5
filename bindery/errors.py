"""Problems with a book: one error family, shown as one line naming the file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def display_path(path: Path | str) -> str:
    """The path as the user would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _location(path: Path | str | None, line: int | None, column: int | None) -> str:
    if path is None:
        return ""
    where = display_path(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return where


class BookError(Exception):
    """A problem with the book that the user can fix: exit status 1, one line, no traceback.

    ``path`` names the file, ``line`` and ``column`` (1-based) the place in it where there
    is one, ``hint`` says how to fix it when that is obvious.
    """

    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None,
                 line: int | None = None, column: int | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.hint = hint

    def __str__(self) -> str:
        where = _location(self.path, self.line, self.column)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split("\n"))


@dataclass(frozen=True)
class BookWarning:
    """Something the user should know that does not stop the build (unless ``--strict``)."""

    message: str
    path: Path | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = _location(self.path, self.line, self.column)
        return f"{where}: {self.message}" if where else self.message
