"""Page map + EPUB documents -> page-break markers before the first word of each printed page.

A marker at the start of a block goes just before it, so that it does not become part of a
heading's name; where that is not allowed (a list item), just inside it.
"""

from __future__ import annotations

import bisect

from lxml import etree

from ..blocks import SPACE, local_name, segments
from ..model import PageStart
from ..namespaces import EPUB, XHTML

#: Containers whose children must be list items or table parts: a marker cannot stand there.
_NO_PHRASING = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "html", "head"}


def place_markers(trees, owner: dict[str, str], starts: list[PageStart]) -> None:
    """The page-break marker of each printed page, before its first word.

    ``trees`` are the EPUB's documents by id, ``owner`` the document id of each element id.
    """
    by_block: dict[str, list[PageStart]] = {}
    for start in starts:
        by_block.setdefault(start.block_id, []).append(start)
    for block_id, found in by_block.items():
        block = trees[owner[block_id]].xpath("//*[@id=$id]", id=block_id)[0]
        insert_markers(block, [(start.offset, etree.Element(f"{{{XHTML}}}span", {
            f"{{{EPUB}}}type": "pagebreak", "role": "doc-pagebreak",
            "id": f"page-{start.number}", "aria-label": str(start.number)}))
            for start in found])


def insert_markers(block, markers: list[tuple[int, object]]) -> None:
    """Put each ``(offset, marker)`` into ``block``: markers are lxml elements without text.

    A marker at the start of the block goes just before it, so that it does not become part
    of a heading's name; where that is not allowed (a list item), just inside it. A long
    paragraph can hold hundreds of page starts: its text is measured once, and the markers
    are placed from the last to the first, so that placing one moves none of the others.
    """
    pieces = list(segments(block))
    raw = "".join(text for _, _, text in pieces)
    collapsed = SPACE.sub(" ", raw)
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
    for match in SPACE.finditer(raw):
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
