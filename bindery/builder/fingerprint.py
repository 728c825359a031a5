"""Book folder -> fingerprints of its sources, grouped by the outputs that read them.

``common`` is what the print layout reads (book.toml, the chapters, images, the print
templates and styles, the fonts, Bindery's own code, SOURCE_DATE_EPOCH): every output
depends on it, the EPUB through its page map. ``epub`` is what only the EPUB reads (its
stylesheet and templates, its settings), ``cover`` the cover image, wherever it is (the
e-book's cover and the front of the print cover wrap), ``booklet`` what only the booklet
reads (its settings). Hashing needs no WeasyPrint and no ebooklib, so a build with nothing to do
imports neither.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BookError
from ..paths import TEXT_LIMIT, listed, read_file, relative_name_ok, within
from ..resources import PACKAGE, STYLES, TEMPLATES
from ..source.names import is_slug, slugify
from .outputs import OUTPUTS


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path, root: Path) -> str | None:
    """The hash of a regular file inside ``root``; None for anything else (what the full
    build then refuses with its reason): nothing outside the book, no pipe, no device."""
    if not within(path, root):
        return None
    try:
        return sha256(read_file(path))
    except BookError:
        return None


@dataclass(frozen=True)
class Inputs:
    """Fingerprints of the sources, by what uses them."""

    groups: dict[str, dict[str, str]]    # "common", "epub", "cover", "booklet" -> name -> hash
    notes: dict[str, str]       # what only the warnings depend on: the chapter files present
    epub_page_list: bool = True  # the EPUB needs the print layout for its page list
    included: frozenset = frozenset()   # the keys of common only the last build's includes give
    imaged: frozenset = frozenset()     # the keys of common only the last build's images give
    own: dict = dataclasses.field(default_factory=dict)   # output -> what only it read

    @property
    def common(self) -> dict[str, str]:
        return self.groups["common"]

    def as_read(self, includes: dict[str, str], images: dict[str, str]) -> "Inputs":
        """These inputs as this build read them: with the files it read beyond the listed
        folders (those its code blocks included, those its layout read) and the pictures
        its chapters showed (name -> the hash of what was read) instead of those the last
        build's manifest named: what the next build's fingerprint holds, so that a book
        whose pictures are outside ``images/`` is up to date after its first build. A file
        both read and shown is both."""
        read = {f"book/{name}": digest for name, digest in includes.items()}
        shown = {f"book/{name}": digest for name, digest in images.items()}
        common = {key: value for key, value in self.common.items()
                  if key not in self.included and key not in self.imaged}
        return dataclasses.replace(
            self, groups={**self.groups, "common": {**common, **read, **shown}},
            included=frozenset(read) - set(common), imaged=frozenset(shown) - set(common))

    def of(self, fmt: str) -> dict[str, str]:
        """Every fingerprint the output ``fmt`` depends on."""
        merged: dict[str, str] = {}
        for group in OUTPUTS[fmt].inputs:
            merged.update(self.groups[group])
        merged.update(self.own.get(fmt, {}))
        return merged


def chapter_keys(book) -> set[str]:
    """The fingerprints' names of the book's chapter files inside its folder."""
    return {f"book/{chapter.source.relative_to(book.root).as_posix()}"
            for chapter in book.chapters if chapter.source.is_relative_to(book.root)}


def sources_but_chapters(inputs: Inputs | None, book) -> tuple[str, dict] | None:
    """A fingerprint of the book's sources as the plan took them (``inputs``), but its
    chapters': what a chapter's conversion may read besides its own text; and each file's,
    by name, for the files a chapter reads (``convert/memo.py``)."""
    chapters = chapter_keys(book)
    if inputs is None or len(chapters) < len(book.chapters):    # one is outside the book
        return None
    listing = sorted((group, name, value) for group, names in inputs.groups.items()
                     for name, value in names.items() if name not in chapters)
    known = {name: value for names in inputs.groups.values()
             for name, value in names.items()}
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest(), known


def source_name(key: str, book_dir: Path) -> str:
    """A fingerprint's name as the user finds the file from where they stand:
    ``book/chapters/one.md`` -> ``wbook/chapters/one.md``."""
    from ..errors import display_path

    if key.startswith("book/"):
        return display_path(book_dir / key[len("book/"):])
    if key.startswith("book.toml"):
        return display_path(book_dir / "book.toml") + key[len("book.toml"):]
    return key          # Bindery's own files, SOURCE_DATE_EPOCH, the command line's options


def code_fingerprint() -> str:
    """Bindery's version and a digest of its code (the manifest's and the store's)."""
    digest = hashlib.sha256(__version__.encode())
    files = _tree(PACKAGE)
    for path in ([path for path in files if path.suffix == ".py"]
                 + [path for path in files if path.suffix == ".java"]):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(read_file(path))
    return f"{__version__}:{digest.hexdigest()[:16]}"


def _folder(root: Path, label: str, epub_only) -> tuple[dict[str, str], dict[str, str]]:
    common, epub = {}, {}
    for path in _tree(root):
        if path.name.startswith(".") or _bytecode(path):
            continue
        relative = path.relative_to(root).as_posix()
        target = epub if epub_only(relative) else common
        # A pipe or a link that leads out is recorded as such: the build then says why.
        target[f"{label}/{relative}"] = file_hash(path, root) or "not a readable file"
    return common, epub


