"""The output folder belongs to Bindery, and only what Bindery made is touched.

Each book has its own manifest (`.bindery-<slug>.json`) beside the one lock (`.bindery.lock`);
nothing in the folder is trusted: a symbolic link is never followed, a manifest that is not
valid is void (never obeyed), a file Bindery did not make is never overwritten or removed;
`clean` removes only what this book made and nobody changed since. Outputs are all written
(and fsynced) before the first is renamed into place, and a build stopped between two
renames is completed by the next. A full disk, a read-only folder or an `--out` that is a
file: exit 1, one line, the old outputs byte for byte.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from bindery.cli import main

from helpers import EPOCH, TINY, copy_book, run_isolated, source_date_epoch

SLUG = "petit-traite"
MANIFEST = f".bindery-{SLUG}.json"
JOURNAL = f".bindery-{SLUG}.journal"
LOCK = ".bindery.lock"
EPUB = f"{SLUG}.epub"
PDF = f"{SLUG}.pdf"
OTHER_IDENTIFIER = "urn:uuid:0b3a5a4e-8f5e-4f55-9c3e-2f9b1c6d7e80"
TINY_IDENTIFIER = "urn:uuid:e55e9c35-16c2-4cec-8404-e8adb36778db"


# -- running Bindery -------------------------------------------------------------------------

def cli(*arguments: str) -> tuple[int, str]:
    """``bindery ARGUMENTS`` in this process: exit status and output (stderr included)."""
    result = CliRunner().invoke(main, [str(argument) for argument in arguments])
    return result.exit_code, result.output


def isolated(*arguments: str, timeout: float = 60, prelude: str = "") -> tuple[int, str]:
    """``bindery ARGUMENTS`` in a second process with a time limit and a memory cap (for
    what would hang or eat memory if Bindery read it). ``prelude`` is Python run first."""
    status, output, _ = run_isolated(arguments, Path.cwd(), timeout, prelude)
    return status, output


def build(book: Path, out: Path, *formats: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    arguments = ["build", book, "--out", out, *extra]
    for fmt in formats or ("epub",):
        arguments += ["--format", fmt]
    return cli(*arguments)


def error_line(status: int, output: str) -> str:
    """The one error line of a clean failure: exit 1, no traceback, no internal error."""
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert status == 1, output
    errors = [line for line in output.split("\n") if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


def ok(status: int, output: str) -> str:
    assert "Traceback" not in output and "internal error" not in output, output
    assert status == 0, output
    return output


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outputs_of(out: Path, *names: str) -> dict[str, bytes | None]:
    """The bytes of these files of the output folder (None: absent)."""
    return {name: (out / name).read_bytes() if (out / name).is_file() else None
            for name in names}


def consistent(out: Path, manifest: str = MANIFEST) -> dict:
    """The manifest, after checking that every output it records is on disk with its sha256."""
    path = out / manifest
    assert path.is_file() and not path.is_symlink(), path      # not a pipe, not a link
    data = json.loads(path.read_bytes())
    assert data["outputs"], data
    for fmt, record in data["outputs"].items():
        assert sha256(out / record["file"]) == record["sha256"], fmt
    return data


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def other_book(target: Path, slug: str | None = "autre-livre",
               identifier: str = OTHER_IDENTIFIER) -> Path:
    """A second book: the tiny book with its own identifier (and slug, and title)."""
    book = copy_book(TINY, target)
    edit(book / "book.toml", TINY_IDENTIFIER, identifier)
    edit(book / "book.toml", 'title = "Petit traité', 'title = "Autre traité')
    if slug is not None:
        edit(book / "book.toml", f'slug = "{SLUG}"', f'slug = "{slug}"')
    return book


@pytest.fixture(autouse=True)
def _workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The tiny book's EPUB, built once into a folder the tests copy."""
    out = tmp_path_factory.mktemp("built") / "out"
    with source_date_epoch(EPOCH):
        ok(*build(TINY, out))
    return out


@pytest.fixture
def out(tmp_path, built) -> Path:
    """A private copy of the good output folder (the tiny book's EPUB and its manifest)."""
    return Path(shutil.copytree(built, tmp_path / "out", symlinks=True))


