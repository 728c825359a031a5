"""The stages in order: load, convert, render, lay out once, make the outputs, then write.

Only stale outputs are made (see ``cache``); a build with nothing to do stops after hashing
the sources. Nothing is written until every output has been made; each file is written to
a temporary name in the output folder and renamed into place, the manifest last, so a build
that fails or is killed leaves the last good outputs as they were. One build of a book runs
at a time (a lock file in the output folder).
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from .cache import LOCK, MANIFEST, Inputs, Manifest, fingerprint, sha256
from .errors import BookError, BookWarning
from .model import FORMATS, Book, BookletSettings


@dataclass(frozen=True)
class Output:
    format: str
    path: Path
    size: int
    seconds: float
    rebuilt: bool = True
    reason: str = ""          # why it was rebuilt: the inputs that changed


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)
    warnings: list[BookWarning | str] = field(default_factory=list)
    pages: int | None = None
    seconds: float = 0.0
    laid_out: bool = False

    @property
    def rebuilt(self) -> list[str]:
        return [output.format for output in self.outputs if output.rebuilt]


class Progress:
    """What a build tells its caller while it runs; the CLI prints it."""

    def stage(self, name: str, seconds: float) -> None:
        pass

    def starting(self, name: str) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class BookletOverrides:
    """Booklet settings given on the command line; None keeps book.toml's."""

    sheet: str | None = None
    flip: str | None = None
    sheets_per_signature: int | None = None
    creep_mm: float | None = None

    def apply(self, settings: BookletSettings) -> BookletSettings:
        return dataclasses.replace(settings, **self.given())

    def given(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}


def output_name(slug: str, fmt: str) -> str:
    return {"epub": f"{slug}.epub", "pdf": f"{slug}.pdf", "press": f"{slug}-press.pdf",
            "booklet": f"{slug}-booklet.pdf"}[fmt]


