"""Footnotes: ``[^label]`` with ``[^label]: text`` (several paragraphs allowed) and
``^[inline notes]`` -> note references and notes, for the e-book and for print.

In the EPUB a reference is a link (``epub:type="noteref"``, ``role="doc-noteref"``, no
``<sup>`` around it) to an ``<aside epub:type="footnote" role="doc-footnote">`` at the end
of the chapter, in the same file, with a link back: the shape Apple Books and Kobo show as
a pop-up. In print the note's text goes where it is called, as a ``span.footnote`` that the
print stylesheet floats to the foot of the page (CSS GCPM ``float: footnote``). Notes are
numbered per chapter. A reference with no note is an error; a note never referred to is a
warning.
"""

from __future__ import annotations

import dataclasses
import re

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin

from ..errors import BookError, BookWarning
from ..model import Chapter
from ..namespaces import EPUB, XHTML
from .fragments import parse, serialise

#: A note longer than this does not pop up in some reading systems (Kobo): a warning.
POP_UP_CHARACTERS = 5000
_UNRESOLVED = re.compile(r"\[\^([^\]\s]+)\]")


def notes_plugin(md: MarkdownIt) -> None:
    md.use(footnote_plugin)
    md.add_render_rule("footnote_ref", _render_ref)
    md.add_render_rule("footnote_block_open", lambda *args: "")
    md.add_render_rule("footnote_block_close", lambda *args: "")
    md.add_render_rule("footnote_open", _render_open)
    md.add_render_rule("footnote_close", lambda *args: "</aside>\n")
    md.add_render_rule("footnote_anchor", _render_anchor)
    md.core.ruler.push("bindery_notes", _check_notes)


def _ids(env: dict, meta: dict) -> tuple[str, str]:
    """The note's id and its reference's (the second reference to a note gets ``-2``...)."""
    chapter: Chapter = env["chapter"]
    number = meta["id"] + 1
    sub = meta.get("subId", 0)
    reference = f"{chapter.id}-noteref-{number}" + (f"-{sub + 1}" if sub else "")
    return f"{chapter.id}-note-{number}", reference


def _render_ref(self, tokens, idx, options, env) -> str:
    note, reference = _ids(env, tokens[idx].meta)
    return (f'<a class="noteref" id="{reference}" href="#{note}" epub:type="noteref" '
            f'role="doc-noteref">{tokens[idx].meta["id"] + 1}</a>')


def _render_open(self, tokens, idx, options, env) -> str:
    note, _ = _ids(env, tokens[idx].meta)
    return (f'<aside class="footnote" id="{note}" epub:type="footnote" '
            f'role="doc-footnote">\n')


def _render_anchor(self, tokens, idx, options, env) -> str:
    _, reference = _ids(env, tokens[idx].meta)
    label = env["book"].labels["backlink"]
    return f' <a class="backlink" href="#{reference}" role="doc-backlink" ' \
           f'aria-label="{label}">↑</a>'


def _check_notes(state: StateCore) -> None:
    """A reference to no note is an error; a note never referred to is a warning."""
    chapter: Chapter = state.env["chapter"]
    in_code = {"code_inline", "code_block", "fence"}
    for token in state.tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type in ("text", "text_special") and child.type not in in_code:
                    match = _UNRESOLVED.search(child.content)
                    if match:
                        line = chapter.first_line + token.map[0] if token.map else None
                        raise BookError(f"footnote `[^{match[1]}]` has no note",
                                        chapter.source, line,
                                        hint=f"add a line `[^{match[1]}]: The note.`")
    refs = state.env.get("footnotes", {}).get("refs", {})
    for label, number in refs.items():
        if number == -1:
            line = _definition_line(chapter, label[1:])
            state.env["warnings"].append(BookWarning(
                f"footnote `[^{label[1:]}]` is never referred to, so it is not in the book",
                chapter.source, line))
    for note in _note_lengths(state.tokens):
        if note[1] > POP_UP_CHARACTERS:
            state.env["warnings"].append(BookWarning(
                f"footnote {note[0]} has {note[1]:,} characters; some reading systems pop "
                f"up only notes under {POP_UP_CHARACTERS:,}", chapter.source))


