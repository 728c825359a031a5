"""Laid out a unit at a time (each chapter alone, from its first page), a book's PDFs are the
bytes one pass over the whole book gives; after an edit only the units that changed are laid
out again, and the result is still that of one pass."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from helpers import BOOK, GUIDE, TINY, copy_book

from bindery.builder.request import build_date, w3c_date
from bindery.convert import convert
from bindery.pdf import boundaries, units
from bindery.pdf.layout import lay_out
from bindery.pdf.press import press_pdf
from bindery.pdf.reading import reading_pdf
from bindery.render import render, styled_classes
from bindery.resources import STYLES, TEMPLATES
from bindery.sandbox import Sandbox
from bindery.source import load

WORDS = ("the compositor sets each line by hand and reads it back before the forme is locked "
         "into the press where ink and paper meet under a steady even pressure").split()


def generated_book(target: Path, chapters: int = 6, seed: int = 7, **print_settings) -> Path:
    """A book of ``chapters`` chapters of different lengths (so that they end on either
    side), with sections, footnotes, and page references to other chapters, backwards and
    forwards, and a contents page."""
    rnd = random.Random(seed)
    (target / "text").mkdir(parents=True)
    names = []
    for number in range(1, chapters + 1):
        lines = ["---", f"title: Chapter {number}", "---", ""]
        for paragraph in range(rnd.randint(3, 10)):
            words = [rnd.choice(WORDS) for _ in range(rnd.randint(40, 110))]
            text = " ".join(words).capitalize() + "."
            if paragraph == 1:
                text += f"[^n{number}]"
            if paragraph == 2:
                other = rnd.randint(1, chapters)
                text += f" See [](c{other:02}.md#part-{other}){{.page}}."
            lines += [text, ""]
            if paragraph == 2:
                lines += [f"## A part of chapter {number} {{#part-{number}}}", ""]
        lines += [f"[^n{number}]: A note to chapter {number}, on the page of its call.", ""]
        name = f"c{number:02}.md"
        (target / "text" / name).write_text("\n".join(lines), "utf-8")
        names.append(f'"text/{name}"')
    settings = "".join(f'{key} = {value!r}\n'.replace("'", '"') if isinstance(value, str)
                       else f"{key} = {str(value).lower()}\n"
                       for key, value in {"trim": "A6", "toc": True, **print_settings}.items())
    (target / "book.toml").write_text(
        f'title = "A Generated Book"\nlanguage = "en"\nauthor = "A. Compositor"\n'
        f'identifier = "urn:uuid:0b7c8f02-5d1e-4a43-9a55-3d6f2d0c1a01"\n'
        f'chapters = [{", ".join(names)}]\n\n[print]\n{settings}', "utf-8")
    return target


def laid_out(book_dir: Path, **options):
    book = load(book_dir)
    sandbox = Sandbox(book.root.resolve())
    book = convert(book, styled_classes(sandbox))
    pages = render(book, sandbox, w3c_date(build_date()))
    return book, lay_out(book, pages, sandbox, **{"units": True, **options})


def assert_same_as_one_pass(book_dir: Path, monkeypatch) -> object:
    """Lay the book out by units and in one pass; the PDFs and page maps must be equal.
    Returns the layout by units."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book, by_units = laid_out(book_dir)
    assert len(by_units.units) >= 3, "laid out by units"
    _, one_pass = laid_out(book_dir, units=False)
    assert one_pass.units == ()
    assert by_units.page_count == one_pass.page_count
    assert by_units.starts == one_pass.starts
    assert reading_pdf(book, by_units).data == reading_pdf(book, one_pass).data
    assert press_pdf(book, by_units).data == press_pdf(book, one_pass).data
    return by_units


@pytest.mark.parametrize("source", [BOOK, TINY, GUIDE], ids=["default", "tiny", "guide"])
def test_units_give_the_bytes_of_one_pass(source, tmp_path, monkeypatch):
    assert_same_as_one_pass(copy_book(source, tmp_path / "book"), monkeypatch)


@pytest.mark.parametrize("settings", [{}, {"chapter_start": "any", "binding": "perfect"}],
                         ids=["recto-saddle", "any-perfect"])
def test_a_generated_book_with_notes_and_page_references(settings, tmp_path, monkeypatch):
    layout = assert_same_as_one_pass(generated_book(tmp_path / "book", **settings),
                                     monkeypatch)
    assert layout.page_count > 16
    # The contents page and the page references printed the pages of anchors in other
    # units: each the page that anchor is on in the joined document.
    printed = {name: number for unit in layout.units for name, number in unit.printed.items()}
    assert len(printed) >= 6
    on = {}
    for number, page in enumerate(layout.document.pages, start=1):
        for name in page.anchors:
            on.setdefault(name, number)
    assert printed == {name: on[name] for name in printed}


