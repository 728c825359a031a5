"""An EPUB file -> its parts read back as a reading system would: the package document,
the navigation lists, each document's XML and its text as a reader hears it."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from ..namespaces import NS


class Epub:
    """An EPUB read back from its zip: package document, documents, navigation."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = [info.filename for info in self.zip.infolist()]
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.find(".//c:rootfile", NS).get("full-path")
        self.opf = etree.fromstring(self.zip.read(self.opf_path))
        self.base = posixpath.dirname(self.opf_path)

    @classmethod
    def open(cls, path: Path) -> "Epub":
        return cls(Path(path).read_bytes())

    def path_of(self, href: str) -> str:
        return posixpath.normpath(posixpath.join(self.base, unquote(href)))

    @property
    def manifest(self) -> dict[str, dict]:
        return {item.get("id"): dict(item.attrib)
                for item in self.opf.find("opf:manifest", NS)}

    @property
    def spine(self) -> list[str]:
        return [self.manifest[ref.get("idref")]["href"]
                for ref in self.opf.find("opf:spine", NS)]

    def metadata(self, name: str) -> list[str]:
        return [element.text for element in self.opf.find("opf:metadata", NS).findall(
            name, NS)]

    def meta(self, prop: str) -> list[str]:
        return [element.text for element in self.opf.find("opf:metadata", NS)
                if element.get("property") == prop]

    def document(self, href: str):
        return etree.fromstring(self.zip.read(self.path_of(href)))

    @property
    def nav_href(self) -> str:
        return next(item["href"] for item in self.manifest.values()
                    if "nav" in item.get("properties", "").split())

    def nav(self, kind: str) -> list[tuple[str, str]]:
        """``(href relative to the package document, label)`` of a navigation list."""
        nav = self.document(self.nav_href)
        element = next((n for n in nav.iter(f"{{{NS['x']}}}nav")
                        if kind in n.get(f"{{{NS['epub']}}}type", "").split()), None)
        if element is None:
            return []
        folder = posixpath.dirname(self.nav_href)
        return [(posixpath.normpath(posixpath.join(folder, a.get("href"))),
                 "".join(a.itertext()).strip()) for a in element.iter(f"{{{NS['x']}}}a")]

    def text(self, href: str) -> str:
        """The text of a document's body, as a reader hears it."""
        body = self.document(href).find("x:body", NS)
        return re.sub(r"[ \t\n\r\f]+", " ", "".join(_text_with_breaks(body))).strip()


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figure", "figcaption", "blockquote",
           "section", "nav", "div", "ul", "ol", "table", "tr", "td", "th", "pre", "hr", "br"}



def _text_with_breaks(element):
    """Text in document order, with a space where one block ends and another begins."""
    block = etree.QName(element).localname in _BLOCKS if isinstance(element.tag, str) else False
    if block:
        yield " "
    if element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str):
            yield from _text_with_breaks(child)
        if child.tail:
            yield child.tail
    if block:
        yield " "
