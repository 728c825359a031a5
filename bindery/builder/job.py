"""What one build has read and laid out (a ``Job``) -> what its outputs are made from, what
the last build left that still serves, and what this one read for the next to check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from ..errors import BookError
from ..model import Book, Cover, PageStart
from ..paths import relative_name_ok
from ..sandbox import Sandbox
from .fingerprint import Identity, Inputs, chapter_keys
from .manifest import Manifest
from .outdir import OutputFolder
from .outputs import OUTPUTS

if TYPE_CHECKING:
    from ..render import Pages


@dataclass(frozen=True)
class Job:
    """What one build has read and laid out: everything its outputs are made from."""

    book: Book
    pages: "Pages"
    sandbox: Sandbox
    date: datetime
    cover: Cover | None                # the EPUB's cover page, when the EPUB is made
    cover_image: Any                   # its image's bytes, drawn beside the layout
    layout: Any                        # this build's Layout; None when the last one serves
    starts: tuple[PageStart, ...]      # the page map
    folder: OutputFolder
    manifest: Manifest | None
    fresh: Callable[[str], bool] = lambda fmt: False    # the plan's: made from today's sources
    inputs: Inputs | None = None       # the plan's fingerprints of the sources
    settled: frozenset = frozenset()   # stale outputs the last build made as this one would

    def still_there(self, fmt: str) -> bytes | None:
        """An output of the last build, when it is on disk as that build made it, from
        today's sources (or from sources that make it the same: ``settled``)."""
        if self.manifest is None or not (self.fresh(fmt) or fmt in self.settled):
            return None
        return self.folder.read(self.manifest.outputs[fmt]["file"])

    def previous(self, fmt: str) -> bytes:
        """An output of the last build, as it is on disk (the plan found it fresh)."""
        data = self.folder.read(self.manifest.outputs[fmt]["file"])
        if data is None:
            raise BookError("the last build's output is gone", self.folder.path,
                            hint="build again")
        return data

    def unchanged(self, fmt: str) -> bool:
        """Whether the stale output ``fmt`` would be made as the last build made it, and is
        on disk as it made it: left as it is (``settled``). So is an output that shows the
        book's page count and none of its text (``OutputKind.pages_only``: the cover wrap)
        when only chapter files changed (a file a code block includes may be one the
        wrap reads: its template) and the page count is the one it was made for."""
        record = self.manifest.outputs.get(fmt) if self.manifest is not None else None
        if not (OUTPUTS[fmt].pages_only and record is not None and self.inputs is not None
                and self.layout is not None
                and record.get("pages") == self.layout.page_count
                and self.manifest.identity == Identity(self.book.slug, self.book.identifier)):
            return False
        text = chapter_keys(self.book)
        return (all(key in text for key in self.manifest.changed(fmt, self.inputs))
                and self.folder.fresh(self.manifest, fmt))

    def read_beside(self, made: dict, images: dict) -> tuple[dict[str, str], dict]:
        """The book's files the layout read that its inputs do not hold (a stylesheet's
        background in ``art/``, the cover image a print stylesheet shows), name -> sha256:
        inputs of every output from now on, hashed by the next build's plan as the files
        code blocks included are. And, by output, the files it read itself (the cover
        wrap's template's pictures), inputs of that output only (fingerprint -> sha256). A build that did not lay
        out keeps what the last layout read, and an output not made now what it read when
        it was."""
        if self.inputs is None:
            return {}, {}
        common = self.inputs.common
        own = {fmt: read for fmt, read in self.inputs.own.items() if fmt not in made}
        if self.layout is None:                   # the last layout serves, and what it read
            return {name: common.get(f"book/{name}", "")
                    for name in (self.manifest.read if self.manifest else ())}, own
        again = self.inputs.included | self.inputs.imaged    # recorded by what read them
        found = {name: digest for name, digest in self._in_book(self.layout.read)
                 if f"book/{name}" not in common or f"book/{name}" in again
                 if name not in images}
        for fmt, (result, *_) in made.items():
            # ``again`` is of common: a key another group holds is listed all the same.
            listed = {key for group in OUTPUTS[fmt].inputs
                      for key in self.inputs.groups[group]
                      if group != "common" or key not in again}
            own[fmt] = {f"book/{name}": digest for name, digest in self._in_book(result.read)
                        if f"book/{name}" not in listed}
        return found, own

    def _in_book(self, read) -> list[tuple[str, str]]:
        """Of ``read`` ((url, sha256), ...), the book's files, by name."""
        found = []
        for url, digest in read:
            name = self.sandbox.book_file(url)
            # A name the manifest could not hold (``c:...`` reads as a drive) is left out.
            if name is not None and relative_name_ok(name):
                found.append((name, digest))
        return found