def build_date() -> datetime:
    """The build's date: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BookError(f"SOURCE_DATE_EPOCH must be a number of seconds, got `{epoch}`"
                        ) from None


def w3c_date(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(book_dir: Path, out_dir: Path, formats: tuple[str, ...] = FORMATS,
          strict: bool = False, booklet: BookletOverrides = BookletOverrides(),
          force: bool = False, parallel: bool = True,
          progress: Progress | None = None) -> BuildReport:
    """Build the stale ``formats`` of the book in ``book_dir`` into ``out_dir``."""
    started = time.perf_counter()
    progress = progress or Progress()
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    from .load import check_book_folder
    check_book_folder(book_dir)          # before the output folder is made
    out_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(out_dir, progress):
        remove_stray_files(out_dir)
        manifest = Manifest.read(out_dir)
        inputs = fingerprint(book_dir, booklet.given(), manifest)
        if force or inputs is None or manifest is None:
            stale = list(formats)
        else:
            stale = [fmt for fmt in formats if not manifest.fresh(fmt, inputs, out_dir)]
        report = BuildReport()
        if not stale and manifest.notes != inputs.notes:
            # No output is stale, but what the warnings depend on changed: read the book
            # again (no layout, no output) to know them.
            from .load import load
            manifest.warnings = [str(warning) for warning in load(book_dir).warnings]
            manifest.notes = dict(inputs.notes)
            write_atomically(out_dir / MANIFEST, manifest.serialise())
        if not stale:                                 # nothing to do, nothing imported
            report.warnings.extend(manifest.warnings)
            _refuse_warnings(strict, report.warnings)
            for fmt in formats:
                record = manifest.outputs[fmt]
                path = out_dir / record["file"]
                report.outputs.append(Output(fmt, path, path.stat().st_size, 0.0, False))
        else:
            _build(book_dir, out_dir, formats, stale, strict, booklet, inputs, manifest,
                   parallel, progress, report)
    report.seconds = time.perf_counter() - started
    return report


def _build(book_dir: Path, out_dir: Path, formats, stale, strict, booklet, inputs,
           manifest, parallel, progress, report: BuildReport) -> None:
    from .convert import convert
    from .fetch import Sandbox
    from .load import load
    from .render import render

    clock = _Clock(progress)
    date = build_date()
    reusable = not stale_layout(stale, inputs, manifest, out_dir)
    # WeasyPrint takes half a second to import: a thread starts now, while the book is read.
    importing = _Threaded(_import_weasyprint) if not reusable and parallel else None
    book = clock.stage("load", lambda: load(book_dir))
    book = dataclasses.replace(book, booklet=booklet.apply(book.booklet))
    book = clock.stage("convert", lambda: convert(book))
    sandbox = Sandbox(book.root.resolve())
    report.warnings.extend(book.warnings)

    cover = drawing = None
    if "epub" in stale:
        from .cover import cover_for, cover_image
        cover = cover_for(book)
        # Drawing the cover takes a moment: a thread does it (Pillow lets go of the
        # interpreter while it draws and compresses) during the layout.
        work = lambda: cover_image(book, sandbox)  # noqa: E731
        drawing = _Threaded(work) if parallel else _Inline(work)
    pages = clock.stage("render", lambda: render(book, sandbox, w3c_date(date), cover))
    if importing is not None:
        clock.stage("import", importing.result)

    made, starts = _make(book, pages, cover, drawing, sandbox, date, stale, reusable,
                         manifest, out_dir, parallel, clock, report)
    _refuse_warnings(strict, report.warnings)

    # Every output is made: now write them, then the manifest that describes them.
    new = manifest or Manifest()
    if inputs is not None and report.laid_out:
        new.common = dict(inputs.common)
        new.page_starts = [list(dataclasses.astuple(start)) for start in starts]
    new.images = sorted(image.href for image in book.images)
    new.warnings = [str(warning) for warning in report.warnings]
    if inputs is not None:
        new.notes = dict(inputs.notes)
    changed = {fmt: manifest.changed(fmt, inputs) if manifest and inputs else []
               for fmt in formats}
    for fmt in formats:
        path = out_dir / output_name(book.slug, fmt)
        if fmt in made:
            data, seconds = made[fmt]
            write_atomically(path, data)
            reason = ", ".join(changed[fmt][:3]) if changed[fmt] else ""
            report.outputs.append(Output(fmt, path, len(data), seconds, True, reason))
            if inputs is not None:
                new.outputs[fmt] = {"file": path.name, "sha256": sha256(data),
                                    "inputs": inputs.of(fmt)}
        else:
            report.outputs.append(Output(fmt, path, path.stat().st_size, 0.0, False))
    if inputs is None:
        (out_dir / MANIFEST).unlink(missing_ok=True)   # sources unreadable by the cache
    else:
        write_atomically(out_dir / MANIFEST, new.serialise())


def _refuse_warnings(strict: bool, warnings: list) -> None:
    """With --strict, the first warning stops the build, before anything is written."""
    if strict and warnings:
        raise BookError(f"{warnings[0]} (a warning, and --strict is on)")


def _import_weasyprint() -> None:
    import weasyprint  # noqa: F401


def stale_layout(stale, inputs: Inputs | None, manifest: Manifest | None,
                 out_dir: Path) -> bool:
    """Whether the stale outputs need the book laid out again.

    The PDFs always do. The EPUB needs only the page map (none when book.toml turns its
    page list off) and the booklet only the reading PDF: when the sources the layout depends
    on are unchanged, the last build's serve.
    """
    if "pdf" in stale or "press" in stale:
        return True
    if inputs is not None and not inputs.epub_page_list and set(stale) == {"epub"}:
        return False
    if inputs is None or manifest is None or not manifest.layout_reusable(inputs):
        return True
    if "booklet" in stale:
        record = manifest.outputs.get("pdf")
        if record is None or not manifest.fresh("pdf", inputs, out_dir):
            return True
    return False


def _make(book: Book, pages, cover, drawing, sandbox, date: datetime, stale, reusable: bool,
          manifest: Manifest | None, out_dir: Path, parallel: bool, clock: "_Clock",
          report: BuildReport) -> tuple[dict[str, Any], tuple]:
    """The stale outputs' bytes and build times, and the page map they used."""
    from .pagemap import PageStart

    made: dict[str, Any] = {}
    reading = press = None
    if reusable:
        starts = tuple(PageStart(*item) for item in manifest.page_starts) if manifest else ()
        if "booklet" in stale:
            reading = (out_dir / manifest.outputs["pdf"]["file"]).read_bytes()
    else:
        from .layout import lay_out
        from .pdf import press_pdf, reading_pdf

        layout = clock.stage("layout", lambda: lay_out(book, pages, sandbox))
        if drawing is not None:
            drawing.result()       # no thread may run when the process forks
        report.laid_out = True
        report.pages = layout.page_count
        report.warnings.extend(layout.warnings)
        starts = layout.starts
        # The press PDF (whole fonts, colour profile) takes longest: a second process makes
        # it from the same layout while this one makes the others.
        press = _start(lambda: press_pdf(book, layout), parallel) if "press" in stale else None
        if "pdf" in stale or "booklet" in stale:
            output, seconds = clock.timed("pdf", lambda: reading_pdf(book, layout))
            report.warnings.extend(output.warnings)
            reading = output.data
            if "pdf" in stale:
                made["pdf"] = (output.data, seconds)
    made.update(_booklet_and_epub(book, pages, cover, drawing, sandbox, date, stale, starts,
                                  reading, clock, report))
    if press is not None:
        output, seconds = clock.timed("press", press.result)
        report.warnings.extend(output.warnings)
        made["press"] = (output.data, seconds)
    return made, starts


