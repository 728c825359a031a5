"""What a print shop and a book designer check: marks outside the bleed, a page count the
binding can take, chapters opening on a recto, heads clear of the trim, no two-letter
hyphenation fragments."""

from __future__ import annotations

import re

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader

from conftest import build_book
from helpers import BOOKS, TINY, copy_book, normalise, transform, walk_content

MM = 72 / 25.4
SCALE = 3                      # pixels per point when rendering


def _render(path, index: int):
    """The page as a person sees it, with its box in PDF points and a point -> pixel map."""
    document = pypdfium2.PdfDocument(str(path))
    page = document[index]
    x0, y0, x1, y1 = page.get_cropbox()
    image = page.render(scale=SCALE).to_pil().convert("L")

    def pixel(x: float, y: float) -> tuple[int, int]:
        return int((x - x0) * SCALE), int((y1 - y) * SCALE)

    boxes = {"trim": page.get_trimbox(), "bleed": page.get_bleedbox()}
    document.close()
    return image, boxes, pixel


def _dark(image, box) -> int:
    """How many dark pixels lie in ``box`` (left, top, right, bottom in pixels)."""
    return sum(image.crop(box).histogram()[:128])


def test_the_bleed_is_empty_and_the_marks_are_in_the_slug(default_book):
    with pikepdf.open(default_book["press"]) as pdf:
        count = len(pdf.pages)
    for index in range(count):
        image, boxes, pixel = _render(default_book["press"], index)
        tx0, ty0, tx1, ty1 = boxes["trim"]
        bx0, by0, bx1, by1 = boxes["bleed"]
        # The bleed area around the page (the default book prints nothing into it) is
        # blank: no mark reaches into it. Four bands, trim to bleed.
        left, top = pixel(bx0, by1)
        right, bottom = pixel(bx1, by0)
        inner_left, inner_top = pixel(tx0, ty1)
        inner_right, inner_bottom = pixel(tx1, ty0)
        for band in ((left, top, right, inner_top), (left, inner_bottom, right, bottom),
                     (left, top, inner_left, bottom), (inner_right, top, right, bottom)):
            assert _dark(image, band) == 0, (index, band)
        # Each corner's two marks are in the slug, outside the bleed.
        for cx, cy in ((bx0, by0), (bx0, by1), (bx1, by0), (bx1, by1)):
            x, y = pixel(cx, cy)
            reach = int(10 * MM * SCALE)
            corner = (x - reach if cx == bx0 else x, y - reach if cy == by1 else y,
                      x if cx == bx0 else x + reach, y if cy == by1 else y + reach)
            assert _dark(image, corner) > 20, (index, corner)


def _strokes(path, index: int = 0):
    with pikepdf.open(path) as pdf:
        strokes, points, curves = [], [], 0
        for op, values, ctm, _ in walk_content(pdf.pages[index]):
            if op in ("m", "l"):
                points.append(transform(ctm, values[0], values[1]))
            elif op == "c":
                curves += 1
            elif op in ("S", "s"):
                strokes.append(points)
                points = []
            elif op in ("n", "f", "f*", "re"):
                points = []
        boxes = {name: [float(v) for v in pdf.pages[index].obj[f"/{name}"]]
                 for name in ("MediaBox", "BleedBox", "TrimBox")}
    return strokes, curves, boxes


@pytest.mark.parametrize("marks, strokes, curves", [("crop+registration", 20, 16),
                                                     ("none", 0, 0)])
def test_marks_can_add_registration_targets_or_be_left_out(tmp_path, marks, strokes, curves):
    """Eight crop marks, and with registration a target (two lines, a circle of four
    curves) at the middle of each edge; or nothing, and no slug."""
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + f'\n[press]\nmarks = "{marks}"\n', "utf-8")
    built = build_book(book, tmp_path / "out", formats=("press",))
    drawn, bent, boxes = _strokes(built["press"])
    assert (len(drawn), bent) == (strokes, curves)
    bleed = boxes["BleedBox"]
    for stroke in drawn:
        for x, y in stroke:
            assert x <= bleed[0] or x >= bleed[2] or y <= bleed[1] or y >= bleed[3], (x, y)
    if marks == "none":
        assert boxes["MediaBox"] == pytest.approx(bleed, abs=0.01)


def _page_texts(path) -> list[str]:
    return [normalise(page.extract_text()) for page in PdfReader(path).pages]


def test_a_saddle_stitched_book_has_a_multiple_of_four_pages_colophon_last(default_book):
    texts = _page_texts(default_book["pdf"])
    assert len(texts) % 4 == 0 and len(texts) == len(_page_texts(default_book["press"]))
    assert texts[-1].startswith("Colophon")
    # The blanks are just before the colophon, after the last chapter's text: never
    # inside a chapter.
    before = texts[:-1]
    blanks = len(before) - len("".join("x" if t else " " for t in before).rstrip())
    assert blanks >= 1 and before[-blanks - 1].startswith("About the Author")


