"""Markdown -> XHTML fragments: CommonMark (markdown-it-py), typography, ids on every block.

Each chapter's Markdown becomes one well-formed XHTML fragment, shared by the EPUB and the
print document, so both carry the same text and the same ids. Raw HTML goes through an
allow-list sanitiser (``html.py``): ``<script>`` in a chapter is removed with a warning. Links may point to the web, to e-mail addresses and to
other chapters; images must be files inside the book with alt text.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Mapping
from urllib.parse import unquote, urlsplit

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it import rules_core
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

from ..errors import BookError
from ..model import Book, Chapter
from ..source.chapter import RESERVED_IDS
from ..source.text import check_xml_characters
from . import typography
from .code import render_fence
from .divs import divs_plugin
from .classes import check_classes, unstyled_warnings
from .figures import figures, render_figure
from .fragments import parse, serialise
from .html import html_plugin
from .images import check_image
from .math import math_for_print, math_plugin
from .mdbook import mdbook_code
from .memo import Memo
from .notes import notes_at_their_calls, notes_plugin, notes_to_the_book
from .sections import (Reference, check_references, check_title_links, heading_slug,
                       headings, ids_in, mdbook_id,
                       page_numbers_in_references, section_titles_in_page_references)
from .tables import table_captions
from .tokens import source_line, walk

#: How deep lists and block quotes may nest. markdown-it silently drops what lies deeper than
#: its own limit, and the layout engine recurses per level, so we stop with an error first.
MAX_NESTING = 24
#: How deep emphasis, links and spans may nest inside each other. The layout engine's time
#: grows with the square of the depth; no text needs more than a handful.
MAX_INLINE_NESTING = 32
#: How many emphasized spans, links and code spans one paragraph may hold. Line breaking
#: in the layout engine takes time that grows with the square of that number in a line
#: box; a paragraph of prose has a few dozen.
MAX_INLINE_ELEMENTS = 1000

_LINK_SCHEMES = ("http", "https", "mailto")
#: A link text that is an address: no space, and a dot, a slash or an at sign in it.
_ADDRESS = re.compile(r"\S+[./@]\S*[^\s./@]\S*")
_ADDRESS_BREAK = re.compile(r"(?<=[/.@])(?=[^/.@])")

_BLOCK_TOKENS = {"paragraph_open", "heading_open", "blockquote_open", "bullet_list_open",
                 "ordered_list_open", "list_item_open", "table_open", "hr", "code_block",
                 "fence", "figure_open", "figcaption_open", "dt_open", "dd_open",
                 "caption_open", "math_block"}


def convert(book: Book, styled: frozenset[str] | None = None,
            sources: tuple[str, Mapping[str, str]] | None = None) -> Book:
    """Give every chapter its XHTML body and the images it uses. ``styled`` holds the class
    names the book's stylesheets style: a class an author gives outside it is a warning.
    ``sources``, a fingerprint of every source but the chapters and each file's, lets a
    chapter the last build in this process converted be taken as it was (``memo.py``)."""
    md = _markdown(book.language)
    book = dataclasses.replace(
        book, title=typeset(md, book.title), subtitle=typeset(md, book.subtitle),
        chapters=tuple(dataclasses.replace(chapter, title=typeset(md, chapter.title))
                       for chapter in book.chapters))
    chapter_ids = {chapter.source.resolve(): chapter.id for chapter in book.chapters}
    shared = {"chapter_ids": chapter_ids,
              # A link to a chapter by its title's id (mdBook's, or ours, for the chapter's
              # first heading, which a chapter's front matter holds here) goes to the
              # chapter; each such link is checked once all ids are known.
              "title_ids": {chapter.id: frozenset((heading_slug(chapter.title),
                                                   mdbook_id(chapter.title)))
                            for chapter in book.chapters},
              "title_links": [],
              "styled": styled,
              "names": {},              # the EPUB's image names, unique in the book
              "warnings": [],
              "cross_references": [],   # links to #ids, checked once all are known
              "taken": set(RESERVED_IDS) | {f"{c.id}{end}" for c in book.chapters
                                            for end in ("", "-title")}}
    memo = Memo((sources[0], tuple(chapter_ids.items()), tuple(shared["title_ids"].items()),
                 str(book.root), styled, book.language),
                sources[1]) if sources is not None else None
    chapters = tuple(
        memo.convert(chapter, shared, lambda chapter=chapter: _convert_chapter(
            md, book, chapter, shared)) if memo is not None
        else _convert_chapter(md, book, chapter, shared) for chapter in book.chapters)
    ids = {chapter.id: ids_in(chapter.body) | {chapter.id, f"{chapter.id}-title"}
           for chapter in chapters}
    check_references(shared["cross_references"], ids)
    check_title_links(shared["title_links"], ids)
    chapters = section_titles_in_page_references(chapters)
    if book.epub.notes == "book":
        chapters = tuple(notes_to_the_book(chapter) for chapter in chapters)
    if memo is not None:
        memo.keep()
    warnings = shared["warnings"]
    return dataclasses.replace(book, chapters=chapters,
                               warnings=book.warnings + tuple(warnings))


def typeset(md: MarkdownIt, text: str) -> str:
    """A title set like the text: quotes, dashes and no-break spaces; Markdown is not read."""
    if not text:
        return text
    state = StateCore(text, md, {"language": md.options["bindery_language"]})
    state.tokens = [Token("inline", "", 0, content=text,
                          children=[Token("text", "", 0, content=text)])]
    for rule in (rules_core.replace, rules_core.smartquotes, _tie):
        rule(state)
    return "".join(child.content for child in state.tokens[0].children)


def _markdown(language: str) -> MarkdownIt:
    md = MarkdownIt("commonmark", {
        "typographer": True,
        "quotes": typography.quotes(language),
        "html": True,           # cleaned by convert/html.py, never passed through
        "xhtmlOut": True,
        "maxNesting": 2 * MAX_NESTING + 8,
        "bindery_language": language,
    })
    md.enable(["replacements", "smartquotes", "table", "strikethrough"])
    # markdown-it silently turns a link it distrusts into text; _references checks every
    # link and image itself, and says what is wrong.
    md.validateLink = lambda url: True
    md.use(container_plugin, "figure", render=render_figure)
    md.use(divs_plugin)
    md.use(attrs_plugin, spans=True, allowed=["class"])
    md.use(notes_plugin)
    md.use(deflist_plugin)
    md.use(sub_plugin)               # H~2~O
    md.use(superscript_plugin)       # x^2^
    md.use(math_plugin)              # $e = mc^2$
    md.use(html_plugin, link=_link)  # <figure><img …></figure>, through nh3
    md.add_render_rule("image", _render_image)
    md.add_render_rule("fence", render_fence)
    md.add_render_rule("th_open", _render_header_cell)
    md.block.ruler.before("table", "bindery_nesting", _nesting_guard)
    md.core.ruler.after("block", "bindery_mdbook", mdbook_code)   # {{#include}} in code
    md.core.ruler.after("inline", "bindery_inline", _inline_checks)
    md.core.ruler.after("bindery_inline", "bindery_captions", table_captions)
    md.core.ruler.push("bindery_typography", _tie)
    md.core.ruler.push("bindery_addresses", _address_breaks)
    md.core.ruler.push("bindery_figures", figures)
    md.core.ruler.push("bindery_headings", headings)
    md.core.ruler.push("bindery_references", _references)
    md.core.ruler.push("bindery_ids", _ids)
    return md


def _convert_chapter(md: MarkdownIt, book: Book, chapter: Chapter, shared: dict) -> Chapter:
    env = {"book": book, "chapter": chapter, "images": {}, "formulas": [], "includes": {},
           **shared}
    tokens = md.parse(chapter.markdown, env)
    env["warnings"].extend(unstyled_warnings(env))
    html = md.renderer.render(tokens, md.options, env)
    _check_well_formed(html, chapter)
    return dataclasses.replace(chapter, body=Markup(html),
                               print_body=Markup(_for_print(html, book.labels)),
                               images=tuple(env["images"].values()),
                               formulas=tuple(dict.fromkeys(env["formulas"])),
                               includes=tuple(sorted(env["includes"].items())))


def _for_print(html: str, labels) -> str:
    """The chapter's XHTML for print: notes where they are called, formulas drawn, page
    numbers in cross-references, the last word of each paragraph kept whole."""
    root = parse(html)
    notes_at_their_calls(root)
    math_for_print(root)
    page_numbers_in_references(root, labels["page"])
    typography.keep_last_words_whole(root)
    return serialise(root)


def _check_well_formed(html: str, chapter: Chapter) -> None:
    try:
        parse(html)
    except etree.XMLSyntaxError as error:  # a defect of ours, but name the chapter
        raise BookError(f"chapter did not convert to well-formed XHTML: {error}",
                        chapter.source) from None


def _nesting_guard(state, start_line: int, end_line: int, silent: bool) -> bool:
    """Stop at lists and quotes nested too deep for the reader (and for the layout)."""
    if state.level >= 2 * MAX_NESTING:
        chapter = state.env["chapter"]
        raise BookError(f"lists and block quotes nest more than {MAX_NESTING} levels deep",
                        chapter.source, chapter.first_line + start_line,
                        hint="flatten the structure")
    return False


# -- core rules, run in order after markdown-it's own --------------------------------

def _inline_checks(state: StateCore) -> None:
    """Inline markup nests within bounds, and no text holds a character XML cannot (an
    entity such as ``&#12;`` decodes to one), each an error at the chapter's line."""
    chapter: Chapter = state.env["chapter"]
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        depth = deepest = elements = 0
        for child in token.children:
            depth += child.nesting
            deepest = max(deepest, depth)
            elements += child.nesting == 1 or child.type == "code_inline"
            if child.type in ("text", "text_special", "code_inline"):
                check_xml_characters(child.content, chapter.source,
                                     source_line(chapter, token) or 1, what="text")
        if deepest > MAX_INLINE_NESTING:
            raise BookError(f"emphasis, links and spans nest {deepest} levels deep; at most "
                            f"{MAX_INLINE_NESTING}", chapter.source,
                            source_line(chapter, token),
                            hint="close the markers you opened")
        if elements > MAX_INLINE_ELEMENTS:
            raise BookError(f"a paragraph holds {elements} emphasized spans, links and code "
                            f"spans, nested or side by side; at most {MAX_INLINE_ELEMENTS}",
                            chapter.source,
                            source_line(chapter, token),
                            hint="split the paragraph, or escape the * and _ that are text")


def _tie(state: StateCore) -> None:
    language = state.md.options["bindery_language"]
    for token in state.tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "text":
                    child.content = typography.tie(child.content, language)


def _address_breaks(state: StateCore) -> None:
    """A web or e-mail address shown as a link's text may break after each ``/``, ``.``
    and ``@`` (a ``<wbr/>``), and nowhere else: never with a hyphen."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        children, in_link = [], 0
        for child in token.children:
            in_link += child.type == "link_open"
            in_link -= child.type == "link_close"
            if in_link and child.type == "text" and _ADDRESS.fullmatch(child.content):
                # Never after a first character: @handle and /path stay whole.
                parts = _ADDRESS_BREAK.split(child.content[1:])
                parts[0] = child.content[0] + parts[0]
                for number, part in enumerate(parts):
                    if number:
                        children.append(Token("html_inline", "", 0, content="<wbr/>"))
                    if part:
                        children.append(Token("text", "", 0, content=part))
            else:
                children.append(child)
        token.children = children


def _references(state: StateCore) -> None:
    """Check links and images: what they point to must be allowed, and must exist."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in walk(token.children):
            if child.type == "link_open":
                child.attrSet("href", _link(child.attrGet("href") or "", state.env, token))
            elif child.type == "image":
                check_image(child, state.env, token)
            check_classes(child.attrGet("class"), state.env, token)


def _link(href: str, env: dict, token: Token) -> str:
    chapter: Chapter = env["chapter"]
    parts = urlsplit(href)
    if parts.scheme.lower() in _LINK_SCHEMES:
        if parts.scheme.lower() != "mailto" and not parts.netloc:
            raise BookError(f"link `{href}` has no host", chapter.source,
                            source_line(chapter, token))
        return href
    if parts.scheme or parts.netloc:
        raise BookError(f"link `{href}` is not allowed: links go to http(s) or mailto "
                        f"addresses, or to other chapters", chapter.source,
                        source_line(chapter, token))
    chapters = set(env["chapter_ids"].values())
    if parts.path:
        target = (chapter.source.parent / unquote(parts.path)).resolve()
        target_id = env["chapter_ids"].get(target)
        if target_id is None and target.suffix.lower() in (".html", ".htm"):
            # mdBook names each chapter's page after its file, and books written for it
            # link chapters by their pages (the Rust book: `ch09-03-….html#…`).
            target_id = env["chapter_ids"].get(target.with_suffix(".md"))
    elif unquote(parts.fragment) in chapters:
        target_id = unquote(parts.fragment)     # "#chapter-id"
    else:
        target_id = chapter.id              # "#a-heading" of this chapter
    if target_id not in chapters:
        raise BookError(f"link `{href}` points to no chapter of this book", chapter.source,
                        source_line(chapter, token),
                        hint="link to a chapter file such as other.md, or to a web address")
    fragment = unquote(parts.fragment) or target_id
    if fragment != target_id and fragment in env["title_ids"].get(target_id, ()):
        env["title_links"].append(Reference(href, target_id, fragment, chapter.source,
                                            source_line(chapter, token)))
        return f"#{target_id}"              # "other.md#its-title": the chapter
    if fragment != target_id:
        env["cross_references"].append(Reference(href, target_id, fragment, chapter.source,
                                           source_line(chapter, token)))
    return f"#{fragment}"


def _render_header_cell(self, tokens, idx, options, env) -> str:
    """A header cell says what it heads: its column (in the table's head) or its row."""
    group = next(tokens[i].type for i in range(idx - 1, -1, -1)   # the nearest row group
                 if tokens[i].type in ("thead_open", "tbody_open", "table_open"))
    tokens[idx].attrSet("scope", "col" if group == "thead_open" else "row")
    return self.renderToken(tokens, idx, options, env)


def _render_image(self, tokens, idx, options, env) -> str:
    """An image with the alt text checked by ``_image`` (markdown-it would rebuild it)."""
    return self.renderToken(tokens, idx, options, env)


def _ids(state: StateCore) -> None:
    """Give every block an id, ``<chapter>-<n>``: the page map and links use them."""
    chapter: Chapter = state.env["chapter"]
    number = 0
    for token in state.tokens:
        if token.type in _BLOCK_TOKENS and not token.hidden:
            number += 1
            if token.attrGet("id") is None:       # headings have theirs
                token.attrSet("id", f"{chapter.id}-{number}")

