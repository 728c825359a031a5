"""Request + output folder -> Plan: which outputs are stale, and whether the last build's
layout (its page map, its reading PDF) still serves."""

from __future__ import annotations

from dataclasses import dataclass

from ..paths import Seen, recording
from .fingerprint import Identity, Inputs, fingerprint, identity_of, read_book_toml
from .manifest import Manifest
from .outdir import OutputFolder
from .outputs import OUTPUTS
from .request import BuildRequest


@dataclass(frozen=True)
class Plan:
    identity: Identity | None     # the book's slug and identifier, as book.toml says
    manifest: Manifest | None     # the last build's, when there is a valid one
    inputs: Inputs | None         # None when the sources cannot even be fingerprinted
    stale: tuple[str, ...]        # the outputs to make, in table order
    reuse_layout: bool            # no layout: the last one's page map and PDF serve
    seen: Seen | None = None      # the files read and folders listed to decide

    def fresh(self, fmt: str, folder: OutputFolder) -> bool:
        """Whether the output on disk was made from exactly today's inputs."""
        return (self.manifest is not None and self.inputs is not None
                and self.manifest.recorded(fmt, self.inputs)
                and folder.fresh(self.manifest, fmt))


def make_plan(request: BuildRequest, folder: OutputFolder) -> Plan:
    with recording() as seen:
        data = read_book_toml(request.book_dir)        # read once, for both
        book = identity_of(data) if data is not None else None
        manifest = folder.read_manifest(book) if book is not None else None
        inputs = fingerprint(request.book_dir, data, request.booklet.given(),
                             manifest.images if manifest else [],
                             manifest.includes + manifest.read if manifest else [],
                             {fmt: record.get("read", []) for fmt, record
                              in manifest.outputs.items()} if manifest else {})
    plan = Plan(book, manifest, inputs, request.formats, False)
    if not (request.force or inputs is None or manifest is None):
        with recording(seen):                 # the outputs' checksums: what a stamp holds
            stale = tuple(fmt for fmt in request.formats if not plan.fresh(fmt, folder))
        # An output that gathers the others (the site offers them for download) is made
        # again when any of them is, or it would offer what is no longer there.
        if any(not OUTPUTS[fmt].gathers for fmt in stale):
            stale = tuple(fmt for fmt in request.formats
                          if fmt in stale or OUTPUTS[fmt].gathers)
        plan = Plan(book, manifest, inputs, stale, False)
    reuse = bool(plan.stale) and not _needs_layout(plan, folder)
    return Plan(book, manifest, inputs, plan.stale, reuse, seen)


def _needs_layout(plan: Plan, folder: OutputFolder) -> bool:
    """Whether the stale outputs need the book laid out again.

    The PDFs always do. The EPUB needs only the page map (none when book.toml turns its
    page list off), the booklet only the reading PDF and the kepub only the EPUB: when the
    sources the layout depends on are unchanged, the last build's serve.
    """
    stale, inputs, manifest = plan.stale, plan.inputs, plan.manifest
    if any(OUTPUTS[fmt].layout for fmt in stale):
        return True
    if (inputs is not None and not inputs.epub_page_list
            and all(OUTPUTS[fmt].page_map for fmt in stale)):
        return False                   # an EPUB without a page list needs no layout
    if inputs is None or manifest is None or not manifest.layout_reusable(inputs):
        return True
    # An output made from another (the booklet from the reading PDF, the kepub from the
    # EPUB): when that one is made in this build too, its own needs were weighed above.
    return any(OUTPUTS[fmt].reads is not None and OUTPUTS[fmt].reads not in stale
               and not plan.fresh(OUTPUTS[fmt].reads, folder) for fmt in stale)
