"""Headings -> sections: levels without gaps under the chapter's title, ids from their text
(in any script) unique in the book, ``{#custom-id}`` honoured, and links to ``#id`` or
``other.md#id`` checked once every chapter's ids are known."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from markdown_it.rules_core import StateCore
from markupsafe import Markup

from ..errors import BookError
from ..model import Chapter
from ..namespaces import XHTML
from .fragments import parse, serialise
from .tokens import plain_text

#: A heading's attributes as pandoc (and bookdown, Quarto) write them: ``{#id}``, and
#: classes and key=value pairs, which Bindery has no need of (``{-}`` and
#: ``{.unnumbered}``: it numbers no heading; ``{.unlisted}``, ``{.appendix}``), in any
#: order: ``## Notes {- #notes}``, ``## Data {#sec-data .unnumbered}``.
_ATTRIBUTE = (r"""(?:#([A-Za-z][\w.:-]*)|-|\.[A-Za-z][\w-]*|[A-Za-z][\w-]*="""
              r"""(?:"[^"]*"|'[^']*'|“[^”]*”|‘[^’]*’|[^\s"'“”‘’}]+))(?=[\s}])""")
_HEADING_ATTRIBUTES = re.compile(rf"\s*\{{((?:\s*{_ATTRIBUTE})+)\s*\}}\s*$")
#: (A value's quotes are curled by the typographer before headings are read.)
_ID = re.compile(r'\bid="([^"]+)"')
#: A link with the class ``page``: a page reference.
PAGE_REFERENCE = re.compile(r'<a [^>]*class="(?:[^"]* )?page[ "]')
_HEADINGS = tuple(f"{{{XHTML}}}h{level}" for level in range(2, 7))


@dataclass(frozen=True)
class Reference:
    """A link to a place in a chapter, to check when every chapter's ids are known."""

    href: str
    chapter: str          # the target chapter's id
    fragment: str
    source: Path
    line: int | None


def heading_slug(text: str) -> str:
    """An id from a heading's text, in its own script: "Analyse & méthode" -> "analyse-méthode"."""
    text = unicodedata.normalize("NFKC", text).lower()
    slug = "".join(char if unicodedata.category(char)[0] in "LMN" else "-" for char in text)
    slug = re.sub(r"-+", "-", slug).strip("-")
    if not slug or not unicodedata.category(slug[0]).startswith("L"):
        slug = f"section-{slug}".rstrip("-")
    return slug


def mdbook_id(text: str) -> str:
    """The id mdBook gives a heading: letters, digits, ``_`` and ``-`` kept (ASCII letters
    in lower case), spaces made ``-``, the rest left out: "Don’t panic!" -> "dont-panic"."""
    return "".join("-" if char.isspace() else char.lower() if char.isascii() else char
                   for char in text if char.isalnum() or char in "_-" or char.isspace())


def headings(state: StateCore) -> None:
    """The chapter title is the h1; the body's headings follow from h2, a level deeper than
    the heading they fall under, never skipping one; each gets an id unique in the book."""
    chapter: Chapter = state.env["chapter"]
    taken: set[str] = state.env["taken"]
    stack: list[tuple[int, int]] = []          # (level as written, level given)
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        written = int(token.tag[1])
        while stack and stack[-1][0] >= written:
            stack.pop()
        level = min(6, stack[-1][1] + 1 if stack else 2)
        stack.append((written, level))
        token.tag = f"h{level}"
        close = next(t for t in tokens[index + 1:] if t.type == "heading_close")
        close.tag = token.tag
        inline = tokens[index + 1]
        wanted = _custom_id(inline)
        if wanted is not None:
            if wanted in taken or a_block_id(wanted, state.env):
                raise BookError(f"the id `{wanted}` is already used in the book",
                                chapter.source,
                                chapter.first_line + token.map[0] if token.map else None)
            heading_id = wanted
        else:
            heading_id = base = heading_slug(plain_text(inline.children or []))
            number = 1
            while heading_id in taken or a_block_id(heading_id, state.env):
                number += 1
                heading_id = f"{base}-{number}"
        taken.add(heading_id)
        token.attrSet("id", heading_id)


