"""Rebuild after an edit: exactly the outputs that depend on what changed, laid out once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bindery.pdf import layout as layout_module
from bindery import builder as pipeline
from bindery.builder import FORMATS, BuildRequest
from bindery.check.reader import Epub
from bindery.cli import main
from bindery.errors import BookError

from conftest import build_book
from helpers import (EPOCH, ROOT, TINY, copy_book, interruptible, output_contents,
                     source_date_epoch)

ALL = ("booklet", "cover", "epub", "kepub", "pdf", "press", "site")
#: What an edit of the e-book's own sources remakes: the EPUB, and the kepub and site made
#: from it.
EBOOKS = ["epub", "kepub", "site"]


@pytest.fixture
def book(tmp_path):
    """A private copy of the tiny book, built once into its own output folder."""
    book = copy_book(TINY, tmp_path / "book")
    build_book(book, tmp_path / "out", formats=FORMATS)
    return book


def rebuild(book: Path, **options) -> pipeline.BuildReport:
    with source_date_epoch(options.pop("epoch", EPOCH)):
        return pipeline.build(BuildRequest(book, book.parent / "out", **options))


def test_an_unchanged_book_rebuilds_nothing(book):
    report = rebuild(book)
    assert report.rebuilt == [] and not report.laid_out
    assert sorted(output.format for output in report.outputs) == sorted(ALL)


def test_a_book_with_pictures_outside_images_is_up_to_date_after_its_first_build(tmp_path):
    """mdBook's books keep their pictures beside the chapters (``src/img/``): the first
    build records them as inputs, as the next build's plan lists them, so that a build
    with nothing changed makes nothing (it used to make all seven outputs again), and a
    changed picture still makes them again."""
    book = copy_book(TINY, tmp_path / "book")
    (book / "chapitres" / "img").mkdir()
    shutil.move(book / "images" / "diagramme.png", book / "chapitres" / "img" / "figure.png")
    for chapter in (book / "chapitres").glob("*.md"):
        chapter.write_text(chapter.read_text("utf-8").replace(
            "../images/diagramme.png", "img/figure.png"), "utf-8")
    build_book(book, tmp_path / "out", formats=FORMATS)
    assert rebuild(book).rebuilt == []
    picture = book / "chapitres" / "img" / "figure.png"
    picture.write_bytes(picture.read_bytes() + b"\0")     # the same picture, other bytes
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    assert rebuild(book).rebuilt == []


def _picture(path: Path, colour: tuple) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (60, 90), colour).save(path)


def _style(book: Path, name: str, rules: str) -> None:
    """The book's own stylesheet ``name`` (print.css, epub.css): Bindery's, and ``rules``."""
    (book / "styles").mkdir(exist_ok=True)
    (book / "styles" / name).write_text(
        (ROOT / "styles" / name).read_text("utf-8") + rules, "utf-8")


def _cover_in_art(book: Path) -> None:
    """A cover image of the book's own outside ``images/``: ``art/front.png``."""
    _picture(book / "art" / "front.png", (200, 30, 30))
    config = book / "book.toml"
    config.write_text('cover = "art/front.png"\n' + config.read_text("utf-8"), "utf-8")


def _as_a_new_build_makes_it(book: Path, tmp_path: Path, name: str) -> None:
    """Every output and the manifest as a new build of the same sources makes them."""
    fresh = build_book(book, tmp_path / name, formats=FORMATS).out
    made = {name: data for name, data in output_contents(book.parent / "out").items()
            if not name.endswith(".stamp")}      # left by a build with nothing to do
    assert made == output_contents(fresh)


def test_a_new_cover_image_outside_images_makes_the_cover_wrap_again(tmp_path):
    """The cover image is on the e-book's cover and on the front of the print cover wrap:
    kept outside ``images/`` (``cover = "art/front.png"``), it was an input of the e-books
    only, and a new picture left the wrap printing the old one."""
    book = copy_book(TINY, tmp_path / "book")
    _cover_in_art(book)
    build_book(book, tmp_path / "out", formats=FORMATS)
    wrap = tmp_path / "out" / "petit-traite-cover.pdf"
    red = wrap.read_bytes()
    _picture(book / "art" / "front.png", (30, 30, 200))
    report = rebuild(book)
    assert sorted(report.rebuilt) == ["cover", "epub", "kepub", "site"]
    assert wrap.read_bytes() != red
    fresh = build_book(book, tmp_path / "fresh", formats=FORMATS).out
    assert wrap.read_bytes() == (fresh / wrap.name).read_bytes()


