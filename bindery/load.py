"""book folder -> Book: read book.toml and the chapters, check everything, name file:line."""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BookError, BookWarning
from .labels import KEYS as LABEL_KEYS, labels_for
from .model import (Author, Book, BookletSettings, Chapter, Division, EpubSettings,
                    PrintSettings, Trim)
from .text import find_not_xml, read_text

CONFIG_NAME = "book.toml"

#: What a chapter's ``role`` can be. Terms from the EPUB 3 Structural Semantics Vocabulary,
#: roles from DPUB-ARIA 1.1; ``None`` where DPUB-ARIA has no equivalent.
DIVISIONS = {division.name: division for division in (
    Division("foreword", "front", "foreword", "doc-foreword"),
    Division("preface", "front", "preface", "doc-preface"),
    Division("introduction", "front", "introduction", "doc-introduction"),
    Division("dedication", "front", "dedication", "doc-dedication"),
    Division("epigraph", "front", "epigraph", "doc-epigraph"),
    Division("frontmatter", "front", "frontmatter", None),
    Division("prologue", "body", "prologue", "doc-prologue"),
    Division("chapter", "body", "chapter", "doc-chapter"),
    Division("part", "body", "part", "doc-part"),
    Division("conclusion", "body", "conclusion", "doc-conclusion"),
    Division("epilogue", "body", "epilogue", "doc-epilogue"),
    Division("afterword", "back", "afterword", "doc-afterword"),
    Division("appendix", "back", "appendix", "doc-appendix"),
    Division("acknowledgments", "back", "acknowledgments", "doc-acknowledgments"),
    Division("backmatter", "back", "backmatter", None),
)}

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

_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*$")
_MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}

# BCP 47 (RFC 5646) language tags, without the grandfathered irregular ones. The primary
# language subtag is the ISO 639 code of 2 or 3 letters: the registry has no longer ones.
_BCP47 = re.compile(r"""^(
    [a-z]{2,3}(-[a-z]{3}){0,3} )                    # language, extlang
    (-[a-z]{4})?                                    # script
    (-([a-z]{2}|[0-9]{3}))?                         # region
    (-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*            # variants
    (-[a-wyz0-9](-[a-z0-9]{2,8})+)*                 # extensions
    (-x(-[a-z0-9]{1,8})+)?$                         # private use
    """, re.VERBOSE | re.IGNORECASE)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_KNOWN_KEYS = {
    "": {"title", "subtitle", "author", "authors", "language", "identifier", "slug",
         "description", "rights", "publisher", "subjects", "credits", "chapters", "cover",
         "labels", "print", "booklet", "epub"},
    "authors": {"name", "file_as", "role"},
    "print": {"trim", "bleed", "toc"},
    "booklet": {"sheet", "flip", "sheets_per_signature", "creep"},
    "epub": {"page_list"},
}

_FRONT_MATTER_KEYS = {"title", "role", "id"}

#: Ids Bindery uses for its own documents and markers; a chapter cannot have them.
_RESERVED_IDS = {"cover", "titlepage", "colophon", "nav", "toc", "page", "landmarks",
                 "page-list", "css"}


def load(root: Path) -> Book:
    """Read the book in the folder ``root``; raise BookError at the first problem."""
    root = Path(root)
    check_book_folder(root)
    config = root / CONFIG_NAME
    if not config.is_file():
        raise BookError("book.toml not found", config,
                        hint="create one, or start a new book with `bindery new`")
    text = read_text(config, "book.toml")
    if not text.strip():
        raise BookError("book.toml is empty", config,
                        hint="it needs at least title, authors, language, identifier, chapters")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(error, config) from None
    return _Config(root, config, text, data).book()


def check_book_folder(root: Path) -> None:
    """A BookError unless ``root`` is a folder (it is read before anything is written)."""
    if not root.exists():
        raise BookError("no such book folder", root,
                        hint="give the folder that holds book.toml")
    if not root.is_dir():
        raise BookError("not a folder", root, hint="give the folder that holds book.toml")


def _toml_error(error: tomllib.TOMLDecodeError, path: Path) -> BookError:
    message = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        message = message[:match.start()]
        return BookError(f"invalid TOML: {message}", path, int(match[1]), int(match[2]))
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        message = message[:match.start()] + " at the end of the file"
    return BookError(f"invalid TOML: {message}", path)