def a_block_id(candidate: str, env: dict) -> bool:
    """Whether ``candidate`` has the shape of the ids blocks get: ``<chapter>-<n>``."""
    stem, _, number = candidate.rpartition("-")
    return number.isdigit() and stem in env["chapter_ids"].values()


def _custom_id(inline) -> str | None:
    """``## Heading {#id}``: the id, the attributes taken out of the heading's text (also
    ``{-}`` and ``{.unnumbered}``, which give no id)."""
    children = inline.children or []
    if not children or children[-1].type != "text":
        return None
    match = _HEADING_ATTRIBUTES.search(children[-1].content)
    if match is None:
        return None
    children[-1].content = children[-1].content[:match.start()]
    inline.content = _HEADING_ATTRIBUTES.sub("", inline.content)
    return next((found[1] for found in re.finditer(_ATTRIBUTE, match[1] + "}") if found[1]),
                None)


def section_titles_in_page_references(chapters: tuple[Chapter, ...]) -> tuple[Chapter, ...]:
    """In the e-book, which has no pages, a page reference written with no text of its own
    (``[](#id){.page}``) shows the title of the section it points to."""
    if not any(PAGE_REFERENCE.search(chapter.body) for chapter in chapters):
        return chapters
    titles: dict[str, str] = {}
    for chapter in chapters:
        titles[chapter.id] = titles[f"{chapter.id}-title"] = chapter.title
        for heading in parse(chapter.body).iter(*_HEADINGS):
            titles[heading.get("id")] = " ".join("".join(heading.itertext()).split())
    result = []
    for chapter in chapters:
        if not PAGE_REFERENCE.search(chapter.body):
            result.append(chapter)
            continue
        root = parse(chapter.body)
        for link in _page_references(root):
            if len(link) or (link.text or "").strip():
                continue
            target = link.get("href", "").removeprefix("#")
            if target not in titles:
                raise BookError(f"page reference `#{target}` has no text and points to no "
                                f"heading, so the e-book has nothing to show for it",
                                chapter.source,
                                hint=f"give it text: [the figure](#{target}){{.page}}")
            link.text = titles[target]
        result.append(dataclasses.replace(chapter, body=Markup(serialise(root))))
    return tuple(result)


def page_numbers_in_references(root, label: str) -> None:
    """In print, a page reference shows the page its target falls on: "page 42" alone, or
    "the figure (page 42)" after its text; the print stylesheet writes the number
    (``target-counter``) once the pages are known."""
    for link in _page_references(root):
        folio = etree.SubElement(link, f"{{{XHTML}}}span", {
            "class": "folio", "data-target": link.get("href", "")})
        if len(link) == 1 and not (link.text or "").strip():
            folio.text = f"{label}\u00a0"
        else:
            folio.text, folio.tail = f" ({label}\u00a0", ")"


def _page_references(root):
    return [link for link in root.iter(f"{{{XHTML}}}a")
            if "page" in (link.get("class") or "").split()]


def ids_in(xhtml: str) -> set[str]:
    return set(_ID.findall(xhtml))


def check_title_links(links: list[Reference], ids: dict[str, set[str]]) -> None:
    """A link taken to a chapter by its title's id names no element of that chapter: else
    it could go to either."""
    for link in links:
        if link.fragment in ids.get(link.chapter, set()):
            raise BookError(f"link `{link.href}` could go to chapter `{link.chapter}` (its "
                            f"title) or to its element `#{link.fragment}`", link.source,
                            link.line, hint="link to the chapter file alone for the chapter, "
                            "or give the heading an id of its own: ## Title {#its-id}")


def check_references(references: list[Reference], ids: dict[str, set[str]]) -> None:
    """Every link to ``#id`` or ``other.md#id`` lands on an id of that chapter."""
    for reference in references:
        if reference.fragment not in ids.get(reference.chapter, set()):
            raise BookError(f"link `{reference.href}` points to no heading or id of "
                            f"chapter `{reference.chapter}`", reference.source,
                            reference.line,
                            hint="link to a heading's id, such as #its-title-in-lower-case")
