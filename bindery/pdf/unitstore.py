"""The units a build kept -> bytes the next build, in a new process, takes them back from.

``watch`` keeps each unit's laid-out pages, and what painting them wrote, in memory: after a
one-word edit only the edited chapter is laid out and painted (``units.py``,
``keptpages.py``, ``textruns.py``). A build in a new process began from nothing, and took as
long as the first. Here the units one build kept are pickled (the C pickler: the generated
long book's 248 pages, 54 MB in about 0.3 s; read back in about 0.2 s), after what the
next build wants before its layout (``first``), for the output folder to hold
(``builder/unitstore.py``, which seals them). A build that took units back writes, while
few changed, only those not as the store's base held them, as edits to it (``stored``,
``taken``): after a one-word edit, one chapter (8 MB there) instead of the whole store.

What a unit holds that belongs to the process that laid it out is not written, and is given
back by the process that reads it:

- the font configuration (each ``@font-face`` registered with fontconfig): the next build's,
  once the book's stylesheets are parsed into it (``units.py`` does that first, laying
  the book's document out empty);
- the URL fetcher: the next build's, confined to the book as every fetcher is;
- WeasyPrint's layout context: an SVG image is drawn with the next build's; a unit's own is
  gone, so a unit whose first page moved is laid out again rather than numbered again;
- a colour profile (Pillow's): made again from its bytes; an SVG image without the PDF
  stream it was last drawn on; an absolutely positioned box's placeholder as its box.

The bytes begin with what wrote them, in two lines: Bindery's version, a digest of all its
modules and Python's version; then WeasyPrint's and pydyf's versions and the text libraries
loaded (``header``). Another header is not read.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import io
import os
import pickle
import platform
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .keptpages import painted_kinds, portable, settle

MAGIC = b"bindery-units 2\n"
#: The libraries WeasyPrint lays text out with, by the start of their file names (not
#: those of the same name that Pillow brings with it, loaded when the cover is drawn).
_SHAPING = ("libpango-1.0.so", "libpangoft2-1.0.so", "libharfbuzz.so", "libfontconfig.so",
            "libfreetype.so")
#: What ``_here`` gives back while ``loads`` reads: name -> this process's object.
_GIVEN: dict[str, Any] = {}
#: The units this process took back from a store's base (key -> the unit, and the kinds of
#: PDF its pages kept their painting for): those still the same are not written again.
_BASE: dict[str, tuple] = {}
#: A store's changed units are written as edits to its base while their pages are at most
#: this share of the book's; beyond, the whole store is written again.
EDITS_SHARE = 0.25


@functools.cache
def header() -> bytes:
    """What wrote the bytes, in two lines: the same code (``code_line``), then the same
    libraries (WeasyPrint, pydyf, and the Pango and HarfBuzz that shape the text)."""
    import pydyf
    import weasyprint

    return code_line() + (f"weasyprint {weasyprint.__version__} pydyf {pydyf.__version__} "
                          f"{_libraries()}\n").encode()


@functools.cache
def code_line() -> bytes:
    """The header's first line: Bindery's version and a digest of its code (as the manifest
    records them), and Python's version. What comes before the units needs only this (no
    WeasyPrint)."""
    from ..builder.fingerprint import code_fingerprint

    return MAGIC + (f"bindery {code_fingerprint()} python {sys.version.split()[0]} "
                    f"{platform.machine()}\n").encode()


def _libraries() -> str:
    """The text libraries this process has loaded (Pango, HarfBuzz, fontconfig, FreeType),
    by file, size and time: an upgrade of one changes the header (Linux; elsewhere none)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {path for path in (line.split()[-1] for line in maps)
                     if os.path.basename(path).startswith(_SHAPING)}
    except OSError:
        return ""
    digest = hashlib.sha256()
    for path in sorted(paths):
        status = os.stat(path)
        digest.update(f"{path} {status.st_size} {status.st_mtime_ns}\n".encode())
    return f"libraries {digest.hexdigest()[:16]}"