class _KeyLines:
    """Line numbers of the keys in a TOML file, so that errors can point at them.

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


@dataclass
class _Config:
    root: Path
    path: Path
    text: str
    data: dict[str, Any]

    def __post_init__(self):
        self.keys = _KeyLines(self.text)
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
        bad = find_not_xml(value)
        if bad is not None:
            where = f"[{table.split('.')[0]}] " if table else ""
            raise self.error(f"{where}`{key}` holds control character U+{ord(bad):04X}, "
                             f"which cannot appear in a book", key, table,
                             hint="remove the escape")

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"`{key}` must be a list of strings", key)
        for item in value:
            self.xml_safe(item, key)
        return tuple(" ".join(item.split()) for item in value if item.strip())

    # -- the book ---------------------------------------------------------------------

    def book(self) -> Book:
        for key in self.data:
            if key not in _KNOWN_KEYS[""]:
                self.warn(f"unknown key `{key}` is ignored", key)
        title = self.string(self.data, "title", required=True)
        language = self.language()
        chapters = self.chapters(language)
        return Book(
            root=self.root,
            config=self.path,
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
            chapters=chapters,
            print=self.print_settings(),
            booklet=self.booklet_settings(),
            epub=self.epub_settings(),
            cover=self.cover(),
            labels=labels_for(language, self.labels()),
            warnings=tuple(self.warnings) + tuple(
                warning for chapter in chapters for warning in _chapter_warnings(chapter)),
        )

    def authors(self) -> tuple[Author, ...]:
        if "author" in self.data and "authors" in self.data:
            raise self.error("give either `author` or `[[authors]]`, not both", "author")
        if "author" in self.data:
            name = self.string(self.data, "author", required=True)
            return (Author(name, _file_as(name)),)
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
            file_as = self.string(entry, "file_as", table, default=_file_as(name))
            role = self.string(entry, "role", table, default="aut")
            if not re.fullmatch(r"[a-z]{3}", role):
                raise self.error(f"[authors] `role` must be a MARC relator code such as "
                                 f"`aut` or `edt`, got `{role}`", "role", table)
            authors.append(Author(name, file_as, role))
        return tuple(authors)

    def language(self) -> str:
        language = self.string(self.data, "language", required=True)
        if not _BCP47.match(language):
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
            if not _isbn_ok(digits):
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
        if not _SLUG.match(slug):
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
        if "cover" not in self.data:
            return None
        name = self.string(self.data, "cover", required=True)
        path = self.inside(name, "cover")
        if not path.is_file():
            raise self.error(f"cover image `{name}` not found", "cover")
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            raise self.error(f"cover image `{name}` must be a JPEG or PNG file", "cover")
        return path

    def inside(self, name: str, key: str) -> Path:
        """``name`` as a path inside the book folder; anything else is an error."""
        if Path(name).is_absolute() or name.startswith(("/", "\\")) or ":" in name:
            raise self.error(f"`{key}` must be a path inside the book folder, got `{name}`",
                             key)
        path = self.root / name
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise self.error(f"`{key}` points outside the book folder: `{name}`", key)
        return path

    def chapters(self, language: str) -> tuple[Chapter, ...]:
        names = self.data.get("chapters")
        if names is None:
            raise BookError("`chapters` is missing", self.path,
                            hint='list the chapter files: chapters = ["chapters/one.md"]')
        if (not isinstance(names, list) or not names
                or not all(isinstance(name, str) for name in names)):
            raise self.error("`chapters` must be a non-empty list of file names", "chapters")
        chapters = []
        ids: dict[str, str] = {}
        for name in names:
            path = self.inside(name, "chapters")
            if not path.exists():
                raise BookError(f"chapter `{name}` is listed in book.toml but not found",
                                path, hint=f"create it or remove it from `chapters` in "
                                f"{self.path.name}:{self.keys.of('', 'chapters')}")
            chapter = read_chapter(path)
            if chapter.id in _RESERVED_IDS:
                raise BookError(f"chapter id `{chapter.id}` is reserved by Bindery", path,
                                hint="rename the file or give it an `id:` in its front matter")
            if chapter.id in ids:
                raise BookError(f"two chapters have the id `{chapter.id}`: `{ids[chapter.id]}` "
                                f"and `{name}`", path,
                                hint="rename one file or give it an `id:` in its front matter")
            ids[chapter.id] = name
            chapters.append(chapter)
        self.unlisted(chapters)
        return tuple(chapters)

    def unlisted(self, chapters: list[Chapter]) -> None:
        listed = {chapter.source.resolve() for chapter in chapters}
        folders = {chapter.source.parent for chapter in chapters}
        for folder in sorted(folders):
            for path in sorted(folder.glob("*.md")):
                if path.resolve() not in listed:
                    self.warn(f"`{path.relative_to(self.root).as_posix()}` is not listed in "
                              f"`chapters` and is not built", "chapters")

    def print_settings(self) -> PrintSettings:
        data = self.table("print")
        trim = parse_trim(data.get("trim", "A5"))
        if trim is None:
            raise self.error(
                f"[print] `trim` must be A5, A6, half-letter, 6x9in or \"WIDTH HEIGHT\" "
                f"such as \"140mm 216mm\", got `{data.get('trim')}`", "trim", "print")
        bleed = parse_length(data.get("bleed", "3mm"))
        if bleed is None or bleed > 25:
            raise self.error(f"[print] `bleed` must be a length such as \"3mm\", got "
                             f"`{data.get('bleed')}`", "bleed", "print")
        toc = data.get("toc")
        if toc is not None and not isinstance(toc, bool):
            raise self.error("[print] `toc` must be true or false", "toc", "print")
        return PrintSettings(trim=trim, bleed_mm=bleed, toc=toc)

    def booklet_settings(self) -> BookletSettings:
        data = self.table("booklet")
        sheet = data.get("sheet")
        if sheet is not None and (not isinstance(sheet, str) or parse_trim(sheet) is None):
            raise self.error(f"[booklet] `sheet` must be a paper size such as A4 or letter, "
                             f"got `{sheet}`", "sheet", "booklet")
        flip = data.get("flip", "short-edge")
        if flip not in ("short-edge", "long-edge"):
            raise self.error(f"[booklet] `flip` must be \"short-edge\" or \"long-edge\", got "
                             f"`{flip}`", "flip", "booklet")
        sheets = data.get("sheets_per_signature", 0)
        if not isinstance(sheets, int) or isinstance(sheets, bool) or sheets < 0:
            raise self.error("[booklet] `sheets_per_signature` must be a whole number "
                             "(0: one signature)", "sheets_per_signature", "booklet")
        creep = parse_length(data.get("creep", "0mm"))
        if creep is None or creep > 5:
            raise self.error(f"[booklet] `creep` must be a small length such as \"0.2mm\", "
                             f"got `{data.get('creep')}`", "creep", "booklet")
        return BookletSettings(sheet=sheet, flip=flip, sheets_per_signature=sheets,
                               creep_mm=creep)

    def epub_settings(self) -> EpubSettings:
        data = self.table("epub")
        page_list = data.get("page_list", True)
        if not isinstance(page_list, bool):
            raise self.error("[epub] `page_list` must be true or false", "page_list", "epub")
        return EpubSettings(page_list=page_list)

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


def _file_as(name: str) -> str:
    """"Jorge Vanstreels" -> "Vanstreels, Jorge"; a single name stays as it is."""
    parts = name.rsplit(" ", 1)
    return f"{parts[1]}, {parts[0]}" if len(parts) == 2 else name


def _isbn_ok(digits: str) -> bool:
    if re.fullmatch(r"\d{13}", digits):
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    if re.fullmatch(r"\d{9}[\dXx]", digits):
        values = [10 if d in "Xx" else int(d) for d in digits]
        return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0
    return False


def slugify(text: str) -> str:
    """A file-name-safe slug: "ISIS: run." -> "isis-run"."""
    import unicodedata
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


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


# -- chapters -----------------------------------------------------------------------------

def read_chapter(path: Path) -> Chapter:
    """A chapter file: a front-matter block (title, role) and Markdown."""
    text = read_text(path, "chapter")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise BookError("a chapter must start with a front-matter block", path, 1,
                        hint='begin with "---", "title: ...", "---"')
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise BookError("front matter is not closed", path, 1,
                        hint='end it with a line "---"') from None
    fields: dict[str, tuple[str, int]] = {}
    for number in range(2, end + 1):
        line = lines[number - 1]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
            raise BookError(f"front matter line must be `key: value`, got `{line.strip()}`",
                            path, number)
        if key in fields:
            raise BookError(f"front matter gives `{key}` twice", path, number)
        fields[key] = (_front_matter_value(value.strip(), path, number), number)
    unknown = sorted(set(fields) - _FRONT_MATTER_KEYS)
    if unknown:
        raise BookError(f"unknown front matter key `{unknown[0]}`", path, fields[unknown[0]][1],
                        hint="use title, role and id")
    title, _ = fields.get("title", ("", None))
    if not title:
        raise BookError("front matter has no `title`", path, 1, hint="add `title: ...`")
    role, role_line = fields.get("role", ("chapter", None))
    if role not in DIVISIONS:
        raise BookError(f"unknown role `{role}`", path, role_line,
                        hint="use one of " + ", ".join(sorted(DIVISIONS)))
    chapter_id, id_line = fields.get("id", (slugify(path.stem), None))
    if not _SLUG.match(chapter_id):
        raise BookError(f"chapter id must be lower-case letters, digits and hyphens, got "
                        f"`{chapter_id}`", path, id_line)
    if chapter_id[0].isdigit():
        chapter_id = f"c-{chapter_id}"  # an XML id cannot start with a digit
    return Chapter(id=chapter_id, source=path, title=" ".join(title.split()),
                   division=DIVISIONS[role], markdown="\n".join(lines[end + 1:]),
                   first_line=end + 2)


def _front_matter_value(value: str, path: Path, line: int) -> str:
    """A scalar: plain, "double-quoted" (with backslash escapes) or 'single-quoted'."""
    if value.startswith('"'):
        import json
        try:
            parsed = json.loads(value)
        except ValueError:
            raise BookError("unterminated or invalid \"quoted\" value", path, line) from None
        if not isinstance(parsed, str):
            raise BookError("invalid quoted value", path, line)
        bad = find_not_xml(parsed)
        if bad is not None:
            raise BookError(f"control character U+{ord(bad):04X} cannot appear in a book",
                            path, line, hint="remove the escape")
        return parsed
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise BookError("unterminated 'quoted' value", path, line)
        return value[1:-1].replace("''", "'")
    return value


def _chapter_warnings(chapter: Chapter) -> list[BookWarning]:
    if not chapter.markdown.strip():
        return [BookWarning("chapter is empty", chapter.source, chapter.first_line)]
    return []


__all__ = ["load", "read_chapter", "parse_trim", "parse_length", "slugify", "DIVISIONS"]
