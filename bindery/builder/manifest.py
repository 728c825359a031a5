"""The build manifest: what the last successful build of one book made, from which sources.

It lives in the output folder as ``.bindery-<slug>.json``, one per book, so several books
can share a folder. Each output records the fingerprints of everything it was made from and
the checksum of its file. A manifest is read like any other input: anything that does not
match the schema (a file name that is not the output's own, a path that leaves the book)
makes it void, never obeyed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..paths import relative_name_ok
from .fingerprint import Identity, Inputs
from .outputs import OUTPUTS

FORMAT_VERSION = 2
#: What Bindery 0.1 wrote, one per folder; read only to know which files it made.
LEGACY_NAME = ".bindery-manifest.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def manifest_name(slug: str) -> str:
    return f".bindery-{slug}.json"


#: How a stamp begins (its keys are sorted): a file that does not is not replaced.
STAMP_START = b'{"book": '


def stamp_name(slug: str) -> str:
    """The stamp of a build that found nothing to do (``quick.py``)."""
    return f".bindery-{slug}.stamp"


def store_names(slug: str) -> dict[str, bytes]:
    """The files of a book's stored units (``unitstore.py``), each with how it begins: the
    units, the edits to them since, and the seal that says this user's Bindery wrote them."""
    return {f".bindery-{slug}.units": b"bindery-units ", f".bindery-{slug}.edits":
            b"bindery-units ", f".bindery-{slug}.seal": b'{"seal": '}


def own_files(slug: str) -> dict[str, bytes]:
    """The files Bindery keeps for a book besides its outputs and manifest, each with how
    it begins: a file of that name that does not is not Bindery's (``clean`` leaves it)."""
    return {stamp_name(slug): STAMP_START, **store_names(slug)}


@dataclass
class Manifest:
    """What the last successful build of a book made, from what."""

    identity: Identity
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    common: dict[str, str] = field(default_factory=dict)   # inputs of the last layout
    page_starts: list[list[Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    # The book's files read beyond the folders the fingerprint lists: those code blocks
    # included, and those the layout read (a stylesheet's picture); an output's own (the
    # cover wrap's template's) are in its record's ``read``.
    includes: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    layout_warnings: list[str] = field(default_factory=list)   # the last layout's
    notes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes, slug: str) -> "Manifest | None":
        """The manifest of the book ``slug`` in ``data``; None when it is not one that
        Bindery wrote for that slug (void: ignored, never obeyed)."""
        try:
            fields = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            return None
        if not isinstance(fields, dict):
            return None
        if fields.get("format") == 1:
            return _legacy(fields, slug)
        if fields.get("format") != FORMAT_VERSION or fields.get("slug") != slug:
            return None
        identifier = fields.get("identifier")
        manifest = cls(Identity(slug, identifier if isinstance(identifier, str) else ""),
                       outputs=fields.get("outputs"), common=fields.get("common"),
                       page_starts=fields.get("page_starts"), images=fields.get("images"),
                       includes=fields.get("includes", []), read=fields.get("read", []),
                       warnings=fields.get("warnings"), notes=fields.get("notes"),
                       layout_warnings=fields.get("layout_warnings", []))
        return manifest if manifest.valid() else None

    def valid(self) -> bool:
        """Whether every field has the shape Bindery writes."""
        if not (self.identity.identifier and _strings(self.common) and _strings(self.notes)
                and isinstance(self.outputs, dict) and _texts(self.warnings)
                and _texts(self.layout_warnings)
                and _names(self.images) and _names(self.includes) and _names(self.read)
                and isinstance(self.page_starts, list)):
            return False
        for fmt, record in self.outputs.items():
            if fmt not in OUTPUTS or not isinstance(record, dict):
                return False
            if record.get("file") != OUTPUTS[fmt].file_name(self.identity.slug):
                return False
            if not (isinstance(record.get("sha256"), str) and _SHA256.match(record["sha256"])
                    and _strings(record.get("inputs"))
                    and isinstance(record.get("pages", 0), int)
                    and _texts(record.get("warnings", []))
                    and _names(record.get("read", []))):
                return False
        return all(isinstance(start, list) and len(start) == 4
                   and isinstance(start[0], int) and isinstance(start[1], str)
                   and isinstance(start[2], int) and isinstance(start[3], str)
                   for start in self.page_starts)

    def serialise(self) -> bytes:
        return json.dumps({"format": FORMAT_VERSION, "bindery": __version__,
                           "slug": self.identity.slug, "identifier": self.identity.identifier,
                           "outputs": self.outputs, "common": self.common,
                           "page_starts": self.page_starts, "images": self.images,
                           "includes": self.includes, "read": self.read,
                           "warnings": self.warnings, "notes": self.notes,
                           "layout_warnings": self.layout_warnings},
                          indent=1, sort_keys=True).encode()

    def standing(self, formats) -> list[str]:
        """The warnings the outputs of ``formats`` on disk were made with, said again while
        those outputs stand: each one's own, and the last layout's for the print outputs
        (the PDFs, the booklet imposed from one, the wrap), not for the e-books."""
        formats = list(formats)
        printed = any(OUTPUTS[fmt].layout or OUTPUTS[fmt].reads == "pdf" for fmt in formats)
        found = list(self.layout_warnings) if printed else []
        for fmt in formats:
            found += self.outputs.get(fmt, {}).get("warnings", [])
        return list(dict.fromkeys(found))

    def said_for(self, formats) -> list[str]:
        """The last build's warnings that concern ``formats``: the book's own (its settings
        and chapters), and those the outputs of ``formats`` stand with."""
        theirs = set(self.layout_warnings) | {warning for record in self.outputs.values()
                                              for warning in record.get("warnings", [])}
        return list(dict.fromkeys([warning for warning in self.warnings
                                   if warning not in theirs] + self.standing(formats)))

    def recorded(self, fmt: str, inputs: Inputs) -> bool:
        """Whether the output ``fmt`` was last made from exactly these inputs."""
        record = self.outputs.get(fmt)
        return record is not None and record.get("inputs") == inputs.of(fmt)

    def layout_reusable(self, inputs: Inputs) -> bool:
        """Whether the last layout (its page map, its reading PDF) still holds."""
        return bool(self.common) and self.common == inputs.common

    def changed(self, fmt: str, inputs: Inputs) -> list[str]:
        """The inputs of ``fmt`` that differ from the last time it was made."""
        recorded = self.outputs.get(fmt, {}).get("inputs", {})
        current = inputs.of(fmt)
        return sorted(key for key in set(recorded) | set(current)
                      if recorded.get(key) != current.get(key))


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items())


def _legacy(fields: dict, slug: str) -> "Manifest | None":
    """A Bindery 0.1 manifest: only which files of this slug it made, and their checksums."""
    outputs = fields.get("outputs")
    if not isinstance(outputs, dict):
        return None
    kept = {}
    for fmt, record in outputs.items():
        if (fmt in OUTPUTS and isinstance(record, dict)
                and record.get("file") == OUTPUTS[fmt].file_name(slug)
                and isinstance(record.get("sha256"), str) and _SHA256.match(record["sha256"])):
            kept[fmt] = {"file": record["file"], "sha256": record["sha256"], "inputs": {}}
    return Manifest(Identity(slug, ""), outputs=kept) if kept else None


def _texts(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _names(value) -> bool:
    """Whether ``value`` is a list of names of files inside the book folder."""
    return isinstance(value, list) and all(
        isinstance(name, str) and relative_name_ok(name) and ".." not in name.split("/")
        for name in value)
