"""Helpers shared by the tests: building books, reading outputs back, normalising text."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BOOKS = ROOT / "tests" / "books"
TINY = BOOKS / "tiny"
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


def copy_book(source: Path, target: Path) -> Path:
    """A private copy of a book folder that a test may change."""
    shutil.copytree(source, target, symlinks=True)
    return target


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "‟": '"', "«": '"', "»": '"', "–": "-", "—": "-",
                         "\u2011": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " "})


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
