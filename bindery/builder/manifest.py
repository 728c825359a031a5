"""The build manifest: what the last successful build made, from which sources.

It lives in the output folder as ``.bindery-manifest.json``; each output records the
fingerprints of everything it was made from and the checksum of its file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .fingerprint import Inputs, file_hash

MANIFEST = ".bindery-manifest.json"
FORMAT_VERSION = 1


@dataclass
class Manifest:
    """What the last successful build made, from what."""

    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    common: dict[str, str] = field(default_factory=dict)   # inputs of the last layout
    page_starts: list[list[Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes | None) -> "Manifest | None":
        """The manifest in ``data``; None when there is none or it is not one of ours."""
        if data is None:
            return None
        try:
            fields = json.loads(data.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(fields, dict) or fields.get("format") != FORMAT_VERSION:
            return None
        return cls(outputs=fields.get("outputs", {}), common=fields.get("common", {}),
                   page_starts=fields.get("page_starts", []), images=fields.get("images", []),
                   warnings=fields.get("warnings", []), notes=fields.get("notes", {}))

    def serialise(self) -> bytes:
        return json.dumps({"format": FORMAT_VERSION, "bindery": __version__,
                           "outputs": self.outputs, "common": self.common,
                           "page_starts": self.page_starts, "images": self.images,
                           "warnings": self.warnings, "notes": self.notes},
                          indent=1, sort_keys=True).encode()

    def fresh(self, fmt: str, inputs: Inputs, out_dir: Path) -> bool:
        """Whether the output ``fmt`` on disk was made from exactly these inputs."""
        record = self.outputs.get(fmt)
        if record is None or record.get("inputs") != inputs.of(fmt):
            return False
        return file_hash(out_dir / record["file"]) == record["sha256"]

    def layout_reusable(self, inputs: Inputs) -> bool:
        """Whether the last layout (its page map, its reading PDF) still holds."""
        return bool(self.common) and self.common == inputs.common

    def changed(self, fmt: str, inputs: Inputs) -> list[str]:
        """The inputs of ``fmt`` that differ from the last time it was made."""
        recorded = self.outputs.get(fmt, {}).get("inputs", {})
        current = inputs.of(fmt)
        return sorted(key for key in set(recorded) | set(current)
                      if recorded.get(key) != current.get(key))
