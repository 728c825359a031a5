"""What a printer checks: page and bleed boxes, fonts, PDF/UA and PDF/X, heads and folios."""

from __future__ import annotations

import re
import shutil

import pikepdf
import pytest
from pypdf import PdfReader

from bindery.check.pdf import pdf_fonts

from conftest import build_book
from helpers import ROOT, long_book, transform, walk_content

A5 = (419.53, 595.28)
BLEED_3MM = 8.50


def _boxes(path):
    with pikepdf.open(path) as pdf:
        return [{name: [float(v) for v in page.obj.get(f"/{name}", page.mediabox)]
                 for name in ("MediaBox", "TrimBox", "BleedBox")} for page in pdf.pages]


def test_reading_pdf_page_is_the_trim(default_book):
    for boxes in _boxes(default_book["pdf"]):
        assert boxes["MediaBox"] == pytest.approx([0, 0, *A5], abs=0.5)
        assert boxes["TrimBox"] == boxes["MediaBox"]


def test_press_pdf_has_trim_and_bleed_boxes(default_book):
    pages = _boxes(default_book["press"])
    assert len(pages) == len(_boxes(default_book["pdf"]))
    for boxes in pages:
        assert boxes["TrimBox"] == pytest.approx([0, 0, *A5], abs=0.01)
        expected = [-BLEED_3MM, -BLEED_3MM, A5[0] + BLEED_3MM, A5[1] + BLEED_3MM]
        assert boxes["BleedBox"] == pytest.approx(expected, abs=0.01)
        # The sheet reaches past the bleed by a slug of at least 6 mm on every side.
        slug = 6 * 72 / 25.4
        media, bleed = boxes["MediaBox"], boxes["BleedBox"]
        assert media[0] <= bleed[0] - slug and media[1] <= bleed[1] - slug
        assert media[2] >= bleed[2] + slug and media[3] >= bleed[3] + slug


def test_bleed_is_configurable(tmp_path):
    book = long_book(tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8").replace('trim = "A6"',
                                                        'trim = "A6"\nbleed = "5mm"'))
    built = build_book(book, tmp_path / "out", formats=("press",))
    boxes = _boxes(built["press"])[0]
    assert boxes["TrimBox"] == pytest.approx([0, 0, 297.64, 419.53], abs=0.01)
    assert boxes["BleedBox"][0] == pytest.approx(-5 * 72 / 25.4, abs=0.01)


def test_crop_marks_lie_outside_the_bleed(default_book):
    """The marks are strokes in the slug, never inside the trimmed page or its bleed."""
    bleed = BLEED_3MM
    with pikepdf.open(default_book["press"]) as pdf:
        page = pdf.pages[0]
        strokes = []
        path = []
        for op, values, ctm, _ in walk_content(page):
            if op in ("m", "l"):
                path.append(transform(ctm, values[0], values[1]))
            elif op in ("S", "s", "B", "B*", "b", "b*"):
                strokes.append(path)
                path = []
            elif op in ("n", "f", "f*", "re"):
                path = []
        assert len(strokes) == 8
        for stroke in strokes:
            for x, y in stroke:
                outside = (x <= -bleed or x >= A5[0] + bleed or y <= -bleed
                           or y >= A5[1] + bleed)
                assert outside, (x, y)


@pytest.mark.parametrize("fmt", ["pdf", "press", "booklet"])
def test_every_font_embedded_none_dejavu(default_book, fmt):
    fonts = pdf_fonts(PdfReader(default_book[fmt]))
    assert fonts and all(fonts.values()), fonts
    assert all("Libertine" in name for name in fonts), fonts


def test_press_embeds_whole_fonts(default_book):
    sizes = {path.stat().st_size for path in (ROOT / "styles" / "fonts").glob("*.otf")}
    with pikepdf.open(default_book["press"]) as pdf:
        programs = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                    and obj.stream_dict.get("/Subtype") == "/OpenType"]
        assert programs
        for program in programs:
            assert len(program.read_bytes()) in sizes
        names = [str(obj.BaseFont) for obj in pdf.objects
                 if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font"]
        assert names and not [name for name in names if "+" in name]


def test_reading_pdf_subsets_fonts(default_book):
    sizes = {path.stat().st_size for path in (ROOT / "styles" / "fonts").glob("*.otf")}
    with pikepdf.open(default_book["pdf"]) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Subtype") == (
                    "/OpenType"):
                assert len(obj.read_bytes()) < min(sizes)


def test_xmp_identifies_pdf_ua(default_book):
    with pikepdf.open(default_book["pdf"]) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert 'pdfuaid:part="1"' in xmp
        assert "<dc:title>" in xmp and "ISIS: run." in xmp
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "en"