def test_an_edit_lays_out_only_the_units_it_changes(tmp_path, monkeypatch):
    book_dir = generated_book(tmp_path / "book")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, before = laid_out(book_dir)
    chapter = book_dir / "text" / "c05.md"
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    reads, digest = [], units._digest
    monkeypatch.setattr(units, "_digest",
                        lambda fetcher, url: reads.append(url) or digest(fetcher, url))
    after = assert_same_as_one_pass(book_dir, monkeypatch)
    # Every unit but the edited chapter's came back from the last layout.
    kept = [index for index, unit in enumerate(after.units) if unit is before.units[index]]
    assert kept == [index for index in range(len(before.units)) if index != 5]
    # Whether the files the kept units read have changed (the fonts, which every unit
    # reads) is seen once a build, not once a unit.
    assert any(url.endswith(".otf") for url in reads)
    assert len(reads) == len(set(reads))


def test_a_longer_chapter_moves_the_units_after_it(tmp_path, monkeypatch):
    book_dir = generated_book(tmp_path / "book")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, before = laid_out(book_dir)
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n\n" + " ".join(WORDS * 80) + "\n",
                       "utf-8")
    after = assert_same_as_one_pass(book_dir, monkeypatch)
    assert len(after.units[3].document.pages) > len(before.units[3].document.pages) + 2
    # The contents page prints the new page numbers: it is laid out again. A chapter before
    # the edit is laid out again only when a page it refers to has moved.
    assert after.units[0] is not before.units[0]
    for old, new in zip(before.units[1:3], after.units[1:3]):
        assert (new is old) == (new.printed == old.printed)
    assert any(new is old for old, new in zip(before.units[1:3], after.units[1:3]))


@pytest.mark.parametrize("settings", [{}, {"chapter_start": "any", "binding": "perfect"}],
                         ids=["recto", "any"])
def test_units_moved_by_an_even_number_of_pages_are_numbered_again(settings, tmp_path,
                                                                   monkeypatch):
    """A chapter grows: the units after it that keep their sides are not laid out again,
    their folios are made again, unless their text prints a page number that has moved or
    one of their own pages (chapter 6 refers to a part of itself): and the PDFs are still
    those of one pass."""
    book_dir = generated_book(tmp_path / "book", chapters=8, **settings)
    chapter = book_dir / "text" / "c06.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n\nSee [](c06.md#part-6){.page}.\n",
                       "utf-8")
    own = {number for number in range(1, 9) if f"(c{number:02}.md#part-{number})"
           in (book_dir / "text" / f"c{number:02}.md").read_text("utf-8")}
    assert 6 in own
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, before = laid_out(book_dir)
    moves = []
    for words in (40, 17):
        chapter = book_dir / "text" / "c03.md"
        chapter.write_text(f"{chapter.read_text('utf-8')}\n\n{' '.join(WORDS * words)}\n",
                           "utf-8")
        after = assert_same_as_one_pass(book_dir, monkeypatch)
        for index, (old, new) in list(enumerate(zip(before.units, after.units)))[4:]:
            renumbered = new is not old and new.document is old.document
            moved = new.first - old.first
            assert renumbered == (moved % 2 == 0 and moved != 0 and new.printed == old.printed
                                  and index not in own)
            moves.append((moved, renumbered))
        before = after
    assert any(renumbered for _, renumbered in moves)
    assert any(moved and not renumbered for moved, renumbered in moves)


def test_a_changed_image_lays_its_unit_out_again(tmp_path, monkeypatch):
    book_dir = copy_book(TINY, tmp_path / "book")
    _, before = laid_out(book_dir)
    image = book_dir / "images" / "diagramme.png"
    from PIL import Image
    with Image.open(image) as picture:
        picture.rotate(90, expand=True).save(image)
    after = assert_same_as_one_pass(book_dir, monkeypatch)
    assert any(unit not in before.units for unit in after.units[1:])


