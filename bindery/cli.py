"""The ``bindery`` command: parses the command line, calls the build or the checks, prints."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import BookError, display_path
from .terminal import run_build, run_catalogue
from .builder.outputs import OUTPUTS
from .source.units import parse_length, parse_sheet


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


class Length(click.ParamType):
    """A length such as 0.3mm, at most ``maximum_mm``; the value is in millimetres."""

    name = "length"

    def __init__(self, maximum_mm: float, example: str):
        self.maximum_mm = maximum_mm
        self.example = example

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float):
            return value
        length = parse_length(value)
        if length is None or length > self.maximum_mm:
            self.fail(f"`{value}` is not a small length such as {self.example}", param, ctx)
        return length


class Sheet(click.ParamType):
    """A paper size for the booklet: A4, A3, letter, "420mm 297mm"..."""

    name = "sheet"

    def convert(self, value, param, ctx) -> str:
        if parse_sheet(value) is None:
            self.fail(f"unknown sheet size `{value}`", param, ctx)
        return value


@click.group(cls=_Group, epilog="""\b
Examples:
  bindery build                     build book/ into dist/, all five outputs
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


BUILD_OPTIONS = [
    click.argument("book_dir", default="book", type=click.Path(path_type=Path)),
    click.option("--out", "out_dir", default="dist", type=click.Path(path_type=Path),
                 help="Folder for the outputs (default: dist)."),
    click.option("--format", "formats", multiple=True, type=click.Choice(list(OUTPUTS)),
                 help="Build only this output; repeat for several (default: all but azw3, "
                 "which needs calibre)."),
    click.option("--strict", is_flag=True, help="Treat warnings as errors."),
    click.option("--sheet", type=Sheet(), help="Booklet paper: A4, A3, A5, letter, "
                 "tabloid... (default: the smallest that holds two pages)."),
    click.option("--flip", type=click.Choice(["short-edge", "long-edge"]),
                 help="Booklet duplex flip (default: short-edge)."),
    click.option("--signature", "sheets_per_signature", type=click.IntRange(min=0),
                 help="Booklet sheets per signature (default 0: one signature)."),
    click.option("--creep", "creep_mm", type=Length(5, "0.3mm"), help="Booklet creep, the "
                 "shift of the innermost pages towards the fold, such as 0.3mm."),
    click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
    click.option("-v", "--verbose", is_flag=True, help="Print every stage and its time."),
]


def build_options(command):
    for option in reversed(BUILD_OPTIONS):
        command = option(command)
    return command


def _request(book_dir, out_dir, formats, strict, sheet, flip, sheets_per_signature,
             creep_mm, force=False, parallel=True, keep_layout=False):
    from .builder import BookletOverrides, BuildRequest

    return BuildRequest(book_dir, out_dir, formats, strict, BookletOverrides(
        sheet=sheet, flip=flip, sheets_per_signature=sheets_per_signature,
        creep_mm=creep_mm), force=force, parallel=parallel, keep_layout=keep_layout)


