"""Title, author, language -> a new book folder that builds and passes `bindery check`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from .errors import BookError
from .resources import STYLES, TEMPLATES
from .source.names import is_language_tag, slugify

SAMPLE_CHAPTER = """---
title: {title}
role: chapter
---

This is the first chapter of your book. Write it in Markdown: a blank line starts a new
paragraph, *one star* makes italics and **two** make bold.

## A section

Headings with `##` start the sections of a chapter; the chapter's own title is the
`title` above. Pictures go in the `images/` folder, each with a description:
`![What the picture shows](images/picture.jpg)`.
"""

OVERRIDES = """Files here replace Bindery's files of the same name for this book only.

Bindery looks for a {kind} in this folder first, then in its own {kind}s folder
({where}). Copy the file you want to change from there, keeping its name and the
sub-folder it is in, and edit the copy.
"""


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)


def create(folder: Path, title: str, author: str, language: str = "en") -> list[Path]:
    """Write a new book into ``folder`` (new or empty); return the files written."""
    folder = Path(folder)
    title, author, language = " ".join(title.split()), " ".join(author.split()), language.strip()
    if not title:
        raise BookError("the title is empty", hint="give --title")
    if not author:
        raise BookError("the author is empty", hint="give --author")
    if not is_language_tag(language):
        raise BookError(f"--language must be a BCP 47 tag such as `en` or `pt-BR`, "
                        f"got `{language}`")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BookError("already exists and is not an empty folder", folder,
                        hint="choose a new folder")
    files = {
        "book.toml": "\n".join([
            "# The book's metadata and settings; see the README of Bindery.",
            f"title = {_toml_string(title)}",
            f"language = {_toml_string(language)}",
            f'identifier = "urn:uuid:{uuid.uuid4()}"',
            f"slug = {_toml_string(slugify(title) or 'book')}",
            'description = ""',
            f"rights = {_toml_string('© ' + author + '. All rights reserved.')}",
            'chapters = ["chapters/chapter-1.md"]',
            "",
            "[[authors]]",
            f"name = {_toml_string(author)}",
            "",
            "[print]",
            'trim = "A5"',
            '# "saddle": a pamphlet stitched through the fold (pages padded to a multiple of',
            '# 4); "perfect": a glued spine (an even count, and a cover wrap); "none".',
            'binding = "saddle"',
            'chapter_start = "recto"    # or "any"',
            "",
            "[press]",
            'marks = "crop"             # or "crop+registration", "none"',
            'slug = false               # true: title, page and date under each page',
            "",
        ]),
        "chapters/chapter-1.md": SAMPLE_CHAPTER.format(title="Chapter 1"),
        "images/README.txt": "Pictures for the chapters go here.\n",
        "templates/README.txt": OVERRIDES.format(kind="template", where=TEMPLATES),
        "styles/README.txt": OVERRIDES.format(kind="style", where=STYLES),
    }
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        written.append(path)
    return written
