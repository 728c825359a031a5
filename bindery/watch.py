"""Changed sources -> rebuilt outputs, until Ctrl-C: the book folder, templates and styles.

Changes that come together (an editor's save-and-rename) are one rebuild. A broken source
is reported with the same one-line error as `bindery build`, and the last good outputs stay
in place; fixing the file rebuilds.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Callable

from .errors import BookError, display_path
from .paths import within
from .resources import STYLES, TEMPLATES

#: Files editors and tools leave beside the sources; they are not sources.
_IGNORED_SUFFIXES = (".tmp", ".swp", ".swx", ".part", "~", ".pyc")


def _source_filter(out_dir: Path):
    from watchfiles import DefaultFilter

    out = out_dir

    class Sources(DefaultFilter):
        def __call__(self, change, path: str) -> bool:
            name = Path(path).name
            if name.startswith((".", "#")) or name.endswith(_IGNORED_SUFFIXES):
                return False
            if within(path, out):
                return False
            return super().__call__(change, path)

    return Sources()


def watch(book_dir: Path, out_dir: Path, rebuild: Callable[[], object],
          say: Callable[[str], None], fail: Callable[[str], None],
          stop_event=None) -> None:
    """Build, then rebuild after every change, until interrupted (or ``stop_event`` set)."""
    from watchfiles import watch as changes_in

    def attempt() -> None:
        try:
            rebuild()          # prints the outputs it rebuilt and how long it took
        except BookError as error:
            fail(f"error: {error}")
            say("the last good outputs are unchanged; fix the file and save to rebuild")

    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # we say what happens ourselves
    attempt()
    built = True
    folders = [path for path in (book_dir, TEMPLATES, STYLES) if path.is_dir()]
    watching = False
    # The watcher yields an empty batch when it has waited half a second: by then it is
    # running, so "watching" is said only once an edit can no longer slip past it.
    for changes in changes_in(*folders, watch_filter=_source_filter(out_dir), debounce=300,
                              step=50, raise_interrupt=False, stop_event=stop_event,
                              yield_on_timeout=True, rust_timeout=500):
        if not watching:
            say("watching " + ", ".join(display_path(path) for path in folders)
                + " (Ctrl-C to stop)")
            watching = True
        if not changes:
            if built:
                idle()
                built = False
            continue
        # An editor's temporary files come and go within one batch: name what is left.
        paths = {path for _, path in changes}
        names = sorted(display_path(path) for path in paths if Path(path).exists()) or sorted(
            f"{display_path(path)} (deleted)" for path in paths)
        say("changed: " + ", ".join(names))
        attempt()
        built = True


def idle() -> None:
    """What watch does once a build is done and no change has come for half a second:
    collect the last build's garbage. A build that keeps its layout for the next one leaves
    the units it laid out again, whose objects refer to each other; the collector then found
    them in the middle of every second build, walking the whole kept layout (the long book:
    0.45 s of a 2 s rebuild)."""
    gc.collect()
