"""Named blocks -> their semantics: ``::: epigraph``, ``::: dedication``, ``::: pullquote``,
``::: aside``, ``::: note``, ``::: tip``, ``::: warning``, ``::: important``, ``::: caution``
and ``::: verse`` become elements with the EPUB ``epub:type`` and the DPUB-ARIA (or ARIA)
role of what they are, styled in both outputs. A ``:::`` block of another name is a warning:
it would print as text.

Pandoc's form, ``::: {.note}``, is read too, and Quarto's callouts as Quarto books write
them: ``::: {.callout-tip title="Try it"}`` or ``::: callout-note`` with a first heading
``## Title``. The title takes the place of the block's label; the other attributes
(``collapse``, ``icon``, ``appearance``) are for Quarto's web pages and are left out."""

from __future__ import annotations

import re
from html import escape
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.container import container_plugin

from ..errors import BookWarning
from ..model import Chapter
from .tokens import plain_text, source_line


@dataclass(frozen=True)
class Div:
    tag: str
    epub_type: str | None
    role: str | None
    label: str | None = None       # a label Bindery writes first in it (from [labels])


DIVS = {
    "epigraph": Div("div", "epigraph", "doc-epigraph"),
    "dedication": Div("div", "dedication", "doc-dedication"),
    "pullquote": Div("aside", "pullquote", "doc-pullquote"),
    "aside": Div("aside", "sidebar", "complementary"),
    "note": Div("aside", None, "note", "note"),
    "tip": Div("aside", "tip", "doc-tip", "tip"),
    "warning": Div("div", "notice", "doc-notice", "warning"),   # doc-notice: not on aside
    "important": Div("div", "notice", "doc-notice", "important"),
    "caution": Div("div", "notice", "doc-notice", "caution"),
    "verse": Div("div", None, None),
}
#: Quarto's callouts, by the names of the blocks they are.
CALLOUTS = {f"callout-{name}": name
            for name in ("note", "tip", "warning", "important", "caution")}
#: What follows ``:::``: a name (and words Bindery does not read), or pandoc's attributes
#: with a class first (``{.name title="..." collapse="true"}``).
_OPENING = re.compile(r"\s*(?:\{\s*\.([\w-]+)([^}]*)\}|([\w-]+)(?:\s.*)?)\s*$", re.DOTALL)
_TITLE = re.compile(r"""(?:^|\s)title\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_UNKNOWN = re.compile(r"^:::+\s*(?:\{\s*\.)?([\w-]+)")


def div_name(params: str) -> str | None:
    """The named block that ``::: params`` opens, or None."""
    match = _OPENING.match(params)
    if match is None:
        return None
    name = match[1] or match[3]
    name = CALLOUTS.get(name, name)
    return name if name in DIVS else None


def divs_plugin(md: MarkdownIt) -> None:
    for name in DIVS:
        md.use(container_plugin, name, render=_render(name),
               validate=lambda params, *_, name=name: div_name(params) == name)
    md.core.ruler.push("bindery_unknown_divs", _unknown_divs)
    md.core.ruler.push("bindery_callout_titles", _titles)


def _render(name: str):
    div = DIVS[name]

    def render(self, tokens, idx, options, env) -> str:
        if tokens[idx].nesting == -1:
            return f"</{div.tag}>\n"
        attributes = f' class="{name}"'
        if div.epub_type:
            attributes += f' epub:type="{div.epub_type}"'
        if div.role:
            attributes += f' role="{div.role}"'
        if name == "aside":
            # Each aside is a complementary landmark: from the second in a chapter on, each
            # gets a name ("Aside 2"), for landmarks must be told apart.
            env["asides"] = count = env.get("asides", 0) + 1
            if count > 1:
                label = escape(env["book"].labels["aside"], quote=True)
                attributes += f' aria-label="{label} {count}"'
        if not div.label:
            return f"<{div.tag}{attributes}>\n"
        # The label is text, not CSS generated content: Kindle and some readers drop
        # ::before, and the block's meaning ("Warning") would go with it.
        label = escape(tokens[idx].meta.get("title") or env["book"].labels[div.label],
                       quote=True)
        return f'<{div.tag}{attributes} aria-label="{label}">\n<p class="label">{label}</p>\n'
    return render


def _unknown_divs(state: StateCore) -> None:
    chapter: Chapter = state.env["chapter"]
    for index, token in enumerate(state.tokens):
        if token.type == "inline" and state.tokens[index - 1].type == "paragraph_open":
            match = _UNKNOWN.match(token.content)
            if match and CALLOUTS.get(match[1], match[1]) not in DIVS \
                    and match[1] != "figure":
                state.env["warnings"].append(BookWarning(
                    f"`::: {match[1]}` is no block Bindery knows, so it prints as text; "
                    f"use one of figure, " + ", ".join(DIVS), chapter.source,
                    source_line(chapter, token)))


def _titles(state: StateCore) -> None:
    """A labelled block's title: its ``title="..."`` attribute, or, as Quarto reads a
    callout, a heading that opens it (taken out of the text: it is no section)."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if not (token.type.startswith("container_") and token.type.endswith("_open")):
            continue
        name = token.type[len("container_"):-len("_open")]
        if name not in DIVS or DIVS[name].label is None:
            continue
        match = _OPENING.match(token.info)
        found = _TITLE.search(match[2] or "") if match is not None and match[1] else None
        if found is not None:
            token.meta["title"] = found[1] if found[1] is not None else found[2]
        elif (index + 3 < len(tokens) and tokens[index + 1].type == "heading_open"
              and tokens[index + 2].children is not None):
            token.meta["title"] = plain_text(tokens[index + 2].children)
            del tokens[index + 1:index + 4]
