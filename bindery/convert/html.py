"""Raw HTML in a chapter -> the part of it a book can carry, as valid XHTML.

nh3 (the ammonia sanitiser) keeps an allow-list of elements and attributes: pictures and
their captions, phrase markup, definition lists and tables. Everything else is taken out:
scripts, styles, frames, objects, forms and their content entirely; an unknown wrapper such
as ``<center>`` or ``<markdown>`` leaves its text; event handlers, ``style`` and links to
other schemes go. Each removal is a warning at the chapter's line, so that nothing is
silently lost or silently shown.

What nh3 keeps is then held to the rules Markdown is held to: an ``<img>`` is a file inside
the book with alt text (the same checks as ``![alt](path)``), an ``<a href>`` points to the
web, an e-mail address or a place in the book, an ``id`` is unique in the book, and a header
cell says what it heads. A block of HTML is cleaned whole; an inline tag is cleaned alone
and closed, at the latest, at the end of its paragraph.
"""

from __future__ import annotations

import re
from html import escape
from typing import Callable

import lxml.html
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from ..errors import BookError, BookWarning
from ..model import Chapter
from .classes import check_classes
from .fragments import close_empty
from .images import check_image
from .sections import a_block_id
from .tokens import source_line

_PHRASE = {"abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i",
           "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
           "time", "u", "var", "wbr", "a", "img"}
_BLOCKS = {"blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "hr", "li", "ol",
           "p", "pre", "ul", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot",
           "tr", "th", "td"}
TAGS = _PHRASE | _BLOCKS
#: The properties an ``<img>``'s ``style`` may set (as mdBook books size their diagrams).
IMAGE_STYLE = {"width", "height"}
#: Removed with everything inside them: their content is code, or means nothing as text.
DROPPED = {"script", "style", "iframe", "object", "embed", "applet", "form", "input",
           "button", "select", "textarea", "noscript", "template", "svg", "math", "video",
           "audio", "canvas", "head", "title", "frameset", "frame", "noembed", "link", "meta"}
ATTRIBUTES = {
    "*": {"class", "id", "lang", "dir", "title"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "style"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "reversed"},
    "time": {"datetime"}, "data": {"value"},
}
_VOID = {"br", "wbr", "img", "hr", "col"}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_LONE = re.compile(r"\s*<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)\b[^<>]*>\s*$")


def html_plugin(md: MarkdownIt, link: Callable[[str, dict, Token], str]) -> None:
    """Raw HTML, cleaned; ``link`` checks an ``href`` as a Markdown link's."""
    md.options["bindery_link"] = link
    md.core.ruler.after("inline", "bindery_html", _clean_html)


def _clean_html(state: StateCore) -> None:
    env = state.env
    env["bindery_link"] = state.md.options["bindery_link"]
    open_blocks: list[tuple[str, int]] = []      # (tag, nesting level) of <div> alone …
    for token in state.tokens:
        if token.type == "html_block":
            lone = _LONE.match(token.content)
            if lone and lone[1] and open_blocks and open_blocks[-1] == (lone[2].lower(),
                                                                        token.level):
                token.content = f"</{open_blocks.pop()[0]}>\n"         # … and its </div>
                continue
            if lone and lone[1]:
                token.content = ""                  # closes nothing that is open: dropped
                continue
            cleaned = _clean(token.content, env, token)
            name = lone[2].lower() if lone else ""
            if (lone and token.level == 0 and name in _BLOCKS - _VOID
                    and cleaned.endswith((f"</{name}>", "/>"))):
                # A start tag alone at the top of the chapter, Markdown to follow: the
                # element stays open around it, to its end tag or the chapter's end.
                cleaned = _start_tag(cleaned, name)
                open_blocks.append((name, token.level))
            token.content = cleaned + "\n"
        elif token.type == "inline" and token.children and any(
                child.type == "html_inline" for child in token.children):
            _clean_inline(token, env)
    if open_blocks:
        chapter: Chapter = env["chapter"]
        env["warnings"].append(BookWarning(
            f"raw HTML: <{open_blocks[0][0]}> is not closed; closed at the chapter's end",
            chapter.source))
        state.tokens.append(Token("html_block", "", 0, content="".join(
            f"</{name}>\n" for name, _ in reversed(open_blocks))))