def test_each_binding_pads_as_it_needs_to(tmp_path, tiny_book):
    counts = {"saddle": len(_page_texts(tiny_book["pdf"]))}
    for binding in ("perfect", "none"):
        book = copy_book(TINY, tmp_path / binding)
        config = book / "book.toml"
        config.write_text(config.read_text("utf-8").replace(
            '[print]\n', f'[print]\nbinding = "{binding}"\n'), "utf-8")
        texts = _page_texts(build_book(book, tmp_path / f"{binding}-out",
                                       formats=("pdf",))["pdf"])
        assert texts[-1].startswith("Achevé")          # the colophon stays last
        counts[binding] = len(texts)
    unpadded = counts["none"]
    assert counts["perfect"] == unpadded + unpadded % 2
    assert counts["saddle"] == unpadded + -unpadded % 4


def test_the_article_opens_on_a_recto_unless_told_otherwise(default_book, tmp_path):
    texts = _page_texts(default_book["pdf"])
    opening = next(n for n, text in enumerate(texts, 1) if text.startswith("ISIS: run. An F15"))
    assert opening % 2 == 1 and opening == 3
    assert texts[1] == ""                       # the verso behind the title page is blank
    book = copy_book(default_book.book, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8").replace(
        'chapter_start = "recto"', 'chapter_start = "any"'), "utf-8")
    texts = _page_texts(build_book(book, tmp_path / "out", formats=("pdf",))["pdf"])
    assert texts[1].startswith("ISIS: run. An F15")


@pytest.mark.parametrize("name", ["default", "tiny"])
def test_heads_and_folios_stay_10_mm_from_the_trim(name, default_book, tiny_book):
    built = {"default": default_book, "tiny": tiny_book}[name]
    with pikepdf.open(built["pdf"]) as pdf:
        count = len(pdf.pages)
    for index in range(count):
        image, boxes, pixel = _render(built["pdf"], index)
        x0, y0, x1, y1 = boxes["trim"]
        _, top = pixel(x0, y1 - 10 * MM)
        _, bottom = pixel(x0, y0 + 10 * MM)
        assert _dark(image, (0, 0, image.width, top)) == 0, (name, index + 1, "top")
        assert _dark(image, (0, bottom, image.width, image.height)) == 0, (name, index + 1)


HYPHENATED = re.compile(r"(\w+)\u2010\n(\w+)")


@pytest.mark.parametrize("name", ["default", "tiny", "guide"])
def test_no_word_is_broken_leaving_fewer_than_three_letters(name, default_book, tiny_book,
                                                              tmp_path):
    built = {"default": default_book, "tiny": tiny_book}.get(name) or build_book(
        BOOKS / "guide", tmp_path / "out", formats=("pdf",))
    breaks = [match.groups() for page in PdfReader(built["pdf"]).pages
              for match in HYPHENATED.finditer(page.extract_text())]
    short = [(before, after) for before, after in breaks if len(before) < 3 or len(after) < 3]
    assert short == []


# -- the cover wrap -------------------------------------------------------------------

def _perfect_book(target, language: str = "en", identifier: str = "urn:isbn:978-0-306-40615-7",
                  pages_of_text: int = 6):
    book = copy_book(TINY, target)
    config = book / "book.toml"
    text = config.read_text("utf-8")
    text = re.sub(r'identifier = "[^"]*"', f'identifier = "{identifier}"', text)
    text = text.replace('language = "fr"', f'language = "{language}"')
    text = text.replace("[print]\n", '[print]\nbinding = "perfect"\n')
    config.write_text(text + '\n[cover]\ncaliper = "0.9mm"\n', "utf-8")
    annexe = book / "chapitres" / "annexe.md"
    filler = "Du texte pour remplir les pages du livre. " * 150
    annexe.write_text(annexe.read_text("utf-8") + f"\n\n{filler}\n" * pages_of_text, "utf-8")
    return book