def test_a_file_a_stylesheet_reads_outside_the_listed_folders_is_an_input(tmp_path):
    """A book's stylesheet may read any file of the book (a heading's background in
    ``art/``): the layout's reads are recorded, so that a new picture makes the PDFs again,
    also after a build that made only the e-books and laid nothing out."""
    from PIL import Image

    book = copy_book(TINY, tmp_path / "book")
    (book / "art").mkdir()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(book / "art" / "rule.png")
    _style(book, "print.css", "\nh1 { background: url(../art/rule.png) no-repeat; }\n")
    build_book(book, tmp_path / "out", formats=FORMATS)
    assert rebuild(book).rebuilt == []
    _style(book, "epub.css", "\np { margin: 0 }\n")
    report = rebuild(book)
    assert report.rebuilt == EBOOKS and not report.laid_out
    Image.new("RGB", (40, 40), (30, 30, 200)).save(book / "art" / "rule.png")
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    fresh = build_book(book, tmp_path / "fresh", formats=FORMATS).out
    for name in ("petit-traite.pdf", "petit-traite-press.pdf"):
        assert (tmp_path / "out" / name).read_bytes() == (fresh / name).read_bytes()
    assert rebuild(book).rebuilt == []


def _wrap_showing(book: Path, name: str) -> None:
    """The book's own cover template, showing ``art/<name>.png`` on the back."""
    _cover_in_art(book)
    _picture(book / "art" / f"{name}.png", (30, 30, 200))
    template = (ROOT / "templates" / "print" / "cover.html").read_text("utf-8")
    (book / "templates" / "print").mkdir(parents=True)
    back = f"{{{{ cover_image | replace('front.png', '{name}.png') }}}}"
    (book / "templates" / "print" / "cover.html").write_text(template.replace(
        "</style>", f".back {{ background: url({back}); }}\n</style>", 1), "utf-8")


def test_the_cover_image_a_print_stylesheet_shows_is_an_input_of_the_pdfs(tmp_path):
    """The cover image is an input of the e-books and the wrap (``cover``); a print
    stylesheet that shows it too makes it an input of the layout's outputs."""
    book = copy_book(TINY, tmp_path / "book")
    _cover_in_art(book)
    _style(book, "print.css", "\nh1 { background: url(../art/front.png) no-repeat; }\n")
    build_book(book, tmp_path / "out", formats=FORMATS)
    assert rebuild(book).rebuilt == []
    _picture(book / "art" / "front.png", (30, 200, 30))
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    _as_a_new_build_makes_it(book, tmp_path, "fresh")


def test_a_file_only_the_cover_wrap_reads_stays_an_input_while_the_wrap_is_left(tmp_path):
    """A cover template of the book's own that shows a picture of ``art/``: a chapter edit
    leaves the wrap as it is (the same page count), and the picture is still an input."""
    book = copy_book(TINY, tmp_path / "book")
    _wrap_showing(book, "back")
    build_book(book, tmp_path / "out", formats=FORMATS)
    wrap = (tmp_path / "out" / "petit-traite-cover.pdf").read_bytes()
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\nUn mot de plus.\n", "utf-8")
    assert "cover" not in rebuild(book).rebuilt
    _picture(book / "art" / "back.png", (200, 200, 30))
    assert "cover" in rebuild(book).rebuilt
    assert (tmp_path / "out" / "petit-traite-cover.pdf").read_bytes() != wrap
    _as_a_new_build_makes_it(book, tmp_path, "fresh")


