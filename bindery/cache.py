"""Sources -> fingerprints -> which outputs are stale: the build manifest in the output folder.

Each output records the content hashes of everything it was made from. Inputs fall in three
groups: what every output uses (book.toml, the chapters, images, the print templates and
styles, the fonts, Bindery's own code, SOURCE_DATE_EPOCH: the print layout and so the
EPUB's page map depend on them), what only the EPUB uses (its stylesheet and templates, the
cover) and what only the booklet uses (its settings). Hashing needs no WeasyPrint and no
ebooklib, so a build with nothing to do imports neither.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .fetch import PACKAGE, STYLES, TEMPLATES

MANIFEST = ".bindery-manifest.json"
LOCK = ".bindery.lock"
FORMAT_VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str | None:
    try:
        return sha256(Path(path).read_bytes())
    except OSError:
        return None


@dataclass(frozen=True)
class Inputs:
    """Fingerprints of the sources, by what uses them."""

    common: dict[str, str]
    epub: dict[str, str]
    booklet: dict[str, str]
    notes: dict[str, str]       # what only the warnings depend on: the chapter files present
    epub_page_list: bool = True  # the EPUB needs the print layout for its page list

    def of(self, fmt: str) -> dict[str, str]:
        extra = {"epub": self.epub, "booklet": self.booklet}.get(fmt, {})
        return {**self.common, **extra}


def _code_fingerprint() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE.glob("*.py")) + sorted(PACKAGE.glob("*.java")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}:{digest.hexdigest()[:16]}"


def _folder(root: Path, label: str, epub_only) -> tuple[dict[str, str], dict[str, str]]:
    common, epub = {}, {}
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                relative = path.relative_to(root).as_posix()
                target = epub if epub_only(relative) else common
                target[f"{label}/{relative}"] = file_hash(path) or ""
    return common, epub


def fingerprint(book_dir: Path, booklet_options: dict[str, Any],
                previous: "Manifest | None") -> Inputs | None:
    """The fingerprints of the book's sources; None when book.toml cannot even be read
    (the full build then says what is wrong)."""
    config = book_dir / "book.toml"
    try:
        data = tomllib.loads(config.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    chapters = data.get("chapters")
    if not isinstance(chapters, list) or not all(isinstance(c, str) for c in chapters):
        return None
    common: dict[str, str] = {
        "book.toml": sha256(json.dumps({k: v for k, v in data.items()
                                        if k not in ("booklet", "epub")},
                                       sort_keys=True, default=str).encode()),
        "bindery": _code_fingerprint(),
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", ""),
    }
    for name in chapters:
        digest = file_hash(book_dir / name)
        if digest is None:
            return None
        common[f"book/{name}"] = digest
    images = set(previous.images if previous else ())
    images.update(path.relative_to(book_dir).as_posix()
                  for path in (book_dir / "images").rglob("*") if path.is_file())
    for name in sorted(images):
        common[f"book/{name}"] = file_hash(book_dir / name) or ""
    epub_settings = data.get("epub") if isinstance(data.get("epub"), dict) else {}
    epub: dict[str, str] = {"book.toml[epub]": sha256(json.dumps(
        data.get("epub"), sort_keys=True, default=str).encode())}
    cover = data.get("cover")
    if isinstance(cover, str):
        epub[f"book/{cover}"] = file_hash(book_dir / cover) or ""

    def epub_template(relative: str) -> bool:
        return relative.startswith("epub/")

    def epub_style(relative: str) -> bool:
        return relative == "epub.css"

    for root, label, epub_only in ((book_dir / "templates", "book/templates", epub_template),
                                   (TEMPLATES, "bindery/templates", epub_template),
                                   (book_dir / "styles", "book/styles", epub_style),
                                   (STYLES, "bindery/styles", epub_style)):
        found_common, found_epub = _folder(root, label, epub_only)
        common.update(found_common)
        epub.update(found_epub)
    booklet = {
        "book.toml[booklet]": sha256(json.dumps(data.get("booklet"), sort_keys=True,
                                                default=str).encode()),
        "options": json.dumps(booklet_options, sort_keys=True),
    }
    folders = sorted({(book_dir / name).parent for name in chapters})
    notes = {"chapter files": sha256("\n".join(
        sorted(str(path) for folder in folders for path in folder.glob("*.md"))).encode())}
    return Inputs(common=common, epub=epub, booklet=booklet, notes=notes,
                  epub_page_list=epub_settings.get("page_list", True) is not False)


@dataclass
class Manifest:
    """What the last successful build made, from what."""

    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    common: dict[str, str] = field(default_factory=dict)   # inputs of the last layout
    page_starts: list[list[Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, out_dir: Path) -> "Manifest | None":
        try:
            data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("format") != FORMAT_VERSION:
            return None
        return cls(outputs=data.get("outputs", {}), common=data.get("common", {}),
                   page_starts=data.get("page_starts", []), images=data.get("images", []),
                   warnings=data.get("warnings", []), notes=data.get("notes", {}))

    def serialise(self) -> bytes:
        return json.dumps({"format": FORMAT_VERSION, "bindery": __version__,
                           "outputs": self.outputs, "common": self.common,
                           "page_starts": self.page_starts, "images": self.images,
                           "warnings": self.warnings, "notes": self.notes},
                          indent=1, sort_keys=True).encode()

    def fresh(self, fmt: str, inputs: Inputs, out_dir: Path) -> bool:
        """Whether the output ``fmt`` on disk was made from exactly these inputs."""
        record = self.outputs.get(fmt)
        if record is None or record.get("inputs") != inputs.of(fmt):
            return False
        return file_hash(out_dir / record["file"]) == record["sha256"]

    def layout_reusable(self, inputs: Inputs) -> bool:
        """Whether the last layout (its page map, its reading PDF) still holds."""
        return bool(self.common) and self.common == inputs.common

    def changed(self, fmt: str, inputs: Inputs) -> list[str]:
        """The inputs of ``fmt`` that differ from the last time it was made."""
        recorded = self.outputs.get(fmt, {}).get("inputs", {})
        current = inputs.of(fmt)
        return sorted(key for key in set(recorded) | set(current)
                      if recorded.get(key) != current.get(key))
