"""An EPUB -> the same book as a Kobo kepub (``.kepub.epub``): every sentence in a
``koboSpan``, the body in the ``book-columns`` and ``book-inner`` wrappers.

Kobo's devices read a plain EPUB with their old engine and a kepub with the new one (reading
statistics, footnote pop-ups, page turns). Kobo does not publish the kepub format; this
follows kepubify (pgaskin/kepubify, ``kepub/transform.go``), the converter readers and
calibre use, rule for rule:

- every XHTML document of the manifest is transformed, the navigation document included;
- a depth-first walk of ``<body>`` numbers the sentences ``kobo.{paragraph}.{segment}``:
  ``p``, ``ol``, ``ul``, ``table`` and the headings start a new paragraph at their first
  text; an image is a paragraph of its own, wrapped in a span; nothing inside ``script``,
  ``style``, ``audio``, ``video``, ``svg`` or ``math`` is touched (kepubify also leaves
  ``pre`` alone; Bindery counts code too, so that the spans cover every word);
- a text is cut after ``.``, ``!`` or ``?`` (and a closing quote) followed by white space;
  whitespace between sentences stays inside the sentence before it;
- the body's content moves into ``div#book-columns > div#book-inner``, and a style in the
  head takes the margins off ``book-inner``, as Kobo's own kepubs do.

The ids depend only on the document, so the same EPUB gives the same kepub byte for byte,
and a document the last kepub of this process held is not transformed again: after an edit
in ``watch``, only the chapter that changed (the long book's kepub 0.73 -> 0.07 s).
The cover page is already the first document of the spine and named ``cover``, so Kobo
shows it full screen and no dummy title page is needed.
"""

from __future__ import annotations

import posixpath
import re
from datetime import datetime

from lxml import etree

from ..namespaces import NS, XHTML
from .package import unzip, zip_epub

