"""The units of a book's second half -> laid out in a second process while this one lays
out the first half (a cold build of a long book; ``units.py`` lays out one unit after the
other, each from the page the one before it ended on).

The second process cannot know that page, nor the named strings (running heads) the first
half leaves; it finds both as the first half would give them, if the chapter before its
half opens a page on its usual side:

1. it lays that chapter out after an empty lead page, from page 3 (a recto), which gives
   the strings the half begins with and a first page on the right side;
2. it lays its half out from there, as ``units.py`` does;
3. when this process reaches the half, it sends the page and strings it found. The second
   process numbers its units again from that page (``renumber.py``: folios and running
   heads, the text as laid out) and sends them back pickled (``unitstore.py``), and this
   process takes them as kept units. When its guess was wrong (other strings, or a page on
   the other side, as in a book whose chapters open on either side), nothing comes back and
   this process lays the half out itself: the same pages, only later.

The units that come back keep no layout context, so ``watch``, which numbers units again
after later edits, does not lay out ahead.
"""

from __future__ import annotations

import os
from typing import Callable

from .unitstore import dumps, loads

#: The page the second process lays the chapter before its half out from: a recto.
_GUESS = 3
#: A book shorter than this (the characters of its units' HTML) is laid out in one process.
_LONG = 100_000


class Ahead:
    """The second process laying out the units from ``index`` on."""

    def __init__(self, index: int, process, connection):
        self.index, self._process, self._connection = index, process, connection

    @classmethod
    def start(cls, chain: Callable, pieces: list[str], remember: Callable,
              before_fork: Callable[[], None]) -> Ahead | None:
        """Start the second process on the second half of ``pieces``, laid out by ``chain``
        (``units.lay_out_units``), or None for a short book (or no process to be had).
        ``remember(kept)`` makes units kept for ``chain`` to number again; ``before_fork()``
        is called first (it parses the stylesheets here, so the fonts they register are
        this process's, and waits for the threads that must not run when it forks)."""
        sizes = [len(piece) for piece in pieces]
        if len(pieces) < 6 or sum(sizes) < _LONG:
            return None
        total, index, half = 0, 0, sum(sizes) / 2
        while total < half:
            total, index = total + sizes[index], index + 1
        index = min(max(index, 2), len(pieces) - 1)
        before_fork()
        from ..builder.work import quiet_for_fork

        if not quiet_for_fork():
            return None                  # a library's thread runs on: all of it here
        import multiprocessing

        context = multiprocessing.get_context("fork")
        here, there = context.Pipe()
        process = context.Process(target=_lay_out_ahead,
                                  args=(chain, index, remember, there, here), daemon=True)
        try:
            process.start()
        except OSError:                  # no second process to be had: all of it here
            here.close()
            return None
        finally:
            there.close()
        return cls(index, process, here)

    def units(self, start: int, carried: tuple, render, fetcher, laid: list) -> dict:
        """The units the second process laid out (key -> Unit), given the page the half
        begins on and the strings carried to it; none when it guessed them wrong or failed.
        ``render`` and ``fetcher`` are this build's; an SVG image is drawn with the layout
        context of a unit in ``laid``."""
        try:
            self._connection.send((start, carried))
            data = self._connection.recv_bytes() or None
        except (EOFError, OSError):
            data = None
        finally:
            self.close()
        context = next((unit.context for _, unit in reversed(laid)
                        if unit.context is not None), None)
        taken = loads(data, render.sheets.font_config, fetcher, context) if (
            data is not None and context is not None) else None
        return taken[0] if taken else {}

    def close(self) -> None:
        self._connection.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


def _lay_out_ahead(chain: Callable, index: int, remember: Callable, connection,
                   parents) -> None:
    """The second process: lay the half out from its guess, wait for the true page and
    strings, number the half again from there and send it; nothing when that cannot be.
    It dies with this process (a build killed meanwhile leaves no process waiting)."""
    from ..builder.work import die_with_parent

    parents.close()
    die_with_parent()
    found = b""
    try:
        laid: list = []
        kept: dict = {}
        if chain(index - 1, _GUESS, ((), ""), laid, kept):
            (_, before), (guess, _) = laid[0], laid[1]
            start, carried = connection.recv()
            if carried == (before.strings, before.last_page) and (start - guess) % 2 == 0:
                remember(kept)
                again: dict = {}
                if chain(index, start, carried, [], again):
                    found = dumps(again, {}) or b""
        connection.send_bytes(found)
    except BaseException:  # noqa: BLE001 - this process lays the half out itself
        try:
            connection.send_bytes(b"")
        except OSError:
            pass
    finally:
        os._exit(0)
