"""Text -> typeset text: quotes, dashes, ellipses and non-breaking spaces, per language.

Applied once, in ``convert``, so the EPUB and the PDFs carry the same characters. Curly
quotes, en and em dashes and ellipses come from markdown-it's typographer (``quotes`` below
picks the language's quotation marks); :func:`tie` adds the spaces a line must not break at.
"""

from __future__ import annotations

import re

from lxml import etree

from ..namespaces import XHTML

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"

#: Quotation marks by primary language subtag: double open/close, single open/close.
QUOTES = {
    "en": "“”‘’", "nl": "“”‘’", "es": "«»“”", "pt": "“”‘’", "it": "«»“”",
    "de": "„“‚‘", "da": "»«›‹", "cs": "„“‚‘", "pl": "„”‚’", "sv": "””’’", "fi": "””’’",
    "fr": "«»“”", "ru": "«»„“", "uk": "«»„“", "ja": "「」『』", "zh": "“”‘’",
}

_UNITS = ("mm|cm|km|m|kg|g|mg|l|ml|s|ms|min|h|kHz|MHz|GHz|Hz|kB|MB|GB|TB|km/h|mph|"
          "°C|°F|%|‰|€|\\$|£")

_RULES_ALL = [
    # Initials: "J. R. R. Tolkien" never breaks after an initial.
    (re.compile(r"(?<![\w.])([A-Z]\.) (?=[A-Z])"), r"\1" + NBSP),
    # A number and its unit: "3 mm", "20 %", "40 km/h".
    (re.compile(r"(\d) (?=(?:" + _UNITS + r")(?!\w))"), r"\1" + NBSP),
    # An abbreviation and what it introduces: "No. 5", "p. 12", "Dr. Watson", "St. Paul".
    (re.compile(r"\b(No|no|p|pp|vol|Vol|ch|Ch|fig|Fig|Mr|Mrs|Ms|Dr|St|Sr|Jr|Prof)\. "
                r"(?=[\w\d])"), r"\1." + NBSP),
    # Designations such as "F 15", "B 52", "Type 2": a code letter kept with its number.
    (re.compile(r"\b([A-Z]{1,2}) (?=\d+\b)"), r"\1" + NBSP),
    # A short number that ends a clause ("page 12.", "Paragraphe 4,") never starts a line.
    (re.compile(r"(?<=\w) (?=\d{1,4}(?:[.,;:!?)\]]|$))"), NBSP),
    # A spaced hyphen used as a dash becomes a spaced en dash.
    (re.compile(r"(?<=\w) - (?=\w)"), " – "),
    # The word before a spaced dash stays with it; the dash does not open a line.
    (re.compile(r" (?=[–—] )"), NBSP),
]

# French sets a narrow no-break space before ; : ! ? and inside guillemets.
_RULES_FR = [
    (re.compile(r"(?<=[\w»)]) ?([;:!?])(?=\s|$)"), NARROW_NBSP + r"\1"),
    (re.compile(r"(?<=\S) ?»"), NARROW_NBSP + "»"),
    (re.compile(r"« ?(?=\S)"), "«" + NARROW_NBSP),
]


def primary_subtag(language: str) -> str:
    return language.split("-")[0].lower()


def quotes(language: str) -> str:
    """The quotation marks markdown-it's smartquotes rule uses for ``language``."""
    return QUOTES.get(primary_subtag(language), QUOTES["en"])


def tie(text: str, language: str) -> str:
    """Put no-break spaces where a line must not break. Words are never changed."""
    for pattern, replacement in _RULES_ALL:
        text = pattern.sub(replacement, text)
    if primary_subtag(language) == "fr":
        for pattern, replacement in _RULES_FR:
            text = pattern.sub(replacement, text)
    return text


#: Elements whose text is never typeset: code, formulas.
_UNTOUCHED = {f"{{{XHTML}}}code", f"{{{XHTML}}}kbd", f"{{{XHTML}}}samp", f"{{{XHTML}}}img"}
_LAST_WORD = re.compile(r"(\S{6,})(\s*)$")
_PASSED_OVER = {"footnote", "folio"}


def keep_last_words_whole(root) -> None:
    """For print: the last word of each paragraph in a ``span.last-word``, which the print
    stylesheet never hyphenates (a paragraph should not end on half a word). Words under
    six letters are never broken anyway and are left as they are."""
    for paragraph in root.iter(f"{{{XHTML}}}p"):
        found = _last_text(paragraph)
        if found is None:
            continue
        node, where = found
        value = getattr(node, where)
        match = _LAST_WORD.search(value)
        if match is None:
            continue
        span = etree.Element(f"{{{XHTML}}}span", {"class": "last-word"})
        span.text, span.tail = match[1], match[2]
        setattr(node, where, value[:match.start()])
        if where == "text":
            node.insert(0, span)
        else:
            node.getparent().insert(node.getparent().index(node) + 1, span)


def _last_text(element):
    """The last piece of text inside ``element`` that is not blank: (node, "text" | "tail"),
    or None. Notes (set at the foot of the page) and page numbers are passed over; a
    paragraph that ends in code or a formula has no last word to keep."""
    for child in reversed(element):
        if child.tail and child.tail.strip():
            return child, "tail"
        if not isinstance(child.tag, str) or child.get("class") in _PASSED_OVER:
            continue
        if child.tag in _UNTOUCHED:
            return None
        found = _last_text(child)
        if found is not None:
            return found
        if "".join(child.itertext()).strip():
            return None          # it ends in code or a formula, deeper down
    if element.text and element.text.strip():
        return element, "text"
    return None