def _booklet_and_epub(book, pages, cover, drawing, sandbox, date, stale, starts, reading,
                      clock, report) -> dict[str, Any]:
    made = {}
    if "booklet" in stale:
        from .booklet import impose
        made["booklet"] = clock.timed("booklet", lambda: impose(
            reading, book.print.trim, book.booklet, book.title, date))
    if "epub" in stale:
        from .epub import make_epub
        page_list = starts if book.epub.page_list else ()
        output, seconds = clock.timed("epub", lambda: make_epub(
            book, pages, sandbox, date, page_list, cover, drawing.result()))
        report.warnings.extend(output.warnings)
        made["epub"] = (output.data, seconds)
    return made


# -- running work in a second process -----------------------------------------------------

class _Inline:
    def __init__(self, work: Callable[[], Any]):
        self._work = work

    def result(self) -> Any:
        return self._work()


class _Threaded:
    """Work done in a thread; result() waits for it. Used only for work that lets go of the
    interpreter lock (imports that load libraries, drawing), and always finished before a
    second process is forked."""

    def __init__(self, work: Callable[[], Any]):
        self._outcome: list = []

        def run() -> None:
            try:
                self._outcome.append(("ok", work()))
            except BaseException as error:   # noqa: BLE001 - raised again by result()
                self._outcome.append(("error", error))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        status, value = self._outcome[0]
        if status == "error":
            raise value
        return value


class _Forked:
    """Work done in a forked child process while this one goes on; the child writes no file,
    it sends its result back through a pipe."""

    def __init__(self, work: Callable[[], Any]):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(work, send, self._receive),
                                        daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            status, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("a build process ended without a result") from None
        finally:
            self._receive.close()
            self._process.join()
        if status == "book-error":
            message, path, line, column, hint = value
            raise BookError(message, path, line, column, hint)
        if status == "error":
            raise RuntimeError(value)
        return value


def _child(work, send, receive) -> None:
    # The reading end belongs to the parent: if the parent dies, sending must fail at once
    # rather than fill the pipe and wait forever. And the child dies with its parent.
    receive.close()
    _die_with_parent()
    try:
        send.send(("ok", work()))
    except BookError as error:
        send.send(("book-error", (error.message, error.path, error.line, error.column,
                                  error.hint)))
    except BaseException as error:   # noqa: BLE001 - reported by the parent
        send.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        send.close()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed build leaves none)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass          # not Linux: the child ends when it finds the pipe closed


def _start(work: Callable[[], Any], parallel: bool):
    if parallel and hasattr(os, "fork"):
        return _Forked(work)
    return _Inline(work)


class _Clock:
    def __init__(self, progress: Progress):
        self.progress = progress

    def timed(self, name: str, work):
        self.progress.starting(name)
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        self.progress.stage(name, seconds)
        return result, seconds

    def stage(self, name: str, work):
        return self.timed(name, work)[0]


# -- the output folder --------------------------------------------------------------------

@contextmanager
def build_lock(out_dir: Path, progress: Progress | None = None) -> Iterator[None]:
    """Hold the output folder's lock: one build at a time writes there. A second build
    says that it waits, and waits.

    A POSIX record lock (``lockf``), not ``flock``: it belongs to this process only, so a
    forked helper does not hold it, and it goes when the process dies, even by SIGKILL.
    Builds in threads of one process wait on a thread lock first.
    """
    progress = progress or Progress()
    key = str(out_dir.resolve())
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    if not thread_lock.acquire(blocking=False):
        progress.waiting(f"another build is writing to {out_dir} (this process); waiting")
        thread_lock.acquire()
    try:
        with _process_lock(out_dir, progress):
            yield
    finally:
        thread_lock.release()


_THREAD_LOCKS: dict[str, Any] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextmanager
def _process_lock(out_dir: Path, progress: Progress) -> Iterator[None]:
    with open(out_dir / LOCK, "a+") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            progress.waiting(f"another build is writing to {out_dir} ({holder}); waiting")
            fcntl.lockf(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def remove_stray_files(out_dir: Path) -> None:
    """Temporary files left by a build that was killed while writing."""
    for path in out_dir.glob(".*.tmp"):
        path.unlink(missing_ok=True)


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
