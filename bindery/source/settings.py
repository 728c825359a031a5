"""book.toml -> Settings: every key checked, every error naming the file and the key's line."""

from __future__ import annotations

import datetime
import os
import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import BookError, BookWarning
from ..model import Author, BookletSettings, EpubSettings, PrintSettings
from ..paths import read_file, relative_name_ok, within
from .images import image_problem
from .labels import KEYS as LABEL_KEYS, labels_for
from .names import file_as, is_language_tag, is_slug, isbn_ok, slugify
from .text import check_xml_characters, read_text
from .tomlkeys import KeyLines, toml_error
from .printing import PrintTables

CONFIG_NAME = "book.toml"
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")

_KNOWN_KEYS = {
    "": {"title", "subtitle", "author", "authors", "language", "identifier", "slug",
         "description", "rights", "publisher", "subjects", "credits", "chapters", "cover",
         "labels", "print", "press", "booklet", "epub", "notes", "date", "site"},
    "authors": {"name", "file_as", "role"},
    "print": {"trim", "bleed", "toc", "binding", "chapter_start"},
    "press": {"marks", "slug"},
    "booklet": {"sheet", "flip", "sheets_per_signature", "creep"},
    "epub": {"page_list", "toc_depth", "certified_by"},
    "notes": {"placement"},
    "site": {"url"},
    "cover": {"image", "paper", "caliper"},
}


@dataclass(frozen=True)
class Settings:
    """What book.toml says, checked; the chapters are named, not yet read."""

    path: Path                           # book.toml itself
    title: str
    subtitle: str
    authors: tuple[Author, ...]
    language: str
    identifier: str
    slug: str
    description: str
    rights: str
    publisher: str
    subjects: tuple[str, ...]
    credits: tuple[str, ...]
    chapter_files: tuple[tuple[str, Path], ...]   # (as written, path)
    chapters_line: int | None                     # where `chapters` is, for errors
    print: PrintSettings
    booklet: BookletSettings
    epub: EpubSettings
    cover: Path | None
    labels: MappingProxyType
    warnings: tuple[BookWarning, ...]


def read_settings(root: Path) -> Settings:
    """Read and check ``root/book.toml``; raise BookError at the first problem."""
    config = root / CONFIG_NAME
    if not os.path.lexists(config):
        raise BookError("book.toml not found", config,
                        hint="create one, or start a new book with `bindery new`")
    if not within(config, root):
        raise BookError("book.toml is a link that points outside the book folder", config)
    text = read_text(config, "book.toml")
    if not text.strip():
        raise BookError("book.toml is empty", config,
                        hint="it needs at least title, authors, language, identifier, chapters")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_error(error, config) from None
    except RecursionError:
        raise BookError("invalid TOML: arrays or tables nest too deep", config) from None
    return _Reader(root, config, KeyLines(text), data).settings()


