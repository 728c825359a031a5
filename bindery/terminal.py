"""A build's progress and report -> lines on the terminal: a line per output (or per book,
for a catalogue), the warnings, a summary; colour only on a terminal."""

from __future__ import annotations

import sys

import click

from .errors import display_path
from .quick import nothing_line, unchanged_line


def run_catalogue(paths, out_dir, make_request, jobs, shard_spec, report_path,
                  quiet: bool) -> None:
    """Build several books (``make_request(book, its output folder)``), print a line per
    book and a summary, write the JSON report; exit 1 when a book failed."""
    import json
    import time

    from .builder import catalogue

    started = time.perf_counter()
    books = catalogue.books_in(paths)
    if shard_spec is not None:
        books = catalogue.shard(books, shard_spec)
    folders = catalogue.output_folders(books, out_dir)
    requests = [make_request(book, folder) for book, folder in zip(books, folders)]
    jobs = jobs or catalogue.default_jobs()
    results = catalogue.build_many(requests, jobs)
    seconds = time.perf_counter() - started
    for result in results:
        if result.status == "failed":
            click.secho(f"error: {result.error}", err=True, fg="red")
        elif not quiet:
            click.echo(f"{result.status:9} {result.book} -> {result.out} "
                       f"({len(result.outputs)} outputs, {result.seconds:.2f} s)")
        for warning in result.warnings if result.status == "built" else ():
            click.secho(f"warning: {warning}", err=True, fg="yellow")
    counts = {status: sum(r.status == status for r in results)
              for status in ("built", "unchanged", "failed")}
    if not quiet:
        workers = f" with {jobs} jobs" if len(results) > 1 and jobs > 1 else ""
        click.echo(f"{len(results)} book{'s' if len(results) > 1 else ''}: {counts['built']} "
                   f"built, {counts['unchanged']} unchanged, {counts['failed']} failed, in "
                   f"{seconds:.2f} s{workers}")
    if report_path is not None:
        data = catalogue.report_data(results, seconds, jobs, shard_spec)
        report_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                               "utf-8")
    if counts["failed"]:
        sys.exit(1)


class Printer:
    """Prints a build's progress: a status line per stage with --verbose, and, on a
    terminal, the stage that is running."""

    def __init__(self, verbose: bool, quiet: bool):
        self.verbose = verbose and not quiet
        self.quiet = quiet
        self.live = sys.stderr.isatty() and not quiet

    def starting(self, name: str) -> None:
        if self.live:
            click.echo(f"\r  {name} ...\033[K", nl=False, err=True)

    def stage(self, name: str, seconds: float) -> None:
        if self.live:
            click.echo("\r\033[K", nl=False, err=True)
        if self.verbose:
            click.echo(f"  {name:10} {seconds:6.2f} s", err=True)

    def waiting(self, message: str) -> None:
        if not self.quiet:
            click.secho(message, err=True, fg="yellow")


#: Stages that read the book, before the layout and the outputs.
_READING = ("load", "convert", "render", "import")


def run_build(request, verbose: bool, quiet: bool):
    """Build, then print the warnings, a line per output and a summary."""
    from .builder import build as run

    report = run(request, Printer(verbose, quiet))
    for warning in report.warnings:
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    if quiet:
        return report
    width = max(len(display_path(output.path)) for output in report.outputs)
    for output in report.outputs:
        path = display_path(output.path)
        if not output.rebuilt:
            click.echo(unchanged_line(output.format, path, width))
            continue
        path = path.ljust(width)
        why = f"  ({output.reason} changed)" if output.reason else ""
        beside = " (alongside, in a second process)" if output.alongside else ""
        click.echo(f"{output.format:8} {path} {output.size / 1024:8.1f} KiB "
                   f"{output.seconds:6.2f} s{beside}{why}")
    if not report.rebuilt:
        click.echo(nothing_line(report.seconds))
        return report
    stages = dict(report.stages)
    reading = sum(stages.get(name, 0.0) for name in _READING)
    layout = stages.get("layout", 0.0)
    outputs = max(0.0, report.seconds - reading - layout)
    pages = f", {report.pages} pages" if report.pages else ""
    split = f"reading {reading:.2f} s"
    if report.laid_out:
        split += f", layout {layout:.2f} s"
    split += f", outputs {outputs:.2f} s"
    click.echo(f"built {len(report.rebuilt)} of {len(report.outputs)} outputs{pages} in "
               f"{report.seconds:.2f} s ({split})")
    if report.typography is not None:
        from .pdf.proof import summary
        click.echo(summary(report.typography))
    return report
