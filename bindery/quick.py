"""The ``bindery`` command's first step: ``bindery build`` with nothing to do, answered
before the rest of Bindery (and click) is imported.

A build that finds nothing to do, asked for the plainest way (``bindery build [BOOK_DIR]
[--out DIR] [--quiet]``, no other option), leaves a stamp in the output folder,
``.bindery-<slug>.stamp``: every file it read to decide (book.toml, the chapters, images,
templates, styles, Bindery's own code) and every folder it listed, each with what
``os.stat`` said of it before it was read, and the same of the outputs and the manifest.
The next such command stats those paths again: when every one says the same, and none was
changed within two seconds of the stamp (a change in the same tick of the clock would not
show), nothing changed, and the command prints what the full build would print. Anything
else (another option, a changed file, no stamp, a build under way) runs the full command.
"""

from __future__ import annotations

import atexit
import functools
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path

#: The stamp's format.
STAMP = 2
#: A file changed this close to the stamp (in nanoseconds) might have changed unseen.
RACY_NS = 2_000_000_000
#: Whether ``main`` has asked for the collector to rest at exit (once a process).
_FREEZING: list = []


def main(args: list[str] | None = None) -> None:
    """``bindery ARGS``: answered here when it is a plain build with nothing to do."""
    started = time.perf_counter()
    # When the command is done, the process ends and the system takes its memory back.
    # Python's finalization would first collect garbage several times over everything
    # still alive: 0.2 s after the default book's build and 0.3 s after the long book's,
    # for nothing. Frozen objects are not collected; every atexit handler still runs,
    # and Python still flushes the standard streams.
    if not _FREEZING:
        atexit.register(gc.freeze)
        _FREEZING.append(True)
    args = list(sys.argv[1:] if args is None else args)
    try:
        outputs = nothing_to_do(args)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        outputs = None
    if outputs is not None and _plain(args)[2]:       # --quiet
        sys.exit(0)
    if outputs is not None:
        from .errors import display_path

        shown = [(fmt, display_path(path)) for fmt, path in outputs]
        width = max(len(path) for _, path in shown)
        for fmt, path in shown:
            print(unchanged_line(fmt, path, width))
        print(nothing_line(time.perf_counter() - started))
        sys.exit(0)
    _temporary_folder_of_this_process()
    from .cli import main as full

    full(args)


def _temporary_folder_of_this_process() -> None:
    """What the libraries put in the temporary folder goes into a folder of this process's,
    removed at exit. WeasyPrint copies the fonts of ``@font-face`` into a folder of its own
    there, a build or two, and removes it when its font configuration is collected: with
    the collector resting at exit (above) it never is, and each build left 1 MB behind."""
    import tempfile

    folder, pid = tempfile.mkdtemp(prefix="bindery-"), os.getpid()
    tempfile.tempdir = folder
    remove = functools.partial(_remove_if_mine, folder, pid)
    atexit.register(remove)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, functools.partial(_terminated, remove))


def _remove_if_mine(folder: str, pid: int) -> None:
    import shutil

    if os.getpid() == pid:           # not in a process forked from this one
        shutil.rmtree(folder, ignore_errors=True)


def _terminated(remove, number: int, _frame) -> None:
    """SIGTERM (``kill``, a service manager stopping ``watch`` or ``serve``) ends the
    process as it always did, once the temporary folder is gone. (Not by raising an
    exception: Python drops one raised where a weak reference's callback runs.)"""
    remove()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)


def unchanged_line(fmt: str, path: str, width: int) -> str:
    return f"{fmt:8} {path.ljust(width)} {'unchanged':>12}"


def nothing_line(seconds: float) -> str:
    return f"nothing to do: every output is up to date ({seconds:.2f} s)"


def _plain(args: list[str]) -> tuple[str, str, bool] | None:
    """The book and output folders of ``build [BOOK_DIR] [--out DIR] [--quiet]``, and
    whether it is quiet; None for any other command line."""
    if not args or args[0] != "build":
        return None
    book, out, quiet, rest = None, None, False, args[1:]
    while rest:
        word = rest.pop(0)
        if word == "--out" and rest and out is None:
            out = rest.pop(0)
        elif word.startswith("--out=") and out is None:
            out = word[len("--out="):]
        elif word in ("-q", "--quiet"):
            quiet = True
        elif not word.startswith("-") and book is None:
            book = word
        else:
            return None
    return (book if book is not None else "book"), (out if out is not None else "dist"), quiet


