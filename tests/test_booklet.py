"""The saddle-stitch booklet: page order, halves, flips, signatures, creep, scaling."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

import pikepdf
import pytest

from bindery.pdf.booklet import page_order, plan, impose, sheet_for
from bindery.source.units import parse_trim
from bindery.model import BookletSettings

from helpers import placements

A5 = parse_trim("A5")
DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
MM = 72 / 25.4


def numbered_pdf(count: int, width=148 * MM, height=210 * MM) -> bytes:
    """A PDF whose page n shows the text "Pn"."""
    pdf = pikepdf.Pdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    for number in range(1, count + 1):
        page = pdf.add_blank_page(page_size=(width, height))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(
            f"BT /F1 40 Tf {width / 2 - 20} {height / 2} Td (P{number}) Tj ET".encode())
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def read_sides(data: bytes):
    """Each sheet side as ``(left page, right page, turned)``, read from the PDF itself:
    where each form XObject is drawn, and which page's text it holds. Left and right are as
    the side is read once printed: on a side turned by 180 degrees, the page drawn on the
    right half of the PDF page is the left page."""
    sides = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            width = float(page.mediabox[2])
            halves = {"left": None, "right": None}
            turned = set()
            for name, ctm in placements(page):
                form = page.Resources.XObject[name]
                text = form.read_bytes().decode("latin-1")
                number = int(text.split("(P")[1].split(")")[0])
                x0, y0, x1, y1 = [float(v) for v in form.BBox]
                centre_x = ctm[0] * (x0 + x1) / 2 + ctm[2] * (y0 + y1) / 2 + ctm[4]
                halves["left" if centre_x < width / 2 else "right"] = number
                turned.add(ctm[0] < 0 and ctm[3] < 0)
            if turned == {True}:
                halves = {"left": halves["right"], "right": halves["left"]}
            sides.append((halves["left"], halves["right"], turned == {True}))
    return sides


def expected_sides(count: int):
    """Sheet sides for one signature: 8 pages -> 8|1, 2|7, 6|3, 4|5 (None: a blank)."""
    order = page_order(count)
    n = len(order)
    sides = []
    for sheet in range(n // 4):
        sides.append((order[n - 1 - 2 * sheet], order[2 * sheet]))
        sides.append((order[2 * sheet + 1], order[n - 2 - 2 * sheet]))
    return sides


def test_eight_pages_give_the_classic_order():
    assert [(s.left, s.right) for s in plan(8)] == [(8, 1), (2, 7), (6, 3), (4, 5)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 9, 17])
def test_blanks_go_before_the_back_page_only(count):
    order = page_order(count)
    assert len(order) % 4 == 0 and len(order) - count < 4
    text = [page for page in order if page is not None]
    assert text == list(range(1, count + 1))
    if count > 1:
        assert order[-1] == count                       # the back page stays at the back
        first_blank = order.index(None) if None in order else len(order)
        assert all(page is None for page in order[first_blank:-1])


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 9, 17])
@pytest.mark.parametrize("flip", ["short-edge", "long-edge"])
def test_halves_carry_the_expected_pages(count, flip):
    data = impose(numbered_pdf(count), A5, BookletSettings(flip=flip), "T", DATE)
    sides = read_sides(data)
    assert len(sides) == 2 * ((count + 3) // 4)
    for index, ((left, right, turned), (want_left, want_right)) in enumerate(
            zip(sides, expected_sides(count))):
        back = index % 2 == 1
        assert (left, right) == (want_left, want_right), (index, left, right)
        # Long-edge duplex prints every back side turned by 180 degrees; short-edge none.
        if left is not None or right is not None:
            assert turned == (back and flip == "long-edge"), (index, turned)


def test_sheet_is_a4_landscape_for_a5_and_pages_are_not_scaled():
    data = impose(numbered_pdf(4), A5, BookletSettings(), "T", DATE)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert [float(v) for v in pdf.pages[0].mediabox] == pytest.approx(
            [0, 0, 841.89, 595.28], abs=0.01)
        for page in pdf.pages:
            for _, ctm in placements(page):
                assert ctm[0] == pytest.approx(1) and ctm[3] == pytest.approx(1)


@pytest.mark.parametrize("trim, sheet", [("A5", "a4"), ("half-letter", "letter"),
                                         ("A6", "a5"), ("6x9in", "tabloid")])
def test_default_sheet_holds_two_pages(trim, sheet):
    assert sheet_for(parse_trim(trim), None)[0] == sheet


def test_each_page_is_centred_in_its_half():
    data = impose(numbered_pdf(4), A5, BookletSettings(), "T", DATE)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        width, height = float(pdf.pages[0].mediabox[2]), float(pdf.pages[0].mediabox[3])
        for name, ctm in placements(pdf.pages[0]):
            box = [float(v) for v in pdf.pages[0].Resources.XObject[name].BBox]
            left = ctm[4] + box[0]
            right = ctm[4] + box[2]
            half = 0 if left < width / 2 else width / 2
            assert left - half == pytest.approx(half + width / 2 - right, abs=0.01)
            assert ctm[5] + box[1] == pytest.approx(height - (ctm[5] + box[3]), abs=0.01)


def test_a_page_too_big_for_the_half_is_scaled_uniformly():
    data = impose(numbered_pdf(4), A5, BookletSettings(sheet="A5"), "T", DATE)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        width, height = float(pdf.pages[0].mediabox[2]), float(pdf.pages[0].mediabox[3])
        for page in pdf.pages:
            for name, ctm in placements(page):
                assert ctm[0] == pytest.approx(ctm[3]) and ctm[0] < 1   # no distortion
                box = [float(v) for v in page.Resources.XObject[name].BBox]
                assert (box[2] - box[0]) * ctm[0] <= width / 2 + 0.01
                assert (box[3] - box[1]) * ctm[3] <= height + 0.01


def test_signatures_split_the_sheets():
    sides = plan(17, sheets_per_signature=2)
    assert [(s.left, s.right) for s in sides[:4]] == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert [(s.left, s.right) for s in sides[4:8]] == [(16, 9), (10, 15), (14, 11), (12, 13)]
    assert [(s.left, s.right) for s in sides[8:]] == [(17, None), (None, None)]
    assert [s.signature for s in sides] == [0] * 4 + [1] * 4 + [2] * 2
    data = impose(numbered_pdf(17), A5, BookletSettings(sheets_per_signature=2), "T", DATE)
    assert [(left, right) for left, right, _ in read_sides(data)] == [
        (s.left, s.right) for s in sides]


def test_creep_moves_inner_pages_towards_the_fold():
    creep = 0.4
    plain = impose(numbered_pdf(12), A5, BookletSettings(), "T", DATE)
    crept = impose(numbered_pdf(12), A5, BookletSettings(creep_mm=creep), "T", DATE)
    with pikepdf.open(io.BytesIO(plain)) as a, pikepdf.open(io.BytesIO(crept)) as b:
        shifts = []
        for side_a, side_b in zip(a.pages, b.pages):
            for (name, ctm_a), (_, ctm_b) in zip(placements(side_a), placements(side_b)):
                shifts.append((name, ctm_b[4] - ctm_a[4]))
    # 12 pages = 3 sheets: outer sheet 0, middle half the creep, inner sheet all of it.
    by_page = {int(name.removeprefix("/Page")): shift for name, shift in shifts}
    assert by_page[1] == pytest.approx(0) and by_page[12] == pytest.approx(0)
    assert by_page[3] == pytest.approx(-creep / 2 * MM, abs=0.001)    # right half: leftwards
    assert by_page[10] == pytest.approx(creep / 2 * MM, abs=0.001)    # left half: rightwards
    assert by_page[5] == pytest.approx(-creep * MM, abs=0.001)
    assert by_page[8] == pytest.approx(creep * MM, abs=0.001)


def test_the_books_booklet_imposes_its_reading_pdf(default_book):
    """Every page of the reading PDF, untouched, in booklet order; nothing rasterised.
    Pages are known by their content (blank pages all look alike, and may stand for each
    other)."""
    with pikepdf.open(default_book["pdf"]) as reading:
        contents = [hashlib.sha256(page.Contents.read_bytes()).hexdigest()
                    for page in reading.pages]
        deflated = {page.Contents.read_raw_bytes() for page in reading.pages}
        count = len(reading.pages)
    with pikepdf.open(default_book["booklet"]) as booklet:
        assert len(booklet.pages) == 2 * ((count + 3) // 4)
        found = []
        for page in booklet.pages:
            width = float(page.mediabox[2])
            side = {}
            for name, ctm in placements(page):
                form = page.Resources.XObject[name]
                side["left" if ctm[4] < width / 2 else "right"] = hashlib.sha256(
                    form.read_bytes()).hexdigest()
                # carried over as the reading PDF deflated it, not deflated again
                assert form.read_raw_bytes() in deflated
            found.append((side.get("left"), side.get("right")))
        images = [obj for obj in booklet.objects if isinstance(obj, pikepdf.Stream)
                  and obj.stream_dict.get("/Subtype") == "/Image"]
    expected = [tuple(None if number is None else contents[number - 1] for number in side)
                for side in expected_sides(count)]
    assert found == expected
    assert images == []


def test_command_line_options_override_book_toml(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bindery.cli import main
    from helpers import TINY

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = CliRunner().invoke(main, [
        "build", str(TINY), "--out", str(tmp_path), "--format", "booklet",
        "--flip", "long-edge", "--sheet", "A4", "--creep", "0.2mm"])
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "petit-traite-booklet.pdf") as pdf:
        assert [float(v) for v in pdf.pages[0].mediabox] == pytest.approx(
            [0, 0, 841.89, 595.28], abs=0.01)
        back = placements(pdf.pages[1])
        assert back and all(ctm[0] < 0 and ctm[3] < 0 for _, ctm in back)


def test_bad_sheet_and_creep_are_usage_errors(tmp_path):
    from click.testing import CliRunner

    from bindery.cli import main
    from helpers import TINY

    for option in (["--sheet", "napkin"], ["--creep", "lots"]):
        result = CliRunner().invoke(main, ["build", str(TINY), "--out", str(tmp_path),
                                           "--format", "booklet", *option])
        assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []
