"""Footnotes reach the reader: pop-up notes in the EPUB, notes at the foot of the page in
print, numbered per chapter; a reference to no note is an error, an unused note a warning."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from bindery.check.ace import run_ace
from bindery.check.reader import Epub
from bindery.cli import main
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, append_lines, copy_book, normalise

NOTES_UN = """
Le premier chapitre a sa note[^vent] et une note en ligne^[Écrite sur place.].

[^vent]: Le vent se lève.
"""

NOTES_DEUX = """
Une phrase avec une note[^premiere] et une autre^[Une note en ligne, courte.] puis encore la
première[^premiere].

[^premiere]: La première note, avec *de l’italique*.

    Et un second paragraphe dans la même note.
"""


def _with_notes(target):
    book = copy_book(TINY, target)
    for name, notes in (("un.md", NOTES_UN), ("deux.md", NOTES_DEUX)):
        chapter = book / "chapitres" / name
        chapter.write_text(chapter.read_text("utf-8") + notes, "utf-8")
    return book


@pytest.fixture(scope="module")
def notes_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("notes")
    return build_book(_with_notes(root / "book"), root / "out")


def test_references_link_to_asides_in_the_same_document(notes_book):
    epub = Epub.open(notes_book["epub"])
    for document, count in (("text/un.xhtml", 2), ("text/deux.xhtml", 3)):
        root = epub.document(document)
        refs = root.xpath("//x:a[@epub:type='noteref']", namespaces=NS)
        assert len(refs) == count
        for ref in refs:
            assert ref.get("role") == "doc-noteref"
            assert ref.getparent().tag != f"{{{NS['x']}}}sup"        # no <sup> around it
            target = ref.get("href")
            assert target.startswith("#")
            (aside,) = root.xpath("//x:aside[@id=$id]", id=target[1:], namespaces=NS)
            assert aside.get(f"{{{NS['epub']}}}type") == "footnote"
            assert aside.get("role") == "doc-footnote"
            backs = aside.xpath(".//x:a[@role='doc-backlink']/@href", namespaces=NS)
            assert f"#{ref.get('id')}" in backs
            # the note comes after its reference, in the same file
            order = list(root.iter())
            assert order.index(aside) > order.index(ref)


def test_notes_are_numbered_per_chapter(notes_book):
    epub = Epub.open(notes_book["epub"])
    for document, numbers in (("text/un.xhtml", ["1", "2"]),
                              ("text/deux.xhtml", ["1", "2", "1"])):
        refs = epub.document(document).xpath("//x:a[@epub:type='noteref']", namespaces=NS)
        assert ["".join(ref.itertext()) for ref in refs] == numbers


def test_the_epub_with_notes_passes_epubcheck_and_ace(notes_book, epubcheck):
    assert epubcheck(notes_book["epub"])[0].clean, epubcheck(notes_book["epub"])[0].messages
    result = run_ace(notes_book["epub"])
    assert result.violations == []


def test_each_note_is_printed_on_the_page_of_its_reference(notes_book):
    reader = PdfReader(notes_book["pdf"])
    pages = [normalise(page.extract_text()) for page in reader.pages]
    for call, note in (("sa note", "Le vent se lève."),
                       ("Une phrase avec une note", "La première note, avec de l'italique."),
                       ("Une phrase avec une note", "Et un second paragraphe dans la même note."),
                       ("et une autre", "Une note en ligne, courte.")):
        with_call = [number for number, text in enumerate(pages) if call in text]
        with_note = [number for number, text in enumerate(pages) if note in text]
        assert with_call and with_note == with_call[:1], (call, note)
    # no Markdown footnote syntax is left anywhere
    assert not any(re.search(r"\[\^|\^\[", text) for text in pages)


def test_in_the_tagged_pdf_each_note_is_a_note_right_after_its_call(notes_book):
    import pikepdf

    with pikepdf.open(notes_book["pdf"]) as pdf:
        elements = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)
                    and obj.get("/Type") == "/StructElem"]
        notes = [e for e in elements if e.get("/S") == "/Note"]
        calls = [e for e in elements if e.get("/S") == "/Reference"]
        assert len(notes) == len(calls) == 4          # two notes in each chapter
        assert len({str(note.ID) for note in notes}) == 4
        for call in calls:
            kids = list(call.P.K)
            index = next(i for i, kid in enumerate(kids)
                         if isinstance(kid, pikepdf.Dictionary) and kid.objgen == call.objgen)
            following = kids[index + 1]
            assert following.get("/S") == "/Note" and following.P.objgen == call.P.objgen
            assert following.K[0].get("/S") == "/Lbl"     # its number
        # no note is left at the foot of the page, outside the text that calls it
        assert all(note.P.get("/S") in ("/P", "/LBody", "/TD", "/Span") for note in notes)


@pytest.fixture(scope="module")
def endnotes_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("endnotes")
    book = _with_notes(root / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + '\n[notes]\nplacement = "book"\n', "utf-8")
    return build_book(book, root / "out")


def test_placement_book_gathers_the_notes_in_a_notes_document(endnotes_book, epubcheck):
    epub = Epub.open(endnotes_book["epub"])
    assert "text/endnotes.xhtml" in epub.spine
    assert epub.spine.index("text/endnotes.xhtml") == epub.spine.index("text/colophon.xhtml") - 1
    notes = epub.document("text/endnotes.xhtml")
    (section,) = notes.xpath("//x:section[@epub:type='endnotes']", namespaces=NS)
    assert section.get("role") == "doc-endnotes"
    items = section.xpath(".//x:ol/x:li", namespaces=NS)
    assert [item.get(f"{{{NS['epub']}}}type") for item in items] == ["endnote"] * 4
    assert [item.get("id") for item in items] == ["un-note-1", "un-note-2", "deux-note-1",
                                                  "deux-note-2"]
    for document in ("text/un.xhtml", "text/deux.xhtml"):
        root = epub.document(document)
        assert not root.xpath("//x:aside", namespaces=NS)
        for reference in root.xpath("//x:a[@epub:type='noteref']", namespaces=NS):
            href = reference.get("href")
            assert href.startswith("endnotes.xhtml#")
            (item,) = notes.xpath("//x:li[@id=$id]", id=href.partition("#")[2],
                                  namespaces=NS)
    backs = notes.xpath("//x:a[@role='doc-backlink']/@href", namespaces=NS)
    assert "un.xhtml#un-noteref-1" in backs and "deux.xhtml#deux-noteref-1" in backs
    result = epubcheck(endnotes_book["epub"])[0]
    assert result.clean, result.messages
    assert run_ace(endnotes_book["epub"]).violations == []
    # print keeps its footnotes at the foot of the page
    pages = [normalise(page.extract_text()) for page in PdfReader(endnotes_book["pdf"]).pages]
    assert any("Le vent se lève." in text and "sa note" in text for text in pages)


def test_an_unknown_placement_is_an_error_naming_the_line(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + '\n[notes]\nplacement = "margin"\n', "utf-8")
    line = config.read_text("utf-8").split("\n").index('placement = "margin"') + 1
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"book.toml:{line}: [notes] `placement` must be one of: \"chapter\"" in result.output


def test_a_reference_to_no_note_is_an_error_naming_the_line(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "un.md"
    line = append_lines(chapter, "Une référence perdue[^nulle].")
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                       "--format", "epub"])
    assert result.exit_code == 1
    assert f"un.md:{line}: footnote `[^nulle]` has no note" in result.output


def test_a_note_never_referred_to_is_a_warning_and_strict_refuses_it(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "un.md"
    line = append_lines(chapter, "[^seule]: Personne ne m’appelle.")
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(book), "--out", str(tmp_path / "out"),
                                  "--format", "epub"])
    assert result.exit_code == 0
    assert f"un.md:{line}: footnote `[^seule]` is never referred to" in result.output
    result = runner.invoke(main, ["build", str(book), "--out", str(tmp_path / "strict"),
                                  "--format", "epub", "--strict"])
    assert result.exit_code == 1


def test_a_footnote_the_layout_leaves_out_is_a_warning(tmp_path, monkeypatch):
    """WeasyPrint 70 may leave a footnote off every page (here, in one pass, notes of a
    book whose paragraphs are bold): the book is then laid out a unit at a time, where
    WeasyPrint prints them, some a page or two after their calls, which the proof finds.
    Each note still missing from the reading PDF is a warning naming its chapter, and a
    note the PDF has is not."""
    import io

    from bindery.pdf import footnotes, layout as layout_module, units as units_module
    from bindery.pdf.layout import page_box
    from bindery.pdf.proof import proof
    from bindery.pdf.reading import reading_pdf
    from bindery.resources import STYLES
    from test_units import generated_book, laid_out

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book_dir = generated_book(tmp_path / "book")
    (book_dir / "styles").mkdir()
    (book_dir / "styles" / "print.css").write_text(
        (STYLES / "print.css").read_text("utf-8") + "\np { font-weight: bold; }\n", "utf-8")
    unit_by_unit, lost_first, find_lost = [], [], footnotes.lost_footnotes
    monkeypatch.setattr(units_module, "_KEPT", {})     # nothing kept by an earlier test
    monkeypatch.setattr(units_module, "_NUMBERS", {})
    monkeypatch.setattr(layout_module, "lost_footnotes", lambda *args: lost_first.append(
        lost := find_lost(*args)) or lost)
    for units in (False, True):
        book, layout = laid_out(book_dir, units=units)
        # Laid out by units either way; only watch's layout keeps them for a next build.
        unit_by_unit.append((bool(layout.units), bool(units_module._KEPT)))
        pages = [normalise(page.extract_text()) for page in PdfReader(
            io.BytesIO(reading_pdf(book, layout).data)).pages]
        text = " ".join(pages)
        warned = {str(w.path.name) for w in layout.warnings
                  if "missing from the print edition" in str(w)}
        for chapter in book.chapters:
            printed = f"A note to chapter {chapter.id[1:].lstrip('0')}, on the page" in text
            assert printed == (chapter.source.name not in warned), (units, chapter.id)
        assert not warned, "laid out a unit at a time, every note is printed"
        late = [finding for finding in proof(layout) if finding.kind == "note after its call"]
        for finding in late:     # its note is printed on a later page, not on the call's
            note = finding.text.rstrip(" …")
            assert note not in pages[finding.page - 1]
            assert any(note in page for page in pages[finding.page:finding.page + 3])
        assert late, "WeasyPrint 70 prints some of these notes late"
    assert lost_first[0], "the one pass lost notes"
    assert unit_by_unit == [(False, False), (True, True)]
    # Whatever WeasyPrint does: a page's footnote taken away is found missing.
    book, layout = laid_out(book_dir, units=True)
    pages = [page_box(page) for page in layout.document.pages]
    area = next(child for page in pages for child in page.children
                if type(child).__name__ == "FootnoteAreaBox" and child.children)
    html = "".join(chapter.print_body for chapter in book.chapters)
    before = footnotes.lost_footnotes(book, html, pages)
    area.children = []
    after = footnotes.lost_footnotes(book, html, pages)
    assert len(after) == len(before) + 1
    # Notes a book sets in the text, not at the foot of the page, are not missing.
    (book_dir / "styles" / "print.css").write_text(
        (STYLES / "print.css").read_text("utf-8") + "\nspan.footnote { float: none; }\n",
        "utf-8")
    book, layout = laid_out(book_dir, units=False)
    assert not any("missing from the print edition" in str(w) for w in layout.warnings)