def nothing_to_do(args: list[str]) -> list[tuple[str, Path]] | None:
    """The outputs (format, path) of the plain build ``args`` when a stamp shows nothing
    changed since a build found nothing to do; else None."""
    plain = _plain(args)
    if plain is None:
        return None
    if "" in plain[:2]:
        return None                                  # the full command says what "" is
    book, out = (os.path.abspath(path) for path in plain[:2])
    if os.path.islink(out) or not os.path.isdir(out):
        return None                                  # the full command refuses a link
    names = os.listdir(out)
    if any(name.endswith(".journal") for name in names) or _building(out):
        return None                                  # a build was stopped, or is running
    for name in names:
        if name.startswith(".bindery-") and name.endswith(".stamp"):
            try:
                with open(os.path.join(out, name), "rb") as handle:
                    stamp = json.loads(handle.read(16 << 20))
            except ValueError:
                continue                               # not a stamp
            if (isinstance(stamp, dict) and stamp.get("stamp") == STAMP
                    and stamp.get("book") == book and stamp.get("out") == out
                    and stamp.get("real") == [os.path.realpath(book), os.path.realpath(out)]):
                if not _holds(stamp):
                    return None
                return [(fmt, Path(plain[1]) / name) for fmt, name in stamp["outputs"]]
    return None


def _building(out: str) -> bool:
    """Whether another Bindery holds the output folder's lock (it is writing there)."""
    import fcntl

    try:
        handle = os.open(os.path.join(out, ".bindery.lock"), os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(handle)                               # and the lock with it
    return False


def _holds(stamp: dict) -> bool:
    """Whether every path the stamp records says what it said, none changed too close to
    the stamp, and the environment is the one it was made in."""
    if (stamp.get("package") != os.path.dirname(os.path.abspath(__file__))
            or stamp.get("source_date_epoch") != os.environ.get("SOURCE_DATE_EPOCH", "")):
        return False
    made = stamp["time"]
    for group in ("files", "folders", "made"):
        for path, signature in stamp[group].items():
            if signature_of(os.stat(path)) != signature:
                return False
            # The outputs were made by Bindery, before the build that found them fresh.
            if group != "made" and made - signature[1] < RACY_NS:
                return False
    return True


def signature_of(status: os.stat_result) -> list[int]:
    """What a stamp records of a path: its size, the times of its last change of content
    and of anything (the latter no one can set back), its inode, device and mode."""
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino,
            status.st_dev, status.st_mode]


def write_stamp(folder, slug: str, request, seen, outputs: list[tuple[str, str]]) -> None:
    """Leave the stamp of a plain build that found nothing to do, in its output folder
    (locked by the caller). ``seen``: what deciding read (``paths.Seen``); ``outputs``:
    (format, file name) of each output, as the manifest records them."""
    from .builder.manifest import STAMP_START, manifest_name, stamp_name
    from .builder.outputs import FORMATS

    if (request.formats != FORMATS or request.strict or request.force
            or request.booklet.given()):
        return
    out = os.path.abspath(folder.path)
    book = os.path.abspath(request.book_dir)
    try:
        with open(os.path.join(out, stamp_name(slug)), "rb") as handle:
            old = json.loads(handle.read(16 << 20))
        if old.get("book") == book and old.get("out") == out and _holds(old):
            return                                     # the last one still holds
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    # The outputs and the manifest as the plan read them (for their checksums; a folder
    # output, each file and folder in it): all of them, or no stamp.
    if any(os.path.join(out, name) not in seen.made
           for name in [manifest_name(slug), *(name for _, name in outputs)]):
        return
    stamp = {"stamp": STAMP, "book": book, "out": out,
             "real": [os.path.realpath(book), os.path.realpath(out)],
             "package": os.path.dirname(os.path.abspath(__file__)),
             "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", ""),
             "time": time.time_ns(), "files": seen.files, "folders": seen.folders,
             "made": seen.made, "outputs": [[fmt, name] for fmt, name in outputs]}
    folder.write_own(stamp_name(slug), json.dumps(stamp, sort_keys=True).encode(),
                     STAMP_START)
