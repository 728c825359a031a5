"""Layout -> a typographic proof: what a book designer marks in red, page by page.

It reads WeasyPrint's laid-out boxes (the same layout every PDF is written from) and finds:
widows and orphans (a paragraph's last or first line alone on a page), a heading or a
caption alone at the foot of a page, a page that ends on a hyphen (CSS cannot forbid it),
runs of three or more hyphenated lines, loose lines
(word spaces stretched far past their width), lines that overflow the text block, a
chapter's last page holding a line or two, and a figure or table split across pages though
it would fit on one, and a footnote printed on a page after its call. Each finding names the
page and the first words of the line, and says what to change where the text itself is the
cause.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .layout import Layout, page_box

#: A justified line is loose when a word space is stretched by more than this many ems
#: (Linux Libertine's space is about a quarter of an em: this is three times as wide).
LOOSE_EM = 0.5
#: Hyphenated lines in a row that make a run (two is the book designer's limit).
HYPHEN_RUN = 3
#: How far a line may reach past the text block before it overflows, in CSS pixels.
OVERFLOW_PX = 0.5

_HYPHENS = ("\u2010", "-", "\u00ad")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_PARAGRAPHS = {"p", "li", "dd", "dt"}
_ADVICE = {
    "widow": "the paragraph's last line is alone at the top of the page: add or cut a few "
             "words in the paragraph, or in the one before it",
    "orphan": "the paragraph's first line is alone at the foot of the page: add or cut a "
              "few words on the page",
    "heading at the foot": "the heading is the last thing on its page: cut or add a few "
                           "lines before it",
    "caption at the foot": "the caption is alone at the foot of the page, its table on "
                           "the next: move the table, or cut a few lines before it",
    "hyphen run": "three or more lines in a row end in a hyphen: reword one of them",
    "loose line": "the word spaces are stretched wide: a long word could not be broken; "
                  "reword the line, or mark a break in the long word with &shy;",
    "overflow": "the line runs past the text block: a long address or code line; shorten "
                "it, or break it",
    "hyphen at the foot": "the page ends on half a word, the rest over the page: reword the "
                          "line, or let the page run a line short",
    "short last page": "the chapter's last page holds a line or two: cut a few lines from "
                       "the chapter, or add some",
    "split figure": "the figure is split across pages though it would fit on one",
    "split table": "the table is split across pages though it would fit on one",
    "note after its call": "the footnote is printed on a page after the one of its call: "
                           "cut or add a few lines before the call, or shorten the note",
}


@dataclass(frozen=True)
class Finding:
    page: int
    kind: str
    text: str           # the first words of the line or block

    @property
    def advice(self) -> str:
        return _ADVICE[self.kind]

    def __str__(self) -> str:
        return f"page {self.page}: {self.kind}: “{self.text}” ({self.advice})"


def summary(findings: list[Finding]) -> str:
    """One line for the build's report: how many findings of each kind."""
    if not findings:
        return "typography: no findings"
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[finding.kind] += 1
    kinds = ", ".join(f"{count} {_plural(kind) if count > 1 else kind}"
                      for kind, count in counts.items())
    return (f"typography: {len(findings)} finding{'s' if len(findings) > 1 else ''} "
            f"({kinds}); `bindery check --typography` lists them")


def _plural(kind: str) -> str:
    """"hyphen at the foot" -> "hyphens at the foot", "loose line" -> "loose lines"."""
    if kind == "note after its call":
        return "notes after their calls"
    head, at, rest = kind.partition(" at the ")
    return f"{head}s{at}{rest}"


