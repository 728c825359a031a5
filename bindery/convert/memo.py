"""A chapter converted by the last build in this process -> the same chapter, not converted
again (``watch``, ``serve``: the long book's 40 chapters took 0.2 s of each rebuild).

A chapter converts to the same XHTML when everything converting it reads is the same: its
own text and settings (the ``Chapter`` as loaded), everything else of the book it may read
(``context``: the fingerprints of the book's other sources, as the build's plan took them,
the chapters' ids, the book's folder, the classes its stylesheets style), and what the
chapters before it took of what the book shares: the ids and the EPUB's image names. The
chapter is then taken as the last build converted it, and what converting it added to what
the book shares is added again: its ids and image names, its warnings, its links to other
chapters (checked once all chapters are converted, as for a chapter converted now).

Only the last build's chapters are kept: the memory of one book.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..model import Chapter


@dataclass(frozen=True)
class _Converted:
    given: Chapter              # the chapter as loaded
    taken: frozenset            # the ids the chapters before it had taken
    names: tuple                # the image names they had given
    result: Chapter             # the chapter converted
    ids: frozenset              # the ids it took
    new_names: tuple            # the image names it gave
    warnings: tuple
    references: tuple


#: The last build's context and its chapters by id.
_LAST: dict[str, Any] = {"context": None, "chapters": {}}


class Memo:
    """The chapters one build converts, each taken from the last build when it can be."""

    def __init__(self, context: tuple):
        self.context = context
        self.last = _LAST["chapters"] if _LAST["context"] == context else {}
        self.now: dict[str, _Converted] = {}
        self.kept = 0

    def convert(self, chapter: Chapter, shared: dict,
                work: Callable[[], Chapter]) -> Chapter:
        taken, names = shared["taken"], shared["names"]
        entry = (frozenset(taken), tuple(names.items()))
        found = self.last.get(chapter.id)
        if found is not None and (found.given, found.taken, found.names) == (chapter, *entry):
            taken.update(found.ids)
            names.update(found.new_names)
            shared["warnings"].extend(found.warnings)
            shared["cross_references"].extend(found.references)
            self.now[chapter.id] = found
            self.kept += 1
            return found.result
        warned, referred = len(shared["warnings"]), len(shared["cross_references"])
        result = work()
        given = set(entry[1])
        self.now[chapter.id] = _Converted(
            chapter, *entry, result, frozenset(taken) - entry[0],
            tuple(item for item in names.items() if item not in given),
            tuple(shared["warnings"][warned:]), tuple(shared["cross_references"][referred:]))
        return result

    def keep(self) -> None:
        """Every chapter is converted: the next build may take them."""
        _LAST["context"], _LAST["chapters"] = self.context, self.now
