"""Bad and hostile books: each fails with one clear line (or builds safely), nothing is lost.

Every case is the tiny fixture book with one thing wrong, built over the outputs of the good
book. A failing case must exit 1 with one line naming the file, no traceback, and leave the
previous outputs and the manifest byte for byte as they were.

A case that could hang or eat the machine's memory when Bindery gets it wrong (a pipe, a
device, a bomb, input driven quadratic) runs in a second process, with a time limit and a
cap on its address space, instead of in the test process.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

from bindery.check.reader import Epub
from bindery.cli import main

from helpers import EPOCH, ROOT, TINY, copy_book, output_contents, run_isolated


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), "utf-8")


def _toml(book: Path, old: str, new: str) -> None:
    _edit(book / "book.toml", old, new)


def _chapter(book: Path, markdown: str, name: str = "deux.md", title: str = "Deux") -> None:
    (book / "chapitres" / name).write_text(f"---\ntitle: {title}\n---\n\n{markdown}\n",
                                           "utf-8")


def _book_template(book: Path, name: str, text: str) -> None:
    path = book / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _book_style(book: Path, extra: str) -> None:
    (book / "styles").mkdir(exist_ok=True)
    css = (ROOT / "styles" / "print.css").read_text("utf-8")
    (book / "styles" / "print.css").write_text(css + "\n" + extra + "\n", "utf-8")


def _outside(book: Path) -> Path:
    """A file beside the book folder, outside it."""
    secret = book.parent / "secret.png"
    shutil.copy(book / "images" / "diagramme.png", secret)
    return secret


def _symlink_image(book: Path) -> None:
    os.symlink(_outside(book), book / "images" / "link.png")
    _chapter(book, "![A picture](../images/link.png)")


def _symlink_style(book: Path) -> None:
    evil = book.parent / "evil.css"
    evil.write_text("body { margin: 0 }", "utf-8")
    (book / "styles").mkdir()
    os.symlink(evil, book / "styles" / "print.css")


def _nested(prefix: str, depth: int) -> str:
    if prefix == "list":
        return "\n".join("  " * level + "- item" for level in range(depth))
    return "> " * depth + "deep"


def _words(count: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = "le la les un une des livre page mot texte ligne encre papier".split()
    paragraphs, words = [], []
    for _ in range(count):
        words.append(rng.choice(vocabulary))
        if len(words) == 120:
            paragraphs.append(" ".join(words) + ".")
            words = []
    paragraphs.append(" ".join(words) + ".")
    return "\n\n".join(paragraphs)


def _no_page_list(book: Path) -> None:
    with open(book / "book.toml", "a", encoding="utf-8") as config:
        config.write("\n[epub]\npage_list = false\n")


def _megabyte_paragraph() -> str:
    rng = random.Random(3)
    vocabulary = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()
    words, size = [], 0
    while size < 1_000_000:
        word = rng.choice(vocabulary)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


@dataclass
class Case:
    name: str
    mutate: Callable[[Path], None]
    message: str                      # a fragment of the error or warning line
    status: int = 1
    warning: bool = False             # the message is a warning; the build succeeds
    args: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("epub", "pdf")
    where: str | tuple[str, ...] = ""  # the file the message must name (any one of a tuple)
    timeout: float | None = None      # run in a second process, killed after this long


CASES = [
    # book.toml
    Case("missing book.toml", lambda b: (b / "book.toml").unlink(), "book.toml not found",
         where="book.toml"),
    Case("empty book.toml", lambda b: (b / "book.toml").write_text(""), "book.toml is empty",
         where="book.toml"),
    Case("invalid TOML", lambda b: _toml(b, 'language = "fr"', 'language = "fr'),
         "invalid TOML", where="book.toml:3"),
    Case("missing title", lambda b: _toml(b, 'title = "Petit traité d\'essai"\n', ""),
         "`title` is missing", where="book.toml"),
    Case("missing authors", lambda b: _edit(b / "book.toml", "[[authors]]", "[[editors]]", 2),
         "`authors` is missing", where="book.toml"),
    Case("missing language", lambda b: _toml(b, 'language = "fr"\n', ""),
         "`language` is missing", where="book.toml"),
    Case("invalid language tag", lambda b: _toml(b, 'language = "fr"', 'language = "french"'),
         "`language` must be a BCP 47 tag such as `en` or `pt-BR`, got `french`",
         where="book.toml:3"),
    Case("identifier not a URN", lambda b: _toml(b, 'identifier = "urn:uuid:',
                                                 'identifier = "isbn:'),
         "`identifier` must be `urn:uuid:...` or `urn:isbn:...`", where="book.toml:4"),
    Case("identifier with a broken UUID",
         lambda b: _toml(b, 'identifier = "urn:uuid:', 'identifier = "urn:uuid:zz'),
         "invalid UUID", where="book.toml:4"),
    Case("invalid trim", lambda b: _toml(b, 'trim = "A6"', 'trim = "napkin"'),
         "[print] `trim` must be", where="book.toml"),
    Case("control character in book.toml",
         lambda b: _toml(b, 'subtitle = "Un livre', 'subtitle = "Un \\u000clivre'),
         "control character U+000C", where="book.toml:2"),
    Case("book.toml not UTF-8",
         lambda b: (b / "book.toml").write_bytes(
             (b / "book.toml").read_text("utf-8").encode("latin-1")),
         "not UTF-8 text: byte 0xe9 at byte offset", where="book.toml:1"),
    Case("unknown key", lambda b: _toml(b, 'title =', 'colour = "red"\ntitle ='),
         "unknown key `colour` is ignored", status=0, warning=True, where="book.toml:1"),
    Case("unknown key with --strict", lambda b: _toml(b, 'title =', 'colour = "red"\ntitle ='),
         "unknown key `colour` is ignored", args=("--strict",), where="book.toml:1"),
    # chapters
    Case("chapter listed but missing", lambda b: (b / "chapitres" / "deux.md").unlink(),
         "is listed in book.toml but not found", where="chapitres/deux.md"),
    Case("chapter present but not listed",
         lambda b: _chapter(b, "Hors liste.", name="extra.md"),
         "`chapitres/extra.md` is not listed in `chapters`", status=0, warning=True,
         where="book.toml"),
    Case("two chapters with the same id",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter", "role: chapter\nid: un"),
         "two chapters have the id `un`", where="chapitres/deux.md"),
    Case("chapter not UTF-8",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             "---\ntitle: Deux\n---\n\nÉté.\n".encode("latin-1")),
         "not UTF-8 text: byte 0xc9 at byte offset 21", where="chapitres/deux.md:5"),
    Case("chapter with a byte-order mark builds",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             b"\xef\xbb\xbf---\ntitle: Deux\n---\n\nAvec BOM.\n"), "", status=0),
    Case("empty chapter", lambda b: _chapter(b, ""), "chapter is empty", status=0,
         warning=True, where="chapitres/deux.md"),
    Case("empty chapter with --strict", lambda b: _chapter(b, ""), "chapter is empty",
         args=("--strict",), where="chapitres/deux.md"),
    Case("front matter not closed",
         lambda b: (b / "chapitres" / "deux.md").write_text("---\ntitle: Deux\n\nTexte.\n"),
         "front matter is not closed", where="chapitres/deux.md:1"),
    Case("front matter line without a colon",
         lambda b: (b / "chapitres" / "deux.md").write_text("---\ntitle Deux\n---\n\nT.\n"),
         "front matter line must be `key: value`", where="chapitres/deux.md:2"),
    Case("unknown role",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter", "role: novel"),
         "unknown role `novel`", where="chapitres/deux.md:3"),
    Case("control character in a chapter", lambda b: _chapter(b, "Un saut\x0cde page."),
         "control character U+000C cannot appear in a book", where="chapitres/deux.md:5:8"),
    # templates
    Case("template syntax error",
         lambda b: _book_template(b, "partials/chapter.html",
                                  "<section>\n{% if chapter.title %}\n<h1>x</h1>\n</section>\n"),
         "template syntax error", where="templates/partials/chapter.html"),
    Case("template with an undefined variable",
         lambda b: _book_template(b, "partials/titlepage.html",
                                  "<section>\n<h1>{{ book.titel }}</h1>\n</section>\n"),
         "template error", where="templates/partials/titlepage.html:2"),
    Case("template reaching outside",
         lambda b: _book_template(b, "partials/titlepage.html",
                                  '{% include "../../../../etc/hostname" %}\n'),
         "template `../../../../etc/hostname` not found",
         where="templates/partials/titlepage.html:1"),
    # images
    Case("missing image", lambda b: _chapter(b, "![Un dessin](../images/absent.png)"),
         "image `../images/absent.png` not found", where="chapitres/deux.md:5"),
    Case("image in a format EPUB does not allow",
         lambda b: ((b / "images" / "dessin.bmp").write_bytes(b"BM" + b"\0" * 60),
                    _chapter(b, "![Un dessin](../images/dessin.bmp)")),
         "EPUB allows gif, jpeg, jpg, png, svg, webp", where="chapitres/deux.md:5"),
    Case("image without alt text", lambda b: _chapter(b, "![](../images/diagramme.png)"),
         "has no alt text", where="chapitres/deux.md:5"),
    Case("image path climbing out of the book",
         lambda b: (_outside(b), _chapter(b, "![Secret](../../secret.png)")),
         "is outside the book folder", where="chapitres/deux.md:5"),
    Case("absolute image path", lambda b: _chapter(b, "![Nom](/etc/hostname)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("file:// image", lambda b: _chapter(b, "![Nom](file:///etc/hostname)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("http:// image", lambda b: _chapter(b, "![Nom](http://127.0.0.1:9/x.png)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("symbolic link pointing outside", _symlink_image, "is outside the book folder",
         where="chapitres/deux.md:5"),
    # styles
    Case("stylesheet reading a local file", lambda b: _book_style(
        b, "body { background: url(file:///etc/hostname) }"),
         "reference `file:///etc/hostname` is outside the book's folders",
         where="styles/print.css"),
    Case("stylesheet reading the network", lambda b: _book_style(
        b, "body { background: url(http://127.0.0.1:9/x.png) }"),
         "reads nothing from the network", where="styles/print.css"),
    Case("stylesheet that is a link outside", _symlink_style,
         "symbolic link points outside its folder", where="styles/print.css"),
    Case("declaration WeasyPrint ignores", lambda b: _book_style(b, "p { colour: red; }"),
         "Ignored `colour: red`, unknown property", status=0, warning=True,
         where="styles/print.css"),
    Case("a rule WeasyPrint fails on", lambda b: (
        _chapter(b, "Une affirmation.[^1]\n\n[^1]: Une note."),
        _book_style(b, "::footnote-marker { display: none; }")),
         "the layout engine (WeasyPrint 70.0) failed on this book (KeyError",
         where="styles/print.css"),
    # hostile Markdown
    Case("raw script", lambda b: _chapter(b, "<script>alert('x')</script>"),
         "raw HTML: <script> and its content removed", status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("raw iframe", lambda b: _chapter(b, '<iframe src="https://example.org"></iframe>'),
         "raw HTML: <iframe> and its content removed", status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("event handler", lambda b: _chapter(
        b, '<img src="../images/diagramme.png" alt="d" onload="alert(1)"> <b onclick=x>b'),
         "raw HTML: `onload` on <img> removed", status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("raw image not in the book", lambda b: _chapter(b, '<img src="x" alt="x">'),
         "image `x` not found", where="chapitres/deux.md:5"),
    Case("object and embed", lambda b: _chapter(b, '<object data="x"></object><embed src="y">'),
         "raw HTML: <object> and its content removed", status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("external stylesheet", lambda b: _chapter(
        b, '<link rel="stylesheet" href="http://example.org/x.css">'),
         "raw HTML: <link> and its content removed", status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("javascript: in raw HTML", lambda b: _chapter(
        b, '<a href="javascript:alert(1)">clic</a>'),
         'raw HTML: `href="javascript:alert(1)"` on <a> removed', status=0, warning=True,
         where="chapitres/deux.md:5"),
    Case("javascript: link", lambda b: _chapter(b, "[clic](javascript:alert(1))"),
         "link `javascript:alert(1)` is not allowed", where="chapitres/deux.md:5"),
    Case("data:text/html link", lambda b: _chapter(b, "[clic](data:text/html,<b>x</b>)"),
         "is not allowed", where="chapitres/deux.md:5"),
    Case("XML specials everywhere",
         lambda b: (_toml(b, 'title = "Petit', 'title = "<Tom> & \\"Jerry\\" \'Petit'),
                    _edit(b / "book.toml", 'name = "Anne Dupont"', 'name = "A&B <x>"'),
                    _chapter(b, 'Texte avec & < > " \' et &amp; &lt;tag&gt;.',
                             title='"A < B & C"')), "", status=0),
    Case("200 levels of nested lists", lambda b: _chapter(b, _nested("list", 200)),
         "nest more than 24 levels deep", where="chapitres/deux.md"),
    Case("200 levels of nested quotes", lambda b: _chapter(b, _nested("quote", 200)),
         "nest more than 24 levels deep", where="chapitres/deux.md:5"),
    # Big input builds: the EPUB, with its page list, needs the whole book laid out.
    # A megabyte in one paragraph goes through every pass of Bindery's own (Markdown,
    # typography, ids, the EPUB); the print layout of a long text is the next case's, so
    # this one's EPUB goes without a page list (WeasyPrint breaking one 170,000-word
    # paragraph into lines takes half a minute and tests WeasyPrint, not Bindery).
    Case("a 1 MB paragraph", lambda b: (_chapter(b, _megabyte_paragraph()), _no_page_list(b)),
         "", status=0, formats=("epub",)),
    Case("a 100,000-word chapter", lambda b: _chapter(b, _words(100_000)), "", status=0,
         formats=("epub",)),
]


# -- more of the corpus: hostile files, pipes, devices, bombs, broken images and styles ------

CHAPTERS_LINE = 'chapters = ["chapitres/un.md", "chapitres/deux.md", "chapitres/annexe.md"]'
PNG = (TINY / "images" / "diagramme.png").read_bytes()


def _chapters(book: Path, literal: str) -> None:
    """Replace the `chapters` list (line 11 of book.toml)."""
    _toml(book, CHAPTERS_LINE, f"chapters = {literal}")


def _cover(book: Path, name: str) -> None:
    """A user cover, `cover = ...` on line 12 of book.toml."""
    _toml(book, CHAPTERS_LINE, f'{CHAPTERS_LINE}\ncover = "{name}"')


def _image(book: Path, name: str, data: bytes) -> None:
    (book / "images" / name).write_bytes(data)


def _figure(book: Path, name: str, data: bytes | None = None) -> None:
    """A chapter whose line 5 is a figure showing ``images/name``."""
    if data is not None:
        _image(book, name, data)
    _chapter(book, f"![Une image](../images/{name})")


def _epub_css(book: Path, text: str) -> None:
    (book / "styles").mkdir(exist_ok=True)
    (book / "styles" / "epub.css").write_text(text, "utf-8")


def _print_css_first(book: Path, first: str) -> None:
    """The book's print.css: Bindery's, with ``first`` as its line 1 (an @import)."""
    (book / "styles").mkdir(exist_ok=True)
    css = (ROOT / "styles" / "print.css").read_text("utf-8")
    (book / "styles" / "print.css").write_text(first + "\n" + css, "utf-8")


def _common_css(book: Path, extra: str) -> None:
    (book / "styles").mkdir(exist_ok=True)
    css = (ROOT / "styles" / "common.css").read_text("utf-8")
    (book / "styles" / "common.css").write_text(css + "\n" + extra + "\n", "utf-8")


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)


def _replace_with_link(path: Path, target: Path | str) -> None:
    path.unlink()
    os.symlink(target, path)


def _outside_chapter(book: Path) -> Path:
    """A good chapter beside the book folder, outside it, holding a secret."""
    outside = book.parent / "outside.md"
    outside.write_text("---\ntitle: Dehors\n---\n\nSECRET-OUTSIDE-CHAPTER\n", "utf-8")
    return outside


def _deep_toml(book: Path, opening: str, closing: str, depth: int = 100_000) -> None:
    text = (book / "book.toml").read_text("utf-8")
    head, tail = text.split("[[authors]]", 1)
    (book / "book.toml").write_text(
        head + "x = " + opening * depth + "1" + closing * depth + "\n[[authors]]" + tail,
        "utf-8")


def _png(size=(8, 8), colour=(200, 30, 30)) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(size=(64, 64)) -> bytes:
    from PIL import Image
    rng = random.Random(5)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(
        size[0] * size[1] * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A real, tiny PNG whose header claims ``width`` x ``height`` pixels (CRC fixed)."""
    data = bytearray(_png((1, 1)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


TRUNCATED_PNG = PNG[:len(PNG) // 2]
TRUNCATED_JPEG = _jpeg()[:1200]


def _deep_emphasis(book: Path) -> None:
    _chapter(book, "*_" * 50_000 + "x" + "_*" * 50_000)


def _big_chapter(book: Path) -> None:
    line = "Une ligne de texte pour remplir le chapitre, encore et encore. " * 16 + "\n\n"
    count = 17 * 1024 * 1024 // len(line.encode()) + 2
    (book / "chapitres" / "deux.md").write_text("---\ntitle: Deux\n---\n\n" + line * count,
                                                "utf-8")


def _same_file_name(book: Path) -> None:
    (book / "autres").mkdir()
    shutil.copy(book / "chapitres" / "annexe.md", book / "autres" / "un.md")
    _chapters(book, '["chapitres/un.md", "chapitres/deux.md", "autres/un.md"]')


def _template_link_outside(book: Path) -> None:
    evil = book.parent / "colophon.html"
    evil.write_text("<section>dehors</section>\n", "utf-8")
    path = book / "templates" / "partials" / "colophon.html"
    path.parent.mkdir(parents=True)
    os.symlink(evil, path)


def _template_fifo(book: Path) -> None:
    _fifo(book / "templates" / "partials" / "colophon.html")


def _epub_css_link_outside(book: Path) -> None:
    evil = book.parent / "evil-epub.css"
    evil.write_text("p { margin: 0 }\n", "utf-8")
    (book / "styles").mkdir()
    os.symlink(evil, book / "styles" / "epub.css")


def _toml_link_outside(book: Path) -> None:
    outside = book.parent / "book.toml"
    shutil.copy(book / "book.toml", outside)
    _replace_with_link(book / "book.toml", outside)


def _toml_folder(book: Path) -> None:
    (book / "book.toml").unlink()
    (book / "book.toml").mkdir()


def _chapter_folder(book: Path) -> None:
    (book / "chapitres" / "deux.md").unlink()
    (book / "chapitres" / "deux.md").mkdir()


def _image_folder(book: Path) -> None:
    (book / "images" / "dossier.png").mkdir()
    _chapter(book, "![Un dossier](../images/dossier.png)")


def _image_fifo(book: Path) -> None:
    _fifo(book / "images" / "f.png")
    _chapter(book, "![Un tuyau](../images/f.png)")


def _image_device(book: Path) -> None:
    os.symlink("/dev/zero", book / "images" / "z.png")
    _chapter(book, "![Des zéros](../images/z.png)")


_HOSTNAME_CSS = "file:///etc/hostname"

MORE_CASES = [
    # book.toml: what it is, not only what it says
    Case("book.toml is a folder", _toml_folder, "", where="book.toml"),
    Case("book.toml is a pipe", lambda b: _fifo(b / "book.toml"), "not a regular file",
         where="book.toml", timeout=60),
    Case("book.toml is a link outside the book", _toml_link_outside, "", where="book.toml"),
    Case("book.toml with arrays 100,000 deep", lambda b: _deep_toml(b, "[", "]"), "",
         where="book.toml", timeout=60),
    Case("book.toml with inline tables 100,000 deep", lambda b: _deep_toml(b, "{a=", "}"), "",
         where="book.toml", timeout=60),
    Case("book.toml with a byte-order mark in the middle",
         lambda b: _toml(b, 'subtitle =', '\ufeffsubtitle ='), "", where="book.toml:2"),
    Case("book.toml with a key given twice",
         lambda b: _toml(b, 'subtitle =', 'language = "en"\nsubtitle ='), "invalid TOML",
         where="book.toml"),
    Case("book.toml in UTF-16",
         lambda b: (b / "book.toml").write_bytes(
             (b / "book.toml").read_text("utf-8").encode("utf-16")), "not UTF-8",
         where="book.toml:1"),
    Case("NUL byte in book.toml",
         lambda b: (b / "book.toml").write_bytes(
             (b / "book.toml").read_bytes().replace(b"\nsubtitle", b"\n# \x00\nsubtitle", 1)),
         "", where="book.toml:2"),
    Case("surrogate escape in a book.toml string",
         lambda b: _toml(b, 'subtitle = "Un livre', 'subtitle = "Un \\uD800livre'), "",
         where="book.toml:2"),
    Case("NUL escape in a book.toml string",
         lambda b: _toml(b, 'subtitle = "Un livre', 'subtitle = "Un \\u0000livre'),
         "U+0000", where="book.toml:2"),
    Case("title that is a number", lambda b: _toml(b, 'title = "Petit traité d\'essai"',
                                                   'title = 5'), "title", where="book.toml:1"),
    # chapters as book.toml lists them
    Case("chapter /dev/zero", lambda b: _chapters(b, '["/dev/zero"]'), "",
         where="book.toml:11", timeout=60),
    Case("chapter outside the book", lambda b: (_outside_chapter(b),
                                                _chapters(b, '["../outside.md"]')), "",
         where="book.toml:11"),
    Case("chapter outside the book that is a pipe",
         lambda b: (_fifo(b.parent / "outside.md"), _chapters(b, '["../outside.md"]')), "",
         where="book.toml:11", timeout=60),
    Case("chapter given as a file:// URL", lambda b: _chapters(b, '["file:///etc/hostname"]'),
         "", where="book.toml:11"),
    Case("no chapter at all", lambda b: _chapters(b, "[]"), "`chapters`",
         where="book.toml:11"),
    Case("chapters that is not a list", lambda b: _chapters(b, '"chapitres/un.md"'),
         "`chapters`", where="book.toml:11"),
    Case("chapter listed twice",
         lambda b: _chapters(b, '["chapitres/un.md", "chapitres/deux.md", "chapitres/un.md"]'),
         "", where=("book.toml:11", "chapitres/un.md")),
    Case("two chapter files with the same name", _same_file_name,
         "two chapters have the id `un`", where="autres/un.md"),
    # the slug names files in the output folder
    Case("slug with a slash", lambda b: _toml(b, 'slug = "petit-traite"', 'slug = "a/b"'),
         "slug", where="book.toml:5"),
    Case("slug climbing out of the output folder",
         lambda b: _toml(b, 'slug = "petit-traite"', 'slug = "../../evil"'), "slug",
         where="book.toml:5"),
    Case("slug with a NUL",
         lambda b: _toml(b, 'slug = "petit-traite"', 'slug = "petit\\u0000traite"'), "",
         where="book.toml:5"),
    # the cover, as book.toml names it
    Case("cover /dev/zero", lambda b: _cover(b, "/dev/zero"), "", where="book.toml:12",
         timeout=60),
    Case("cover missing", lambda b: _cover(b, "images/absent.png"), "absent.png",
         where="book.toml:12"),
    Case("cover outside the book", lambda b: (_outside(b), _cover(b, "../secret.png")), "",
         where="book.toml:12"),
    Case("cover that is a link outside the book",
         lambda b: (os.symlink(_outside(b), b / "images" / "c.png"),
                    _cover(b, "images/c.png")), "", where="book.toml:12"),
    Case("cover that is a truncated PNG",
         lambda b: (_image(b, "c.png", TRUNCATED_PNG), _cover(b, "images/c.png")), "c.png",
         where="book.toml:12"),
    Case("cover that is text named .png",
         lambda b: (_image(b, "c.png", b"this is not a picture\n"), _cover(b, "images/c.png")),
         "c.png", where="book.toml:12"),
    Case("cover that is an empty .png",
         lambda b: (_image(b, "c.png", b""), _cover(b, "images/c.png")), "c.png",
         where="book.toml:12"),
    Case("cover that claims 30,000 x 30,000 pixels",
         lambda b: (_image(b, "c.png", _png_bomb()), _cover(b, "images/c.png")), "c.png",
         where="book.toml:12", timeout=60),
    Case("cover that is a truncated JPEG",
         lambda b: (_image(b, "c.jpg", TRUNCATED_JPEG), _cover(b, "images/c.jpg")), "c.jpg",
         where="book.toml:12"),
    # settings
    Case("negative bleed", lambda b: _toml(b, 'trim = "A6"', 'trim = "A6"\nbleed = "-3mm"'),
         "`bleed`", where="book.toml:23"),
    Case("unknown booklet flip",
         lambda b: (b / "book.toml").write_text((b / "book.toml").read_text("utf-8")
                                                 + '\n[booklet]\nflip = "sideways"\n', "utf-8"),
         "`flip`", where="book.toml:25"),
    # chapter files: what they are
    Case("chapter is a pipe", lambda b: _fifo(b / "chapitres" / "deux.md"),
         "not a regular file", where="chapitres/deux.md", timeout=60),
    Case("chapter is a folder", _chapter_folder, "", where="chapitres/deux.md"),
    Case("chapter is a link outside the book",
         lambda b: _replace_with_link(b / "chapitres" / "deux.md", _outside_chapter(b)), "",
         where=("chapitres/deux.md", "book.toml:11")),
    Case("chapter is a link to a pipe outside the book",
         lambda b: (_fifo(b.parent / "outside.md"),
                    _replace_with_link(b / "chapitres" / "deux.md", b.parent / "outside.md")),
         "", where=("chapitres/deux.md", "book.toml:11"), timeout=60),
    Case("chapter is a link to /dev/zero",
         lambda b: _replace_with_link(b / "chapitres" / "deux.md", "/dev/zero"), "",
         where=("chapitres/deux.md", "book.toml:11"), timeout=60),
    Case("chapter of 17 MiB", _big_chapter, "MiB", where="chapitres/deux.md", timeout=120),
    # chapter text
    Case("emphasis nested 50,000 deep", _deep_emphasis, "nest", where="chapitres/deux.md:5",
         timeout=30),
    Case("NUL byte in a chapter", lambda b: _chapter(b, "Un octet\x00nul."), "U+0000",
         where="chapitres/deux.md:5"),
    Case("U+FFFE in a chapter", lambda b: _chapter(b, "Un non-caractère \ufffe ici."),
         "U+FFFE", where="chapitres/deux.md:5"),
    Case("surrogate bytes in a chapter",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             b"---\ntitle: Deux\n---\n\nUn \xed\xa0\x80 ici.\n"), "not UTF-8",
         where="chapitres/deux.md:5"),
    Case("overlong UTF-8 in a chapter",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             b"---\ntitle: Deux\n---\n\nUn \xc0\xaf ici.\n"), "not UTF-8",
         where="chapitres/deux.md:5"),
    Case("control character in a title",
         lambda b: (b / "chapitres" / "deux.md").write_text(
             "---\ntitle: Deux\x01trois\n---\n\nTexte.\n", "utf-8"), "U+0001",
         where="chapitres/deux.md:2"),
    Case("control character in a CRLF chapter",
         lambda b: (b / "chapitres" / "deux.md").write_bytes(
             b"---\r\ntitle: Deux\r\n---\r\n\r\nUn\x0csaut.\r\n"), "U+000C",
         where="chapitres/deux.md:5"),
    Case("form feed as an entity", lambda b: _chapter(b, "Un &#12; saut de page."),
         "U+000C", where="chapitres/deux.md:5"),
    Case("front matter without a title",
         lambda b: (b / "chapitres" / "deux.md").write_text("---\nrole: chapter\n---\n\nT.\n"),
         "`title`", where="chapitres/deux.md"),
    Case("front matter key given twice",
         lambda b: (b / "chapitres" / "deux.md").write_text(
             "---\ntitle: Deux\ntitle: Trois\n---\n\nT.\n"), "twice",
         where="chapitres/deux.md:3"),
    Case("chapter without front matter",
         lambda b: (b / "chapitres" / "deux.md").write_text("Juste du texte.\n"),
         "front-matter", where="chapitres/deux.md:1"),
    Case("chapter id climbing out",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter",
                         "role: chapter\nid: ../../evil"), "id", where="chapitres/deux.md:4"),
    Case("chapter id Bindery reserves",
         lambda b: _edit(b / "chapitres" / "deux.md", "role: chapter",
                         "role: chapter\nid: colophon"), "reserved", where="chapitres/deux.md"),
    # links
    Case("JAVASCRIPT: link in capitals", lambda b: _chapter(b, "[clic](JAVASCRIPT:alert(1))"),
         "is not allowed", where="chapitres/deux.md:5"),
    Case("vbscript: link", lambda b: _chapter(b, "[clic](vbscript:msgbox(1))"),
         "is not allowed", where="chapitres/deux.md:5"),
    Case("file: link", lambda b: _chapter(b, "[clic](file:///etc/passwd)"), "is not allowed",
         where="chapitres/deux.md:5"),
    Case("data:image/svg+xml link",
         lambda b: _chapter(b, "[clic](data:image/svg+xml;base64,PHN2Zy8+)"), "is not allowed",
         where="chapitres/deux.md:5"),
    Case("link to a chapter the book does not have",
         lambda b: _chapter(b, "[voir](absent.md)"), "points to no chapter",
         where="chapitres/deux.md:5"),
    # image references
    Case("data: image", lambda b: _chapter(b, "![Nom](data:image/png;base64,iVBORw0KGgo=)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("image with a URL scheme", lambda b: _chapter(b, "![Nom](ftp://example.org/x.png)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("protocol-relative image", lambda b: _chapter(b, "![Nom](//example.org/x.png)"),
         "must be a file inside the book folder", where="chapitres/deux.md:5"),
    Case("percent-encoded climb out",
         lambda b: (_outside(b), _chapter(b, "![Secret](..%2F..%2Fsecret.png)")), "secret.png",
         where="chapitres/deux.md:5"),
    Case("image by a reference definition to /etc",
         lambda b: _chapter(b, "![Nom][r]\n\n[r]: /etc/hostname"), "",
         where="chapitres/deux.md:5"),
    Case("image that is a folder", _image_folder, "dossier.png", where="chapitres/deux.md:5"),
    Case("image that is a pipe", _image_fifo, "f.png", where="chapitres/deux.md:5",
         timeout=60),
    Case("image that is a link to /dev/zero", _image_device, "z.png",
         where="chapitres/deux.md:5", timeout=60),
    # broken pictures
    Case("truncated PNG", lambda b: _figure(b, "x.png", TRUNCATED_PNG), "x.png",
         where="chapitres/deux.md:5"),
    Case("text file named .png", lambda b: _figure(b, "x.png", b"hello, I am text\n"), "x.png",
         where="chapitres/deux.md:5"),
    Case("empty .png", lambda b: _figure(b, "x.png", b""), "x.png",
         where="chapitres/deux.md:5"),
    Case("PNG that claims 30,000 x 30,000 pixels", lambda b: _figure(b, "x.png", _png_bomb()),
         "x.png", where="chapitres/deux.md:5", timeout=60),
    Case("PNG that claims 1,000,000 pixels across",
         lambda b: _figure(b, "x.png", _png_bomb(1_000_000, 1)), "x.png",
         where="chapitres/deux.md:5", timeout=60),
    Case("truncated JPEG", lambda b: _figure(b, "x.jpg", TRUNCATED_JPEG), "x.jpg",
         where="chapitres/deux.md:5"),
    Case("PNG named .jpg", lambda b: _figure(b, "x.jpg", PNG), "x.jpg",
         where="chapitres/deux.md:5"),
    Case("text file named .gif", lambda b: _figure(b, "x.gif", b"GIF? no.\n"), "x.gif",
         where="chapitres/deux.md:5"),
    Case("text file named .webp", lambda b: _figure(b, "x.webp", b"RIFF? no.\n"), "x.webp",
         where="chapitres/deux.md:5"),
    Case("SVG that is not XML", lambda b: _figure(b, "x.svg", b"<svg <<< not xml"), "x.svg",
         where="chapitres/deux.md:5"),
    # a book's templates
    Case("syntax error in an EPUB template",
         lambda b: _book_template(b, "epub/nav.xhtml", "{% for %}\n"), "template syntax error",
         where="templates/epub/nav.xhtml:1"),
    Case("template not UTF-8",
         lambda b: (b / "templates" / "partials").mkdir(parents=True) or (
             b / "templates" / "partials" / "colophon.html").write_bytes(
             "<section>Colophon é</section>\n".encode("latin-1")), "not UTF-8",
         where="templates/partials/colophon.html:1"),
    Case("template that is a link outside the book", _template_link_outside, "",
         where="templates/partials/colophon.html"),
    Case("template that is a pipe", _template_fifo, "",
         where="templates/partials/colophon.html", timeout=60),
    Case("template including an absolute path",
         lambda b: _book_template(b, "partials/colophon.html", '{% include "/etc/hostname" %}\n'),
         "not found", where="templates/partials/colophon.html:1"),
    Case("template extending book.toml",
         lambda b: _book_template(b, "partials/colophon.html", '{% extends "../book.toml" %}\n'),
         "not found", where="templates/partials/colophon.html:1"),
    Case("template with an unknown filter",
         lambda b: _book_template(b, "partials/colophon.html", "{{ book.title | shell }}\n"),
         "template", where="templates/partials/colophon.html:1"),
    Case("template dividing by zero",
         lambda b: _book_template(b, "partials/colophon.html",
                                  "<section>\n{{ 1 // 0 }}\n</section>\n"), "template",
         where="templates/partials/colophon.html:2"),
    Case("template adding text to a number",
         lambda b: _book_template(b, "partials/colophon.html",
                                  '<section>\n{{ "a" + 1 }}\n</section>\n'), "template",
         where="templates/partials/colophon.html:2"),
    Case("template asking for a huge range",
         lambda b: _book_template(b, "partials/colophon.html",
                                  "<section>\n{{ range(10**12) | list }}\n</section>\n"),
         "template", where="templates/partials/colophon.html:2", timeout=60),
    Case("template recursing without end",
         lambda b: _book_template(b, "partials/colophon.html",
                                  "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}\n"
                                  "<section>\n{{ m(0) }}\n</section>\n"), "template",
         where="templates/partials/colophon.html", timeout=60),
    # a book's styles
    Case("epub.css importing from the network",
         lambda b: _epub_css(b, "@import url(http://example.com/x.css);\np { margin: 0; }\n"),
         "", where="styles/epub.css:1"),
    Case("epub.css reading a local file",
         lambda b: _epub_css(b, "p { margin: 0; }\nbody { background: url(file:///etc/passwd) }\n"),
         "", where="styles/epub.css:2"),
    Case("epub.css font from the network",
         lambda b: _epub_css(b, "p { margin: 0; }\n@font-face { font-family: x; src: url("
                                "https://fonts.example.com/x.woff2) }\n"),
         "", where="styles/epub.css:2"),
    Case("epub.css reaching outside the book",
         lambda b: (_outside(b), _epub_css(b, "p { margin: 0; }\n"
                                              "body { background: url(../../secret.png) }\n")),
         "", where="styles/epub.css:2"),
    Case("epub.css with a javascript: URL",
         lambda b: _epub_css(b, "p { margin: 0; }\nbody { background: url(javascript:x) }\n"),
         "", where="styles/epub.css:2"),
    Case("epub.css not UTF-8",
         lambda b: ((b / "styles").mkdir(), (b / "styles" / "epub.css").write_bytes(
             "p { margin: 0; }\n/* é */\n".encode("latin-1"))), "not UTF-8",
         where="styles/epub.css:2"),
    Case("epub.css that is a link outside", _epub_css_link_outside, "",
         where="styles/epub.css"),
    Case("print.css importing from the network",
         lambda b: _print_css_first(b, "@import url(http://127.0.0.1:9/x.css);"),
         "reads nothing from the network", where="styles/print.css"),
    Case("print.css importing a local file",
         lambda b: _print_css_first(b, f"@import url({_HOSTNAME_CSS});"),
         "outside the book's folders", where="styles/print.css"),
    Case("common.css reading a local file",
         lambda b: _common_css(b, f"body {{ background: url({_HOSTNAME_CSS}) }}"), "",
         where="styles/common.css"),
]
CASES += MORE_CASES



def _names_where(line: str, where: str | tuple[str, ...]) -> bool:
    return any(place in line for place in ((where,) if isinstance(where, str) else where))


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The good tiny book's EPUB and PDF, built once: every case starts from them."""
    from conftest import build_book
    root = tmp_path_factory.mktemp("previous")
    return build_book(TINY, root / "out", formats=("epub", "pdf")).out



def _run(arguments: list[str], cwd: Path, timeout: float | None = None) -> tuple[int, str]:
    """``bindery ARGUMENTS`` from ``cwd`` (the test's working folder): in this process, or
    in a second one when there is a ``timeout``. Exit status and output, stderr included."""
    if timeout is None:
        assert Path.cwd() == cwd
        result = CliRunner().invoke(main, arguments)
        return result.exit_code, result.output
    status, output, _ = run_isolated(arguments, cwd, timeout)
    return status, output


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_book(case: Case, tmp_path: Path, previous: Path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = output_contents(out)
    case.mutate(book)
    arguments = ["build", "book", "--out", "out", *case.args]
    for fmt in case.formats:
        arguments += ["--format", fmt]
    status, output = _run(arguments, tmp_path, case.timeout)
    assert "Traceback" not in output
    assert "internal error" not in output, output
    assert status == case.status, output
    lines = [line for line in output.strip().split("\n") if line]
    if case.status == 1:
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, output
        assert case.message in errors[0], errors[0]
        assert _names_where(errors[0], case.where), errors[0]
        assert "SECRET-OUTSIDE-CHAPTER" not in output
        assert output_contents(out) == before                 # nothing lost, manifest included
        assert not list(out.glob(".*.tmp"))
    elif case.warning:
        warnings = [line for line in lines if line.startswith("warning: ")]
        assert any(case.message in line and _names_where(line, case.where)
                   for line in warnings), output
    if case.status == 0:
        _assert_safe_outputs(out, previous_pdf=before["petit-traite.pdf"])


def _assert_safe_outputs(out: Path, previous_pdf: bytes) -> None:
    """A book that builds: every XHTML file parses, and no active content got through."""
    epub_path = out / "petit-traite.epub"
    assert zipfile.is_zipfile(epub_path)
    epub = Epub.open(epub_path)
    banned = {"script", "iframe", "object", "embed", "link", "style"}
    for name in epub.names:
        if not name.endswith(".xhtml"):
            continue
        root = etree.fromstring(epub.zip.read(name))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            local = etree.QName(element).localname
            if local in banned and not (local == "link" and element.getparent().tag.endswith(
                    "head")):
                raise AssertionError(f"<{local}> in {name}")
            for attribute, value in element.attrib.items():
                assert not etree.QName(attribute).localname.startswith("on"), (name, attribute)
                assert not value.strip().lower().startswith(("javascript:", "data:text/html")), (
                    name, attribute)
    if (out / "petit-traite.pdf").read_bytes() != previous_pdf:
        assert PdfReader(out / "petit-traite.pdf").pages


def test_the_corpus_is_big_enough():
    failing = [case for case in CASES if case.status == 1]
    assert len(CASES) > 100 and len(failing) > 80
    assert len({case.name for case in CASES}) == len(CASES)


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(main, ["--debug", "build", str(tmp_path / "none"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert result.exception is not None and "no such book folder" in str(result.exception)


# -- SVG: refused, or made safe --------------------------------------------------------------

_SVG_OPEN = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'width="40" height="40" viewBox="0 0 40 40">')
_RECT = '<rect width="40" height="40" fill="#888"/>'


def _svg(body: str, prolog: str = "", opening: str = _SVG_OPEN) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}{opening}{body}</svg>\n'


_LAUGHS = "".join(f'<!ENTITY l{n} "{("&l%d;" % (n - 1)) * 10}">' for n in range(1, 10))

#: {canary} is the absolute path of a file outside the book, {secret} its content.
SVG_ATTACKS = {
    "script": _svg(f"<script>alert(1)</script>{_RECT}"),
    "script in a CDATA section": _svg(f"<script><![CDATA[alert(1)]]></script>{_RECT}"),
    "onload handler": _svg(_RECT, opening=_SVG_OPEN.replace("<svg ", '<svg onload="alert(1)" ')),
    "onclick handler on a shape": _svg('<rect width="40" height="40" onclick="alert(1)"/>'),
    "javascript: href": _svg(f'<a xlink:href="javascript:alert(1)">{_RECT}</a>'),
    "javascript: href, SVG 2": _svg(f'<a href="javascript:alert(1)">{_RECT}</a>'),
    "foreignObject with HTML": _svg(
        '<foreignObject width="40" height="40"><div xmlns="http://www.w3.org/1999/xhtml">'
        '<iframe src="http://127.0.0.1:9/"></iframe></div></foreignObject>'),
    "external image over http": _svg(
        '<image href="http://127.0.0.1:9/x.png" width="40" height="40"/>'),
    "image from file:///": _svg(
        '<image xlink:href="file://{canary}" width="40" height="40"/>'),
    "external use": _svg('<use href="http://127.0.0.1:9/s.svg#a"/>'),
    "style importing over http": _svg(
        "<style>@import url(http://127.0.0.1:9/x.css); rect { fill: "
        f"url(http://127.0.0.1:9/p.svg#g) }}</style>{_RECT}"),
    "xml-stylesheet over http": _svg(
        _RECT, prolog='<?xml-stylesheet type="text/css" href="http://127.0.0.1:9/x.css"?>\n'),
    "external entity": _svg(
        '<text x="0" y="20">&canary;</text>',
        prolog='<!DOCTYPE svg [<!ENTITY canary SYSTEM "file://{canary}">]>\n'),
    "internal entity": _svg(
        '<text x="0" y="20">&x;</text>',
        prolog='<!DOCTYPE svg [<!ENTITY x "entity text">]>\n'),
}

_BANNED_IN_SVG = ("script", "onload", "onclick", "javascript:", "foreignobject", "http:",
                  "https:", "file:", "entity", "<!doctype", "xml-stylesheet", "iframe")


def _svg_problems(data: bytes, secret: str) -> list[str]:
    """What should not be in an SVG of the EPUB (namespace declarations aside)."""
    import re
    text = data.decode("utf-8", "replace")
    text = re.sub(r"""\sxmlns(:[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')""", "", text)
    lowered = text.lower()
    problems = [token for token in _BANNED_IN_SVG if token in lowered]
    if secret in text:
        problems.append("the content of a file outside the book")
    return problems


def _svg_build(tmp_path: Path, previous: Path, svg: str, timeout: float | None = None):
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = output_contents(out)
    canary = tmp_path / "canary.txt"
    secret = "CANARY-SVG-3c1f0a77"
    canary.write_text(secret + "\n", "utf-8")
    _figure(book, "x.svg", svg.replace("{canary}", str(canary)).encode())
    status, output = _run(["build", "book", "--out", "out", "--format", "epub"], tmp_path,
                          timeout)
    return status, output, out, before, secret


def _check_svg_outcome(status, output, out, before, secret):
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    assert secret not in output
    if status == 1:
        errors = [line for line in output.split("\n") if line.startswith("error: ")]
        assert len(errors) == 1, output
        assert "SVG" in errors[0] and "chapitres/deux.md:5" in errors[0], errors[0]
        assert output_contents(out) == before
        return
    with zipfile.ZipFile(out / "petit-traite.epub") as epub:
        svgs = 0
        for name in epub.namelist():
            data = epub.read(name)
            assert secret.encode() not in data, name
            if name.lower().endswith(".svg") or b"<svg" in data[:4096] and not name.endswith(
                    ".xhtml"):
                svgs += 1
                assert not _svg_problems(data, secret), (name, _svg_problems(data, secret),
                                                         data[:2000])
        assert svgs >= 1, "the SVG picture is not in the EPUB, and the build did not refuse it"


@pytest.mark.parametrize("attack", list(SVG_ATTACKS))
def test_svg_is_refused_or_made_safe(attack, tmp_path, previous, monkeypatch):
    """An SVG picture with active or remote content: refused (exit 1, one line naming the
    chapter line and "SVG"), or built with none of it in the EPUB."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    _check_svg_outcome(*_svg_build(tmp_path, previous, SVG_ATTACKS[attack]))


def test_an_svg_with_the_doctype_of_svg_11_is_kept(tmp_path, previous, monkeypatch,
                                                    epubcheck):
    """Graphviz (the Rust book's diagrams), draw.io and Illustrator write SVG 1.1's public
    document type; it declares nothing, EPUB 3.3 allows it, and the picture is kept."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    svg = _svg(_RECT, prolog='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
               ' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n')
    status, output, out, _, _ = _svg_build(tmp_path, previous, svg)
    assert status == 0, output
    with zipfile.ZipFile(out / "petit-traite.epub") as epub:
        assert any(epub.read(name) == svg.encode() for name in epub.namelist()
                   if name.endswith(".svg"))
    [result] = epubcheck(out / "petit-traite.epub")
    assert (result.fatals, result.errors, result.warnings) == (0, 0, 0), result.messages
    # With an internal subset, even an empty one, it is refused as before.
    refused = _svg(_RECT, prolog='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                   '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" []>\n')
    (tmp_path / "again").mkdir()
    monkeypatch.chdir(tmp_path / "again")
    status, output, *_ = _svg_build(tmp_path / "again", previous, refused)
    assert status == 1 and "DOCTYPE" in output, output


def test_svg_entity_bomb_is_refused_or_made_safe(tmp_path, previous, monkeypatch):
    """A billion laughs: refused or made safe within a minute, in bounded memory."""
    monkeypatch.chdir(tmp_path)
    svg = _svg('<text x="0" y="20">&l9;</text>',
               prolog=f'<!DOCTYPE svg [<!ENTITY l0 "ha">{_LAUGHS}]>\n')
    _check_svg_outcome(*_svg_build(tmp_path, previous, svg, timeout=60))


# -- images with look-alike names ------------------------------------------------------------

def test_images_whose_names_differ_only_by_a_space_stay_distinct(tmp_path, monkeypatch):
    """`images/a b.png` and `images/a_b.png`, two different pictures: two files in the EPUB,
    each <img> showing its own picture."""
    from PIL import Image
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    book = copy_book(TINY, tmp_path / "book")
    red, blue = (220, 20, 20), (20, 20, 220)
    _image(book, "a b.png", _png((16, 16), red))
    _image(book, "a_b.png", _png((16, 16), blue))
    _chapter(book, "![Rouge](<../images/a b.png>)\n\n![Bleu](../images/a_b.png)")
    status, output = _run(["build", "book", "--out", "out", "--format", "epub"], tmp_path)
    assert status == 0, output
    import posixpath
    from urllib.parse import unquote
    found = {}
    with zipfile.ZipFile(tmp_path / "out" / "petit-traite.epub") as epub:
        for name in epub.namelist():
            if not name.endswith(".xhtml"):
                continue
            root = etree.fromstring(epub.read(name))
            for img in root.iter("{http://www.w3.org/1999/xhtml}img"):
                if img.get("alt") in ("Rouge", "Bleu"):
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                                               unquote(img.get("src"))))
                    pixel = Image.open(io.BytesIO(epub.read(target))).convert("RGB").getpixel(
                        (8, 8))
                    found[img.get("alt")] = (target, pixel)
    assert set(found) == {"Rouge", "Bleu"}, found
    assert found["Rouge"][0] != found["Bleu"][0], found
    assert found["Rouge"][1] == red and found["Bleu"][1] == blue, found


# -- glyphs no font of the book covers -------------------------------------------------------

def _squash(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _vendored_font_names(book: Path) -> set[str]:
    """The names (family, full, PostScript; squashed) of the fonts Bindery ships and of the
    book's own fonts."""
    from fontTools.ttLib import TTFont
    from bindery.resources import STYLES
    names = set()
    for folder in (Path(STYLES) / "fonts", book / "styles" / "fonts"):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.suffix.lower() in (".otf", ".ttf", ".woff", ".woff2"):
                font = TTFont(path, lazy=True)
                for name_id in (1, 4, 6, 16):
                    name = font["name"].getDebugName(name_id)
                    if name:
                        names.add(_squash(name))
                font.close()
    return names


def _machine_fonts(fonts, book: Path) -> list[str]:
    """The fonts of a PDF that come from the machine (fontconfig's families), not from
    Bindery or the book."""
    vendored = _vendored_font_names(book)
    try:
        listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    machine = {_squash(family) for line in listing.split("\n")
               for family in line.split(",") if _squash(family)}
    machine = {family for family in machine
               if not any(v.startswith(family) or family.startswith(v) for v in vendored)}
    found = []
    for font in fonts:
        name = _squash(font.lstrip("/").split("+")[-1])
        if "dejavu" in name or any(name.startswith(family) for family in machine):
            found.append(font)
    return found


@pytest.mark.parametrize("text, character", [("漢字", "漢"), ("हिन्दी", "ह")],
                         ids=["CJK", "Devanagari"])
def test_characters_no_font_covers_warn_and_take_no_font_of_the_machine(
        text, character, tmp_path, monkeypatch):
    from pypdf import PdfReader
    from bindery.check.pdf import pdf_fonts
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    book = copy_book(TINY, tmp_path / "book")
    _chapter(book, f"Des caractères : {text}.")
    arguments = ["build", "book", "--out", "out", "--format", "epub", "--format", "pdf"]
    status, output = _run(arguments, tmp_path)
    assert status == 0, output
    warnings = [line for line in output.split("\n") if line.startswith("warning: ")]
    about = [line for line in warnings if character in line]
    assert about, output
    assert any("chapitres/deux.md:5" in line for line in about), about
    assert 1 <= len(about) <= 3, about                   # once per gap, not once per glyph
    assert not any("book.toml" in line for line in about), about
    fonts = pdf_fonts(PdfReader(tmp_path / "out" / "petit-traite.pdf"))
    assert fonts
    assert not [font for font in fonts if "dejavu" in font.lower()], fonts
    assert not _machine_fonts(fonts, book), fonts
    strict = _run([*arguments, "--strict", "--force"], tmp_path)
    assert strict[0] == 1, strict[1]
    errors = [line for line in strict[1].split("\n") if line.startswith("error: ")]
    assert len(errors) == 1 and "chapitres/deux.md:5" in errors[0], strict[1]


# -- paths as a user types them --------------------------------------------------------------

def test_a_book_in_a_sibling_folder_builds(tmp_path, monkeypatch):
    """`bindery build ../mybook` from a sibling folder, for a book with an image."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    copy_book(TINY, tmp_path / "mybook")
    sibling = tmp_path / "sibling"
    sibling.mkdir()
    monkeypatch.chdir(sibling)
    result = CliRunner().invoke(main, ["build", "../mybook", "--format", "epub"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    with zipfile.ZipFile(sibling / "dist" / "petit-traite.epub") as epub:
        assert any(name.endswith("diagramme.png") for name in epub.namelist())


def test_crlf_line_ends_build(tmp_path, monkeypatch):
    """book.toml and every chapter with Windows line ends: the book builds as it is."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    book = copy_book(TINY, tmp_path / "book")
    for path in [book / "book.toml", *sorted((book / "chapitres").glob("*.md"))]:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    status, output = _run(["build", "book", "--out", "out", "--format", "epub"], tmp_path)
    assert status == 0, output
    assert not [line for line in output.split("\n") if line.startswith("warning: ")], output


def test_a_picture_whose_data_ends_early_is_refused_once_weasyprint_is_imported():
    """WeasyPrint tells Pillow, when it is imported, to accept pictures whose data ends
    early; a thread imports it while the book is read. The check of a book's picture does
    not depend on which came first."""
    import weasyprint  # noqa: F401 - sets Pillow's LOAD_TRUNCATED_IMAGES
    from PIL import ImageFile

    from bindery.source.images import image_problem

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    assert "truncated" in image_problem(_png_bomb(1_000_000, 1), ".png")
    assert ImageFile.LOAD_TRUNCATED_IMAGES            # as WeasyPrint left it