def test_press_pdf_is_pdf_x4_with_a_cmyk_output_intent(default_book):
    with pikepdf.open(default_book["press"]) as pdf:
        assert pdf.pdf_version == "1.6"
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
        assert str(pdf.trailer.Info.Trapped) == "/False"
        intent = pdf.Root.OutputIntents[0]
        assert str(intent.S) == "/GTS_PDFX"
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        profile = intent.DestOutputProfile.read_bytes()
        assert profile[12:16] == b"prtr" and profile[16:20] == b"CMYK"
        assert int(intent.DestOutputProfile.N) == 4
        for page in pdf.pages:
            assert "/Annots" not in page.obj     # no annotation inside the bleed box
        colour_spaces = pdf.pages[0].Resources.ColorSpace
        assert "/DefaultRGB" in colour_spaces    # any RGB colour is calibrated


def test_press_pdf_is_reproducible(tmp_path, default_book):
    again = build_book(default_book.book, tmp_path / "again", formats=("press", "booklet"))
    assert again["press"].read_bytes() == default_book["press"].read_bytes()
    assert again["booklet"].read_bytes() == default_book["booklet"].read_bytes()


def test_text_is_set_in_black_ink_only(default_book):
    """Body text is device-cmyk(0 0 0 1): pure black ink, not four-colour black."""
    with pikepdf.open(default_book["press"]) as pdf:
        fills = {fill for op, _, _, fill in walk_content(pdf.pages[2])
                 if op in ("Tj", "TJ")}
        assert fills == {(0.0, 0.0, 0.0, 1.0)}


def _structure(pdf):
    """Tag names in the structure tree, and the MCIDs it holds per page object."""
    tags, mcids = [], {}

    def visit(element, page=None):
        if isinstance(element, pikepdf.Dictionary):
            page = element.get("/Pg", page)
            if "/S" in element:
                tags.append(str(element.S))
            kids = element.get("/K")
            if kids is None:
                return
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, int):
                    mcids.setdefault(page.objgen, set()).add(int(kid))
                else:
                    visit(kid, page)

    visit(pdf.Root.StructTreeRoot)
    return tags, mcids


def test_structure_tree_has_headings_paragraphs_caption_and_links(default_book):
    with pikepdf.open(default_book["pdf"]) as pdf:
        tags, _ = _structure(pdf)
    for tag in ("/Document", "/H1", "/P", "/Caption", "/Link"):
        assert tag in tags, tag
    assert tags.count("/H1") == 4      # title page, article, bio, colophon


def test_running_heads_and_folios_are_pagination_artifacts(default_book):
    with pikepdf.open(default_book["pdf"]) as pdf:
        _, tagged = _structure(pdf)
        page = pdf.pages[3]                          # has a running head and a folio
        artifacts, marked, depth = 0, set(), []
        for op, values, _, _ in walk_content(page):
            if op == "BDC":
                depth.append(str(values[0]))
                if str(values[0]) == "/Artifact" and values[1].get("/Type") == "/Pagination":
                    artifacts += 1
                elif "/MCID" in values[1]:
                    marked.add(int(values[1].MCID))
            elif op == "BMC":
                depth.append(str(values[0]))
            elif op == "EMC":
                depth.pop()
        assert artifacts >= 2
        assert marked == tagged[page.obj.objgen]     # all other text is in the tree


def _pages_text(path):
    return [page.extract_text() for page in PdfReader(path).pages]


def test_no_folio_and_no_running_head_on_the_title_page(default_book, tiny_book):
    for built in (default_book, tiny_book):
        first = _pages_text(built["pdf"])[0]
        assert not re.search(r"\d", first), first


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    built = build_book(long_book(root / "book"), root / "out", formats=("pdf",))
    return built["pdf"]


def test_running_heads_author_on_verso_chapter_title_on_recto(long_pdf):
    texts = _pages_text(long_pdf)
    starts = [i for i, text in enumerate(texts) if "Deuxième chapitre" in text.split("\n")[0]]
    verso = recto = 0
    for index, text in enumerate(texts):
        number = index + 1
        head = text.strip().split("\n")[-1]       # margin boxes are painted last
        if "Deuxième chapitre : la suite" in text.split("\n")[0] and number - 1 in starts:
            continue                              # a chapter opening: no running head
        if "Anne Dupont et Luc Martin".lower() in head.lower():
            assert number % 2 == 0, (number, head)
            assert head.strip().endswith(str(number)) or head.strip().startswith(str(number))
            verso += 1
        if "deuxième chapitre" in head.lower():
            assert number % 2 == 1, (number, head)
            recto += 1
    assert verso >= 1 and recto >= 1


def test_chapter_openings_have_a_drop_folio_only(long_pdf):
    texts = _pages_text(long_pdf)
    for index, text in enumerate(texts):
        lines = [line.strip() for line in text.strip().split("\n")]
        if lines[0] == "Premier chapitre":
            assert lines[-1] == str(index + 1)
            assert "Anne Dupont" not in text


