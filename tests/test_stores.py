"""Every reader and every store: the Kobo kepub (spans over every word, Kobo's wrappers,
EPUBCheck clean, the same text as the EPUB) and `bindery check --stores`, which passes the
books Bindery makes and names the store and the rule of each thing it finds."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from bindery.check.reader import Epub
from bindery.check.stores import STORES, check_stores, uncovered_text
from bindery.cli import main
from bindery.epub.images import MAX_PIXELS, for_readers
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, copy_book


@pytest.fixture(params=["default", "tiny", "guide"])
def built(request, default_book, tiny_book, guide_book):
    return {"default": default_book, "tiny": tiny_book, "guide": guide_book}[request.param]


def _documents(epub: Epub) -> list[str]:
    return [item["href"] for item in epub.manifest.values()
            if item["media-type"] == "application/xhtml+xml"]


# -- the kepub ------------------------------------------------------------------------------

def test_every_kepub_passes_epubcheck(default_book, tiny_book, guide_book, epubcheck):
    paths = [default_book["kepub"], tiny_book["kepub"], guide_book["kepub"]]
    for path, result in zip(paths, epubcheck(*paths)):
        assert path.name.endswith(".kepub.epub")
        assert (result.fatals, result.errors, result.warnings) == (0, 0, 0), result.messages


def test_kobo_spans_cover_every_word_and_the_text_is_the_epubs(built):
    epub, kepub = Epub.open(built["epub"]), Epub.open(built["kepub"])
    assert _documents(kepub) == _documents(epub)
    spans = 0
    for href in _documents(kepub):
        body = kepub.document(href).find("x:body", NS)
        # Kobo's wrappers hold the whole body.
        assert [(e.get("id")) for e in body.iter(f"{{{NS['x']}}}div")][:2] == [
            "book-columns", "book-inner"] and len(body) == 1
        assert uncovered_text(body).strip() == "", href
        ids = [span.get("id") for span in body.iter(f"{{{NS['x']}}}span")
               if span.get("class") == "koboSpan"]
        assert len(ids) == len(set(ids)) and all(re.fullmatch(r"kobo\.\d+\.\d+", i)
                                                 for i in ids)
        spans += len(ids)
        # Read back as a reader hears it, the kepub says exactly what the EPUB says.
        assert kepub.text(href) == epub.text(href), href
    assert spans > 20


def test_sentences_are_numbered_as_kepubify_numbers_them(default_book):
    kepub = Epub.open(default_book["kepub"])
    body = kepub.document("text/isis-run.xhtml").find("x:body", NS)
    first = next(p for p in body.iter(f"{{{NS['x']}}}p")
                 if p.find("x:span[@class='koboSpan']", NS) is not None)
    spans = first.findall("x:span[@class='koboSpan']", NS)
    # One paragraph number, segments counting up from 1, a span per sentence.
    assert {span.get("id").split(".")[1] for span in spans} == {spans[0].get("id").split(".")[1]}
    assert [span.get("id").split(".")[2] for span in spans] == [
        str(n) for n in range(1, len(spans) + 1)]
    for span in spans[:-1]:
        assert re.search(r"[.!?]['\"”’“…]?\s+$", span.text or ""), span.text


def test_a_document_the_last_kepub_held_is_not_transformed_again(guide_book, monkeypatch):
    """As ``watch`` makes the kepub after each edit: only a changed document is transformed,
    and the kepub is the one a new process makes."""
    from bindery.builder.request import build_date
    from bindery.epub import kepub

    epub = guide_book["epub"].read_bytes()
    date = build_date()
    first = kepub.make_kepub(epub, date)
    files = kepub.unzip(epub)
    chapter = next(name for name in files if name.endswith(".xhtml") and b"<p" in files[name]
                   and "nav" not in name)
    files[chapter] = files[chapter].replace(b"<p", b"<p title=\"edited\"", 1)
    edited = kepub.zip_epub(files, date)
    transformed = []
    transform = kepub.kobo_document
    monkeypatch.setattr(kepub, "kobo_document",
                        lambda xhtml: transformed.append(xhtml) or transform(xhtml))
    assert kepub.make_kepub(epub, date) == first and transformed == []
    again = kepub.make_kepub(edited, date)
    assert transformed == [files[chapter]]
    kepub._LAST.clear()                         # a new process
    assert kepub.make_kepub(edited, date) == again


def test_the_cover_is_the_first_document_and_the_cover_image(default_book):
    kepub = Epub.open(default_book["kepub"])
    assert kepub.spine[0] == "text/cover.xhtml"
    covers = [item for item in kepub.manifest.values()
              if "cover-image" in item.get("properties", "")]
    assert len(covers) == 1 and covers[0]["media-type"] == "image/png"


# -- store preflight ----------------------------------------------------------------------

def test_bindery_check_stores_passes_the_default_book(default_book):
    result = CliRunner().invoke(main, ["check", "--stores", str(default_book["epub"]),
                                       str(default_book["kepub"])])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"ok for {', '.join(STORES)}") == 2


def _swap_first_two_toc_entries(path) -> None:
    """Rewrite an EPUB's navigation document with its first two contents entries swapped,
    as a hand-edited or another tool's EPUB may have them."""
    with zipfile.ZipFile(path) as source:
        files = {info.filename: source.read(info) for info in source.infolist()}
    nav_name = next(name for name in files if name.endswith("nav.xhtml"))
    root = etree.fromstring(files[nav_name])
    toc = root.find(".//x:nav[@epub:type='toc']/x:ol", NS)
    first, second = toc[0], toc[1]
    toc.remove(second)
    first.addprevious(second)
    files[nav_name] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    with zipfile.ZipFile(path, "w") as target:
        for name, data in files.items():
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(name, data, compress_type=compress)


