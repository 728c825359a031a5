"""The site's stylesheet -> its fonts as WOFF2: every ``url(fonts/<name>.otf|.ttf)`` of an
``@font-face`` becomes ``url(../fonts/<name>.woff2)``, a subset of the font holding the
characters the site may show (fontTools), so a page loads tens of kilobytes, not megabytes.
The font's timestamp is kept, so the same text gives the same bytes.

Subsetting five faces takes seconds, so Bindery's own faces come with their subsets for
the repertoire below made in advance (``styles/fonts/web/``, by ``python -m
bindery.site.fonts``; a test checks that they are what this module makes). A book whose
text needs more, or that brings its own fonts, gets its subsets made in the build.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from ..errors import BookError
from ..paths import read_file
from ..sandbox import Sandbox

_FONT_URL = re.compile(r"url\(\s*['\"]?fonts/([\w.-]+)\.(otf|ttf)['\"]?\s*\)")
#: The characters every subset holds: Latin (Basic, Latin-1, Extended-A), general
#: punctuation, the euro, and the arrow of a note's link back to its call
#: (``convert/notes.py``). A book whose text stays within them (most books in Latin
#: script) gets the same subsets as any other, made once per process; a character beyond
#: them is added.
REPERTOIRE = frozenset(map(chr, [*range(0x20, 0x7F), *range(0xA0, 0x180),
                                 *range(0x2010, 0x2028), *range(0x2030, 0x203B), 0x202F,
                                 0x20AC, 0x2191]))
REPERTOIRE_TEXT = "".join(sorted(REPERTOIRE))


def web_fonts(css: str, sandbox: Sandbox, characters: str) -> tuple[str, dict[str, bytes]]:
    """The stylesheet with its font URLs pointing at WOFF2 files, and those files by their
    path in the site (``fonts/<name>.woff2``)."""
    fonts: dict[str, bytes] = {}
    _USED.clear()
    wanted = "".join(sorted(REPERTOIRE.union(c for c in set(characters) if c >= " ")))

    def convert(match: re.Match) -> str:
        name = match[1]
        source = sandbox.style(f"fonts/{name}.{match[2]}")
        made = source.parent / "web" / f"{name}.woff2"
        if wanted == REPERTOIRE_TEXT and made.is_file():
            fonts[f"fonts/{name}.woff2"] = read_file(made, "font")
        else:
            data = read_file(source, "font")
            key = (hashlib.sha256(data).hexdigest(), wanted)
            if key not in _MADE:
                _MADE[key] = woff2(source, wanted, data)
            fonts[f"fonts/{name}.woff2"] = _MADE[key]
            _USED.add(key)
        licence = source.parent / "OFL.txt"
        if licence.is_file():
            fonts["fonts/OFL.txt"] = read_file(licence, "licence")
        return f"url(../fonts/{name}.woff2)"

    return _FONT_URL.sub(convert, css), fonts


#: The subsets made beyond the repertoire, by the font's SHA-256 and the characters: in
#: this process, or by the last build's, whose store holds those its site used
#: (``builder/unitstore.py``: the Rust book's five took 2.2 s of every build).
_MADE: dict[tuple[str, str], bytes] = {}
_USED: set[tuple[str, str]] = set()


def kept() -> dict[tuple[str, str], bytes]:
    """The subsets the last site made here used, for the next process."""
    return {key: _MADE[key] for key in _USED if key in _MADE}


def restore(made) -> None:
    """Take subsets a build in another process made (``kept``)."""
    if isinstance(made, dict):
        _MADE.update((key, data) for key, data in made.items()
                     if isinstance(key, tuple) and isinstance(data, bytes))


def woff2(path: Path, characters: str, data: bytes | None = None) -> bytes:
    """A WOFF2 subset of the font at ``path`` (whose bytes ``data`` are, when given) for
    ``characters``, its features kept (small capitals, ligatures, old-style figures)."""
    import logging

    from fontTools import subset

    # "FFTM NOT subset; don't know how to subset; dropped": FontForge's timestamp table,
    # which no browser reads, is dropped. Not the reader's concern.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    try:
        font = subset.load_font(io.BytesIO(data or read_file(path, "font")), options,
                                dontLoadGlyphNames=False)
    except Exception as error:  # noqa: BLE001 - fontTools raises many kinds
        raise BookError(f"cannot read the font: {error}", path) from None
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    _rename(font)
    out = io.BytesIO()
    font.recalcTimestamp = False
    subset.save_font(font, out, options)
    return out.getvalue()


#: The Reserved Font Names of Bindery's faces and the names their web subsets take: the
#: OFL lets no modified version (a subset is one) use a reserved name.
RENAMED = (("Linux Libertine Mono", "Bindery Mono"), ("LinLibertineM", "BinderyMono"),
           ("Linux Libertine", "Bindery Serif"), ("LinLibertine", "BinderySerif"))


#: The name table's names of a font (family, full, PostScript...); the copyright notice,
#: trademark and licence records are kept word for word.
_NAME_IDS = {1, 3, 4, 6, 16, 17, 18, 20, 21, 22, 25}


def _rename(font) -> None:
    for record in font["name"].names:
        if record.nameID not in _NAME_IDS:
            continue
        text = record.toUnicode()
        for reserved, name in RENAMED:
            text = text.replace(reserved, name)
        record.string = text


def main() -> None:
    """Make the subsets of Bindery's own faces for the repertoire, in styles/fonts/web/."""
    from ..resources import STYLES

    folder = Path(STYLES) / "fonts"
    (folder / "web").mkdir(exist_ok=True)
    for source in sorted(folder.glob("LinLibertine_*.otf")):
        target = folder / "web" / f"{source.stem}.woff2"
        target.write_bytes(woff2(source, REPERTOIRE_TEXT))
        print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
