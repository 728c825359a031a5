"""An image file -> checked: it decodes, it is of the type its name says, it is not a pixel
bomb, and an SVG holds nothing active or remote. Returns the problem, or None."""

from __future__ import annotations

import io
import re
import warnings

from ..namespaces import SVG

#: Image types an EPUB 3 reading system must support (core media types), by file suffix.
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}

#: The most pixels a picture may have: a 50-megapixel photograph, far more than any page
#: or screen shows. A PNG that claims 30,000 x 30,000 pixels is a decompression bomb.
MAX_PIXELS = 50_000_000

_PILLOW_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF",
                   ".webp": "WEBP"}

_XLINK = "http://www.w3.org/1999/xlink"
_SAFE_NAMESPACES = {SVG, _XLINK, "http://www.w3.org/XML/1998/namespace",
                    "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
                    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                    "http://www.inkscape.org/namespaces/inkscape",
                    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"}
_ACTIVE = {"script", "foreignObject", "iframe", "embed", "object", "audio", "video",
           "animate", "set", "animateTransform", "animateMotion", "handler", "listener"}
_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)
#: SVG 1.1's document type, as Graphviz, draw.io and Illustrator write it: an external
#: identifier EPUB 3.3 allows (its appendix "Allowed external identifiers"), and no internal
#: subset, so no entity. Nothing reads the DTD it names (lxml and WeasyPrint load none).
_SVG11_DOCTYPE = re.compile(
    rb"""<!DOCTYPE\s+svg\s+PUBLIC\s+(["'])-//W3C//DTD SVG 1\.1//EN\1\s+"""
    rb"""(["'])http://www\.w3\.org/Graphics/SVG/1\.1/DTD/svg11\.dtd\2\s*>""")


def image_problem(data: bytes, suffix: str) -> str | None:
    """What is wrong with an image of type ``suffix`` (".png"...), or None."""
    if not data:
        return "is empty"
    if suffix == ".svg":
        return svg_problem(data)
    from PIL import Image, ImageFile

    expected = _PILLOW_FORMATS.get(suffix)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return (f"is {width} × {height} pixels; a book's pictures may have at "
                            f"most {MAX_PIXELS // 1_000_000} million")
                if expected is not None and image.format != expected:
                    return f"is a {image.format or 'file of another kind'}, not a {expected}"
                problem = _truncated(data, image.format)
                if problem is not None:
                    return problem
                # Decode it all. WeasyPrint, once imported (a thread imports it while the
                # book is read), tells Pillow to accept a file that ends before its data:
                # not while a book's picture is checked.
                accept, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
                try:
                    image.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = accept
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return (f"has too many pixels to decode safely (a decompression bomb); a book's "
                f"pictures may have at most {MAX_PIXELS // 1_000_000} million")
    except Image.UnidentifiedImageError:
        return f"is not a {expected or 'picture'}: its bytes are of no image kind Pillow reads"
    except (OSError, SyntaxError, ValueError) as error:
        return f"cannot be read as {expected or 'an image'}: {error}"
    return None


def _truncated(data: bytes, kind: str | None) -> str | None:
    """Whether the file stops before its end marker. Pillow would notice when it decodes,
    but WeasyPrint tells Pillow to accept truncated files (``LOAD_TRUNCATED_IMAGES``)."""
    complete = {
        "PNG": lambda: data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"),
        "JPEG": lambda: data.rstrip(b"\0\r\n").endswith(b"\xff\xd9"),
        "GIF": lambda: data.rstrip(b"\0").endswith(b";"),
        "WEBP": lambda: len(data) >= 8 + int.from_bytes(data[4:8], "little"),
    }.get(kind or "")
    if complete is not None and not complete():
        return f"is a truncated {kind} file: it stops before its end"
    return None


def svg_problem(data: bytes) -> str | None:
    """What makes an SVG unsafe or unusable in a book, or None: no DOCTYPE (but SVG 1.1's
    own, which declares nothing) or entities, no scripts, event handlers, embedded HTML or
    animation, no reference outside the file."""
    if re.search(rb"<!DOCTYPE|<!ENTITY", _SVG11_DOCTYPE.sub(b"", data, count=1),
                 re.IGNORECASE):
        return "is an SVG with a DOCTYPE (entities can read files); remove it"
    if re.search(rb"<\?(?!xml[\s?])", data):
        return "is an SVG with a processing instruction (such as xml-stylesheet); remove it"
    from lxml import etree          # here: a build with nothing to do never parses XML

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        return f"is not a well-formed SVG: {error}"
    if etree.QName(root).localname != "svg" or etree.QName(root).namespace != SVG:
        return "is not an SVG document (its root is not <svg>)"
    for element in root.iter():
        if not isinstance(element.tag, str):
            if isinstance(element, etree._ProcessingInstruction):
                return "is an SVG with a processing instruction; remove it"
            continue
        name = etree.QName(element)
        if name.namespace not in _SAFE_NAMESPACES:
            return f"is an SVG with a <{name.localname}> element from another vocabulary"
        if name.localname in _ACTIVE:
            return f"is an SVG with a <{name.localname}> element (active content)"
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname
            if local.lower().startswith("on"):
                return f"is an SVG with an event handler (`{local}`)"
            if local == "href" and not _local_reference(value):
                return f"is an SVG that refers to `{value[:60]}` outside itself"
            if local == "style" and _outside_url(value):
                return "is an SVG whose style refers to a file outside itself"
        if name.localname == "style" and (_outside_url(element.text or "")
                                          or "@import" in (element.text or "")):
            return "is an SVG whose stylesheet refers to a file outside itself"
    return None


def _local_reference(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(_DATA_IMAGE.match(value))


def _outside_url(css: str) -> bool:
    return any(not _local_reference(url) for url in _URL.findall(css))
