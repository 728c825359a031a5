"""Installed from a wheel, anywhere, Bindery builds a book exactly as it does from a checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import BOOK, EPOCH, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from this checkout, as `pip wheel` (and so a user) builds it."""
    folder = tmp_path_factory.mktemp("wheel")
    # From a copy of what the wheel is made of: setuptools writes `build/` and `*.egg-info`
    # into the tree it builds, and the suite's workers each build this fixture at once.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("bindery", "templates", "styles"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(folder), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (found,) = folder.glob("bindery-*.whl")
    return found


def test_the_wheel_carries_the_templates_styles_and_fonts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, source in (("bindery/templates", ROOT / "templates"),
                           ("bindery/styles", ROOT / "styles")):
        for path in source.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"{folder}/{path.relative_to(source).as_posix()}" in names
    assert "bindery/check/EpubCheckBatch.java" in names
    assert not any(name.startswith(("templates/", "styles/", "tests/")) for name in names)


def test_a_wheel_in_a_fresh_venv_builds_the_same_bytes(wheel, default_book, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    book = shutil.copytree(BOOK, tmp_path / "somebody" / "mybook")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["SOURCE_DATE_EPOCH"] = EPOCH
    done = subprocess.run([str(venv / "bin" / "bindery"), "build", str(book), "--out", "out"],
                          cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # The installed package, not this checkout, made them.
    where = subprocess.run([str(python), "-c", "import bindery.resources as r; "
                            "print(r.TEMPLATES)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    for fmt in ("epub", "pdf", "press", "booklet"):
        built = elsewhere / "out" / default_book[fmt].name
        assert built.read_bytes() == default_book[fmt].read_bytes(), fmt
