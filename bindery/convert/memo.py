"""A chapter converted by the last build -> the same chapter, not converted again (the long
book's 40 chapters took 0.2 s of each rebuild; the Rust book's eight, 0.5-0.8 s).

A chapter converts to the same XHTML when everything converting it reads is the same: its
own text and settings (the ``Chapter`` as loaded), everything else of the book it may read
(``context``: the fingerprints of the book's other sources, as the build's plan took them,
the chapters' ids and titles, the book's folder, the classes its stylesheets style), the
files it read (its images and included files, each with the fingerprint the plan took: a
chapter that includes another chapter's file sees it change), and what the chapters before
it took of what the book shares: the ids and the EPUB's image names. The chapter is then
taken as the last build converted it, and what converting it added to what the book shares
is added again: its ids and image names, its warnings, its links to other chapters (checked
once all chapters are converted, as for a chapter converted now).

Only the chapters of the last build that wrote its outputs are kept (``commit``): the plan
knows the files a build included from its manifest, so the memory never runs ahead of it.
A build in a new process takes them from the output folder's store (``builder/unitstore.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..model import Chapter


@dataclass(frozen=True)
class _Converted:
    given: Chapter              # the chapter as loaded
    taken: frozenset            # the ids the chapters before it had taken
    names: tuple                # the image names they had given
    result: Chapter             # the chapter converted
    read: tuple                 # (name, fingerprint) of each file it read
    ids: frozenset              # the ids it took
    new_names: tuple            # the image names it gave
    warnings: tuple
    references: tuple
    title_links: tuple


#: The context and chapters of the last build that wrote its outputs, and of the last
#: conversion, which becomes it once its build has written them.
_LAST: dict[str, Any] = {"context": None, "chapters": {}}
_CONVERTED: dict[str, Any] = {"context": None, "chapters": {}}


class Memo:
    """The chapters one build converts, each taken from the last build when it can be.
    ``known``: the fingerprints of the book's files, by name, as the plan took them."""

    def __init__(self, context: tuple, known: Mapping[str, str]):
        self.context = context
        self.known = known
        self.last = _LAST["chapters"] if _LAST["context"] == context else {}
        self.now: dict[str, _Converted] = {}

    def convert(self, chapter: Chapter, shared: dict,
                work: Callable[[], Chapter]) -> Chapter:
        taken, names = shared["taken"], shared["names"]
        entry = (frozenset(taken), tuple(names.items()))
        found = self.last.get(chapter.id)
        if found is not None and (found.given, found.taken, found.names) == (
                chapter, *entry) and all(self.known.get(name) == fingerprint
                                         for name, fingerprint in found.read):
            taken.update(found.ids)
            names.update(found.new_names)
            shared["warnings"].extend(found.warnings)
            shared["cross_references"].extend(found.references)
            shared["title_links"].extend(found.title_links)
            self.now[chapter.id] = found
            return found.result
        warned, referred = len(shared["warnings"]), len(shared["cross_references"])
        titled = len(shared["title_links"])
        result = work()
        read = tuple(sorted({f"book/{name}": self.known.get(f"book/{name}") for name in (
            *(image.original for image in result.images),
            *(name for name, _ in result.includes))}.items()))
        if any(fingerprint is None for _, fingerprint in read):
            return result          # a file the plan did not take: converted every time
        given = set(entry[1])
        self.now[chapter.id] = _Converted(
            chapter, *entry, result, read, frozenset(taken) - entry[0],
            tuple(item for item in names.items() if item not in given),
            tuple(shared["warnings"][warned:]), tuple(shared["cross_references"][referred:]),
            tuple(shared["title_links"][titled:]))
        return result

    def keep(self) -> None:
        """Every chapter is converted: the next build may take them, once this one has
        written its outputs (``commit``)."""
        _CONVERTED["context"], _CONVERTED["chapters"] = self.context, self.now


def commit() -> None:
    """This build wrote its outputs: the chapters it converted are there for the next."""
    _LAST.update(_CONVERTED)
    _CONVERTED.update(context=None, chapters={})


def kept() -> dict[str, Any]:
    """What the next build may take (``commit``), for a next process (``unitstore``)."""
    return dict(_LAST)


def restore(state: dict[str, Any] | None, forget: bool = False) -> None:
    """Take what a build in another process kept (``kept``), unless this process keeps
    chapters of its own (let go first with ``forget``: a build that is not ``watch``'s)."""
    if forget:
        _LAST.update(context=None, chapters={})
    if _LAST["context"] is None and isinstance(state, dict) and set(state) == set(_LAST):
        _LAST.update(state)
