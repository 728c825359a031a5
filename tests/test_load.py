"""book folder -> Book: values from book.toml and the chapters, errors that point at lines."""

from __future__ import annotations

import pytest

from bindery.errors import BookError
from bindery.source import load
from bindery.source.units import parse_trim

from helpers import BOOK, TINY, copy_book


def test_default_book():
    book = load(BOOK)
    assert book.title == "ISIS: run."
    assert [(a.name, a.file_as, a.role) for a in book.authors] == [
        ("Jorge Vanstreels", "Vanstreels, Jorge", "aut")]
    assert book.language == "en"
    assert book.identifier.startswith("urn:uuid:")
    assert book.slug == "isis-run"
    assert [c.id for c in book.chapters] == ["isis-run", "about-the-author"]
    assert [c.title for c in book.chapters] == ["ISIS: run.", "About the Author"]
    assert [c.division.matter for c in book.chapters] == ["body", "back"]
    assert book.print.trim.name == "A5"
    assert book.warnings == ()


def test_second_book():
    book = load(TINY)
    assert book.language == "fr"
    assert [a.file_as for a in book.authors] == ["Dupont, Anne", "Martin, Luc"]
    assert book.print.trim.width_mm == 105 and book.print.trim.height_mm == 148
    assert book.chapters[2].division.aria_role == "doc-appendix"
    assert book.labels["contents"] == "Table des matières"


@pytest.mark.parametrize("value, size", [
    ("A5", (148, 210)), ("a6", (105, 148)), ("half-letter", (139.7, 215.9)),
    ("6x9in", (152.4, 228.6)), ("140mm 216mm", (140, 216)), ("5.5in 8.5in", (139.7, 215.9)),
])
def test_trim_sizes(value, size):
    trim = parse_trim(value)
    assert (trim.width_mm, trim.height_mm) == pytest.approx(size)


@pytest.mark.parametrize("value", ["A99", "huge", "10mm 10", "0mm 0mm", ""])
def test_bad_trim_sizes(value):
    assert parse_trim(value) is None


def _with_config(tmp_path, edit):
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(edit(config.read_text("utf-8")), "utf-8")
    return book


def test_bad_language_points_at_its_line(tmp_path):
    book = _with_config(tmp_path, lambda text: text.replace('language = "fr"',
                                                            'language = "english"'))
    with pytest.raises(BookError) as raised:
        load(book)
    assert str(raised.value).endswith(
        "book.toml:3: `language` must be a BCP 47 tag such as `en` or `pt-BR`, "
        "got `english`")


def test_bad_trim_in_print_table_points_at_its_line(tmp_path):
    book = _with_config(tmp_path, lambda text: text.replace('trim = "A6"', 'trim = "A99"'))
    with pytest.raises(BookError) as raised:
        load(book)
    line = next(number for number, text in enumerate(
        (book / "book.toml").read_text().split("\n"), 1) if text.startswith("trim"))
    assert f"book.toml:{line}:" in str(raised.value)


def test_unknown_key_is_a_warning_with_its_line(tmp_path):
    book = _with_config(tmp_path, lambda text: "colour = \"red\"\n" + text)
    warnings = [str(w) for w in load(book).warnings]
    assert any("book.toml:1: unknown key `colour`" in w for w in warnings), warnings
