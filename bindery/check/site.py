"""A site folder -> what is wrong with it: no download page or feed, a link of a page or of
the feed that leads nowhere in the folder (a missing file, a missing id), a link that leaves
the folder, a feed that is not Atom. Links to other sites are the author's, not checked."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree, html

ATOM = "http://www.w3.org/2005/Atom"
_EXTERNAL = ("http", "https", "mailto", "data", "tel")


def is_site(path: Path) -> bool:
    return path.is_dir() and (path / "index.html").is_file()


def check_site(site: Path) -> tuple[str, list[str]]:
    """A summary ("site: 7 pages, 120 links") and the problems found."""
    problems: list[str] = []
    root = site.resolve()
    for required in ("index.html", "opds.xml"):
        if not (site / required).is_file():
            problems.append(f"{required} is missing")
    pages = sorted(site.rglob("*.html"))
    ids = {}
    links = 0
    for page in pages:
        tree = html.parse(str(page))
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    links += 1
                    problems += _reach(site, root, page, value, ids)
    feed = site / "opds.xml"
    if feed.is_file():
        try:
            atom = etree.parse(str(feed), etree.XMLParser(resolve_entities=False,
                                                          no_network=True)).getroot()
        except etree.XMLSyntaxError as error:
            problems.append(f"opds.xml is not XML: {error}")
        else:
            if atom.tag != f"{{{ATOM}}}feed":
                problems.append("opds.xml is not an Atom feed")
            for link in atom.iter(f"{{{ATOM}}}link"):
                links += 1
                problems += _reach(site, root, feed, link.get("href", ""), ids)
    return f"site: {len(pages)} pages, {links} links", problems


def _reach(site: Path, root: Path, page: Path, link: str, ids: dict) -> list[str]:
    parts = urlsplit(link)
    if parts.scheme in _EXTERNAL:
        return []
    where = page.relative_to(site).as_posix()
    if parts.scheme or parts.netloc or link.startswith("/"):
        return [f"{where}: `{link}` is not relative to the site"]
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
    if not target.is_relative_to(root):
        return [f"{where}: `{link}` leaves the site"]
    if not target.is_file():
        return [f"{where}: `{link}` leads to no file"]
    if parts.fragment and target.suffix == ".html":
        if target not in ids:
            ids[target] = set(html.parse(str(target)).xpath("//@id"))
        if unquote(parts.fragment) not in ids[target]:
            return [f"{where}: `{link}` leads to no element with that id"]
    return []