def _clean(html: str, env: dict, token: Token) -> str:
    """A fragment of raw HTML -> what the book keeps of it, as XHTML."""
    import nh3

    _warn_removals(html, env, token)
    kept = nh3.clean(html, tags=TAGS, clean_content_tags=DROPPED, attributes=ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel=None,
                     strip_comments=True, filter_style_properties=IMAGE_STYLE)
    if not kept.strip():
        return ""
    elements = lxml.html.fragments_fromstring(kept)
    text = ""
    if elements and isinstance(elements[0], str):
        text = escape(elements.pop(0), quote=False)
    wrapper = etree.Element("div")
    for element in elements:
        wrapper.append(element)
    _hold_to_book_rules(wrapper, env, token)
    close_empty(wrapper)
    xhtml = text + "".join(etree.tostring(child, encoding="unicode", method="xml")
                           for child in wrapper)
    if token.type == "html_block" and (text.strip() or any(
            (child.tail or "").strip() for child in wrapper)):
        xhtml = f"<div>{xhtml}</div>"      # text of its own belongs in a block
    return xhtml


def _clean_inline(token: Token, env: dict) -> None:
    """Inline tags, each cleaned alone; a closing tag closes what it opened, and whatever is
    still open at the end of the paragraph is closed there."""
    chapter: Chapter = env["chapter"]
    line = source_line(chapter, token)
    open_tags: list[str] = []
    children: list[Token] = []
    dropping: str | None = None        # inside <script>…</script>: nothing is kept
    for child in token.children:
        if dropping is not None:
            if child.type == "html_inline" and re.match(rf"<\s*/\s*{dropping}\b",
                                                        child.content, re.I):
                dropping = None
            continue
        if child.type != "html_inline":
            children.append(child)
            continue
        match = _TAG.match(child.content)
        if match is None:                         # a comment, a declaration
            if not child.content.startswith("<!--"):
                _warn(env, token, f"`{_short(child.content)}`")
            continue
        closing, name = match[1] == "/", match[2].lower()
        if name in DROPPED and not closing:
            _warn(env, token, f"<{name}> and its content")
            dropping = None if child.content.rstrip().endswith("/>") else name
            continue
        if closing:
            if name in open_tags:
                while open_tags:
                    children.append(_html(f"</{open_tags[-1]}>"))
                    if open_tags.pop() == name:
                        break
            continue
        cleaned = _clean(child.content, env, token)
        if not cleaned:
            continue
        if name not in _VOID:
            cleaned = _start_tag(cleaned, name)
            open_tags.append(name)
        children.append(_html(cleaned))
    for name in reversed(open_tags):
        children.append(_html(f"</{name}>"))
    if open_tags:
        env["warnings"].append(BookWarning(
            f"raw HTML: <{open_tags[0]}> is not closed in its paragraph; closed at its end",
            chapter.source, line))
    token.children = children


def _start_tag(xhtml: str, name: str) -> str:
    """An element written whole (``<div class="x"></div>``, or empty ``<div/>``) as its
    start tag alone, for content that follows outside it to close."""
    return xhtml[:-2] + ">" if xhtml.endswith("/>") else xhtml.removesuffix(f"</{name}>")


def _html(content: str) -> Token:
    return Token("html_inline", "", 0, content=content)


