"""Request -> outputs in the output folder: plan, read, lay out, make, then write.

Only stale outputs are made (``plan``); a build with nothing to do stops after hashing the
sources, without importing WeasyPrint or ebooklib. Everything is read and made before
anything is written; each file is written to a temporary name and renamed into place, the
manifest last, so a build that fails or is killed leaves the last good outputs as they were.
One build of a book runs at a time (the output folder's lock).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import itertools
import time
from pathlib import Path
from typing import Callable

from ..errors import BookError
from ..model import Book, Made, PageStart
from ..sandbox import Sandbox
from ..source import check_book_folder
from .fingerprint import Identity, source_name, sources_but_chapters
from .folders import digest, folder_size, size
from .job import Job
from .manifest import Manifest
from .outdir import OutputFolder
from .outputs import OUTPUTS
from .plan import Plan, make_plan
from .report import BuildReport, Clock, Output, Progress
from . import unitstore
from .request import BuildRequest, build_date, w3c_date
from .work import Shared, in_process, in_thread


def build(request: BuildRequest, progress: Progress | None = None) -> BuildReport:
    """Build the stale outputs of the book in ``request.book_dir``."""
    started = time.perf_counter()
    progress = progress or Progress()
    check_book_folder(request.book_dir)          # before the output folder is made
    folder = OutputFolder(request.out_dir)
    folder.create()
    with folder.locked(progress):
        folder.recover()
        plan = make_plan(request, folder)
        if plan.stale:
            try:
                report = _build(request, plan, folder, progress)
            finally:
                gc.unfreeze()
        else:
            report = _unchanged(request, plan, folder)
    report.seconds = time.perf_counter() - started
    return report


def _unchanged(request: BuildRequest, plan: Plan, folder: OutputFolder) -> BuildReport:
    """Nothing to make: the last build's outputs and warnings stand."""
    manifest = plan.manifest
    if manifest.notes != plan.inputs.notes:
        # No output is stale, but what the warnings depend on changed: read and convert
        # the book again (no layout, no output) to know them.
        from ..convert import convert
        from ..render import styled_classes
        from ..source import load
        book = load(request.book_dir)
        book = convert(book, styled_classes(Sandbox(book.root.resolve())))
        manifest.warnings = list(dict.fromkeys([str(warning) for warning in book.warnings]
                                               + manifest.standing(manifest.outputs)))
        manifest.notes = dict(plan.inputs.notes)
        folder.commit(plan.identity, {}, manifest, manifest)
    report = BuildReport(warnings=manifest.said_for(request.formats))
    refuse_warnings(request.strict, report.warnings)
    for fmt in request.formats:
        path = folder.path / manifest.outputs[fmt]["file"]
        report.outputs.append(Output(fmt, path, size_on_disk(path), 0.0, False))
    if not report.warnings and plan.seen is not None:
        from ..quick import write_stamp        # the next such build answers without this

        try:
            write_stamp(folder, plan.identity.slug, request, plan.seen,
                        [(fmt, manifest.outputs[fmt]["file"]) for fmt in request.formats])
        except OSError:
            pass                   # no stamp (a full disk, a read-only folder): no matter
    return report


def _build(request: BuildRequest, plan: Plan, folder: OutputFolder,
           progress: Progress) -> BuildReport:
    report = BuildReport()
    clock = Clock(progress, report)
    job = _read(request, plan, folder, clock, report)
    if not request.force:              # else every output is made again, as asked
        job = dataclasses.replace(job, settled=frozenset(filter(job.unchanged, plan.stale)))
    made = _make(job, plan, request.parallel, clock)
    for fmt in sorted(made, key=list(OUTPUTS).index):   # not in the order they were made
        report.warnings.extend(made[fmt][0].warnings)
    if plan.manifest is not None:      # what the outputs left as they are were made with
        said = {str(warning) for warning in report.warnings}
        standing = plan.manifest.standing(fmt for fmt in request.formats if fmt not in made)
        report.warnings.extend(warning for warning in standing if warning not in said and (
            job.layout is None or warning not in plan.manifest.layout_warnings))
    refuse_warnings(request.strict, report.warnings)
    _write(request, plan, job, made, report)
    if request.keep_layout or request.store_layout:
        from ..convert.memo import commit
        commit()                   # the chapters this build converted, for the next one
    if request.store_layout and not request.keep_layout and report.laid_out:
        clock.stage("store", lambda: unitstore.leave(folder, job.book.slug))
    return report