@main.command()
@build_options
@click.option("--force", is_flag=True, help="Rebuild every output, changed or not.")
@click.argument("more_books", nargs=-1, type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Books built at once, each in its own process (default: the cores).")
@click.option("--shard", "shard_spec", metavar="I/N",
              help="Build only the I-th of N shares of the books (for N machines).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write a JSON report: per book and output, status, seconds, warnings.")
def build(book_dir: Path, out_dir: Path, formats: tuple[str, ...], strict: bool,
          sheet: str | None, flip: str | None, sheets_per_signature: int | None,
          creep_mm: float | None, quiet: bool, verbose: bool, force: bool,
          more_books: tuple[Path, ...], jobs: int | None, shard_spec: str | None,
          report_path: Path | None) -> None:
    """Build the book in BOOK_DIR (default: book) into --out (default: dist).

    Outputs whose sources have not changed since the last build are left as they are.
    Given several books (or a folder of books), each is built into its own folder,
    --out/<book folder's name>, several at once; unchanged books are skipped.

    \b
    Examples:
      bindery build
      bindery build book --out dist --format epub --format pdf
      bindery build --format booklet --sheet A4 --flip long-edge
      bindery build books/ --out site --jobs 4 --report build.json --shard 1/2
    """
    from .builder.catalogue import is_shelf

    if (not more_books and jobs is None and shard_spec is None and report_path is None
            and not is_shelf(book_dir)):
        request = _request(book_dir, out_dir, formats, strict, sheet, flip,
                           sheets_per_signature, creep_mm, force=force)
        run_build(request, verbose, quiet)
        return
    run_catalogue([book_dir, *more_books], out_dir,
                  lambda book, folder: _request(book, folder, formats, strict, sheet, flip,
                                                sheets_per_signature, creep_mm, force=force),
                  jobs, shard_spec, report_path, quiet)


@main.command()
@build_options
def watch(book_dir: Path, out_dir: Path, formats: tuple[str, ...], strict: bool,
          sheet: str | None, flip: str | None, sheets_per_signature: int | None,
          creep_mm: float | None, quiet: bool, verbose: bool) -> None:
    """Build the book, then rebuild it after every change to its sources.

    Watches BOOK_DIR (default: book) and Bindery's templates and styles. Each rebuild
    prints what changed, which outputs were rebuilt and how long it took; an error leaves
    the last good outputs in place. Ctrl-C stops.

    \b
    Example:
      bindery watch book --out dist
    """
    from .watch import watch as run_watch

    # The press PDF is written by a forked process, as in `build`. The file watcher's
    # thread is Rust's (watchfiles), which the child never calls; Bindery's own threads
    # have finished before it forks (builder/work.py).
    request = _request(book_dir, out_dir, formats, strict, sheet, flip, sheets_per_signature,
                       creep_mm, keep_layout=True)
    try:
        run_watch(book_dir, out_dir, lambda: run_build(request, verbose, quiet),
                  say=lambda text: click.echo(text),
                  fail=lambda text: click.secho(text, err=True, fg="red"))
    except KeyboardInterrupt:
        pass
    click.echo("stopped")


@main.command()
@click.argument("book_dir", default="book", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="dist", type=click.Path(path_type=Path),
              help="Folder for the outputs (default: dist).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The port on 127.0.0.1 (0: any free one).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", is_flag=True, help="Print every stage and its time.")
def serve(book_dir: Path, out_dir: Path, port: int, quiet: bool, verbose: bool) -> None:
    """Build the book, serve its site on http://127.0.0.1:PORT/, and rebuild after every
    change to its sources; an open page reloads once the rebuild is in place. Ctrl-C stops.

    \b
    Example:
      bindery serve book --port 8000
    """
    from .serve import serve_book

    request = _request(book_dir, out_dir, (), False, None, None, None, None, keep_layout=True)
    serve_book(book_dir, out_dir, port, lambda: run_build(request, verbose, quiet),
               say=lambda text: click.echo(text),
               fail=lambda text: click.secho(text, err=True, fg="red"))
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
    from .builder.fingerprint import Identity, identity
    from .builder.outdir import OutputFolder
    from .source import load

    if not out_dir.is_dir():
        click.echo(f"nothing to remove: {display_path(out_dir)} does not exist")
        return
    try:
        book = load(book_dir)
        which = Identity(book.slug, book.identifier)
    except BookError as error:
        which = identity(book_dir)       # a broken book: book.toml may still name it
        if which is None:
            raise BookError(f"cannot tell which outputs are this book's: {error}") from None
    done = OutputFolder(out_dir).clean(which)
    for path in done.removed:
        click.echo(f"removed {display_path(path)}{'/' if path == out_dir else ''}")
    for path, why in done.kept:
        click.echo(f"kept {display_path(path)}: {why}")
    if not done.removed and not done.kept:
        click.echo(f"nothing to remove: {display_path(out_dir)} holds no outputs of this book")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--typography", is_flag=True, help="Lay the book out (FILES: its folder, "
              "default book) and list what a book designer would mark, page by page.")
@click.option("--strict", is_flag=True, help="With --typography: exit 1 on any finding.")
@click.option("--stores", is_flag=True, help="Check EPUBs (and kepubs) against the rules of "
              "Apple Books, Kobo, Kindle and Google Play Books that EPUBCheck does not cover.")
def check(files: tuple[Path, ...], typography: bool, strict: bool, stores: bool) -> None:
    """Check EPUBs (EPUBCheck, DAISY Ace when installed, structure), PDFs (structure) and
    sites (links); or with --stores EPUBs against the stores' rules; or with --typography a
    book's layout: widows and orphans, headings and captions alone at the foot of a page,
    runs of hyphens, loose and overflowing lines, short last pages, split figures and tables.

    FILES default to the EPUBs, PDFs and sites in dist/; a folder of outputs stands for
    those in it. Exits 0 when every check passes.

    \b
    Examples:
      bindery check dist/isis-run.epub dist/isis-run.pdf
      bindery check out/
      bindery check --typography book
      bindery check --stores dist/*.epub
    """
    if typography:
        _proofread(files[0] if files else Path("book"), strict)
        return
    if stores:
        _preflight(list(files) or sorted(Path("dist").glob("*.epub")))
        return
    from .check import check_files, named, outputs_in

    paths = named(list(files)) if files else outputs_in(Path("dist"))
    if not paths:
        raise click.UsageError("nothing to check: give files, or build into dist/ first")
    verdicts = check_files(paths)
    for verdict in verdicts:
        status = click.style("ok", fg="green") if not verdict.problems else click.style(
            "FAILED", fg="red")
        click.echo(f"{display_path(verdict.path)}: {verdict.summary}; structure {status}")
        for problem in verdict.problems:
            click.echo(f"  {problem}")
    if any(verdict.failed for verdict in verdicts):
        sys.exit(1)


def _proofread(book_dir: Path, strict: bool) -> None:
    from .builder.pipeline import lay_out_only
    from .pdf.proof import summary

    findings = lay_out_only(book_dir)
    for finding in findings:
        click.echo(str(finding))
    click.echo(summary(findings))
    if strict and findings:
        sys.exit(1)


def _preflight(paths: list[Path]) -> None:
    from .check.stores import STORES, check_stores

    if not paths:
        raise click.UsageError("nothing to check: give EPUB files, or build into dist/ first")
    failed = False
    for path in paths:
        findings = check_stores(path)
        for finding in findings:
            click.echo(f"{display_path(path)}: {finding}")
        if not findings:
            click.echo(f"{display_path(path)}: ok for {', '.join(STORES)}")
        failed = failed or bool(findings)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