class _Reader(PrintTables):
    """Reads book.toml's values one by one; an error points at the key's line."""

    def __init__(self, root: Path, path: Path, keys: KeyLines, data: dict[str, Any]):
        self.root, self.path, self.keys, self.data = root, path, keys, data
        self.warnings: list[BookWarning] = []

    # -- errors that point at a key -------------------------------------------------

    def error(self, message: str, key: str, table: str = "", hint: str | None = None):
        return BookError(message, self.path, self.keys.of(table, key), hint=hint)

    def warn(self, message: str, key: str | None = None, table: str = "") -> None:
        line = self.keys.of(table, key) if key else None
        self.warnings.append(BookWarning(message, self.path, line))

    def string(self, data: dict, key: str, table: str = "", required: bool = False,
               default: str = "") -> str:
        where = f"[{table.split('.')[0]}] " if table else ""
        if key not in data:
            if required:
                raise BookError(f"{where}`{key}` is missing", self.path,
                                self.keys.of(table) if table else None,
                                hint=f"add `{key} = \"...\"`")
            return default
        value = data[key]
        if not isinstance(value, str):
            raise self.error(f"{where}`{key}` must be a string, got {_kind(value)}", key, table)
        self.xml_safe(value, key, table)
        value = " ".join(value.split())
        if required and not value:
            raise self.error(f"{where}`{key}` is empty", key, table)
        return value

    def xml_safe(self, value: str, key: str, table: str = "") -> None:
        where = f"[{table.split('.')[0]}] " if table else ""
        check_xml_characters(value, self.path, self.keys.of(table, key) or 1,
                             what=f"{where}`{key}`")

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"`{key}` must be a list of strings", key)
        for item in value:
            self.xml_safe(item, key)
        return tuple(" ".join(item.split()) for item in value if item.strip())

    # -- the settings -------------------------------------------------------------------

    def settings(self) -> Settings:
        for key in self.data:
            if key not in _KNOWN_KEYS[""]:
                self.warn(f"unknown key `{key}` is ignored", key)
        title = self.string(self.data, "title", required=True)
        language = self.language()
        return Settings(
            path=self.path,
            title=title,
            subtitle=self.string(self.data, "subtitle"),
            authors=self.authors(),
            language=language,
            identifier=self.identifier(),
            slug=self.slug(title),
            description=self.string(self.data, "description"),
            rights=self.string(self.data, "rights"),
            publisher=self.string(self.data, "publisher"),
            subjects=self.strings("subjects"),
            credits=self.strings("credits"),
            chapter_files=self.chapter_files(),
            chapters_line=self.keys.of("", "chapters"),
            print=self.print_settings(),
            booklet=self.booklet_settings(),
            epub=self.epub_settings(),
            cover=self.cover(),
            labels=labels_for(language, self.labels()),
            warnings=tuple(self.warnings),
        )

    def authors(self) -> tuple[Author, ...]:
        if "author" in self.data and "authors" in self.data:
            raise self.error("give either `author` or `[[authors]]`, not both", "author")
        if "author" in self.data:
            name = self.string(self.data, "author", required=True)
            return (Author(name, file_as(name)),)
        entries = self.data.get("authors")
        if entries is None:
            raise BookError("`authors` is missing", self.path,
                            hint='add `author = "Name"` or an [[authors]] table with `name`')
        if not isinstance(entries, list) or not entries or not all(
                isinstance(entry, dict) for entry in entries):
            raise self.error("`authors` must be one or more [[authors]] tables", "authors")
        authors = []
        for index, entry in enumerate(entries):
            table = f"authors.{index}"
            for key in entry:
                if key not in _KNOWN_KEYS["authors"]:
                    self.warn(f"unknown key `{key}` in [[authors]] is ignored", key, table)
            name = self.string(entry, "name", table, required=True)
            sort_name = self.string(entry, "file_as", table, default=file_as(name))
            role = self.string(entry, "role", table, default="aut")
            if not re.fullmatch(r"[a-z]{3}", role):
                raise self.error(f"[authors] `role` must be a MARC relator code such as "
                                 f"`aut` or `edt`, got `{role}`", "role", table)
            authors.append(Author(name, sort_name, role))
        return tuple(authors)

    def language(self) -> str:
        language = self.string(self.data, "language", required=True)
        if not is_language_tag(language):
            raise self.error(
                f"`language` must be a BCP 47 tag such as `en` or `pt-BR`, got `{language}`",
                "language")
        return language

    def identifier(self) -> str:
        identifier = self.string(self.data, "identifier", required=True)
        if identifier.lower().startswith("urn:uuid:"):
            try:
                uuid.UUID(identifier[len("urn:uuid:"):])
            except ValueError:
                raise self.error(f"`identifier` has an invalid UUID: `{identifier}`",
                                 "identifier", hint=f"for example urn:uuid:{uuid.uuid4()}"
                                 ) from None
        elif identifier.lower().startswith("urn:isbn:"):
            digits = identifier[len("urn:isbn:"):].replace("-", "")
            if not isbn_ok(digits):
                raise self.error(f"`identifier` has an invalid ISBN: `{identifier}`",
                                 "identifier")
        else:
            raise self.error(
                f"`identifier` must be `urn:uuid:...` or `urn:isbn:...`, got `{identifier}`",
                "identifier", hint=f"for example urn:uuid:{uuid.uuid4()}")
        return identifier

    def slug(self, title: str) -> str:
        if "slug" not in self.data:
            return slugify(title) or "book"
        slug = self.string(self.data, "slug", required=True)
        if not is_slug(slug):
            raise self.error(f"`slug` names the output files and must be lower-case letters, "
                             f"digits and hyphens, got `{slug}`", "slug")
        return slug

    def labels(self) -> dict[str, str]:
        data = self.data.get("labels", {})
        if not isinstance(data, dict):
            raise self.error("`labels` must be a table: [labels]", "labels")
        for key, value in data.items():
            if key not in LABEL_KEYS:
                raise self.error(f"unknown label `{key}`", key, "labels",
                                 hint="labels are " + ", ".join(sorted(LABEL_KEYS)))
            if not isinstance(value, str) or not value.strip():
                raise self.error(f"[labels] `{key}` must be a non-empty string", key, "labels")
            self.xml_safe(value, key, "labels")
        return {key: " ".join(value.split()) for key, value in data.items()}

    def cover(self) -> Path | None:
        """The e-book's cover image: ``cover = "images/cover.jpg"``, or ``image`` in a
        ``[cover]`` table (which also holds the print cover's paper)."""
        value = self.data.get("cover")
        if value is None:
            return None
        if isinstance(value, dict):
            table, key = self.table("cover"), "image"
            if key not in table:
                return None
            name = self.string(table, key, "cover", required=True)
        else:
            table, key = self.data, "cover"
            name = self.string(self.data, "cover", required=True)
        where = ("cover",) if key == "cover" else ("image", "cover")
        path = self.inside(name, key)
        if not path.is_file():
            raise self.error(f"cover image `{name}` not found", *where)
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            raise self.error(f"cover image `{name}` must be a JPEG or PNG file", *where)
        try:
            problem = image_problem(read_file(path, "cover image"), path.suffix.lower())
        except BookError as error:
            raise self.error(f"cover image `{name}`: {error.message}", *where) from None
        if problem is not None:
            raise self.error(f"cover image `{name}` {problem}", *where)
        return path

    def inside(self, name: str, key: str) -> Path:
        """``name`` as a path inside the book folder; anything else is an error."""
        if not relative_name_ok(name):
            raise self.error(f"`{key}` must be a path inside the book folder, got `{name}`",
                             key)
        path = self.root / name
        if not within(path, self.root):
            raise self.error(f"`{key}` points outside the book folder: `{name}`", key)
        return path

    def chapter_files(self) -> tuple[tuple[str, Path], ...]:
        names = self.data.get("chapters")
        if names is None:
            raise BookError("`chapters` is missing", self.path,
                            hint='list the chapter files: chapters = ["chapters/one.md"]')
        if (not isinstance(names, list) or not names
                or not all(isinstance(name, str) for name in names)):
            raise self.error("`chapters` must be a non-empty list of file names", "chapters")
        return tuple((name, self.inside(name, "chapters")) for name in names)

    def epub_settings(self) -> EpubSettings:
        data = self.table("epub")
        page_list = data.get("page_list", True)
        if not isinstance(page_list, bool):
            raise self.error("[epub] `page_list` must be true or false", "page_list", "epub")
        depth = data.get("toc_depth", 2)
        if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= 6:
            raise self.error("[epub] `toc_depth` must be a whole number from 1 to 6 (1: "
                             "chapters only, 2: and their sections...)", "toc_depth", "epub")
        placement = self.choice(self.table("notes"), "placement", "notes", {
            "chapter": "each chapter's notes at its end",
            "book": "all notes in a Notes document"})
        date = self.data.get("date", "")
        if isinstance(date, datetime.date):          # TOML's own date: date = 2016-11-08
            date = date.isoformat()[:10]
        if not isinstance(date, str) or (date and not _DATE.fullmatch(date)):
            raise self.error(f"`date` must be the publication date, such as 2016-11-08, got "
                             f"`{date}`", "date")
        certifier = self.string(data, "certified_by", "epub")
        url = self.string(self.table("site"), "url", "site")
        if url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise self.error(f"[site] `url` must be the site's address, such as "
                             f"https://example.org/isis-run/, got `{url}`", "url", "site")
        return EpubSettings(page_list=page_list, toc_depth=depth, notes=placement,
                            date=date, certified_by=certifier, site_url=url)

    def table(self, name: str) -> dict:
        data = self.data.get(name, {})
        if not isinstance(data, dict):
            raise self.error(f"`{name}` must be a table: [{name}]", name)
        for key in data:
            if key not in _KNOWN_KEYS[name]:
                self.warn(f"unknown key `{key}` in [{name}] is ignored", key, name)
        return data


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
