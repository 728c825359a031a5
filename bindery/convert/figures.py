"""``::: figure`` containers and images alone in a paragraph -> figures with captions."""

from __future__ import annotations

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from ..errors import BookError
from ..model import Chapter
from .tokens import source_line


def figures(state: StateCore) -> None:
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
            if _lone_html_image(tokens, i):
                token.attrSet("class", "picture")
            out.append(token)
            i += 1
    state.tokens = out


def _lone_html_image(tokens: list[Token], i: int) -> bool:
    """Whether the paragraph at ``i`` holds only an ``<img>`` written in HTML (mdBook's
    books place their pictures so): it is set as a picture, without the first line's
    indent, which would push it past the text block."""
    child = _lone_child(tokens, i)
    return (child is not None and child.type == "html_inline"
            and child.content.lstrip()[:4].lower() == "<img")


def _lone_image(tokens: list[Token], i: int) -> Token | None:
    child = _lone_child(tokens, i)
    return child if child is not None and child.type == "image" else None


def _lone_child(tokens: list[Token], i: int) -> Token | None:
    """The one thing in the paragraph at ``i`` (blank text and line breaks aside), if it
    holds one thing."""
    if (tokens[i].type == "paragraph_open" and i + 2 < len(tokens)
            and tokens[i + 1].type == "inline" and tokens[i + 2].type == "paragraph_close"):
        children = [child for child in tokens[i + 1].children or []
                    if child.type != "softbreak"
                    and not (child.type == "text" and not child.content.strip())]
        if len(children) == 1:
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
                        chapter.source,
                        source_line(chapter, inner[i]) or source_line(chapter, opener))
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


def render_figure(self, tokens, idx, options, env) -> str:
    return ""  # containers are rewritten by _figures before rendering
