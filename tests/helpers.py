"""Helpers shared by the tests: building books, reading outputs back, normalising text."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from decimal import Decimal
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BOOKS = ROOT / "tests" / "books"
TINY = BOOKS / "tiny"
GUIDE = BOOKS / "guide"
ORIGINAL = ROOT / "tests" / "data" / "isis-run.original.txt"
EPOCH = "1700000000"  # 2023-11-14T22:13:20Z


@contextmanager
def source_date_epoch(value: str | None):
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def output_contents(out: Path) -> dict[str, bytes]:
    """Every file of an output folder but the lock and the stored units (a cache, whose
    pickled sets follow the process's string hashing): the outputs (a folder output's files
    by their path in it) and the manifest."""
    return {path.relative_to(out).as_posix(): path.read_bytes()
            for path in sorted(out.rglob("*"))
            if path.is_file() and path.name != ".bindery.lock"
            and path.suffix not in (".units", ".edits", ".seal")}


def copy_book(source: Path, target: Path) -> Path:
    """A private copy of a book folder that a test may change."""
    shutil.copytree(source, target, symlinks=True)
    return target


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "‟": '"', "«": '"', "»": '"', "–": "-", "—": "-",
                         "\u2011": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " "})


def append_lines(path: Path, text: str, gap: str = "\n") -> int:
    """Add ``text`` (after ``gap``) at the end of a book's file; the line number its first
    line lands on, for the message that must name it."""
    before = path.read_text("utf-8")
    path.write_text(before + gap + text + "\n", "utf-8")
    return before.count("\n") + gap.count("\n") + 1


def normalise(text: str) -> str:
    """Text compared for fidelity: quotes, dashes, spaces and line-end hyphenation undone."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub("[\u2010\u00ad]\\s*\n\\s*", "", text)   # hyphenation added at a line end
    text = text.replace("\u00ad", "")
    text = text.translate(_QUOTES)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return normalise(text).split()


def original_parts() -> dict[str, list[str]]:
    """The seed text, read as the book reads it: byline, title, caption (once), article, bio."""
    lines = [line for line in ORIGINAL.read_text("utf-8").split("\n")]
    caption = lines[4]
    assert lines[5] == caption, "the seed repeats the caption: it counts once"
    about = lines.index("About the Author")
    return {
        "byline": words(lines[0]),
        "title": words(lines[2]),
        "article": words(" ".join([caption] + lines[7:about])),
        "bio_heading": words(lines[about]),
        "bio": words(" ".join(lines[about + 1:])),
    }


LOREM = (
    "Le livre avançait lentement, page après page, et chaque ligne demandait au compositeur "
    "une attention nouvelle : les coupures de mots, les veuves et les orphelines, l’espace "
    "entre les lettres et celui entre les lignes. Rien n’était laissé au hasard, car un "
    "lecteur attentif remarque tout, même ce qu’il ne saurait pas nommer. {n}"
)


def long_book(target: Path) -> Path:
    """The tiny book with a second chapter long enough for several pages of running heads."""
    book = copy_book(TINY, target)
    chapter = book / "chapitres" / "deux.md"
    paragraphs = "\n\n".join(LOREM.format(n=f"Paragraphe {n}.") for n in range(1, 19))
    chapter.write_text(chapter.read_text("utf-8") + "\n" + paragraphs + "\n", "utf-8")
    return book


def _multiply(m, n):
    """The product of two PDF matrices [a b c d e f]: m then n."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F]


def walk_content(page, resources=None, ctm=(1, 0, 0, 1, 0, 0), forms=True):
    """``(operator, operands, ctm, fill)`` for each operator of a page's content stream,
    with the current transformation matrix and fill colour tracked through q/Q/cm, and the
    content of form XObjects walked in place (with their matrix) when ``forms``."""
    import pikepdf

    if resources is None:
        resources = page.get("/Resources") if isinstance(page, pikepdf.Stream) else (
            page.obj.get("/Resources"))
    ctm, fill, stack = list(ctm), None, []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        values = [float(v) if isinstance(v, (int, float, Decimal)) else v for v in operands]
        if op == "q":
            stack.append((ctm, fill))
        elif op == "Q":
            ctm, fill = stack.pop()
        elif op == "cm":
            ctm = _multiply([float(v) for v in values], ctm)
        elif op in ("rg", "k", "g", "sc", "scn"):
            fill = tuple(v for v in values if isinstance(v, float))
        yield op, values, ctm, fill
        if op == "Do" and forms and resources is not None:
            xobject = resources.get("/XObject", {}).get(str(values[0]))
            if xobject is not None and xobject.get("/Subtype") == "/Form":
                matrix = [float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                yield from walk_content(xobject, xobject.get("/Resources", resources),
                                        _multiply(matrix, ctm))


def transform(ctm, x, y):
    a, b, c, d, e, f = ctm
    return a * x + c * y + e, b * x + d * y + f


def placements(page):
    """Form XObjects drawn on a page: ``(name, ctm)`` in drawing order."""
    return [(str(values[0]), ctm) for op, values, ctm, _ in walk_content(page, forms=False)
            if op == "Do"]


def interruptible() -> None:
    """In a second process that a test stops with Ctrl-C (SIGINT), before it starts: a
    shell starts a background job, and all it runs, with SIGINT ignored, and Python then
    never turns SIGINT into KeyboardInterrupt. The suite run in the background (as `.ci/run
    &` is) must still be able to stop `watch` and `serve`."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _limit_memory() -> None:
    """In the second process: a bomb that Bindery lets through fails there, not here."""
    import resource

    limit = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_isolated(arguments, cwd: Path, timeout: float,
                 prelude: str = "") -> tuple[int, str, float]:
    """``bindery ARGUMENTS`` in a second process (its own process group, its memory capped
    at 4 GiB, SOURCE_DATE_EPOCH set), killed after ``timeout`` seconds, for what would hang
    or eat memory if Bindery read it: exit status, stdout and stderr, seconds. ``prelude``
    is Python run first (to patch what a test needs to interrupt)."""
    import signal
    import subprocess
    import sys
    import time

    import pytest

    arguments = [str(argument) for argument in arguments]
    code = (f"{prelude}\nimport sys\nfrom bindery.cli import main\n"
            f"main(args=sys.argv[1:], prog_name='bindery')\n")
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *arguments], cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=_limit_memory, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"bindery {' '.join(arguments)} still ran after {timeout:.0f} s")
    return process.returncode, output, time.monotonic() - start
