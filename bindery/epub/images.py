"""A book's picture -> the picture e-book readers and stores get: a PNG with transparent
pixels laid on white, and a picture of more than 4 million pixels scaled down to that.

- Kindle does not support transparency (KDP's image guidelines), and a reader's night mode
  shows a diagram's black lines on a transparent ground as black on black.
- Apple Books takes at most 4 million pixels a picture (its Asset Guide); no screen shows
  more, and Kobo and Kindle want a picture under 5 MB. The print edition keeps the original.

Anything else is passed through byte for byte. Pillow's encoders are deterministic, so the
same picture gives the same bytes.
"""

from __future__ import annotations

import io
import math

#: The most pixels a picture may have in the e-book (Apple Books' limit).
MAX_PIXELS = 4_000_000
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


def for_readers(data: bytes, media_type: str) -> bytes:
    """The picture as the e-book holds it (see the module's docstring)."""
    from PIL import Image, ImageOps

    if media_type not in _FORMATS:
        return data
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        width, height = image.size
        too_big = width * height > MAX_PIXELS
        transparent = media_type == "image/png" and _transparent(image)
        if not (too_big or transparent):
            return data
        profile = image.info.get("icc_profile")
        grey = image.mode in ("L", "LA") or (image.mode == "P" and _grey_palette(image))
        # A photograph's EXIF orientation is applied before the EXIF goes, or it would
        # show on its side.
        image = ImageOps.exif_transpose(image)
        if image.mode == "P":
            image = image.convert("RGBA" if transparent else "RGB")
        if transparent:
            ground = Image.new("RGBA", image.size, "white")
            ground.alpha_composite(image.convert("RGBA"))
            image = ground.convert("L" if grey else "RGB")
        if too_big:
            width, height = image.size              # upright now
            scale = math.sqrt(MAX_PIXELS / (width * height))
            size = (max(1, int(width * scale)), max(1, int(height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        extra = {"icc_profile": profile} if profile else {}
        if media_type == "image/jpeg":
            image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(
                out, "JPEG", quality=90, optimize=True, **extra)
        else:
            image.save(out, "PNG", optimize=True, **extra)
        return out.getvalue()


def _grey_palette(image) -> bool:
    palette = image.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2]
               for i in range(0, len(palette) - 2, 3))


def _transparent(image) -> bool:
    if image.mode == "P":
        return "transparency" in image.info
    if image.mode in ("RGBA", "LA"):
        return image.getchannel("A").getextrema()[0] < 255
    return "transparency" in image.info
