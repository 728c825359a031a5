"""Print document -> its units, or None: where the print document may be cut into units
(``units.py``), and whether its styles let each unit be laid out alone.

A unit is what the print template marks off with ``<!-- bindery:unit -->``; each mark must
stand between elements of the body, not inside one. Styles that carry state from one unit to
the next, which a unit laid out alone cannot know, make the book laid out in one pass: counters
other than the notes', the page counter reset, ``counter(pages)``, ``target-text()``,
running elements, fixed boxes, ``break-after`` to a side, ``@page :nth(N)`` (but the first
page of a named group), footnotes numbered through the book, ``target-counter()`` of a
counter other than the page, the root's ``direction`` set in CSS.
"""

from __future__ import annotations

import re
from pathlib import Path

MARK = "<!-- bindery:unit -->"

_UNSAFE = re.compile(r"counter-(?:increment|set)\s*:|counter-reset\s*:[^;}]*\bpage\b"
                     r"|target-text\s*\(|counters?\(\s*pages\b|running\s*\(|element\s*\("
                     r"|position\s*:\s*fixed|(?:page-)?break-after\s*:\s*(?:left|right|recto|verso)"
                     r"|@page[^{;]*:nth\((?!\s*1\s+of\b)"
                     # another unit's counter but its page; the root's direction, which
                     # decides the side of the first page
                     r"|target-counters?\((?:[^,()]|\([^()]*\))*,(?!\s*page\s*[,)])"
                     r"|(?:html|:root|body)\s*\{[^}]*direction\s*:", re.IGNORECASE)
_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)""", re.IGNORECASE)
_INLINE = re.compile(r"""<style\b[^>]*>(.*?)</style>|\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""",
                     re.IGNORECASE | re.DOTALL)
_NOTES = re.compile(r"float\s*:\s*footnote", re.IGNORECASE)
#: A ``section`` rule's counter reset: the last one decides whether footnotes are numbered
#: afresh in every chapter (Bindery's ``section { counter-reset: footnote }``), or through
#: the book, as one pass numbers them.
_SECTION_RESET = re.compile(r"(?:^|[},\s])section(?:\.chapter)?\s*[,{][^}]*"
                            r"counter-reset\s*:([^;}]*)", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:.-]*)([^>]*)>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def split(html: str) -> tuple[str, str, list[str]] | None:
    """The print document as the text before and after the units, and the units' texts;
    None when it has fewer than two units or its styles carry state across them."""
    body = _BODY.search(html)
    end = html.rfind("</body>")
    if body is None or end < body.end() or "</head>" not in html[:body.start()]:
        return None
    pieces = html[body.end():end].split(MARK)
    if len(pieces) < 2 or not all(_balanced(piece) for piece in pieces):
        return None                      # a mark inside an element: no unit of its own
    return html[:body.end()], html[end:], pieces


def _balanced(piece: str) -> bool:
    """Whether every element opened in ``piece`` is closed in it, and none closed that it
    did not open."""
    depth = 0
    for closing, name, rest in _TAG.findall(_COMMENT.sub("", piece)):
        if closing:
            depth -= 1
            if depth < 0:
                return False
        elif name.lower() not in _VOID and not rest.rstrip().endswith("/"):
            depth += 1
    return depth == 0


def unsafe(html: str, stylesheets: list[Path]) -> bool:
    """Whether the document's styles (its stylesheets, those they import, and its own
    ``<style>`` and ``style``) carry state from one unit to the next: counters other than
    the notes', the page counter reset, the total page count, ``target-text()``, running
    elements, fixed boxes, a forced side after a unit, pages chosen by their place in the
    whole book, or footnotes numbered through the book. A stylesheet that cannot be read
    here, or an import in the document's own styles, counts as unsafe."""
    texts = []
    for path in stylesheets:
        text = _with_imports(path, set())
        if text is None:
            return True
        texts.append(text)
    own = "\n".join(next(part for part in found if part)
                    for found in _INLINE.findall(html) if any(found))
    if _IMPORT.search(own):
        return True
    css = "\n".join([*texts, own])
    if _UNSAFE.search(css):
        return True
    resets = _SECTION_RESET.findall(css)
    return bool(_NOTES.search(css)) and not (resets and "footnote" in resets[-1])


def _with_imports(path: Path, seen: set) -> str | None:
    """A stylesheet's text after those it imports (in that order); None when one cannot
    be read here or lies outside its folder."""
    if path in seen:
        return ""
    seen.add(path)
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    parts = []
    for url in _IMPORT.findall(text):
        target = (path.parent / url).resolve()
        if ":" in url or not target.is_relative_to(path.parent.resolve()):
            return None
        imported = _with_imports(target, seen)
        if imported is None:
            return None
        parts.append(imported)
    return "\n".join([*parts, text])