# -- one manifest per book -------------------------------------------------------------------

def test_each_book_has_its_own_manifest(out):
    assert (out / MANIFEST).is_file()
    assert not (out / ".bindery-manifest.json").exists()
    data = json.loads((out / MANIFEST).read_bytes())
    assert data["outputs"]["epub"]["file"] == EPUB
    assert data["outputs"]["epub"]["sha256"] == sha256(out / EPUB)


def test_the_default_book_has_its_own_manifest(default_book):
    assert (default_book.out / ".bindery-isis-run.json").is_file()
    assert not (default_book.out / ".bindery-manifest.json").exists()


# -- the lock --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["build", "clean"])
@pytest.mark.parametrize("target_exists", [True, False], ids=["to a file", "dangling"])
def test_a_lock_that_is_a_symbolic_link_is_refused(command, target_exists, out, tmp_path):
    target = tmp_path / "precious.txt"
    if target_exists:
        target.write_bytes(b"precious data, not to be truncated\n" * 10)
    (out / LOCK).unlink(missing_ok=True)
    os.symlink(target, out / LOCK)
    before = outputs_of(out, EPUB, MANIFEST)
    if command == "build":
        result = build(TINY, out, extra=("--force",))
    else:
        result = cli("clean", TINY, "--out", out)
    line = error_line(*result)
    assert ".bindery.lock" in line and "symbolic link" in line, line
    if target_exists:
        assert target.read_bytes() == b"precious data, not to be truncated\n" * 10
    else:
        assert not target.exists() and not target.is_symlink()
    assert outputs_of(out, EPUB, MANIFEST) == before


# -- hostile manifests -----------------------------------------------------------------------

def _real_manifest(built: Path) -> dict:
    return json.loads((built / MANIFEST).read_bytes())


def _with_output(manifest: dict, fmt: str, name: str, digest: str) -> dict:
    manifest = json.loads(json.dumps(manifest))
    record = dict(manifest["outputs"].get("epub", {}))
    record.update(file=name, sha256=digest)
    manifest["outputs"][fmt] = record
    return manifest