def test_a_perfect_bound_book_gets_a_cover_wrap_with_its_spine(tmp_path):
    built = build_book(_perfect_book(tmp_path / "book"), tmp_path / "out",
                       formats=("pdf", "cover"))
    pages = len(PdfReader(built["pdf"]).pages)
    assert pages % 2 == 0
    spine = (pages + 1) // 2 * 0.9
    with pikepdf.open(built["cover"]) as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0].obj
        trim = [float(v) for v in page.TrimBox]
        bleed = [float(v) for v in page.BleedBox]
        media = [float(v) for v in page.MediaBox]
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFX"
    a6_width, a6_height, bleed_mm = 105, 148, 3
    assert (trim[2] - trim[0]) / MM == pytest.approx(2 * a6_width + spine, abs=0.05)
    assert (bleed[2] - bleed[0]) / MM == pytest.approx(2 * a6_width + spine + 2 * bleed_mm,
                                                        abs=0.05)
    assert (bleed[3] - bleed[1]) / MM == pytest.approx(a6_height + 2 * bleed_mm, abs=0.05)
    assert media[0] < bleed[0] and media[2] > bleed[2]         # room for the marks
    text = normalise(PdfReader(built["cover"]).pages[0].extract_text())
    assert "ISBN 978-030640615-7" in text
    assert text.count("Petit traité d'essai") == 2               # the front and the spine
    assert "Anne Dupont et Luc Martin" in text or "Anne Dupont and Luc Martin" in text
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for font in (PdfReader(built["cover"]).pages[0]["/Resources"]["/Font"]).values()}
    assert fonts <= {"Linux-Libertine", "Linux-Libertine-Italic"}, fonts
    # The barcode is drawn: its bars are filled rectangles, not a picture.
    strokes, _, _ = _strokes(built["cover"])
    with pikepdf.open(built["cover"]) as pdf:
        bars = sum(1 for _, operator in pikepdf.parse_content_stream(pdf.pages[0])
                   if str(operator) == "re")
        images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                  and obj.stream_dict.get("/Subtype") == "/Image"]
    assert bars >= 30 and images == []
    assert len(strokes) == 12                      # 8 crop marks, 4 at the spine's folds


def test_the_spine_reads_as_the_language_expects_and_the_cover_is_reproducible(tmp_path):
    def spine_angle(path):
        with pikepdf.open(path) as pdf:
            for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
                if str(operator) == "cm" and abs(float(operands[0])) < 1e-6:
                    return round(float(operands[1]))          # sin of the rotation
        return None

    english = build_book(_perfect_book(tmp_path / "en"), tmp_path / "en-out",
                         formats=("cover",))
    french = build_book(_perfect_book(tmp_path / "fr", language="fr"), tmp_path / "fr-out",
                        formats=("cover",))
    assert spine_angle(english["cover"]) == 1          # top to bottom
    assert spine_angle(french["cover"]) == -1          # bottom to top
    again = build_book(_perfect_book(tmp_path / "en2"), tmp_path / "en2-out",
                       formats=("cover",))
    assert again["cover"].read_bytes() == english["cover"].read_bytes()


@pytest.mark.parametrize("identifier, isbn", [
    ("urn:isbn:978-0-306-40615-7", "9780306406157"),
    ("isbn:0-306-40615-2", "9780306406157"),          # an ISBN-10, converted
    ("978-0-306-40615-8", None),                      # a wrong check digit
    ("urn:uuid:e55e9c35-16c2-4cec-8404-e8adb36778db", None),
])
def test_only_a_real_isbn_gets_a_barcode(identifier, isbn):
    from bindery.pdf.cover import isbn13

    assert isbn13(identifier) == isbn


def test_a_slug_line_names_the_book_page_and_date_outside_the_bleed(tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + "\n[press]\nslug = true\n", "utf-8")
    built = build_book(book, tmp_path / "out", formats=("press",))
    with pikepdf.open(built["press"]) as pdf:
        bleed = [float(v) for v in pdf.pages[1].obj.BleedBox]
        media = [float(v) for v in pdf.pages[1].obj.MediaBox]
        fills, points = [], []
        for op, values, ctm, _ in walk_content(pdf.pages[1]):
            if op in ("m", "l"):
                points.append(transform(ctm, values[0], values[1]))
            elif op == "c":
                points.append(transform(ctm, values[4], values[5]))
            elif op in ("f", "f*"):
                fills.append(points)
                points = []
            elif op in ("S", "n", "re"):
                points = []
    below = [fill for fill in fills if fill and all(y < bleed[1] for _, y in fill)]
    assert len(below) == 1 and len(below[0]) > 200      # one line of glyph outlines
    assert all(media[1] < y for _, y in below[0])       # on the sheet
    # It is the press PDF's alone.
    reading = build_book(book, tmp_path / "reading", formats=("pdf",))
    assert "page 2 of" not in " ".join(p.extract_text() for p in PdfReader(reading["pdf"]).pages)


def test_a_book_s_own_cover_image_is_on_the_e_book_and_the_printed_front(tmp_path):
    from PIL import Image

    from bindery.check.reader import Epub

    book = _perfect_book(tmp_path / "book")
    Image.new("RGB", (800, 1130), (30, 60, 120)).save(book / "images" / "cover.jpg")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8").replace(
        "[cover]\n", '[cover]\nimage = "images/cover.jpg"\n'), "utf-8")
    built = build_book(book, tmp_path / "out", formats=("epub", "cover"))
    assert "EPUB/images/cover.jpg" in Epub.open(built["epub"]).names
    with pikepdf.open(built["cover"]) as pdf:
        images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                  and obj.stream_dict.get("/Subtype") == "/Image"]
    assert len(images) == 1 and int(images[0].Width) == 800
