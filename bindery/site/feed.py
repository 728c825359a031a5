"""The book -> what machines read of the site: the OPDS 1.2 acquisition feed (``opds.xml``,
Atom) that KOReader, Thorium, Moon+ Reader and calibre browse, the schema.org ``Book``
(JSON-LD) and Open Graph data of the pages, and ``sitemap.xml`` when the site's address is
known (a sitemap needs absolute addresses; everything else stays relative)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from lxml import etree

from ..model import Book

ATOM = "http://www.w3.org/2005/Atom"
DC_TERMS = "http://purl.org/dc/terms/"
OPDS = "http://opds-spec.org/2010/catalog"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
ACQUISITION_FEED = "application/atom+xml;profile=opds-catalog;kind=acquisition"


@dataclass(frozen=True)
class Download:
    """One file the site offers: what it is for, where it is, what it is."""

    format: str
    label: str            # for a reader: "EPUB for Apple Books, Kobo..."
    href: str             # relative to the site: downloads/isis-run.epub
    media_type: str
    size: int
    sha256: str

    @property
    def name(self) -> str:
        return self.href.rsplit("/", 1)[-1]

    @property
    def size_text(self) -> str:
        """"64.7 KB", "1.2 MB": sizes as a reader reads them (1 KB = 1,024 bytes)."""
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.1f} KB"
        return f"{self.size / 1024 / 1024:.1f} MB"


#: The media type of each output, as reading apps know them (Kobo's for the kepub).
MEDIA_TYPES = {"epub": "application/epub+zip", "kepub": "application/kepub+zip",
               "pdf": "application/pdf", "booklet": "application/pdf",
               "press": "application/pdf", "cover": "application/pdf",
               "azw3": "application/vnd.amazon.ebook"}


def opds_feed(book: Book, updated: str, downloads: list[Download], cover: str | None,
              thumbnail: str | None, summary: str) -> bytes:
    """An OPDS 1.2 acquisition feed with the book's one entry; links relative to it."""
    E = _Maker(ATOM)
    feed = E("feed", nsmap={None: ATOM, "dc": DC_TERMS, "opds": OPDS})
    E.sub(feed, "id", text=f"{book.identifier}#catalogue")
    E.sub(feed, "title", text=book.title)
    E.sub(feed, "updated", text=updated)
    author = E.sub(feed, "author")
    E.sub(author, "name", text=book.publisher or book.author_names)
    E.sub(feed, "link", rel="self", href="opds.xml", type=ACQUISITION_FEED)
    E.sub(feed, "link", rel="start", href="opds.xml", type=ACQUISITION_FEED)
    E.sub(feed, "link", rel="alternate", href="index.html", type="text/html")
    entry = E.sub(feed, "entry")
    E.sub(entry, "title", text=book.title)
    E.sub(entry, "id", text=book.identifier)
    E.sub(entry, "updated", text=updated)
    for person in book.authors:
        E.sub(E.sub(entry, "author"), "name", text=person.name)
    E.sub(entry, f"{{{DC_TERMS}}}language", text=book.language)
    E.sub(entry, f"{{{DC_TERMS}}}identifier", text=book.identifier)
    if book.publisher:
        E.sub(entry, f"{{{DC_TERMS}}}publisher", text=book.publisher)
    for subject in book.subjects:
        E.sub(entry, "category", term=subject, label=subject)
    E.sub(entry, "summary", type="text", text=summary)
    if book.description:
        E.sub(entry, "content", type="text", text=book.description)
    if cover:
        E.sub(entry, "link", rel="http://opds-spec.org/image", href=cover, type="image/png")
    if thumbnail:
        E.sub(entry, "link", rel="http://opds-spec.org/image/thumbnail", href=thumbnail,
              type="image/png")
    E.sub(entry, "link", rel="alternate", href="index.html", type="text/html")
    for download in downloads:
        E.sub(entry, "link", rel="http://opds-spec.org/acquisition", href=download.href,
              type=download.media_type, title=download.label, length=str(download.size))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def sitemap(url: str, pages: list[str], updated: str) -> bytes:
    """The site's pages, by absolute address, for search engines."""
    E = _Maker(SITEMAP)
    root = E("urlset", nsmap={None: SITEMAP})
    for page in pages:
        entry = E.sub(root, "url")
        E.sub(entry, "loc", text=url.rstrip("/") + "/" + page)
        E.sub(entry, "lastmod", text=updated[:10])
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def book_json_ld(book: Book, cover: str | None, downloads: list[Download]) -> str:
    """The schema.org ``Book`` of the pages, as JSON-LD (``</`` escaped for a script)."""
    data = {
        "@context": "https://schema.org", "@type": "Book", "name": book.title,
        "inLanguage": book.language,
        "author": [{"@type": "Person", "name": person.name} for person in book.authors],
        "identifier": book.identifier,
    }
    if book.subtitle:
        data["alternativeHeadline"] = book.subtitle
    if book.description:
        data["description"] = book.description
    if book.publisher:
        data["publisher"] = {"@type": "Organization", "name": book.publisher}
    if book.subjects:
        data["keywords"] = ", ".join(book.subjects)
    if book.rights:
        data["copyrightNotice"] = book.rights
    if cover:
        data["image"] = cover
    data["workExample"] = [{"@type": "Book", "bookFormat": "https://schema.org/EBook",
                            "encodingFormat": d.media_type, "url": d.href}
                           for d in downloads if d.format in ("epub", "kepub", "azw3")]
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    return text.replace("</", "<\\/")


class _Maker:
    def __init__(self, namespace: str):
        self.namespace = namespace

    def _tag(self, name: str) -> str:
        return name if name.startswith("{") else f"{{{self.namespace}}}{name}"

    def __call__(self, name: str, nsmap=None):
        return etree.Element(self._tag(name), nsmap=nsmap)

    def sub(self, parent, name: str, text: str | None = None, **attributes):
        element = etree.SubElement(parent, self._tag(name),
                                   {key: value for key, value in attributes.items()})
        if text is not None:
            element.text = text
        return element