def proof(layout: Layout) -> list[Finding]:
    """Every finding in the laid-out book, in page order."""
    from weasyprint.formatting_structure import boxes

    findings: list[Finding] = []
    parts: dict[object, list[tuple[int, list]]] = defaultdict(list)   # element -> pages
    heights: dict[object, list[tuple[int, float]]] = defaultdict(list)
    tags: dict[object, str] = {}
    feet: list[tuple[int, object, object]] = []     # (page, last block, its frame)
    sections: dict[object, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    content_height = 0.0
    for number, page in enumerate(layout.document.pages, start=1):
        root = page_box(page)
        content_height = max(content_height, root.height)
        blocks: list = []      # the page's line-bearing blocks in order, for the foot
        for child in root.children:
            if isinstance(child, boxes.MarginBox):
                continue
            in_notes = isinstance(child, boxes.FootnoteAreaBox)
            for block, section, frame in _line_blocks(child, boxes, None, None):
                lines = [line for line in block.children if isinstance(line, boxes.LineBox)]
                findings += _line_findings(number, block, lines, boxes)
                if in_notes:
                    continue
                blocks.append((block, frame))
                parts[block.element].append((number, lines))
                tags[block.element] = block.element_tag
                if section is not None:
                    sections[section][number] += len(lines)
            if not in_notes:
                for box in _framed(child, boxes):
                    heights[box.element].append((number, box.margin_height()))
                    tags[box.element] = box.element_tag
        if blocks and number < len(layout.document.pages):
            feet.append((number, *blocks[-1]))
            last_lines = [line for line in blocks[-1][0].children
                          if isinstance(line, boxes.LineBox)]
            text = _text(last_lines[-1]).rstrip() if last_lines else ""
            if blocks[-1][0].element_tag != "pre" and text.endswith(_HYPHENS):
                findings.append(Finding(number, "hyphen at the foot", _first_words(text)))
    findings += _foot_findings(feet, heights)
    findings += _split_paragraphs(parts, tags)
    findings += _short_last_pages(sections, parts)
    findings += _split_frames(heights, tags, content_height)
    findings += _late_notes(layout, boxes)
    return sorted(findings, key=lambda finding: finding.page)


def _late_notes(layout: Layout, boxes) -> list[Finding]:
    """A footnote printed on a page after the one of its call (WeasyPrint moves a note
    that does not fit to the next page, or further)."""
    calls: dict[object, int] = {}
    notes: dict[object, int] = {}
    for number, page in enumerate(layout.document.pages, start=1):
        for child in page_box(page).children:
            in_notes = isinstance(child, boxes.FootnoteAreaBox)
            for box in child.descendants():
                element = getattr(box, "element", None)
                if element is None:
                    continue
                if in_notes and (box.element_tag or "").endswith("::footnote-marker"):
                    notes.setdefault(element, number)
                elif (box.element_tag or "").endswith("::footnote-call"):
                    calls.setdefault(element, number)
    return [Finding(calls[element], "note after its call", _first_words(" ".join(
                element.itertext())))
            for element, number in notes.items() if calls.get(element, number) < number]


def _line_blocks(box, boxes, section, frame):
    """(block, its section element, its figure or table element) for each block whose
    children are lines, in order."""
    if box.element_tag == "section" and box.element is not None:
        section = box.element
    if box.element_tag in ("figure", "table") and box.element is not None:
        frame = box.element
    if isinstance(box, boxes.BlockContainerBox) and any(
            isinstance(child, boxes.LineBox) for child in box.children):
        yield box, section, frame
        return
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.ParentBox) and not isinstance(child, boxes.LineBox):
            yield from _line_blocks(child, boxes, section, frame)


def _framed(box, boxes):
    """Figures and tables on the page (the boxes that must not be split); a table's
    wrapper, which holds its caption, stands for it."""
    if (box.element is not None and box.element_tag in ("figure", "table")
            and not isinstance(box, boxes.TableBox)):
        yield box
        return
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.ParentBox) and not isinstance(child, boxes.LineBox):
            yield from _framed(child, boxes)


def _text(box) -> str:
    if hasattr(box, "text"):
        return box.text
    return "".join(_text(child) for child in getattr(box, "children", ()))


def _first_words(text: str, count: int = 6) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _line_findings(number: int, block, lines: list, boxes) -> list[Finding]:
    findings = []
    run = 0
    right = block.content_box_x() + block.width + OVERFLOW_PX
    justified = block.style["text_align_all"] == "justify"
    for index, line in enumerate(lines):
        text = _text(line)
        hyphenated = text.rstrip().endswith(_HYPHENS) and not text.rstrip().endswith("--")
        run = run + 1 if hyphenated and block.element_tag != "pre" else 0
        if run == HYPHEN_RUN:
            findings.append(Finding(number, "hyphen run",
                                    _first_words(_text(lines[index - run + 1]))))
        if _reach(line, boxes) > right and _reach(line, boxes, ink=True) > right:
            findings.append(Finding(number, "overflow", _first_words(text)))
        elif justified and index < len(lines) - 1 and _stretch(line, boxes) > LOOSE_EM:
            findings.append(Finding(number, "loose line", _first_words(text)))
    return findings


