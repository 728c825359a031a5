"""An EPUB -> what is wrong with its structure: zip, manifest, language, navigation."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from ..namespaces import XML_LANG
from .reader import Epub


def check_epub(path: Path) -> list[str]:
    """Problems with an EPUB's structure; an empty list when there are none."""
    data = Path(path).read_bytes()
    problems = []
    try:
        epub = Epub(data)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, AttributeError) as error:
        return [f"not a readable EPUB: {error}"]
    first = epub.zip.infolist()[0]
    if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
        problems.append("`mimetype` is not the first entry, stored")
    elif epub.zip.read("mimetype") != b"application/epub+zip":
        problems.append("`mimetype` is not application/epub+zip")
    manifest = epub.manifest
    listed = {epub.path_of(item["href"]) for item in manifest.values()}
    for name in listed - set(epub.names):
        problems.append(f"manifest item `{name}` is not in the zip")
    for name in set(epub.names) - listed - {"mimetype", epub.opf_path}:
        if not name.startswith("META-INF/"):
            problems.append(f"`{name}` is in the zip but not in the manifest")
    language = (epub.metadata("dc:language") or [None])[0]
    if not language:
        problems.append("no dc:language")
    if epub.opf.get(XML_LANG) != language:
        problems.append("package has no xml:lang matching dc:language")
    ids: dict[str, set[str]] = {}
    for item in manifest.values():
        if item["media-type"] != "application/xhtml+xml":
            continue
        if epub.path_of(item["href"]) not in epub.names:
            continue    # reported above
        try:
            root = epub.document(item["href"])
        except etree.XMLSyntaxError as error:
            problems.append(f"`{item['href']}` is not well-formed XML: {error}")
            continue
        if not root.get("lang") or root.get(XML_LANG) != root.get("lang"):
            problems.append(f"`{item['href']}` lacks lang and xml:lang")
        ids[epub.path_of(item["href"])] = {e.get("id") for e in root.iter() if e.get("id")}
    try:
        nav_href = epub.nav_href
    except StopIteration:
        return problems + ["the package has no navigation document"]
    if epub.path_of(nav_href) not in ids:
        return problems + ["the navigation document is missing"]
    for kind in ("toc", "landmarks", "page-list"):
        for href, label in epub.nav(kind):
            target = urlsplit(href)
            document = epub.path_of(target.path)
            if document not in ids:
                problems.append(f"{kind} entry `{label}` points to missing `{href}`")
            elif target.fragment and target.fragment not in ids[document]:
                problems.append(f"{kind} entry `{label}` points to missing id `{href}`")
    if not epub.nav("toc"):
        problems.append("the navigation document has no table of contents")
    return problems
