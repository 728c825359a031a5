"""Laid-out pages + the print document -> the footnotes the layout left out, as warnings.

A chapter's notes are footnotes in print (``float: footnote``). WeasyPrint 70 may leave a
footnote out of every page: the generated long book of the tests, with its paragraphs set
in bold, lost three of its six notes in one pass, silently. ``layout.py`` then lays the
book out a unit at a time, which printed all six (three a page or two late, which the proof
finds). The e-book has them all; the author is told which note, in which chapter, is still
missing from the print edition.
"""

from __future__ import annotations

import re

from ..errors import BookWarning
from ..model import Book

#: A note in the print document, as ``convert/notes.py`` writes it.
_NOTE = re.compile(r'<span class="footnote" id="([^"]+)"')


def lost_footnotes(book: Book, print_html: str, page_boxes) -> list[BookWarning]:
    """A warning for each note of ``print_html`` on no page, at its foot or elsewhere."""
    placed = set()
    for page in page_boxes:
        for child in page.children:
            if type(child).__name__ == "FootnoteAreaBox":
                placed.update(box.element.get("id") for box in child.descendants()
                              if getattr(box, "element", None) is not None)
    missing = [note for note in _NOTE.findall(print_html) if note not in placed]
    if missing:
        # A book may set its notes elsewhere (its own print.css, in the margin): a note
        # laid out anywhere on a page is there; its call (``span::footnote-call``, of the
        # same element) is not the note.
        placed.update(box.element.get("id") for page in page_boxes
                      for box in page.descendants()
                      if getattr(box, "element", None) is not None
                      and "::" not in (box.element_tag or ""))
    warnings = []
    for note in missing:
        if note in placed:
            continue
        chapter = next((chapter for chapter in book.chapters
                        if note.startswith(f"{chapter.id}-note-")), None)
        number = note.rpartition("-")[2]
        warnings.append(BookWarning(
            f"footnote {number} is missing from the print edition: the layout engine "
            f"(WeasyPrint) left it off every page (the e-book has it); a change to the "
            f"paragraph that calls it, or to the note, may bring it back",
            chapter.source if chapter is not None else book.config))
    return warnings
