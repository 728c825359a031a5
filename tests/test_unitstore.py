"""A build leaves its units in the output folder: the next build, in a new process, lays out
only the chapters an edit changed and writes the bytes a new build writes. The store is read
only when this user's Bindery sealed it."""

from __future__ import annotations

import functools
import hmac
import json
import os
import pickle
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers import BOOK, BOOKS, EPOCH, ROOT, TINY, copy_book, output_contents
from test_units import WORDS, generated_book

from bindery.builder import BuildRequest, build
from bindery.builder import unitstore as builder_store
from bindery.builder.manifest import store_names
from bindery.pdf import ahead, unitstore

#: Run in a new process: a build of the reading PDF, how many documents it laid out (each
#: unit laid out is one; the empty document that takes the store back is one more) and how
#: many pages it painted (not written again as kept), chapters it converted and files of
#: hyphenation patterns it read.
COUNTED = r"""
import json, sys
from pathlib import Path
from bindery.builder import BuildRequest, build
from bindery.builder import unitstore as builder_store
from bindery.pdf import units
rendered, renderer = [], units._renderer
def counted(*args):
    render = renderer(*args)
    def count(*args):
        rendered.append(1)
        return render(*args)
    count.base_url, count.sheets = render.base_url, render.sheets
    return count
units._renderer = counted
from weasyprint.document import Page
from bindery.convert.memo import Memo
converted, convert = [], Memo.convert
Memo.convert = lambda self, chapter, shared, work: convert(
    self, chapter, shared, lambda: converted.append(1) or work())
painted, paint = [], Page.paint
Page.paint = lambda *args, **kwargs: painted.append(1) or paint(*args, **kwargs)
import pyphen
patterns, read_patterns = [], pyphen.HyphDict.__init__
pyphen.HyphDict.__init__ = lambda *args: patterns.append(1) or read_patterns(*args)
report = build(BuildRequest(Path(sys.argv[1]), Path(sys.argv[2]), ("pdf",)))
print(json.dumps({"rendered": len(rendered), "pages": report.pages, "painted": len(painted),
                  "converted": len(converted), "patterns": len(patterns)}))
"""


def _built(book: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", COUNTED, str(book), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _slug_files(out: Path) -> tuple[Path, Path]:
    """The store's base and its seal."""
    store, _, seal = _store_files(out)
    return store, seal


def _store_files(out: Path) -> tuple[Path, Path, Path]:
    """The store's base, its edits and its seal."""
    (manifest,) = out.glob(".bindery-*.json")
    slug = manifest.name.removeprefix(".bindery-").removesuffix(".json")
    store, edits, seal = (out / name for name in store_names(slug))
    return store, edits, seal


def _seal(seal: Path, data: bytes, key: bytes | None = None) -> None:
    """Seal ``data`` as a build does a store's base, with this user's key or another."""
    sealed = (hmac.new(key, data, "sha256").hexdigest() if key is not None
              else builder_store.seal_of(data))
    seal.write_text(json.dumps({"seal": builder_store.SEAL, "units": sealed, "edits": None}))


def test_a_new_process_lays_out_only_the_edited_chapter(tmp_path):
    book = generated_book(tmp_path / "book", chapters=8)
    cold = _built(book, tmp_path / "out")
    store, edits, seal = _store_files(tmp_path / "out")
    base = store.read_bytes()
    assert base.startswith(unitstore.header()) and not edits.exists()
    assert json.loads(seal.read_bytes()) == {"seal": builder_store.SEAL, "edits": None,
                                             "units": builder_store.seal_of(base)}
    assert cold["rendered"] >= 10 and cold["painted"] >= cold["pages"]   # all of it
    assert cold["converted"] == 8 and cold["patterns"] == 1
    for edit, name in enumerate(("c03", "c06", "c03")):
        chapter = book / "text" / f"{name}.md"
        chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                           "utf-8")
        edited = _built(book, tmp_path / "out")
        # The empty document that takes the store back, and the edited chapter; its pages
        # are painted, and those where the PDF meets a font first.
        assert edited["rendered"] == 2 and edited["pages"] == cold["pages"], edit
        assert edited["converted"] == 1                 # the others as the store kept them
        assert edited["patterns"] == 0                  # as the store kept them
        assert edited["painted"] <= cold["pages"] // 3, (edit, edited, cold)
        # The store's base is as the cold build left it: the edited chapters are written
        # beside it, as edits (two chapters of eight, after the second edit).
        assert store.read_bytes() == base
        sealed = json.loads(seal.read_bytes())
        assert sealed["units"] == builder_store.seal_of(base)
        assert sealed["edits"] == builder_store.seal_of(edits.read_bytes())
        assert edits.stat().st_size < len(base) // 2
        _built(book, tmp_path / "new")
        assert output_contents(tmp_path / "out") == output_contents(tmp_path / "new"), edit
        shutil.rmtree(tmp_path / "new")
    # Edits changed by a bit do not verify: the base is not read without them either.
    data = bytearray(edits.read_bytes())
    data[-100] ^= 1
    edits.write_bytes(bytes(data))
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    assert _built(book, tmp_path / "out")["rendered"] >= 10
    # An edit of more than a quarter of the book's pages writes the whole store again.
    for name in ("c01", "c02", "c04", "c05"):
        chapter = book / "text" / f"{name}.md"
        chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                           "utf-8")
    edited = _built(book, tmp_path / "out")
    assert edited["rendered"] == 5 and edited["converted"] == 4
    assert store.read_bytes() != base
    assert json.loads(seal.read_bytes()) == {"seal": builder_store.SEAL, "edits": None,
                                             "units": builder_store.seal_of(store.read_bytes())}
    chapter = book / "text" / "c07.md"
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    assert _built(book, tmp_path / "out")["rendered"] == 2
    _built(book, tmp_path / "new")
    assert output_contents(tmp_path / "out") == output_contents(tmp_path / "new")


