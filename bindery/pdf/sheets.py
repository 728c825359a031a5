"""The book's stylesheets -> parsed once a build for all its units, not once a unit.

WeasyPrint parses the stylesheets a document links to each time it lays one out: the long
book's 42 units, four stylesheets each, spent 1.8 s of an 8.9 s layout parsing the same
files. While the units of one build are laid out (``units.py``), a stylesheet linked by its
URL is parsed by the first unit that links to it, and each later unit is given the same
parsed sheet with what parsing it did to that unit's document done again:

- the ``@page`` rules, cascade layers, counter styles and colour profiles it added to the
  document's lists and tables are added to the later unit's;
- the files it read (the stylesheet, its fonts, what it imports) are recorded as read by the
  later unit's fetcher, so that a unit kept for the next build still knows them;
- what WeasyPrint said while parsing it is said again, so each unit has its warnings.

The units of one build share one ``FontConfiguration``, so that each ``@font-face`` is
registered once, as in one pass. A unit laid out in a later build parses again: nothing is
kept across builds. The reach into WeasyPrint is one name, ``weasyprint.css.CSS``, which
``find_stylesheets`` calls for each ``<link>`` (checked against WeasyPrint 70.0).
"""

from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from .layout import Collect


@dataclass(frozen=True)
class _Parsed:
    sheet: Any                   # WeasyPrint's CSS
    page_rules: tuple            # what parsing it added to the document's @page rules
    layers: tuple | None         # ... to its cascade layers (None: not only added at the end)
    counter_styles: dict         # ... to its counter styles
    profiles: dict               # ... to its colour profiles
    read: dict                   # url -> digest of each file it read
    said: tuple                  # the log records WeasyPrint made while parsing it


class Sheets:
    """The stylesheets parsed while one build's units are laid out."""

    def __init__(self):
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self._parsed: dict[tuple, _Parsed] = {}

    @contextmanager
    def shared(self) -> Iterator[None]:
        """While a unit is laid out with ``self.font_config``: each stylesheet linked by URL
        parsed once."""
        import weasyprint.css

        make = weasyprint.css.CSS

        def css(*args, **options):
            url, fetcher = options.get("url"), options.get("url_fetcher")
            if (args or url is None or options.get("font_config") is not self.font_config
                    or not hasattr(fetcher, "read") or set(options) - _OPTIONS):
                return make(*args, **options)
            key = (url, options.get("media_type"))
            parsed = self._parsed.get(key)
            if parsed is None:
                parsed = _parse(make, options)
                if parsed.layers is not None:
                    self._parsed[key] = parsed
                return parsed.sheet
            options["page_rules"].extend(parsed.page_rules)
            options["layers"].extend(parsed.layers)
            options["counter_style"].update(parsed.counter_styles)
            options["color_profiles"].update(parsed.profiles)
            fetcher.read.update(parsed.read)
            for record in parsed.said:
                _LOGGER.handle(record)
            # Each sheet of a document holds the document's @page rules and layers (WeasyPrint
            # reads them from every sheet): this one, the document's own.
            sheet = copy.copy(parsed.sheet)
            sheet.page_rules, sheet.layers = options["page_rules"], options["layers"]
            return sheet

        weasyprint.css.CSS = css
        try:
            yield
        finally:
            weasyprint.css.CSS = make


#: What ``find_stylesheets`` gives a linked stylesheet; another call is not shared.
_OPTIONS = {"url", "url_fetcher", "media_type", "font_config", "counter_style",
            "color_profiles", "page_rules", "layers", "_check_mime_type"}
_LOGGER = logging.getLogger("weasyprint")


def _parse(make, options: dict) -> _Parsed:
    """Parse one stylesheet, noting what parsing it added to the document's tables."""
    page_rules, layers = options["page_rules"], options["layers"]
    counter_styles, profiles = options["counter_style"], options["color_profiles"]
    fetcher = options["url_fetcher"]
    before = (len(page_rules), len(layers), dict(counter_styles), dict(profiles),
              dict(fetcher.read), list(layers))
    said = Collect()
    _LOGGER.addHandler(said)
    try:
        sheet = make(**options)
    finally:
        _LOGGER.removeHandler(said)
    # A layer it names between two a sheet before it named (``@layer a.b`` after ``a``)
    # changes the document's order of layers: such a sheet is not shared.
    added_layers = tuple(layers[before[1]:]) if layers[:before[1]] == before[5] else None
    return _Parsed(sheet, tuple(page_rules[before[0]:]), added_layers,
                   _added(before[2], counter_styles), _added(before[3], profiles),
                   _added(before[4], fetcher.read), tuple(said.records))


def _added(before: dict, after) -> dict:
    return {key: value for key, value in after.items()
            if key not in before or before[key] is not value}