def stored(kept: dict, numbers: dict, before: Any = None) -> tuple[bytes, bool] | None:
    """The units ``kept`` as bytes for a next process (``dumps``), and whether they are
    edits to the store's base that this process read: only the units not the same as
    there, and the keys of all, while those are few (a one-word edit: one chapter, not the
    book's 54 MB again); else all of them, a new base. None when they cannot be written."""
    changed = {key: unit for key, unit in kept.items() if not _as_in_base(key, unit)}
    if _BASE and _pages(changed) <= EDITS_SHARE * _pages(kept):
        data = dumps(changed, numbers, before, keys=tuple(kept))
        return None if data is None else (data, True)
    data = dumps(kept, numbers, before)
    return None if data is None else (data, False)


def taken(base: bytes, edits: bytes | None, font_config, fetcher,
          context) -> tuple[dict, dict] | None:
    """The units and numbers a store holds: its base's (``dumps``), with its ``edits``
    (``stored``) in place; what comes from the base is remembered (``stored``)."""
    _BASE.clear()
    found = loads(base, font_config, fetcher, context)
    edited = loads(edits, font_config, fetcher, context) if edits is not None else None
    if found is None or (edits is not None and edited is None):
        return None
    kept, numbers, _ = found
    _BASE.update((key, (unit, painted_kinds(unit.document.pages)))
                 for key, unit in kept.items())
    if edited is not None:
        changed, numbers, keys = edited
        kept = {key: changed.get(key) or kept.get(key) for key in keys}
        if not all(kept.values()):
            return None
        for key in changed:
            _BASE.pop(key, None)
    return kept, numbers


def forget() -> None:
    """Let go of what this process took back from a store's base."""
    _BASE.clear()


def _as_in_base(key: str, unit) -> bool:
    """Whether ``unit`` is the one the base holds, its pages' painting kept for the same
    kinds of PDF. (A page painted again, where the PDF meets a font first, keeps what it
    wrote this time; the base's is as good, and the next build checks it before use.)"""
    base = _BASE.get(key)
    return base is not None and base[0] is unit and base[1] == painted_kinds(
        unit.document.pages)


def hyphenation() -> dict:
    """The hyphenation patterns Pyphen read in this process (and the words it hyphenated
    with them), by file, with the file's size and time: Pyphen reads the patterns of a
    language in 0.09 s, unpickled in 0.01 s."""
    pyphen = sys.modules.get("pyphen")
    kept = {}
    for path, patterns in getattr(pyphen, "hdcache", {}).items():
        try:
            status = os.stat(path)
        except OSError:
            continue
        kept[str(path)] = (status.st_size, status.st_mtime_ns, patterns)
    return kept


def hyphenation_again(kept: dict) -> None:
    """Give Pyphen the patterns ``hyphenation`` kept, of the same files."""
    import pyphen

    for path, (size, time, patterns) in kept.items():
        try:
            status = os.stat(path)
        except OSError:
            continue
        if (status.st_size, status.st_mtime_ns) == (size, time):
            pyphen.hdcache.setdefault(Path(path), patterns)


def _pages(units: dict) -> int:
    return sum(len(unit.document.pages) for unit in units.values())


def dumps(kept: dict, numbers: dict, before: Any = None,
          keys: tuple | None = None) -> bytes | None:
    """The units ``kept`` (key -> Unit) and the anchors' ``numbers``, as bytes, after
    ``before`` (plain data a next build wants before its layout: ``first``), with the
    ``keys`` of all units when ``kept`` holds some of them; None when a unit holds what
    cannot be written (no store is better than a wrong one)."""
    import copyreg

    from weasyprint.css import ColorProfile
    from weasyprint.layout import LayoutContext
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.svg import SVG
    from weasyprint.text.fonts import FontConfiguration

    from .fetcher import fetcher_class

    table = copyreg.dispatch_table.copy()
    for kind, name in ((FontConfiguration, "fonts"), (fetcher_class(), "fetcher"),
                       (LayoutContext, "context")):
        table[kind] = functools.partial(_left_out, name)
    table[ColorProfile], table[SVG], table[AbsolutePlaceholder] = _profile, _svg, _absolute
    buffer = io.BytesIO()
    buffer.write(header())
    front = pickle.dumps(before, protocol=pickle.HIGHEST_PROTOCOL)
    buffer.write(len(front).to_bytes(8, "little") + front)   # skipped by ``loads``
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = table
    pages = [page for unit in kept.values() for page in unit.document.pages]
    with _collector_resting(), portable(pages):
        try:
            pickler.dump((kept, numbers, keys))
        except Exception:        # noqa: BLE001 - something of this process's, not to write
            return None
    return buffer.getvalue()


