"""A plain `bindery build` with nothing to do is answered from the stamp the last such build
left (`bindery/quick.py`): only while every file it read and folder it listed is as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bindery import quick
from bindery.builder import BuildRequest, build
from bindery.builder.outdir import OutputFolder
from bindery.builder.fingerprint import identity
from bindery.errors import BookError

from helpers import EPOCH, TINY, copy_book, source_date_epoch


def aged_book(tmp_path: Path) -> Path:
    """A copy of the tiny book whose files were last changed a minute ago (a file changed
    within two seconds of a stamp is never trusted)."""
    book = copy_book(TINY, tmp_path / "book")
    past = time.time() - 60
    for path in [book, *book.rglob("*")]:
        os.utime(path, (past, past))
    return book


def plain_build(book: Path, out: Path):
    with source_date_epoch(EPOCH):
        return build(BuildRequest(book, out))


def answered(book: Path, out: Path, *options: str):
    with source_date_epoch(EPOCH):
        return quick.nothing_to_do(["build", str(book), "--out", str(out), *options])


def test_a_stamp_answers_until_a_source_an_output_or_the_command_changes(tmp_path, capsys,
                                                                         monkeypatch):
    book, out = aged_book(tmp_path), tmp_path / "out"
    assert plain_build(book, out).rebuilt                  # the first build: no stamp
    assert answered(book, out) is None
    assert plain_build(book, out).rebuilt == []            # nothing to do: leaves a stamp
    stamp = out / ".bindery-petit-traite.stamp"
    assert stamp.is_file()
    outputs = answered(book, out)
    assert sorted(fmt for fmt, _ in outputs) == sorted(
        ["booklet", "cover", "epub", "kepub", "pdf", "press", "site"])

    # The command prints what the full build prints, but for the time it took.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    with pytest.raises(SystemExit) as done:
        quick.main(["build", "book", "--out", "out"])
    assert done.value.code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["epub", "out/petit-traite.epub", "unchanged"]
    assert printed[-1].startswith("nothing to do: every output is up to date (")
    assert len(printed) == 8

    with pytest.raises(SystemExit) as done:
        quick.main(["build", "book", "--out", "out", "--quiet"])
    assert done.value.code == 0 and capsys.readouterr().out == ""

    # Not while another build holds the folder's lock, nor through a link to the folder.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"handle = os.open({str(out / '.bindery.lock')!r}, os.O_RDWR)\n"
         "fcntl.lockf(handle, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert answered(book, out) is None
    finally:
        holder.kill()
        holder.wait()
    assert answered(book, out) is not None
    os.symlink(out, tmp_path / "link")
    assert answered(book, tmp_path / "link") is None

    # Not for another command line, nor another SOURCE_DATE_EPOCH.
    assert quick.nothing_to_do(["build", str(book), "--out", ""]) is None
    assert answered(book, out, "--format", "epub") is None
    assert answered(book, out, "--strict") is None
    with source_date_epoch("1800000000"):
        assert quick.nothing_to_do(["build", str(book), "--out", str(out)]) is None

    # An edit: the full build runs and rebuilds; the next no-op stamps again.
    chapter = book / "chapitres" / "un.md"
    chapter.write_text(chapter.read_text("utf-8").replace("Le", "La", 1), "utf-8")
    assert answered(book, out) is None
    past = time.time() - 30
    os.utime(chapter, (past, past))
    assert plain_build(book, out).rebuilt
    assert plain_build(book, out).rebuilt == []
    assert answered(book, out) is not None

    # A new file in a folder the build lists.
    (book / "images" / "new.png").write_bytes((book / "images" / "diagramme.png").read_bytes())
    assert answered(book, out) is None
    (book / "images" / "new.png").unlink()
    assert answered(book, out) is None                     # the folder changed, and back

    # An output changed by hand.
    os.utime(book / "images", (past, past))
    assert plain_build(book, out).rebuilt == []
    assert answered(book, out) is not None
    (out / "petit-traite.epub").write_bytes(b"not an epub")
    assert answered(book, out) is None
    with pytest.raises(BookError, match="did not make is in the way"):
        plain_build(book, out)                 # the full build says what is wrong


def test_a_source_changed_just_before_the_stamp_is_not_trusted(tmp_path):
    book, out = aged_book(tmp_path), tmp_path / "out"
    plain_build(book, out)
    os.utime(book / "book.toml")                          # now: as the stamp is written
    assert plain_build(book, out).rebuilt == []
    assert answered(book, out) is None


def test_clean_removes_the_stamp_and_no_stamp_replaces_a_file_of_the_user(tmp_path):
    book, out = aged_book(tmp_path), tmp_path / "out"
    plain_build(book, out)
    theirs = out / ".bindery-petit-traite.stamp"
    theirs.write_text("my notes", "utf-8")
    assert plain_build(book, out).rebuilt == []
    assert theirs.read_text("utf-8") == "my notes"
    assert answered(book, out) is None
    theirs.unlink()
    plain_build(book, out)
    assert theirs.is_file()
    removed = OutputFolder(out).clean(identity(book))
    assert theirs in removed.removed and not out.exists()


def test_a_build_leaves_nothing_in_the_temporary_folder(tmp_path):
    """WeasyPrint copies the book's fonts into a temporary folder a build, and removes it
    when its font configuration is collected, which a process that ends without collecting
    (``quick.main``) never does: the command's own temporary folder goes at exit."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    book = copy_book(TINY, tmp_path / "book")
    for _ in range(2):                  # laid out, then kept units read back
        chapter = book / "chapitres" / "deux.md"
        chapter.write_text(chapter.read_text("utf-8") + "\nUne phrase de plus.\n", "utf-8")
        done = subprocess.run([sys.executable, "-m", "bindery", "build", str(book), "--out",
                               str(tmp_path / "out"), "--quiet"], capture_output=True,
                              text=True, timeout=300,
                              env={**os.environ, "TMPDIR": str(temporary),
                                   "SOURCE_DATE_EPOCH": EPOCH})
        assert done.returncode == 0, done.stderr
        assert list(temporary.iterdir()) == []


def test_watch_stopped_by_sigterm_leaves_nothing_in_the_temporary_folder(tmp_path):
    """A service manager (or ``kill``) stops ``watch`` with SIGTERM: the command ends as
    the signal ends it, and its temporary folder goes first."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    book = copy_book(TINY, tmp_path / "book")
    process = subprocess.Popen([sys.executable, "-m", "bindery", "watch", str(book), "--out",
                                str(tmp_path / "out")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "TMPDIR": str(temporary),
                                    "SOURCE_DATE_EPOCH": EPOCH})
    try:
        for line in process.stdout:
            if line.startswith("watching"):
                break
        assert list(temporary.iterdir())              # WeasyPrint's fonts, in its folder
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == -signal.SIGTERM
    finally:
        process.kill()
    assert list(temporary.iterdir()) == []
    assert (tmp_path / "out" / "petit-traite.epub").is_file()
