"""The output folder: one build at a time (a lock), every file written whole before any is
renamed into place (a journal finishes an interrupted set), stray temporaries removed, and
``clean``. Only this module writes there, following no link, and only files Bindery made."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import BookError
from ..model import Folder
from .folders import carry_desktop_files, digest, folder_checksum, remove_folder, write_folder
from ..paths import MiB, made
from .fingerprint import Identity
from .manifest import LEGACY_NAME, Manifest, manifest_name, own_files
from .outputs import OUTPUTS
from .report import Progress

LOCK = ".bindery.lock"
_TEMPORARY = re.compile(r"^\.(?P<name>[^/]+)\.(?P<pid>\d+)\.tmp$")
_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Removed:
    """What ``clean`` did: the files it removed, and those it kept, with why."""

    removed: list[Path]
    kept: list[tuple[Path, str]]


@dataclass(frozen=True)
class OutputFolder:
    path: Path

    def file(self, slug: str, fmt: str) -> Path:
        """Where the output ``fmt`` of the book ``slug`` goes."""
        return self.path / OUTPUTS[fmt].file_name(slug)

    def create(self) -> None:
        """Make the folder (and its parents); a file in its place is an error."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise BookError("the output folder is a file, not a folder", self.path,
                            hint="give another --out") from None
        except OSError as error:
            raise BookError(f"cannot make the output folder: {error.strerror}",
                            self.path) from None
        if self.path.is_symlink() or not self.path.is_dir():
            raise BookError("the output folder is not a folder", self.path,
                            hint="give another --out")

    # -- the lock -----------------------------------------------------------------------

    @contextmanager
    def locked(self, progress: Progress | None = None) -> Iterator[None]:
        """Hold the folder's lock: one build at a time writes there. A second build says
        that it waits, and waits.

        A POSIX record lock (``lockf``), not ``flock``: it belongs to this process only, so
        a forked helper does not hold it, and it goes when the process dies, even by
        SIGKILL. Builds in threads of one process wait on a thread lock first.
        """
        progress = progress or Progress()
        key = str(self.path.resolve())
        with _THREAD_LOCKS_GUARD:
            thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
        if not thread_lock.acquire(blocking=False):
            progress.waiting(f"another build is writing to {self.path} (this process); "
                             f"waiting")
            thread_lock.acquire()
        try:
            with self._process_lock(progress):
                yield
        finally:
            thread_lock.release()

    @contextmanager
    def _process_lock(self, progress: Progress) -> Iterator[None]:
        path = self.path / LOCK
        handle = self._open(path, os.O_RDWR | os.O_CREAT)
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                raise BookError("is not a regular file", path, hint="remove it")
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(handle, 100, 0).decode("ascii", "replace").strip()
                progress.waiting(f"another build is writing to {self.path} "
                                 f"({holder or 'another process'}); waiting")
                fcntl.lockf(handle, fcntl.LOCK_EX)
            os.ftruncate(handle, 0)
            os.pwrite(handle, f"pid {os.getpid()}".encode(), 0)
            try:
                yield
            finally:
                fcntl.lockf(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)

    def _open(self, path: Path, flags: int) -> int:
        try:
            return os.open(path, flags | _NO_FOLLOW, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise BookError("is a symbolic link; Bindery follows no link in its output "
                                "folder", path, hint="remove it") from None
            raise BookError(f"cannot open: {error.strerror}", path) from None

    # -- reading what is there ----------------------------------------------------------

    def read(self, name: str, limit: int = 1024 * MiB, head: bool = False) -> bytes | None:
        """The bytes of a regular file of the folder (never through a link), or with ``head``
        its first ``limit`` or so; None when there is none (or it is longer, without ``head``)."""
        try:
            handle = os.open(self.path / name, os.O_RDONLY | os.O_NONBLOCK | _NO_FOLLOW)
        except OSError:
            return None
        try:
            status = os.fstat(handle)
            made(self.path / name, status)
            if not stat.S_ISREG(status.st_mode) or (status.st_size > limit and not head):
                return None
            with os.fdopen(os.dup(handle), "rb") as reader:
                return reader.read(min(limit, status.st_size or limit) + 1)
        finally:
            os.close(handle)

    def checksum(self, name: str) -> str | None:
        """The SHA-256 of a regular file of the folder, or of a folder output's listing;
        None for anything else."""
        try:
            if stat.S_ISDIR(os.lstat(self.path / name).st_mode):
                return folder_checksum(self.path / name)
        except OSError:
            return None
        data = self.read(name)
        return digest(data) if data is not None else None

    def read_manifest(self, identity: Identity) -> Manifest | None:
        """This book's manifest, when there is a valid one; None for none, a void one, or
        one of another book with the same slug (``check_owner`` refuses to write then)."""
        manifest = self._manifest(identity.slug)
        if manifest is not None and manifest.identity.identifier not in (
                "", identity.identifier):
            return None
        return manifest

    def _manifest(self, slug: str) -> Manifest | None:
        data = self.read(manifest_name(slug), 16 * MiB)
        manifest = Manifest.parse(data, slug) if data is not None else None
        if manifest is None:
            legacy = self.read(LEGACY_NAME, 16 * MiB)
            manifest = Manifest.parse(legacy, slug) if legacy is not None else None
        return manifest

    def check_owner(self, identity: Identity) -> None:
        """A BookError when the folder holds the outputs of another book with this slug:
        they are not this book's to replace or remove."""
        manifest = self._manifest(identity.slug)
        if manifest is not None and manifest.identity.identifier not in (
                "", identity.identifier):
            raise BookError(f"this folder holds the outputs of another book with the slug "
                            f"`{identity.slug}` ({manifest.identity.identifier})",
                            self.path / manifest_name(identity.slug),
                            hint="build into another --out, or give this book its own slug")

    def fresh(self, manifest: Manifest, fmt: str) -> bool:
        """Whether the file of ``fmt`` is the one the manifest records."""
        record = manifest.outputs.get(fmt)
        return record is not None and self.checksum(record["file"]) == record["sha256"]

    def _ours(self, name: str, manifest: Manifest | None, data: bytes | Folder) -> bool:
        """Whether ``name`` may be replaced: nothing is there, or the very file Bindery made
        for this book (the manifest's checksum), or a file with the bytes to be written. A
        file changed since Bindery made it is someone's work: it is not replaced."""
        if not os.path.lexists(self.path / name):
            return True
        found = self.checksum(name)
        if found is None:
            return False
        if found == digest(data):
            return True
        records = manifest.outputs.values() if manifest is not None else ()
        return any(record["file"] == name and record["sha256"] == found
                   for record in records)

    # -- writing: all or nothing ----------------------------------------------------------

    def commit(self, identity: Identity, files: dict[str, bytes | Folder], manifest: Manifest,
               previous: Manifest | None) -> None:
        """Write ``files`` (name -> bytes, or a folder's files) and the manifest, all or none.

        Every file is written to a temporary name and flushed to disk first; then a journal
        lists the renames, and they are made. A build stopped during the renames is
        completed by the next one (``recover``), so the folder holds the old set or the new.
        """
        self.check_owner(identity)
        for name, data in files.items():
            if not self._ours(name, previous, data):
                hint = "move it, or build into another --out"
                if previous is None and os.path.lexists(
                        self.path / manifest_name(identity.slug)):
                    hint = (f"the folder's manifest {manifest_name(identity.slug)} is not "
                            f"valid, so Bindery cannot tell its own files: " + hint)
                raise BookError("a file Bindery did not make is in the way; it is left as "
                                "it is", self.path / name, hint=hint)
        everything = {**files, manifest_name(identity.slug): manifest.serialise()}
        written: dict[str, str] = {}
        try:
            for name, data in everything.items():
                written[name] = self._write_temporary(name, data)
            journal = f".bindery-{identity.slug}.journal"
            self._write_file(journal, json.dumps(written, sort_keys=True).encode())
            self._sync_folder()
        except OSError as error:
            for temporary in written.values():
                _remove(self.path / temporary)
            raise BookError(f"cannot write: {error.strerror} (the previous outputs are unchanged)",
                            self.path) from None
        self._finish(journal, written)
        legacy = self.path / LEGACY_NAME
        if previous is not None and not previous.identity.identifier and legacy.is_file():
            legacy.unlink()          # a Bindery 0.1 manifest, replaced by this book's own

    def write_own(self, name: str, data: bytes, start: bytes) -> os.stat_result | None:
        """Write ``name``, a file Bindery keeps that begins with ``start`` (``own_files``), in
        place of the last, never of another file; its ``os.stat``, None when one is in the way.
        Not flushed: a cache, checked before use (torn by a crash, it costs speed only)."""
        path = self.path / name
        if os.path.lexists(path):
            old = self.read(name, len(start), head=True)
            if old is None or not old.startswith(start):
                return None
        temporary = self._write_temporary(name, data, sync=False)
        os.replace(self.path / temporary, path)
        return os.lstat(path)

    def _write_temporary(self, name: str, data: bytes | Folder, sync: bool = True) -> str:
        temporary = f".{name}.{os.getpid()}.tmp"
        if isinstance(data, Folder):
            _remove(self.path / temporary)
            write_folder(self.path / temporary, data)
        else:
            self._write_file(temporary, data, exclusive=True, sync=sync)
        return temporary

    def _write_file(self, name: str, data: bytes, exclusive: bool = False,
                    sync: bool = True) -> None:
        """Write and flush (but not to ``sync``) a file of the folder, never through a link."""
        path = self.path / name
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        try:
            handle = os.open(path, flags | _NO_FOLLOW, 0o644)
        except FileExistsError:
            os.unlink(path)
            handle = os.open(path, flags | _NO_FOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            if sync:
                os.fsync(handle)
        except OSError:
            os.close(handle)
            os.unlink(path)
            raise
        os.close(handle)

    def _sync_folder(self) -> None:
        handle = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

    def _finish(self, journal: str, renames: dict[str, str]) -> None:
        try:
            for name, temporary in renames.items():
                if (self.path / temporary).is_dir() and os.path.lexists(self.path / name):
                    # A folder output: the old folder (checked ours) moves aside first,
                    # and goes once the new one is in place.
                    old = self.path / f".{name}.old.{os.getpid()}.tmp"
                    os.rename(self.path / name, old)
                    os.rename(self.path / temporary, self.path / name)
                    carry_desktop_files(old, self.path / name)
                    remove_folder(old)
                elif (self.path / temporary).exists():
                    os.replace(self.path / temporary, self.path / name)
            self._sync_folder()
            (self.path / journal).unlink(missing_ok=True)
        except OSError as error:
            raise BookError(f"cannot finish writing: {error.strerror}; the next build "
                            f"finishes it", self.path) from None

    def recover(self) -> None:
        """Finish the renames a stopped build listed in a journal; then remove temporary
        files left by a build stopped while it wrote (the old set stays)."""
        for journal in sorted(self.path.glob(".bindery-*.journal")):
            data = self.read(journal.name, MiB)
            renames = _journal(data)
            if renames is not None:
                self._finish(journal.name, renames)
            else:
                journal.unlink(missing_ok=True)     # not ours to obey
        for path in self.path.glob(".*.tmp"):
            match = _TEMPORARY.match(path.name)
            if match is None or path.is_symlink():
                continue
            if path.is_dir():
                # Only a folder output's own temporary folders (new, or the old one moved
                # aside): a user's folder that looks like one is not Bindery's.
                name = match["name"].removesuffix(".old")
                if not any(name.endswith(kind.suffix) for kind in OUTPUTS.values()
                           if kind.folder):
                    continue
            _remove(path)

    # -- clean --------------------------------------------------------------------------

    def clean(self, identity: Identity) -> Removed:
        """Remove the outputs this book's manifest records, when they are still the files
        Bindery made (same checksum), and the manifest; the lock when no other book's
        manifest is left, and the folder when it ends empty."""
        removed: list[Path] = []
        kept: list[tuple[Path, str]] = []
        with self.locked():
            self.recover()
            self.check_owner(identity)
            manifest = self.read_manifest(identity)
            if manifest is not None:
                for record in manifest.outputs.values():
                    path = self.path / record["file"]
                    if not os.path.lexists(path):
                        continue
                    if self.checksum(record["file"]) == record["sha256"]:
                        _remove(path)
                        removed.append(path)
                    else:
                        kept.append((path, "changed since Bindery made it"))
                for name, start in {manifest_name(identity.slug): b"", LEGACY_NAME: b"",
                                    **own_files(identity.slug)}.items():
                    data = self.read(name, 64, head=True)
                    if data is not None and data.startswith(start) and (
                            name != LEGACY_NAME or not manifest.identity.identifier):
                        (self.path / name).unlink()
                        removed.append(self.path / name)
            lock = self.path / LOCK       # the lock goes with the last manifest
            if not any(self.path.glob(".bindery-*.json")) and lock.is_file() and (
                    not lock.is_symlink()):
                lock.unlink()
        if not any(self.path.iterdir()):
            self.path.rmdir()
            removed.append(self.path)
        return Removed(removed, kept)


def _remove(path: Path) -> None:
    """Remove a file, or a folder Bindery wrote (never through a link)."""
    if path.is_dir() and not path.is_symlink():
        remove_folder(path)
    else:
        path.unlink(missing_ok=True)


def _journal(data: bytes | None) -> dict[str, str] | None:
    """A journal's renames, when every one is a temporary file of the folder to a plain
    name in it; None for anything else."""
    if data is None:
        return None
    try:
        renames = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(renames, dict):
        return None
    for name, temporary in renames.items():
        match = _TEMPORARY.match(temporary) if isinstance(temporary, str) else None
        if (match is None or match["name"] != name or "/" in name or name in ("", ".", "..")
                or not name.startswith((".bindery-",)) and not _is_output_name(name)):
            return None
    return renames


def _is_output_name(name: str) -> bool:
    return any(name.endswith(kind.suffix) for kind in OUTPUTS.values())


_THREAD_LOCKS: dict[str, Any] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