def test_a_read_file_whose_name_the_manifest_cannot_hold_does_not_spoil_it(tmp_path):
    """``art/rule:1.png`` reads as a drive letter to the manifest's check: it is left out
    of what the build records, and the manifest stays valid (it was thrown away, and every
    build made everything again)."""
    book = copy_book(TINY, tmp_path / "book")
    _picture(book / "art" / "rule:1.png", (200, 30, 30))
    _style(book, "print.css", '\nh1 { background: url("../art/rule:1.png") no-repeat; }\n')
    build_book(book, tmp_path / "out", formats=FORMATS)
    assert rebuild(book).rebuilt == []


def test_files_no_longer_read_are_no_longer_inputs(tmp_path):
    """A file the layout read and a file a code block included, no longer read after a
    chapter edit (the wrap left as it is), stop being inputs: a change to them then makes
    nothing; and a picture both shown by a chapter and read by the layout stays an input
    of every output when the chapter no longer shows it."""
    book = copy_book(TINY, tmp_path / "book")
    _picture(book / "art" / "quote.png", (200, 30, 30))
    _picture(book / "art" / "both.png", (30, 30, 200))
    (book / "listings").mkdir()
    (book / "listings" / "a.rs").write_text("fn main() {}\n", "utf-8")
    _style(book, "print.css", "\nh4 { background: url(../art/quote.png) no-repeat; }"
           + "\nh1 { background: url(../art/both.png) no-repeat; }\n")
    chapter = book / "chapitres" / "deux.md"
    text = chapter.read_text("utf-8")
    chapter.write_text(text + "\n#### Un intertitre\n\n![Les deux](../art/both.png)\n\n"
                       "```rust\n{{#include ../listings/a.rs}}\n```\n", "utf-8")
    build_book(book, tmp_path / "out", formats=FORMATS)
    assert rebuild(book).rebuilt == []
    chapter.write_text(text + "\nUne phrase.\n\n```rust\nfn main() {}\n```\n", "utf-8")
    assert "cover" not in rebuild(book).rebuilt
    assert rebuild(book).rebuilt == []
    _as_a_new_build_makes_it(book, tmp_path, "fresh")
    _picture(book / "art" / "quote.png", (30, 200, 30))
    (book / "listings" / "a.rs").write_text("fn main() { }\n", "utf-8")
    assert rebuild(book).rebuilt == []
    _picture(book / "art" / "both.png", (200, 200, 30))
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    _as_a_new_build_makes_it(book, tmp_path, "fresh2")


def test_a_wrap_whose_template_a_code_block_includes_is_made_again_when_it_changes(
        tmp_path):
    """A file a code block includes is no chapter text when the wrap reads it too: the
    book's cover template, shown in a chapter as a listing."""
    book = copy_book(TINY, tmp_path / "book")
    (book / "templates" / "print").mkdir(parents=True)
    template = book / "templates" / "print" / "cover.html"
    template.write_text((ROOT / "templates" / "print" / "cover.html").read_text("utf-8"),
                        "utf-8")
    chapter = book / "chapitres" / "annexe.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n```html\n"
                       "{{#include ../templates/print/cover.html}}\n```\n", "utf-8")
    build_book(book, tmp_path / "out", formats=FORMATS)
    template.write_text(template.read_text("utf-8").replace(
        "</style>", ".front { outline: 1mm solid red; }\n</style>", 1), "utf-8")
    assert "cover" in rebuild(book).rebuilt
    _as_a_new_build_makes_it(book, tmp_path, "fresh")


def test_what_the_wrap_reads_itself_is_an_input_of_the_wrap_only(tmp_path):
    """The wrap's template's picture is an input of the wrap (and of the site that offers
    it), not of the PDFs: a reading PDF made before the wrap is not made again for it."""
    book = copy_book(TINY, tmp_path / "book")
    _wrap_showing(book, "back")
    build_book(book, tmp_path / "out", formats=("pdf",))
    assert sorted(rebuild(book).rebuilt) == sorted(set(ALL) - {"pdf"})
    assert rebuild(book).rebuilt == []
    _as_a_new_build_makes_it(book, tmp_path, "fresh")
    _picture(book / "art" / "back.png", (200, 200, 30))
    assert sorted(rebuild(book).rebuilt) == ["cover", "site"]
    _as_a_new_build_makes_it(book, tmp_path, "fresh2")


