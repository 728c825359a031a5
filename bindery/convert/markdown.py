"""Markdown -> XHTML fragments: CommonMark (markdown-it-py), typography, ids on every block.

Each chapter's Markdown becomes one well-formed XHTML fragment, shared by the EPUB and the
print document, so both carry the same text and the same ids. Raw HTML is off: ``<script>``
in a chapter is text, never markup. Links may point to the web, to e-mail addresses and to
other chapters; images must be files inside the book with alt text.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it import rules_core
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin

from ..errors import BookError
from ..model import Book, Chapter, Image
from ..namespaces import XHTML
from ..paths import read_file, within
from ..source.images import IMAGE_TYPES, image_problem
from ..source.text import check_xml_characters
from . import typography

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

_BLOCK_TOKENS = {"paragraph_open", "heading_open", "blockquote_open", "bullet_list_open",
                 "ordered_list_open", "list_item_open", "table_open", "hr", "code_block",
                 "fence", "figure_open", "figcaption_open"}


def convert(book: Book) -> Book:
    """Give every chapter its XHTML body and the images it uses."""
    md = _markdown(book.language)
    book = dataclasses.replace(
        book, title=typeset(md, book.title), subtitle=typeset(md, book.subtitle),
        chapters=tuple(dataclasses.replace(chapter, title=typeset(md, chapter.title))
                       for chapter in book.chapters))
    chapter_ids = {chapter.source.resolve(): chapter.id for chapter in book.chapters}
    names: dict[str, Path] = {}         # the EPUB's image names, unique in the book
    chapters = tuple(_convert_chapter(md, book, chapter, chapter_ids, names)
                     for chapter in book.chapters)
    return dataclasses.replace(book, chapters=chapters)


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
        "html": False,          # raw HTML is shown as text, never passed through
        "xhtmlOut": True,
        "maxNesting": 2 * MAX_NESTING + 8,
        "bindery_language": language,
    })
    md.enable(["replacements", "smartquotes", "table", "strikethrough"])
    # markdown-it silently turns a link it distrusts into text; _references checks every
    # link and image itself, and says what is wrong.
    md.validateLink = lambda url: True
    md.use(container_plugin, "figure", render=_render_figure)
    md.use(attrs_plugin, spans=True, allowed=["class"])
    md.add_render_rule("image", _render_image)
    md.block.ruler.before("table", "bindery_nesting", _nesting_guard)
    md.core.ruler.after("inline", "bindery_inline", _inline_checks)
    md.core.ruler.push("bindery_typography", _tie)
    md.core.ruler.push("bindery_figures", _figures)
    md.core.ruler.push("bindery_headings", _headings)
    md.core.ruler.push("bindery_references", _references)
    md.core.ruler.push("bindery_ids", _ids)
    return md


def _convert_chapter(md: MarkdownIt, book: Book, chapter: Chapter,
                     chapter_ids: dict[Path, str], names: dict[str, Path]) -> Chapter:
    env = {"book": book, "chapter": chapter, "chapter_ids": chapter_ids, "images": {},
           "names": names}
    tokens = md.parse(chapter.markdown, env)
    html = md.renderer.render(tokens, md.options, env)
    _check_well_formed(html, chapter)
    return dataclasses.replace(chapter, body=Markup(html),
                               images=tuple(env["images"].values()))


def _check_well_formed(html: str, chapter: Chapter) -> None:
    try:
        etree.fromstring(f'<div xmlns="{XHTML}">{html}</div>'.encode())
    except etree.XMLSyntaxError as error:  # a defect of ours, but name the chapter
        raise BookError(f"chapter did not convert to well-formed XHTML: {error}",
                        chapter.source) from None


def _line(chapter: Chapter, token: Token | None) -> int | None:
    if token is None or not token.map:
        return None
    return chapter.first_line + token.map[0]


# -- block rules -----------------------------------------------------------------------

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
                                     _line(chapter, token) or 1, what="text")
        if deepest > MAX_INLINE_NESTING:
            raise BookError(f"emphasis, links and spans nest {deepest} levels deep; at most "
                            f"{MAX_INLINE_NESTING}", chapter.source, _line(chapter, token),
                            hint="close the markers you opened")
        if elements > MAX_INLINE_ELEMENTS:
            raise BookError(f"a paragraph holds {elements} emphasized spans, links and code "
                            f"spans, nested or side by side; at most {MAX_INLINE_ELEMENTS}",
                            chapter.source,
                            _line(chapter, token),
                            hint="split the paragraph, or escape the * and _ that are text")


def _tie(state: StateCore) -> None:
    language = state.md.options["bindery_language"]
    for token in state.tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "text":
                    child.content = typography.tie(child.content, language)


def _figures(state: StateCore) -> None:
    """``::: figure`` containers and images alone in a paragraph become figures.

    In a container, a paragraph holding only an image is the image, the other paragraphs are
    the caption. A container without an image is a caption whose picture is not in the book.
    """
    tokens = state.tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "container_figure_open":
            depth, j = 1, i + 1
            while depth:
                depth += {"container_figure_open": 1,
                          "container_figure_close": -1}.get(tokens[j].type, 0)
                j += 1
            out.extend(_figure(tokens[i + 1:j - 1], token, state.env["chapter"]))
            i = j
        elif _lone_image(tokens, i) is not None:
            image = _lone_image(tokens, i)
            caption = image.attrGet("title")
            image.attrs.pop("title", None)
            caption_tokens = []
            if caption:
                inline = Token("inline", "", 0, content=caption, map=token.map,
                               children=[Token("text", "", 0, content=caption)])
                caption_tokens = [inline]
            out.extend(_figure_tokens(tokens[i + 1], caption_tokens, token))
            i += 3
        else:
            out.append(token)
            i += 1
    state.tokens = out


def _lone_image(tokens: list[Token], i: int) -> Token | None:
    if (tokens[i].type == "paragraph_open" and i + 2 < len(tokens)
            and tokens[i + 1].type == "inline" and tokens[i + 2].type == "paragraph_close"):
        children = [child for child in tokens[i + 1].children or []
                    if not (child.type == "text" and not child.content.strip())]
        if len(children) == 1 and children[0].type == "image":
            return children[0]
    return None


def _figure(inner: list[Token], opener: Token, chapter: Chapter) -> list[Token]:
    image_inline = None
    caption: list[Token] = []
    i = 0
    while i < len(inner):
        if image_inline is None and _lone_image(inner, i) is not None:
            image_inline = inner[i + 1]
            i += 3
            continue
        if inner[i].type == "paragraph_open" and inner[i + 1].type == "inline":
            caption.append(inner[i + 1])
            i += 3
            continue
        raise BookError("a figure holds one image and caption paragraphs only",
                        chapter.source, _line(chapter, inner[i]) or _line(chapter, opener))
    return _figure_tokens(image_inline, caption, opener)


def _figure_tokens(image_inline: Token | None, caption: list[Token],
                   opener: Token) -> list[Token]:
    tokens = [Token("figure_open", "figure", 1, map=opener.map, block=True)]
    if image_inline is not None:
        tokens.append(image_inline)
    if caption:
        tokens.append(Token("figcaption_open", "figcaption", 1, map=caption[0].map))
        for index, inline in enumerate(caption):
            if index:
                tokens.append(Token("softbreak_block", "br", 0))
            tokens.append(inline)
        tokens.append(Token("figcaption_close", "figcaption", -1))
    tokens.append(Token("figure_close", "figure", -1, block=True))
    return tokens


def _render_figure(self, tokens, idx, options, env) -> str:
    return ""  # containers are rewritten by _figures before rendering


def _headings(state: StateCore) -> None:
    """The chapter title is the h1; the body's headings follow from h2, with no gaps."""
    levels = sorted({int(token.tag[1]) for token in state.tokens
                     if token.type == "heading_open"})
    mapping = {level: min(6, index + 2) for index, level in enumerate(levels)}
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{mapping[int(token.tag[1])]}"


