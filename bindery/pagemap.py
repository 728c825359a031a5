"""Laid-out pages -> where each printed page begins in the text, and markers placed there.

Every block of the book has an id (``convert`` and the templates give them), and the print
document and the EPUB documents carry the same blocks with the same text. A page start is a
block id and a character offset into that block's own text, counted in the source text with
whitespace collapsed, not in the laid-out text (which has hyphens added at line ends). The
EPUB stage places a page-break marker at that offset, before the word the page break falls in.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterator

_SPACE = re.compile(r"[ \t\n\r\f]+")
_HYPHENS = "\u2010\u00ad-"          # what WeasyPrint may add at a hyphenated line end

#: Containers whose children must be list items or table parts: a marker cannot stand there.
_NO_PHRASING = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "html", "head"}


@dataclass(frozen=True)
class PageStart:
    """Printed page ``number`` begins in block ``block_id`` at ``offset`` (start of a word)."""

    number: int
    block_id: str
    offset: int
    words: str          # the first words of the page, as laid out, for reports and tests


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
    return _SPACE.sub(" ", "".join(text for _, _, text in segments(block)))


def word_start(text: str, offset: int) -> int:
    """Move ``offset`` back to the start of the word it falls in."""
    offset = max(0, min(offset, len(text)))
    while offset > 0 and not text[offset - 1].isspace():
        offset -= 1
    while offset < len(text) and text[offset] == " ":
        offset += 1
    return offset


# -- from WeasyPrint's laid-out pages ---------------------------------------------------

def page_starts(pages, elements_by_id) -> list[PageStart]:
    """Where each page that has text begins.

    ``pages`` are WeasyPrint ``Document.pages``; ``elements_by_id`` maps ids to the source
    elements of the print document. Each block's text is followed box by box across all
    pages, so a page that begins mid-paragraph, or mid-word after hyphenation, gets the
    offset of that word in the block's source text.
    """
    cursors: dict[str, int] = {}
    texts: dict[str, str] = {}
    starts = []
    for number, page in enumerate(pages, start=1):
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


def _text_boxes(page) -> Iterator[tuple[str, str]]:
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

    yield from walk(page._page_box, None)  # the one use of WeasyPrint's private box tree


# -- into the EPUB's documents ------------------------------------------------------------

def insert_markers(block, markers: list[tuple[int, object]]) -> None:
    """Put each ``(offset, marker)`` into ``block``: markers are lxml elements without text.

    A marker at the start of the block goes just before it, so that it does not become part
    of a heading's name; where that is not allowed (a list item), just inside it. A long
    paragraph can hold hundreds of page starts: its text is measured once, and the markers
    are placed from the last to the first, so that placing one moves none of the others.
    """
    pieces = list(segments(block))
    raw = "".join(text for _, _, text in pieces)
    collapsed = _SPACE.sub(" ", raw)
    starts, position = [], 0
    for _, _, text in pieces:
        starts.append(position)
        position += len(text)
    to_raw = _collapsed_to_raw(raw)
    for offset, marker in sorted(markers, key=lambda item: item[0], reverse=True):
        parent = block.getparent()
        if not collapsed[:offset].strip() and parent is not None:
            target = parent if local_name(parent) == "nav" else block  # a nav: heading, list
            if local_name(target.getparent()) not in _NO_PHRASING:
                marker.tail = None
                target.addprevious(marker)
                continue
        if not pieces:
            block.insert(0, marker)               # a block without text of its own
            continue
        index = to_raw(offset)
        piece = max(0, bisect.bisect_right(starts, index) - 1)
        element, where, text = pieces[piece]
        _split_at(element, where, min(index - starts[piece], len(text)), marker)


def _collapsed_to_raw(raw: str):
    """A function from an offset in the collapsed text to the index in ``raw``."""
    marks = []          # (collapsed offset just after a whitespace run, raw chars dropped)
    dropped = 0
    for match in _SPACE.finditer(raw):
        after = match.start() - dropped + 1
        dropped += len(match.group()) - 1
        marks.append((after, dropped))

    def to_raw(offset: int) -> int:
        position = bisect.bisect_right(marks, (offset, float("inf"))) - 1
        return offset + (marks[position][1] if position >= 0 else 0)

    return to_raw


def _split_at(element, where: str, index: int, marker) -> None:
    if where == "text":
        text = element.text or ""
        element.text = text[:index] or None
        marker.tail = text[index:] or None
        element.insert(0, marker)
    else:
        tail = element.tail or ""
        element.tail = tail[:index] or None
        marker.tail = tail[index:] or None
        element.addnext(marker)
