"""Request + output folder -> Plan: which outputs are stale, and whether the last build's
layout (its page map, its reading PDF) still serves."""

from __future__ import annotations

from dataclasses import dataclass

from .fingerprint import Inputs, fingerprint
from .manifest import Manifest
from .outdir import OutputFolder
from .outputs import OUTPUTS
from .request import BuildRequest


@dataclass(frozen=True)
class Plan:
    manifest: Manifest | None     # the last build's, when there is one
    inputs: Inputs | None         # None when book.toml cannot even be read
    stale: tuple[str, ...]        # the outputs to make, in table order
    reuse_layout: bool            # no layout: the last one's page map and PDF serve


def make_plan(request: BuildRequest, folder: OutputFolder) -> Plan:
    manifest = folder.read_manifest()
    inputs = fingerprint(request.book_dir, request.booklet.given(),
                         manifest.images if manifest else [])
    if request.force or inputs is None or manifest is None:
        stale = request.formats
    else:
        stale = tuple(fmt for fmt in request.formats
                      if not manifest.fresh(fmt, inputs, folder.path))
    reuse = bool(stale) and not _needs_layout(stale, inputs, manifest, folder)
    return Plan(manifest, inputs, stale, reuse)


def _needs_layout(stale, inputs: Inputs | None, manifest: Manifest | None,
                  folder: OutputFolder) -> bool:
    """Whether the stale outputs need the book laid out again.

    The PDFs always do. The EPUB needs only the page map (none when book.toml turns its
    page list off) and the booklet only the reading PDF: when the sources the layout depends
    on are unchanged, the last build's serve.
    """
    if any(OUTPUTS[fmt].layout for fmt in stale):
        return True
    if (inputs is not None and not inputs.epub_page_list
            and all(OUTPUTS[fmt].page_map for fmt in stale)):
        return False                   # an EPUB without a page list needs no layout
    if inputs is None or manifest is None or not manifest.layout_reusable(inputs):
        return True
    for fmt in stale:
        read = OUTPUTS[fmt].reads
        if read is not None and (read not in manifest.outputs
                                 or not manifest.fresh(read, inputs, folder.path)):
            return True
    return False
