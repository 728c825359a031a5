"""The author's words, in order, in the EPUB and in the PDF: exactly those of the original."""

from __future__ import annotations

from pypdf import PdfReader

from bindery.check.reader import Epub

from helpers import normalise, original_parts, words


def test_the_seed_is_kept_verbatim_in_the_project():
    parts = original_parts()
    assert parts["byline"] == ["Jorge", "Vanstreels"]
    assert parts["title"] == ["ISIS:", "run."]
    assert parts["article"][:3] == ["An", "F15", "prepares"]
    assert parts["bio"][-3:] == ["on", "Twitter", "@Jorgevs"]


def test_epub_article_and_bio_are_the_original_words(default_book):
    parts = original_parts()
    epub = Epub.open(default_book["epub"])
    assert words(epub.text("text/isis-run.xhtml")) == parts["title"] + parts["article"]
    assert words(epub.text("text/about-the-author.xhtml")) == parts["bio_heading"] + parts["bio"]


def test_epub_title_page_carries_title_and_byline(default_book):
    parts = original_parts()
    epub = Epub.open(default_book["epub"])
    assert words(epub.text("text/titlepage.xhtml")) == parts["title"] + parts["byline"]


def test_typos_are_kept(default_book):
    """We publish, we don't edit."""
    text = Epub.open(default_book["epub"]).text("text/isis-run.xhtml")
    for typo in ("slosly moving", "the heart Europe", "safe heavens",
                 "lost almost half of it territory", "operatives send to Europe",
                 "Retaking Ramadi back by the Iraqi"):
        assert typo in normalise(text), typo


def _pdf_words(path) -> list[str]:
    reader = PdfReader(path)
    return words("\n".join(page.extract_text() for page in reader.pages))


def test_pdf_has_the_original_words_in_order(default_book):
    """Every original word in order; between them only what the layout adds: running
    heads, folios, the title page and the chapter heading."""
    parts = original_parts()
    expected = parts["title"] + parts["byline"] + parts["title"] + parts["article"] + \
        parts["bio_heading"] + parts["bio"]
    found = _pdf_words(default_book["pdf"])
    allowed_extras = set(parts["title"]) | {"isis:", "run."} | set(parts["byline"]) | {
        str(n) for n in range(1, 100)}
    position = 0
    for word in expected:
        start = position
        while found[position] != word:
            assert found[position] in allowed_extras, (
                f"unexpected {found[position]!r} before {word!r}: "
                f"{' '.join(found[max(0, start - 5):position + 5])}")
            position += 1
        position += 1
    assert "Colophon" in found[position:]
