"""Writing a laid-out book: Bindery's faster painting of text runs writes the bytes
WeasyPrint's own does, and a layout written again gives the same PDF."""

from __future__ import annotations

import contextlib
import os
import sys
import zlib

import pytest

from helpers import GUIDE, copy_book

from bindery.builder.request import build_date, w3c_date
from bindery.convert import convert
from bindery.pdf import keptpages, textruns, writer
from bindery.pdf.layout import lay_out, page_box
from bindery.pdf.press import press_pdf
from bindery.pdf.reading import reading_pdf
from bindery.render import render, styled_classes
from bindery.sandbox import Sandbox
from bindery.source import load

#: Lines the plain path takes (Latin, Greek, Cyrillic, Hebrew and Arabic, set right to left,
#: a combining accent, small capitals, code) and lines it leaves to WeasyPrint (characters
#: no font of the book has: CJK, an emoji).
SCRIPTS = """---
title: Scripts
---

Latin with *italic*, **bold**, `code`, a soft hy\u00adphen and e\u0301 combining: the
compositor sets each line by hand and reads it back before the forme is locked.

Ελληνικά κείμενα και Русский текст стоят рядом, а עברית כתובה מימין לשמאל ועוד
العربية تكتب من اليمين إلى اليسار.

No font of this book has 你好 or 😀: those lines are painted by WeasyPrint itself.

```python
def run(line):  # a mono face
    return line
```
"""