def test_a_picture_a_chapter_stops_showing_stays_an_input_of_the_wrap_that_shows_it(
        tmp_path):
    book = copy_book(TINY, tmp_path / "book")
    _wrap_showing(book, "back")
    chapter = book / "chapitres" / "un.md"
    text = chapter.read_text("utf-8")
    chapter.write_text(text + "\n![Le dos](../art/back.png)\n", "utf-8")
    build_book(book, tmp_path / "out", formats=FORMATS)
    chapter.write_text(text + "\nSans image.\n", "utf-8")
    assert "cover" not in rebuild(book).rebuilt
    _picture(book / "art" / "back.png", (200, 200, 30))
    assert "cover" in rebuild(book).rebuilt
    _as_a_new_build_makes_it(book, tmp_path, "fresh")


def test_an_ebook_only_build_records_the_includes_it_read(tmp_path):
    """Without a page list the EPUB needs no layout, though its chapters changed: the files
    its code blocks include are this build's, what the layout read is the last layout's."""
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + "\n[epub]\npage_list = false\n", "utf-8")
    (book / "listings").mkdir()
    (book / "listings" / "a.rs").write_text("fn main() {}\n", "utf-8")
    chapter = book / "chapitres" / "deux.md"
    text = chapter.read_text("utf-8")
    chapter.write_text(text + "\n```rust\n{{#include ../listings/a.rs}}\n```\n", "utf-8")
    build_book(book, tmp_path / "out", formats=FORMATS)
    chapter.write_text(text + "\n```rust\nfn main() {}\n```\n", "utf-8")
    assert not rebuild(book, formats=("epub",)).laid_out
    rebuild(book)
    assert rebuild(book).rebuilt == []
    _as_a_new_build_makes_it(book, tmp_path, "fresh")


def test_the_warnings_of_outputs_left_as_they_are_are_said_again(tmp_path):
    """A build that makes the e-books only (an ``epub.css`` edit) still says what the
    layout of the PDFs it leaves said, and ``--strict`` still refuses it."""
    book = copy_book(TINY, tmp_path / "book")
    _style(book, "print.css", "\nh1 { frobnicate: 3 }\n")
    first = build_book(book, tmp_path / "out", formats=FORMATS).report
    said = [str(warning) for warning in first.warnings if "frobnicate" in str(warning)]
    assert said
    _style(book, "epub.css", "\np { margin: 0 }\n")
    report = rebuild(book)
    assert report.rebuilt == EBOOKS and not report.laid_out
    assert said[0] in map(str, report.warnings)
    with pytest.raises(BookError, match="frobnicate"):
        rebuild(book, strict=True)
    # The e-books alone are not the print outputs: the layout's warnings are not theirs.
    assert not [w for w in rebuild(book, formats=("epub",), strict=True).warnings]
    _style(book, "print.css", "")
    assert not [w for w in rebuild(book).warnings if "frobnicate" in str(w)]


def test_the_warnings_said_are_those_of_the_outputs_asked_for(tmp_path):
    """A perfect-bound tiny book's wrap warns that its spine is too thin: a build of the
    EPUB alone neither forgets that warning for the next full build nor says it itself."""
    book = copy_book(TINY, tmp_path / "book")
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8").replace(
        "[print]\n", '[print]\nbinding = "perfect"\n'), "utf-8")
    first = build_book(book, tmp_path / "out", formats=FORMATS).report
    assert [w for w in first.warnings if "spine" in str(w)]
    (tmp_path / "out" / "petit-traite.epub").unlink()
    assert rebuild(book, formats=("epub",), strict=True).rebuilt == ["epub"]
    assert not rebuild(book, formats=("epub",), strict=True).rebuilt
    with pytest.raises(BookError, match="spine"):
        rebuild(book, strict=True)


