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
