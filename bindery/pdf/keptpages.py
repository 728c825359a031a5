"""A page painted for the last PDF -> its content stream again, without painting it.

In ``watch`` and ``serve``, most pages of a book are pages of units kept from the last build:
the same boxes, written again after each edit. Each such page keeps, on its box, what
painting it put into the PDF: its content-stream operators, what its lines told the fonts
(``textruns.py``), the structure tags it marked and the alpha states it used. Written again
for the same kind of PDF, the page takes those instead of being painted: after a one-word
edit of the 308-page book, 588 of its 616 reading and press pages, and the painting of the
reading PDF 2.2 -> 0.3 s; the same bytes (``tests/test_textruns.py``).

A page is kept only when painting it touched nothing else of the PDF that is numbered
through it: no image or SVG in its text, no pattern, shading or graphics state of its own,
and every line went through ``textruns``' plain case. Its transparency groups (an
opacity, the rule above the notes, drawn from an SVG background) are kept with it, and
made again under the same names when the pages before it made as many. A page numbered
again (``renumber.py``) has new margin boxes, so it is painted again.

The press PDF is written in a second process, whose memory goes with it: what its pages
kept comes back with the PDF (``exporting``) and is put on this process's pages (``adopt``),
so that the next press PDF, in the next second process, finds it.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .layout import page_box
from .textruns import apply_glyphs, page_glyphs

#: Where a page box keeps what painting it wrote, for each kind of PDF.
_PAINTED = "_bindery_painted"
#: Stream methods that add to what the PDF numbers through its pages: a page that calls
#: one is painted each time.
_NUMBERED = ("set_state", "add_image", "add_pattern", "add_shading")
#: While ``exporting``: what each PDF written kept, by kind: (page index, _Painted).
_MADE: dict[tuple, list] | None = None


@dataclass(frozen=True)
class _Painted:
    children: tuple        # the page box's children when it was painted
    scale: float
    operators: tuple       # what painting appended to the content stream
    glyphs: tuple          # what its lines told the fonts (``textruns.page_glyphs``)
    tagged: int            # how many tags the page had before painting (its links')
    tags: tuple            # (box, tag) marked while painting, in order
    states: tuple          # (name, ExtGState) of the alpha states it used, in order
    grouped: int           # how many XObjects the PDF had before the page
    groups: tuple          # its groups: (add_group's arguments, operators, alpha states)


@contextmanager
def kept_pages(write, kind: tuple, pages: list) -> Iterator[None]:
    """While a kept layout (``pages``) is written as a PDF of ``kind``: each page painted
    keeps what it wrote, and a page kept from the last PDF of that kind is written from it."""
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import ReplacedBox
    from weasyprint.pdf.stream import Stream

    if write is None:
        yield
        return
    paint, add_group = Page.paint, Stream.add_group
    index = {id(page): number for number, page in enumerate(pages)}
    made = _MADE.setdefault(kind, []) if _MADE is not None else None
    methods = {name: getattr(Stream, name) for name in _NUMBERED}
    painting: list = []           # the page's stream, and the groups made on it
    recorded: set[int] = set()    # the boxes painted here (two pages may share one box)

    def refused(method):
        def call(stream, *args, **kwargs):
            write.page = None
            return method(stream, *args, **kwargs)
        return call

    def grouped(stream, *args):
        group = add_group(stream, *args)
        if painting and stream is painting[0]:
            painting[1].append((args, group))
        else:                                    # a group in a group
            write.page = None
        return group

    def kept_paint(page, stream, scale=1):
        box = page_box(page)
        painted = _painted(box)
        if kind in painted and id(box) not in recorded and _written(
                stream, box, painted[kind], scale, write, add_group):
            return
        recorded.add(id(box))
        painted.pop(kind, None)
        start, tags = len(stream.stream), stream._tags
        tagged = len(tags) if tags is not None else -1
        before = len(stream._resources["XObject"])
        write.page = [] if not any(isinstance(child, ReplacedBox)
                                   for child in box.descendants()) else None
        painting[:] = [stream, []]
        try:
            paint(page, stream, scale)
        finally:
            lines, write.page = write.page, None
            groups = painting.pop()
            painting.clear()
        groups = _groups(groups)
        if lines is not None and groups is not None:
            operators = stream.stream[start:]
            painted[kind] = _Painted(
                tuple(box.children), scale, tuple(operators), page_glyphs(lines), tagged,
                tuple(tags.items())[tagged:] if tags is not None else (),
                _states(stream._resources, operators), before, groups)
            if made is not None and id(page) in index:
                made.append((index[id(page)], painted[kind]))

    Page.paint, Stream.add_group = kept_paint, grouped
    for name, method in methods.items():
        setattr(Stream, name, refused(method))
    try:
        yield
    finally:
        Page.paint, Stream.add_group = paint, add_group
        for name, method in methods.items():
            setattr(Stream, name, method)


@contextmanager
def exporting(found: dict) -> Iterator[None]:
    """Into ``found``, what the pages painted by the PDFs written meanwhile kept, to send
    to the process that holds the layout: untagged PDFs only (tags are this process's
    boxes)."""
    global _MADE
    _MADE = {}
    try:
        yield
        found.update({kind: [(number, dataclasses.replace(painted, children=()))
                             for number, painted in made if not painted.tags]
                      for kind, made in _MADE.items() if kind[0]})
    finally:
        _MADE = None


def adopt(pages: list, found: dict[tuple, list]) -> None:
    """Put on ``pages`` what a second process's pages kept (``exporting``), as if painted
    here: the same layout, forked."""
    for kind, made in found.items():
        for number, painted in made:
            box = page_box(pages[number])
            _painted(box)[kind] = dataclasses.replace(painted, children=tuple(box.children))


def _painted(box) -> dict:
    """What ``box`` keeps, by kind of PDF: its own, not that of the box it was copied from
    (a copy shares its original's attributes: the binding's blank pages are copies)."""
    owner, painted = box.__dict__.get(_PAINTED, (None, None))
    if owner != id(box):
        painted = {}
        box.__dict__[_PAINTED] = (id(box), painted)
    return painted


def _groups(made: list) -> tuple | None:
    """What each group a page made holds, to make it again; None when one holds more than
    operators and alpha states (an image, a pattern, another group)."""
    kept = []
    for args, group in made:
        resources = group.extra["Resources"]
        if any(resources[name] for name in ("XObject", "Pattern", "Shading")):
            return None
        kept.append((args, tuple(group.stream), tuple(resources["ExtGState"].items())))
    return tuple(kept)


def _states(resources, operators: list) -> tuple:
    """The alpha states (``/a1 gs``) the operators use, each once, in the order used."""
    states = resources["ExtGState"]
    names = dict.fromkeys(item[1:-3].decode() for item in operators
                          if item.__class__ is bytes and item.endswith(b" gs"))
    return tuple((name, states[name]) for name in names)


def _written(stream, box, painted: _Painted, scale: float, write, add_group) -> bool:
    """Write the kept page into ``stream``; False (nothing written) when it is not the page
    it was, its groups would be named otherwise, or this PDF does not yet hold what its
    lines need (``apply_glyphs``)."""
    tags = stream._tags
    if (painted.scale != scale or len(box.children) != len(painted.children)
            or any(new is not old for new, old in zip(box.children, painted.children))
            or painted.tagged != (len(tags) if tags is not None else -1)
            or painted.grouped != len(stream._resources["XObject"])):
        return False
    if not apply_glyphs(stream, painted.glyphs, write):
        return False
    states = stream._resources["ExtGState"]
    for name, state in painted.states:
        states.setdefault(name, state)
    for args, operators, group_states in painted.groups:
        group = add_group(stream, *args)
        group.stream.extend(operators)
        group.extra["Resources"]["ExtGState"].update(group_states)
    for tagged_box, tag in painted.tags:
        tags[tagged_box] = dict(tag)
    stream.stream.extend(painted.operators)
    return True
