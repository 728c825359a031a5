"""A line of text -> its glyphs in the PDF's content stream, faster than WeasyPrint 70 paints it.

Writing a laid-out book spends about half its time in WeasyPrint's ``draw_first_line``
(4.6 s of 9.7 s for the reading PDF of a 308-page book): a Python loop reads every glyph
through cffi, field by field, and grows one string a glyph at a time. Here the glyphs of a
run are read in one unpack of their C array, and the operators of a glyph at a width and
offset are kept per font: the write takes about a tenth less (``bench/README.md``; the rest
is Pango laying each line out again, and WeasyPrint's tagging and serialising). What is
written is the same, byte for byte (``tests/test_textruns.py`` writes books both ways).

In ``watch`` and ``serve``, most of a book is laid out units kept from the last build, and
written again after each edit: there each plain line keeps, on its Pango layout, the
operators it wrote and what its glyphs are (their widths and characters). Written again, a
kept line takes none of WeasyPrint's and Pango's work (making its layout again, laying it
out again, reading its glyphs): 308 pages' reading PDF in 2.5 s instead of 8.5 s, the same
bytes. WeasyPrint's private ``Stream._fonts`` and its ``Layout.reactivate`` and
``deactivate`` are reached only here.

Only the plain case is done here: a run whose font has no colour glyphs (SVG, PNG or COLR)
and whose glyphs all sit on the baseline and are found in their font. A line with anything
else (an emoji, a raised glyph, a missing glyph, an ellipsis) is left whole to WeasyPrint's
own function. The loop follows WeasyPrint 70.0's ``draw/text.py`` (BSD-3-Clause, © Kozea),
and WeasyPrint's ``draw_first_line`` is replaced only here, while a PDF is written.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Iterator

#: PangoGlyphInfo, as 32-bit ints: the glyph, its width, x and y offsets, its attributes.
_FIELDS = 5


@contextmanager
def fast_text_runs(keep: bool = False) -> Iterator[_Write | None]:
    """WeasyPrint's ``draw_first_line`` replaced by the one here, while a PDF is written.

    A glyph of a font, at one width and offset, is always written the same way: its
    operators are kept, for each font, while this PDF is written. With ``keep`` (a layout
    that ``watch`` writes again after each edit), each plain line also keeps what it wrote
    on its Pango layout: written again, the line is not laid out again by Pango, nor its
    layout made again (WeasyPrint's ``reactivate``), unless this PDF has not yet met its fonts.
    """
    from weasyprint.draw import text
    from weasyprint.text import line_break
    from weasyprint.text.ffi import ffi

    weasyprint_draw = text.draw_first_line
    if ffi.sizeof("PangoGlyphInfo") != 4 * _FIELDS:           # another Pango's layout
        yield None
        return
    write = _Write()
    layout_class = line_break.Layout
    reactivate, deactivate = layout_class.reactivate, layout_class.deactivate

    def draw(stream, textbox, text_overflow, block_ellipsis, matrix):
        layout = textbox.pango_layout
        if layout.__dict__.pop(_ASLEEP, False):
            if _show_kept(stream, layout.__dict__[_KEPT], matrix, write):
                layout.__dict__[_ASLEEP] = True      # for deactivate
                write.line(layout.__dict__[_KEPT])
                return []
            reactivate(layout, textbox.style)       # a font this PDF has not met: as usual
        runs = _plain_runs(stream, textbox, text_overflow, block_ellipsis, keep)
        if runs is None:
            # WeasyPrint writes nothing of a blank line: as a kept line, it tells nothing.
            write.line([] if not textbox.text.strip() else None)
            return weasyprint_draw(stream, textbox, text_overflow, block_ellipsis, matrix)
        kept = _show(stream, textbox, runs, matrix, write, keep)
        if kept is not None:
            layout.__dict__[_KEPT] = kept
        write.line(kept)
        return []

    def lazy_reactivate(layout, style):
        if keep and _KEPT in layout.__dict__:
            layout.__dict__[_ASLEEP] = True
        else:
            reactivate(layout, style)

    def lazy_deactivate(layout):
        if not layout.__dict__.pop(_ASLEEP, False):
            deactivate(layout)

    text.draw_first_line = draw
    layout_class.reactivate, layout_class.deactivate = lazy_reactivate, lazy_deactivate
    try:
        yield write
    finally:
        text.draw_first_line = weasyprint_draw
        layout_class.reactivate, layout_class.deactivate = reactivate, deactivate


#: Where a Pango layout (WeasyPrint's ``Layout``) keeps what its line wrote, and whether it
#: was left asleep (not made again) for this drawing.
_KEPT, _ASLEEP = "_bindery_kept_line", "_bindery_asleep"


class _Write:
    """What one PDF's writing knows: the operators written for each font and size; with
    ``keep``, the size at which each glyph's width was taken, which (font, facts) this PDF
    has been given, and the runs and facts it kept or wrote again, each kept once however
    many lines hold the same (a word comes back on every page: a kept line is mostly
    references). A new one for each PDF: what no line holds any more is let go. While a
    page is painted to be kept (``keptpages.py``), ``page`` gathers what its lines kept;
    None when a line was not kept."""

    def __init__(self):
        self.operators: dict[int, tuple] = {}
        self.sized: dict[tuple[int, int], float] = {}
        self.same: set[tuple[int, int, float]] = set()    # widths found the same at a size
        self.facts: dict[tuple, tuple | None] = {}         # a run's glyphs and text: _facts
        self.applied: set[tuple[int, int]] = set()
        self.interned: dict[tuple, tuple] = {}
        self.page: list | None = None

    def once(self, value: tuple) -> tuple:
        return self.interned.setdefault(value, value)

    def line(self, kept: list | None) -> None:
        if self.page is not None:
            if kept is None:
                self.page = None
            else:
                self.page.append(kept)


def page_glyphs(lines: list) -> tuple:
    """What the kept lines of a page tell the PDF's fonts, each glyph once, as writing the
    lines in order would tell it: (font key, ((glyph, width, characters, size), ...))."""
    # A run's facts are kept once however many lines hold them: each is merged once.
    runs = {(key, font_size, id(facts)): (key, font_size, facts)
            for kept in lines for _, key, font_size, _, facts in kept}
    return merged_glyphs((key, [(*fact, font_size) for fact in facts])
                         for key, font_size, facts in runs.values())


def merged_glyphs(*parts) -> tuple:
    """What parts of a page tell the fonts, each (font key, glyph facts), in the order
    written: each glyph of a font once, as it was first told (``page_glyphs``)."""
    merged: dict = {}
    for key, facts in itertools.chain.from_iterable(parts):
        glyphs = merged.setdefault(key, {})
        for fact in facts:
            glyphs.setdefault(fact[0], fact)
    return tuple((key, tuple(glyphs.values())) for key, glyphs in merged.items())


def apply_glyphs(stream, glyphs: tuple, write: _Write) -> bool:
    """Tell the PDF's fonts what a kept page's lines would (``page_glyphs``): their
    glyphs' widths and characters, without writing the lines. False, and nothing told,
    when a font is not yet in this PDF or a glyph's width was taken here at another size."""
    fonts = stream._fonts
    found = []
    for key, facts in glyphs:
        font = fonts.get(key)
        if font is None:
            return False
        widths = font.widths
        if any(widths.get(glyph, width) != width for glyph, width, _, _ in facts):
            return False
        found.append((font, facts))
    for font, facts in found:
        widths, to_unicode = font.widths, font.to_unicode
        for glyph, width, characters, font_size in facts:
            if glyph not in to_unicode:
                to_unicode[glyph] = characters
            if glyph not in widths:
                widths[glyph] = width
                write.sized[id(font), glyph] = font_size
    return True


def _fits(fonts: dict, kept: list, write: _Write) -> bool:
    for _, key, _, _, facts in kept:
        font = fonts.get(key)
        if font is None:
            return False
        if (id(font), id(facts)) not in write.applied:
            widths = font.widths
            if any(widths.get(glyph, width) != width for glyph, width, _ in facts):
                return False
    return True


def _apply(fonts: dict, run: tuple, write: _Write) -> None:
    _, key, font_size, _, facts = run
    font = fonts[key]
    if (id(font), id(facts)) not in write.applied:
        write.applied.add((id(font), id(facts)))
        widths, to_unicode = font.widths, font.to_unicode
        for glyph, width, characters in write.once(facts):
            if glyph not in to_unicode:
                to_unicode[glyph] = characters
            if glyph not in widths:
                widths[glyph] = width
                write.sized[id(font), glyph] = font_size


def _show_kept(stream, kept: list, matrix, write: _Write) -> bool:
    """Write a kept line again, as ``_show`` wrote it; False (nothing written) when a font
    it uses is not yet in this PDF, or when one of its glyphs' widths was taken here at
    another size (WeasyPrint keeps one width a glyph for all sizes of a font)."""
    fonts = stream._fonts
    if not _fits(fonts, kept, write):
        return False
    stream.set_text_matrix(*matrix.values)
    string = ""
    for run in kept:
        run = write.once(run)
        changed, key, font_size, piece, _ = run
        font = fonts[key]
        if changed:
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        _apply(fonts, run, write)
        string += piece
    stream.show_text(string)
    return True


def _plain_runs(stream, textbox, text_overflow, block_ellipsis, keep=False) -> list | None:
    """The line's runs as (glyph item, Pango font, font, size, glyphs, clusters), each glyph
    as (id, width, x offset); or None when the line needs WeasyPrint's own painting (see
    above). The clusters (where each glyph's characters begin) are read to be kept."""
    from weasyprint.text.ffi import ffi, pango

    if (text_overflow == "ellipsis" or block_ellipsis != "none"
            or not textbox.text.strip() or textbox.style["font_size"] < 1e-6
            or pango.pango_version() < 14802):
        return None
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _ = textbox.pango_layout.get_first_line()
    unknown, ints = pango.PANGO_GLYPH_UNKNOWN_FLAG, ffi.typeof("int *")
    runs = []
    previous_pango_font = font = font_size = None
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item, run = run.data, run.next
        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:   # as WeasyPrint adds the fonts, in this order
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if font.svg or font.png or font.colr:
                return None
        glyph_string = glyph_item.glyphs
        fields = ffi.unpack(ffi.cast(ints, glyph_string.glyphs),
                            glyph_string.num_glyphs * _FIELDS)
        glyphs = fields[0::_FIELDS]
        if (glyphs and max(glyphs) >= unknown) or any(fields[3::_FIELDS]):
            return None                      # a glyph no font has, or one off the baseline
        clusters = ffi.unpack(glyph_string.log_clusters, len(glyphs)) if keep else None
        runs.append((glyph_item, pango_font, font, font_size,
                     list(zip(glyphs, fields[1::_FIELDS], fields[2::_FIELDS])), clusters))
    return runs


def _show(stream, textbox, runs, matrix, write: _Write, keep=False) -> list | None:
    """Write the runs' text operators as WeasyPrint 70.0's ``draw_first_line`` does; with
    ``keep``, return what ``_show_kept`` needs to write them again (None for a line with a
    .notdef glyph, whose widths WeasyPrint may set otherwise)."""
    from weasyprint.text.ffi import pango

    empty = pango.PANGO_GLYPH_EMPTY
    stream.set_text_matrix(*matrix.values)
    previous_pango_font = None
    string = ""
    utf8_text = None
    kept = [] if keep else None
    for glyph_item, pango_font, font, font_size, glyphs, clusters in runs:
        changed = pango_font != previous_pango_font
        if changed:
            previous_pango_font = pango_font
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
            known = write.operators.get(id(font))
            if known is None or known[0] is not font:
                known = write.operators[id(font)] = (font, {})
            operators = known[1].setdefault(font_size, {})
            if kept is not None:
                key = next(key for key, value in stream._fonts.items() if value is font)
        parts = list(map(operators.get, glyphs))
        if None in parts:                          # glyphs not yet written at this size
            for i, glyph in enumerate(glyphs):
                if parts[i] is not None:
                    continue
                if glyph[0] not in font.to_unicode and glyph[0] != empty:
                    utf8_text = utf8_text or textbox.pango_layout.text.encode()
                    font.to_unicode[glyph[0]] = _characters(
                        _span(glyph_item.item), glyph_item.glyphs.log_clusters, i,
                        len(glyphs), utf8_text)
                parts[i] = operators.get(glyph) or operators.setdefault(
                    glyph, _operator(stream, pango_font, font, font_size, write, *glyph))
        piece = "<" + "".join(parts)
        piece = piece[:-1] if piece[-1] == "<" else piece + ">"
        string += piece
        if kept is not None:
            utf8_text = utf8_text or textbox.pango_layout.text.encode()
            facts = _facts(stream, glyph_item, pango_font, font, font_size, glyphs, clusters,
                           utf8_text, write)
            if facts is None:
                kept = None
            else:
                kept.append(write.once((changed, key, font_size, piece, facts)))
    stream.show_text(string)
    return kept


def _facts(stream, glyph_item, pango_font, font, font_size, glyphs, clusters,
           utf8_text: bytes, write: _Write) -> tuple | None:
    """Each glyph of a run, the first time it comes: (id, width, its characters). None (the
    line is not kept) for a .notdef glyph, or a glyph whose width this PDF took at another
    size and which differs at this one: written again, the line could not say its own.
    Called for every run of every line a kept layout writes: what it reads is read once."""
    span, font_id = _span(glyph_item.item), id(font)
    # A word comes back on every page: the same glyphs of the same text, the same facts.
    same_run = (font_id, font_size, span[0], tuple(glyphs), tuple(clusters),
                utf8_text[span[2]:span[2] + span[1]])
    if same_run in write.facts:
        return write.facts[same_run]
    write.facts[same_run] = found = _found(stream, pango_font, font, font_size, glyphs,
                                           clusters, utf8_text, write, span)
    return found


def _found(stream, pango_font, font, font_size, glyphs, clusters, utf8_text, write, span):
    from weasyprint.text.ffi import pango

    facts, seen, font_id, count = [], {0, pango.PANGO_GLYPH_EMPTY}, id(font), len(glyphs)
    widths, sized, same = font.widths, write.sized, write.same
    for i, (glyph, _, _) in enumerate(glyphs):
        if glyph in seen:
            if glyph == 0:
                return None
            continue
        seen.add(glyph)
        width = widths[glyph]
        if sized.get((font_id, glyph)) != font_size and (
                font_id, glyph, font_size) not in same:
            if _glyph_width(stream, pango_font, glyph, font_size) != width:
                return None
            same.add((font_id, glyph, font_size))
        facts.append((glyph, width, _characters(span, clusters, i, count, utf8_text)))
    return write.once(tuple(facts))


def _operator(stream, pango_font, font, font_size, write: _Write, glyph_id, width,
              x_offset) -> str:
    """A glyph's part of a TJ array, as WeasyPrint 70.0 writes it (the same floats)."""
    from weasyprint.text.ffi import FROM_UNITS, pango

    if glyph_id == pango.PANGO_GLYPH_EMPTY:
        return f">{-width / font_size}<"
    offset = x_offset / font_size
    operator = f">{-offset}<" if offset else ""
    operator += f"{glyph_id:02x}" if font.bitmap else f"{glyph_id:04x}"
    logical_width = font.widths.get(glyph_id)
    if logical_width is None:
        logical_width = font.widths[glyph_id] = _glyph_width(stream, pango_font, glyph_id,
                                                             font_size)
        write.sized[id(font), glyph_id] = font_size
    kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
    if kerning:
        operator += f">{int(kerning)}<"
    return operator


def _glyph_width(stream, pango_font, glyph_id: int, font_size: float) -> int:
    """A glyph's width at ``font_size``, in thousandths of it, as WeasyPrint 70.0 takes it."""
    from weasyprint.text.ffi import FROM_UNITS, pango

    pango.pango_font_get_glyph_extents(pango_font, glyph_id, stream.ink_rect,
                                       stream.logical_rect)
    return round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)


def _span(item) -> tuple[bool, int, int]:
    """A Pango item's direction, length and offset in its layout's UTF-8 text."""
    return bool(item.analysis.level % 2), item.length, item.offset


def _characters(span: tuple[bool, int, int], clusters, i: int, count: int,
                utf8_text: bytes) -> str:
    """The characters the ``i``-th glyph of a run of the item ``span`` stands for (its
    cluster); ``clusters`` is Pango's array of where each glyph's characters begin, or a
    list of it."""
    right_to_left, length, offset = span
    start = clusters[i]
    if right_to_left:
        end = length if i == 0 else clusters[i - 1]
    else:
        end = length if i == count - 1 else clusters[i + 1]
    return utf8_text[offset + start:offset + end].decode()
