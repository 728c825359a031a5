"""The e-book: the EPUB 3 package, its cover, page-break markers and accessibility metadata."""
