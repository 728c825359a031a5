"""Bindery's own files -> paths: its templates, styles and EPUBCheck runner, wherever pip put
them (a checkout installed in editable mode, or a wheel), found through importlib.resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    folder = files(package)
    if not isinstance(folder, Path):      # a zip import: Bindery needs real files
        raise RuntimeError(f"{package} is not installed as files on disk: {folder}")
    return folder


#: The package's own code, hashed into the build manifest.
PACKAGE = _folder("bindery")
#: Bindery's templates and styles: the second place every lookup tries, after the book's.
TEMPLATES = _folder("bindery.templates")
STYLES = _folder("bindery.styles")
#: Runs EPUBCheck on several files in one Java process.
EPUBCHECK_BATCH = PACKAGE / "check" / "EpubCheckBatch.java"