def _read(request: BuildRequest, plan: Plan, folder: OutputFolder, clock: Clock,
          report: BuildReport) -> Job:
    """Load, convert and render the book, and lay it out unless the last layout serves."""
    from ..convert import convert
    from ..pdf import layout as layout_module
    from ..render import render, styled_classes
    from ..source import load

    date = build_date()
    lay_out = not plan.reuse_layout
    # WeasyPrint takes half a second to import: a thread starts now, while the book is read.
    importing = (in_thread(layout_module.import_weasyprint, True)
                 if lay_out and request.parallel else None)
    book = clock.stage("load", lambda: load(request.book_dir))
    book = dataclasses.replace(book, booklet=request.booklet.apply(book.booklet))
    sandbox = Sandbox(book.root.resolve())
    # A build that keeps its layout for the next one keeps its chapters converted too (in
    # memory for watch, in the output folder's store for the next process).
    keeps = request.keep_layout or request.store_layout
    if keeps and lay_out:
        unitstore.restore(folder, book.slug, request)
    sources = sources_but_chapters(plan.inputs, book) if keeps else None
    book = clock.stage("convert", lambda: convert(book, styled_classes(sandbox), sources))
    report.warnings.extend(book.warnings)
    cover = cover_image = None
    if "epub" in plan.stale or any(OUTPUTS[fmt].reads == "epub" for fmt in plan.stale):
        from ..epub.cover import cover_for
        cover = cover_for(book)
        # Drawing the cover takes a moment: a thread does it (Pillow lets go of the
        # interpreter while it draws and compresses) during the layout.
        cover_image = in_thread(lambda: _cover_drawn(book, sandbox, "site" in plan.stale),
                                request.parallel)
    pages = clock.stage("render", lambda: render(book, sandbox, w3c_date(date), cover))
    if importing is not None:
        clock.stage("import", importing.result)
    layout = None
    if lay_out:
        # The layout makes objects that live (the boxes: 700,000 for 300 pages) and few
        # that refer to each other and die: the collector, walking the growing layout again
        # and again, found almost nothing in 0.6 s of the long book's 7 s layout. It rests
        # meanwhile. The boxes live until the build ends: it need not walk them while the
        # outputs are made either (a full pass takes about a second), and the press's
        # forked process shares their memory. build() lets the collector have them again.
        gc.disable()
        try:
            # A long book's second half is laid out in a second process meanwhile, but
            # not in watch (its units could not be numbered again after the next edit).
            ahead = request.parallel and not request.keep_layout
            layout = clock.stage("layout", lambda: layout_module.lay_out(
                book, pages, sandbox, units=keeps, before_fork=(
                    (cover_image.result if cover_image else lambda: None) if ahead else None)))
        finally:
            gc.enable()
        gc.freeze()
        report.laid_out = True
        report.pages = layout.page_count
        report.warnings.extend(layout.warnings)
        from ..pdf.proof import proof
        report.typography = proof(layout)
        starts = layout.starts
    elif plan.manifest is not None:
        starts = tuple(PageStart(*item) for item in plan.manifest.page_starts)
    else:
        starts = ()
    return Job(book, pages, sandbox, date, cover, cover_image, layout, starts, folder,
               plan.manifest, lambda fmt: plan.fresh(fmt, folder), plan.inputs)


def _cover_drawn(book: Book, sandbox: Sandbox, thumbnail: bool) -> bytes:
    """The EPUB's cover image, and, for the site, its thumbnail (``site.thumbnail_of``
    keeps it for when the site is made): the default book's thumbnail took 0.12 s of the
    build's last step, and Pillow draws it beside the layout."""
    from ..epub.cover import cover_image

    data = cover_image(book, sandbox)
    if thumbnail:
        from ..site import thumbnail_of
        thumbnail_of(data)
    return data


