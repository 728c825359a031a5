"""Lengths and paper sizes as written -> millimetres: "3mm", "A5", "6x9in", "140mm 216mm".

Shared by book.toml's settings, the booklet and the command line's options.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Trim

#: Trim sizes by name, in millimetres (width, height).
TRIMS = {
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "a6": (105.0, 148.0),
    "b5": (176.0, 250.0),
    "half-letter": (139.7, 215.9),
    "letter": (215.9, 279.4),
    "5x8in": (127.0, 203.2),
    "5.5x8.5in": (139.7, 215.9),
    "6x9in": (152.4, 228.6),
}

#: Paper sizes a booklet can be printed on, portrait, in millimetres.
SHEETS = {
    "a5": (148.0, 210.0), "a4": (210.0, 297.0), "a3": (297.0, 420.0),
    "letter": (215.9, 279.4), "legal": (215.9, 355.6), "tabloid": (279.4, 431.8),
}

_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*$")
_MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}


def parse_length(value: Any) -> float | None:
    """"3mm", "0.125in", "8.5pt" -> millimetres; None when it is not a length."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str):
        return None
    match = _LENGTH.match(value)
    return float(match[1]) * _MM_PER_UNIT[match[2]] if match else None


def parse_trim(value: Any) -> Trim | None:
    """A5, half-letter, 6x9in, "140mm 216mm" -> Trim; None when it is not a page size."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    if key in TRIMS:
        return Trim(value.strip(), *TRIMS[key])
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*x\s*(\d+(?:\.\d+)?)\s*(mm|cm|in)", key)
    if match:
        unit = _MM_PER_UNIT[match[3]]
        width, height = float(match[1]) * unit, float(match[2]) * unit
    else:
        parts = key.split()
        if len(parts) != 2:
            return None
        width, height = parse_length(parts[0]), parse_length(parts[1])
        if width is None or height is None:
            return None
    if not (50 <= width <= 600 and 50 <= height <= 600):
        return None
    return Trim(value.strip(), round(width, 3), round(height, 3))


def parse_sheet(name: Any) -> tuple[str, float, float] | None:
    """A booklet's paper (A4, letter, "420mm 297mm") -> (name, landscape width, height) in
    millimetres; None when it is not a paper size."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    if key in SHEETS:
        short, long = SHEETS[key]
        return key, long, short
    custom = parse_trim(name)
    if custom is None:
        return None
    return name, max(custom.width_mm, custom.height_mm), min(custom.width_mm,
                                                             custom.height_mm)

#: The thickness of one leaf (two pages) of common book papers, in mm: the spine of a
#: perfect-bound book is the number of leaves times this.
PAPERS = {"80gsm-uncoated": 0.100, "90gsm-uncoated": 0.112, "100gsm-uncoated": 0.125,
          "80gsm-coated": 0.072, "115gsm-coated": 0.090, "60lb-cream": 0.113,
          "50lb-white": 0.094}
