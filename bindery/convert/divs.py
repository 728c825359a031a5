"""Named blocks -> their semantics: ``::: epigraph``, ``::: dedication``, ``::: pullquote``,
``::: aside``, ``::: note``, ``::: tip``, ``::: warning`` and ``::: verse`` become elements
with the EPUB ``epub:type`` and the DPUB-ARIA (or ARIA) role of what they are, styled in
both outputs. A ``:::`` block of another name is a warning: it would print as text."""

from __future__ import annotations

import re
from html import escape
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.container import container_plugin

from ..errors import BookWarning
from ..model import Chapter
from .tokens import source_line


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
    "verse": Div("div", None, None),
}
_UNKNOWN = re.compile(r"^:::+\s*([\w-]+)")


def divs_plugin(md: MarkdownIt) -> None:
    for name in DIVS:
        md.use(container_plugin, name, render=_render(name))
    md.core.ruler.push("bindery_unknown_divs", _unknown_divs)


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
        label = escape(env["book"].labels[div.label], quote=True)
        return f'<{div.tag}{attributes} aria-label="{label}">\n<p class="label">{label}</p>\n'
    return render


def _unknown_divs(state: StateCore) -> None:
    chapter: Chapter = state.env["chapter"]
    for index, token in enumerate(state.tokens):
        if token.type == "inline" and state.tokens[index - 1].type == "paragraph_open":
            match = _UNKNOWN.match(token.content)
            if match and match[1] not in DIVS and match[1] != "figure":
                state.env["warnings"].append(BookWarning(
                    f"`::: {match[1]}` is no block Bindery knows, so it prints as text; "
                    f"use one of figure, " + ", ".join(DIVS), chapter.source,
                    source_line(chapter, token)))