def _definition_line(chapter: Chapter, label: str) -> int | None:
    for number, line in enumerate(chapter.markdown.split("\n")):
        if line.lstrip().startswith(f"[^{label}]:"):
            return chapter.first_line + number
    return None


def _note_lengths(tokens) -> list[tuple[int, int]]:
    lengths, current = [], None
    for token in tokens:
        if token.type == "footnote_open":
            current = [token.meta["id"] + 1, 0]
        elif token.type == "footnote_close" and current is not None:
            lengths.append(tuple(current))
            current = None
        elif current is not None and token.type == "inline":
            current[1] += len(token.content)
    return lengths


def notes_at_their_calls(root) -> None:
    """For print, in the chapter's tree ``root``: each note's text moved to its first
    reference, as a ``span.footnote`` the print stylesheet floats to the foot of the page;
    its paragraphs become ``span.footnote-block``; links back are dropped. Later references
    to the same note stay links to it."""
    asides = {aside.get("id"): aside for aside in root.iter(f"{{{XHTML}}}aside")
              if aside.get("class") == "footnote"}
    placed = set()
    for reference in list(root.iter(f"{{{XHTML}}}a")):
        if reference.get("class") != "noteref":
            continue
        note = reference.get("href", "")[1:]
        if note in placed or note not in asides:
            continue
        placed.add(note)
        span = etree.Element(f"{{{XHTML}}}span", {"class": "footnote", "id": note})
        for block in asides[note]:
            inner = etree.SubElement(span, f"{{{XHTML}}}span",
                                     {"class": "footnote-block", **(
                                         {"id": block.get("id")} if block.get("id") else {})})
            inner.text = block.text
            for child in block:
                inner.append(child)
        for backlink in [a for a in span.iter(f"{{{XHTML}}}a")
                         if a.get("class") == "backlink"]:
            _remove_keeping_tail(backlink)
        span.tail = reference.tail
        reference.getparent().replace(reference, span)
    for aside in asides.values():
        _remove_keeping_tail(aside)


def notes_to_the_book(chapter: Chapter) -> Chapter:
    """For ``[notes] placement = "book"``: the chapter's notes leave its e-book body for the
    Notes document, as a numbered list of endnotes (DPUB-ARIA 1.1: items of a
    ``doc-endnotes`` section, with no role of their own); links between them cross
    documents (the EPUB writer points each ``#id`` to the document that holds it)."""
    if 'class="footnote"' not in chapter.body:
        return chapter
    root = parse(chapter.body)
    notes = etree.Element(f"{{{XHTML}}}ol", {"class": "endnotes"})
    notes.text = "\n"
    for aside in [aside for aside in root.iter(f"{{{XHTML}}}aside")
                  if aside.get("class") == "footnote"]:
        _remove_keeping_tail(aside)
        item = etree.SubElement(notes, f"{{{XHTML}}}li", {
            "class": "endnote", "id": aside.get("id"), f"{{{EPUB}}}type": "endnote"})
        item.text, item.tail = aside.text, "\n"
        item.extend(aside)
    holder = parse("")
    holder.append(notes)
    return dataclasses.replace(chapter, body=Markup(serialise(root)),
                               notes=Markup(serialise(holder)))


def _remove_keeping_tail(element) -> None:
    parent = element.getparent()
    previous = element.getprevious()
    tail = (element.tail or "").rstrip() if element.get("class") == "backlink" else (
        element.tail or "")
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = ((parent.text or "").rstrip() if element.get("class") == "backlink"
                       else (parent.text or "")) + tail
    parent.remove(element)
