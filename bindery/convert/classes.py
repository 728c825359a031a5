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
    """Warn about each class in ``value`` that nothing styles or reads; ``env["styled"]``
    holds the class names of the book's stylesheets (None: not checked)."""
    styled = env.get("styled")
    if not value or styled is None:
        return
    chapter: Chapter = env["chapter"]
    for name in value.split():
        if name not in styled and name not in READ_BY_BINDERY:
            env["warnings"].append(BookWarning(
                f"class `{name}` is styled by none of the book's stylesheets, so it "
                f"changes nothing; define `.{name}` in styles/common.css, or remove it",
                chapter.source, source_line(chapter, token)))
