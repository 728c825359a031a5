"""Book + its fonts -> the characters no font covers, as warnings naming chapter and line.

The print edition uses only the fonts it ships and those of the book (``styles/fonts/``):
the layout engine never falls back on a font of the machine (``styles/fonts.conf``), so a
character no font covers would print as an empty box. The author is told where, once per
chapter, with the characters.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from pathlib import Path

from ..errors import BookWarning
from ..model import Book
from ..sandbox import Sandbox

FONT_SUFFIXES = (".otf", ".ttf", ".woff", ".woff2")
#: Characters that are never drawn with a glyph of their own.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}
_SHOWN = 12          # characters listed in a warning, at most
_TAG = re.compile(r"<[^>]*>")


def coverage_warnings(book: Book, sandbox: Sandbox) -> list[BookWarning]:
    covered = frozenset().union(*(_cmap(str(path), path.stat().st_mtime_ns)
                                  for path in font_files(sandbox)))
    warnings = []
    metadata = " ".join([book.title, book.subtitle, book.author_names, book.publisher,
                         book.rights, *book.credits])
    texts = [(book.config, None, metadata, set(metadata))]
    # The Markdown gives the lines; only characters that are printed count (a link's
    # address is not).
    texts += [(chapter.source, chapter.first_line, chapter.markdown,
               set(html.unescape(_TAG.sub(" ", chapter.print_body or chapter.body))))
              for chapter in book.chapters]
    for source, first_line, text, printed in texts:
        # Most books' fonts cover every character they print: the lines are read only when
        # one is missing, to say where the first is and list them in the order they come.
        absent = {char for char in printed if ord(char) not in covered and char != " "
                  and unicodedata.category(char) not in _INVISIBLE}
        if not absent:
            continue
        missing: dict[str, None] = {}
        where = None
        for number, line in enumerate(text.split("\n")):
            found = [char for char in line if char in absent]
            if found and where is None:
                where = first_line + number if first_line is not None else None
            missing.update(dict.fromkeys(found))
        if missing:
            chars = list(missing)
            shown = " ".join(chars[:_SHOWN]) + (" …" if len(chars) > _SHOWN else "")
            codes = ", ".join(f"U+{ord(char):04X}" for char in chars[:_SHOWN])
            warnings.append(BookWarning(
                f"{len(chars)} character(s) are in no font of the book and print as empty "
                f"boxes: {shown} ({codes}); add a font that covers them to the book's "
                f"styles/fonts/ (see the README)", source, where))
    return warnings


def font_files(sandbox: Sandbox) -> list[Path]:
    """The font files the print edition may use: the book's, then Bindery's."""
    found = []
    for folder in sandbox.style_folders:
        fonts = folder / "fonts"
        if fonts.is_dir():
            found += sorted(path for path in fonts.rglob("*")
                            if path.suffix.lower() in FONT_SUFFIXES and sandbox.inside(path))
    return found


@functools.lru_cache(maxsize=64)
def _cmap(path: str, stamp: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or {})
    except (TTLibError, OSError, ValueError, KeyError, AssertionError):
        return frozenset()
