"""Book + Pages (+ page map) -> EPUB 3 bytes: ebooklib assembles, our zip makes it reproducible.

ebooklib 0.20 is used for the package document, the NCX and the container, with these
workarounds, each marked ``# ebooklib:`` below:

- its ``EpubHtml`` re-parses a document and rebuilds it from its own template, dropping our
  ``<head>`` and ``epub:type`` on ``<body>`` (issue #354): our templates make complete XHTML
  documents, added as plain ``EpubItem`` objects that it writes byte for byte;
- its ``set_cover`` makes a non-linear cover page that EPUBCheck reports as unreachable
  (OPF-096, issue #315): the cover page is our own, linear and first in the spine;
- it writes the current time into every zip entry, puts no ``xml:lang`` on the package and
  gives ``file-as`` a MARC scheme: we re-pack its zip deterministically (``mimetype`` first
  and stored, fixed order and timestamps) and mend the package document on the way.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
import posixpath
from urllib.parse import quote
import zipfile
from datetime import datetime

from lxml import etree

from .. import __version__
from ..errors import BookWarning
from ..model import Book, Cover, Made, PageStart
from ..namespaces import MATHML, OPF, XHTML, XML_LANG
from ..paths import read_file
from ..render import EPUB_STYLESHEET, Document, NavEntry, Pages, render_nav
from ..sandbox import Sandbox
from .accessibility import accessibility
from .images import for_readers
from .markers import place_markers

#: A document holding a formula declares MathML's namespace (its manifest item then says so).
MATHML_DECLARATION = f'xmlns="{MATHML}"'.encode()

DOCTYPE = "<!DOCTYPE html>"
NAV_NAME = "nav.xhtml"

def make_epub(book: Book, pages: Pages, sandbox: Sandbox, modified: datetime,
              starts: tuple[PageStart, ...] = (), cover: Cover | None = None,
              cover_data: bytes = b"") -> Made:
    """The EPUB's bytes: the rendered documents, with print page-break markers placed."""
    trees = {document.id: _parse(document.xhtml) for document in pages.documents}
    toc = _toc(pages.documents, trees, book.epub.toc_depth)
    landmarks = _landmarks(pages.documents, book.labels)
    names = {document.id: document.name for document in pages.documents}
    names["nav"] = NAV_NAME
    # The navigation document can hold a page start too (the print edition's contents page
    # is the EPUB's table of contents): render it once for its ids, again with the list.
    trees["nav"] = _parse(render_nav(book, sandbox, toc, landmarks, page_list=[]))
    owner = {element.get("id"): doc_id for doc_id, tree in trees.items()
             for element in tree.iter() if element.get("id") is not None}
    placed = [start for start in starts if start.block_id in owner]
    warnings = [BookWarning(f"printed page {start.number} begins in `{start.block_id}`, "
                            f"which the EPUB does not have: no page-list entry for it")
                for start in starts if start.block_id not in owner]
    page_list = [NavEntry(href=f"{names[owner[start.block_id]]}#page-{start.number}",
                          title=str(start.number)) for start in placed]
    trees["nav"] = _parse(render_nav(book, sandbox, toc, landmarks, page_list))
    place_markers(trees, owner, placed)
    _link_across_documents(names, trees, owner)
    _name_images(trees, book)
    documents = [(document, _serialise(trees[document.id])) for document in pages.documents]
    contents = _Contents(documents, _serialise(trees["nav"]), toc, cover, cover_data,
                         bool(page_list))
    data = _assemble(book, pages, contents, modified)
    return Made(data=data, warnings=tuple(warnings))


# -- documents ------------------------------------------------------------------------