def lay_out_only(book_dir: Path) -> list:
    """Read the book and lay it out, writing nothing: the typographic proof's findings."""
    from ..convert import convert
    from ..pdf.layout import lay_out
    from ..pdf.proof import proof
    from ..render import render, styled_classes
    from ..source import load

    book = load(book_dir)
    sandbox = Sandbox(book.root.resolve())
    book = convert(book, styled_classes(sandbox))
    return proof(lay_out(book, render(book, sandbox, w3c_date(build_date())), sandbox))


def _make(job: Job, plan: Plan, parallel: bool,
          clock: Clock) -> dict[str, tuple[Made, float, bool]]:
    """The stale outputs' bytes, each one's time, and whether a second process made it. An
    output another one reads is made first (and made, not written, when only the other is
    stale and the layout is new).

    The press PDF (whole fonts, colour profile) takes longest: a second process makes it
    from the same layout while this one makes the reading PDF and the booklet. The outputs
    either process may make (the EPUB and what is made from it, the cover) go to whichever
    is free first; the site, made from all of them, is made last, here."""
    wanted = set(plan.stale) - job.settled
    if job.layout is not None:
        wanted |= {OUTPUTS[fmt].reads for fmt in wanted if OUTPUTS[fmt].reads}
    read = {kind.reads for kind in OUTPUTS.values() if kind.reads}
    order = sorted(wanted, key=lambda fmt: (fmt not in read, list(OUTPUTS).index(fmt)))
    if job.cover_image is not None:
        job.cover_image.result()         # no thread may run when the process forks
    made: dict[str, tuple[Made, float, bool]] = {}
    outputs: dict[str, Made] = {}
    own = [fmt for fmt in order if OUTPUTS[fmt].own_process]
    shared = Shared(_chains([fmt for fmt in order if OUTPUTS[fmt].either_process]),
                    parallel and bool(own))
    second = in_process(_kept(_second(own, shared, job)), parallel) if own else None
    here = [fmt for fmt in order if not (OUTPUTS[fmt].own_process or
                                         OUTPUTS[fmt].either_process or
                                         OUTPUTS[fmt].gathers)]
    for fmt, (result, seconds) in _in_turn([[fmt] for fmt in here], shared, job, outputs,
                                            clock.timed).items():
        made[fmt] = result, seconds, False
    if second is not None:
        there, kept, memory = clock.stage(own[0], second.result)
        for fmt, (result, seconds) in there.items():
            made[fmt], outputs[fmt] = (result, seconds, parallel), result
        if kept and job.layout is not None:
            from ..pdf.keptpages import adopt
            adopt(job.layout.document.pages, kept)
        if memory is not None:
            from ..epub.kepub import remember
            remember(memory)
    for fmt in order:
        if OUTPUTS[fmt].gathers:
            result, seconds = clock.timed(fmt, _maker(fmt, job, outputs))
            made[fmt] = result, seconds, False
    return made


def _chains(formats: list[str]) -> list[list[str]]:
    """The outputs as the units of work one process takes: each with those made from it."""
    return [[fmt] + [other for other in formats if OUTPUTS[other].reads == fmt]
            for fmt in formats if OUTPUTS[fmt].reads not in formats]


def _second(own: list[str], shared: "Shared", job: Job):
    """The second process's work: its own outputs, then what the first has not taken."""
    return lambda: _in_turn([own], shared, job, {}, lambda fmt, work: _timed(work)())


def _in_turn(first: list[list[str]], shared: "Shared", job: Job, outputs: dict[str, Made],
             timed: Callable) -> dict[str, tuple[Made, float]]:
    """The chains of outputs ``first``, then those nobody has taken yet, made in turn (into
    ``outputs``, for those made from them), each timed by ``timed(fmt, work)``."""
    made: dict[str, tuple[Made, float]] = {}
    for chain in itertools.chain(first, iter(shared.take, None)):
        for fmt in chain:
            made[fmt] = timed(fmt, _maker(fmt, job, outputs))
            outputs[fmt] = made[fmt][0]
    return made


