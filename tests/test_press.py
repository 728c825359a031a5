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
        '[print]\n', '[print]\nchapter_start = "any"\n'), "utf-8")
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
