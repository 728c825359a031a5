"""The site (`<slug>-site/`): the download page, the web edition, the OPDS feed. Read back
from disk (every link relative and reachable, the EPUB's text and ids, sizes and checksums
that match the files), then opened in headless Chromium: every download and contents link
answers, axe-core finds no violation, foliate-js's OPDS client reads the feed, and
screenshots at phone and desktop widths are left in tests/output/."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree, html

from bindery.check.reader import Epub

from browser import SCREENSHOTS, TOOLS, browser, serve

ATOM = "{http://www.w3.org/2005/Atom}"
#: axe-core's rules for WCAG 2.0, 2.1 and 2.2 at levels A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(params=["default", "tiny", "guide"])
def built(request, default_book, tiny_book, guide_book):
    return {"default": default_book, "tiny": tiny_book, "guide": guide_book}[request.param]


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _links(page: Path) -> list[str]:
    tree = html.parse(str(page))
    return [value for element in tree.iter() if isinstance(element.tag, str)
            for name in ("href", "src") if (value := element.get(name)) is not None]


# -- on disk ----------------------------------------------------------------------------

def test_every_link_is_relative_and_reaches_a_file_of_the_site(built):
    site = built["site"]
    assert (site / "index.html").is_file() and (site / "opds.xml").is_file()
    for page in _pages(site):
        for link in _links(page):
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data"):
                continue                  # the author's links, not the site's
            assert not parts.scheme and not link.startswith("/"), (page, link)
            if parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
                assert target.is_file() and target.is_relative_to(site.resolve()), (page, link)
            if parts.fragment:
                document = (page.parent / unquote(parts.path)) if parts.path else page
                ids = html.parse(str(document)).xpath("//@id")
                assert parts.fragment in ids, (page, link)


def test_the_web_edition_has_the_epubs_text_and_ids(built):
    epub = Epub.open(built["epub"])
    read = built["site"] / "read"
    documents = [href for href in epub.spine
                 if href not in ("text/cover.xhtml", epub.nav_href)]
    assert sorted(path.name for path in read.glob("*.html")) == sorted(
        [Path(href).stem + ".html" for href in documents] + ["toc.html"])
    for href in documents:
        page = html.parse(str(read / (Path(href).stem + ".html")))
        main = page.find(".//main")
        assert _squeeze(main.text_content()) == _squeeze(epub.text(href)), href
        body = epub.document(href).find("{http://www.w3.org/1999/xhtml}body")
        assert set(main.xpath(".//@id")) == set(body.xpath(".//@id")) | {"main"}, href
        assert page.getroot().get("lang") == epub.metadata("dc:language")[0]


def test_the_download_page_names_each_file_with_its_size_and_checksum(built):
    site = built["site"]
    page = html.parse(str(site / "index.html"))
    items = page.findall(".//section[@class='downloads']//li")
    offered = {link.get("href") for link in page.findall(".//section[@class='downloads']//a")
               if link.get("href").startswith("downloads/")}
    # Every output of the build but the site itself, each the very file beside it.
    formats = [output for output in built.report.outputs if output.format != "site"]
    assert offered == {f"downloads/{output.path.name}" for output in formats}
    for item in items:
        link = item.find("a")
        data = (site / link.get("href")).read_bytes()
        assert data == (built.out / Path(link.get("href")).name).read_bytes()
        text = item.text_content()
        assert hashlib.sha256(data).hexdigest() in text
        size = re.search(r"([\d.]+) (KB|MB)", text)
        scale = 1024 if size[2] == "KB" else 1024 * 1024
        assert abs(float(size[1]) * scale - len(data)) <= 0.05 * scale
    title = page.findtext(".//h1")
    assert title == Epub.open(built["epub"]).metadata("dc:title")[0]
    data = page.find(".//script[@type='application/ld+json']").text
    assert '"@type": "Book"' in data and "Open Graph" not in data
    assert page.find(".//meta[@property='og:title']").get("content") == title


def test_the_opds_feed_offers_each_file_with_its_media_type(built):
    site = built["site"]
    feed = etree.parse(str(site / "opds.xml")).getroot()
    assert feed.tag == f"{ATOM}feed"
    entry = feed.find(f"{ATOM}entry")
    epub = Epub.open(built["epub"])
    assert entry.findtext(f"{ATOM}id") == epub.metadata("dc:identifier")[0]
    acquisitions = {link.get("href"): link.get("type") for link in entry.findall(f"{ATOM}link")
                    if link.get("rel") == "http://opds-spec.org/acquisition"}
    assert acquisitions[f"downloads/{built['epub'].name}"] == "application/epub+zip"
    assert acquisitions[f"downloads/{built['kepub'].name}"] == "application/kepub+zip"
    assert acquisitions[f"downloads/{built['pdf'].name}"] == "application/pdf"
    for href in acquisitions:
        assert (site / href).is_file()
    images = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    for rel in ("http://opds-spec.org/image", "http://opds-spec.org/image/thumbnail"):
        assert (site / images[rel]).is_file()


def test_fonts_are_woff2_subsets_under_their_own_name(default_book):
    from fontTools.ttLib import TTFont

    fonts = sorted((default_book["site"] / "fonts").glob("*.woff2"))
    assert len(fonts) == 5 and (default_book["site"] / "fonts" / "OFL.txt").is_file()
    for path in fonts:
        assert path.read_bytes()[:4] == b"wOF2" and path.stat().st_size < 80_000
        names = [record.toUnicode() for record in TTFont(path)["name"].names
                 if record.nameID in (1, 4, 6)]
        assert names and not any("Linux Libertine" in name or "LinLibertine" in name
                                 for name in names)


def test_the_made_in_advance_subsets_are_what_the_build_would_make():
    """styles/fonts/web/ holds subsets made by `python -m bindery.site.fonts`: they must be
    what the build makes, or a book would look different with them than without."""
    from bindery.resources import STYLES
    from bindery.site.fonts import REPERTOIRE_TEXT, woff2

    for made in sorted((Path(STYLES) / "fonts" / "web").glob("*.woff2")):
        source = Path(STYLES) / "fonts" / f"{made.stem}.otf"
        assert made.read_bytes() == woff2(source, REPERTOIRE_TEXT), made.name


def test_what_bindery_adds_to_a_page_is_in_the_made_in_advance_subsets(built):
    """What Bindery writes around a book's text (a note's link back to its call, the site's
    own words) is in the subsets made in advance: a book in Latin script does not wait
    seconds for its fonts to be subset in its build."""
    from bindery.site.fonts import REPERTOIRE

    # Formulas are the book's text in another notation (\\sum is ∑ on the page).
    written = set(re.sub(r"<math\b.*?</math>", "", "".join(
        page.read_text("utf-8") for page in _pages(built["site"])), flags=re.S))
    sources = set("".join(path.read_text("utf-8") for path in built.book.rglob("*")
                          if path.suffix in (".md", ".toml")))
    assert {c for c in written - sources if c >= " "} <= REPERTOIRE


# -- in a browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chrome():
    with browser() as chrome:
        yield chrome


def _axe(page) -> list[str]:
    page.add_script_tag(path=str(TOOLS / "axe-core" / "axe.min.js"))
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(result => result.violations.map(v => v.id + ': ' + "
        "v.nodes.map(n => n.target.join(' ')).join(', ')))", AXE_TAGS)
    return violations


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_site_in_a_browser(scheme, chrome, default_book, guide_book):
    for name, built in (("default", default_book), ("guide", guide_book)):
        with serve(built["site"]) as (url, requested):
            page = chrome.new_page(viewport={"width": 1280, "height": 800},
                                   color_scheme=scheme)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url + "index.html")
            assert _axe(page) == [], f"{name} index.html"
            hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
            page.goto(url + "read/toc.html")
            assert _axe(page) == [], f"{name} contents"
            hrefs += page.eval_on_selector_all("main a[href]", "as => as.map(a => a.href)")
            for href in sorted(set(hrefs)):
                if href.startswith(url):
                    response = page.request.get(href)
                    assert response.status == 200, href
            chapters = sorted(built["site"].glob("read/*.html"))
            for chapter in chapters:
                page.goto(url + "read/" + chapter.name)
                assert _axe(page) == [], f"{name} {chapter.name}"
            assert errors == []
            assert not [entry for entry in requested if entry[1] >= 400]
            if scheme == "light" and name == "default":
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                for width, height, label in ((390, 844, "phone"), (1280, 800, "desktop")):
                    page.set_viewport_size({"width": width, "height": height})
                    for path, shot in (("index.html", "index"), ("read/isis-run.html",
                                                                 "chapter")):
                        page.goto(url + path)
                        page.screenshot(path=str(SCREENSHOTS / f"site-{shot}-{label}.png"))
                        # Nothing wider than the screen: no sideways scrolling on a phone.
                        assert page.evaluate(
                            "document.documentElement.scrollWidth") <= width, (path, width)
            page.close()


def test_an_opds_client_reads_the_feed(chrome, default_book, tmp_path):
    """foliate-js's OPDS module (the catalogue reader of Foliate) parses the feed into a
    publication with its acquisition links and cover."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "foliate").symlink_to(TOOLS / "foliate-js", target_is_directory=True)
    (root / "site").symlink_to(default_book["site"], target_is_directory=True)
    (root / "opds.html").write_text(
        "<!DOCTYPE html><meta charset=utf-8><title>OPDS</title><link rel=icon href='data:,'>"
        "<script type=module>import { getFeed } from './foliate/opds.js';"
        "window.readFeed = async url => { const text = await (await fetch(url)).text();"
        "const doc = new DOMParser().parseFromString(text, 'application/xml');"
        "const feed = getFeed(doc); return { "
        "title: feed.metadata.title, publications: (feed.publications ?? []).map(p => ({"
        "title: p.metadata.title, links: p.links.map(l => ({rel: l.rel, type: l.type, "
        "href: l.href})), images: (p.images ?? []).map(i => i.href) })) } };"
        "window.ready = true;</script>", "utf-8")
    with serve(root) as (url, _):
        page = chrome.new_page()
        page.goto(url + "opds.html")
        page.wait_for_function("window.ready === true")
        feed = page.evaluate("url => readFeed(url)", url + "site/opds.xml")
        page.close()
    assert feed["title"] == "ISIS: run."
    [publication] = feed["publications"]
    assert publication["title"] == "ISIS: run."
    acquisitions = {link["type"]: link["href"] for link in publication["links"]
                    if "http://opds-spec.org/acquisition" in str(link["rel"])}
    assert acquisitions["application/epub+zip"] == "downloads/isis-run.epub"
    assert acquisitions["application/kepub+zip"] == "downloads/isis-run.kepub.epub"
    assert "cover/cover.png" in publication["images"]


