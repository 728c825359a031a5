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
made again under the same names when the pages before it made as many.

A page numbered again (``renumber.py``) has the same text and notes and new margin boxes
(folios, running heads). WeasyPrint paints each child of a page as a stacking context of its
own, the margin boxes last: what the page wrote before its first margin box (its body) is
written again as kept, its new margin boxes are painted, and what closed the page follows.

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
from .textruns import apply_glyphs, merged_glyphs, page_glyphs

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
    # The same of what it wrote before its first margin box, for when it is numbered
    # again (its ``children``: those before the margin boxes), and what it wrote after them.
    body: _Painted | None = None
    tail: tuple = ()
    ctm: tuple = ()        # a body's: the transformations its margin boxes are painted under


@contextmanager
def kept_pages(write, kind: tuple, pages: list) -> Iterator[None]:
    """While a kept layout (``pages``) is written as a PDF of ``kind``: each page painted
    keeps what it wrote, and a page kept from the last PDF of that kind is written from it,
    or, numbered again, its body is and its margin boxes are painted."""
    from weasyprint import draw
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import MarginBox, ReplacedBox
    from weasyprint.pdf.stream import Stream
    from weasyprint.stacking import StackingContext

    if write is None:
        yield
        return
    paint, add_group, draw_context = Page.paint, Stream.add_group, draw.draw_stacking_context
    index = {id(page): number for number, page in enumerate(pages)}
    made = _MADE.setdefault(kind, []) if _MADE is not None else None
    methods = {name: getattr(Stream, name) for name in _NUMBERED}
    painting: list = []           # the page's stream, and the groups made on it
    recorded: set[int] = set()    # the boxes painted here (two pages may share one box)
    margins: list = []            # where the page's margin boxes began, and where they ended

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

    def context_drawn(stream, context):
        if not (painting and stream is painting[0] and isinstance(context.box, MarginBox)):
            return draw_context(stream, context)
        if not margins:                    # the page's first margin box: its body ends
            # A body that ends on an opening ``q`` is not kept: if nothing came after it,
            # WeasyPrint would take the ``q`` back (``Stream.pop_state``).
            lines = (list(write.page) if write.page is not None
                     and stream.stream[-1:] != [b"q"] else None)
            margins[:] = [_Mark(len(stream.stream), lines, len(stream._tags or ()),
                                len(painting[1]), tuple(stream._ctm_stack)), None]
        draw_context(stream, context)
        margins[1] = len(stream.stream)     # the last one's end: what closes the page begins

    def kept_paint(page, stream, scale=1):
        box = page_box(page)
        painted = _painted(box)
        kept = painted.get(kind) if id(box) not in recorded else None
        if kept is not None and _written(stream, box.children, kept, scale, write,
                                         add_group):
            return
        recorded.add(id(box))
        painted.pop(kind, None)
        start, tags = len(stream.stream), stream._tags
        tagged = len(tags) if tags is not None else -1
        before = len(stream._resources["XObject"])
        write.page = [] if not any(isinstance(child, ReplacedBox)
                                   for child in box.descendants()) else None
        painting[:] = [stream, []]
        margins.clear()
        body = kept.body if kept is not None and _margins_after(box, kept.body) else None
        try:
            if body is not None and write.page is not None and _written(
                    stream, box.children[:len(body.children)], body, scale, write, add_group):
                # Numbered again: its body as kept, its new margin boxes, what closes it.
                # They are painted under the transformations the body left (an image's
                # resolution, a pattern's matrix are read from them).
                stack = list(stream._ctm_stack)
                stream._ctm_stack[:] = body.ctm
                try:
                    for child in box.children[len(body.children):]:
                        draw_context(stream, StackingContext.from_box(child, box))
                finally:
                    stream._ctm_stack[:] = stack
                stream.stream.extend(kept.tail)
            else:
                body = None
                paint(page, stream, scale)
        finally:
            lines, write.page = write.page, None
            groups = _groups(painting.pop())
            painting.clear()
        if lines is None or groups is None:
            return
        operators = stream.stream[start:]
        glyphs = page_glyphs(lines)
        if body is not None:
            groups, glyphs = body.groups + groups, merged_glyphs(body.glyphs, glyphs)
        painted[kind] = _Painted(
            tuple(box.children), scale, tuple(operators), glyphs, tagged,
            tuple(tags.items())[tagged:] if tags is not None else (),
            _states(stream._resources, operators), before, groups, body,
            kept.tail if body is not None else ())
        if body is None and margins and margins[0].lines is not None:
            painted[kind] = _with_body(painted[kind], box, margins, start,
                                       stream._resources)
        if made is not None and id(page) in index:
            made.append((index[id(page)], painted[kind]))

    Page.paint, Stream.add_group = kept_paint, grouped
    draw.draw_stacking_context = context_drawn
    for name, method in methods.items():
        setattr(Stream, name, refused(method))
    try:
        yield
    finally:
        Page.paint, Stream.add_group = paint, add_group
        draw.draw_stacking_context = draw_context
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
        found.update({kind: [(number, _without_boxes(painted))
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
            body = painted.body
            if body is not None:
                body = dataclasses.replace(body, children=box.children[:len(body.children)])
            _painted(box)[kind] = dataclasses.replace(painted, children=tuple(box.children),
                                                      body=body)


def _without_boxes(painted: _Painted) -> _Painted:
    """What a page kept, without its boxes (which stay in their process): as many
    placeholders, which ``adopt`` replaces with the same boxes of the other process."""
    body = painted.body
    if body is not None:
        body = dataclasses.replace(body, children=(None,) * len(body.children))
    return dataclasses.replace(painted, children=(), body=body)


@contextmanager
def portable(pages: list) -> Iterator[None]:
    """Meanwhile (while ``pages`` are pickled, ``unitstore.py``), what a page box keeps is
    marked as its own by ``True`` instead of by the box's ``id``, which another process
    cannot know; ``settle`` marks it again there."""
    marked = []
    for box in map(page_box, pages):
        owner, painted = box.__dict__.get(_PAINTED, (None, None))
        if owner == id(box):
            box.__dict__[_PAINTED] = (True, painted)
            marked.append(box)
    try:
        yield
    finally:
        for box in marked:
            box.__dict__[_PAINTED] = (id(box), box.__dict__[_PAINTED][1])


def settle(pages: list) -> None:
    """Mark what the page boxes of ``pages`` keep as theirs, as ``portable`` left it; what
    another box kept (an ``id`` of the other process, which a box here might have) as none's."""
    for box in map(page_box, pages):
        owner, painted = box.__dict__.get(_PAINTED, (None, None))
        if owner is not None:
            box.__dict__[_PAINTED] = (id(box) if owner is True else None, painted)


def painted_kinds(pages: list) -> tuple:
    """The kinds of PDF each page of ``pages`` keeps what painting it wrote for."""
    return tuple(tuple(sorted(box.__dict__.get(_PAINTED, (None, {}))[1]))
                 for box in map(page_box, pages))


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


@dataclass(frozen=True)
class _Mark:
    """Where a page's body ended, as its first margin box began to be painted."""

    at: int                # the content stream's length
    lines: list | None     # the lines kept so far (None: one was not)
    tags: int              # how many tags the PDF had
    groups: int            # how many groups the page had made
    ctm: tuple             # the stream's transformation matrices, outermost first


def _margins_after(box, body: _Painted | None) -> bool:
    """Whether ``box`` has margin boxes after as many children as ``body`` (numbered
    again); ``_written`` then finds whether those children are the body's."""
    return (body is not None and len(box.children) > len(body.children)
            and _margins_last(box.children, len(body.children)))


def _margins_last(children, count: int) -> bool:
    """Whether the children after the first ``count`` are all margin boxes, and all are
    painted in the order they come (no ``z-index``): the margin boxes are painted last."""
    from weasyprint.formatting_structure.boxes import MarginBox

    return all(isinstance(child, MarginBox) for child in children[count:]) and all(
        child.style["z_index"] in ("auto", 0) for child in children)


def _with_body(whole: _Painted, box, margins: list, start: int, resources) -> _Painted:
    """``whole``, with its body (what the page wrote before its first margin box) and what
    closed it after its last, when its margin boxes are painted last (``_margins_last``)."""
    from weasyprint.formatting_structure.boxes import MarginBox

    mark, end = margins
    count = len(box.children) - sum(isinstance(child, MarginBox) for child in box.children)
    if not _margins_last(box.children, count):
        return whole
    operators = whole.operators[:mark.at - start]
    body = dataclasses.replace(
        whole, children=tuple(box.children[:count]), operators=operators,
        glyphs=page_glyphs(mark.lines), tags=whole.tags[:mark.tags - max(whole.tagged, 0)],
        states=_states(resources, operators), groups=whole.groups[:mark.groups],
        ctm=mark.ctm)
    return dataclasses.replace(whole, body=body, tail=whole.operators[end - start:])


def _written(stream, children, painted: _Painted, scale: float, write, add_group) -> bool:
    """Write the kept page (or its body, before ``children``' margin boxes) into
    ``stream``; False (nothing written) when it is not the page it was, its groups would be
    named otherwise, or this PDF does not yet hold what its lines need (``apply_glyphs``)."""
    tags = stream._tags
    if (painted.scale != scale or len(children) != len(painted.children)
            or any(new is not old for new, old in zip(children, painted.children))
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
