"""A unit laid out from one page -> the same unit from another, by numbering its pages again.

When a chapter grows or shrinks by a page, every unit after it begins on another page. Its
text is laid out exactly as before when its pages stay on their sides (it moved by an even
number of pages) and nothing in its text prints a page number: only its page-margin boxes (the
folios, the running heads) change. Here they are made again from the unit's own layout context,
as WeasyPrint made them at the end of its layout, with the page counter moved: 0.1 s for a
chapter instead of the second or more of laying it out again, and the same pages one pass
gives (``tests/test_units.py``).

The layout context is WeasyPrint's own (``LayoutContext``), kept from the unit's layout; its
``_build_layout_context``, ``page_maker`` and ``make_margin_boxes`` are reached only here,
checked against WeasyPrint 70.0.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .layout import page_box


@contextmanager
def keeping_context() -> Iterator[list]:
    """While a document is rendered, the layout contexts WeasyPrint makes, in a list."""
    from weasyprint.document import Document

    contexts: list = []
    make = Document._build_layout_context

    def build(cls, *args, **kwargs):
        contexts.append(make(*args, **kwargs))
        return contexts[-1]

    Document._build_layout_context = classmethod(build)
    try:
        yield contexts
    finally:
        Document._build_layout_context = make


def renumber(document, context, skipped: int, delta: int) -> bool:
    """Number the pages of a unit's ``document`` ``delta`` further on, in place; False (and
    nothing changed) when that would not give the unit's pages from the new page.

    ``skipped`` is how many pages the layout made before the unit's first (its lead page).
    The pages must keep their sides (``delta`` even), no page may set the page counter
    itself, and no text of the unit may print a page number (``target-counter()`` to an
    anchor in it, ``counter(page)`` outside a page margin): those are laid out again."""
    if delta % 2 or context is None or context.target_collector.counter_lookup_items:
        return False
    states = [context.page_maker[index + skipped + 1][3]
              for index in range(len(document.pages))]
    numbers = [state[1].get("page") for state in states]
    if not numbers or any(number is None or len(number) != 1 for number in numbers):
        return False
    if any(number[0] != numbers[0][0] + index for index, number in enumerate(numbers)):
        return False
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import MarginBox
    from weasyprint.layout.background import layout_box_backgrounds
    from weasyprint.layout.page import make_margin_boxes

    for index, state in enumerate(states):
        state[1]["page"] = [numbers[index][0] + delta]
        context.current_page = index + skipped + 1
        box = page_box(document.pages[index])
        kept = [child for child in box.children if not isinstance(child, MarginBox)]
        margins = list(make_margin_boxes(context, box, state))
        for margin in margins:           # the rest of the page's backgrounds stay as laid out
            layout_box_backgrounds(box, margin, context.get_image_from_uri)
        box.children = tuple(kept + margins)
        document.pages[index] = Page(box)
    return True


def unit_context(contexts: list) -> Any:
    """The context a unit's document was laid out with: the one of its render."""
    return contexts[-1] if len(contexts) == 1 else None