def _maker(fmt: str, job: Job, outputs: dict[str, Made]):
    return lambda: OUTPUTS[fmt].make(job, outputs)


def _kept(work):
    """The work's result, with what the second process's memory kept for the next build in
    this process (``watch``), since that memory goes with it: what the pages it painted
    kept, and the kepub's documents."""
    def run() -> tuple:
        from ..pdf.keptpages import exporting

        found: dict = {}
        with exporting(found):
            made = work()
        memory = None
        if "kepub" in made:
            from ..epub.kepub import remembered
            memory = remembered()
        return made, found, memory
    return run


def _timed(work):
    def run() -> tuple[Made, float]:
        started = time.perf_counter()
        result = work()
        return result, time.perf_counter() - started
    return run


def _write(request: BuildRequest, plan: Plan, job: Job,
           made: dict[str, tuple[Made, float, bool]], report: BuildReport) -> None:
    """Every output is made: now write them and the manifest that describes them."""
    book = Identity(job.book.slug, job.book.identifier)
    inputs = plan.inputs
    images = {image.original: image.digest for image in job.book.images}
    beside, own = job.read_beside(made, images)
    if inputs is not None:
        inputs = dataclasses.replace(
            inputs.as_read({**job.book.includes, **beside}, images),
            own={fmt: read for fmt, read in own.items() if read})
    previous = plan.manifest if plan.identity == book else job.folder.read_manifest(book)
    manifest = Manifest(book) if previous is None else dataclasses.replace(
        copy.deepcopy(previous), identity=book)       # the previous one judges what is ours
    if inputs is not None and report.laid_out:
        manifest.common = dict(inputs.common)
        manifest.page_starts = [list(dataclasses.astuple(start)) for start in job.starts]
    manifest.images = sorted(images)
    manifest.includes, manifest.read = sorted(job.book.includes), sorted(beside)
    if job.layout is not None:
        manifest.layout_warnings = [str(warning) for warning in job.layout.warnings]
    if inputs is not None:
        manifest.notes = dict(inputs.notes)
    changed = {fmt: previous.changed(fmt, inputs) if previous and inputs else []
               for fmt in request.formats}
    files = {}
    for fmt in request.formats:
        path = job.folder.file(job.book.slug, fmt)
        if fmt in plan.stale and fmt not in job.settled:
            result, seconds, alongside = made[fmt]
            files[path.name] = result.data
            reason = ", ".join(source_name(key, request.book_dir) for key in changed[fmt][:3])
            report.outputs.append(Output(fmt, path, size(result.data), seconds, True, reason,
                                         alongside))
            manifest.outputs[fmt] = {"file": path.name, "sha256": digest(result.data),
                                     "inputs": inputs.of(fmt) if inputs is not None else {}}
            if inputs is not None and fmt in inputs.own:
                manifest.outputs[fmt]["read"] = sorted(key[len("book/"):]
                                                       for key in inputs.own[fmt])
            if result.warnings:
                manifest.outputs[fmt]["warnings"] = [str(warning) for warning in result.warnings]
            if OUTPUTS[fmt].pages_only and not result.warnings:   # warnings are said again
                manifest.outputs[fmt]["pages"] = job.layout.page_count
        else:
            if fmt in job.settled:     # made from what it was made from: as it is on disk
                manifest.outputs[fmt]["inputs"] = inputs.of(fmt)
            report.outputs.append(Output(fmt, path, size_on_disk(path), 0.0, False))
    # Every warning the folder's outputs stand with, those not asked for this time too.
    manifest.warnings = list(dict.fromkeys([str(warning) for warning in report.warnings]
                                           + manifest.standing(manifest.outputs)))
    job.folder.commit(book, files, manifest, previous)


def size_on_disk(path: Path) -> int:
    return folder_size(path) if path.is_dir() else path.stat().st_size


def refuse_warnings(strict: bool, warnings: list) -> None:
    """With --strict, the first warning stops the build, before anything is written."""
    if strict and warnings:
        raise BookError(f"{warnings[0]} (a warning, and --strict is on)")

