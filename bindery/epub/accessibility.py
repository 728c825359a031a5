"""What the book contains -> its accessibility metadata (schema.org, EPUB Accessibility 1.1)."""

from __future__ import annotations

from ..model import Book

#: Accessibility features every Bindery EPUB has, by how it is made: headings and sections
#: in order, a table of contents and landmarks, DPUB-ARIA roles, no fixed fonts or colours.
_ALWAYS = ("structuralNavigation", "tableOfContents", "readingOrder", "ARIA",
           "displayTransformability")


def accessibility(book: Book, has_images: bool, page_list: bool,
                  has_math: bool = False) -> list[tuple[str, str]]:
    """schema.org accessibility metadata, derived from what the book contains.

    Every image has alt text (the build refuses one without), so text alone suffices; the
    print page numbers are there when the page list is. Bindery makes no audio, video or
    animation, so there is no hazard.
    """
    features = list(_ALWAYS)
    if has_images:
        features.append("alternativeText")
    if page_list:
        features += ["printPageNumbers", "pageNavigation"]
    if has_math:
        features.append("MathML")
    modes = ["textual"] + (["visual"] if has_images else [])
    sufficient = ["textual"] + (["textual,visual"] if has_images else [])
    summary = ("This publication is made to conform to EPUB Accessibility 1.1 and WCAG 2.2 "
               "Level AA. It has a table of contents, landmarks and headings in reading "
               "order; the reader's own fonts, sizes and colours apply.")
    if has_images:
        summary += " Every image, the cover included, has a text description."
    if has_math:
        summary += " Formulas are MathML, each with its TeX source as a text alternative."
    if page_list:
        summary += (f" Page numbers follow the {book.print.trim.name} print edition "
                    f"({book.print_identifier}).")
    summary += " It has no flashing, motion or sound hazards."
    if not book.epub.certified_by:
        summary += " No person or body has certified its accessibility."
    return ([("schema:accessMode", mode) for mode in modes]
            + [("schema:accessModeSufficient", mode) for mode in sufficient]
            + [("schema:accessibilityFeature", feature) for feature in features]
            + [("schema:accessibilityHazard", "none"),
               ("schema:accessibilitySummary", summary),
               ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA")]
            # A certifier is a person or body the publisher names, never the tool itself.
            + ([("a11y:certifiedBy", book.epub.certified_by)] if book.epub.certified_by
               else []))