def loads(data: bytes, font_config, fetcher, context) -> tuple[dict, dict, tuple] | None:
    """The units, numbers and keys ``dumps`` wrote, with this process's ``font_config``,
    ``fetcher`` and layout ``context`` in place of those left out; None when the bytes
    were written by other code, or cannot be read."""
    start = header()
    if not data.startswith(start):
        return None
    _GIVEN.update(fonts=font_config, fetcher=fetcher, context=context)
    try:
        with _collector_resting():
            skip = len(start) + 8 + int.from_bytes(data[len(start):len(start) + 8], "little")
            stream = io.BytesIO(memoryview(data)[skip:])     # ``before``: ``first`` reads it
            kept, numbers, keys = pickle.load(stream)
    except Exception:            # noqa: BLE001 - a store that does not read is not used
        return None
    finally:
        _GIVEN.clear()
    for unit in kept.values():
        settle(unit.document.pages)
    return ({key: dataclasses.replace(unit, context=None) for key, unit in kept.items()},
            numbers, keys)


def first(data: bytes) -> Any:
    """What ``dumps`` wrote before the units (None when the bytes were written by other
    code, or cannot be read): read before the layout, without the units, and without
    importing WeasyPrint (a thread imports it meanwhile)."""
    start = code_line()
    if not data.startswith(start) or data.find(b"\n", len(start)) < 0:
        return None
    at = data.index(b"\n", len(start)) + 1
    size = int.from_bytes(data[at:at + 8], "little")
    try:
        with _collector_resting():
            return pickle.loads(memoryview(data)[at + 8:at + 8 + size])
    except Exception:            # noqa: BLE001 - a store that does not read is not used
        return None


@contextmanager
def _collector_resting() -> Iterator[None]:
    """Meanwhile, no garbage collection: pickling and unpickling make millions of objects
    (the pickler's memo, the units' boxes) and no garbage, which the collector would walk."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _left_out(name: str, _obj) -> tuple:
    return _here, (name,)


def _here(name: str):
    return _GIVEN[name]


def _profile(profile) -> tuple:
    return _profile_again, (profile.content, profile.src, profile.rendering_intent,
                            profile.components)


def _svg(svg) -> tuple:
    """An SVG image without the PDF stream it was last drawn on, which WeasyPrint 70.0's
    SVG keeps as its ``stream`` after drawing."""
    state = dict(svg.__dict__)
    state.pop("stream", None)
    return _bare, (type(svg),), state


def _absolute(placeholder) -> tuple:
    """An absolutely positioned box's placeholder, which passes every attribute it does not
    hold to its box (the default pickling would ask it for ``__setstate__`` before it has
    one), as its box and whether it is laid out."""
    return _absolute_again, (placeholder._box, placeholder._layout_done)


def _absolute_again(box, layout_done: bool):
    from weasyprint.layout.absolute import AbsolutePlaceholder

    placeholder = AbsolutePlaceholder(box)
    object.__setattr__(placeholder, "_layout_done", layout_done)
    return placeholder


def _bare(kind):
    return kind.__new__(kind)


def _profile_again(content: bytes, src, rendering_intent, components):
    from weasyprint.css import ColorProfile

    return ColorProfile(io.BytesIO(content), src, rendering_intent, components)
