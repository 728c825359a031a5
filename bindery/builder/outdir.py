"""The output folder: one build at a time (a lock), files written whole and renamed into
place, stray temporary files removed, and ``clean``. Only this module writes there."""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .manifest import MANIFEST, Manifest
from .outputs import OUTPUTS
from .report import Progress

LOCK = ".bindery.lock"


@dataclass(frozen=True)
class OutputFolder:
    path: Path

    def file(self, slug: str, fmt: str) -> Path:
        """Where the output ``fmt`` of the book ``slug`` goes."""
        return self.path / OUTPUTS[fmt].file_name(slug)

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

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
        with open(self.path / LOCK, "a+") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                progress.waiting(f"another build is writing to {self.path} ({holder}); "
                                 f"waiting")
                fcntl.lockf(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                fcntl.lockf(handle, fcntl.LOCK_UN)

    def remove_stray_files(self) -> None:
        """Temporary files left by a build that was killed while writing."""
        for path in self.path.glob(".*.tmp"):
            path.unlink(missing_ok=True)

    def read_manifest(self) -> Manifest | None:
        try:
            data = (self.path / MANIFEST).read_bytes()
        except OSError:
            return None
        return Manifest.parse(data)

    def write_manifest(self, manifest: Manifest) -> None:
        write_atomically(self.path / MANIFEST, manifest.serialise())

    def forget_manifest(self) -> None:
        (self.path / MANIFEST).unlink(missing_ok=True)

    def clean(self, slug: str | None) -> list[Path]:
        """Remove the outputs the manifest names (and, when the book could be read, those
        of its slug), the manifest and the lock; the folder too when it is left empty.
        Returns what was removed."""
        names = set()
        manifest = self.read_manifest()
        if manifest is not None:
            names.update(record["file"] for record in manifest.outputs.values())
        if slug is not None:
            names.update(kind.file_name(slug) for kind in OUTPUTS.values())
        removed = []
        with self.locked():
            for name in sorted(names) + [MANIFEST]:
                path = self.path / name
                if path.is_file():
                    path.unlink()
                    removed.append(path)
            (self.path / LOCK).unlink(missing_ok=True)
        if not any(self.path.iterdir()):
            self.path.rmdir()
            removed.append(self.path)
        return removed


_THREAD_LOCKS: dict[str, Any] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