def test_a_new_process_after_a_longer_chapter_writes_what_a_new_build_writes(tmp_path):
    """The units after a chapter that grew by a page are laid out again (the store keeps
    no layout context to number them again with), and the bytes are a new build's."""
    book = generated_book(tmp_path / "book", chapters=6)
    cold = _built(book, tmp_path / "out")
    chapter = book / "text" / "c02.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n\n" + " ".join(WORDS * 80) + "\n",
                       "utf-8")
    edited = _built(book, tmp_path / "out")
    assert edited["pages"] > cold["pages"]
    _built(book, tmp_path / "new")
    assert output_contents(tmp_path / "out") == output_contents(tmp_path / "new")


def _stored_reads(monkeypatch) -> list:
    reads, loads = [], unitstore.loads
    monkeypatch.setattr(unitstore, "loads", lambda *args: reads.append(1) or loads(*args))
    return reads


def test_a_store_that_came_with_the_book_is_not_read(tmp_path, monkeypatch):
    """A store sealed by someone else (with their key, or none) is never unpickled: a
    payload in it never runs. The build lays the book out and leaves a store of its own."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = copy_book(TINY, tmp_path / "book")
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    store, seal = _slug_files(tmp_path / "out")
    marker = tmp_path / "ran"
    payload = unitstore.header() + pickle.dumps(_Payload(marker))
    store.write_bytes(payload)
    _seal(seal, payload, key=os.urandom(32))          # sealed where it was made
    shutil.copytree(tmp_path / "out", tmp_path / "received")
    reads = _stored_reads(monkeypatch)
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\nUne phrase de plus.\n", "utf-8")
    report = build(BuildRequest(book, tmp_path / "received", ("pdf",)))
    assert report.laid_out and not marker.exists() and reads == []
    # The build left its own store, sealed: the next build reads it.
    chapter.write_text(chapter.read_text("utf-8") + "\nEt une autre.\n", "utf-8")
    build(BuildRequest(book, tmp_path / "received", ("pdf",)))
    assert reads == [1] and not marker.exists()
    # The payload sealed with this user's key would run: the seal is all that stands.
    assert builder_store.seal_of(payload) is not None


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_changed_store_is_not_read_and_a_broken_one_is_let_go(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = copy_book(TINY, tmp_path / "book")
    build(BuildRequest(book, tmp_path / "out", ("pdf", "press")))
    store, seal = _slug_files(tmp_path / "out")
    reads = _stored_reads(monkeypatch)
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\nUne phrase de plus.\n", "utf-8")
    data = bytearray(store.read_bytes())
    data[-100] ^= 1                             # one bit changed: the seal does not verify
    store.write_bytes(bytes(data))
    build(BuildRequest(book, tmp_path / "out", ("pdf", "press")))
    assert reads == []
    # A store cut short (a crash while it was written), sealed as it is: read, found
    # broken, and the book laid out from nothing, to the same bytes.
    data = store.read_bytes()[:len(data) // 2]
    store.write_bytes(data)
    _seal(seal, data)
    chapter.write_text(chapter.read_text("utf-8") + "\nEt une autre.\n", "utf-8")
    build(BuildRequest(book, tmp_path / "out", ("pdf", "press")))
    assert reads == [1]
    build(BuildRequest(book, tmp_path / "new", ("pdf", "press"), force=True))
    for name in ("petit-traite.pdf", "petit-traite-press.pdf"):
        assert (tmp_path / "out" / name).read_bytes() == (
            tmp_path / "new" / name).read_bytes(), name


def test_no_key_no_store(tmp_path, monkeypatch):
    """Where this user's key cannot be made (a cache folder that is a file), no store is
    written or read, and the build is as good."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(builder_store, "_key", functools.cache(builder_store._key.__wrapped__))
    book = copy_book(TINY, tmp_path / "book")
    report = build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    assert report.laid_out and not list((tmp_path / "out").glob(".bindery-*.units"))