def _references(state: StateCore) -> None:
    """Check links and images: what they point to must be allowed, and must exist."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in _walk(token.children):
            if child.type == "link_open":
                child.attrSet("href", _link(child.attrGet("href") or "", state.env, token))
            elif child.type == "image":
                _image(child, state.env, token)


def _walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _link(href: str, env: dict, token: Token) -> str:
    chapter: Chapter = env["chapter"]
    parts = urlsplit(href)
    if parts.scheme.lower() in _LINK_SCHEMES:
        if parts.scheme.lower() != "mailto" and not parts.netloc:
            raise BookError(f"link `{href}` has no host", chapter.source, _line(chapter, token))
        return href
    if parts.scheme or parts.netloc:
        raise BookError(f"link `{href}` is not allowed: links go to http(s) or mailto "
                        f"addresses, or to other chapters", chapter.source,
                        _line(chapter, token))
    if parts.path:
        target = (chapter.source.parent / unquote(parts.path)).resolve()
        target_id = env["chapter_ids"].get(target)
    else:
        target_id = parts.fragment          # "#chapter-id"
    fragment = parts.fragment or target_id
    if target_id not in env["chapter_ids"].values() or fragment != target_id:
        raise BookError(f"link `{href}` points to no chapter of this book", chapter.source,
                        _line(chapter, token),
                        hint="link to a chapter file such as other.md, or to a web address")
    return f"#{target_id}"


def _image(image: Token, env: dict, token: Token) -> None:
    book: Book = env["book"]
    chapter: Chapter = env["chapter"]
    line = _line(chapter, token)
    src = image.attrGet("src") or ""
    alt = _plain_text(image.children or []).strip()
    image.attrSet("alt", alt)
    image.children = []
    if not alt:
        raise BookError(f"image `{src}` has no alt text", chapter.source, line,
                        hint="describe the picture: ![what it shows](path)")
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith(("/", "\\")):
        raise BookError(f"image `{src}` must be a file inside the book folder", chapter.source,
                        line, hint="put it in images/ and write images/name.jpg")
    relative = Path(unquote(parts.path))
    candidates = [chapter.source.parent / relative, book.root / relative]
    path = next((candidate for candidate in candidates if os.path.lexists(candidate)), None)
    if path is None:
        raise BookError(f"image `{src}` not found", chapter.source, line)
    if not within(path, book.root):
        raise BookError(f"image `{src}` is outside the book folder", chapter.source, line)
    resolved = path.resolve()
    suffix = resolved.suffix.lower()
    media_type = IMAGE_TYPES.get(suffix)
    if media_type is None:
        allowed = ", ".join(sorted({s.lstrip(".") for s in IMAGE_TYPES}))
        raise BookError(f"image `{src}` is a {resolved.suffix or 'file'} file; EPUB allows "
                        f"{allowed}", chapter.source, line)
    try:
        problem = image_problem(read_file(resolved, "image"), suffix)
    except BookError as error:
        raise BookError(f"image `{src}`: {error.message}", chapter.source, line) from None
    if problem is not None:
        raise BookError(f"image `{src}` {problem}", chapter.source, line)
    original = os.path.relpath(os.path.normpath(path.absolute()),
                               os.path.normpath(book.root.absolute())).replace(os.sep, "/")
    image_record = _register(env["names"], resolved, original, media_type)
    env["images"].setdefault(image_record.href, image_record)
    # Chapters live in text/ in the EPUB and in the print document's base folder; the
    # EPUB maps the file's own path to its name in the package.
    image.attrSet("src", f"../{quote(original)}")
    image.attrs.pop("title", None)


def _register(names: dict[str, Path], source: Path, original: str,
              media_type: str) -> Image:
    """The image's name in the EPUB: its path with safe characters, made unique in the book
    (``images/a b.png`` and ``images/a_b.png`` are two files, so two names)."""
    href = "/".join(_safe_segment(segment) for segment in original.split("/"))
    stem, dot, suffix = href.rpartition(".")
    number = 1
    while names.setdefault(href, source) != source:
        number += 1
        href = f"{stem}-{number}{dot}{suffix}"
    return Image(source=source, href=href, media_type=media_type, original=original)


def _render_image(self, tokens, idx, options, env) -> str:
    """An image with the alt text checked by ``_image`` (markdown-it would rebuild it)."""
    return self.renderToken(tokens, idx, options, env)


def _safe_segment(segment: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", segment)


def _plain_text(tokens: list[Token]) -> str:
    return "".join(token.content if token.type in ("text", "code_inline")
                   else _plain_text(token.children or []) for token in tokens)


def _ids(state: StateCore) -> None:
    """Give every block an id, ``<chapter>-<n>``: the page map and links use them."""
    chapter: Chapter = state.env["chapter"]
    number = 0
    for token in state.tokens:
        if token.type in _BLOCK_TOKENS and not token.hidden:
            number += 1
            token.attrSet("id", f"{chapter.id}-{number}")

