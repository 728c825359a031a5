"""Nothing lost, nothing read outside the book: kills, concurrent builds, the fetcher."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bindery import builder as pipeline
from bindery.builder import BuildRequest
from bindery.builder.outdir import OutputFolder
from bindery.pdf.fetcher import url_fetcher
from bindery.sandbox import Sandbox

from conftest import build_book
from helpers import BOOK, EPOCH, ROOT, TINY, copy_book, output_contents



def _big_book(target: Path) -> Path:
    """The tiny book with a long chapter: its build takes seconds, time enough to kill it."""
    book = copy_book(TINY, target)
    text = "\n\n".join(f"Paragraphe {n} : " + "des mots et encore des mots " * 30
                       for n in range(300))
    (book / "chapitres" / "deux.md").write_text(f"---\ntitle: Deux\n---\n\n{text}\n", "utf-8")
    return book


@pytest.mark.parametrize("moment", ["start", "import", "layout", "pdf"])
def test_a_build_killed_at_any_stage_leaves_the_old_outputs(tmp_path, moment):
    """SIGKILL after the named stage ends (`start`: at once): the outputs of the last good
    build stay byte for byte, and the next build leaves no temporary file behind."""
    out = tmp_path / "out"
    build_book(TINY, out)                                 # the last good outputs
    before = output_contents(out)
    book = _big_book(tmp_path / "book")
    process = subprocess.Popen(
        [sys.executable, "-m", "bindery", "build", str(book), "--out", str(out), "-v"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "TMPDIR": str(tmp_path)})
    if moment == "start":
        time.sleep(0.3)
    else:
        for line in process.stderr:                       # "  layout    3.21 s" and so on
            if line.split()[:1] == [moment]:
                break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert output_contents(out) == before
    done = subprocess.run([sys.executable, "-m", "bindery", "build", str(TINY), "--out",
                           str(out), "--format", "epub"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert done.returncode == 0, done.stderr
    assert not list(out.glob(".*.tmp"))


def test_stray_temporary_files_are_removed_by_the_next_build(tmp_path):
    out = tmp_path / "out"
    build_book(TINY, out, formats=("epub",))
    stray = out / ".petit-traite.epub.99999.tmp"
    stray.write_bytes(b"half an epub")
    build_book(TINY, out, formats=("epub",))
    assert not stray.exists()


def test_a_second_build_waits_for_the_first(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    messages = []

    class Listen(pipeline.Progress):
        def waiting(self, message):
            messages.append(message)

    finished = []
    with OutputFolder(out).locked():
        worker = threading.Thread(target=lambda: finished.append(pipeline.build(
            BuildRequest(TINY, out, ("epub",), parallel=False), Listen())))
        worker.start()
        time.sleep(1.0)
        assert not finished                               # held back by the lock
        assert messages and "another build is writing" in messages[0]
    worker.join(timeout=60)
    assert finished and finished[0].rebuilt == ["epub"]


def test_two_builds_at_once_never_corrupt_an_output(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    command = [sys.executable, "-m", "bindery", "build", str(TINY), "--out", str(out),
               "--format", "epub", "--format", "pdf", "--force"]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    results = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert first.returncode == second.returncode == 0, results
    assert any("waiting" in err for _, err in results)
    reference = build_book(TINY, tmp_path / "reference", formats=("epub", "pdf"))
    for fmt in ("epub", "pdf"):
        assert (out / reference[fmt].name).read_bytes() == reference[fmt].read_bytes()


# -- the fetcher ----------------------------------------------------------------------------

@pytest.fixture
def fetcher(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    outside = tmp_path / "outside.png"
    outside.write_bytes((book / "images" / "diagramme.png").read_bytes())
    os.symlink(outside, book / "images" / "link.png")
    return book, url_fetcher(Sandbox(book.resolve()))


@pytest.mark.parametrize("url, reason", [
    ("file:///etc/hostname", "outside the book's folders"),
    ("http://127.0.0.1:9/x.png", "reads nothing from the network"),
    ("https://example.org/font.otf", "reads nothing from the network"),
    ("ftp://example.org/x", "reads nothing from the network"),
])
def test_fetcher_refuses_what_is_outside(fetcher, url, reason):
    from weasyprint.urls import FatalURLFetchingError
    _, fetch = fetcher
    with pytest.raises(FatalURLFetchingError) as raised:
        fetch.fetch(url)
    assert reason in str(raised.value)


def test_fetcher_refuses_a_symbolic_link_out_of_the_book(fetcher):
    from weasyprint.urls import FatalURLFetchingError
    book, fetch = fetcher
    with pytest.raises(FatalURLFetchingError):
        fetch.fetch((book / "images" / "link.png").as_uri())


def test_fetcher_serves_the_book_its_styles_and_data_urls(fetcher):
    book, fetch = fetcher
    image = fetch.fetch((book / "images" / "diagramme.png").resolve().as_uri())
    assert image.read() == (book / "images" / "diagramme.png").read_bytes()
    font = fetch.fetch((ROOT / "styles" / "fonts" / "LinLibertine_R.otf").as_uri())
    assert font.read()[:4] == b"OTTO"
    assert fetch.fetch("data:text/plain,hello").read() == b"hello"


def test_a_successful_build_holds_no_byte_of_files_outside(default_book):
    """The default book's outputs, read whole, contain nothing of the machine's files."""
    secrets = [Path(p).read_bytes().strip() for p in ("/etc/hostname", "/etc/machine-id")
               if Path(p).is_file() and len(Path(p).read_bytes().strip()) >= 6]
    if not secrets:
        secrets = [str(ROOT).encode()]            # at least: no absolute path of ours
    for fmt in ("epub", "pdf", "press", "booklet"):
        data = default_book[fmt].read_bytes()
        for secret in secrets:
            assert secret not in data, (fmt, secret)
        assert str(ROOT).encode() not in data, fmt
        assert str(BOOK.resolve()).encode() not in data, fmt


def test_no_process_is_forked_while_a_thread_of_pango_s_runs():
    """Pango matches fonts in threads of its own, which hold fontconfig's lock meanwhile; a
    process forked then waits for that lock forever (a cold build's second process once
    hung in fontconfig's mutex). Forking waits for such threads to end, and the work is
    done here when they do not."""
    import ctypes

    from bindery.builder.work import Forked, Inline, in_process, quiet_for_fork

    assert quiet_for_fork(timeout=0.5)
    libc = ctypes.CDLL(None)
    # A native thread that sleeps 3 s (libc's sleep() as its start routine, 3 its argument)
    # under the name Pango gives its font matching.
    thread = ctypes.c_ulong()
    assert libc.pthread_create(ctypes.byref(thread), None,
                               ctypes.cast(libc.sleep, ctypes.c_void_p),
                               ctypes.c_void_p(3)) == 0
    try:
        assert libc.pthread_setname_np(thread, b"[pango] FcFontS") == 0
        assert not quiet_for_fork(timeout=0.2)
        assert isinstance(in_process(lambda: 42, True), Inline)
        assert quiet_for_fork(timeout=10)           # the thread has ended
        second = in_process(lambda: 42, True)
        assert isinstance(second, Forked) and second.result() == 42
    finally:
        libc.pthread_join(thread, None)
