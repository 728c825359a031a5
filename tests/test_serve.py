"""`bindery serve`: the site on 127.0.0.1, rebuilt after an edit, the open page reloaded by
itself, Ctrl-C stopping it cleanly; a port in use is a one-line error."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

from browser import browser
from helpers import EPOCH, TINY, copy_book, interruptible


def _serve(book, out, port: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bindery", "serve", str(book), "--out", str(out),
         "--port", str(port), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=interruptible,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})


class _Lines:
    """What the server prints, read in a thread; ``wait_for`` a line matching a pattern."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process) -> None:
        for line in process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match:
        with self.changed:
            found = None

            def seen():
                nonlocal found
                found = next((m for line in self.lines if (m := re.search(pattern, line))),
                             None)
                return found is not None
            assert self.changed.wait_for(seen, timeout), self.lines
            return found


def test_serve_shows_the_site_and_reloads_the_page_after_an_edit(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    process = _serve(book, out)
    try:
        lines = _Lines(process)
        url = lines.wait_for(r"on (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)")[1]
        lines.wait_for(r"^watching ")
        served = urllib.request.urlopen(url + "index.html", timeout=30).read()
        on_disk = (out / "petit-traite-site" / "index.html").read_bytes()
        assert b"EventSource" in served and b"EventSource" not in on_disk
        with browser() as chrome:
            page = chrome.new_page()
            page.goto(url + "read/un.html")
            page.evaluate("window.before = true")
            assert "grand livre" not in page.inner_text("main")
            chapter = book / "chapitres" / "un.md"
            chapter.write_text(chapter.read_text("utf-8").replace("petit livre", "grand livre"),
                               "utf-8")
            # The page reloads by itself (a new window object) with the new text.
            page.wait_for_function("!window.before && document.querySelector('main') && "
                                   "document.querySelector('main').innerText"
                                   ".includes('grand livre')", timeout=120_000)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert (lines.lines + output.splitlines())[-1] == "stopped"


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve(copy_book(TINY, tmp_path / "book"), tmp_path / "out", port)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert output.strip().splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use "
        "(give another --port)"]
    assert not (tmp_path / "out").exists()
