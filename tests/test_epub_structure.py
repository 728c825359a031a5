"""The EPUB read back from its zip, in the manner of Sphinx's EPUB builder tests."""

from __future__ import annotations

import tomllib
import zipfile
from urllib.parse import urlsplit

import pytest
from lxml import etree

from bindery.check.epub import check_epub
from bindery.check.reader import Epub
from bindery.namespaces import NS

from helpers import BOOK, TINY

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(params=["default", "tiny"])
def built(request, default_book, tiny_book):
    return {"default": default_book, "tiny": tiny_book}[request.param]


def test_epubcheck_reports_no_error_and_no_warning(default_book, tiny_book, epubcheck):
    results = epubcheck(default_book["epub"], tiny_book["epub"])
    for result in results:
        assert (result.fatals, result.errors, result.warnings) == (0, 0, 0), result.messages


def test_mimetype_is_first_and_stored(built):
    with zipfile.ZipFile(built["epub"]) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        assert first.extra == b""


def test_container_points_at_the_package_document(built):
    with zipfile.ZipFile(built["epub"]) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        rootfile = container.find(".//c:rootfile", NS)
        assert rootfile.get("media-type") == "application/oebps-package+xml"
        etree.fromstring(archive.read(rootfile.get("full-path")))


def test_manifest_and_zip_list_the_same_files(built):
    epub = Epub.open(built["epub"])
    listed = {epub.path_of(item["href"]) for item in epub.manifest.values()}
    in_zip = set(epub.names) - {"mimetype", "META-INF/container.xml", epub.opf_path}
    assert listed == in_zip


def test_bindery_structure_check_passes(built):
    assert check_epub(built["epub"]) == []


def test_spine_order(default_book):
    epub = Epub.open(default_book["epub"])
    spine = [href for href in epub.spine if href != epub.nav_href]
    assert spine == ["text/cover.xhtml", "text/titlepage.xhtml", "text/isis-run.xhtml",
                     "text/about-the-author.xhtml", "text/colophon.xhtml"]


def test_spine_follows_the_chapter_order_of_book_toml(tiny_book):
    config = tomllib.loads((TINY / "book.toml").read_text("utf-8"))
    epub = Epub.open(tiny_book["epub"])
    chapters = [href for href in epub.spine
                if href not in ("text/cover.xhtml", "text/titlepage.xhtml", "text/colophon.xhtml",
                                epub.nav_href)]
    expected = ["text/" + name.rsplit("/", 1)[-1].replace(".md", ".xhtml")
                for name in config["chapters"]]
    assert chapters == expected


def test_every_document_parses_and_declares_its_language(built):
    epub = Epub.open(built["epub"])
    language = epub.metadata("dc:language")[0]
    for item in epub.manifest.values():
        if item["media-type"] == "application/xhtml+xml":
            root = epub.document(item["href"])
            assert root.get("lang") == language == root.get(XML_LANG), item["href"]
    assert epub.opf.get(XML_LANG) == language


def test_nav_toc_entries_resolve_to_existing_documents_and_ids(built):
    epub = Epub.open(built["epub"])
    toc = epub.nav("toc")
    assert toc
    for href, label in toc:
        target = urlsplit(href)
        root = epub.document(target.path)
        if target.fragment:
            assert root.xpath("//*[@id=$id]", id=target.fragment), href
        assert label


def test_nav_lists_chapters_and_colophon_in_order(default_book):
    epub = Epub.open(default_book["epub"])
    assert [label for _, label in epub.nav("toc")] == ["ISIS: run.", "About the Author",
                                                       "Colophon"]


def test_landmarks(default_book):
    epub = Epub.open(default_book["epub"])
    nav = epub.document(epub.nav_href)
    types = [a.get(f"{{{NS['epub']}}}type") for a in nav.xpath(
        "//x:nav[@epub:type='landmarks']//x:a", namespaces=NS)]
    assert {"titlepage", "toc", "bodymatter", "backmatter"} <= set(types)
    hrefs = dict(zip(types, [href for href, _ in epub.nav("landmarks")]))
    assert hrefs["bodymatter"] == "text/isis-run.xhtml"
    assert hrefs["backmatter"] == "text/about-the-author.xhtml"


def test_ncx_mirrors_the_toc(built):
    epub = Epub.open(built["epub"])
    ncx_item = next(item for item in epub.manifest.values()
                    if item["media-type"] == "application/x-dtbncx+xml")
    ncx = etree.fromstring(epub.zip.read(epub.path_of(ncx_item["href"])))
    points = ncx.findall(".//ncx:navPoint", NS)
    ncx_entries = [(p.find("ncx:content", NS).get("src"),
                    p.find("ncx:navLabel/ncx:text", NS).text) for p in points]
    assert ncx_entries == epub.nav("toc")
    assert ncx.find(".//ncx:meta[@name='dtb:uid']", NS).get("content") == epub.metadata(
        "dc:identifier")[0]


