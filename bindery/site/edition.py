"""The EPUB -> the web edition's pages: each document of the reading order becomes an HTML
page holding the very same elements (text, ids, notes, page-break markers), so that a link
to a section works in both, and the site's text is the EPUB's.

What changes on the way: links between documents point to the pages (``x.xhtml#id`` ->
``x.html#id``), ``epub:type`` (meaningless in a browser; the DPUB-ARIA roles stay) goes,
an ``<aside>`` that is no landmark (a footnote, a tip) becomes a ``<div>`` with its role,
and the XHTML is written as HTML. The cover page and the navigation document are left out:
the download page shows the cover, and the contents page is made from the EPUB's table
of contents.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass

from lxml import etree

from ..epub.package import unzip
from ..namespaces import EPUB, NS, XHTML

_XHTML = f"{{{XHTML}}}"
#: The contents page's name: `toc` is an id no chapter may take (source/chapter.py).
CONTENTS = "toc"


@dataclass(frozen=True)
class WebPage:
    name: str            # read/<name>.html
    title: str
    body: str            # the EPUB body's content, as HTML
    text: str            # its words, for the OPDS summary and tests


@dataclass(frozen=True)
class Edition:
    """What the site is made from: the EPUB's pages, contents, pictures and cover."""

    pages: tuple[WebPage, ...]
    contents: str                            # the contents list, as HTML
    files: dict[str, bytes]                  # pictures by their path in the site
    cover: tuple[str, bytes] | None          # the cover picture: its name, its bytes


def read_edition(epub: bytes) -> Edition:
    files = unzip(epub)
    container = etree.fromstring(files["META-INF/container.xml"])
    opf_name = container.find(".//c:rootfile", NS).get("full-path")
    opf = etree.fromstring(files[opf_name])
    base = posixpath.dirname(opf_name)
    manifest = {item.get("id"): item for item in opf.find("opf:manifest", NS)}

    def path(href: str) -> str:
        return posixpath.normpath(posixpath.join(base, href))

    nav_href = next(item.get("href") for item in manifest.values()
                    if "nav" in (item.get("properties") or "").split())
    spine = [manifest[ref.get("idref")].get("href") for ref in opf.find("opf:spine", NS)]
    cover_item = next((item for item in manifest.values()
                       if "cover-image" in (item.get("properties") or "").split()), None)
    documents = [href for href in spine if href != nav_href and href != "text/cover.xhtml"]
    renamed = {href: _page_name(href) for href in documents}
    renamed[nav_href] = CONTENTS + ".html"
    pages = []
    for href in documents:
        root = etree.fromstring(files[path(href)])
        title = root.findtext("x:head/x:title", default="", namespaces=NS)
        body = _for_the_web(root.find("x:body", NS), href, renamed)
        pages.append(WebPage(renamed[href][:-len(".html")], title, body,
                             " ".join("".join(root.find("x:body", NS).itertext()).split())))
    nav = etree.fromstring(files[path(nav_href)])
    toc = nav.find(".//x:nav[@id='toc']/x:ol", NS)
    contents = _for_the_web(toc, nav_href, renamed, whole=True)
    # Pictures keep their path in the package (images/...), so that two of one name in two
    # folders stay two.
    pictures = {posixpath.normpath(item.get("href")): files[path(item.get("href"))]
                for item in manifest.values()
                if item.get("media-type", "").startswith("image/") and item is not cover_item}
    cover = ((posixpath.basename(cover_item.get("href")), files[path(cover_item.get("href"))])
             if cover_item is not None else None)
    return Edition(tuple(pages), contents, pictures, cover)


def _page_name(href: str) -> str:
    return posixpath.splitext(posixpath.basename(href))[0] + ".html"


def _for_the_web(element, href: str, renamed: dict[str, str], whole: bool = False) -> str:
    """An element's content (or the element, ``whole``) as HTML for a page of read/."""
    element = copy.deepcopy(element)
    folder = posixpath.dirname(href)
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(_XHTML):
            node.tag = node.tag[len(_XHTML):]
        for name in [name for name in node.attrib if name.startswith(f"{{{EPUB}}}")]:
            del node.attrib[name]
        if node.tag == "aside" and node.get("role") not in (None, "complementary"):
            # A note, tip, pull quote or footnote is no landmark, but browsers' accessibility
            # trees make any <aside> outside a plain <section> one: such asides become
            # <div>s with the same role, so the page's landmarks stay the page's.
            node.tag = "div"
        if node.tag == "a" and node.get("href"):
            node.set("href", _link(node.get("href"), folder, renamed))
        elif node.tag == "img" and node.get("src") and ":" not in node.get("src"):
            node.set("src", "../" + posixpath.normpath(posixpath.join(folder, node.get("src"))))
    etree.cleanup_namespaces(element)
    if whole:
        return etree.tostring(element, method="html", encoding="unicode")
    inner = [element.text or ""] + [etree.tostring(child, method="html", encoding="unicode")
                                    for child in element]
    return "".join(inner)


def _link(href: str, folder: str, renamed: dict[str, str]) -> str:
    if ":" in href.split("#")[0] or href.startswith("#"):
        return href                            # another site, or this page
    target, _, fragment = href.partition("#")
    document = posixpath.normpath(posixpath.join(folder, target))
    page = renamed.get(document)
    if page is None:
        return href
    return page + (f"#{fragment}" if fragment else "")
