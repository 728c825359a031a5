"""Outputs that are folders (the site): a folder's checksum, on disk or in memory, its
files written under a temporary name, and its removal. Like the rest of the output folder,
nothing here follows a symbolic link: a folder holding a link, a device or anything but
folders and regular files is not Bindery's, so it has no checksum and is never replaced or
removed.

A file a desktop leaves in a folder someone opened (Finder's ``.DS_Store`` and ``._*``,
Windows' ``Thumbs.db`` and ``desktop.ini``, KDE's ``.directory``) describes the folder, not
its content: it counts for nothing in the checksum, it moves into the new folder when the
output is replaced (where that folder is still there), and it goes with the folder when
Bindery removes it."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from ..model import Folder
from ..paths import made

_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
_DESKTOP_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".directory"})


def desktop_file(name: str) -> bool:
    """Whether a file of this name is one a desktop leaves in the folders it shows."""
    return name in _DESKTOP_NAMES or name.startswith("._")


def digest(data: bytes | Folder) -> str:
    """An output's checksum: its bytes' SHA-256, or for a folder the SHA-256 of its listing
    (each file's path and SHA-256, in name order)."""
    if isinstance(data, Folder):
        return _listing((path, hashlib.sha256(content).hexdigest())
                        for path, content in data.files)
    return hashlib.sha256(data).hexdigest()


def size(data: bytes | Folder) -> int:
    return data.size if isinstance(data, Folder) else len(data)


def _listing(entries) -> str:
    digest = hashlib.sha256()
    for path, file_digest in sorted(entries):
        digest.update(f"{path}\0{file_digest}\n".encode("utf-8"))
    return digest.hexdigest()


def folder_checksum(path: Path) -> str | None:
    """The checksum of a folder on disk, as ``digest`` gives it for the same files; None
    when it is not a plain folder of folders and regular files."""
    entries = []
    try:
        status = os.lstat(path)
        made(path, status)
        if not stat.S_ISDIR(status.st_mode):
            return None
        for folder, folders, files in os.walk(path, followlinks=False):
            for name in folders:
                status = os.lstat(os.path.join(folder, name))
                made(Path(folder, name), status)
                if not stat.S_ISDIR(status.st_mode):
                    return None
            for name in files:
                full = os.path.join(folder, name)
                handle = os.open(full, os.O_RDONLY | os.O_NONBLOCK | _NO_FOLLOW)
                try:
                    status = os.fstat(handle)
                    made(Path(full), status)
                    if not stat.S_ISREG(status.st_mode):
                        return None
                    if desktop_file(name):
                        continue
                    digest = hashlib.sha256()
                    with os.fdopen(os.dup(handle), "rb") as reader:
                        for block in iter(lambda: reader.read(1 << 20), b""):
                            digest.update(block)
                finally:
                    os.close(handle)
                entries.append((Path(full).relative_to(path).as_posix(), digest.hexdigest()))
    except OSError:
        return None
    return _listing(entries)


def folder_size(path: Path) -> int:
    return sum(os.lstat(os.path.join(folder, name)).st_size
               for folder, _, files in os.walk(path, followlinks=False) for name in files)


def write_folder(path: Path, folder: Folder) -> None:
    """Write a folder's files under ``path`` (a new folder), each flushed to disk."""
    os.mkdir(path, 0o755)
    for name, data in folder.files:
        target = path / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"a folder output's file escapes it: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            os.fsync(handle)
        finally:
            os.close(handle)


def carry_desktop_files(old: Path, new: Path) -> None:
    """Move a desktop's files from a folder output being replaced into its new folder, each
    into the same folder there when that folder is still one (and holds no file of that
    name); the others go with the old folder."""
    for folder, _, files in os.walk(old, followlinks=False):
        for name in files:
            place = new / Path(folder).relative_to(old)
            if (desktop_file(name) and stat.S_ISDIR(_mode(place))
                    and not os.path.lexists(place / name)):
                os.rename(os.path.join(folder, name), place / name)


def _mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def remove_folder(path: Path) -> None:
    """Remove a folder Bindery made (its checksum was checked), never through a link."""
    shutil.rmtree(path)
