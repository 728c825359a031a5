"""A table and the caption under it -> a table with its ``<caption>``: a paragraph that starts
with ``Table:`` (or ``:``) right after a table is its caption, as pandoc reads it."""

from __future__ import annotations

import re

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_CAPTION = re.compile(r"^(?:Table)?:\s+")


def table_captions(state: StateCore) -> None:
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        if (tokens[index].type == "table_close" and index + 3 < len(tokens)
                and tokens[index + 1].type == "paragraph_open"
                and tokens[index + 2].type == "inline"
                and _CAPTION.match(tokens[index + 2].content)):
            inline = tokens[index + 2]
            prefix = _CAPTION.match(inline.content).end()
            inline.content = inline.content[prefix:]
            first = inline.children[0] if inline.children else None
            if first is not None and first.type == "text":
                first.content = _CAPTION.sub("", first.content, count=1)
            opening = max(i for i in range(index) if tokens[i].type == "table_open")
            caption = [Token("caption_open", "caption", 1, map=inline.map), inline,
                       Token("caption_close", "caption", -1)]
            del tokens[index + 1:index + 4]
            tokens[opening + 1:opening + 1] = caption
            index += len(caption)
        index += 1