def test_metadata_values_are_those_of_book_toml(default_book):
    config = tomllib.loads((BOOK / "book.toml").read_text("utf-8"))
    epub = Epub.open(default_book["epub"])
    assert epub.metadata("dc:title") == [config["title"]]
    assert epub.metadata("dc:language") == [config["language"]]
    assert epub.metadata("dc:identifier") == [config["identifier"]]
    assert epub.metadata("dc:description") == [config["description"]]
    assert epub.metadata("dc:rights") == [config["rights"]]
    assert epub.metadata("dc:subject") == config["subjects"]
    assert epub.metadata("dc:creator") == [config["authors"][0]["name"]]
    assert epub.meta("file-as") == ["Vanstreels, Jorge"]
    assert epub.meta("role") == ["aut"]
    unique = epub.opf.get("unique-identifier")
    assert epub.opf.find(f".//dc:identifier[@id='{unique}']", NS).text == config["identifier"]


def test_dcterms_modified_comes_from_source_date_epoch(default_book):
    epub = Epub.open(default_book["epub"])
    assert epub.meta("dcterms:modified") == ["2023-11-14T22:13:20Z"]


def test_two_authors_with_roles(tiny_book):
    epub = Epub.open(tiny_book["epub"])
    assert epub.metadata("dc:creator") == ["Anne Dupont", "Luc Martin"]
    assert epub.meta("file-as") == ["Dupont, Anne", "Martin, Luc"]
    assert epub.meta("role") == ["aut", "edt"]


def test_sections_carry_epub_type_and_matching_role(default_book):
    epub = Epub.open(default_book["epub"])
    article = epub.document("text/isis-run.xhtml")
    section = article.find(".//x:section", NS)
    assert section.get(f"{{{NS['epub']}}}type") == "chapter"
    assert section.get("role") == "doc-chapter"
    body = article.find("x:body", NS)
    assert body.get(f"{{{NS['epub']}}}type") == "bodymatter"
    colophon = epub.document("text/colophon.xhtml")
    assert colophon.find(".//x:section", NS).get("role") == "doc-colophon"
    assert colophon.find("x:body", NS).get(f"{{{NS['epub']}}}type") == "backmatter"
    bio = epub.document("text/about-the-author.xhtml")
    assert bio.find("x:body", NS).get(f"{{{NS['epub']}}}type") == "backmatter"


def test_the_caption_is_a_figure_caption_and_appears_once(default_book):
    epub = Epub.open(default_book["epub"])
    article = epub.document("text/isis-run.xhtml")
    captions = article.findall(".//x:figure/x:figcaption", NS)
    assert len(captions) == 1
    text = " ".join("".join(captions[0].itertext()).split())
    assert text.startswith("An F15 prepares to take off from Incirlik")
    assert epub.text("text/isis-run.xhtml").count("An F15 prepares") == 1
    assert article.findall(".//x:img", NS) == []   # no invented photograph


def test_twitter_handle_is_a_link(default_book):
    epub = Epub.open(default_book["epub"])
    bio = epub.document("text/about-the-author.xhtml")
    links = {a.get("href"): "".join(a.itertext()) for a in bio.iter(f"{{{NS['x']}}}a")}
    assert links == {"https://twitter.com/Jorgevs": "@Jorgevs"}


def test_image_is_a_figure_with_alt_text_and_is_in_the_package(tiny_book):
    epub = Epub.open(tiny_book["epub"])
    chapter = epub.document("text/un.xhtml")
    image = chapter.find(".//x:figure/x:img", NS)
    assert image.get("alt") == "Un diagramme : trois carrés reliés par des flèches"
    href = epub.path_of("text/" + image.get("src"))
    assert href in epub.names
    media = {epub.path_of(i["href"]): i["media-type"] for i in epub.manifest.values()}
    assert media[href] == "image/png"
    assert "".join(chapter.find(".//x:figure/x:figcaption", NS).itertext()) == (
        "Le diagramme du livre")


def test_links_between_chapters_point_into_the_other_document(tiny_book):
    epub = Epub.open(tiny_book["epub"])
    links = [a.get("href") for a in epub.document("text/un.xhtml").iter(f"{{{NS['x']}}}a")]
    assert "deux.xhtml#deux" in links
    assert epub.document("text/deux.xhtml").xpath("//*[@id='deux']")


def test_every_block_has_an_id(built):
    epub = Epub.open(built["epub"])
    for href in epub.spine:
        root = epub.document(href)
        for tag in ("p", "h1", "h2", "li", "figure", "figcaption", "blockquote", "ul", "ol"):
            for element in root.iter(f"{{{NS['x']}}}{tag}"):
                if element.xpath("ancestor::x:nav", namespaces=NS):
                    continue
                assert element.get("id"), (href, tag)


def test_french_book_gets_french_quotes_and_labels(tiny_book):
    epub = Epub.open(tiny_book["epub"])
    text = epub.text("text/un.xhtml")
    assert "«\u202fpetit livre\u202f»" in text
    assert "\u202f!" in text
    assert [label for _, label in epub.nav("toc")][-1] == "Achevé d’imprimer"
    assert epub.metadata("dc:title") == ["Petit traité d’essai"]
