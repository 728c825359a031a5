"""The source: a book folder (book.toml, chapters) read and checked into a ``Book``."""

from .load import check_book_folder, load

__all__ = ["check_book_folder", "load"]
