"""Chapter file -> Chapter: its front-matter block (title, role, id) and its Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import BookError, BookWarning
from ..model import Chapter, Division
from .names import is_slug, slugify
from .text import check_xml_characters, read_text

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

#: Ids Bindery uses for its own documents and markers; a chapter cannot have them.
RESERVED_IDS = frozenset({"cover", "titlepage", "colophon", "nav", "toc", "page", "landmarks",
                          "page-list", "css", "endnotes"})

_FRONT_MATTER_KEYS = {"title", "role", "id"}


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
    if not is_slug(chapter_id):
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
        try:
            parsed = json.loads(value)
        except ValueError:
            raise BookError("unterminated or invalid \"quoted\" value", path, line) from None
        if not isinstance(parsed, str):
            raise BookError("invalid quoted value", path, line)
        check_xml_characters(parsed, path, line, what="front matter value")
        return parsed
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise BookError("unterminated 'quoted' value", path, line)
        return value[1:-1].replace("''", "'")
    return value


def chapter_warnings(chapter: Chapter) -> list[BookWarning]:
    """What a chapter's author should know: for now, that it is empty."""
    if not chapter.markdown.strip():
        return [BookWarning("chapter is empty", chapter.source, chapter.first_line)]
    return []
