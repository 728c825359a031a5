"""A chapter's XHTML fragment <-> an lxml tree, for the passes that work on elements."""

from __future__ import annotations

from lxml import etree

from ..namespaces import EPUB, XHTML


def parse(xhtml: str):
    """The fragment under one ``div`` root, in the XHTML namespace; raises XMLSyntaxError."""
    return etree.fromstring(f'<div xmlns="{XHTML}" xmlns:epub="{EPUB}">{xhtml}</div>'.encode())


def serialise(root) -> str:
    """The fragment again: the root's content, without namespace declarations."""
    text = (root.text or "") + "".join(
        etree.tostring(child, encoding="unicode") for child in root)
    return text.replace(f' xmlns="{XHTML}"', "").replace(f' xmlns:epub="{EPUB}"', "")
