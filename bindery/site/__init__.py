"""The book's EPUB and its other outputs -> the site (``<slug>-site/``): where readers find
the book, read it and take the file that suits their device.

- ``index.html``: cover, title, authors, description, subjects, and one download per
  output, named for a reader, with its size and SHA-256; the files in ``downloads/``, the
  cover and its thumbnail in ``cover/``, the book's pictures where the EPUB has them;
- ``read/``: the web edition, a page per document of the EPUB with the same text and ids
  (``edition.py``), a contents page (``read/toc.html``), previous and next links, notes
  that work without JavaScript; ``styles/site.css`` (the book's ``common.css``, ``epub.css`` and
  ``site.css``, which sets what a browser needs and a reading system does not) and the
  fonts as WOFF2 subsets (``fonts.py``);
- ``opds.xml`` for reading apps, schema.org and Open Graph data, ``sitemap.xml`` when
  book.toml gives ``[site] url`` (``feed.py``).

Every link is relative: the folder can be copied to any static host or opened from disk.
Templates ``site/index.html`` and ``site/page.html`` make the pages; a book may bring its
own, like every template.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass

from ..model import Book, Folder
from ..render import render_site
from ..sandbox import Sandbox
from ..source.text import read_text
from .edition import CONTENTS, read_edition
from .feed import MEDIA_TYPES, Download, book_json_ld, opds_feed, sitemap
from .fonts import web_fonts

#: The outputs a site offers, in the order a reader looks for them.
OFFERED = ("epub", "kepub", "azw3", "pdf", "booklet", "press", "cover")
_THUMBNAIL_WIDTH = 320


@dataclass(frozen=True)
class Offered:
    """An output the site offers for download: its format, file name and bytes."""

    format: str
    name: str
    data: bytes


def make_site(book: Book, sandbox: Sandbox, epub: bytes, offered: list[Offered],
              updated: str) -> Folder:
    edition = read_edition(epub)
    labels = book.labels
    files: dict[str, bytes] = dict(edition.files)
    downloads = []
    for output in sorted(offered, key=lambda output: OFFERED.index(output.format)):
        href = f"downloads/{output.name}"
        files[href] = output.data
        downloads.append(Download(output.format, labels[f"format_{output.format}"], href,
                                  MEDIA_TYPES[output.format], len(output.data),
                                  hashlib.sha256(output.data).hexdigest()))
    cover = thumbnail = None
    if edition.cover is not None:
        name, data = edition.cover
        # The site's own pictures, in a folder of their own: a book's are all in images/.
        cover, thumbnail = f"cover/{name}", "cover/thumbnail.png"
        files[cover] = data
        files[thumbnail] = thumbnail_of(data)

    json_ld = book_json_ld(book, cover, downloads)
    common = dict(book=book, json_ld=json_ld, url=book.epub.site_url, updated=updated,
                  cover=cover)
    pages = list(edition.pages)
    contents_page = dict(name=CONTENTS, title=labels["contents"], body=edition.contents)
    sequence = [contents_page] + [dict(name=page.name, title=page.title, body=page.body)
                                  for page in pages]
    html = {"index.html": render_site("site/index.html", sandbox, downloads=downloads,
                                      first=pages[0].name if pages else CONTENTS,
                                      contents=CONTENTS,
                                      root="", **common)}
    for index, page in enumerate(sequence):
        previous = sequence[index - 1] if index > 0 else None
        following = sequence[index + 1] if index + 1 < len(sequence) else None
        html[f"read/{page['name']}.html"] = render_site(
            "site/page.html", sandbox, page=page, previous=previous, next=following,
            root="../", contents=CONTENTS, **common)
    characters = "".join(html.values())
    css = "\n".join(read_text(sandbox.style(name), "stylesheet")
                    for name in ("common.css", "epub.css", "site.css"))
    css, fonts = web_fonts(css, sandbox, characters)
    files.update(fonts)
    files["styles/site.css"] = css.encode("utf-8")
    files.update({name: text.encode("utf-8") for name, text in html.items()})
    summary = " ".join(pages[0].text.split()[:60]) + "…" if pages else book.description
    files["opds.xml"] = opds_feed(book, updated, downloads, cover, thumbnail,
                                  book.description or summary)
    if book.epub.site_url:
        files["sitemap.xml"] = sitemap(book.epub.site_url, sorted(html), updated)
    return Folder(tuple(sorted(files.items())))


@functools.lru_cache(maxsize=4)
def thumbnail_of(data: bytes) -> bytes:
    """A small cover for catalogues and link previews, drawn once for each cover in a
    process: the build draws it beside the layout, and ``watch`` rebuilds the site after
    each edit."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        height = round(image.height * _THUMBNAIL_WIDTH / image.width)
        small = image.convert("RGB").resize((_THUMBNAIL_WIDTH, height),
                                            Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "PNG", optimize=True)
        return out.getvalue()
