"""Names and identifiers -> checked: BCP 47 language tags, slugs, ISBNs, "Last, First"."""

from __future__ import annotations

import re
import unicodedata

# BCP 47 (RFC 5646) language tags, without the grandfathered irregular ones. The primary
# language subtag is the ISO 639 code of 2 or 3 letters: the registry has no longer ones.
_BCP47 = re.compile(r"""^(
    [a-z]{2,3}(-[a-z]{3}){0,3} )                    # language, extlang
    (-[a-z]{4})?                                    # script
    (-([a-z]{2}|[0-9]{3}))?                         # region
    (-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*            # variants
    (-[a-wyz0-9](-[a-z0-9]{2,8})+)*                 # extensions
    (-x(-[a-z0-9]{1,8})+)?$                         # private use
    """, re.VERBOSE | re.IGNORECASE)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_language_tag(text: str) -> bool:
    """Whether ``text`` is a well-formed BCP 47 language tag: en, fr, pt-BR, zh-Hant-TW."""
    return _BCP47.match(text) is not None


def is_slug(text: str) -> bool:
    """Lower-case letters and digits in hyphen-separated runs: "isis-run"."""
    return _SLUG.match(text) is not None


def slugify(text: str) -> str:
    """A file-name-safe slug: "ISIS: run." -> "isis-run"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def isbn_ok(digits: str) -> bool:
    """Whether ``digits`` (hyphens removed) is an ISBN-13 or ISBN-10 with a right check digit."""
    if re.fullmatch(r"\d{13}", digits):
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    if re.fullmatch(r"\d{9}[\dXx]", digits):
        values = [10 if d in "Xx" else int(d) for d in digits]
        return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0
    return False


def file_as(name: str) -> str:
    """"Jorge Vanstreels" -> "Vanstreels, Jorge"; a single name stays as it is."""
    parts = name.rsplit(" ", 1)
    return f"{parts[1]}, {parts[0]}" if len(parts) == 2 else name