def test_a_stray_chapter_file_come_and_gone_keeps_the_chapters_warnings(tmp_path):
    """Only the chapter files present changed (a stray ``.md``, then not): nothing is made,
    the book is read again for its warnings, and its chapters' are kept (raw HTML taken
    out), so that ``--strict`` refuses as it would in a new folder."""
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n<blink>oh</blink>\n", "utf-8")
    first = build_book(book, tmp_path / "out", formats=FORMATS).report
    assert [w for w in first.warnings if "blink" in str(w)]
    stray = book / "chapitres" / "orphelin.md"
    stray.write_text("---\ntitle: Orphelin\n---\n\nSeul.\n", "utf-8")
    assert rebuild(book).rebuilt == []
    stray.unlink()
    with pytest.raises(BookError, match="blink"):
        rebuild(book, strict=True)


def test_touching_a_file_without_changing_it_rebuilds_nothing(book):
    chapter = book / "chapitres" / "un.md"
    later = time.time() + 100
    os.utime(chapter, (later, later))
    os.utime(book / "book.toml", (later, later))
    assert rebuild(book).rebuilt == []


def test_a_one_word_edit_rebuilds_everything_from_one_layout(book, monkeypatch):
    """Everything but the cover wrap, which shows the page count (unchanged) and none of
    the text: it is left as it is, the bytes a new build makes."""
    calls = []
    original = layout_module.lay_out

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(layout_module, "lay_out", counting)
    wrap = book.parent / "out" / "petit-traite-cover.pdf"
    made = wrap.stat().st_mtime_ns
    chapter = book / "chapitres" / "un.md"
    chapter.write_text(chapter.read_text("utf-8").replace("petit livre", "grand livre"))
    report = rebuild(book)
    assert sorted(report.rebuilt) == sorted(set(ALL) - {"cover"})
    assert len(calls) == 1
    assert wrap.stat().st_mtime_ns == made
    epub = Epub.open(book.parent / "out" / "petit-traite.epub")
    assert "grand livre" in epub.text("text/un.xhtml")
    reason = next(o.reason for o in report.outputs if o.format == "epub")
    assert "chapitres/un.md" in reason
    fresh = build_book(book, book.parent / "fresh", formats=FORMATS).out
    assert output_contents(book.parent / "out").keys() == output_contents(fresh).keys()
    for name, data in output_contents(fresh).items():
        if not name.startswith("."):
            assert (book.parent / "out" / name).read_bytes() == data, name
    assert rebuild(book).rebuilt == []


def test_the_cover_wrap_is_made_again_when_the_page_count_changes(book):
    """The spine is as wide as the book is thick: a chapter that adds pages makes the
    wrap again (perfect binding: a wider spine), and the same chapter back makes it as
    the first build made it."""
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8").replace(
        "[print]\n", '[print]\nbinding = "perfect"\n'), "utf-8")
    rebuild(book)
    wrap = book.parent / "out" / "petit-traite-cover.pdf"
    first = wrap.read_bytes()
    chapter = book / "chapitres" / "deux.md"
    text = chapter.read_text("utf-8")
    chapter.write_text(text + "\n\n" + "Un paragraphe de plus, pour la longueur. " * 400,
                       "utf-8")
    report = rebuild(book)
    assert "cover" in report.rebuilt and wrap.read_bytes() != first
    chapter.write_text(text, "utf-8")
    report = rebuild(book)
    assert "cover" in report.rebuilt and wrap.read_bytes() == first


def test_an_epub_stylesheet_edit_rebuilds_the_epub_only_without_a_layout(book):
    (book / "styles").mkdir()
    css = (ROOT / "styles" / "epub.css").read_text("utf-8") + "\nem { font-style: italic; }\n"
    (book / "styles" / "epub.css").write_text(css, "utf-8")
    report = rebuild(book)
    assert report.rebuilt == EBOOKS and not report.laid_out
    epub = Epub.open(book.parent / "out" / "petit-traite.epub")
    assert "em { font-style: italic; }" in epub.zip.read("EPUB/styles/book.css").decode()
    assert epub.nav("page-list")                     # the page map came from the manifest


