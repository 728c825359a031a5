"""Any title, any author, any Markdown: a valid book, or a Bindery error; nothing else."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from bindery import builder as pipeline
from bindery.builder import BuildRequest
from bindery.errors import BookError

from helpers import EPOCH, source_date_epoch

SCRIPTS = [
    "Hello, world", "שלום עולם", "مرحبا بالعالم", "你好，世界", "こんにちは世界", "안녕하세요",
    "Привет, мир", "Γειά σου Κόσμε", "😀🎉👩‍👩‍👧 emoji", "नमस्ते दुनिया", "e\u0301 combining",
]
MARKUP = [
    "# ", "## ", "> ", "- ", "1. ", "*", "**", "_", "`", "```\n", "\n\n", "\n", "[link](https://example.org)",
    "![alt](../images/none.png)", "<b>", "</i>", "<script>", "&amp;", "&", "<", ">", '"', "'",
    "::: figure\n", ":::\n", "{.credit}", "[span]{.x}", "---", "| a | b |\n|---|---|\n| 1 | 2 |",
    "\\", "~~strike~~", "...", "--", " - ", "\u00a0", "\t", "javascript:", "]]>", "<!--",
    "\x0c",                       # a control character: refused with its position
]
#: Any character but controls and surrogates (those are tried, rarely, through MARKUP).
_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=12)


def _markdown():
    pieces = st.one_of(st.sampled_from(SCRIPTS), st.sampled_from(MARKUP), _TEXT)
    return st.lists(pieces, max_size=14).map("".join)


_names = st.one_of(st.sampled_from(SCRIPTS), st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30))


def _build(root: Path, title: str, author: str, markdown: str, language: str) -> Path | None:
    """Build one random book; its EPUB's path, or None when Bindery refused it clearly."""
    book = root / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "images").mkdir()
    (book / "book.toml").write_text("\n".join([
        f"title = {json.dumps(title, ensure_ascii=False)}",
        f'language = "{language}"',
        'identifier = "urn:uuid:12345678-1234-4234-8234-123456789abc"',
        'slug = "prop"',
        'chapters = ["chapters/one.md"]',
        "[[authors]]",
        f"name = {json.dumps(author, ensure_ascii=False)}",
    ]), "utf-8")
    (book / "chapters" / "one.md").write_text(
        f"---\ntitle: {json.dumps(title[:20] or 'x', ensure_ascii=False)}\n---\n\n{markdown}\n",
        "utf-8")
    try:
        with source_date_epoch(EPOCH):
            report = pipeline.build(BuildRequest(book, root / "out", ("epub", "pdf"),
                                                  parallel=False))
    except BookError:
        return None                                   # a clear error is a good outcome
    epub = next(output.path for output in report.outputs if output.format == "epub")
    with zipfile.ZipFile(epub) as archive:
        for name in archive.namelist():
            if name.endswith((".xhtml", ".opf", ".ncx")):
                etree.fromstring(archive.read(name))   # well-formed, or this raises
    pdf = next(output.path for output in report.outputs if output.format == "pdf")
    assert len(PdfReader(pdf).pages) >= 1
    return epub


def test_any_input_builds_a_valid_book_or_fails_cleanly(tmp_path_factory, epubcheck):
    built: list[Path] = []
    refused: list[str] = []

    @settings(max_examples=14, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(title=_names, author=_names, markdown=_markdown(),
           language=st.sampled_from(["en", "fr", "he", "ar", "zh-Hans", "ja"]))
    def examples(title, author, markdown, language):
        epub = _build(tmp_path_factory.mktemp("prop"), title, author, markdown, language)
        (built if epub else refused).append(epub or title)

    examples()
    assert len(built) >= 5, f"only {len(built)} of the random books built"
    # EPUBCheck once over the whole batch.
    for result in epubcheck(*built):
        assert result.clean, (result.path, result.messages)


# -- random bytes into every file of a stranger's book ---------------------------------------
#
# Whatever the bytes, the command line ends with exit 0 or exit 1 and one line, never exit
# 70 or a traceback. Each file is fed pure random bytes, or a valid file with random bytes
# spliced in (closer to what a broken editor or a truncated download makes).

_BASE_TOML = "\n".join([
    'title = "Octets"',
    'language = "fr"',
    'identifier = "urn:uuid:12345678-1234-4234-8234-123456789abc"',
    'slug = "octets"',
    'chapters = ["chapters/one.md"]',
    "[[authors]]",
    'name = "Anne Dupont"',
    "[print]",
    'trim = "A6"',
    "",
]).encode()
_BASE_FRONT = b"title: Un chapitre\nrole: chapter"
_BASE_TEXT = ("Du *texte* et du **gras**, une [lien](https://example.org) et une liste :\n\n"
              "- un\n- deux\n\n> une citation\n\n![Une figure](../images/figure.svg)\n").encode()
_BASE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" '
             b'viewBox="0 0 40 20"><rect width="40" height="20" fill="#777"/>'
             b'<text x="2" y="14">SVG</text></svg>\n')