def test_a_stylesheet_is_parsed_once_a_build_and_its_edit_lays_every_unit_out_again(
        tmp_path, monkeypatch):
    """The units of a build share each stylesheet they link to, parsed once; each unit still
    knows it read the file (an edit lays them all out again) and has what WeasyPrint said
    of it, as one pass has."""
    from bindery.pdf import sheets

    book_dir = generated_book(tmp_path / "book")
    (book_dir / "styles").mkdir()
    own = book_dir / "styles" / "print.css"
    own.write_text((STYLES / "print.css").read_text("utf-8") + "\np { colr: red; }\n",
                   "utf-8")
    parsed: list[str] = []
    parse = sheets._parse
    monkeypatch.setattr(sheets, "_parse",
                        lambda make, options: parsed.append(options["url"]) or parse(
                            make, options))
    _, before = laid_out(book_dir)
    assert len(before.units) >= 6
    assert parsed and len(parsed) == len(set(parsed))           # each parsed once
    assert any(url.endswith("/styles/print.css") for url in parsed)
    for unit in before.units:
        assert any(url.endswith("/styles/print.css") for url in unit.read), unit.read
    _, one_pass = laid_out(book_dir, units=False)
    ignored = [str(w) for w in before.warnings if "colr" in str(w)]
    assert ignored and ignored == [str(w) for w in one_pass.warnings if "colr" in str(w)]
    own.write_text(own.read_text("utf-8").replace("colr: red", "color: #222"),
                   "utf-8")
    parsed.clear()
    after = assert_same_as_one_pass(book_dir, monkeypatch)
    assert not any(unit in before.units for unit in after.units)
    assert not any("colr" in str(w) for w in after.warnings)
    assert parsed and len(parsed) <= 2 * len(set(parsed))     # once for units, once in one pass


#: Print styles units can give: the pages one pass makes, byte for byte.
STYLES_UNITS_GIVE = {
    "first-page": "@page :first { margin-top: 30mm; }",
    "blank-page-text": "@page :blank { @top-center { content: 'This page is blank'; } }",
    "left-background": "@page :left { background: #eee; }",
    "string-from-an-earlier-chapter":
        "h2 { string-set: part content(); } @page :right { @top-center { content: string(part); } }",
}


def test_page_styles_and_named_strings_give_the_bytes_of_one_pass(tmp_path, monkeypatch):
    """All four at once, on a book whose blank pages, left pages and running strings show
    them (a single book keeps the suite short)."""
    book_dir = generated_book(tmp_path / "book")
    # A chapter with no part heading: on its pages, the string is the last chapter's.
    chapter = book_dir / "text" / "c03.md"
    chapter.write_text(re.sub(r"## A part.*\n", "", chapter.read_text("utf-8"))
                       + "\n\n" + " ".join(WORDS * 25) + "\n", "utf-8")
    for path in (book_dir / "text").glob("*.md"):
        path.write_text(path.read_text("utf-8").replace("c03.md#part-3", "c01.md#part-1"),
                        "utf-8")
    (book_dir / "styles").mkdir()
    (book_dir / "styles" / "print.css").write_text(
        (STYLES / "print.css").read_text("utf-8") + "\n".join(STYLES_UNITS_GIVE.values())
        + "\n", "utf-8")
    assert_same_as_one_pass(book_dir, monkeypatch)


#: Print styles that carry state across units, or make a unit no unit.
STYLES_FOR_ONE_PASS = {
    "counter": "section.chapter { counter-increment: chapter; }",
    "page-total": "@page :right { @bottom-center { content: counter(page) ' / ' counter(pages); } }",
    "page-counter-reset": "section.chapter { counter-reset: page 1; }",
    "imported-counter": "@import url(more.css);",
    "notes-through-the-book": "section { counter-reset: none; } body { counter-reset: footnote; }",
    "run-on-chapters": "section.chapter { break-before: auto !important; }",
    "running-element": "h1 { position: running(head); } @page { @top-center { content: element(head); } }",
    "fixed-box": "body::before { content: 'Draft'; position: fixed; top: 0; }",
    "side-after-a-chapter": "section.chapter { break-after: right; }",
    "nth-page-of-a-group": "@page :nth(2 of chapter) { margin-top: 30mm; }",
    "notes-reset-overridden": "section { counter-reset: none; }",
    "another-units-note-number": "a.see::after { content: target-counter(attr(href url), footnote); }",
    "direction-in-css": "html { direction: rtl; }",
}


#: Those the styles show before any layout: all but the run-on chapters.
FOUND_IN_STYLES = {name: css for name, css in STYLES_FOR_ONE_PASS.items()
                   if name != "run-on-chapters"}


