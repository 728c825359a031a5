"""Math: TeX between dollars, or in a fenced ``math`` block, is MathML in the e-book (with
its TeX as alttext) and a vector drawing in print, tagged ``Formula``; a formula that does
not read is an error at its line."""

from __future__ import annotations

import pikepdf
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from bindery.check.reader import Epub
from bindery.cli import main
from bindery.namespaces import NS

from conftest import build_book
from helpers import TINY, append_lines, copy_book, normalise

FORMULAS = r"""

L’énergie $e = mc^2$ et, si $a < b$, la somme $\sum_{i=0}^n i^2$ ; cela coûte $5 et $10.

$$\frac{a}{b} + \sqrt{x^2+1}$$

```math
\begin{bmatrix}1 & 2\\ 3 & 4\end{bmatrix}
```
"""


@pytest.fixture(scope="module")
def math_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("math")
    book = copy_book(TINY, root / "book")
    chapter = book / "chapitres" / "deux.md"
    chapter.write_text(chapter.read_text("utf-8") + FORMULAS, "utf-8")
    return build_book(book, root / "out")


def test_formulas_are_mathml_with_their_tex_in_the_epub(math_book, epubcheck):
    epub = Epub.open(math_book["epub"])
    root = epub.document("text/deux.xhtml")
    formulas = list(root.iter(f"{{{NS['m']}}}math"))
    assert [(m.get("alttext"), m.get("display")) for m in formulas] == [
        ("e = mc^2", "inline"), ("a < b", "inline"), (r"\sum_{i=0}^n i^2", "inline"),
        (r"\frac{a}{b} + \sqrt{x^2+1}", "block"),
        (r"\begin{bmatrix}1 & 2\\ 3 & 4\end{bmatrix}", "block")]
    assert formulas[3].find(".//m:mfrac", NS) is not None
    assert formulas[4].find(".//m:mtable", NS) is not None
    text = normalise("".join(root.itertext()))
    assert "$5 et $10" in text and "$" not in text.replace("$5 et $10", "")
    (item,) = [item for item in epub.manifest.values() if item["href"] == "text/deux.xhtml"]
    assert item.get("properties") == "mathml"
    assert "MathML" in epub.meta("schema:accessibilityFeature")
    result = epubcheck(math_book["epub"])[0]
    assert result.clean, result.messages


def test_formulas_are_vector_drawings_tagged_formula_in_print(math_book):
    reader = PdfReader(math_book["pdf"])
    text = normalise(" ".join(page.extract_text() for page in reader.pages))
    assert "$5 et $10" in text
    assert "mc^2" not in text and "\\frac" not in text and "$$" not in text
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in reader.pages
             for font in (page["/Resources"].get("/Font") or {}).values()}
    assert fonts and all(name.startswith("Linux-Libertine") for name in fonts), fonts
    with pikepdf.open(math_book["pdf"]) as pdf:
        tagged = {str(obj.get("/Alt")): str(obj.get("/S")) for obj in pdf.objects
                  if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/StructElem"
                  and obj.get("/Alt") is not None}
        # Each glyph of a formula is an outline: curves and lines, filled.
        curves = sum(1 for page in pdf.pages
                     for _, operator in pikepdf.parse_content_stream(page)
                     if str(operator) in ("c", "l"))
    assert tagged["e = mc^2"] == tagged["a < b"] == "/Formula"
    assert tagged[r"\frac{a}{b} + \sqrt{x^2+1}"] == "/Formula"
    assert curves > 500


@pytest.mark.parametrize("formula, reason", [
    (r"$\frac{a$", "`frac` needs 2 parts and has 1"),
    (r"$\foo{x}$", r"`\foo` is not a command"),
    (r"$x_{$", "missing super script or subscript"),
])
def test_a_formula_that_does_not_read_is_an_error_at_its_line(tmp_path, formula, reason):
    book = copy_book(TINY, tmp_path / "book")
    chapter = book / "chapitres" / "deux.md"
    line = append_lines(chapter, f"Donc {formula} ici.", gap="\n\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(book), "--out", str(out),
                                       "--format", "epub"])
    assert result.exit_code == 1
    assert f"deux.md:{line}: formula `{formula.strip('$')}` cannot be read: {reason}" \
        in result.output
    assert not out.exists() or not list(out.glob("*.epub"))
