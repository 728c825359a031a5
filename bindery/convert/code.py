"""Fenced code -> highlighted code: Pygments marks the tokens of a block that names its
language with classes (``hl-k`` a keyword...), the same in the EPUB and in print; each
source line is a span of its own, so that a long line wraps with a hanging indent that
shows where it continues. The typographer never touches code."""

from __future__ import annotations

import re
from html import escape

from markdown_it.token import Token

from ..errors import BookWarning
from ..model import Chapter
from .tokens import source_line

#: A block of at most this many lines is never split across pages.
SHORT_BLOCK = 12
_INDENT = re.compile(r'^(?:<span class="hl-w">)?( +)(?:</span>)?(<span class="[^"]+">)')
#: ``{.python …}``, or ``{r …}``, a code chunk of R Markdown or Quarto (whose engine runs
#: it): the language in braces (not ``{=html}``, a raw block).
_BRACED = re.compile(r"\s*\{\s*(\.?)([\w+#-]+)(?=([\s,}])?)")


def render_fence(self, tokens: list[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    language = fence_language(token.info or "")
    code = token.content.rstrip("\n")
    braced = _BRACED.match(token.info or "")
    if braced is not None and not braced[1] and braced[3] is not None:
        # A chunk's options (Quarto's ``#| echo: false``) are for the engine that runs it.
        lines = code.split("\n")
        while lines and lines[0].startswith("#|"):
            lines.pop(0)
        code = "\n".join(lines)
    lines = _highlighted_lines(code, language, env, token)
    size = "short" if len(lines) <= SHORT_BLOCK else "long"
    block_id = token.attrGet("id")
    language_class = f" language-{escape(language)}" if language else ""
    identity = f' id="{block_id}"' if block_id else ""
    return (f'<pre class="code {size}"{identity}><code class="code{language_class}">'
            + "".join(f'<span class="line">{line or " "}</span>\n' for line in lines)
            + "</code></pre>\n")


def fence_language(info: str) -> str:
    """A fence's language: the first word of its info string, before any comma (mdBook and
    rustdoc write ``rust,ignore`` or ``rust,should_panic``: the language, then attributes),
    or the first word in braces: pandoc's ``{.python .numberLines}``, and the code chunks of
    R Markdown, bookdown and Quarto books, ``{r}``, ``{r setup, echo=FALSE}``,
    ``{python}`` (shown, not run)."""
    braced = _BRACED.match(info)
    if braced is not None:
        return braced[2]
    words = info.strip().split(maxsplit=1)
    return words[0].split(",", 1)[0] if words else ""


def _highlighted_lines(code: str, language: str, env: dict, token: Token) -> list[str]:
    if not language:
        return [escape(line, quote=False) for line in code.split("\n")]
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        chapter: Chapter = env["chapter"]
        env["warnings"].append(BookWarning(
            f"code block in `{language}`, a language Pygments does not know: shown without "
            f"highlighting", chapter.source, source_line(chapter, token)))
        return [escape(line, quote=False) for line in code.split("\n")]
    # Pygments closes and reopens its spans at every line end: each line stands alone.
    # Given with its last line ended, as a file is: without it the console lexer lost a
    # session's last line of output, and Bash and Python sessions misread their last line.
    html = highlight(code + "\n", lexer, HtmlFormatter(nowrap=True, classprefix="hl-"))
    # A line's indentation goes into its first token, so that the layout never breaks the
    # line between the indentation and the code.
    return [_INDENT.sub(r"\2\1", line) for line in html.rstrip("\n").split("\n")]