def _hold_to_book_rules(root, env: dict, token: Token) -> None:
    chapter: Chapter = env["chapter"]
    line = source_line(chapter, token)
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        check_classes(element.get("class"), env, token)
        if element.tag == "a" and "name" in element.attrib:
            # <a name="x"> is HTML 4's anchor; in XHTML 5 it is an id.
            name = element.attrib.pop("name")
            if element.get("id") is None:
                element.set("id", name)
        identity = element.get("id")
        if identity is not None:
            if identity in env["taken"] or a_block_id(identity, env):
                raise BookError(f"raw HTML: id `{identity}` is used twice in the book",
                                chapter.source, line, hint="give each id once")
            env["taken"].add(identity)
        if element.tag == "img":
            _image(element, env, token)
        elif element.tag == "a" and element.get("href") is not None:
            element.set("href", env["bindery_link"](element.get("href"), env, token))
        elif element.tag == "th" and element.get("scope") not in ("col", "row", "colgroup",
                                                                  "rowgroup"):
            row = element.getparent()
            head = row is not None and row.getparent() is not None and (
                row.getparent().tag == "thead" or row.getprevious() is None)
            element.set("scope", "col" if head else "row")


def _image(element, env: dict, token: Token) -> None:
    """An ``<img>`` is held to a Markdown image's rules; its width and height, given as
    attributes or in its ``style``, stay when they are sizes (pixels, or a percentage of the
    text's width)."""
    image = Token("image", "img", 0, attrs={"src": element.get("src") or ""},
                  children=[Token("text", "", 0, content=element.get("alt") or "")])
    check_image(image, env, token)
    element.set("src", image.attrGet("src"))
    element.set("alt", image.attrGet("alt"))
    style = {}
    for dimension in ("width", "height"):
        value = element.attrib.pop(dimension, None)
        if value is None:
            continue
        size = _SIZE.match(value)
        if size is None:
            _warn(env, token, f"the {dimension} `{value}` of <img>")
        elif size[2] == "%":
            style[dimension] = f"{size[1]}%"
        else:
            element.set(dimension, str(round(float(size[1]))))
    for dimension, value in _declarations(element.attrib.pop("style", "")):
        size = _SIZE.match(value)
        if size is None or size[2] is None:
            _warn(env, token, f"the {dimension} `{value}` in the style of <img>")
        else:
            style[dimension] = f"{size[1]}{size[2]}"
    if style:
        element.set("style", "; ".join(f"{name}: {value}" for name, value in style.items()))


def _declarations(style: str) -> list[tuple[str, str]]:
    """A ``style`` attribute's declarations, as (property, value) in lower case."""
    return [(name.strip().lower(), value.strip().lower())
            for name, _, value in (part.partition(":") for part in style.split(";"))
            if name.strip()]


def _warn_removals(html: str, env: dict, token: Token) -> None:
    """Say what nh3 is about to take out: elements not on the list (and, for some, their
    content), attributes not on it, links to other schemes."""
    removed: list[str] = []
    try:
        elements = lxml.html.fragments_fromstring(html)
    except etree.ParserError:
        return
    for top in elements:
        if isinstance(top, str):
            continue
        for element in top.iter():
            if not isinstance(element.tag, str):
                continue
            name = element.tag.lower()
            if name in DROPPED:
                removed.append(f"<{name}> and its content")
                continue
            if name not in TAGS:
                removed.append(f"<{name}>")
                continue
            allowed = ATTRIBUTES["*"] | ATTRIBUTES.get(name, set())
            for attribute, value in element.attrib.items():
                if attribute.lower() not in allowed:
                    removed.append(f"`{attribute}` on <{name}>")
                elif attribute.lower() == "style":
                    removed.extend(f"`{prop}` in the style of <{name}>"
                                   for prop, _ in _declarations(value)
                                   if prop not in IMAGE_STYLE)
                elif attribute in ("href", "src") and re.match(
                        r"\s*[A-Za-z][A-Za-z0-9+.-]*:", value) and not re.match(
                        r"\s*(https?|mailto):", value, re.I):
                    removed.append(f"`{attribute}=\"{_short(value)}\"` on <{name}>")
    for item in dict.fromkeys(removed):
        _warn(env, token, item)


def _warn(env: dict, token: Token, what: str) -> None:
    chapter: Chapter = env["chapter"]
    env["warnings"].append(BookWarning(
        f"raw HTML: {what} removed (not HTML a book can carry)", chapter.source,
        source_line(chapter, token)))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "…"
