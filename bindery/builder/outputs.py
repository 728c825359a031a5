"""The outputs a build can make, in one table: each one's file name, what it is made from and
how. A new output is a function here and one row in ``OUTPUTS``, not a branch in the build.

``inputs`` names the groups of source fingerprints an output depends on (``fingerprint``):
``common`` is what the print layout reads, so every output depends on it; ``cover``, the
cover image, is read by the e-books and the print cover wrap. ``layout`` says
the output is made from this build's print layout; ``page_map`` that it needs only the
layout's page map, which the last build's manifest can give (the EPUB, and what is made from
it); ``reads`` names an output it is made from (the booklet imposes the reading PDF);
``own_process`` that a second process makes it while this one makes the others;
``either_process`` that whichever of the two is free first makes it; ``gathers``
that it is made last, from every other output made or still fresh on disk (the site offers
them all). ``pages_only`` says it shows the book's page count and none of its text (the
cover wrap: its spine): stale only by the chapters, for as many pages as it was made for,
it is left as it is on disk (``job.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..model import Made
    from .job import Job


@dataclass(frozen=True)
class OutputKind:
    format: str
    suffix: str                       # the file is <slug><suffix>
    inputs: tuple[str, ...]
    make: Callable[["Job", dict[str, "Made"]], "Made"]
    layout: bool = False
    page_map: bool = False
    reads: str | None = None
    own_process: bool = False
    either_process: bool = False
    optional: bool = False            # made only when asked for with --format
    gathers: bool = False             # made last, from every other output there is
    folder: bool = False              # a folder of files, not one file
    pages_only: bool = False          # shows the page count, none of the text

    def file_name(self, slug: str) -> str:
        return f"{slug}{self.suffix}"


def _made_or_previous(job: "Job", made: dict, fmt: str) -> bytes:
    """The bytes of the output another is made from: this build's, else the last one's."""
    return made[fmt].data if fmt in made else job.previous(fmt)


def _epub(job: "Job", made: dict) -> "Made":
    from ..epub.package import make_epub

    page_list = job.starts if job.book.epub.page_list else ()
    return make_epub(job.book, job.pages, job.sandbox, job.date, page_list, job.cover,
                     job.cover_image.result())


def _kepub(job: "Job", made: dict) -> "Made":
    from ..epub.kepub import make_kepub
    from ..model import Made

    epub = _made_or_previous(job, made, "epub")
    return Made(make_kepub(epub, job.date))


def _azw3(job: "Job", made: dict) -> "Made":
    from ..epub.kindle import make_azw3
    from ..model import Made

    epub = _made_or_previous(job, made, "epub")
    return Made(make_azw3(epub, job.book.slug))


def _site(job: "Job", made: dict) -> "Made":
    from ..model import Made
    from ..site import OFFERED, Offered, make_site
    from .request import w3c_date

    epub = _made_or_previous(job, made, "epub")
    offered = []
    for fmt in OFFERED:
        data = made[fmt].data if fmt in made else job.still_there(fmt)
        if data is not None:
            offered.append(Offered(fmt, OUTPUTS[fmt].file_name(job.book.slug), data))
    return Made(make_site(job.book, job.sandbox, epub, offered, w3c_date(job.date)))


def _reading(job: "Job", made: dict) -> "Made":
    from ..pdf.reading import reading_pdf

    return reading_pdf(job.book, job.layout)


def _press(job: "Job", made: dict) -> "Made":
    from ..pdf.press import press_pdf

    return press_pdf(job.book, job.layout)


def _booklet(job: "Job", made: dict) -> "Made":
    from ..model import Made
    from ..pdf.booklet import impose

    reading = _made_or_previous(job, made, "pdf")
    return Made(impose(reading, job.book.print.trim, job.book.booklet, job.book.title,
                       job.date))


def _cover(job: "Job", made: dict) -> "Made":
    from ..pdf.cover import cover_pdf
    from .request import w3c_date

    return cover_pdf(job.book, job.layout.page_count, job.sandbox, w3c_date(job.date))


#: Every output, in the order they are listed, made and written.
OUTPUTS = {kind.format: kind for kind in (
    OutputKind("epub", ".epub", ("common", "epub", "cover"), _epub, page_map=True,
               either_process=True),
    OutputKind("kepub", ".kepub.epub", ("common", "epub", "cover"), _kepub, page_map=True,
               reads="epub", either_process=True),
    OutputKind("pdf", ".pdf", ("common",), _reading, layout=True),
    OutputKind("press", "-press.pdf", ("common",), _press, layout=True, own_process=True),
    OutputKind("booklet", "-booklet.pdf", ("common", "booklet"), _booklet, reads="pdf"),
    OutputKind("cover", "-cover.pdf", ("common", "cover"), _cover, layout=True,
               either_process=True, pages_only=True),
    OutputKind("site", "-site", ("common", "epub", "cover", "booklet"), _site, page_map=True,
               reads="epub", gathers=True, folder=True),
    OutputKind("azw3", ".azw3", ("common", "epub", "cover"), _azw3, page_map=True, reads="epub",
               optional=True, either_process=True),
)}

#: What a build makes unless told otherwise: every output but the optional ones.
FORMATS = tuple(fmt for fmt, kind in OUTPUTS.items() if not kind.optional)
