"""The command line, driven in-process with click's CliRunner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bindery.cli import main

from helpers import EPOCH, ROOT, TINY, copy_book, output_contents


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return CliRunner()


@pytest.fixture
def book_with_outputs(tmp_path, tiny_book):
    """A private copy of the tiny book and of its last good outputs."""
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "dist"
    shutil.copytree(tiny_book.out, out)
    before = output_contents(out)
    assert ".bindery-petit-traite.json" in before
    return book, out, before


def _one_line_error(result) -> str:
    lines = result.output.strip().split("\n")
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]



def _unchanged(out: Path, before: dict[str, bytes]) -> None:
    assert output_contents(out) == before


def test_build_prints_one_line_per_output(runner, tmp_path):
    result = runner.invoke(main, ["build", str(TINY), "--out", str(tmp_path),
                                  "--format", "epub", "--format", "pdf"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().split("\n")
    assert any(line.startswith("epub") and "petit-traite.epub" in line and "KiB" in line
               for line in lines)
    assert any(line.startswith("pdf") and "petit-traite.pdf" in line for line in lines)
    assert sorted(path.name for path in tmp_path.iterdir()
                  if not path.name.startswith(".")) == ["petit-traite.epub", "petit-traite.pdf"]


def test_missing_book_folder(runner, tmp_path, book_with_outputs):
    _, out, before = book_with_outputs
    result = runner.invoke(main, ["build", str(tmp_path / "nowhere"), "--out", str(out)])
    assert result.exit_code == 1
    assert "nowhere: no such book folder" in _one_line_error(result)
    _unchanged(out, before)


def test_toml_syntax_error_names_file_and_line(runner, book_with_outputs):
    book, out, before = book_with_outputs
    config = book / "book.toml"
    lines = config.read_text("utf-8").split("\n")
    lines[2] = 'language = "fr'          # unterminated string on line 3
    config.write_text("\n".join(lines), "utf-8")
    result = runner.invoke(main, ["build", str(book), "--out", str(out)])
    assert result.exit_code == 1
    message = _one_line_error(result)
    assert "book.toml:3" in message and "invalid TOML" in message
    _unchanged(out, before)


def test_missing_chapter_names_the_file(runner, book_with_outputs):
    book, out, before = book_with_outputs
    (book / "chapitres" / "deux.md").unlink()
    result = runner.invoke(main, ["build", str(book), "--out", str(out)])
    assert result.exit_code == 1
    message = _one_line_error(result)
    assert "chapitres/deux.md" in message and "not found" in message
    _unchanged(out, before)


def test_usage_error_exits_2(runner):
    result = runner.invoke(main, ["build", "--format", "mobi"])
    assert result.exit_code == 2


def test_check_command_passes_good_outputs(runner, tiny_book):
    result = runner.invoke(main, ["check", str(tiny_book["epub"]), str(tiny_book["pdf"])])
    assert result.exit_code == 0, result.output
    assert "0 errors / 0 warnings" in result.output


def test_check_command_checks_the_outputs_in_a_folder(runner, tmp_path, tiny_book):
    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("pdf", "booklet"):
        shutil.copy(tiny_book[name], folder)
    (folder / "notes.txt").write_text("not an output", "utf-8")
    result = runner.invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    checked = [line.split(":")[0] for line in result.output.splitlines() if ": PDF" in line]
    assert sorted(Path(path).name for path in checked) == sorted(
        path.name for path in folder.glob("*.pdf"))
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["check", str(empty)])
    assert result.exit_code == 1
    assert "empty: no EPUB, PDF or site in this folder" in _one_line_error(result)


def test_check_command_fails_a_broken_epub(runner, tmp_path, tiny_book):
    import zipfile
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(tiny_book["epub"]) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            if not info.filename.endswith("un.xhtml"):
                target.writestr(info, source.read(info))
    result = runner.invoke(main, ["check", str(broken)])
    assert result.exit_code == 1
    assert "not in the zip" in result.output


def test_build_py_is_the_build_command(tmp_path):
    """`python build.py ARGS` == `bindery build ARGS`: same files, same bytes."""
    env = {"SOURCE_DATE_EPOCH": EPOCH, "PATH": "/usr/bin:/bin"}
    import os
    env = {**os.environ, **env}
    for name, command in (("shim", [sys.executable, "build.py"]),
                          ("cli", [sys.executable, "-m", "bindery", "build"])):
        done = subprocess.run([*command, str(TINY), "--out", str(tmp_path / name),
                               "--format", "epub"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "shim" / "petit-traite.epub").read_bytes() == (
        tmp_path / "cli" / "petit-traite.epub").read_bytes()
