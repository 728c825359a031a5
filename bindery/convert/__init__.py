"""Markdown -> XHTML: each chapter's text as a fragment shared by the EPUB and the print."""

from .markdown import convert

__all__ = ["convert"]
