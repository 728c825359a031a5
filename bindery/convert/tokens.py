"""markdown-it tokens -> where they are and what they say: the chapter line a token starts on,
the tokens under it, its plain text."""

from __future__ import annotations

from markdown_it.token import Token

from ..model import Chapter


def source_line(chapter: Chapter, token: Token | None) -> int | None:
    if token is None or not token.map:
        return None
    return chapter.first_line + token.map[0]


# -- block rules -----------------------------------------------------------------------

def walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def plain_text(tokens: list[Token]) -> str:
    return "".join(token.content if token.type in ("text", "code_inline")
                   else plain_text(token.children or []) for token in tokens)
