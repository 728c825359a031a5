"""Book -> cover image: a typographic cover, 1600 x 2560 PNG, set in the book's own fonts.

Title, subtitle, author and publisher come from book.toml; the type is the vendored serif
(the book's ``styles/fonts/`` first), so the cover matches the print edition. A book that
has its own cover names it in book.toml (``cover = "images/cover.jpg"``) and that is used.
"""

from __future__ import annotations

import io

from ..model import Book, Cover
from ..paths import read_file
from ..sandbox import Sandbox

WIDTH, HEIGHT = 1600, 2560
PAPER = (244, 239, 228)       # a warm off-white
INK = (28, 31, 38)            # near black: contrast 14:1 on the paper
ACCENT = (122, 28, 36)        # a deep red for the rules
MARGIN = 150


def cover_for(book: Book) -> Cover:
    """The user's cover if book.toml names one, else a generated typographic cover."""
    alt = f"Cover: {book.title}"
    if book.subtitle:
        alt += f", {book.subtitle}"
    alt += f", {book.labels['by']} {book.author_names}"
    if book.cover is not None:
        suffix = book.cover.suffix.lower()
        media_type = "image/png" if suffix == ".png" else "image/jpeg"
        return Cover(f"cover{suffix}", media_type, alt)
    return Cover("cover.png", "image/png", alt)


def cover_image(book: Book, sandbox: Sandbox) -> bytes:
    """The bytes of the cover image: the user's file, or one drawn from the metadata."""
    if book.cover is not None:
        return read_file(book.cover, "cover image")
    return _draw(book, sandbox)


def _draw(book: Book, sandbox: Sandbox) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    regular = sandbox.style("fonts/LinLibertine_R.otf")
    italic = sandbox.style("fonts/LinLibertine_RI.otf")
    width = WIDTH - 2 * MARGIN

    # A frame of two rules, as on a title page of the print edition.
    draw.rectangle([MARGIN // 2, MARGIN // 2, WIDTH - MARGIN // 2, HEIGHT - MARGIN // 2],
                   outline=ACCENT, width=10)
    draw.rectangle([MARGIN // 2 + 28, MARGIN // 2 + 28, WIDTH - MARGIN // 2 - 28,
                    HEIGHT - MARGIN // 2 - 28], outline=ACCENT, width=3)

    y = 620
    title_font, title_lines = _fit(book.title, regular, width, start=230, lines=4)
    y = _lines(draw, title_lines, title_font, y, INK, leading=1.15)
    if book.subtitle:
        font, lines = _fit(book.subtitle, italic, width, start=96, lines=3)
        y = _lines(draw, lines, font, y + 70, INK, leading=1.25)
    draw.line([WIDTH // 2 - 160, y + 110, WIDTH // 2 + 160, y + 110], fill=ACCENT, width=6)

    author_font, author_lines = _fit(book.author_names, regular, width, start=104, lines=1,
                                     features=["smcp"], smallest=64)
    _lines(draw, author_lines, author_font, HEIGHT - 640, INK, leading=1.3,
           features=["smcp"])
    if book.publisher:
        font, lines = _fit(book.publisher, italic, width, start=64, lines=2)
        _lines(draw, lines, font, HEIGHT - 330, INK, leading=1.3)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _fit(text: str, path, width: int, start: int, lines: int, features=None,
         smallest: int = 24):
    """The largest size (from ``start`` down to ``smallest``) at which ``text`` fits in
    ``lines`` lines; at the smallest size, as many lines as it takes."""
    from PIL import ImageFont

    size = start
    while True:
        font = ImageFont.truetype(str(path), size)
        wrapped = _wrap(text, font, width, features)
        if len(wrapped) <= lines or size <= smallest:
            return font, wrapped
        size = max(smallest, int(size * 0.9))


def _wrap(text: str, font, width: int, features=None) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}", features=features) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _lines(draw, lines: list[str], font, y: int, fill, leading: float,
           features=None) -> int:
    size = font.size
    for line in lines:
        draw.text((WIDTH // 2, y), line, font=font, fill=fill, anchor="ma",
                  features=features)
        y += int(size * leading)
    return y
