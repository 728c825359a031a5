"""book.toml's print tables -> PrintSettings and BookletSettings: [print], [press], the
paper of [cover] and [booklet], each key checked, each error naming its line. Mixed into
the book.toml reader (``settings.py``), whose ``table``, ``error`` and ``choice`` it uses."""

from __future__ import annotations

from ..model import BookletSettings, PrintSettings
from .units import PAPERS, parse_length, parse_sheet, parse_trim


class PrintTables:
    def print_settings(self) -> PrintSettings:
        data = self.table("print")
        trim = parse_trim(data.get("trim", "A5"))
        if trim is None:
            raise self.error(
                f"[print] `trim` must be A5, A6, half-letter, 6x9in or \"WIDTH HEIGHT\" "
                f"such as \"140mm 216mm\", got `{data.get('trim')}`", "trim", "print")
        bleed = parse_length(data.get("bleed", "3mm"))
        if bleed is None or bleed > 25:
            raise self.error(f"[print] `bleed` must be a length such as \"3mm\", got "
                             f"`{data.get('bleed')}`", "bleed", "print")
        toc = data.get("toc")
        if toc is not None and not isinstance(toc, bool):
            raise self.error("[print] `toc` must be true or false", "toc", "print")
        binding = self.choice(data, "binding", "print", {
            "saddle": "stitched through the fold, pages a multiple of 4",
            "perfect": "glued at the spine, an even number of pages",
            "none": "loose sheets"})
        chapter_start = self.choice(data, "chapter_start", "print", {
            "recto": "on a right-hand page", "any": "on the next page"})
        marks = self.choice(self.table("press"), "marks", "press", {
            "crop": "crop marks", "crop+registration": "crop and registration marks",
            "none": "no marks"})
        slug_line = self.table("press").get("slug", False)
        if not isinstance(slug_line, bool):
            raise self.error("[press] `slug` must be true or false", "slug", "press")
        paper, caliper = self.paper()
        return PrintSettings(trim=trim, bleed_mm=bleed, toc=toc, binding=binding,
                             chapter_start=chapter_start, marks=marks, slug_line=slug_line,
                             paper=paper, caliper_mm=caliper)

    def choice(self, data: dict, key: str, table: str, choices: dict[str, str]) -> str:
        """One of ``choices`` (the first is the default), or an error listing them."""
        value = data.get(key, next(iter(choices)))
        if value not in choices:
            listed = "; ".join(f'"{name}" ({meaning})' for name, meaning in choices.items())
            raise self.error(f"[{table}] `{key}` must be one of: {listed}; got `{value}`",
                             key, table)
        return value

    def booklet_settings(self) -> BookletSettings:
        data = self.table("booklet")
        sheet = data.get("sheet")
        if sheet is not None and parse_sheet(sheet) is None:
            raise self.error(f"[booklet] `sheet` must be a paper size such as A4 or letter, "
                             f"got `{sheet}`", "sheet", "booklet")
        flip = data.get("flip", "short-edge")
        if flip not in ("short-edge", "long-edge"):
            raise self.error(f"[booklet] `flip` must be \"short-edge\" or \"long-edge\", got "
                             f"`{flip}`", "flip", "booklet")
        sheets = data.get("sheets_per_signature", 0)
        if not isinstance(sheets, int) or isinstance(sheets, bool) or sheets < 0:
            raise self.error("[booklet] `sheets_per_signature` must be a whole number "
                             "(0: one signature)", "sheets_per_signature", "booklet")
        creep = parse_length(data.get("creep", "0mm"))
        if creep is None or creep > 5:
            raise self.error(f"[booklet] `creep` must be a small length such as \"0.2mm\", "
                             f"got `{data.get('creep')}`", "creep", "booklet")
        return BookletSettings(sheet=sheet, flip=flip, sheets_per_signature=sheets,
                               creep_mm=creep)

    def paper(self) -> tuple[str, float]:
        """The print cover's paper, and the thickness of one leaf of it in mm, from
        ``[cover] paper`` (a name in ``PAPERS``) or ``[cover] caliper``."""
        value = self.data.get("cover")
        table = self.table("cover") if isinstance(value, dict) else {}
        if "caliper" in table:
            caliper = parse_length(table["caliper"])
            if caliper is None or not 0.02 <= caliper <= 1:
                raise self.error(f"[cover] `caliper` must be the thickness of a leaf, such "
                                 f"as \"0.1mm\", got `{table['caliper']}`", "caliper", "cover")
            return f"caliper {table['caliper']}", caliper
        paper = table.get("paper", "80gsm-uncoated")
        if paper not in PAPERS:
            raise self.error(f"[cover] `paper` must be one of {', '.join(PAPERS)}, or give "
                             f"`caliper`; got `{paper}`", "paper", "cover")
        return paper, PAPERS[paper]