def _parse(xhtml: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(xhtml.encode("utf-8"), parser)


def _serialise(tree) -> bytes:
    body = etree.tostring(tree, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + DOCTYPE.encode() + b"\n" + body



def _link_across_documents(names: dict[str, str], trees, owner) -> None:
    """``#id`` links to another document get that document's path, relative to theirs."""
    for doc_id, tree in trees.items():
        folder = posixpath.dirname(names[doc_id])
        for link in tree.iter(f"{{{XHTML}}}a"):
            href = link.get("href", "")
            target = owner.get(href[1:], doc_id) if href.startswith("#") else doc_id
            if target != doc_id:
                link.set("href", posixpath.relpath(names[target], folder or ".") + href)


def _name_images(trees, book: Book) -> None:
    """Pictures get their names in the package (safe characters, unique in the book)."""
    names = {f"../{quote(image.original)}": f"../{image.href}" for image in book.images}
    for tree in trees.values():
        for image in tree.iter(f"{{{XHTML}}}img"):
            src = image.get("src", "")
            if src in names:
                image.set("src", names[src])


def _toc(documents: tuple[Document, ...], trees, depth: int) -> list[NavEntry]:
    """The table of contents: each document, and under it its sections' headings down to
    ``depth`` (1: the documents alone; 2: and their h2 headings...)."""
    return [NavEntry(href=document.name, title=document.title,
                     children=_sections(document, trees[document.id], depth))
            for document in documents if document.in_toc]


_HEADINGS = {f"{{{XHTML}}}h{level}": level for level in range(2, 7)}


def _sections(document: Document, tree, depth: int) -> tuple[NavEntry, ...]:
    root: list = []
    stack: list[tuple[int, list]] = [(1, root)]
    for element in tree.iter(*_HEADINGS):
        level = _HEADINGS[element.tag]
        if level > depth or element.get("id") is None:
            continue
        while stack[-1][0] >= level:
            stack.pop()
        children: list = []
        stack[-1][1].append((element, children))
        stack.append((level, children))

    def entries(items) -> tuple[NavEntry, ...]:
        return tuple(NavEntry(href=f"{document.name}#{element.get('id')}",
                              title=_heading_text(element), children=entries(children))
                     for element, children in items)
    return entries(root)


def _heading_text(element) -> str:
    """A heading's words, without its note references."""
    def text(node) -> str:
        inner = "".join(text(child) + (child.tail or "") for child in node
                        if not (child.get("class") == "noteref"))
        return (node.text or "") + inner
    return " ".join(text(element).split())


_LANDMARK_ORDER = ("cover", "titlepage", "toc", "bodymatter", "backmatter")


def _landmarks(documents: tuple[Document, ...], labels) -> list[NavEntry]:
    entries = [NavEntry(href=document.name, title=labels[document.landmark],
                        type=document.landmark)
               for document in documents if document.landmark]
    entries.append(NavEntry(href=f"{NAV_NAME}#toc", title=labels["toc"], type="toc"))
    return sorted(entries, key=lambda entry: _LANDMARK_ORDER.index(entry.type))


# -- the package ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Contents:
    """What goes into the package: the documents as written, the navigation, the cover."""

    documents: list[tuple[Document, bytes]]
    nav: bytes
    toc: list[NavEntry]
    cover: Cover | None
    cover_data: bytes
    page_list: bool


def _assemble(book: Book, pages: Pages, contents: _Contents, modified: datetime) -> bytes:
    from ebooklib import epub  # imported only when an EPUB is made

    documents, nav, cover, cover_data = (contents.documents, contents.nav, contents.cover,
                                         contents.cover_data)
    page_list = contents.page_list

    package = epub.EpubBook()
    package.set_identifier(book.identifier)
    package.set_title(book.title)
    package.set_language(book.language)
    if book.direction == "rtl":
        package.set_direction("rtl")      # the spine's page-progression-direction
    # ebooklib: its generator meta names ebooklib; name the tool that made the book.
    package.metadata[OPF]["generator"] = [("", {"name": "generator",
                                                 "content": f"Bindery {__version__}"})]
    for index, author in enumerate(book.authors, start=1):
        creator = f"creator{index}"
        package.add_metadata("DC", "creator", author.name, {"id": creator})
        package.add_metadata(None, "meta", author.file_as,
                             {"refines": f"#{creator}", "property": "file-as"})
        package.add_metadata(None, "meta", author.role,
                             {"refines": f"#{creator}", "property": "role",
                              "scheme": "marc:relators"})
    for key in ("description", "rights", "publisher"):
        if getattr(book, key):
            package.add_metadata("DC", key, getattr(book, key))
    for subject in book.subjects:
        package.add_metadata("DC", "subject", subject)
    # The publication date stores show and sort by: book.toml's, else the build's day.
    package.add_metadata("DC", "date", book.epub.date or modified.date().isoformat())
    if page_list:
        # The page list comes from the print edition built from the same source.
        package.add_metadata("DC", "source", book.print_identifier, {"id": "print-edition"})
        package.add_metadata(None, "meta", book.print_identifier,
                             {"property": "pageBreakSource"})
    has_math = any(MATHML_DECLARATION in content for _, content in documents)
    for prop, value in accessibility(book, has_images=bool(book.images) or cover is not None,
                                     page_list=page_list, has_math=has_math):
        attributes = {"property": prop}
        if prop == "schema:accessibilitySummary":
            attributes[XML_LANG] = "en"
        package.add_metadata(None, "meta", value, attributes)

    package.add_item(epub.EpubItem(uid="css", file_name=EPUB_STYLESHEET, media_type="text/css",
                                   content=pages.epub_stylesheet.encode("utf-8")))
    if cover is not None:
        item = epub.EpubItem(uid="cover-image", file_name=f"images/{cover.name}",
                             media_type=cover.media_type, content=cover_data)
        item.properties = ["cover-image"]
        package.add_item(item)
        # For EPUB 2 reading systems and Kindle: the cover image by its manifest id.
        package.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    for image in book.images:
        package.add_item(epub.EpubItem(uid=_item_id(image.href), file_name=image.href,
                                       media_type=image.media_type,
                                       content=for_readers(read_file(image.source, "image"),
                                                           image.media_type)))
    spine = []
    for document, content in documents:
        # ebooklib: a plain EpubItem is written as we made it (EpubHtml would rebuild it).
        item = epub.EpubItem(uid=document.id, file_name=document.name,
                             media_type="application/xhtml+xml", content=content)
        if MATHML_DECLARATION in content:
            item.properties = ["mathml"]
        package.add_item(item)
        spine.append(item)
    nav_item = epub.EpubItem(uid="nav", file_name=NAV_NAME,
                             media_type="application/xhtml+xml", content=nav)
    nav_item.properties = ["nav"]
    package.add_item(nav_item)
    package.add_item(epub.EpubNcx())
    package.toc = _ncx(contents.toc)
    # The navigation document follows the title page: in the reading order when the print
    # edition has a contents page (its page number lives there), else outside it, reachable
    # from the landmarks.
    after_title = next((i + 1 for i, (document, _) in enumerate(documents)
                        if document.landmark == "titlepage"), 0)
    spine.insert(after_title, nav_item if pages.print_contents else (nav_item, "no"))
    package.spine = spine
    package.guide = [{"type": _GUIDE[document.landmark], "href": document.name,
                      "title": document.title}
                     for document, _ in documents if document.landmark in _GUIDE]

    buffer = io.BytesIO()
    writer = epub.EpubWriter(buffer, package, {
        "mtime": modified, "epub3_landmark": False, "epub3_pages": False,
        "raise_exceptions": True})
    writer.process()
    writer.write()
    return _repack(buffer.getvalue(), book, modified)


def _ncx(entries: list[NavEntry] | tuple[NavEntry, ...], prefix: str = "ncx") -> list:
    """The NCX mirrors the navigation document's table of contents, nesting included."""
    from ebooklib import epub

    items = []
    for number, entry in enumerate(entries, start=1):
        uid = f"{prefix}-{number}"
        if entry.children:
            items.append((epub.Section(entry.title, entry.href), _ncx(entry.children, uid)))
        else:
            items.append(epub.Link(entry.href, entry.title, uid))
    return items


_GUIDE = {"cover": "cover", "titlepage": "title-page", "bodymatter": "text"}


def _item_id(href: str) -> str:
    return "img-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in href)


def _repack(data: bytes, book: Book, modified: datetime) -> bytes:
    """The same files in a reproducible zip, the package document mended."""
    files = unzip(data)
    opf_name = next(name for name in files if name.endswith(".opf"))
    files[opf_name] = _mend_package(files[opf_name], book)
    return zip_epub(files, modified)


def unzip(data: bytes) -> dict[str, bytes]:
    """An EPUB's files by name, in the zip's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return {info.filename: source.read(info) for info in source.infolist()}


def zip_epub(files: dict[str, bytes], modified: datetime) -> bytes:
    """An EPUB's files as a reproducible zip: ``mimetype`` first and stored, then the
    container and the package document, then the rest by name, every entry dated
    ``modified``."""
    date_time = max(modified.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    opf_name = next(name for name in files if name.endswith(".opf"))
    first = ["mimetype", "META-INF/container.xml", opf_name]
    order = first + sorted(name for name in files if name not in first)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                target.writestr(info, files[name])
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def _mend_package(opf: bytes, book: Book) -> bytes:
    root = etree.fromstring(opf)
    # ebooklib: no xml:lang on <package>; EPUB Accessibility wants the language declared.
    root.set(XML_LANG, book.language)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)