class Scene:
    """An output folder with a hostile manifest, and the files it aims at."""

    def __init__(self, tmp_path: Path, out: Path, built: Path):
        self.tmp, self.out, self.built = tmp_path, out, built
        self.victims: dict[Path, bytes] = {}
        self.book = copy_book(TINY, tmp_path / "book")

    def victim(self, path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.victims[path] = data
        return hashlib.sha256(data).hexdigest()

    def fifo(self, path: Path) -> Path:
        os.mkfifo(path)
        return path

    def write(self, manifest: dict | bytes) -> None:
        data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        (self.out / MANIFEST).unlink(missing_ok=True)
        (self.out / MANIFEST).write_bytes(data)

    def check_victims(self) -> None:
        for path, data in self.victims.items():
            assert path.is_file() and not path.is_symlink(), f"{path} was removed"
            assert path.read_bytes() == data, f"{path} was changed"


def _not_json(s: Scene):
    s.write(b"{ this is not JSON")


def _random_bytes(s: Scene):
    s.write(bytes(random.Random(11).randrange(256) for _ in range(4096)))


def _a_list(s: Scene):
    s.write(b"[1, 2, 3]")


def _wrong_types(s: Scene):
    s.write({"format": 1, "outputs": {"epub": "petit-traite.epub", "pdf": [1, 2]},
             "images": {"a": 1}, "common": [], "page_starts": "x", "warnings": 5,
             "notes": None})


def _absolute_output(s: Scene):
    digest = s.victim(s.tmp / "victim.epub", b"the user's own EPUB, outside the folder")
    s.write(_with_output(_real_manifest(s.built), "epub", str(s.tmp / "victim.epub"), digest))


def _climbing_output(s: Scene):
    digest = s.victim(s.tmp / "victim.epub", b"the user's own EPUB, beside the folder")
    s.write(_with_output(_real_manifest(s.built), "epub", "../victim.epub", digest))


def _output_in_a_subfolder(s: Scene):
    digest = s.victim(s.out / "sub" / EPUB, b"an EPUB in a subfolder of the output folder")
    s.write(_with_output(_real_manifest(s.built), "epub", f"sub/{EPUB}", digest))


def _output_of_another_name(s: Scene):
    digest = s.victim(s.out / "notes.txt", b"the user's notes, in the output folder")
    s.write(_with_output(_real_manifest(s.built), "epub", "notes.txt", digest))


def _pdf_record_naming_another_file(s: Scene):
    digest = s.victim(s.out / "book.pdf", b"%PDF-1.7 a PDF of the user's")
    s.write(_with_output(_real_manifest(s.built), "pdf", "book.pdf", digest))


def _image_dev_zero(s: Scene):
    manifest = _real_manifest(s.built)
    manifest["images"] = ["/dev/zero"]
    s.write(manifest)


def _image_climbing_to_a_pipe(s: Scene):
    s.fifo(s.tmp / "pipe")                  # the book is tmp/book: ../pipe is tmp/pipe
    manifest = _real_manifest(s.built)
    manifest["images"] = ["../pipe", "images/../../pipe"]
    s.write(manifest)


def _image_absolute_pipe(s: Scene):
    manifest = _real_manifest(s.built)
    manifest["images"] = [str(s.fifo(s.tmp / "pipe"))]
    s.write(manifest)


def _manifest_link(s: Scene):
    digest = s.victim(s.tmp / "victim.epub", b"the user's own EPUB, outside the folder")
    elsewhere = s.tmp / "elsewhere.json"
    data = json.dumps(_with_output(_real_manifest(s.built), "epub", "../victim.epub",
                                   digest)).encode()
    s.victim(elsewhere, data)
    (s.out / MANIFEST).unlink()
    os.symlink(elsewhere, s.out / MANIFEST)


def _manifest_pipe(s: Scene):
    (s.out / MANIFEST).unlink()
    os.mkfifo(s.out / MANIFEST)


HOSTILE = {
    "not JSON": (_not_json, False),
    "random bytes": (_random_bytes, False),
    "a JSON list": (_a_list, False),
    "wrong types": (_wrong_types, False),
    "absolute output file": (_absolute_output, False),
    "output file climbing out": (_climbing_output, False),
    "output file in a subfolder": (_output_in_a_subfolder, False),
    "output file of another name": (_output_of_another_name, False),
    "pdf record naming another file": (_pdf_record_naming_another_file, False),
    "image /dev/zero": (_image_dev_zero, True),
    "image climbing out to a pipe": (_image_climbing_to_a_pipe, True),
    "image that is an absolute pipe": (_image_absolute_pipe, True),
    "manifest that is a symbolic link": (_manifest_link, False),
    "manifest that is a pipe": (_manifest_pipe, True),
}


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_a_hostile_manifest_is_void_for_build(hostile, tmp_path, out, built):
    """The build never obeys it: it rebuilds (exit 0), reads and removes nothing it names."""
    scene = Scene(tmp_path, out, built)
    (out / EPUB).unlink()                # no old output: nothing is in the way of the rebuild
    setup, risky = HOSTILE[hostile]
    setup(scene)
    arguments = ("build", scene.book, "--out", out, "--format", "epub")
    status, output = isolated(*arguments) if risky else cli(*arguments)
    if hostile == "manifest that is a pipe":
        assert status in (0, 1) and "Traceback" not in output, output
        if status == 1:
            error_line(status, output)
            scene.check_victims()
            return
    ok(status, output)
    scene.check_victims()
    assert zipfile.is_zipfile(out / EPUB)
    assert not (out / MANIFEST).is_symlink()
    consistent(out)


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_a_hostile_manifest_is_void_for_clean(hostile, tmp_path, out, built):
    """`clean` removes nothing a void manifest names, and reads none of its images."""
    scene = Scene(tmp_path, out, built)
    setup, risky = HOSTILE[hostile]
    setup(scene)
    arguments = ("clean", scene.book, "--out", out)
    status, output = isolated(*arguments) if risky else cli(*arguments)
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    if status == 1:
        error_line(status, output)
    scene.check_victims()


def test_a_corrupt_manifest_alone_is_rebuilt(out):
    (out / EPUB).unlink()
    (out / MANIFEST).write_bytes(bytes(random.Random(3).randrange(256) for _ in range(512)))
    ok(*build(TINY, out))
    consistent(out)


def test_a_corrupt_manifest_beside_old_outputs(out):
    """The outputs are no longer known to be Bindery's: rebuilt, or refused as files in the
    way; never an internal error."""
    (out / MANIFEST).write_bytes(bytes(random.Random(4).randrange(256) for _ in range(512)))
    epub = (out / EPUB).read_bytes()
    status, output = build(TINY, out)
    assert "Traceback" not in output and "internal error" not in output, output
    if status == 1:
        assert "did not make" in error_line(status, output)
        assert (out / EPUB).read_bytes() == epub
    else:
        ok(status, output)
        consistent(out)


# -- the journal is an input like the manifest ---------------------------------------------

def test_a_journal_that_is_a_symbolic_link_is_not_followed(out, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_bytes(b"precious\n")
    os.symlink(target, out / JOURNAL)
    status, output = build(TINY, out, extra=("--force",))
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    assert target.read_bytes() == b"precious\n"
    if status == 0:
        consistent(out)


@pytest.mark.parametrize("journal", ["json", "lines", "garbage"])
def test_a_hostile_journal_moves_nothing_from_outside(journal, out, tmp_path):
    victim = tmp_path / "victim.epub"
    victim.write_bytes(b"the user's EPUB")
    inside = out / "notes.txt"
    inside.write_bytes(b"the user's notes")
    renames = [[str(victim), EPUB], ["../victim.epub", EPUB], ["notes.txt", EPUB],
               [EPUB, str(tmp_path / "moved.epub")]]
    data = {"json": json.dumps({"renames": renames, "slug": SLUG}).encode(),
            "lines": "".join(f"{a}\t{b}\n{a} -> {b}\n" for a, b in renames).encode(),
            "garbage": bytes(random.Random(5).randrange(256) for _ in range(300))}[journal]
    (out / JOURNAL).write_bytes(data)
    status, output = build(TINY, out, extra=("--force",))
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    assert victim.read_bytes() == b"the user's EPUB"
    assert inside.read_bytes() == b"the user's notes"
    assert not (tmp_path / "moved.epub").exists()
    if status == 0:
        consistent(out)


# -- files in the way ------------------------------------------------------------------------

def _in_the_way(status, output, name: str) -> None:
    line = error_line(status, output)
    assert "did not make" in line and name in line, line


def test_a_file_bindery_did_not_make_is_not_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / EPUB).write_bytes(b"the user's own EPUB")
    _in_the_way(*build(TINY, out), EPUB)
    assert (out / EPUB).read_bytes() == b"the user's own EPUB"


def test_a_file_in_the_way_of_one_output_stops_all(out):
    (out / PDF).write_bytes(b"%PDF- the user's own")
    before = outputs_of(out, EPUB, MANIFEST)
    _in_the_way(*build(TINY, out, "epub", "pdf", extra=("--force",)), PDF)
    assert (out / PDF).read_bytes() == b"%PDF- the user's own"
    assert outputs_of(out, EPUB, MANIFEST) == before


def test_an_output_changed_since_the_build_is_not_overwritten(out):
    (out / EPUB).write_bytes(b"edited by the user")
    _in_the_way(*build(TINY, out), EPUB)
    assert (out / EPUB).read_bytes() == b"edited by the user"


@pytest.mark.parametrize("dangling", [False, True], ids=["to a copy", "dangling"])
def test_an_output_that_is_a_symbolic_link_is_not_followed(dangling, out, tmp_path):
    target = tmp_path / "elsewhere.epub"
    if not dangling:
        shutil.copy(out / EPUB, target)        # even its checksum is the manifest's
    data = target.read_bytes() if not dangling else None
    (out / EPUB).unlink()
    os.symlink(target, out / EPUB)
    _in_the_way(*build(TINY, out, extra=("--force",)), EPUB)
    assert (out / EPUB).is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == data


def test_an_output_that_is_a_folder_is_not_touched(tmp_path):
    out = tmp_path / "out"
    (out / EPUB).mkdir(parents=True)
    (out / EPUB / "inside.txt").write_bytes(b"kept")
    status, output = build(TINY, out)
    error_line(status, output)
    assert (out / EPUB / "inside.txt").read_bytes() == b"kept"


# -- two books, one folder -------------------------------------------------------------------

def test_two_books_share_a_folder(tmp_path):
    out = tmp_path / "out"
    a = copy_book(TINY, tmp_path / "a")
    b = other_book(tmp_path / "b")
    ok(*build(a, out))
    ok(*build(b, out))
    assert (out / MANIFEST).is_file() and (out / ".bindery-autre-livre.json").is_file()
    assert (out / EPUB).is_file() and (out / "autre-livre.epub").is_file()
    # each book's rebuild sees its own manifest
    again = ok(*build(a, out))
    assert "unchanged" in again and "KiB" not in again, again
    theirs = outputs_of(out, "autre-livre.epub", ".bindery-autre-livre.json")
    ok(*cli("clean", a, "--out", out))
    assert not (out / EPUB).exists() and not (out / MANIFEST).exists()
    assert outputs_of(out, "autre-livre.epub", ".bindery-autre-livre.json") == theirs
    assert (out / LOCK).exists()                       # another book's manifest remains
    rebuilt = ok(*build(b, out))
    assert "unchanged" in rebuilt and "KiB" not in rebuilt, rebuilt
    assert outputs_of(out, "autre-livre.epub", ".bindery-autre-livre.json") == theirs


def test_two_books_with_one_slug_do_not_overwrite_each_other(tmp_path):
    out = tmp_path / "out"
    ok(*build(TINY, out))
    before = outputs_of(out, EPUB, MANIFEST)
    twin = other_book(tmp_path / "twin", slug=None)
    line = error_line(*build(twin, out))
    assert "another book" in line, line
    assert outputs_of(out, EPUB, MANIFEST) == before
    ok_again = ok(*build(TINY, out))
    assert "unchanged" in ok_again, ok_again


# -- clean -----------------------------------------------------------------------------------

def test_clean_removes_the_book_and_the_folder_it_leaves_empty(out):
    ok(*cli("clean", TINY, "--out", out))
    assert not out.exists()


def test_clean_keeps_an_output_changed_since(tmp_path):
    out = tmp_path / "out"
    ok(*build(TINY, out, "epub", "pdf"))
    with open(out / PDF, "ab") as handle:
        handle.write(b"\n% the user's annotation\n")
    changed = (out / PDF).read_bytes()
    output = ok(*cli("clean", TINY, "--out", out))
    assert not (out / EPUB).exists()
    assert (out / PDF).read_bytes() == changed
    assert any("kept" in line and PDF in line for line in output.split("\n")), output


def test_clean_keeps_the_users_files(out):
    (out / "notes.txt").write_bytes(b"mine")
    ok(*cli("clean", TINY, "--out", out))
    assert (out / "notes.txt").read_bytes() == b"mine"
    assert not (out / EPUB).exists() and not (out / MANIFEST).exists()
    assert not (out / LOCK).exists()                   # no other book's manifest remains


def test_clean_does_not_follow_an_output_link(out, tmp_path):
    target = tmp_path / "elsewhere.epub"
    shutil.copy(out / EPUB, target)                    # its checksum is the manifest's
    data = target.read_bytes()
    (out / EPUB).unlink()
    os.symlink(target, out / EPUB)
    status, output = cli("clean", TINY, "--out", out)
    assert "Traceback" not in output and status in (0, 1), output
    assert target.read_bytes() == data


# -- all or nothing --------------------------------------------------------------------------

@contextmanager
def renames_fail_at(call: int):
    """``os.replace`` and ``os.rename`` raise ENOSPC at their ``call``-th call (counted
    together) while the context lasts."""
    real = {"replace": os.replace, "rename": os.rename}
    count = [0]

    def wrap(name):
        def rename(*args, **kwargs):
            count[0] += 1
            if count[0] == call:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[-1]))
            return real[name](*args, **kwargs)
        return rename

    os.replace, os.rename = wrap("replace"), wrap("rename")
    try:
        yield count
    finally:
        os.replace, os.rename = real["replace"], real["rename"]