def test_bindery_check_reads_a_site_and_finds_a_broken_link(default_book, tmp_path):
    import shutil

    from click.testing import CliRunner

    from bindery.cli import main

    site = Path(shutil.copytree(default_book["site"], tmp_path / "isis-run-site"))
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 0, result.output
    assert re.search(r"site: \d+ pages, \d+ links; structure ok", result.output)
    (site / "read" / "colophon.html").unlink()
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    assert "read/about-the-author.html: `colophon.html` leads to no file" in result.output


def test_the_site_offers_what_a_later_build_adds(tmp_path):
    """Built first with the EPUB alone, then with everything: the site is made again and
    offers every file, not only the EPUB it had."""
    from conftest import build_book
    from helpers import TINY, copy_book

    book = copy_book(TINY, tmp_path / "book")
    first = build_book(book, tmp_path / "out", formats=("epub", "site"))
    assert sorted(p.name for p in (first["site"] / "downloads").iterdir()) == [
        "petit-traite.epub"]
    again = build_book(book, tmp_path / "out", formats=("epub", "kepub", "pdf", "site"))
    assert "site" in again.report.rebuilt
    assert sorted(p.name for p in (again["site"] / "downloads").iterdir()) == [
        "petit-traite.epub", "petit-traite.kepub.epub", "petit-traite.pdf"]
