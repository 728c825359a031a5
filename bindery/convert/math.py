"""TeX math -> MathML for the e-book, vector drawings for print.

``$…$`` (inline), ``$$…$$`` (display, inline or as a block) and a fenced ``math`` block are
read by mdit-py-plugins' dollarmath with pandoc's rules: no space inside the dollars, no
digit right after the closing one, so ``$5 and $10`` stays text. latex2mathml turns each
formula into MathML, which the EPUB carries with its TeX source as ``alttext``. WeasyPrint
has no MathML, so for print ziamath draws the same MathML as an SVG of paths, in STIX Two
Math from ``styles/fonts``: no font from the machine, and nothing that can fail to embed.

A formula latex2mathml cannot read, or reads only partly (an unknown command kept as text,
a fraction missing a part), is an error at its line: it would print as something else.
"""

from __future__ import annotations

import base64
import functools
import re

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.dollarmath import dollarmath_plugin

from ..errors import BookError
from ..model import Chapter
from ..namespaces import MATHML, XHTML
from ..resources import STYLES
from .tokens import source_line

#: The math font, with its licence beside it.
FONT = STYLES / "fonts" / "STIXTwoMath-Regular.ttf"
#: ziamath draws at this size; the drawing is then scaled in em, so it follows the text.
_SIZE = 20.0
#: STIX Two's x-height is a tenth larger than Linux Libertine's: formulas are drawn a tenth
#: smaller, so that their letters match the text's.
_SCALE = 0.9
#: How many children each MathML layout element must have (MathML Core, 3.1.3).
_ARITY = {"mfrac": 2, "msup": 2, "msub": 2, "msubsup": 3, "munder": 2, "mover": 2,
          "munderover": 3, "mroot": 2}
_COMMAND = re.compile(r"\\[A-Za-z]+")
_HINT = r"check its braces and commands; a dollar sign that is not math is written \$"


def math_plugin(md: MarkdownIt) -> None:
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
           double_inline=True)
    md.core.ruler.after("inline", "bindery_math", _read_formulas)
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_inline_double", _render_display)
    md.add_render_rule("math_block", _render_block)


def _read_formulas(state: StateCore) -> None:
    """A fenced ``math`` block becomes a math block; every formula is read here, once, so
    that one that does not parse is an error at its line."""
    chapter: Chapter = state.env["chapter"]
    for token in state.tokens:
        if token.type == "fence" and (token.info or "").strip() == "math":
            token.type, token.tag, token.markup = "math_block", "math", "$$"
        if token.type == "math_block":
            token.meta["mathml"] = mathml(token.content, True, chapter,
                                          source_line(chapter, token))
            state.env["formulas"].append(token.content.strip())
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type in ("math_inline", "math_inline_double"):
                    child.meta["mathml"] = mathml(child.content,
                                                  child.type == "math_inline_double",
                                                  chapter, source_line(chapter, token))
                    state.env["formulas"].append(child.content.strip())


def mathml(tex: str, display: bool, chapter: Chapter, line: int | None) -> str:
    """The formula as a MathML element carrying its TeX as ``alttext``."""
    tex = tex.strip()
    try:
        drawing(tex, display)       # ziamath can draw it for print
        return _mathml(tex, display)
    except _Unreadable as error:
        raise BookError(f"formula `{_short(tex)}` cannot be read: {error}", chapter.source,
                        line, hint=_HINT)
    except Exception as error:     # latex2mathml's own errors have no common base class
        reason = str(error) or type(error).__name__
        reason = re.sub(r"(?<!^)(?=[A-Z])", " ", reason).lower().replace(" error", "")
        raise BookError(f"formula `{_short(tex)}` cannot be read: {reason}", chapter.source,
                        line, hint=_HINT) from None


class _Unreadable(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def _mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    if not tex:
        raise _Unreadable("it is empty")
    root = etree.fromstring(convert(tex, display="block" if display else "inline"))
    for element in root.iter():
        name = etree.QName(element).localname
        if name in _ARITY and len(element) != _ARITY[name]:
            raise _Unreadable(f"`{name[1:]}` needs {_ARITY[name]} parts and has "
                              f"{len(element)}; a brace may be missing")
        unknown = _COMMAND.search(element.text or "")
        if unknown and name in ("mi", "mo", "mn"):
            raise _Unreadable(f"`{unknown[0]}` is not a command latex2mathml knows")
    root.set("alttext", tex)
    return etree.tostring(root, encoding="unicode")


def _short(tex: str) -> str:
    tex = " ".join(tex.split())
    return tex if len(tex) <= 60 else tex[:57] + "…"


def _render_inline(self, tokens, idx, options, env) -> str:
    return tokens[idx].meta["mathml"]


def _render_display(self, tokens, idx, options, env) -> str:
    return f'<span class="equation">{tokens[idx].meta["mathml"]}</span>'


def _render_block(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    identity = f' id="{token.attrGet("id")}"' if token.attrGet("id") else ""
    return f'<div class="equation"{identity}>{token.meta["mathml"]}</div>\n'


def math_for_print(root) -> None:
    """Each MathML element in ``root`` (an lxml tree) becomes an image of its drawing, sized
    in em so that it follows the text's size, sitting on the line's baseline, with the TeX
    source as its alternative text (the tagged PDF's ``Alt``)."""
    for element in list(root.iter(f"{{{MATHML}}}math")):
        tex = element.get("alttext", "")
        width, height, depth, svg = drawing(tex, element.get("display") == "block")
        image = etree.Element(f"{{{XHTML}}}img", {
            "class": "math",
            "alt": tex,
            "src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
            "style": f"width: {width:.3f}em; height: {height:.3f}em; "
                     f"vertical-align: {-depth:.3f}em"})
        image.tail = element.tail
        element.getparent().replace(element, image)


@functools.lru_cache(maxsize=4096)
def drawing(tex: str, display: bool) -> tuple[float, float, float, str]:
    """ziamath's SVG of the formula, and its width, height and depth below the baseline in em."""
    import xml.etree.ElementTree as ET

    import ziamath

    # An element, not a string: ziamath unescapes a string before parsing it (`a &lt; b`).
    element = ET.fromstring(_mathml(tex, display))
    if display and len(element):
        element[0].set("displaystyle", "true")
    element.set("mathcolor", "device-cmyk(0 0 0 1)")   # pure black ink, as the text is
    svg = ziamath.Math(element, size=_SIZE, font=str(FONT)).svg()
    box = etree.fromstring(svg.encode()).get("viewBox").split()
    top, width, height = float(box[1]), float(box[2]), float(box[3])
    scale = _SCALE / _SIZE
    return width * scale, height * scale, (height + top) * scale, svg
