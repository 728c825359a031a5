"""Session fixtures: each fixture book is built once, EPUBCheck runs once per distinct file."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bindery import builder as pipeline
from bindery.builder import BuildRequest
from bindery.check.epubcheck import epubcheck_jar, read_report
from bindery.builder import FORMATS

from helpers import BOOK, EPOCH, GUIDE, ROOT, TINY, source_date_epoch

# DAISY Ace, as tests/tools/install puts it in the project (bindery check looks for it in
# BINDERY_ACE or on the PATH; the tests know where their own tools are).
_ACE = ROOT / "tests" / "tools" / "node_modules" / ".bin" / "ace-cli"
if "BINDERY_ACE" not in os.environ and _ACE.exists():
    os.environ["BINDERY_ACE"] = str(_ACE)
# The key that seals stored layouts (bindery/builder/unitstore.py) is the test run's own,
# not the key of the user who runs the tests.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bindery-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)


@dataclass
class Built:
    book: Path
    out: Path
    report: pipeline.BuildReport

    def __getitem__(self, fmt: str) -> Path:
        return next(output.path for output in self.report.outputs if output.format == fmt)


#: What the tests build unless they say otherwise: every output but the cover wrap, which
#: its own tests build (test_press.py), so the suite does not lay out a cover per book, and
#: the site, which the shared books below have (test_site.py).
BOOK_FORMATS = tuple(fmt for fmt in FORMATS if fmt not in ("cover", "site"))
#: The shared books: with their sites.
SHARED_FORMATS = BOOK_FORMATS + ("site",)


def build_book(book: Path, out: Path, formats=BOOK_FORMATS,
               epoch: str | None = EPOCH) -> Built:
    with source_date_epoch(epoch):
        report = pipeline.build(BuildRequest(book, out, tuple(formats)))
    return Built(book, out, report)


@pytest.fixture(scope="session")
def default_book(tmp_path_factory) -> Built:
    """The default book, every output, built with a fixed SOURCE_DATE_EPOCH."""
    return build_book(BOOK, tmp_path_factory.mktemp("default"), formats=SHARED_FORMATS)


@pytest.fixture(scope="session")
def tiny_book(tmp_path_factory) -> Built:
    """The second fixture book (French, A6, three chapters, an image)."""
    return build_book(TINY, tmp_path_factory.mktemp("tiny"), formats=SHARED_FORMATS)


@pytest.fixture(scope="session")
def guide_book(tmp_path_factory) -> Built:
    """The field guide (tests/books/guide): every construct in each of its chapters."""
    return build_book(GUIDE, tmp_path_factory.mktemp("guide") / "out", formats=SHARED_FORMATS)


@pytest.fixture(scope="session")
def epubcheck(tmp_path_factory):
    """EPUBCheck's verdict on EPUB files; each distinct file (by content) is checked once, in
    one Java process a test worker (tools/EpubCheckServer.java), which compiles EPUBCheck's
    schemas once instead of once a test."""
    verdicts = {}
    reports = tmp_path_factory.mktemp("epubcheck")
    server = None

    def digest(path: Path) -> str:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()

    def check(*paths: Path):
        nonlocal server
        for path in paths:
            key = digest(path)
            if key in verdicts:
                continue
            if server is None:
                server = subprocess.Popen(
                    ["java", "-XX:+UseSerialGC", "-Duser.language=en", "-cp",
                     str(epubcheck_jar()), str(ROOT / "tests" / "tools" / "EpubCheckServer.java")],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            report = reports / f"{len(verdicts)}.json"
            try:
                server.stdin.write(f"{report}\t{Path(path).resolve()}\n")
                server.stdin.flush()
                while (line := server.stdout.readline()) != "done\n":   # EPUBCheck's lines
                    assert line, "EPUBCheck stopped"
                verdicts[key] = read_report(Path(path), json.loads(report.read_text("utf-8")))
            except BaseException:
                server.kill()            # the next check starts a new one, in step
                server = None
                raise
        return [verdicts[digest(path)] for path in paths]

    yield check
    if server is not None:
        server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
