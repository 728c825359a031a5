"""Paths -> whether they stay inside a folder: the one test every read of the book goes by."""

from __future__ import annotations

from pathlib import Path


def within(path: Path, folder: Path) -> bool:
    """Whether ``path``, every symbolic link followed, lies inside ``folder``."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def relative_name_ok(name: str) -> bool:
    """Whether ``name`` is written as a path relative to its folder: not absolute, no drive,
    no URL scheme (what a book.toml entry or a template name may be)."""
    return not (Path(name).is_absolute() or name.startswith(("/", "\\")) or ":" in name)
