"""A stylesheet -> its references checked: every ``@import`` and ``url()`` allowed, or an
error naming the stylesheet, line and column (tinycss2 reads it as a browser would); and the
class names it styles, so that a class an author gives and no stylesheet knows is found."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import tinycss2

from ..errors import BookError

#: Says why a reference is refused, or None when it is allowed.
Rule = Callable[[str], "str | None"]


def check_references(text: str, path: Path, refuse: Rule) -> None:
    """Raise a BookError at the first reference in ``text`` that ``refuse`` refuses."""
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    for url, token in _references(rules):
        reason = refuse(url)
        if reason is not None:
            raise BookError(f"reference `{url}` {reason}", path, token.source_line,
                            token.source_column, hint="a book reads only its own files")


def class_names(text: str) -> set[str]:
    """The class names a stylesheet's selectors name: ``div.note p, .smallcaps`` -> note,
    smallcaps; inside ``@media`` and other grouping rules too."""
    names: set[str] = set()

    def scan(rules) -> None:
        for rule in rules:
            if rule.type == "qualified-rule":
                for dot, name in zip(rule.prelude, rule.prelude[1:]):
                    if dot.type == "literal" and dot.value == "." and name.type == "ident":
                        names.add(name.value)
            elif rule.type == "at-rule" and rule.content is not None:
                scan(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                              skip_whitespace=True))

    scan(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    return names


def only_data(url: str) -> str | None:
    """The e-book's stylesheet carries no other file: only ``data:`` URLs and fragments."""
    if url.startswith("#") or urlsplit(url).scheme.lower() == "data":
        return None
    return "is not allowed in the e-book's stylesheet: it travels alone, without other files"


def inside(folder: Path, allowed: Callable[[Path], bool]) -> Rule:
    """References to ``data:`` URLs and to files that ``allowed`` accepts, relative to
    ``folder`` or as ``file:`` URLs; nothing from the network."""
    def refuse(url: str) -> str | None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if url.startswith("#") or scheme == "data":
            return None
        if scheme not in ("", "file") or parts.netloc:
            return "is not allowed: a book reads nothing from the network"
        target = Path(parts.path) if scheme == "file" else folder / parts.path
        return None if allowed(target) else "is outside the book's folders"
    return refuse


def _references(nodes) -> Iterator[tuple[str, object]]:
    for node in nodes:
        if node.type == "at-rule" and node.lower_at_keyword == "import":
            for token in node.prelude:
                if token.type in ("string", "url"):
                    yield token.value, token
                elif token.type == "function" and token.lower_name == "url":
                    yield from _function_url(token)
        for part in ("prelude", "content", "arguments"):
            children = getattr(node, part, None)
            if children:
                yield from _references(children)
        if node.type == "url":
            yield node.value, node
        elif node.type == "function" and node.lower_name == "url":
            yield from _function_url(node)


def _function_url(token) -> Iterator[tuple[str, object]]:
    for argument in token.arguments:
        if argument.type == "string":
            yield argument.value, token