def test_an_epub_template_edit_rebuilds_the_epub_only(book):
    (book / "templates" / "epub").mkdir(parents=True)
    template = (ROOT / "templates" / "epub" / "chapter.xhtml").read_text("utf-8")
    (book / "templates" / "epub" / "chapter.xhtml").write_text(
        template.replace("{% block content %}", "{% block content %}<!-- local -->"), "utf-8")
    assert rebuild(book).rebuilt == EBOOKS
    epub = Epub.open(book.parent / "out" / "petit-traite.epub")
    assert b"<!-- local -->" in epub.zip.read("EPUB/text/un.xhtml")


def test_a_shared_template_or_print_style_edit_rebuilds_everything(book):
    (book / "templates" / "partials").mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "partials" / "colophon.html",
                book / "templates" / "partials" / "colophon.html")
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    (book / "styles").mkdir()
    css = (ROOT / "styles" / "print.css").read_text("utf-8") + "\nblockquote { margin: 0 }\n"
    (book / "styles" / "print.css").write_text(css, "utf-8")
    report = rebuild(book)
    assert sorted(report.rebuilt) == sorted(ALL) and report.laid_out


def test_a_font_edit_rebuilds_everything(book):
    fonts = book / "styles" / "fonts"
    fonts.mkdir(parents=True)
    # The book's own regular face replaces Bindery's (here: the italic, to see it change).
    shutil.copy(ROOT / "styles" / "fonts" / "LinLibertine_RI.otf",
                fonts / "LinLibertine_R.otf")
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)


def test_book_toml_edits(book):
    config = book / "book.toml"
    text = config.read_text("utf-8")
    config.write_text(text.replace("Un petit livre", "Un très petit livre"), "utf-8")
    assert sorted(rebuild(book).rebuilt) == sorted(ALL)
    config.write_text(config.read_text("utf-8") + '\n[booklet]\nflip = "long-edge"\n')
    report = rebuild(book)
    assert report.rebuilt == ["booklet", "site"] and not report.laid_out


def test_booklet_options_on_the_command_line_rebuild_the_booklet_only(book):
    report = rebuild(book, booklet=pipeline.BookletOverrides(creep_mm=0.3))
    assert report.rebuilt == ["booklet", "site"] and not report.laid_out


def test_a_deleted_output_is_made_again_and_a_changed_one_is_left_alone(book):
    out = book.parent / "out"
    (out / "petit-traite.pdf").unlink()
    assert sorted(rebuild(book).rebuilt) == ["pdf", "site"]      # the site offers it
    press = out / "petit-traite-press.pdf"
    with open(press, "ab") as handle:
        handle.write(b"%someone's edit")
    changed = press.read_bytes()
    with pytest.raises(BookError, match="did not make"):
        rebuild(book)                 # someone's work: never overwritten
    assert press.read_bytes() == changed
    press.rename(out / "kept.pdf")
    assert sorted(rebuild(book).rebuilt) == ["press", "site"]


def test_force_and_a_new_epoch_rebuild_everything(book):
    assert sorted(rebuild(book, force=True).rebuilt) == sorted(ALL)
    assert sorted(rebuild(book, epoch="1800000000").rebuilt) == sorted(ALL)


def test_a_failed_build_leaves_manifest_and_outputs_as_they_were(book):
    out = book.parent / "out"
    before = output_contents(out)
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text("---\ntitle: Deux\n---\n\n![](../images/none.png)\n", "utf-8")
    with pytest.raises(BookError, match="has no alt text"):
        rebuild(book)
    assert output_contents(out) == before


def _run(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "bindery", *args], cwd=ROOT,
                          env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})},
                          capture_output=True, text=True, **kwargs)