def _replace_image(path, name: str, data: bytes) -> None:
    """Put another picture in an EPUB, as another tool might have left it."""
    with zipfile.ZipFile(path) as source:
        files = {info.filename: source.read(info) for info in source.infolist()}
    files[name] = data
    with zipfile.ZipFile(path, "w") as target:
        for entry, content in files.items():
            compress = zipfile.ZIP_STORED if entry == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(entry, content, compress_type=compress)


def test_an_oversized_image_and_a_misordered_toc_are_one_line_each(tmp_path):
    built = build_book(copy_book(TINY, tmp_path / "book"), tmp_path / "out",
                       formats=("epub",))
    # Bindery scales its pictures to Apple's limit; another tool's EPUB may not:
    # 2,400 x 2,000 pixels is 4.8 million.
    _replace_image(built["epub"], "EPUB/images/diagramme.png",
                   _encoded(Image.new("RGB", (2400, 2000), (200, 120, 40)), "PNG"))
    _swap_first_two_toc_entries(built["epub"])
    result = CliRunner().invoke(main, ["check", "--stores", str(built["epub"])])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2, result.output
    assert re.fullmatch(r".*petit-traite\.epub: Apple Books: image pixels: .*diagramme\.png "
                        r"is 2400 x 2000 \(4\.8 million pixels\), more than 4 million", lines[0])
    assert re.fullmatch(r".*petit-traite\.epub: Kindle: table of contents order: \".+\" comes "
                        r"after \".+\" in the contents but before it in the reading order",
                        lines[1])


def test_the_store_rules_find_covers_types_titles_and_directions(tmp_path, default_book):
    """Each rule on an EPUB broken for it, from the default book's."""
    with zipfile.ZipFile(default_book["epub"]) as source:
        files = {info.filename: source.read(info) for info in source.infolist()}
    opf = files["EPUB/content.opf"].decode()
    small = io.BytesIO()
    Image.new("RGB", (500, 800), "white").save(small, "PNG")
    files["EPUB/images/cover.png"] = small.getvalue()
    opf = opf.replace('xml:lang="en"', 'xml:lang="he"').replace(
        "<dc:language>en</dc:language>", "<dc:language>he</dc:language>")
    opf = opf.replace("</metadata>", "<dc:title>Second</dc:title></metadata>")
    files["EPUB/content.opf"] = opf.encode()
    files["EPUB/text/cover.xhtml"] = files["EPUB/text/cover.xhtml"].replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n', b"")
    path = tmp_path / "broken.epub"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    found = {(finding.store, finding.rule) for finding in check_stores(path)}
    assert found == {
        ("Apple Books", "cover size"), ("Kindle", "cover size"), ("Google Play Books",
                                                                  "cover size"),
        ("Kindle", "title"), ("Kindle", "encoding"),
        ("Apple Books", "page progression"), ("Kobo", "page progression"),
        ("Google Play Books", "page progression")}


def _encoded(picture, kind: str) -> bytes:
    data = io.BytesIO()
    picture.save(data, kind)
    return data.getvalue()


