"""A unit's lead page -> its HTML; a unit's laid-out pages -> what crosses from it to the next.

Each unit but the first is laid out after a lead page that stands for the page before it
(``units.py``): an empty element, on a page named as the last unit's last page, setting the
named strings as the units before left them. What a unit's pages say about the next one:
the strings it leaves, whether it ran on from the lead page (it is not a unit then), and
whether its notes run past its text onto a page of their own.
"""

from __future__ import annotations

#: The class of the empty element on the page a unit is laid out after.
LEAD = "bindery-lead"


def lead_html(strings: tuple[tuple[str, str], ...], page: str) -> str:
    """The lead page's element: empty, on a page named as the last unit's last page,
    setting the named strings as they stand."""
    values = ", ".join(f"{name} {_css_string(text)}" for name, text in strings)
    style = (f"page: {page}; " if page else "") + (f"string-set: {values}" if values else "")
    return f'<div class="{LEAD}" style="{style}"></div>'


def _css_string(text: str) -> str:
    """``text`` as a CSS string, inside an HTML attribute in double quotes."""
    escaped = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return f"'{escaped}'"


def strings_left(boxes) -> tuple[tuple[str, str], ...]:
    """The named strings as the last of ``boxes`` leaves them: the last value each was set
    to, in the order the boxes come."""
    found: dict[str, str] = {}
    for box in boxes:
        for descendant in box.descendants():
            for name, text in getattr(descendant, "string_set", None) or ():
                found[name] = text
    return tuple(sorted(found.items()))


def runs_on(lead_page) -> bool:
    """Whether the unit began on the lead page: it does not open a page of its own."""
    for box in lead_page.descendants():
        if getattr(box, "element_tag", None) == "body":
            return any(getattr(child, "element", None) is not None
                       and child.element.get("class") != LEAD for child in box.children)
    return False


def note_runs_past(boxes) -> bool:
    """Whether footnotes go on past the unit's text, onto a last page that holds only
    them: one pass would carry them onto the next unit's first page."""
    last = boxes[-1] if len(boxes) > 1 else None
    if last is None:
        return False
    kinds = {type(child).__name__: child for child in last.children}
    area = kinds.get("FootnoteAreaBox")
    return bool(area is not None and area.children) and not any(
        getattr(box, "text", "").strip() for child in last.children
        if type(child).__name__ not in ("FootnoteAreaBox", "MarginBox")
        for box in child.descendants())


def side(number: int, rtl: bool) -> str:
    """The side page ``number`` is on: the first page is a right-hand page, or a left-hand
    one in a right-to-left book (WeasyPrint's rule)."""
    first, other = ("left", "right") if rtl else ("right", "left")
    return first if number % 2 else other
