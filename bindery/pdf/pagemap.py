"""Laid-out pages -> the page map: where each printed page begins in the text.

Every block of the book has an id (``convert`` and the templates give them), and the print
document and the EPUB documents carry the same blocks with the same text. A page start is a
block id and a character offset into that block's own text (``blocks.block_text``), counted
in the source text with whitespace collapsed, not in the laid-out text (which has hyphens
added at line ends). The EPUB places a page-break marker at that offset.
"""

from __future__ import annotations

from typing import Iterator

from ..blocks import block_text
from ..model import PageStart

_HYPHENS = "\u2010\u00ad-"          # what WeasyPrint may add at a hyphenated line end


def word_start(text: str, offset: int) -> int:
    """Move ``offset`` back to the start of the word it falls in."""
    offset = max(0, min(offset, len(text)))
    while offset > 0 and not text[offset - 1].isspace():
        offset -= 1
    while offset < len(text) and text[offset] == " ":
        offset += 1
    return offset


def page_starts(page_boxes, elements_by_id) -> list[PageStart]:
    """Where each page that has text begins.

    ``page_boxes`` are the box trees of WeasyPrint's laid-out pages; ``elements_by_id`` maps ids to the source
    elements of the print document. Each block's text is followed box by box across all
    pages, so a page that begins mid-paragraph, or mid-word after hyphenation, gets the
    offset of that word in the block's source text.
    """
    cursors: dict[str, int] = {}
    texts: dict[str, str] = {}
    starts = []
    for number, page in enumerate(page_boxes, start=1):
        first = None
        for block_id, text in _text_boxes(page):
            element = elements_by_id.get(block_id)
            if element is None:
                continue
            if block_id not in texts:
                texts[block_id] = block_text(element)
            offset = _advance(texts[block_id], text, cursors.get(block_id, 0))
            cursors[block_id] = offset + len(text.rstrip(_HYPHENS))
            if first is None:
                first = PageStart(number, block_id, word_start(texts[block_id], offset),
                                  text.strip())
        if first is not None:
            starts.append(first)
    return starts


def _advance(block: str, piece: str, cursor: int) -> int:
    """Where laid-out ``piece`` lies in ``block``, at or after ``cursor``."""
    piece = piece.strip()
    candidates = [piece, piece.rstrip(_HYPHENS)]
    for candidate in candidates:
        if candidate:
            found = block.find(candidate, cursor)
            if found != -1 and found - cursor <= 2:
                return found
    lowered = block.lower()
    for candidate in candidates:
        found = lowered.find(candidate.lower(), cursor) if candidate else -1
        if found != -1:
            return found
    return cursor


def _text_boxes(page_box) -> Iterator[tuple[str, str]]:
    """``(block id, text)`` of each text box on the page, in order; margin boxes and
    generated content (counters, markers, leaders) left out."""
    from weasyprint.formatting_structure import boxes

    def walk(box, block_id):
        if isinstance(box, boxes.MarginBox):
            return
        element = getattr(box, "element", None)
        tag = box.element_tag or ""
        if "::" in tag:
            return
        if element is not None and element.get("id") is not None and not isinstance(
                box, boxes.TextBox):
            block_id = element.get("id")
        if isinstance(box, boxes.TextBox):
            if block_id is not None and box.text.strip():
                yield block_id, box.text
            return
        for child in getattr(box, "children", ()):
            yield from walk(child, block_id)

    yield from walk(page_box, None)
