"""What to build, as the command line or a caller asks for it, and the build's date."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import BookError
from ..model import BookletSettings
from .outputs import FORMATS, OUTPUTS


@dataclass(frozen=True)
class BookletOverrides:
    """Booklet settings given on the command line; None keeps book.toml's."""

    sheet: str | None = None
    flip: str | None = None
    sheets_per_signature: int | None = None
    creep_mm: float | None = None

    def apply(self, settings: BookletSettings) -> BookletSettings:
        return dataclasses.replace(settings, **self.given())

    def given(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class BuildRequest:
    """One book to build: from where, into where, which outputs, how."""

    book_dir: Path
    out_dir: Path
    formats: tuple[str, ...] = FORMATS
    strict: bool = False                  # a warning stops the build
    booklet: BookletOverrides = field(default_factory=BookletOverrides)
    force: bool = False                   # rebuild every output, stale or not
    parallel: bool = True                 # threads and a second process
    # Lay out a unit at a time and keep the units, and the chapters converted, for the next
    # build in this process (`watch`, `serve`: pdf/units.py, convert/memo.py).
    keep_layout: bool = False
    # Lay out a unit at a time and leave the units in the output folder, for the next build
    # in a new process to start from (builder/unitstore.py); False lays the book out in one
    # pass and leaves nothing.
    store_layout: bool = True

    def __post_init__(self):
        object.__setattr__(self, "book_dir", Path(self.book_dir))
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        object.__setattr__(self, "formats",
                           tuple(fmt for fmt in OUTPUTS if fmt in self.formats) or FORMATS)


def build_date() -> datetime:
    """The build's date: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BookError(f"SOURCE_DATE_EPOCH must be a number of seconds, got `{epoch}`"
                        ) from None


def w3c_date(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%SZ")
