"""TOML text -> where its keys are, so that an error about a value names its line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ..errors import BookError


class KeyLines:
    """Line numbers of the keys in a TOML file.

    ``tomllib`` keeps no positions; a TOML key/value starts its own line, so a scan of the
    lines finds the key under its table header. ``[[authors]]`` tables are numbered.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")

    def __init__(self, text: str):
        self.lines: dict[tuple[str, str], int] = {}
        self.tables: dict[str, int] = {}
        table = ""
        counts: dict[str, int] = {}
        for number, line in enumerate(text.split("\n"), start=1):
            header = self._HEADER.match(line)
            if header:
                name = header[2].strip().strip("\"'")
                if header[1] == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    name = f"{name}.{index}"
                table = name
                self.tables.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.lines.setdefault((table, key[1].strip('"')), number)

    def of(self, table: str, key: str | None = None) -> int | None:
        if key is None:
            return self.tables.get(table)
        return self.lines.get((table, key), self.tables.get(table))


def toml_error(error: tomllib.TOMLDecodeError, path: Path) -> BookError:
    """tomllib's error as a BookError naming the line and column."""
    message = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        message = message[:match.start()]
        return BookError(f"invalid TOML: {message}", path, int(match[1]), int(match[2]))
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        message = message[:match.start()] + " at the end of the file"
    return BookError(f"invalid TOML: {message}", path)
