"""Laid-out pages + the print document -> the footnotes the layout left out, as warnings.

A chapter's notes are footnotes in print (``float: footnote``). WeasyPrint 70 may leave a
footnote out of every page: the generated long book of the tests, with its paragraphs set
in bold, lost three of its six notes in one pass, silently. The e-book still has them;
the author is told which note, in which chapter, is missing from the print edition.
"""

from __future__ import annotations

import re

from ..errors import BookWarning
from ..model import Book

#: A note in the print document, as ``convert/notes.py`` writes it.
_NOTE = re.compile(r'<span class="footnote" id="([^"]+)"')


def lost_footnotes(book: Book, print_html: str, page_boxes) -> list[BookWarning]:
    """A warning for each note of ``print_html`` in no page's footnote area."""
    placed = set()
    for page in page_boxes:
        for child in page.children:
            if type(child).__name__ == "FootnoteAreaBox":
                placed.update(box.element.get("id") for box in child.descendants()
                              if getattr(box, "element", None) is not None)
    warnings = []
    for note in _NOTE.findall(print_html):
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