#: Elements whose first text starts a new paragraph number (kepubify's list).
_PARAGRAPHS = {"p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
#: Elements whose content is left as it is.
#: kepubify skips ``pre`` too; Bindery's code blocks are a span per line already, and
#: sentences in spans inside them change nothing of their layout, so code is counted too.
_UNTOUCHED = {"script", "style", "audio", "video", "svg", "math"}
#: A sentence: up to the first . ! or ?, an optional closing quote, and the white space after.
_SENTENCE = re.compile(r"(.*?[.!?]['\"”’“…]?[\t\n\f\r ]+)", re.S)
_STYLE_HACKS = "div#book-inner { margin-top: 0; margin-bottom: 0; }"

#: The documents of the last kepub made in this process, and what they became.
_LAST: dict[bytes, bytes] = {}

_SPAN = f"{{{XHTML}}}span"
_DIV = f"{{{XHTML}}}div"


def make_kepub(epub: bytes, modified: datetime) -> bytes:
    """The kepub of an EPUB, zipped the same reproducible way."""
    files = unzip(epub)
    container = etree.fromstring(files["META-INF/container.xml"])
    opf_name = container.find(".//c:rootfile", NS).get("full-path")
    opf = etree.fromstring(files[opf_name])
    folder = posixpath.dirname(opf_name)
    done: dict[bytes, bytes] = {}
    for item in opf.find("opf:manifest", NS):
        if item.get("media-type") == "application/xhtml+xml":
            name = posixpath.normpath(posixpath.join(folder, item.get("href")))
            xhtml = files[name]
            files[name] = done[xhtml] = _LAST.get(xhtml) or kobo_document(xhtml)
    _LAST.clear()
    _LAST.update(done)          # only the last kepub's: the memory of one book
    return zip_epub(files, modified)


def remembered() -> dict[bytes, bytes]:
    """What this process keeps for the next kepub: a second process that made the kepub
    sends it to the one that will make the next (``watch``)."""
    return dict(_LAST)


def remember(documents: dict[bytes, bytes]) -> None:
    _LAST.clear()
    _LAST.update(documents)


def kobo_document(xhtml: bytes) -> bytes:
    """One XHTML document with its sentences in koboSpans and its body wrapped."""
    declaration, _, rest = xhtml.partition(b"\n")
    doctype, _, body = rest.partition(b"\n")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(body, parser)
    html_body = root.find("x:body", NS)
    _Spans().walk(html_body)
    _wrap(html_body)
    style = etree.SubElement(root.find("x:head", NS), f"{{{XHTML}}}style")
    style.text = _STYLE_HACKS
    return b"\n".join((declaration, doctype, etree.tostring(root, encoding="utf-8")))


class _Spans:
    """kepubify's numbering: ``paragraph`` moves on at the first text after a paragraph
    element begins (or at an image), ``segment`` at each sentence."""

    def __init__(self):
        self.paragraph = 0
        self.segment = 0
        self.next_paragraph = False

    def walk(self, element) -> None:
        name = etree.QName(element).localname
        if name in _UNTOUCHED:
            return
        if name in _PARAGRAPHS:
            self.next_paragraph = True
        children = list(element)
        if element.text:
            pieces = self.spans(element.text, in_p=name == "p")
            if pieces:
                element.text = pieces[0] if isinstance(pieces[0], str) else None
                anchor = None
                for piece in pieces[1:] if isinstance(pieces[0], str) else pieces:
                    anchor = self._insert(element, anchor, piece)
        for child in children:
            if not isinstance(child.tag, str):
                self._tail(child, element, name)
                continue
            if etree.QName(child).localname == "img":
                child = self._wrap_image(child)
            else:
                self.walk(child)
            self._tail(child, element, name)

    def _tail(self, child, parent, parent_name: str) -> None:
        if not child.tail:
            return
        pieces = self.spans(child.tail, in_p=parent_name == "p")
        child.tail = pieces[0] if pieces and isinstance(pieces[0], str) else None
        anchor = child
        for piece in pieces[1:] if pieces and isinstance(pieces[0], str) else pieces:
            anchor = self._insert(parent, anchor, piece)

    @staticmethod
    def _insert(parent, after, piece):
        """Put a span (or text) after ``after`` (or first in ``parent`` when None)."""
        if isinstance(piece, str):      # white space between spans
            if after is None:
                parent.text = (parent.text or "") + piece
            else:
                after.tail = (after.tail or "") + piece
            return after
        if after is None:
            parent.insert(0, piece)
        else:
            after.addnext(piece)
        return piece

    def spans(self, text: str, in_p: bool) -> list:
        """A text cut in sentences, each in a span; white space alone stays text, unless
        its parent is a paragraph (as kepubify does)."""
        out: list = []
        for sentence in _sentences(text):
            if sentence.isspace() and not in_p:
                out.append(sentence)
                continue
            out.append(self._span(sentence))
        return out

    def _span(self, text: str):
        if self.next_paragraph:
            self.paragraph += 1
            self.segment = 0
            self.next_paragraph = False
        self.segment += 1
        span = etree.Element(_SPAN, {"class": "koboSpan",
                                     "id": f"kobo.{self.paragraph}.{self.segment}"},
                             nsmap={None: XHTML})
        span.text = text
        return span

    def _wrap_image(self, image):
        self.paragraph += 1
        self.segment = 1
        self.next_paragraph = False
        span = etree.Element(_SPAN, {"class": "koboSpan", "id": f"kobo.{self.paragraph}.1"},
                             nsmap={None: XHTML})
        tail, image.tail = image.tail, None
        image.addprevious(span)
        span.append(image)
        span.tail = tail
        return span


def _sentences(text: str) -> list[str]:
    pieces, end = [], 0
    for match in _SENTENCE.finditer(text):
        pieces.append(match.group(1))
        end = match.end()
    if end < len(text):
        pieces.append(text[end:])
    return pieces


def _wrap(body) -> None:
    """The body's content inside ``div#book-columns > div#book-inner``."""
    columns = etree.Element(_DIV, {"id": "book-columns"}, nsmap={None: XHTML})
    inner = etree.SubElement(columns, _DIV, {"id": "book-inner"})
    inner.text, body.text = body.text, None
    for child in list(body):
        inner.append(child)
    body.append(columns)