def test_no_widows_or_orphans(tmp_path):
    """No page begins with the last line of a paragraph alone, nor ends with its first."""
    from bindery.convert import convert
    from bindery.sandbox import Sandbox
    from bindery.pdf.layout import lay_out
    from bindery.source import load
    from bindery.render import render
    from weasyprint.formatting_structure import boxes

    book = convert(load(long_book(tmp_path / "book")))
    sandbox = Sandbox(book.root.resolve())
    layout = lay_out(book, render(book, sandbox, "2020-01-01T00:00:00Z"), sandbox)
    def lines(box, counts: dict[str, int]) -> dict[str, int]:
        """Line boxes per paragraph id on one page."""
        if isinstance(box, boxes.MarginBox):
            return counts
        if isinstance(box, boxes.LineBox):
            element_id = box.element.get("id") if box.element is not None else None
            if element_id and box.element_tag == "p":
                counts[element_id] = counts.get(element_id, 0) + 1
            return counts
        for child in getattr(box, "children", ()):
            lines(child, counts)
        return counts

    lines_on_page = [lines(page._page_box, {}) for page in layout.document.pages]
    totals: dict[str, int] = {}
    for counts in lines_on_page:
        for element_id, count in counts.items():
            totals[element_id] = totals.get(element_id, 0) + count
    checked = 0
    for counts in lines_on_page:
        for element_id, count in counts.items():
            if count < totals[element_id]:           # a paragraph split across pages
                assert count >= 2, (element_id, count)
                checked += 1
    assert checked >= 2                               # the long book does split paragraphs


def test_print_contents_page_gives_the_right_page_numbers(tiny_book):
    reader = PdfReader(tiny_book["pdf"])
    texts = [page.extract_text() for page in reader.pages]
    (contents,) = [text for text in texts if text.startswith("Table des matières")]
    outline = {entry.title: reader.get_destination_page_number(entry) + 1
               for entry in reader.outline if not isinstance(entry, list)}
    for title in ("Premier chapitre", "Annexe"):
        line = next(line for line in contents.split("\n") if line.startswith(title))
        assert line.rstrip().endswith(str(outline[title])), line


def test_full_bleed_background_extends_into_the_bleed(tmp_path):
    """A page background that touches the trim edge is painted over the whole bleed box."""
    book = long_book(tmp_path / "book")
    (book / "styles").mkdir()
    shutil.copy(ROOT / "styles" / "print.css", book / "styles" / "print.css")
    with open(book / "styles" / "print.css", "a", encoding="utf-8") as css:
        css.write("\n@page title { background: device-cmyk(0 0.1 0.3 0); }\n")
    built = build_book(book, tmp_path / "out", formats=("pdf", "press"))
    with pikepdf.open(built["press"]) as pdf:
        page = pdf.pages[0]
        media = [float(v) for v in page.mediabox]
        painted = []
        rect = None
        for op, values, ctm, fill in walk_content(page):
            if op == "re":
                x, y, w, h = values
                corners = [transform(ctm, x, y), transform(ctm, x + w, y + h)]
                rect = (min(c[0] for c in corners), min(c[1] for c in corners),
                        max(c[0] for c in corners), max(c[1] for c in corners))
            elif op in ("f", "f*") and rect is not None:
                painted.append((rect, fill))
                rect = None
        tinted = [r for r, fill in painted if fill == (0.0, 0.1, 0.3, 0.0)]
        assert tinted, painted
        x0, y0, x1, y1 = tinted[0]
        assert x0 <= media[0] + 0.01 and y0 <= media[1] + 0.01
        assert x1 >= media[2] - 0.01 and y1 >= media[3] - 0.01
    reading = _boxes(built["pdf"])[0]
    assert reading["MediaBox"] == pytest.approx([0, 0, 297.64, 419.53], abs=0.01)


def _blocks_per_page(book_dir):
    """For each laid-out page, the source tags of its top-level blocks, in order."""
    from bindery.convert import convert
    from bindery.sandbox import Sandbox
    from bindery.pdf.layout import lay_out
    from bindery.source import load
    from bindery.render import render
    from weasyprint.formatting_structure import boxes

    book = convert(load(book_dir))
    sandbox = Sandbox(book.root.resolve())
    layout = lay_out(book, render(book, sandbox, "2020-01-01T00:00:00Z"), sandbox)
    def blocks(box, found: list) -> list:
        if isinstance(box, boxes.MarginBox):
            return found
        if isinstance(box, boxes.BlockBox) and box.element_tag in (
                "p", "h1", "h2", "h3", "figure", "li", "blockquote"):
            found.append((box.element_tag, box.element.get("id")))
            return found
        for child in getattr(box, "children", ()):
            blocks(child, found)
        return found

    return [blocks(page._page_box, []) for page in layout.document.pages]


def test_no_heading_is_left_alone_at_the_foot_of_a_page(tmp_path):
    from helpers import BOOK
    for book in (BOOK, long_book(tmp_path / "book")):
        for number, blocks in enumerate(_blocks_per_page(book), start=1):
            if blocks:
                assert blocks[-1][0] not in ("h1", "h2", "h3"), (book, number, blocks[-1])


def test_caption_stays_with_the_article_opening():
    from helpers import BOOK
    pages = _blocks_per_page(BOOK)
    opening = next(blocks for blocks in pages if ("h1", "isis-run-title") in blocks)
    tags = [tag for tag, _ in opening]
    assert tags[:3] == ["h1", "figure", "p"]
