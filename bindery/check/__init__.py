"""Outputs -> verdicts: EPUBCheck and DAISY Ace on EPUBs, Bindery's structure checks on EPUBs
and PDFs, the links of a site. The checks read the files as a reader would, never the
writers' internals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BookError
from .ace import run_ace
from .epub import check_epub
from .epubcheck import CheckUnavailable, run_epubcheck
from .pdf import check_pdf
from .site import check_site, is_site

#: What ``bindery check`` reads.
CHECKED_SUFFIXES = (".epub", ".pdf")


@dataclass(frozen=True)
class Verdict:
    """One file checked: a summary line, the problems found, and whether it failed."""

    path: Path
    summary: str
    problems: tuple[str, ...]
    failed: bool


def outputs_in(folder: Path) -> list[Path]:
    """The EPUBs, PDFs and sites of an output folder, in name order."""
    return sorted(path for path in folder.glob("*")
                  if path.suffix in CHECKED_SUFFIXES and path.is_file() or is_site(path))


def named(paths: list[Path]) -> list[Path]:
    """The files named, each output folder among them (not a site) as the outputs in it."""
    found = []
    for path in paths:
        if path.is_dir() and not is_site(path):
            inside = outputs_in(path)
            if not inside:
                raise BookError("no EPUB, PDF or site in this folder", path,
                                hint="build into it first, or name the files")
            found.extend(inside)
        else:
            found.append(path)
    return found


def check_files(paths: list[Path]) -> list[Verdict]:
    """Check every file; a file that is missing or of another kind is a BookError."""
    for path in paths:
        if is_site(path):
            continue
        if not path.is_file():
            raise BookError("no such file", path)
        if path.suffix.lower() not in CHECKED_SUFFIXES:
            raise BookError("not an EPUB, a PDF or a site", path,
                            hint="bindery check reads .epub and .pdf files and site folders")
    epubs = [path for path in paths if path.suffix.lower() == ".epub"]
    try:
        verdicts = {result.path: result for result in run_epubcheck(epubs)}
    except CheckUnavailable as error:
        raise BookError(f"cannot run EPUBCheck: {error}") from None
    return [_check_epub(path, verdicts[path]) if path in verdicts
            else _check_site(path) if is_site(path) else _check_pdf(path) for path in paths]


def _check_epub(path: Path, epubcheck) -> Verdict:
    problems = check_epub(path) + epubcheck.messages
    summary = epubcheck.summary()
    try:
        ace = run_ace(path)
        summary += "; " + ace.summary()
        problems += ace.violations
    except CheckUnavailable as error:
        summary += f"; Ace not run: {error}"
    return Verdict(path, summary, tuple(problems), bool(problems) or not epubcheck.clean)


def _check_site(path: Path) -> Verdict:
    summary, problems = check_site(path)
    return Verdict(path, summary, tuple(problems), bool(problems))


def _check_pdf(path: Path) -> Verdict:
    problems = check_pdf(path)
    return Verdict(path, "PDF", tuple(problems), bool(problems))