def _tree(root: Path) -> list[Path]:
    """The files under ``root`` (anything but folders), sorted, in one walk; ``root`` and
    every folder in it but bytecode caches are noted as listed; none when it is no folder."""
    if not root.is_dir():
        listed(root)
        return []
    files = []
    listed(root)
    for path in sorted(root.rglob("*")):
        if not path.is_dir():
            files.append(path)
        elif "__pycache__" not in path.parts:
            listed(path)
    return files


def _bytecode(path: Path) -> bool:
    return path.suffix == ".pyc" or "__pycache__" in path.parts


def _settings(data: dict, key: str) -> str:
    return sha256(json.dumps(data.get(key), sort_keys=True, default=str).encode())


@dataclass(frozen=True)
class Identity:
    """Which book this is, as book.toml says before it is checked: its slug names its
    outputs and its manifest, its identifier tells two books with one slug apart."""

    slug: str
    identifier: str


def read_book_toml(book_dir: Path) -> dict | None:
    """book.toml's data, or None when it cannot be read (the full build says why)."""
    if not within(book_dir / "book.toml", book_dir):
        return None
    try:
        return tomllib.loads(read_file(book_dir / "book.toml", "book.toml",
                                       TEXT_LIMIT).decode("utf-8-sig"))
    except (BookError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None


def identity(book_dir: Path) -> Identity | None:
    """The book's slug and identifier from its book.toml; None when they cannot be told."""
    data = read_book_toml(book_dir)
    return identity_of(data) if data is not None else None


def identity_of(data: dict) -> Identity | None:
    """The slug and identifier that book.toml's ``data`` give; None when they cannot be told."""
    slug, title = data.get("slug"), data.get("title")
    if not isinstance(slug, str):
        slug = (slugify(title) or "book") if isinstance(title, str) else None
    slug = " ".join(slug.split()) if slug else None
    identifier = data.get("identifier")
    if not slug or not is_slug(slug) or not isinstance(identifier, str):
        return None
    return Identity(slug, " ".join(identifier.split()))


def fingerprint(book_dir: Path, data: dict | None, booklet_options: dict[str, Any],
                known_images: list[str], known_includes: list[str] = (),
                known_own: dict[str, list[str]] | None = None) -> Inputs | None:
    """The fingerprints of the book's sources, given book.toml's ``data``
    (``read_book_toml``); None when it could not be read (the full build then says what is
    wrong). ``known_includes`` are the files the last build's code blocks included and its
    layout read; ``known_own``, by output, those an output read itself (its template's).
    ``known_images`` are the images the last build used, wherever they are in the
    book folder. Only regular files inside the book folder are read."""
    if data is None or identity_of(data) is None:
        return None
    chapters = data.get("chapters")
    if not isinstance(chapters, list) or not all(
            isinstance(c, str) and relative_name_ok(c) for c in chapters):
        return None
    common: dict[str, str] = {
        "book.toml": sha256(json.dumps({k: v for k, v in data.items()
                                        if k not in ("booklet", "epub")},
                                       sort_keys=True, default=str).encode()),
        "bindery": code_fingerprint(),
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", ""),
    }
    for name in chapters:
        digest = file_hash(book_dir / name, book_dir)
        if digest is None:
            return None
        common[f"book/{name}"] = digest
    listed(book_dir)                       # a folder of it made a link, or moved away
    in_folder = {path.relative_to(book_dir).as_posix()
                 for path in _tree(book_dir / "images") if path.is_file()}
    imaged = {f"book/{name}" for name in known_images} - {f"book/{name}" for name in in_folder}
    imaged -= set(common)
    for name in sorted(set(known_images) | in_folder):
        common[f"book/{name}"] = file_hash(book_dir / name, book_dir) or ""
    epub: dict[str, str] = {"book.toml[epub]": _settings(data, "epub")}
    cover_image: dict[str, str] = {}
    cover = data.get("cover")
    if isinstance(cover, dict):
        cover = cover.get("image")
    if isinstance(cover, str):
        if not relative_name_ok(cover):
            return None
        cover_image[f"book/{cover}"] = file_hash(book_dir / cover, book_dir) or ""

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
    booklet = {"book.toml[booklet]": _settings(data, "booklet"),
               "options": json.dumps(booklet_options, sort_keys=True)}
    folders = sorted({(book_dir / name).parent for name in chapters})
    for folder in folders:
        listed(folder)
    notes = {"chapter files": sha256("\n".join(
        sorted(str(path) for folder in folders for path in folder.glob("*.md"))).encode())}
    epub_settings = data.get("epub") if isinstance(data.get("epub"), dict) else {}
    included = {f"book/{name}" for name in known_includes} - set(common)
    for key in sorted(included):
        common[key] = file_hash(book_dir / key[len("book/"):], book_dir) or ""
    own = {fmt: {f"book/{name}": file_hash(book_dir / name, book_dir) or ""
                 for name in names} for fmt, names in (known_own or {}).items() if names}
    return Inputs(groups={"common": common, "epub": epub, "cover": cover_image,
                          "booklet": booklet}, notes=notes,
                  epub_page_list=epub_settings.get("page_list", True) is not False,
                  included=frozenset(included), imaged=frozenset(imaged), own=own)
