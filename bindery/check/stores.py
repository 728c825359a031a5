"""An EPUB -> what the stores' published rules find in it that EPUBCheck does not: covers,
image sizes and types, file sizes, table of contents order, embedded fonts, page progression,
and a kepub's spans. Each finding names the store and its rule.

The rules, and where each store publishes them (read 2026-12):

- Apple Books Asset Guide: images JPEG or PNG, at most 4 million pixels each (one page of
  the guide allows 5.6; the cover is exempt); the EPUB under 2 GB; embedded fonts shown only when
  ``META-INF/com.apple.ibooks.display-options.xml`` says ``specified-fonts``; the spine's
  ``page-progression-direction`` for right-to-left books. Distributors ask for a cover of at
  least 1400 pixels on its shorter side.
- Kobo (kobolabs/epub-spec): a cover in its own XHTML, as an ``<img>``, JPEG or PNG, under
  3 MB; images JPEG, PNG or SVG, under 5 MB each; an EPUB under 1 GB, each XHTML under
  10 MB; fonts TTF, OTF or WOFF 1.0. A kepub: every document wrapped in
  ``div#book-columns > div#book-inner``, its text in ``koboSpan``s with unique
  ``kobo.N.M`` ids.
- Kindle (KDP's help pages and Kindle Publishing Guidelines; Send to Kindle's limits): the
  cover at least 1000 x 625 pixels and at most 10,000 on a side; images GIF, BMP, JPEG, PNG
  or SVG, under 5 MB, without transparency; Send to Kindle takes 50 MB by e-mail (200 MB from
  its app); the table of contents in reading order (Amazon drops a table of contents whose
  order is not the spine's) and one ``dc:title`` (both reported by Kindle users and tool
  makers, innocenat/kindle-epub-fix and others, not published by Amazon); no link to a
  ``<body>`` id; every XHTML document declaring its encoding; fonts TTF or OTF.
- Google Play Books (partner help): a cover at least 640 pixels on its shorter side and at
  most 7,200 on either; images GIF, JPEG, PNG or SVG (an SVG at most 3,200 wide and high);
  the file under 2 GB.

Every store: a font whose licence forbids embedding (OpenType ``fsType`` restricted) may not
be sold embedded.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import BookError
from ..model import RIGHT_TO_LEFT_LANGUAGES
from ..namespaces import MATHML, NS, SVG
from .reader import Epub

APPLE, KOBO, KINDLE, GOOGLE = "Apple Books", "Kobo", "Kindle", "Google Play Books"
STORES = (APPLE, KOBO, KINDLE, GOOGLE)

MB = 1024 * 1024
#: The image types each store takes, by media type.
IMAGE_TYPES = {
    APPLE: {"image/jpeg", "image/png", "image/svg+xml"},
    KOBO: {"image/jpeg", "image/png", "image/svg+xml", "image/gif"},
    KINDLE: {"image/gif", "image/bmp", "image/jpeg", "image/png", "image/svg+xml"},
    GOOGLE: {"image/gif", "image/jpeg", "image/png", "image/svg+xml"},
}
COVER_TYPES = {"image/jpeg", "image/png"}
#: The shorter and the longer side a cover needs at least, and the most either may have.
COVER_PIXELS = {APPLE: (1400, 1400, None), KINDLE: (625, 1000, 10_000),
                GOOGLE: (640, 640, 7_200)}
IMAGE_MEGAPIXELS = {APPLE: 4.0}
IMAGE_BYTES = {KOBO: 5 * MB, KINDLE: 5 * MB}
COVER_BYTES = {KOBO: 3 * MB}
EPUB_BYTES = {APPLE: 2048 * MB, KOBO: 1024 * MB, KINDLE: 50 * MB, GOOGLE: 2048 * MB}
FONT_TYPES = {KOBO: ("ttf", "otf", "woff"), KINDLE: ("ttf", "otf")}
_FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
_KOBO_ID = re.compile(r"kobo\.\d+\.\d+\Z")
_X = f"{{{NS['x']}}}"


@dataclass(frozen=True)
class Finding:
    store: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.store}: {self.rule}: {self.detail}"


def check_stores(path: Path) -> list[Finding]:
    """Everything the four stores' rules find in the EPUB (or kepub) at ``path``; a file
    that is missing or no EPUB is a BookError."""
    if not Path(path).is_file():
        raise BookError("no such file", path)
    data = Path(path).read_bytes()
    try:
        epub = Epub(data)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, AttributeError):
        raise BookError("not an EPUB (no zip with a package document)", path) from None
    findings = _file_size(len(data))
    findings += _cover(epub)
    findings += _images(epub)
    findings += _documents(epub)
    findings += _toc_order(epub)
    findings += _fonts(epub)
    findings += _direction(epub)
    if Path(path).name.endswith(".kepub.epub"):
        findings += _kepub(epub)
    return findings


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _file_size(size: int) -> list[Finding]:
    return [Finding(store, "file size", f"{_mb(size)}, more than the {_mb(limit)} it takes"
                    + (" by e-mail (200 MB from the Send to Kindle app)" if store == KINDLE
                       else ""))
            for store, limit in EPUB_BYTES.items() if size > limit]


def _cover(epub: Epub) -> list[Finding]:
    covers = [item for item in epub.manifest.values()
              if "cover-image" in item.get("properties", "").split()]
    if not covers:
        return [Finding(store, "cover", "no image declared as the cover "
                        "(manifest properties=\"cover-image\")") for store in STORES]
    cover = covers[0]
    findings = []
    if cover.get("media-type") not in COVER_TYPES:
        findings += [Finding(store, "cover", f"{cover['href']} is {cover.get('media-type')}, "
                             "not JPEG or PNG") for store in STORES]
        return findings
    data = epub.zip.read(epub.path_of(cover["href"]))
    width, height = _pixels(data)
    short, long_ = sorted((width, height))
    for store, (least_short, least_long, most) in COVER_PIXELS.items():
        if short < least_short or long_ < least_long:
            findings.append(Finding(store, "cover size", f"{width} x {height} pixels, less "
                                    f"than the {least_short} x {least_long} it asks for"))
        if most is not None and long_ > most:
            findings.append(Finding(store, "cover size", f"{width} x {height} pixels, more "
                                    f"than {most} on a side"))
    for store, limit in COVER_BYTES.items():
        if len(data) > limit:
            findings.append(Finding(store, "cover file", f"{_mb(len(data))}, more than "
                                    f"{_mb(limit)}"))
    first = epub.spine[0] if epub.spine else None
    shown = first is not None and any(
        epub.path_of(posixpath.join(posixpath.dirname(first), img.get("src", "")))
        == epub.path_of(cover["href"])
        for img in epub.document(first).iter(f"{_X}img"))
    if not shown:
        findings.append(Finding(KOBO, "cover page", "the first document of the reading order "
                                "does not show the cover image in an <img>"))
    return findings


def _pixels(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def _images(epub: Epub) -> list[Finding]:
    from PIL import Image

    findings = []
    for item in epub.manifest.values():
        media_type = item.get("media-type", "")
        if not media_type.startswith("image/"):
            continue
        href = item["href"]
        for store, types in IMAGE_TYPES.items():
            if media_type not in types:
                findings.append(Finding(store, "image type", f"{href} is {media_type}"))
        data = epub.zip.read(epub.path_of(href))
        for store, limit in IMAGE_BYTES.items():
            if len(data) > limit:
                findings.append(Finding(store, "image file size", f"{href} is {_mb(len(data))},"
                                        f" more than {_mb(limit)}"))
        if media_type == "image/svg+xml":
            findings += _svg_size(href, data)
            continue
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                transparent = (image.mode in ("RGBA", "LA", "PA")
                               or "transparency" in image.info)
                if transparent and image.mode in ("RGBA", "LA"):
                    transparent = image.getchannel("A").getextrema()[0] < 255
        except (OSError, ValueError):
            continue              # EPUBCheck reports an image that does not decode
        is_cover = "cover-image" in item.get("properties", "").split()
        for store, megapixels in IMAGE_MEGAPIXELS.items():
            if not is_cover and width * height > megapixels * 1_000_000:
                findings.append(Finding(store, "image pixels", f"{href} is {width} x {height} "
                                        f"({width * height / 1e6:.1f} million pixels), more "
                                        f"than {megapixels:g} million"))
        if transparent:
            findings.append(Finding(KINDLE, "image transparency", f"{href} has transparent "
                                    "pixels, which Kindle does not support"))
    return findings


def _svg_size(href: str, data: bytes) -> list[Finding]:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False,
                                                      no_network=True))
    except etree.XMLSyntaxError:
        return []
    sizes = [_length(root.get(side)) for side in ("width", "height")]
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if None in sizes and len(box) == 4:
        sizes = [_length(box[2]), _length(box[3])]
    if any(size is not None and size > 3200 for size in sizes):
        return [Finding(GOOGLE, "SVG size", f"{href} is larger than 3200 on a side")]
    return []


def _length(value: str | None) -> float | None:
    match = re.match(r"\s*([\d.]+)\s*(px)?\s*\Z", value or "")
    return float(match[1]) if match else None


def _documents(epub: Epub) -> list[Finding]:
    findings = []
    titles = epub.metadata("dc:title")
    if len(titles) != 1:
        findings.append(Finding(KINDLE, "title", f"{len(titles)} dc:title elements; Send to "
                                "Kindle refuses a book without exactly one (error E999)"))
    for item in epub.manifest.values():
        if item.get("media-type") != "application/xhtml+xml":
            continue
        href = item["href"]
        data = epub.zip.read(epub.path_of(href))
        if len(data) > 10 * MB:
            findings.append(Finding(KOBO, "document size", f"{href} is {_mb(len(data))}, "
                                    "more than 10 MB"))
        if not re.match(rb"<\?xml[^>]*encoding=", data):
            findings.append(Finding(KINDLE, "encoding", f"{href} does not declare its "
                                    "encoding (Kindle then reads it as Latin-1)"))
        root = epub.document(href)
        body = root.find("x:body", NS)
        body_id = body.get("id") if body is not None else None
        for link in root.iter(f"{_X}a"):
            target = link.get("href", "")
            if body_id and target.endswith(f"#{body_id}"):
                findings.append(Finding(KINDLE, "link", f"{href} links to the <body> id "
                                        f"`{body_id}`"))
    return findings


def _toc_order(epub: Epub) -> list[Finding]:
    """Kindle keeps a table of contents only when it follows the reading order."""
    spine = [epub.path_of(href) for href in epub.spine]
    findings, last, last_title = [], -1, ""
    for href, title in epub.nav("toc"):
        document = epub.path_of(href.split("#")[0])
        if document not in spine:
            findings.append(Finding(KINDLE, "table of contents", f"\"{title}\" leads to "
                                    f"{href.split('#')[0]}, which is not in the reading order"))
            continue
        index = spine.index(document)
        if index < last:
            findings.append(Finding(KINDLE, "table of contents order", f"\"{title}\" comes "
                                    f"after \"{last_title}\" in the contents but before it "
                                    "in the reading order"))
        last, last_title = index, title
    return findings


def _fonts(epub: Epub) -> list[Finding]:
    from fontTools.ttLib import TTFont

    findings = []
    fonts = [item["href"] for item in epub.manifest.values()
             if item["href"].lower().endswith(_FONT_SUFFIXES)]
    for href in fonts:
        kind = href.rsplit(".", 1)[1].lower()
        for store, kinds in FONT_TYPES.items():
            if kind not in kinds:
                findings.append(Finding(store, "font type", f"{href} is {kind.upper()}"))
        try:
            font = TTFont(io.BytesIO(epub.zip.read(epub.path_of(href))), lazy=True)
            fs_type = font["OS/2"].fsType if "OS/2" in font else 0
        except Exception:  # noqa: BLE001 - an obfuscated or broken font cannot be read here
            continue
        if fs_type & 0x000F == 0x0002:
            findings += [Finding(store, "font licence", f"{href}: its licence forbids "
                                 "embedding (OS/2 fsType 2, restricted)") for store in STORES]
    if fonts and not _apple_shows_fonts(epub):
        findings.append(Finding(APPLE, "embedded fonts", "Apple Books shows them only when "
                                "META-INF/com.apple.ibooks.display-options.xml sets "
                                "specified-fonts to true"))
    return findings


def _apple_shows_fonts(epub: Epub) -> bool:
    name = "META-INF/com.apple.ibooks.display-options.xml"
    if name not in epub.names:
        return False
    root = etree.fromstring(epub.zip.read(name))
    return any(option.get("name") == "specified-fonts" and (option.text or "").strip() == "true"
               for option in root.iter("option"))


def _direction(epub: Epub) -> list[Finding]:
    languages = epub.metadata("dc:language")
    primary = (languages[0] or "").split("-")[0].lower() if languages else ""
    direction = epub.opf.find("opf:spine", NS).get("page-progression-direction", "default")
    wanted = "rtl" if primary in RIGHT_TO_LEFT_LANGUAGES else "ltr"
    if direction == wanted or (direction == "default" and wanted == "ltr"):
        return []
    return [Finding(store, "page progression", f"the book is in `{languages[0]}`, but its "
                    f"spine's page-progression-direction is `{direction}`")
            for store in (APPLE, KOBO, GOOGLE)]


def _kepub(epub: Epub) -> list[Finding]:
    """A kepub's documents: wrapped for Kobo's columns, every word in a koboSpan."""
    findings, seen = [], set()
    for item in epub.manifest.values():
        if item.get("media-type") != "application/xhtml+xml":
            continue
        href = item["href"]
        body = epub.document(href).find("x:body", NS)
        wrapped = (len(body) == 1 and body[0].get("id") == "book-columns"
                   and len(body[0]) == 1 and body[0][0].get("id") == "book-inner")
        if not wrapped:
            findings.append(Finding(KOBO, "kepub", f"{href}: the body is not wrapped in "
                                    "div#book-columns > div#book-inner"))
        for span in body.iter(f"{_X}span"):
            if span.get("class") != "koboSpan":
                continue
            ident = span.get("id", "")
            if not _KOBO_ID.match(ident) or (href, ident) in seen:
                findings.append(Finding(KOBO, "kepub", f"{href}: koboSpan id `{ident}` is "
                                        "not a unique kobo.N.M"))
            seen.add((href, ident))
        bare = " ".join(uncovered_text(body).split())
        if bare:
            findings.append(Finding(KOBO, "kepub", f"{href}: text outside any koboSpan: "
                                    f"\"{bare[:40]}\""))
    return findings


_SKIPPED = {f"{_X}script", f"{_X}style", f"{{{MATHML}}}math", f"{{{SVG}}}svg"}


def uncovered_text(element) -> str:
    """The text of ``element`` that no koboSpan holds (MathML, SVG and scripts aside)."""
    if not isinstance(element.tag, str) or element.tag in _SKIPPED:
        return ""
    if element.tag == f"{_X}span" and element.get("class") == "koboSpan":
        return ""
    parts = [element.text or ""]
    for child in element:
        parts.append(uncovered_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
