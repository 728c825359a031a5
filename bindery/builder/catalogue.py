"""Many books -> their builds: each book into its own output folder, the stale ones in a
pool of processes, the rest found unchanged without starting one; a report per book and
output (for ``--report build.json``), and ``--shard I/N`` to spread a catalogue over
machines.

A book whose outputs are all fresh is known from its manifest in the parent process, in
milliseconds: a catalogue rebuilt with nothing changed costs the hashing of its sources.
A book that is stale is built in a worker, with the same ``build`` as a single book (one
process per book: its press PDF is not made in yet another process).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BookError, display_path
from .request import BuildRequest


@dataclass
class BookResult:
    """What became of one book: ``built``, ``unchanged`` or ``failed``."""

    book: str
    out: str
    status: str
    seconds: float
    outputs: list[dict] = field(default_factory=list)   # format, file, status, seconds, bytes
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def is_shelf(path: Path) -> bool:
    """Whether ``path`` is a folder of books rather than a book: no book.toml of its own,
    and a sub-folder with one."""
    return (path.is_dir() and not (path / "book.toml").exists()
            and any((child / "book.toml").is_file() for child in path.iterdir()
                    if child.is_dir()))


def books_in(paths: list[Path]) -> list[Path]:
    """The book folders named, a folder of books standing for the books in it (each
    sub-folder with a book.toml), in name order."""
    books: list[Path] = []
    for path in paths:
        if (path / "book.toml").is_file() or not path.is_dir():
            books.append(path)
            continue
        inside = sorted(child for child in path.iterdir()
                        if child.is_dir() and (child / "book.toml").is_file())
        if not inside:
            raise BookError("holds no book.toml and no folder with one", path)
        books.extend(inside)
    return books


def shard(books: list[Path], spec: str) -> list[Path]:
    """Books ``I/N``: the I-th of N equal shares of the books in name order (1-based), so
    that N machines given 1/N ... N/N build each book once."""
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise BookError(f"--shard must be I/N, such as 2/8, got `{spec}`") from None
    if not 1 <= index <= count:
        raise BookError(f"--shard {spec}: I must be from 1 to N")
    ordered = sorted(books, key=lambda path: path.resolve().as_posix())
    return ordered[index - 1::count]


def output_folders(books: list[Path], out: Path) -> list[Path]:
    """Each book's own output folder: ``out/<book folder's name>``; one book alone keeps
    ``out`` itself, as without the catalogue's options."""
    if len(books) == 1:
        return [out]
    names = [book.resolve().name for book in books]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise BookError(f"two books have the folder name `{twice[0]}`; their outputs would "
                        f"share {display_path(out / twice[0])}",
                        hint="rename one, or build them separately")
    return [out / name for name in names]


def build_many(requests: list[BuildRequest], jobs: int) -> list[BookResult]:
    """Build the books; results in the order of ``requests``."""
    from concurrent.futures import ProcessPoolExecutor     # only a catalogue needs it

    from .outdir import OutputFolder
    from .plan import make_plan

    results: dict[int, BookResult] = {}
    stale: list[int] = []
    for index, request in enumerate(requests):
        started = time.perf_counter()
        try:
            folder = OutputFolder(request.out_dir)
            plan = make_plan(request, folder) if folder.path.is_dir() else None
        except BookError:
            plan = None
        if (plan is not None and not plan.stale and plan.manifest is not None
                and plan.inputs is not None and plan.manifest.notes == plan.inputs.notes
                and not (request.strict and plan.manifest.warnings)
                and not any(folder.path.glob(".bindery-*.journal"))):
            results[index] = _unchanged(request, plan, time.perf_counter() - started)
        else:
            stale.append(index)
    if stale:
        workers = max(1, min(jobs, len(stale)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {index: pool.submit(build_one, requests[index]) for index in stale}
            for index, future in futures.items():
                try:
                    results[index] = future.result()
                except Exception as error:  # noqa: BLE001 - a worker that died
                    results[index] = _failed(requests[index], 0.0,
                                             f"the build stopped: {error!r}")
    return [results[index] for index in range(len(requests))]


def build_one(request: BuildRequest) -> BookResult:
    """One book, in this process (a pool's worker): its result, never an exception."""
    from . import build

    started = time.perf_counter()
    try:
        report = build(dataclasses.replace(request, parallel=False))
    except BookError as error:
        return _failed(request, time.perf_counter() - started, str(error))
    except Exception as error:  # noqa: BLE001 - one book's bug must not stop the others
        return _failed(request, time.perf_counter() - started,
                       f"internal error: {error!r} (this is a bug in Bindery)")
    outputs = [{"format": output.format, "file": output.path.name,
                "status": "built" if output.rebuilt else "unchanged",
                "seconds": round(output.seconds, 3), "bytes": output.size}
               for output in report.outputs]
    return BookResult(display_path(request.book_dir), display_path(request.out_dir),
                      "built" if report.rebuilt else "unchanged", report.seconds, outputs,
                      [str(warning) for warning in report.warnings])


def _failed(request: BuildRequest, seconds: float, error: str) -> BookResult:
    return BookResult(display_path(request.book_dir), display_path(request.out_dir),
                      "failed", seconds, error=error)


def _unchanged(request: BuildRequest, plan, seconds: float) -> BookResult:
    manifest = plan.manifest
    outputs = []
    for fmt in request.formats:
        name = manifest.outputs[fmt]["file"]
        outputs.append({"format": fmt, "file": name, "status": "unchanged", "seconds": 0.0,
                        "bytes": _size(request.out_dir / name)})
    return BookResult(display_path(request.book_dir), display_path(request.out_dir),
                      "unchanged", seconds, outputs, list(manifest.warnings))


def _size(path: Path) -> int:
    from .pipeline import size_on_disk

    try:
        return size_on_disk(path)
    except OSError:
        return 0


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def report_data(results: list[BookResult], seconds: float, jobs: int,
                shard_spec: str | None) -> dict:
    """The machine-readable report of a catalogue build (``--report``)."""
    from .. import __version__

    return {"bindery": __version__, "jobs": jobs, "shard": shard_spec,
            "seconds": round(seconds, 3),
            "counts": {status: sum(result.status == status for result in results)
                       for status in ("built", "unchanged", "failed")},
            "books": [dataclasses.asdict(result) | {"seconds": round(result.seconds, 3)}
                      for result in results]}