def test_a_no_op_build_imports_neither_weasyprint_nor_ebooklib(book):
    script = (
        "import sys\n"
        "from bindery.cli import main\n"
        f"main(['build', {str(book)!r}, '--out', {str(book.parent / 'out')!r}],"
        " standalone_mode=False)\n"
        "print('imported:', [m for m in ('weasyprint', 'ebooklib', 'pydyf', 'PIL')"
        " if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert done.returncode == 0, done.stderr
    assert "nothing to do" in done.stdout
    assert "imported: []" in done.stdout


def test_new_book_builds_and_passes_check(tmp_path):
    title = 'Tom & Jerry: "Les Misérables" <d’été>'
    result = CliRunner().invoke(main, ["new", str(tmp_path / "nb"), "--title", title,
                                       "--author", "Zoë O'Brien & Co.", "--language", "fr"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "nb" / "dist"
    done = _run("build", str(tmp_path / "nb"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    # The EPUB, the PDFs and the site (the kepub is the EPUB's documents: test_stores.py).
    checked = _run("check", *[str(p) for p in sorted(out.glob("[!.]*"))
                              if not p.name.endswith(".kepub.epub")])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 errors / 0 warnings" in checked.stdout and "Ace: 0 violations" in checked.stdout
    epub = Epub.open(next(out.glob("*.epub")))
    assert epub.metadata("dc:title") == ["Tom & Jerry\u202f: «\u202fLes Misérables\u202f» "
                                         "<d’été>"]
    assert epub.metadata("dc:creator") == ["Zoë O'Brien & Co."]


def test_new_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    result = CliRunner().invoke(main, ["new", str(tmp_path / "taken"), "--title", "T",
                                       "--author", "A"])
    assert result.exit_code == 1 and "not an empty folder" in result.output


def test_clean_removes_outputs_and_manifest(book):
    out = book.parent / "out"
    result = CliRunner().invoke(main, ["clean", str(book), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not out.exists()


def test_watch_rebuilds_after_edits_and_survives_errors(book):
    import threading

    out = book.parent / "out"
    chapter = book / "chapitres" / "un.md"
    config = book / "book.toml"
    epub = out / "petit-traite.epub"
    process = subprocess.Popen(
        [sys.executable, "-m", "bindery", "watch", str(book), "--out", str(out),
         "--format", "epub"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=interruptible, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    said: list[str] = []
    errors: list[str] = []
    readers = [threading.Thread(target=lambda s=stream, lines=lines: lines.extend(s),
                                daemon=True)
               for stream, lines in ((process.stdout, said), (process.stderr, errors))]
    for reader in readers:
        reader.start()

    def wait_for(condition, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return False

    def epub_text():
        try:
            return Epub.open(epub).text("text/un.xhtml")
        except Exception:
            return ""

    try:
        # Edit only once the watcher says it watches: an earlier edit would go unseen.
        assert wait_for(lambda: any(line.startswith("watching") for line in said))
        chapter.write_text(chapter.read_text("utf-8") + "\nZanzibar.\n", "utf-8")
        assert wait_for(lambda: "Zanzibar" in epub_text())
        good = epub.read_bytes()
        text = config.read_text("utf-8")
        config.write_text(text.replace("title =", "title = =", 1), "utf-8")
        assert wait_for(lambda: any("error:" in line for line in errors))
        assert epub.read_bytes() == good             # the last good output stays
        config.write_text(text, "utf-8")
        chapter.write_text(chapter.read_text("utf-8") + "\nTombouctou.\n", "utf-8")
        assert wait_for(lambda: "Tombouctou" in epub_text())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        for reader in readers:
            reader.join(timeout=5)
    stdout, stderr = "".join(said), "".join(errors)
    assert process.returncode == 0, stderr
    assert "changed: " in stdout and "un.md" in stdout
    assert "book.toml:1:9: invalid TOML" in stderr
    assert stderr.count("error:") == 1
    assert "Traceback" not in stderr


def test_watch_collects_a_builds_garbage_while_it_waits(tmp_path):
    """A build that keeps its layout leaves objects that refer to each other (the units it
    laid out again); watch collects them once no change has come, not in the next build."""
    import gc
    import threading
    import weakref

    from bindery.watch import watch

    class Box:
        pass

    left: list = []

    def rebuild():
        box = Box()
        box.itself = box
        left.append(weakref.ref(box))

    stop = threading.Event()
    said: list[str] = []
    watcher = threading.Thread(target=watch, args=(tmp_path, tmp_path / "out", rebuild,
                                                   said.append, said.append, stop))
    gc.disable()                  # only watch collects here
    try:
        watcher.start()
        deadline = time.time() + 30
        while time.time() < deadline and not (left and left[0]() is None):
            time.sleep(0.05)
        assert left and left[0]() is None, said
    finally:
        stop.set()
        watcher.join(timeout=30)
        gc.enable()


def test_each_output_either_process_may_make_is_made_once(tmp_path):
    """Two processes take units of work from one ``Shared``: every unit is taken, once."""
    import multiprocessing

    from bindery.builder.work import Shared

    shared = Shared(list(range(200)), between_processes=True)
    receive, send = multiprocessing.Pipe(duplex=False)

    def take_all(send):
        send.send(list(iter(shared.take, None)))

    child = multiprocessing.get_context("fork").Process(target=take_all, args=(send,))
    child.start()
    here = list(iter(shared.take, None))
    there = receive.recv()
    child.join()
    assert sorted(here + there) == list(range(200))
    assert shared.take() is None


def test_a_second_process_free_first_makes_the_ebooks_and_sends_the_kepub_back(
        tmp_path, monkeypatch):
    """The press PDF's process takes the EPUB, the kepub and the cover when this one is
    still busy (here, a reading PDF made slowly): the same bytes as one process makes, and
    the kepub's documents come back for the next build."""
    import dataclasses

    from bindery.builder.outputs import OUTPUTS
    from bindery.epub import kepub

    serial = copy_book(TINY, tmp_path / "serial")
    with source_date_epoch(EPOCH):
        pipeline.build(BuildRequest(serial, tmp_path / "one", FORMATS, parallel=False))
    reading = OUTPUTS["pdf"]

    def slowly(job, made):
        time.sleep(4)                     # the second process is done with the press first
        return reading.make(job, made)

    monkeypatch.setitem(OUTPUTS, "pdf", dataclasses.replace(reading, make=slowly))
    monkeypatch.setattr(kepub, "_LAST", {})
    with source_date_epoch(EPOCH):
        report = pipeline.build(BuildRequest(serial, tmp_path / "two", FORMATS,
                                             parallel=True))
    alongside = sorted(output.format for output in report.outputs if output.alongside)
    assert alongside == ["cover", "epub", "kepub", "press"]
    assert output_contents(tmp_path / "one") == output_contents(tmp_path / "two")
    assert len(kepub._LAST) >= 3 and all(b"koboSpan" in data for data in kepub._LAST.values())


def test_an_epub_without_page_list_needs_no_layout(book, epubcheck):
    config = book / "book.toml"
    config.write_text(config.read_text("utf-8") + "\n[epub]\npage_list = false\n", "utf-8")
    out = book.parent / "out"
    shutil.rmtree(out)                                      # as if never built
    report = rebuild(book, formats=("epub", "kepub"))
    assert report.rebuilt == ["epub", "kepub"] and not report.laid_out
    epub = Epub.open(out / "petit-traite.epub")
    assert epub.nav("page-list") == [] and epub.meta("pageBreakSource") == []
    assert "printPageNumbers" not in epub.meta("schema:accessibilityFeature")
    assert epubcheck(out / "petit-traite.epub")[0].clean
    config.write_text(config.read_text("utf-8").replace("page_list = false",
                                                        "page_list = true"), "utf-8")
    report = rebuild(book, formats=("epub",))
    assert report.rebuilt == ["epub"] and report.laid_out   # no layout to reuse: one now
    assert Epub.open(out / "petit-traite.epub").nav("page-list")


def test_a_deleted_kepub_is_made_again_from_the_epub_on_disk_without_a_layout(book):
    out = book.parent / "out"
    kepub = out / "petit-traite.kepub.epub"
    before = kepub.read_bytes()
    kepub.unlink()
    report = rebuild(book)
    # The site, which offers the kepub for download, is made again with it.
    assert report.rebuilt == ["kepub", "site"] and not report.laid_out
    assert kepub.read_bytes() == before
