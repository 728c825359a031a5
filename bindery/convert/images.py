"""A Markdown image -> checked and named: a file inside the book, with alt text, that decodes;
its name in the EPUB unique in the book; its ``src`` the file's own path for print."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from markdown_it.token import Token

from ..errors import BookError
from ..model import Book, Chapter, Image
from ..paths import name_as_written, read_file, within
from ..source.images import IMAGE_TYPES, image_problem
from .tokens import source_line, plain_text


def check_image(image: Token, env: dict, token: Token) -> None:
    book: Book = env["book"]
    chapter: Chapter = env["chapter"]
    line = source_line(chapter, token)
    src = image.attrGet("src") or ""
    alt = plain_text(image.children or []).strip()
    image.attrSet("alt", alt)
    image.children = []
    if not alt:
        raise BookError(f"image `{src}` has no alt text", chapter.source, line,
                        hint="describe the picture: ![what it shows](path)")
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith(("/", "\\")):
        raise BookError(f"image `{src}` must be a file inside the book folder", chapter.source,
                        line, hint="put it in images/ and write images/name.jpg")
    relative = Path(unquote(parts.path))
    candidates = [chapter.source.parent / relative, book.root / relative]
    path = next((candidate for candidate in candidates if os.path.lexists(candidate)), None)
    if path is None:
        raise BookError(f"image `{src}` not found", chapter.source, line)
    if not within(path, book.root):
        raise BookError(f"image `{src}` is outside the book folder", chapter.source, line)
    resolved = path.resolve()
    suffix = resolved.suffix.lower()
    media_type = IMAGE_TYPES.get(suffix)
    if media_type is None:
        allowed = ", ".join(sorted({s.lstrip(".") for s in IMAGE_TYPES}))
        raise BookError(f"image `{src}` is a {resolved.suffix or 'file'} file; EPUB allows "
                        f"{allowed}", chapter.source, line)
    try:
        data = read_file(resolved, "image")
        problem = image_problem(data, suffix)
    except BookError as error:
        raise BookError(f"image `{src}`: {error.message}", chapter.source, line) from None
    if problem is not None:
        raise BookError(f"image `{src}` {problem}", chapter.source, line)
    original = name_as_written(path, book.root)
    image_record = _register(env["names"], resolved, original, media_type,
                             hashlib.sha256(data).hexdigest())
    env["images"].setdefault(image_record.href, image_record)
    # Chapters live in text/ in the EPUB and in the print document's base folder; the
    # EPUB maps the file's own path to its name in the package.
    image.attrSet("src", f"../{quote(original)}")
    image.attrs.pop("title", None)


def _register(names: dict[str, Path], source: Path, original: str, media_type: str,
              digest: str) -> Image:
    """The image's name in the EPUB: its path with safe characters, made unique in the book
    (``images/a b.png`` and ``images/a_b.png`` are two files, so two names)."""
    href = "/".join(_safe_segment(segment) for segment in original.split("/"))
    stem, dot, suffix = href.rpartition(".")
    number = 1
    while names.setdefault(href, source) != source:
        number += 1
        href = f"{stem}-{number}{dot}{suffix}"
    return Image(source=source, href=href, media_type=media_type, original=original,
                 digest=digest)


def _safe_segment(segment: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", segment)
