"""The ``bindery`` command: a thin click layer that chains the stages and reports."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import BookError, display_path
from .model import FORMATS

if TYPE_CHECKING:
    from .pipeline import BookletOverrides


class _Group(click.Group):
    """Shows a BookError as one line and exits 1; ``--debug`` shows the traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BookError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"error: {error}", err=True, fg="red")
            ctx.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as error:   # a defect of Bindery's, not of the book
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"internal error: {type(error).__name__}: {error} (this is a bug in "
                        f"Bindery; `bindery --debug ...` shows the traceback)", err=True,
                        fg="red")
            ctx.exit(70)


@click.group(cls=_Group, epilog="""\b
Examples:
  bindery build                     build book/ into dist/, all four outputs
  bindery watch                     rebuild after every edit
  bindery check                     EPUBCheck, Ace and structure checks of dist/
  bindery new my-book --title "T" --author "A"
""")
@click.version_option(__version__, prog_name="bindery")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Bindery builds a book's Markdown source into an EPUB 3 e-book, a print-ready PDF, a
    print-shop PDF and a saddle-stitch booklet."""
    ctx.obj = {"debug": debug}


class _Printer:
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


BUILD_OPTIONS = [
    click.argument("book_dir", default="book", type=click.Path(path_type=Path)),
    click.option("--out", "out_dir", default="dist", type=click.Path(path_type=Path),
                 help="Folder for the outputs (default: dist)."),
    click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
                 help="Build only this output; repeat for several (default: all four)."),
    click.option("--strict", is_flag=True, help="Treat warnings as errors."),
    click.option("--sheet", help="Booklet paper: A4, A3, A5, letter, tabloid... (default: "
                 "the smallest that holds two pages)."),
    click.option("--flip", type=click.Choice(["short-edge", "long-edge"]),
                 help="Booklet duplex flip (default: short-edge)."),
    click.option("--signature", "sheets_per_signature", type=click.IntRange(min=0),
                 help="Booklet sheets per signature (default 0: one signature)."),
    click.option("--creep", help="Booklet creep, the shift of the innermost pages towards "
                 "the fold, such as 0.3mm."),
    click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
    click.option("-v", "--verbose", is_flag=True, help="Print every stage and its time."),
]


def build_options(command):
    for option in reversed(BUILD_OPTIONS):
        command = option(command)
    return command


@dataclass(frozen=True)
class BuildRequest:
    """What to build, from the command line, checked."""

    book_dir: Path
    out_dir: Path
    formats: tuple[str, ...]
    strict: bool
    booklet: "BookletOverrides"
    quiet: bool
    verbose: bool

    @classmethod
    def from_options(cls, book_dir, out_dir, formats, strict, sheet, flip,
                     sheets_per_signature, creep, quiet, verbose) -> "BuildRequest":
        from .pipeline import BookletOverrides

        if sheet is not None:
            from .booklet import sheet_for
            from .load import parse_trim
            try:
                sheet_for(parse_trim("A5"), sheet)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="--sheet") from None
        creep_mm = None
        if creep is not None:
            from .load import parse_length
            creep_mm = parse_length(creep)
            if creep_mm is None or creep_mm > 5:
                raise click.BadParameter(f"`{creep}` is not a small length such as 0.3mm",
                                         param_hint="--creep")
        formats = tuple(fmt for fmt in FORMATS if fmt in formats) or FORMATS
        return cls(book_dir, out_dir, formats, strict, BookletOverrides(
            sheet=sheet, flip=flip, sheets_per_signature=sheets_per_signature,
            creep_mm=creep_mm), quiet, verbose)

    def run(self, force: bool = False, parallel: bool = True):
        from .pipeline import build as run

        printer = _Printer(self.verbose, self.quiet)
        report = run(self.book_dir, self.out_dir, self.formats, strict=self.strict,
                     booklet=self.booklet, force=force, parallel=parallel, progress=printer)
        for warning in report.warnings:
            click.secho(f"warning: {warning}", err=True, fg="yellow")
        if not self.quiet:
            for output in report.outputs:
                if output.rebuilt:
                    why = f"  ({output.reason} changed)" if output.reason else ""
                    click.echo(f"{output.format:8} {display_path(output.path):40} "
                               f"{output.size / 1024:8.1f} KiB {output.seconds:6.2f} s{why}")
                else:
                    click.echo(f"{output.format:8} {display_path(output.path):40} "
                               f"{'unchanged':>12}")
            rebuilt = len(report.rebuilt)
            pages = f", {report.pages} pages" if report.pages else ""
            click.echo(f"built {rebuilt} of {len(report.outputs)} outputs{pages} "
                       f"in {report.seconds:.2f} s" if rebuilt else
                       f"nothing to do: every output is up to date ({report.seconds:.2f} s)")
        return report


@main.command()
@build_options
@click.option("--force", is_flag=True, help="Rebuild every output, changed or not.")
def build(book_dir: Path, out_dir: Path, formats: tuple[str, ...], strict: bool,
          sheet: str | None, flip: str | None, sheets_per_signature: int | None,
          creep: str | None, quiet: bool, verbose: bool, force: bool) -> None:
    """Build the book in BOOK_DIR (default: book) into --out (default: dist).

    Outputs whose sources have not changed since the last build are left as they are.

    \b
    Examples:
      bindery build
      bindery build book --out dist --format epub --format pdf
      bindery build --format booklet --sheet A4 --flip long-edge
    """
    BuildRequest.from_options(book_dir, out_dir, formats, strict, sheet, flip,
                              sheets_per_signature, creep, quiet, verbose).run(force=force)


@main.command()
@build_options
def watch(book_dir: Path, out_dir: Path, formats: tuple[str, ...], strict: bool,
          sheet: str | None, flip: str | None, sheets_per_signature: int | None,
          creep: str | None, quiet: bool, verbose: bool) -> None:
    """Build the book, then rebuild it after every change to its sources.

    Watches BOOK_DIR (default: book) and Bindery's templates and styles. Each rebuild
    prints what changed, which outputs were rebuilt and how long it took; an error leaves
    the last good outputs in place. Ctrl-C stops.

    \b
    Example:
      bindery watch book --out dist
    """
    from .watch import watch as run_watch

    request = BuildRequest.from_options(book_dir, out_dir, formats, strict, sheet, flip,
                                        sheets_per_signature, creep, quiet, verbose)
    try:
        # No second process while the file watcher's thread runs: fork and threads mix badly.
        run_watch(book_dir, out_dir, lambda: request.run(parallel=False),
                  say=lambda text: click.echo(text),
                  fail=lambda text: click.secho(text, err=True, fg="red"))
    except KeyboardInterrupt:
        pass
    click.echo("stopped")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="The book's title.")
@click.option("--author", required=True, help="The author's name.")
@click.option("--language", default="en", show_default=True,
              help="The book's language, a BCP 47 tag such as en, fr or pt-BR.")
def new(folder: Path, title: str, author: str, language: str) -> None:
    """Start a new book in FOLDER: book.toml, a sample chapter, and folders for images and
    for the book's own templates and styles. It builds as it is.

    \b
    Example:
      bindery new my-book --title "A Title" --author "A. Writer" --language en
      bindery build my-book --out my-book/dist
    """
    from .scaffold import create

    for path in create(folder, title, author, language):
        click.echo(f"created {display_path(path)}")
    click.echo(f"next: bindery build {display_path(folder)} --out {display_path(folder / 'dist')}")


@main.command()
@click.argument("book_dir", default="book", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="dist", type=click.Path(path_type=Path),
              help="The output folder (default: dist).")
def clean(book_dir: Path, out_dir: Path) -> None:
    """Remove the book's outputs and build manifest from --out.

    \b
    Example:
      bindery clean book --out dist
    """
    from .cache import LOCK, MANIFEST, Manifest
    from .pipeline import build_lock, output_name

    if not out_dir.is_dir():
        click.echo(f"nothing to remove: {display_path(out_dir)} does not exist")
        return
    names = set()
    manifest = Manifest.read(out_dir)
    if manifest is not None:
        names.update(record["file"] for record in manifest.outputs.values())
    try:
        from .load import load
        slug = load(book_dir).slug
        names.update(output_name(slug, fmt) for fmt in FORMATS)
    except BookError:
        pass          # a broken book: what the manifest names is enough
    removed = []
    with build_lock(out_dir):
        for name in sorted(names) + [MANIFEST]:
            path = out_dir / name
            if path.is_file():
                path.unlink()
                removed.append(path)
        (out_dir / LOCK).unlink(missing_ok=True)
    for path in removed:
        click.echo(f"removed {display_path(path)}")
    if not any(out_dir.iterdir()):
        out_dir.rmdir()
        click.echo(f"removed {display_path(out_dir)}/")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Check EPUBs (EPUBCheck, DAISY Ace when installed, structure) and PDFs (structure).

    FILES default to the EPUBs and PDFs in dist/. Exits 0 when every check passes.

    \b
    Example:
      bindery check dist/isis-run.epub dist/isis-run.pdf
    """
    from .check import CheckUnavailable, check_epub, check_pdf, run_ace, run_epubcheck

    paths = list(files) or sorted(p for p in Path("dist").glob("*")
                                  if p.suffix in (".epub", ".pdf"))
    if not paths:
        raise click.UsageError("nothing to check: give files, or build into dist/ first")
    for path in paths:
        if not path.is_file():
            raise BookError("no such file", path)
        if path.suffix.lower() not in (".epub", ".pdf"):
            raise BookError("not an EPUB or a PDF", path,
                            hint="bindery check reads .epub and .pdf files")
    failed = False
    epubs = [path for path in paths if path.suffix.lower() == ".epub"]
    try:
        verdicts = {result.path: result for result in run_epubcheck(epubs)}
    except CheckUnavailable as error:
        raise BookError(f"cannot run EPUBCheck: {error}") from None
    for path in paths:
        if path.suffix.lower() == ".epub":
            verdict = verdicts[path]
            problems = check_epub(path) + verdict.messages
            summary = verdict.summary()
            failed |= not verdict.clean
            try:
                ace = run_ace(path)
                summary += "; " + ace.summary()
                problems += ace.violations
            except CheckUnavailable as error:
                summary += f"; Ace not run: {error}"
        else:
            problems = check_pdf(path)
            summary = "PDF"
        failed |= bool(problems)
        status = click.style("ok", fg="green") if not problems else click.style(
            "FAILED", fg="red")
        click.echo(f"{display_path(path)}: {summary}; structure {status}")
        for problem in problems:
            click.echo(f"  {problem}")
    if failed:
        sys.exit(1)



if __name__ == "__main__":
    sys.exit(main())
