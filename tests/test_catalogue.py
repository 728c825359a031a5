"""Many books at once: `bindery build BOOK_DIR...` (or a folder of books) builds each into
its own folder, several at a time, skips the unchanged ones, reports per book and output in
JSON, keeps going past a broken book (exit 1), and `--shard I/N` splits a catalogue."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bindery.cli import main

from helpers import EPOCH, TINY, copy_book


@pytest.fixture
def shelf(tmp_path, monkeypatch):
    """A folder of three small books (the tiny book, each with its own identifier)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    shelf = tmp_path / "books"
    for number, name in enumerate(("alpha", "beta", "gamma")):
        book = copy_book(TINY, shelf / name)
        config = book / "book.toml"
        text = config.read_text("utf-8")
        config.write_text(text.replace("e55e9c35-16c2-4cec-8404-e8adb36778db",
                                       f"e55e9c35-16c2-4cec-8404-e8adb36778d{number}"), "utf-8")
    return shelf


def _build(*arguments) -> tuple[int, str, dict]:
    result = CliRunner().invoke(main, ["build", *map(str, arguments)])
    report = {}
    for argument, value in zip(arguments, arguments[1:]):
        if argument == "--report":
            report = json.loads(value.read_text("utf-8"))
    return result.exit_code, result.output, report


def test_a_folder_of_books_builds_each_into_its_own_folder_then_skips_them(shelf, tmp_path):
    out, report = tmp_path / "out", tmp_path / "build.json"
    status, output, data = _build(shelf, "--out", out, "--format", "epub", "--jobs", "2",
                                  "--report", report)
    assert status == 0, output
    assert data["counts"] == {"built": 3, "unchanged": 0, "failed": 0}
    assert [book["status"] for book in data["books"]] == ["built"] * 3
    for name in ("alpha", "beta", "gamma"):
        assert (out / name / "petit-traite.epub").is_file()
    book = data["books"][0]
    assert book["outputs"] == [{"format": "epub", "file": "petit-traite.epub",
                                "status": "built", "seconds": book["outputs"][0]["seconds"],
                                "bytes": (out / "alpha" / "petit-traite.epub").stat().st_size}]
    assert output.splitlines()[-1].startswith("3 books: 3 built, 0 unchanged, 0 failed")

    # Again, nothing changed (the folder alone, no other option, is a catalogue too): every
    # book is unchanged, its outputs untouched.
    before = (out / "beta" / "petit-traite.epub").stat().st_mtime_ns
    status, output, _ = _build(shelf, "--out", out, "--format", "epub")
    assert status == 0 and output.splitlines()[-1].startswith(
        "3 books: 0 built, 3 unchanged, 0 failed"), output
    assert (out / "beta" / "petit-traite.epub").stat().st_mtime_ns == before

    # One book edited: that one alone is built again.
    chapter = shelf / "beta" / "chapitres" / "un.md"
    chapter.write_text(chapter.read_text("utf-8").replace("petit livre", "grand livre"))
    status, output, data = _build(shelf, "--out", out, "--format", "epub", "--report", report)
    assert [book["status"] for book in data["books"]] == ["unchanged", "built", "unchanged"]


def test_a_broken_book_fails_alone_and_the_build_exits_1(shelf, tmp_path):
    (shelf / "beta" / "book.toml").write_text("title = [", "utf-8")
    out, report = tmp_path / "out", tmp_path / "build.json"
    status, output, data = _build(shelf / "alpha", shelf / "beta", shelf / "gamma",
                                  "--out", out, "--format", "epub", "--report", report)
    assert status == 1
    assert [book["status"] for book in data["books"]] == ["built", "failed", "built"]
    failed = data["books"][1]
    assert "beta/book.toml: invalid TOML" in failed["error"]
    assert sum(line.startswith("error: ") for line in output.splitlines()) == 1


def test_shards_split_the_catalogue_between_machines(shelf, tmp_path):
    seen = []
    for index in (1, 2):
        report = tmp_path / f"shard{index}.json"
        status, output, data = _build(shelf, "--out", tmp_path / "out", "--format", "epub",
                                      "--shard", f"{index}/2", "--report", report)
        assert status == 0, output
        assert data["shard"] == f"{index}/2"
        seen.append({book["book"].rsplit("/", 1)[-1] for book in data["books"]})
    assert seen[0] | seen[1] == {"alpha", "beta", "gamma"} and not seen[0] & seen[1]
    status, output, _ = _build(shelf, "--out", tmp_path / "out", "--shard", "3/2")
    assert status == 1 and output.strip() == "error: --shard 3/2: I must be from 1 to N"


def test_two_books_with_one_folder_name_are_refused(shelf, tmp_path):
    other = copy_book(TINY, tmp_path / "elsewhere" / "alpha")
    status, output, _ = _build(shelf / "alpha", other, "--out", tmp_path / "out")
    assert status == 1
    assert output.strip().startswith("error: two books have the folder name `alpha`")


def test_one_book_with_a_report_keeps_its_output_folder(shelf, tmp_path):
    out, report = tmp_path / "out", tmp_path / "build.json"
    status, output, data = _build(shelf / "alpha", "--out", out, "--format", "epub",
                                  "--report", report)
    assert status == 0, output
    assert (out / "petit-traite.epub").is_file() and not (out / "alpha").exists()
    assert data["books"][0]["status"] == "built"