def _reach(box, boxes, ink: bool = False) -> float:
    """How far right the line's content goes; with ``ink``, without the spaces a line of
    code kept at its end (``pre-wrap`` lets them hang past the edge, where nothing shows),
    which takes Pango: only for a line that seems to overflow."""
    if isinstance(box, boxes.TextBox) or not getattr(box, "children", ()):
        spaces = _trailing_spaces(box) if ink and isinstance(box, boxes.TextBox) else 0.0
        return box.position_x + box.margin_width() - spaces
    return max(_reach(child, boxes, ink) for child in box.children)


def _trailing_spaces(box) -> float:
    """The width of the spaces a text box ends with, as its font sets them (Pango, through
    WeasyPrint's ``create_layout`` and ``line_size``, checked against WeasyPrint 70.0; a
    trailing tab is not measured: its width depends on where it stands)."""
    spaces = len(box.text) - len(box.text.rstrip(" "))
    if not spaces or box.style["direction"] == "rtl":
        return 0.0
    from weasyprint.text.line_break import create_layout, line_size

    layout = create_layout(" " * spaces, box.style, None, None, 0)
    return line_size(layout.get_first_line()[0], box.style)[0]


def _stretch(box, boxes) -> float:
    """The widest word-space stretch in the line, in ems of its text."""
    if isinstance(box, boxes.TextBox):
        spacing = getattr(box, "justification_spacing", 0) or 0
        return spacing / box.style["font_size"] if " " in box.text else 0.0
    return max((_stretch(child, boxes) for child in getattr(box, "children", ())),
               default=0.0)


def _foot_findings(feet, heights) -> list[Finding]:
    """A heading as the last thing on a page, or a caption whose figure or table goes on
    over the page (pages but the book's last)."""
    findings = []
    for number, last, frame in feet:
        if last.element_tag in _HEADINGS:
            findings.append(Finding(number, "heading at the foot", _first_words(_text(last))))
        elif last.element_tag in ("caption", "figcaption") and frame is not None and any(
                page > number for page, _ in heights.get(frame, ())):
            findings.append(Finding(number, "caption at the foot", _first_words(_text(last))))
    return findings


def _split_paragraphs(parts, tags) -> list[Finding]:
    findings = []
    for element, pieces in parts.items():
        if element is None or tags.get(element) not in _PARAGRAPHS or len(pieces) < 2:
            continue
        (first_page, first_lines), (last_page, last_lines) = pieces[0], pieces[-1]
        if len(first_lines) == 1:
            findings.append(Finding(first_page, "orphan", _first_words(_text(first_lines[0]))))
        if len(last_lines) == 1:
            findings.append(Finding(last_page, "widow", _first_words(_text(last_lines[0]))))
    return findings


def _short_last_pages(sections, parts) -> list[Finding]:
    findings = []
    for section, lines_by_page in sections.items():
        pages = sorted(lines_by_page)
        if len(pages) > 1 and lines_by_page[pages[-1]] <= 2:
            first = next((_text(lines[0]) for element, pieces in parts.items()
                          for page, lines in pieces if page == pages[-1] and lines), "")
            findings.append(Finding(pages[-1], "short last page", _first_words(first)))
    return findings


def _split_frames(heights, tags, content_height: float) -> list[Finding]:
    findings = []
    for element, pieces in heights.items():
        pages = sorted({page for page, _ in pieces})
        if len(pages) > 1 and sum(height for _, height in pieces) <= content_height:
            kind = "split figure" if tags.get(element) == "figure" else "split table"
            findings.append(Finding(pages[0], kind,
                                    _first_words(" ".join(element.itertext()))))
    return findings