def test_force_and_other_code_do_not_read_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = copy_book(TINY, tmp_path / "book")
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    reads = _stored_reads(monkeypatch)
    build(BuildRequest(book, tmp_path / "out", ("pdf",), force=True))
    assert reads == []
    store, _ = _slug_files(tmp_path / "out")
    data = store.read_bytes()
    assert unitstore.loads(data.replace(b"bindery-units 2\nbindery ", b"bindery-units 2\nbinderz ",
                                        1), None, None, None) is None


def test_clean_removes_the_store_and_only_bindery_s(tmp_path):
    from click.testing import CliRunner

    from bindery.cli import main

    book = generated_book(tmp_path / "book", chapters=8)
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    chapter = book / "text" / "c03.md"
    chapter.write_text(chapter.read_text("utf-8").replace("compositor", "typesetter", 1),
                       "utf-8")
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    store, edits, seal = _store_files(tmp_path / "out")
    assert store.exists() and edits.exists() and seal.exists()
    seal.write_text("my notes")                   # a file of the user's with the seal's name
    result = CliRunner().invoke(main, ["clean", str(book), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert not store.exists() and not edits.exists()
    assert seal.read_text() == "my notes"


@pytest.mark.parametrize("settings", [{}, {"chapter_start": "any", "binding": "perfect"}],
                         ids=["recto", "any"])
def test_the_second_half_laid_out_in_a_second_process_gives_the_same_bytes(
        settings, tmp_path, monkeypatch):
    """A cold build lays the book's second half out in a second process meanwhile; its units
    come back numbered from the page the first half ends on, or, when its guess of that
    page's side was wrong, the half is laid out here: the bytes of one process either way."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(ahead, "_LONG", 0)              # the generated book is short
    book = generated_book(tmp_path / "book", chapters=10, **settings)
    came, units_of = [], ahead.Ahead.units
    monkeypatch.setattr(ahead.Ahead, "units",
                        lambda self, *args: came.append(units_of(self, *args)) or came[-1])
    formats = ("pdf", "press")
    build(BuildRequest(book, tmp_path / "two", formats, parallel=True))
    build(BuildRequest(book, tmp_path / "one", formats, parallel=False))
    assert len(came) == 1
    if not settings:                   # chapters open on a recto: the guess is right
        assert len(came[0]) >= 4, came
    for name in ("a-generated-book.pdf", "a-generated-book-press.pdf"):
        assert (tmp_path / "two" / name).read_bytes() == (
            tmp_path / "one" / name).read_bytes(), name


@pytest.mark.parametrize("source", [BOOK, TINY, BOOKS / "rust"], ids=["default", "tiny", "rust"])
def test_the_store_of_a_real_book_is_read_back(source, tmp_path, monkeypatch):
    """Every unit a build keeps is stored and read back (a unit that did not read back
    would make the next build lay the whole book out again, silently): absolutely
    positioned boxes, code, notes, images of the fixture books."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = copy_book(source, tmp_path / "book")
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    store, _ = _slug_files(tmp_path / "out")
    read, loads = [], unitstore.loads
    monkeypatch.setattr(unitstore, "loads", lambda *args: read.append(loads(*args)) or read[-1])
    chapter = book / tomllib.loads((book / "book.toml").read_text("utf-8"))["chapters"][-1]
    chapter.write_text(chapter.read_text("utf-8") + "\n\nOne more line.\n", "utf-8")
    build(BuildRequest(book, tmp_path / "out", ("pdf",)))
    assert len(read) == 1 and read[0] is not None
    assert len(read[0][0]) >= 3, "every unit read back"


#: Run in a new process: a build of the EPUB and the site, and how many font subsets the
#: site made (beyond the repertoire made in advance).
SUBSETS = r"""
import json, sys
from pathlib import Path
from bindery.builder import BuildRequest, build
from bindery.site import fonts
made, woff2 = [], fonts.woff2
fonts.woff2 = lambda *args: made.append(1) or woff2(*args)
build(BuildRequest(Path(sys.argv[1]), Path(sys.argv[2]), ("pdf", "epub", "site")))
print(json.dumps({"subsets": len(made)}))
"""


def test_the_site_s_font_subsets_are_stored_with_the_units(tmp_path):
    """A book whose site shows characters beyond the subsets made in advance (the Rust
    book's code) has its fonts subset once: the next process takes them from the store."""
    book = copy_book(BOOKS / "rust", tmp_path / "book")

    def built() -> int:
        done = subprocess.run([sys.executable, "-c", SUBSETS, str(book), str(tmp_path / "out")],
                              cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])["subsets"]

    assert built() >= 2
    chapter = book / tomllib.loads((book / "book.toml").read_text("utf-8"))["chapters"][0]
    chapter.write_text(chapter.read_text("utf-8") + "\n\nOne more line.\n", "utf-8")
    assert built() == 0
