"""An XHTML block -> its own text, the way the page map counts it and the EPUB's page-break
markers are placed in it: text in document order, nested blocks with ids of their own left
out, whitespace collapsed."""

from __future__ import annotations

import re
from typing import Iterator

SPACE = re.compile(r"[ \t\n\r\f]+")


def local_name(element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def segments(block) -> Iterator[tuple[object, str, str]]:
    """The block's own text in document order, as ``(element, "text"|"tail", string)``.

    Blocks nested inside with an id of their own are skipped (their text is theirs), but the
    text after them is the block's again.
    """
    if block.text:
        yield block, "text", block.text
    for child in block:
        if not isinstance(child.tag, str):      # comments, processing instructions
            pass
        elif child.get("id") is None:
            yield from segments(child)
        if child.tail:
            yield child, "tail", child.tail


def block_text(block) -> str:
    """The block's own text with whitespace collapsed, as a reader sees it."""
    return SPACE.sub(" ", "".join(text for _, _, text in segments(block)))