def test_a_transparent_png_is_laid_on_white_for_the_ebook():
    picture = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    picture.putpixel((1, 1), (0, 0, 0, 255))
    with Image.open(io.BytesIO(for_readers(_encoded(picture, "PNG"), "image/png"))) as flat:
        assert flat.mode == "RGB"
        assert flat.getpixel((0, 0)) == (255, 255, 255) and flat.getpixel((1, 1)) == (0, 0, 0)
    solid = _encoded(Image.new("RGB", (4, 4), "red"), "PNG")
    assert for_readers(solid, "image/png") == solid


@pytest.mark.parametrize("kind,media_type", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_picture_over_4_megapixels_is_scaled_down_for_the_ebook(kind, media_type):
    data = _encoded(Image.new("RGB", (3000, 2000), (10, 120, 200)), kind)
    smaller = for_readers(data, media_type)
    with Image.open(io.BytesIO(smaller)) as picture:
        width, height = picture.size
        assert picture.format == kind
    assert width * height <= MAX_PIXELS and abs(width / height - 1.5) < 0.01
    assert width * height > 0.99 * MAX_PIXELS
    assert for_readers(data, media_type) == smaller          # the same bytes each time


def test_a_right_to_left_book_progresses_right_to_left(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(re.sub(r'language = "fr"', 'language = "ar"',
                             config.read_text("utf-8")), "utf-8")
    built = build_book(book, tmp_path / "out", formats=("epub",))
    epub = Epub.open(built["epub"])
    assert epub.opf.find("opf:spine", NS).get("page-progression-direction") == "rtl"
    assert epub.document(epub.spine[-1]).get("dir") == "rtl"
    assert not [f for f in check_stores(built["epub"]) if f.rule == "page progression"]


# -- Kindle through calibre (tests/tools/install installs calibre) ------------------------

def test_azw3_without_calibre_is_one_line_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no ebook-convert there
    result = CliRunner().invoke(main, ["build", str(TINY), "--out", str(tmp_path / "out"),
                                       "--format", "azw3"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: --format azw3 needs calibre's ebook-convert on the PATH, and there is none "
        "(install calibre, or send the EPUB to Kindle as it is)")
    assert not (tmp_path / "out" / "petit-traite.azw3").exists()


def test_calibres_azw3_shows_no_navigation_list_as_text(default_book, tmp_path):
    """calibre's AZW3 of the EPUB, exported as text: the contents are there, the hidden
    landmarks and page list are not (readers that ignore `hidden` showed them)."""
    assert shutil.which("ebook-convert"), "tests/tools/install installs calibre"
    built = build_book(default_book.book, tmp_path / "out", formats=("azw3",))
    azw3 = built["azw3"]
    assert azw3.read_bytes()[60:68] == b"BOOKMOBI"
    text = tmp_path / "book.txt"
    subprocess.run(["ebook-convert", str(azw3), str(text)], check=True, capture_output=True,
                   timeout=300)
    lines = [line.strip() for line in text.read_text("utf-8").splitlines() if line.strip()]
    assert "Contents" in lines and "To my regret, I was right." in lines
    for label in ("Landmarks", "Pages", "Title page", "Start of reading"):
        assert label not in lines, label
    # No page list: no line that is a page number alone.
    assert not [line for line in lines if line.isdigit()]


def test_a_colour_key_png_stays_in_colour_and_a_photo_keeps_its_orientation():
    # An RGB PNG whose transparency is a colour key: laid on white, still in colour.
    keyed = Image.new("RGB", (4, 4), (200, 30, 30))
    keyed.putpixel((0, 0), (0, 255, 0))
    data = io.BytesIO()
    keyed.save(data, "PNG", transparency=(0, 255, 0))
    with Image.open(io.BytesIO(for_readers(data.getvalue(), "image/png"))) as flat:
        assert flat.mode == "RGB" and flat.getpixel((1, 1)) == (200, 30, 30)
        assert flat.getpixel((0, 0)) == (255, 255, 255)
    # A 3000 x 2000 photograph stored on its side (EXIF orientation 6, "rotate 90"):
    # scaled down, it stands upright, as every viewer shows the original.
    photo = Image.new("RGB", (3000, 2000), (90, 90, 90))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = io.BytesIO()
    photo.save(data, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(for_readers(data.getvalue(), "image/jpeg"))) as upright:
        width, height = upright.size
        assert height > width and width * height <= MAX_PIXELS