_BASE_CSS = b"p { margin: 0; text-indent: 1.2em; }\nh1 { font-size: 1.5em; }\n"


def _bytes_like(base: bytes):
    """Random bytes, random text, or ``base`` with random bytes or text spliced in."""
    spliced = st.tuples(st.integers(0, len(base)), st.integers(0, 24),
                        st.binary(max_size=48)).map(
        lambda t: base[:t[0]] + t[2] + base[t[0] + t[1]:])
    spliced_text = st.tuples(st.integers(0, len(base)), st.integers(0, 24),
                             st.text(max_size=24)).map(
        lambda t: base[:t[0]] + t[2].encode("utf-8", "surrogatepass") + base[t[0] + t[1]:])
    text = st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass"))
    return st.one_of(st.binary(max_size=400), text, spliced, spliced_text)


def _byte_book(root: Path, toml: bytes = _BASE_TOML, front: bytes = _BASE_FRONT,
               text: bytes = _BASE_TEXT, svg: bytes = _BASE_SVG,
               css: bytes = _BASE_CSS) -> Path:
    book = root / "book"
    for folder in ("chapters", "images", "styles"):
        (book / folder).mkdir(parents=True)
    (book / "book.toml").write_bytes(toml)
    (book / "chapters" / "one.md").write_bytes(b"---\n" + front + b"\n---\n\n" + text)
    (book / "images" / "figure.svg").write_bytes(svg)
    (book / "styles" / "epub.css").write_bytes(css)
    return book


def _exits_0_or_1(root: Path, **files: bytes) -> int:
    from click.testing import CliRunner
    from bindery.cli import main

    book = _byte_book(root, **files)
    with source_date_epoch(EPOCH):
        result = CliRunner().invoke(main, ["build", str(book), "--out", str(root / "out"),
                                           "--format", "epub"])
    output = result.output
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert result.exit_code in (0, 1), (result.exit_code, output)
    if result.exit_code == 1:
        errors = [line for line in output.split("\n") if line.startswith("error: ")]
        assert len(errors) == 1, output
    else:
        assert zipfile.is_zipfile(root / "out" / "octets.epub")
    return result.exit_code


def test_the_byte_book_builds(tmp_path):
    """The base of the byte tests is a good book: what fails there is the random bytes."""
    assert _exits_0_or_1(tmp_path) == 0


_BYTES = settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])


def test_random_bytes_in_book_toml(tmp_path_factory):
    @_BYTES
    @given(data=_bytes_like(_BASE_TOML))
    def examples(data):
        _exits_0_or_1(tmp_path_factory.mktemp("toml"), toml=data)

    examples()


def test_random_bytes_in_front_matter(tmp_path_factory):
    @_BYTES
    @given(data=_bytes_like(_BASE_FRONT))
    def examples(data):
        _exits_0_or_1(tmp_path_factory.mktemp("front"), front=data)

    examples()


def test_random_bytes_in_chapter_text(tmp_path_factory):
    @_BYTES
    @given(data=_bytes_like(_BASE_TEXT))
    def examples(data):
        _exits_0_or_1(tmp_path_factory.mktemp("text"), text=data)

    examples()


def test_random_bytes_in_an_svg_picture(tmp_path_factory):
    @_BYTES
    @given(data=_bytes_like(_BASE_SVG))
    def examples(data):
        _exits_0_or_1(tmp_path_factory.mktemp("svg"), svg=data)

    examples()


def test_random_bytes_in_the_books_epub_css(tmp_path_factory):
    @_BYTES
    @given(data=_bytes_like(_BASE_CSS))
    def examples(data):
        _exits_0_or_1(tmp_path_factory.mktemp("css"), css=data)

    examples()
