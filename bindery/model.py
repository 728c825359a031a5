"""The plain data that flows between the stages: frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from markupsafe import Markup

from .errors import BookWarning

@dataclass(frozen=True)
class Author:
    name: str
    file_as: str
    role: str = "aut"  # MARC relator code


@dataclass(frozen=True)
class Division:
    """What a chapter is, for reading systems and assistive technology.

    ``matter`` is front, body or back matter; ``epub_type`` comes from the EPUB 3 Structural
    Semantics Vocabulary, ``aria_role`` is the matching DPUB-ARIA role, or None where that
    vocabulary has no equivalent (then the section is a labelled region).
    """

    name: str
    matter: str
    epub_type: str
    aria_role: str | None


@dataclass(frozen=True)
class Image:
    """An image a chapter refers to: where it is on disk and where it goes in the EPUB."""

    source: Path
    href: str          # path inside the EPUB, relative to the package document: images/x.jpg
    media_type: str
    original: str = ""  # its path in the book folder, as the chapters' XHTML refers to it
    digest: str = ""    # the SHA-256 of the file as it was read (an input of the build)


@dataclass(frozen=True)
class Chapter:
    id: str                      # from the file name: chapters/isis-run.md -> isis-run
    source: Path
    title: str
    division: Division
    markdown: str                # the text after the front matter
    first_line: int              # line number of the first line of ``markdown`` in ``source``
    body: Markup = Markup("")    # XHTML fragment, filled in by ``convert``
    print_body: Markup = Markup("")  # the same for print: notes where they are called
    notes: Markup = Markup("")   # the e-book's notes, when they go to a Notes document
    images: tuple[Image, ...] = ()
    formulas: tuple[str, ...] = ()  # the TeX of each formula, the text alternative of its drawing
    includes: tuple[tuple[str, str], ...] = ()  # (book-relative name, sha256) of each file
                                                # its code blocks include

    @property
    def document_name(self) -> str:
        return f"{self.id}.xhtml"


@dataclass(frozen=True)
class Cover:
    """The EPUB's cover page image: its name in the EPUB's images/ folder, type and alt text."""

    name: str
    media_type: str
    alt: str


@dataclass(frozen=True)
class Trim:
    name: str           # as written in book.toml: "A5", "6x9in", "140mm 216mm"
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class PrintSettings:
    trim: Trim
    bleed_mm: float = 3.0
    toc: bool | None = None      # None: a contents page when there are more than two chapters
    binding: str = "saddle"      # "saddle" (pages a multiple of 4), "perfect" (even), "none"
    chapter_start: str = "recto"  # or "any": where a chapter opens
    marks: str = "crop"          # the press PDF's marks: "crop", "crop+registration", "none"
    slug_line: bool = False      # a line of title, page and date in the slug, under each page
    paper: str = "80gsm-uncoated"  # the paper, for the cover's spine
    caliper_mm: float = 0.100    # the thickness of one leaf of it

    def spine_mm(self, pages: int) -> float:
        """The spine's width for ``pages`` pages: none unless the book is perfect bound."""
        return (pages + 1) // 2 * self.caliper_mm if self.binding == "perfect" else 0.0

    @property
    def slug_mm(self) -> float:
        """How far the press PDF's sheet reaches past the bleed, to hold the marks."""
        if self.marks == "none":
            return 0.0
        return 13.0 if self.slug_line else 9.0      # the slug line goes under the marks


@dataclass(frozen=True)
class BookletSettings:
    sheet: str | None = None               # None: A4 for A5 pages, Letter for half-letter...
    flip: str = "short-edge"               # or "long-edge"
    sheets_per_signature: int = 0          # 0: one signature holds every sheet
    creep_mm: float = 0.0


@dataclass(frozen=True)
class EpubSettings:
    page_list: bool = True       # carry the print edition's page numbers (needs its layout)
    toc_depth: int = 2           # 1: chapters only in the table of contents; 2: and sections
    notes: str = "chapter"       # the e-book's notes: "chapter" (at each chapter's end), "book"
    date: str = ""               # publication date (dc:date); "": the build's day
    certified_by: str = ""       # who evaluated its accessibility, if someone did
    site_url: str = ""           # where the site (the e-book's home page) is published


#: Languages written right to left by default, and the scripts that are (ISO 15924).
RIGHT_TO_LEFT_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "syr",
                            "ug", "ur", "yi"}
_RIGHT_TO_LEFT_SCRIPTS = {"arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg", "mand"}


@dataclass(frozen=True)
class Book:
    root: Path                   # the book folder
    config: Path                 # its book.toml
    title: str
    subtitle: str
    authors: tuple[Author, ...]
    language: str
    identifier: str
    slug: str
    description: str
    rights: str
    publisher: str
    subjects: tuple[str, ...]
    credits: tuple[str, ...]
    chapters: tuple[Chapter, ...]
    print: PrintSettings
    booklet: BookletSettings
    epub: EpubSettings = EpubSettings()
    cover: Path | None = None    # a cover image supplied by the user
    labels: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[BookWarning, ...] = field(default=(), compare=False)

    @property
    def author_names(self) -> str:
        """"A", "A and B", "A, B and C", with the book's word for "and"."""
        names = [author.name for author in self.authors]
        conjunction = f" {self.labels.get('and', 'and')} "
        if len(names) <= 2:
            return conjunction.join(names)
        return ", ".join(names[:-1]) + conjunction + names[-1]

    @property
    def direction(self) -> str:
        """"rtl" for a language written right to left (its spine, pages and text), else
        "ltr"."""
        subtags = self.language.lower().split("-")
        script = next((tag for tag in subtags[1:] if len(tag) == 4), None)
        if script is not None:
            return "rtl" if script in _RIGHT_TO_LEFT_SCRIPTS else "ltr"
        return "rtl" if subtags[0] in RIGHT_TO_LEFT_LANGUAGES else "ltr"

    @property
    def print_identifier(self) -> str:
        """The print edition's identifier: its page numbers are the EPUB's page list."""
        import uuid
        trim = self.print.trim
        name = f"{self.identifier}#print-{trim.width_mm:g}x{trim.height_mm:g}mm"
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"

    @property
    def includes(self) -> dict[str, str]:
        """The files the chapters' code blocks include: book-relative name -> the sha256 of
        what was read."""
        return dict(sorted(item for chapter in self.chapters for item in chapter.includes))

    @property
    def images(self) -> tuple[Image, ...]:
        seen: dict[str, Image] = {}
        for chapter in self.chapters:
            for image in chapter.images:
                seen.setdefault(image.href, image)
        return tuple(seen.values())


@dataclass(frozen=True)
class PageStart:
    """Printed page ``number`` begins in block ``block_id`` at ``offset`` (start of a word).

    The page map: made by the layout, carried by the EPUB as its page list, kept in the
    build manifest so that the EPUB can be rebuilt without a layout.
    """

    number: int
    block_id: str
    offset: int
    words: str          # the first words of the page, as laid out, for reports and tests


@dataclass(frozen=True)
class Folder:
    """An output that is a folder (the site): its files, by path inside it, in name order."""

    files: tuple[tuple[str, bytes], ...]

    @property
    def size(self) -> int:
        return sum(len(data) for _, data in self.files)


@dataclass(frozen=True)
class Made:
    """One output made in memory, not yet written: its bytes (or its folder's files) and
    what it had to say."""

    data: bytes | Folder
    warnings: tuple[BookWarning, ...] = ()
    read: tuple[tuple[str, str], ...] = ()   # (url, sha256) of the files it read, if known