def scripts_book(tmp_path):
    """The field guide, with a chapter in several scripts; laid out in one pass."""
    book_dir = copy_book(GUIDE, tmp_path / "book")
    (book_dir / "chapters" / "scripts.md").write_text(SCRIPTS, "utf-8")
    config = book_dir / "book.toml"
    config.write_text(config.read_text("utf-8").replace(
        '"chapters/figures.md"]', '"chapters/figures.md", "chapters/scripts.md"]'), "utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        book = load(book_dir)
        sandbox = Sandbox(book.root.resolve())
        book = convert(book, styled_classes(sandbox))
        pages = render(book, sandbox, w3c_date(build_date()))
        return book, lay_out(book, pages, sandbox)


def test_text_runs_are_written_as_weasyprint_writes_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book, laid_out = scripts_book(tmp_path)
    painted = {"here": 0}
    show = textruns._show

    def counted_show(*args):
        painted["here"] += 1
        return show(*args)

    monkeypatch.setattr(textruns, "_show", counted_show)
    fast = {name: write(book, laid_out).data
            for name, write in (("reading", reading_pdf), ("press", press_pdf))}
    monkeypatch.setattr(writer, "fast_text_runs", lambda keep: contextlib.nullcontext())
    own = {name: write(book, laid_out).data
           for name, write in (("reading", reading_pdf), ("press", press_pdf))}
    assert fast == own
    # The plain path painted nearly every line; WeasyPrint the blank ones and those with
    # characters no font has (the CJK and emoji line, the Arabic one).
    from weasyprint.draw import text

    drawn, left = text.draw_first_line, []

    def counted_draw(stream, textbox, *args):
        if textbox.text.strip():
            left.append(textbox.text)
        return drawn(stream, textbox, *args)

    monkeypatch.setattr(text, "draw_first_line", counted_draw)
    painted["here"] = 0
    monkeypatch.setattr(writer, "fast_text_runs", textruns.fast_text_runs)
    assert reading_pdf(book, laid_out).data == own["reading"]
    assert painted["here"] > 400 and any("你好" in line for line in left), (painted, left)
    assert len(left) <= 4, left


def test_a_layout_written_again_gives_the_same_pdf(tmp_path, monkeypatch):
    """The guide's formulas are SVG symbols, which WeasyPrint 70 left renamed after drawing
    them (a second PDF from the same layout drew every glyph twice); and writing the press
    PDF changed its colour profile's bytes. ``watch`` writes a kept layout again."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book, laid_out = scripts_book(tmp_path)
    first = reading_pdf(book, laid_out).data
    press = press_pdf(book, laid_out).data
    assert reading_pdf(book, laid_out).data == first
    assert press_pdf(book, laid_out).data == press


def test_lines_kept_by_watch_write_the_same_pdf(tmp_path, monkeypatch):
    """Laid out by units (as watch and serve do), each plain line keeps what it wrote; the
    next PDF from the kept units writes those lines again without Pango: same bytes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    # The streams an earlier test's PDFs left deflated in this process are not this test's
    # first build.
    monkeypatch.setattr(writer, "_DEFLATED", writer._Deflated())
    book, one_pass = scripts_book(tmp_path)
    expected = {"reading": reading_pdf(book, one_pass).data,
                "press": press_pdf(book, one_pass).data}
    again = {"kept": 0}
    show_kept = textruns._show_kept

    def counted(*args):
        written = show_kept(*args)
        again["kept"] += written
        return written

    monkeypatch.setattr(textruns, "_show_kept", counted)
    written = keptpages._written

    def counted_pages(*args):
        again["pages"] += (page := written(*args))
        return page

    monkeypatch.setattr(keptpages, "_written", counted_pages)
    deflated, compressobj = [], zlib.compressobj

    def counted_compressor(level):       # Bindery's streams, not pydyf's object streams
        deflated.extend([level] if sys._getframe(1).f_code.co_name == "compress_once" else [])
        return compressobj(level=level)

    monkeypatch.setattr(zlib, "compressobj", counted_compressor)
    for build in range(2):               # the first build keeps, the second writes kept lines
        sandbox = Sandbox(book.root.resolve())
        pages = render(book, sandbox, w3c_date(build_date()))
        by_units = lay_out(book, pages, sandbox, units=True)
        again["kept"] = again["pages"] = 0
        deflated.clear()
        assert reading_pdf(book, by_units).data == expected["reading"]
        kept_by_reading, deflated_by_reading = dict(again), len(deflated)
        if build == 0:
            assert deflated_by_reading > 20            # the first build deflates them all
        assert press_pdf(book, by_units).data == expected["press"]
    # The second build's reading PDF took the pages of text from the units the first one
    # kept, and the lines of the others (with figures and formulas), and its streams
    # deflated from the first one's.
    # (Pages with a figure or a formula are painted again, their lines kept.)
    assert 5 <= kept_by_reading["pages"] < len(by_units.document.pages), kept_by_reading
    assert kept_by_reading["kept"] > 200, kept_by_reading
    assert deflated_by_reading == 0


def test_pages_kept_by_watch_are_written_again_unpainted(tmp_path, monkeypatch):
    """After a one-word edit, the pages of the kept units (text, notes and the rule above
    them, page references, blank pages) are written from what they wrote last time, but
    for those where the PDF meets a font first: the bytes of one pass."""
    from test_units import generated_book, laid_out
    from weasyprint.document import Page

    book_dir = generated_book(tmp_path / "book", chapters=8)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book, before = laid_out(book_dir)
    reading_pdf(book, before)
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    book, after = laid_out(book_dir)
    painted, paint = [], Page.paint
    monkeypatch.setattr(Page, "paint", lambda page, *args: painted.append(page) or paint(
        page, *args))
    data = reading_pdf(book, after).data
    edited = after.units[3].document.pages
    assert after.units[3] is not before.units[3] and len(edited) >= 3
    assert all(page in painted for page in edited)
    # The binding's blank pages are made anew each build (one box for all of them).
    boxes = [page_box(page) for page in after.document.pages]
    blanks = [box for box in boxes if sum(other is box for other in boxes) > 1]
    assert len(painted) <= len(edited) + len(blanks) + 3, (len(painted), len(boxes))
    monkeypatch.setattr(Page, "paint", paint)
    _, one_pass = laid_out(book_dir, units=False)
    assert data == reading_pdf(book, one_pass).data


def test_the_press_pages_kept_in_the_second_process_come_back(tmp_path, monkeypatch):
    """The press PDF is written in a second process: what its pages kept is put on this
    process's layout, so that the next build's second process writes them unpainted."""
    from test_units import generated_book

    from bindery.builder import BuildRequest, build

    book_dir = generated_book(tmp_path / "book", chapters=8)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    adopted, adopt = [], keptpages.adopt
    monkeypatch.setattr(keptpages, "adopt", lambda pages, found: adopted.append(
        {kind: len(made) for kind, made in found.items()}) or adopt(pages, found))
    watched = BuildRequest(book_dir, tmp_path / "watched", ("pdf", "press"), parallel=True,
                           keep_layout=True)
    report = build(watched)
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    build(watched)
    # The first build's second process painted every page; the next one only the edited
    # chapter's, the binding's blank pages (made anew each build) and those where the PDF
    # meets a font first.
    [(kind, first)], [(again_kind, second)] = (found.items() for found in adopted)
    assert kind == again_kind and kind[0] and first >= report.pages - 4, (adopted, report)
    assert 3 <= second <= first // 3, adopted
    build(BuildRequest(book_dir, tmp_path / "new", ("pdf", "press")))
    for name in ("a-generated-book.pdf", "a-generated-book-press.pdf"):
        assert (tmp_path / "watched" / name).read_bytes() == (
            tmp_path / "new" / name).read_bytes(), name


def test_pages_numbered_again_are_written_with_their_text_kept(tmp_path, monkeypatch):
    """A chapter grows by two pages: the pages of the units after it are numbered again
    (new folios), and written from what their text and notes wrote last time, with only
    their margin boxes painted: the bytes of one pass, reading and press PDF."""
    from test_units import WORDS, generated_book, laid_out
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import MarginBox
    from weasyprint.stacking import StackingContext

    book_dir = generated_book(tmp_path / "book", chapters=8)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book, before = laid_out(book_dir)
    reading_pdf(book, before)
    press_pdf(book, before)
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(f"{chapter.read_text('utf-8')}\n\n{' '.join(WORDS * 40)}\n", "utf-8")
    book, after = laid_out(book_dir)
    # The pages with folios or running heads (a page without is the page it was).
    renumbered = [page for old, new in zip(before.units, after.units)
                  if new is not old and new.document is old.document
                  for page in new.document.pages
                  if any(isinstance(child, MarginBox) for child in page_box(page).children)]
    assert len(renumbered) >= 5, "units numbered again"
    painted, paint = [], Page.paint
    monkeypatch.setattr(Page, "paint", lambda page, *args: painted.append(page) or paint(
        page, *args))
    margins, from_box = [], StackingContext.from_box
    monkeypatch.setattr(StackingContext, "from_box", classmethod(
        lambda cls, box, page, *args: margins.append(page) or from_box(box, page, *args)))
    data = {"reading": reading_pdf(book, after).data, "press": press_pdf(book, after).data}
    assert not any(page in painted for page in renumbered)
    numbered = {id(page) for page in margins}
    assert all(id(page_box(page)) in numbered for page in renumbered)
    monkeypatch.setattr(Page, "paint", paint)
    monkeypatch.setattr(StackingContext, "from_box", from_box)
    _, one_pass = laid_out(book_dir, units=False)
    assert data == {"reading": reading_pdf(book, one_pass).data,
                    "press": press_pdf(book, one_pass).data}


def test_press_pages_numbered_again_are_written_with_their_text_kept_in_the_second_process(
        tmp_path, monkeypatch):
    """The press PDF's second process keeps each page's body too: what it kept comes back,
    and the next second process writes the pages numbered again from their bodies; both
    PDFs are the bytes of a new build's."""
    from test_units import WORDS, generated_book
    from weasyprint.stacking import StackingContext

    from bindery.builder import BuildRequest, build

    book_dir = generated_book(tmp_path / "book", chapters=8)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    adopted, adopt = [], keptpages.adopt
    monkeypatch.setattr(keptpages, "adopt", lambda pages, found: adopted.append(
        sum(painted.body is not None for made in found.values() for _, painted in made))
        or adopt(pages, found))
    replayed, from_box = tmp_path / "replayed", StackingContext.from_box

    def noted(cls, box, page, *args):          # in whichever process paints
        if sys._getframe(1).f_code.co_name == "kept_paint":
            with replayed.open("a") as file:
                file.write(f"{os.getpid()}\n")
        return from_box(box, page, *args)

    monkeypatch.setattr(StackingContext, "from_box", classmethod(noted))
    watched = BuildRequest(book_dir, tmp_path / "watched", ("pdf", "press"), parallel=True,
                           keep_layout=True)
    build(watched)
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(f"{chapter.read_text('utf-8')}\n\n{' '.join(WORDS * 40)}\n", "utf-8")
    build(watched)
    assert all(adopted) and len(adopted) == 2, adopted
    pids = replayed.read_text().split()
    assert len(set(pids)) == 2, "margin boxes painted on kept bodies in both processes"
    build(BuildRequest(book_dir, tmp_path / "new", ("pdf", "press")))
    for name in ("a-generated-book.pdf", "a-generated-book-press.pdf"):
        assert (tmp_path / "watched" / name).read_bytes() == (
            tmp_path / "new" / name).read_bytes(), name