def _second_edition(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A book built (epub and pdf) into out, then edited: the reference outputs of the edit,
    built into a folder of their own."""
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    ok(*build(book, out, "epub", "pdf"))
    edit(book / "chapitres" / "annexe.md", "un paragraphe.", "un paragraphe, revu.")
    reference = tmp_path / "reference"
    ok(*build(book, reference, "epub", "pdf"))
    return book, out, outputs_of(reference, EPUB, PDF)


def _reference_counts_as_built(out: Path, expected: dict) -> None:
    consistent(out)
    assert outputs_of(out, EPUB, PDF) == expected
    assert not list(out.glob(".*.tmp"))
    assert not (out / JOURNAL).exists()


def test_every_output_is_written_and_fsynced_before_the_first_rename(tmp_path):
    """No output is renamed into place until every new output is whole on the disk."""
    book, out, expected = _second_edition(tmp_path)
    synced: set[str] = set()
    renames: list[tuple[str, str, frozenset]] = []
    real = {name: getattr(os, name) for name in ("fsync", "fdatasync", "replace", "rename")}

    def sync(name):
        def wrapper(fd):
            try:
                synced.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
            return real[name](fd)
        return wrapper

    def rename(name):
        def wrapper(source, target, *args, **kwargs):
            renames.append((os.path.abspath(source), os.path.abspath(target),
                            frozenset(synced)))
            return real[name](source, target, *args, **kwargs)
        return wrapper

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("no /proc/self/fd to see which file an fsync is for")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("fsync", "fdatasync"):
            patch.setattr(os, name, sync(name))
        for name in ("replace", "rename"):
            patch.setattr(os, name, rename(name))
        ok(*build(book, out, "epub", "pdf"))
    outputs = [(source, target, before) for source, target, before in renames
               if Path(target).name in (EPUB, PDF)]
    assert {Path(target).name for _, target, _ in outputs} == {EPUB, PDF}, renames
    first = outputs[0][2]
    for source, target, _ in outputs:
        assert source in first, f"{source} (for {Path(target).name}) was not fsynced " \
                                f"before the first output was renamed into place"
    assert outputs_of(out, EPUB, PDF) == expected


@pytest.mark.parametrize("call", [1, 2, 3])
def test_a_build_that_fails_between_renames_is_completed_by_the_next(call, tmp_path):
    book, out, expected = _second_edition(tmp_path)
    old = outputs_of(out, EPUB, PDF, MANIFEST)
    with renames_fail_at(call) as count:
        status, output = build(book, out, "epub", "pdf")
    assert count[0] >= call, f"only {count[0]} renames: the failure was never injected"
    error_line(status, output)
    if call == 1:
        assert outputs_of(out, EPUB, PDF, MANIFEST) == old     # nothing was renamed yet
    ok(*build(book, out, "epub", "pdf"))
    _reference_counts_as_built(out, expected)


def test_a_build_killed_between_renames_is_completed_by_the_next(tmp_path):
    book, out, expected = _second_edition(tmp_path)
    prelude = ("import os, signal\n"
               "_calls = [0]\n"
               "def _wrap(real):\n"
               "    def rename(*args, **kwargs):\n"
               "        _calls[0] += 1\n"
               "        if _calls[0] == 2:\n"
               "            os.kill(os.getpid(), signal.SIGKILL)\n"
               "        return real(*args, **kwargs)\n"
               "    return rename\n"
               "os.replace, os.rename = _wrap(os.replace), _wrap(os.rename)\n")
    status, output = isolated("build", book, "--out", out, "--format", "epub", "--format",
                              "pdf", prelude=prelude)
    assert status == -signal.SIGKILL, output
    ok(*build(book, out, "epub", "pdf"))
    _reference_counts_as_built(out, expected)


# -- a full disk, a read-only folder, an --out that is a file -------------------------------

def _mount(*arguments: str) -> None:
    subprocess.run(["mount", *arguments], check=True, capture_output=True, timeout=30)


@contextmanager
def tmpfs(path: Path, options: str):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", options, "tmpfs", str(path))
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot mount a tmpfs here: {error}")
    try:
        yield path
    finally:
        result = subprocess.run(["umount", str(path)], capture_output=True, timeout=30)
        if result.returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def _free(path: Path) -> int:
    status = os.statvfs(path)
    return status.f_bavail * status.f_frsize


def test_a_full_disk_leaves_the_old_outputs(tmp_path):
    with tmpfs(tmp_path / "disk", "size=1M") as disk:
        out = disk / "out"
        ok(*build(TINY, out, "epub", "pdf"))
        before = outputs_of(out, EPUB, PDF, MANIFEST)
        needed = sum(len(data) for data in before.values() if data)
        filler = disk / "filler"
        with open(filler, "wb") as handle:     # leave room for about half of a new build
            handle.write(b"\0" * max(0, _free(disk) - needed // 2))
        assert _free(disk) < needed
        status, output = build(TINY, out, "epub", "pdf", extra=("--force",))
        line = error_line(status, output)
        assert "No space left" in line or "cannot write" in line, line
        assert outputs_of(out, EPUB, PDF, MANIFEST) == before
        assert not list(out.glob(".*.tmp"))
        filler.unlink()
        ok(*build(TINY, out, "epub", "pdf", extra=("--force",)))
        consistent(out)


def test_a_read_only_folder_leaves_the_old_outputs(tmp_path):
    if os.geteuid() == 0:
        with tmpfs(tmp_path / "disk", "size=8M") as disk:
            out = disk / "out"
            ok(*build(TINY, out, "epub"))
            before = outputs_of(out, EPUB, MANIFEST)
            _mount("-o", "remount,ro", str(disk))
            try:
                status, output = build(TINY, out, "epub", extra=("--force",))
            finally:
                _mount("-o", "remount,rw", str(disk))
            error_line(status, output)
            assert outputs_of(out, EPUB, MANIFEST) == before
    else:
        out = tmp_path / "out"
        ok(*build(TINY, out, "epub"))
        before = outputs_of(out, EPUB, MANIFEST)
        out.chmod(0o555)
        try:
            status, output = build(TINY, out, "epub", extra=("--force",))
        finally:
            out.chmod(0o755)
        error_line(status, output)
        assert outputs_of(out, EPUB, MANIFEST) == before


@pytest.mark.parametrize("below", ["", "sub"], ids=["the folder", "a folder inside"])
def test_an_empty_read_only_folder(below, tmp_path):
    if os.geteuid() == 0:
        context = tmpfs(tmp_path / "ro", "ro,size=1M")
    else:
        @contextmanager
        def context_manager():
            folder = tmp_path / "ro"
            folder.mkdir()
            folder.chmod(0o555)
            try:
                yield folder
            finally:
                folder.chmod(0o755)
        context = context_manager()
    with context as folder:
        error_line(*build(TINY, folder / below if below else folder))


@pytest.mark.parametrize("below", ["", "sub"], ids=["a file", "a folder inside a file"])
def test_out_that_is_a_file(below, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a folder")
    error_line(*build(TINY, path / below if below else path))
    assert path.read_bytes() == b"not a folder"
    status, output = cli("clean", TINY, "--out", path)
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    assert path.read_bytes() == b"not a folder"


# -- an output that is a folder: the site ----------------------------------------------------

SITE = f"{SLUG}-site"


def _site_files(out: Path) -> dict[str, bytes]:
    return {path.relative_to(out / SITE).as_posix(): path.read_bytes()
            for path in sorted((out / SITE).rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def with_site(tmp_path_factory) -> Path:
    """The tiny book's EPUB and site, built once into a folder the tests copy."""
    out = tmp_path_factory.mktemp("site") / "out"
    with source_date_epoch(EPOCH):
        ok(*build(TINY, out, "epub", "site"))
    return out


@pytest.fixture
def site_out(tmp_path, with_site) -> Path:
    return Path(shutil.copytree(with_site, tmp_path / "out", symlinks=True))


def test_a_rebuilt_site_replaces_the_folder_bindery_made(site_out, tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    edit(book / "chapitres" / "un.md", "petit livre", "grand livre")
    before = _site_files(site_out)
    ok(*build(book, site_out, "epub", "site"))
    after = _site_files(site_out)
    assert after != before and b"grand livre" in after["read/un.html"]
    assert not [path for path in site_out.iterdir() if path.name.endswith(".tmp")]


def test_a_site_file_changed_since_the_build_keeps_the_folder(site_out, tmp_path):
    page = site_out / SITE / "index.html"
    page.write_bytes(page.read_bytes() + b"<!-- the user's analytics -->")
    before = _site_files(site_out)
    book = copy_book(TINY, tmp_path / "book")
    edit(book / "chapitres" / "un.md", "petit livre", "grand livre")
    _in_the_way(*build(book, site_out, "epub", "site"), SITE)
    assert _site_files(site_out) == before
    output = ok(*cli("clean", TINY, "--out", site_out))
    assert _site_files(site_out) == before
    assert any("kept" in line and SITE in line for line in output.split("\n")), output


def test_a_folder_bindery_did_not_make_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    (out / SITE).mkdir(parents=True)
    (out / SITE / "index.html").write_bytes(b"<p>the user's own page</p>")
    _in_the_way(*build(TINY, out, "epub", "site"), SITE)
    assert (out / SITE / "index.html").read_bytes() == b"<p>the user's own page</p>"


def test_a_link_inside_the_site_folder_makes_it_not_ours(site_out, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not Bindery's")
    os.symlink(outside, site_out / SITE / "link.txt")
    output = ok(*cli("clean", TINY, "--out", site_out))
    assert (site_out / SITE / "link.txt").is_symlink() and outside.read_bytes() == b"not Bindery's"
    assert any("kept" in line and SITE in line for line in output.split("\n")), output


def test_a_desktops_files_in_the_site_folder_count_for_nothing(site_out, tmp_path):
    """Opening the site in Finder leaves .DS_Store files: the site is still Bindery's, a
    no-op build leaves it, a rebuild keeps them where their folders still are, and clean
    removes the folder with them."""
    for place in (site_out / SITE, site_out / SITE / "read"):
        (place / ".DS_Store").write_bytes(b"Finder's view of " + place.name.encode())
    (site_out / SITE / "._index.html").write_bytes(b"AppleDouble")
    status, output = build(TINY, site_out, "epub", "site")
    assert "built" not in ok(status, output)                     # nothing to do
    book = copy_book(TINY, tmp_path / "book")
    edit(book / "chapitres" / "un.md", "petit livre", "grand livre")
    ok(*build(book, site_out, "epub", "site"))
    assert b"grand livre" in (site_out / SITE / "read" / "un.html").read_bytes()
    assert (site_out / SITE / "read" / ".DS_Store").read_bytes() == b"Finder's view of read"
    assert (site_out / SITE / ".DS_Store").is_file()
    assert (site_out / SITE / "._index.html").is_file()
    assert not [path for path in site_out.iterdir() if path.name.endswith(".tmp")]
    ok(*cli("clean", book, "--out", site_out))
    assert not site_out.exists()
    ok(*build(book, site_out, "epub", "site"))                  # and builds again


def test_clean_removes_the_site_folder(site_out):
    ok(*cli("clean", TINY, "--out", site_out))
    assert not site_out.exists()


def test_a_users_folder_named_like_a_temporary_one_is_kept(site_out):
    """The next build removes the temporary files a stopped build left, and a folder
    output's temporary folders; not a folder of the user's that happens to look like one."""
    mine = site_out / ".drafts.2024.tmp"
    mine.mkdir()
    (mine / "notes.txt").write_bytes(b"mine")
    ok(*build(TINY, site_out, "epub", "site", extra=("--force",)))
    assert (mine / "notes.txt").read_bytes() == b"mine"
