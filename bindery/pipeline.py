"""The stages in order: load, convert, render, lay out once, make every output, then write.

Nothing is written until every output has been made; each file is written to a temporary
name in the output folder and renamed into place, so a failed build leaves the last good
outputs as they were.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .errors import BookError, BookWarning
from .model import FORMATS, Book, BookletSettings


@dataclass(frozen=True)
class Output:
    format: str
    path: Path
    size: int
    seconds: float


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)
    warnings: list[BookWarning] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0


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


@dataclass(frozen=True)
class BookletOverrides:
    """Booklet settings given on the command line; None keeps book.toml's."""

    sheet: str | None = None
    flip: str | None = None
    sheets_per_signature: int | None = None
    creep_mm: float | None = None

    def apply(self, settings: BookletSettings) -> BookletSettings:
        changes = {key: value for key, value in vars(self).items() if value is not None}
        return dataclasses.replace(settings, **changes)


def build(book_dir: Path, out_dir: Path, formats: tuple[str, ...] = FORMATS,
          strict: bool = False, booklet: BookletOverrides = BookletOverrides(),
          progress: Callable[[str, float], None] | None = None) -> BuildReport:
    """Build ``formats`` of the book in ``book_dir`` into ``out_dir``."""
    from .convert import convert
    from .cover import make_cover
    from .fetch import Sandbox
    from .load import load
    from .render import render

    started = time.perf_counter()
    clock = _Clock(progress)
    report = BuildReport()
    date = build_date()

    book = clock.stage("load", lambda: load(book_dir))
    book = dataclasses.replace(book, booklet=booklet.apply(book.booklet))
    book = clock.stage("convert", lambda: convert(book))
    sandbox = Sandbox(book.root.resolve())
    cover = clock.stage("cover", lambda: make_cover(book, sandbox)) if "epub" in formats else None
    pages = clock.stage("render", lambda: render(book, sandbox, w3c_date(date), cover))
    report.warnings.extend(book.warnings)

    made = _make(book, pages, cover, sandbox, date, formats, clock, report)
    if strict and report.warnings:
        raise report.warnings[0].as_error()

    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        data, seconds = made[fmt]
        path = out_dir / output_name(book.slug, fmt)
        write_atomically(path, data)
        report.outputs.append(Output(fmt, path, len(data), seconds))
    report.seconds = time.perf_counter() - started
    return report


def _make(book: Book, pages, cover, sandbox, date: datetime, formats: tuple[str, ...],
          clock: "_Clock", report: BuildReport) -> dict[str, tuple[bytes, float]]:
    from .booklet import impose
    from .epub import make_epub
    from .layout import lay_out
    from .pdf import press_pdf, reading_pdf

    layout = clock.stage("layout", lambda: lay_out(book, pages, sandbox))
    report.pages = layout.page_count
    report.warnings.extend(layout.warnings)
    made: dict[str, tuple[bytes, float]] = {}
    if "epub" in formats:
        output, seconds = clock.timed("epub", lambda: make_epub(
            book, pages, sandbox, date, layout.starts, cover))
        report.warnings.extend(output.warnings)
        made["epub"] = (output.data, seconds)
    if "pdf" in formats or "booklet" in formats:
        output, seconds = clock.timed("pdf", lambda: reading_pdf(book, layout))
        report.warnings.extend(output.warnings)
        made["pdf"] = (output.data, seconds)
    if "press" in formats:
        output, seconds = clock.timed("press", lambda: press_pdf(book, layout))
        report.warnings.extend(output.warnings)
        made["press"] = (output.data, seconds)
    if "booklet" in formats:
        data, seconds = clock.timed("booklet", lambda: impose(
            made["pdf"][0], book.print.trim, book.booklet, book.title, date))
        made["booklet"] = (data, seconds)
    missing = [fmt for fmt in formats if fmt not in made]
    if missing:
        raise BookError(f"format `{missing[0]}` is not available yet")
    return made


class _Clock:
    def __init__(self, progress: Callable[[str, float], None] | None):
        self.progress = progress

    def timed(self, name: str, work):
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        if self.progress:
            self.progress(name, seconds)
        return result, seconds

    def stage(self, name: str, work):
        return self.timed(name, work)[0]


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
