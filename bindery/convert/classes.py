"""Classes an author gives (``[text]{.smallcaps}``, ``<span class="…">``) -> checked against
the stylesheets the build uses: a class no stylesheet styles and Bindery does not read
changes nothing on the page, so the author is told where it is."""

from __future__ import annotations

from markdown_it.token import Token

from ..errors import BookWarning
from ..model import Chapter
from .tokens import source_line

#: Classes that mean something to Bindery itself, whatever the stylesheets say.
READ_BY_BINDERY = frozenset({"page"})


def check_classes(value: str | None, env: dict, token: Token) -> None:
    """Note each class in ``value`` that nothing styles or reads, where it is first used;
    ``env["styled"]`` holds the class names of the book's stylesheets (None: not checked)."""
    styled = env.get("styled")
    if not value or styled is None:
        return
    unstyled = env.setdefault("unstyled", {})
    for name in value.split():
        if name not in styled and name not in READ_BY_BINDERY:
            line, count = unstyled.get(name, (source_line(env["chapter"], token), 0))
            unstyled[name] = (line, count + 1)


def unstyled_warnings(env: dict) -> list[BookWarning]:
    """One warning per unstyled class of the chapter, at its first use."""
    chapter: Chapter = env["chapter"]
    return [BookWarning(f"class `{name}` is styled by none of the book's stylesheets, so "
                        f"it changes nothing{f' (used {count} times)' if count > 1 else ''}; "
                        f"define `.{name}` in styles/common.css, or remove it",
                        chapter.source, line)
            for name, (line, count) in env.get("unstyled", {}).items()]
