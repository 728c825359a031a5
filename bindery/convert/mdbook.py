"""mdBook's code conventions -> the code a reader sees: ``{{#include}}`` and
``{{#rustdoc_include}}`` in a code block bring in a file of the book (whole, a range of
lines, or an anchored part), and a Rust block's hidden lines (rustdoc's ``# `` lines) are
left out, as mdBook's own pages show them.

Books written for mdBook (the Rust book, most Rust projects' guides) keep their examples in
files and include them; without this they printed ``{{#rustdoc_include …}}`` where the code
should be. The rules are mdBook's (``src/utils/string.rs`` and ``preprocess/links.rs``):

- ``file`` the whole file; ``file:3`` line 3; ``file:3:`` from line 3; ``file::9`` up to
  line 9; ``file:3:9`` lines 3 to 9 (lines count from 1);
- ``file:name`` the lines between ``ANCHOR: name`` and ``ANCHOR_END: name``, without the
  lines that mark other anchors;
- ``rustdoc_include`` takes the same parts; the rest of the file, which mdBook keeps as
  hidden lines for rustdoc's tests, is not printed;
- a file is found from the chapter's folder, and must be a text file inside the book folder;
  what it holds is not read for further directives. ``\\{{#include …}}`` is written as is.

A directive outside a code block (mdBook would include Markdown there) is left as text,
with a warning naming its line.

The Rust book's own preprocessor (mdbook-trpl) frames a listing in ``<Listing number="3-1"
file-name="src/main.rs" caption="…">`` … ``</Listing>``, written on lines of their own:
its file name is a paragraph before the code (``Filename: src/main.rs``) and its caption
one after it (``Listing 3-1: …``, Markdown), as mdbook-trpl prints them.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from pathlib import Path

from markdown_it.token import Token

from ..errors import BookError, BookWarning
from ..model import Chapter
from ..paths import TEXT_LIMIT, name_as_written, read_file, within
from ..source.text import check_xml_characters
from .code import fence_language
from .tokens import source_line

_DIRECTIVE = re.compile(r"(\\)?\{\{\s*#([a-z_]+)([^}]*)\}\}")    # linear: no nested choice
_ANCHOR = re.compile(r"ANCHOR:\s*([\w-]+)")
_ANCHOR_END = re.compile(r"ANCHOR_END:\s*([\w-]+)")
_RANGE = re.compile(r"(\d{0,9})(?::(\d{0,9}))?")
_LISTING = re.compile(r"<Listing((?:\s+[a-z-]+=\"[^\"]*\")*)\s*>\s*", re.IGNORECASE)
_LISTING_END = re.compile(r"</Listing>\s*", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"', re.IGNORECASE)
INCLUDES = ("include", "rustdoc_include")
#: mdBook's other directives: left as text, with a warning. Any other ``{{#name}}`` (a
#: Handlebars template in a code block) is not mdBook's, and is code like the rest.
OTHERS = ("playground", "playpen", "title", "template")


def mdbook_code(state) -> None:
    """markdown-it core rule, after the blocks are parsed: directives in code blocks
    replaced by what they include, Rust blocks' hidden lines left out, listings' file names
    and captions kept as paragraphs."""
    env = state.env
    state.tokens = _listings(state.tokens)
    for token in state.tokens:
        if token.type in ("fence", "code_block"):
            if "{{" in token.content:
                token.content = _included(token, env)
            if fence_language(token.info or "") == "rust":
                token.content = _without_hidden_lines(token.content)
        elif token.type == "inline" and "{{" in token.content:
            for match in _DIRECTIVE.finditer(token.content):
                if not match.group(1) and match.group(2) in INCLUDES + OTHERS:
                    chapter: Chapter = env["chapter"]
                    env["warnings"].append(BookWarning(
                        f"mdBook's `{{{{#{match.group(2)} …}}}}` outside a code block is "
                        f"left as text: Bindery includes files into code blocks only",
                        chapter.source, source_line(chapter, token)))


def _listings(tokens: list[Token]) -> list[Token]:
    """``<Listing …>`` and ``</Listing>`` blocks -> the file name's and the caption's
    paragraphs; a listing opened on a line with other HTML is left to the HTML rules."""
    out: list[Token] = []
    captions: list[str] = []
    for token in tokens:
        opening = _LISTING.fullmatch(token.content) if token.type == "html_block" else None
        if opening:
            attributes = {name.lower(): html.unescape(value)
                          for name, value in _ATTRIBUTE.findall(opening.group(1))}
            number, caption = attributes.get("number"), attributes.get("caption")
            captions.append(f"Listing {number}: {caption}" if number and caption
                            else caption or (f"Listing {number}" if number else ""))
            if attributes.get("file-name"):
                out.extend(_paragraph(f"Filename: {attributes['file-name']}", token))
        elif (token.type == "html_block" and captions
                and _LISTING_END.fullmatch(token.content)):
            caption = captions.pop()
            if caption:
                out.extend(_paragraph(caption, token))
        else:
            out.append(token)
    return out


def _paragraph(text: str, where: Token) -> list[Token]:
    """A paragraph of ``text`` (Markdown, parsed with the rest) at ``where``'s line."""
    return [Token("paragraph_open", "p", 1, map=where.map, block=True, level=where.level),
            Token("inline", "", 0, content=text, map=where.map, level=where.level + 1,
                  children=[]),
            Token("paragraph_close", "p", -1, block=True, level=where.level)]