@pytest.mark.parametrize("css", FOUND_IN_STYLES.values(), ids=FOUND_IN_STYLES.keys())
def test_styles_units_cannot_give_are_found(css, tmp_path):
    styles = tmp_path / "styles"
    styles.mkdir()
    base = (STYLES / "print.css").read_text("utf-8")
    assert not boundaries.unsafe(HTML, [STYLES / "print.css"])
    if css.startswith("@import"):
        base = css + "\n" + base
        (styles / "more.css").write_text("section.chapter { counter-increment: chapter; }\n"
                                         "h1::before { content: counter(chapter) '. '; }\n")
    elif "body { counter-reset: footnote" in css:
        base = base.replace("section { counter-reset: footnote; }", css)
    else:
        base += css + "\n"
    (styles / "print.css").write_text(base, "utf-8")
    assert boundaries.unsafe(HTML, [styles / "print.css"])
    # In the document's own styles too.
    assert boundaries.unsafe(HTML.replace("</head>", f"<style>{css}</style></head>"),
                             [STYLES / "print.css"])


HTML = "<html><head><title>T</title></head><body><section>Text</section></body></html>"


@pytest.mark.parametrize("css", [STYLES_FOR_ONE_PASS["counter"],
                                 STYLES_FOR_ONE_PASS["run-on-chapters"]],
                         ids=["counter", "run-on-chapters"])
def test_styles_units_cannot_give_lay_the_book_out_in_one_pass(css, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book_dir = generated_book(tmp_path / "book")
    (book_dir / "styles").mkdir()
    (book_dir / "styles" / "print.css").write_text(
        (STYLES / "print.css").read_text("utf-8") + css + "\n", "utf-8")
    book, layout = laid_out(book_dir)
    assert layout.units == ()
    assert layout.page_count > 8


def test_a_note_running_past_its_chapter_lays_the_book_out_in_one_pass(tmp_path, monkeypatch):
    """One pass sets the end of a long last note on the next chapter's first page; alone,
    the chapter would make a page for it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book_dir = generated_book(tmp_path / "book", chapter_start="any")
    chapter = book_dir / "text" / "c02.md"
    chapter.write_text(chapter.read_text("utf-8") + "\nLast words here.[^long]\n\n[^long]: "
                       + " ".join(WORDS * 8) + "\n", "utf-8")
    book, layout = laid_out(book_dir)
    assert layout.units == ()
    _, one_pass = laid_out(book_dir, units=False)
    assert reading_pdf(book, layout).data == reading_pdf(book, one_pass).data


def test_marks_inside_an_element_lay_the_book_out_in_one_pass(tmp_path):
    book_dir = copy_book(TINY, tmp_path / "book")
    template = (TEMPLATES / "print" / "book.html").read_text("utf-8")
    body = template.index(">", template.index("<body")) + 1
    template = template[:body] + "<main>" + template[body:].replace("</body>", "</main></body>")
    (book_dir / "templates" / "print").mkdir(parents=True)
    (book_dir / "templates" / "print" / "book.html").write_text(template, "utf-8")
    _, layout = laid_out(book_dir)
    assert layout.units == () and layout.page_count > 3


def test_a_print_template_without_marks_is_laid_out_in_one_pass(tmp_path):
    book_dir = copy_book(TINY, tmp_path / "book")
    template = (TEMPLATES / "print" / "book.html").read_text("utf-8")
    (book_dir / "templates" / "print").mkdir(parents=True)
    (book_dir / "templates" / "print" / "book.html").write_text(
        template.replace(boundaries.MARK, ""), "utf-8")
    _, layout = laid_out(book_dir)
    assert layout.units == () and layout.page_count > 3


def test_watch_keeps_the_units_and_writes_what_a_new_build_writes(tmp_path, monkeypatch):
    from bindery.builder import BuildRequest, build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book_dir = copy_book(TINY, tmp_path / "book")
    watched = BuildRequest(book_dir, tmp_path / "watched", ("pdf", "press"), parallel=False,
                           keep_layout=True)
    build(watched)
    kept = dict(units._KEPT)
    chapter = book_dir / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\nUne phrase de plus.\n", "utf-8")
    # Without SOURCE_DATE_EPOCH each build has its own date: it is in the document's
    # metadata, not on its pages, so the units are kept all the same.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    report = build(watched)
    assert report.laid_out
    assert len(set(units._KEPT) & set(kept)) >= 2       # the units before the edit
    build(BuildRequest(book_dir, tmp_path / "new", ("pdf", "press")))
    for name in ("petit-traite.pdf", "petit-traite-press.pdf"):
        assert (tmp_path / "watched" / name).read_bytes() == (
            tmp_path / "new" / name).read_bytes(), name
