"""Bindery: a book's Markdown source -> an EPUB 3 e-book, a print-ready PDF and a booklet."""

__version__ = "0.1.0"
