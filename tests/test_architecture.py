"""The rules of docs/architecture.md, held against the code's own imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGE = ROOT / "bindery"


def _modules() -> dict[str, Path]:
    return {path.relative_to(PACKAGE).with_suffix("").as_posix(): path
            for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it, as absolute dotted names."""
    tree = ast.parse(path.read_text("utf-8"))
    package = ("bindery." + path.relative_to(PACKAGE).parent.as_posix().replace("/", ".")
               ).rstrip(".")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _reaches(name: str, prefixes: tuple[str, ...]) -> list[str]:
    imports = _imports(_modules()[name])
    return sorted(module for module in imports
                  if any(module == p or module.startswith(p + ".") for p in prefixes))


def test_the_docs_name_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    for name in _modules():
        if name in ("__init__", "__main__"):
            continue
        if name.endswith("/__init__"):          # a package: its row, or its face's
            package = name.removesuffix("/__init__")
            assert f"`{package}/`" in text or f"`{name}.py`" in text, name
        else:
            assert f"`{name}.py`" in text, name


@pytest.mark.parametrize("name", [name for name in _modules()
                                  if name.startswith(("source/", "convert/"))
                                  or name in ("render", "model", "sandbox", "errors")])
def test_reading_the_book_never_imports_the_layout_engine_or_ebooklib(name):
    assert _reaches(name, ("weasyprint", "ebooklib", "pydyf", "bindery.pdf",
                           "bindery.epub")) == []


@pytest.mark.parametrize("name", [name for name in _modules() if name.startswith("epub/")])
def test_the_epub_takes_the_page_map_as_data(name):
    assert _reaches(name, ("bindery.pdf", "weasyprint")) == []


@pytest.mark.parametrize("name", [name for name in _modules() if name.startswith("check/")])
def test_checks_read_outputs_not_the_writers(name):
    assert _reaches(name, ("bindery.builder", "bindery.pdf", "bindery.epub", "bindery.render",
                           "bindery.convert")) == []


def test_private_api_of_a_dependency_is_reached_from_one_place():
    users = {"_page_box": set(), "pydyf._": set(), "tags._": set(), "TargetCollector": set(),
             "draw_first_line": set(), "SVG.draw": set(),
             "Stream._fonts, Layout.reactivate": set(), "_build_layout_context": set(),
             "Stream._tags, Page.paint": set(), "css.CSS": set(),
             "draw_stacking_context": set()}
    for name, path in _modules().items():
        text = path.read_text("utf-8")
        if re.search(r"\btags\._[a-z]", text):
            users["tags._"].add(name)
        if re.search(r"\._page_box\b", text):
            users["_page_box"].add(name)
        if re.search(r"pydyf\._[a-z]", text):
            users["pydyf._"].add(name)
        if "TargetCollector" in text:           # replaced while a unit is laid out
            users["TargetCollector"].add(name)
        if re.search(r"\btext\.draw_first_line\b", text):   # replaced while a PDF is written
            users["draw_first_line"].add(name)
        if re.search(r"\bSVG\.draw\b", text):
            users["SVG.draw"].add(name)
        if re.search(r"\._fonts\b|\breactivate\b", text):
            users["Stream._fonts, Layout.reactivate"].add(name)
        if re.search(r"_build_layout_context|\bpage_maker\b|make_margin_boxes", text):
            users["_build_layout_context"].add(name)
        if re.search(r"\._tags\b|\._resources\b|\._ctm_stack\b|Page\.paint\b", text):
            users["Stream._tags, Page.paint"].add(name)
        if re.search(r"\bcss\.CSS\b", text):       # replaced while a unit is laid out
            users["css.CSS"].add(name)
        if "draw_stacking_context" in text:    # replaced while a kept layout is written
            users["draw_stacking_context"].add(name)
    assert users == {"_page_box": {"pdf/layout"}, "pydyf._": {"pdf/writer"},
                     "tags._": {"pdf/writer"}, "TargetCollector": {"pdf/units"},
                     "draw_first_line": {"pdf/textruns"}, "SVG.draw": {"pdf/writer"},
                     "Stream._fonts, Layout.reactivate": {"pdf/textruns"},
                     "_build_layout_context": {"pdf/renumber"},
                     "Stream._tags, Page.paint": {"pdf/keptpages"},
                     "css.CSS": {"pdf/sheets"},
                     "draw_stacking_context": {"pdf/keptpages"}}


def test_no_module_grows_into_a_house_of_its_own():
    sizes = {name: len(path.read_text("utf-8").splitlines())
             for name, path in _modules().items()}
    assert max(sizes.values()) <= 400, max(sizes.items(), key=lambda item: item[1])