def _included(token: Token, env: dict) -> str:
    chapter: Chapter = env["chapter"]
    first = source_line(chapter, token)
    lines = token.content.split("\n")
    for index, line in enumerate(lines):
        line_number = first + index + (1 if token.type == "fence" else 0) if first else None

        def replace(match: re.Match) -> str:
            escaped, kind, target = match.groups()
            target = target.strip()
            if kind not in INCLUDES + OTHERS:
                return match.group(0)
            if escaped:
                return match.group(0)[1:]
            if kind not in INCLUDES:
                env["warnings"].append(BookWarning(
                    f"mdBook's `{{{{#{kind} …}}}}` is not something Bindery does: left as text",
                    chapter.source, line_number))
                return match.group(0)
            return _take(_read(target, chapter, env, line_number), target, kind,
                         chapter, line_number)

        lines[index] = _DIRECTIVE.sub(replace, line)
    return "\n".join(lines)


def _read(target: str, chapter: Chapter, env: dict, line: int | None) -> str:
    name = _split(target)[0]
    book_root = env["book"].root
    path = chapter.source.parent / name
    try:
        inside = within(path, book_root)          # whether or not it exists
        found = bool(name) and path.exists()
    except OSError:                              # a name too long for the file system
        inside, found = True, False
    if not inside:
        raise BookError(f"`{{{{#include {target}}}}}`: `{name}` is outside the book folder",
                        chapter.source, line)
    if not found:
        raise BookError(f"`{{{{#include {target}}}}}`: no file `{name}`", chapter.source, line,
                        hint="the path is relative to the chapter's folder")
    try:
        data = read_file(path, "included file", TEXT_LIMIT)
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BookError(f"`{{{{#include {target}}}}}`: `{name}` is not UTF-8 text",
                        chapter.source, line) from None
    except BookError as error:
        raise BookError(f"`{{{{#include {target}}}}}`: {error.message}", chapter.source,
                        line) from None
    check_xml_characters(text, Path(os.path.normpath(path)))
    env["includes"][_name_in_book(path, Path(book_root))] = hashlib.sha256(data).hexdigest()
    return text


def _name_in_book(path: Path, root: Path) -> str:
    """``path``'s name in the book folder, as written (a link is named, not its target: the
    next build hashes whatever it leads to); resolved when only the target is inside."""
    written = name_as_written(path, root)
    if written.startswith(".."):
        return path.resolve().relative_to(root.resolve()).as_posix()
    return written


def _split(target: str) -> tuple[str, str | None]:
    """``file:3:9`` -> (``file``, ``3:9``); ``file`` -> (``file``, None)."""
    name, colon, part = target.partition(":")
    return name.strip(), (part.strip() if colon else None)


def _take(text: str, target: str, kind: str, chapter: Chapter, line: int | None) -> str:
    """The part of ``text`` the directive asks for (rustdoc's hidden lines left out)."""
    part = _split(target)[1]
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    if not part:
        return "\n".join(lines)
    numbers = _RANGE.fullmatch(part)
    if numbers:                                  # file:3, file:3:, file::9, file:3:9, file::
        start, end = numbers.groups()
        first = max(int(start) - 1, 0) if start else 0
        if end is None:                          # file:3 is line 3 alone
            last = first + 1
        else:
            last = int(end) if end else len(lines)
        return "\n".join(lines[first:last])
    if not any((found := _ANCHOR.search(item)) and found.group(1) == part for item in lines):
        raise BookError(f"`{{{{#{kind} {target}}}}}`: no `ANCHOR: {part}` in the file",
                        chapter.source, line)
    return "\n".join(_anchored(lines, part, reopened=kind == "rustdoc_include"))


def _anchored(lines: list[str], anchor: str, reopened: bool) -> list[str]:
    """The lines between ``ANCHOR: anchor`` and its ``ANCHOR_END`` (each time it is opened
    again, for ``rustdoc_include``), without the lines that mark anchors."""
    kept, inside = [], False
    for line in lines:
        end, start = _ANCHOR_END.search(line), _ANCHOR.search(line)
        if inside:
            if end and end.group(1) == anchor:
                if not reopened:
                    break
                inside = False
            elif not start and not end:
                kept.append(line)
        elif start and start.group(1) == anchor:
            inside = True
    return kept


def _without_hidden_lines(code: str) -> str:
    """Rustdoc's hidden lines (``# `` or a lone ``#``) left out; ``##`` is a shown ``#``."""
    shown = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("##"):
            shown.append(line.replace("##", "#", 1))
        elif stripped == "#" or stripped.startswith("# "):
            continue
        else:
            shown.append(line)
    return "\n".join(shown)
