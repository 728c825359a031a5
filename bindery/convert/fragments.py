"""A chapter's XHTML fragment <-> an lxml tree, for the passes that work on elements."""

from __future__ import annotations

from lxml import etree

from ..namespaces import EPUB, XHTML


def parse(xhtml: str):
    """The fragment under one ``div`` root, in the XHTML namespace; raises XMLSyntaxError."""
    return etree.fromstring(f'<div xmlns="{XHTML}" xmlns:epub="{EPUB}">{xhtml}</div>'.encode())


#: Elements HTML writes with no end tag. Any other element is written with one even when it
#: is empty: the print document is read as HTML, where ``<a id="x"/>`` would open an
#: element that never closes.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})


def close_empty(root) -> None:
    """Give every empty element that is not void an end tag when it is written."""
    for element in root.iter():
        if (isinstance(element.tag, str) and element.text is None and len(element) == 0
                and etree.QName(element).localname not in VOID):
            element.text = ""


def serialise(root) -> str:
    """The fragment again: the root's content, without namespace declarations."""
    close_empty(root)
    text = (root.text or "") + "".join(
        etree.tostring(child, encoding="unicode") for child in root)
    return text.replace(f' xmlns="{XHTML}"', "").replace(f' xmlns:epub="{EPUB}"', "")
