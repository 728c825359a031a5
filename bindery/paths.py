"""Paths -> whether they stay inside a folder, and files read only when they are regular
files of a bounded size: the rules every read of a book goes by."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import BookError
from .quick import signature_of as signature

MiB = 1024 * 1024
#: The largest text a book may give: book.toml, a chapter, a template, a stylesheet.
TEXT_LIMIT = 16 * MiB
#: The largest binary file a book may give: an image, a font, a colour profile.
FILE_LIMIT = 64 * MiB


def within(path: Path, folder: Path) -> bool:
    """Whether ``path``, every symbolic link followed, lies inside ``folder``."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def relative_name_ok(name: str) -> bool:
    """Whether ``name`` is written as a path relative to its folder: not absolute, no drive,
    no URL scheme (what a book.toml entry or a template name may be)."""
    return not (Path(name).is_absolute() or name.startswith(("/", "\\")) or ":" in name)


def name_as_written(path: Path, root: Path) -> str:
    """``path``'s name in ``root`` as the book wrote it: normalised, not resolved (a link
    keeps its own name)."""
    return os.path.relpath(os.path.normpath(Path(path).absolute()),
                           os.path.normpath(Path(root).absolute())).replace(os.sep, "/")


def read_file(path: Path, what: str = "file", limit: int = FILE_LIMIT) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    A folder, a FIFO, a device or a socket is refused by its type before anything is read
    (a FIFO is opened without waiting for a writer), and a file over the limit by its size.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BookError(f"{what} not found", path) from None
    except IsADirectoryError:
        raise BookError(f"{what} is a folder, not a file", path) from None
    except OSError as error:
        raise BookError(f"cannot read {what}: {error.strerror}", path) from None
    try:
        status = os.fstat(handle)
        if _SEEN:
            _SEEN[-1].files[os.path.abspath(path)] = signature(status)
        if stat.S_ISDIR(status.st_mode):
            raise BookError(f"{what} is a folder, not a file", path)
        if not stat.S_ISREG(status.st_mode):
            raise BookError(f"{what} is not a regular file (a pipe, a device or a socket)",
                            path)
        if status.st_size > limit:
            raise BookError(f"{what} is {status.st_size / MiB:.1f} MiB; a book's {what} may "
                            f"have at most {limit // MiB} MiB", path)
        chunks, size = [], 0
        while True:
            chunk = os.read(handle, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise BookError(f"{what} grew past {limit // MiB} MiB while it was read",
                                path)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise BookError(f"cannot read {what}: {error.strerror}", path) from None
    finally:
        os.close(handle)


# -- what a build read, to know later without reading it again ------------------------------

class Seen:
    """The files read (through ``read_file``) and the folders listed while it records, each
    with what ``os.stat`` said of it before it was read (``quick.signature_of``).
    When a later ``os.stat`` says the same, the file holds the same bytes and the folder the
    same names (the rule make and git go by; ``quick.py`` uses it)."""

    def __init__(self):
        self.files: dict[str, list[int]] = {}
        self.folders: dict[str, list[int]] = {}
        self.made: dict[str, list[int]] = {}     # the output folder's files read, likewise

    def listed(self, folder: Path) -> None:
        """Note that ``folder``'s names were listed (or, when it does not exist, that its
        parent's names say so)."""
        path = os.path.abspath(folder)
        while not os.path.isdir(path) and os.path.dirname(path) != path:
            path = os.path.dirname(path)
        self.folders[path] = signature(os.stat(path))


_SEEN: list[Seen] = []


@contextmanager
def recording(seen: Seen | None = None) -> Iterator[Seen]:
    """Record the files ``read_file`` reads, and the folders noted as listed, meanwhile
    (into ``seen``, or a new record)."""
    seen = Seen() if seen is None else seen
    _SEEN.append(seen)
    try:
        yield seen
    finally:
        _SEEN.pop()


def made(path: Path, status: os.stat_result) -> None:
    """Note, while recording, what ``os.stat`` said of a file or folder of the output folder
    before it was read."""
    if _SEEN:
        _SEEN[-1].made[os.path.abspath(path)] = signature(status)


def listed(folder: Path) -> None:
    """Note, while recording, that ``folder``'s names were listed."""
    if _SEEN:
        _SEEN[-1].listed(folder)
