"""Same source, same bytes: SOURCE_DATE_EPOCH fixes every date and the zip's layout."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone

from pypdf import PdfReader

from bindery.check.reader import Epub

from conftest import build_book
from helpers import TINY


def test_two_builds_with_the_same_epoch_are_byte_identical(tmp_path, default_book):
    again = build_book(default_book.book, tmp_path / "again")
    for fmt in ("epub", "pdf"):
        assert again[fmt].read_bytes() == default_book[fmt].read_bytes(), fmt


def test_the_second_book_is_reproducible_too(tmp_path, tiny_book):
    again = build_book(TINY, tmp_path / "again")
    for fmt in ("epub", "pdf"):
        assert again[fmt].read_bytes() == tiny_book[fmt].read_bytes(), fmt


def test_zip_entries_have_fixed_order_and_timestamps(default_book):
    with zipfile.ZipFile(default_book["epub"]) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names[:3] == ["mimetype", "META-INF/container.xml", "EPUB/content.opf"]
    assert names[3:] == sorted(names[3:])
    assert {info.date_time for info in infos} == {(2023, 11, 14, 22, 13, 20)}


def test_a_different_epoch_changes_only_the_dates(tmp_path, default_book):
    later = build_book(default_book.book, tmp_path / "later", epoch="1800000000")
    assert Epub.open(later["epub"]).meta("dcterms:modified") == ["2027-01-15T08:00:00Z"]
    first = Epub.open(default_book["epub"])
    second = Epub.open(later["epub"])
    for name in first.names:
        if not name.endswith(".opf"):
            assert first.zip.read(name) == second.zip.read(name), name


def test_without_source_date_epoch_the_dates_are_the_build_time(tmp_path):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    built = build_book(TINY, tmp_path / "now", epoch=None)
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    modified = Epub.open(built["epub"]).meta("dcterms:modified")[0]
    stamp = datetime.strptime(modified, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= stamp <= after
    created = PdfReader(built["pdf"]).metadata.creation_date
    assert before - timedelta(seconds=1) <= created.astimezone(timezone.utc) <= after
