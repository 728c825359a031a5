"""Work done beside the build: in a thread (imports, drawing) or in a second process (the
press PDF). ``result()`` waits for it and raises what it raised. ``Shared`` hands out work
either process may do to the first that is free."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

from ..errors import BookError

#: How Pango names its threads (GLib gives a thread's name to the system).
_PANGO = "[pango]"


class Inline:
    """Work done when its result is first asked for (no thread, no second process)."""

    def __init__(self, work: Callable[[], Any]):
        self._work = work
        self._outcome: list = []

    def result(self) -> Any:
        if not self._outcome:
            self._outcome.append(self._work())
        return self._outcome[0]


class Threaded:
    """Work done in a thread; result() waits for it. Used only for work that lets go of the
    interpreter lock (imports that load libraries, drawing), and always finished before a
    second process is forked."""

    def __init__(self, work: Callable[[], Any]):
        self._outcome: list = []

        def run() -> None:
            try:
                self._outcome.append(("ok", work()))
            except BaseException as error:   # noqa: BLE001 - raised again by result()
                self._outcome.append(("error", error))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        status, value = self._outcome[0]
        if status == "error":
            raise value
        return value


class Forked:
    """Work done in a forked child process while this one goes on; the child writes no file,
    it sends its result back through a pipe."""

    def __init__(self, work: Callable[[], Any]):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(work, send, self._receive),
                                        daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            status, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("a build process ended without a result") from None
        finally:
            self._receive.close()
            self._process.join()
        if status == "book-error":
            message, path, line, column, hint = value
            raise BookError(message, path, line, column, hint)
        if status == "error":
            raise RuntimeError(value)
        return value


class Shared:
    """Units of work the build's two processes share: each asks for the next one (``take``)
    when it is free, and each unit is taken once. The count of those taken is in memory
    both processes see, when there is a second process to share it with."""

    def __init__(self, units: list, between_processes: bool):
        self._units = units
        if between_processes and hasattr(os, "fork"):
            import multiprocessing
            self._taken = multiprocessing.get_context("fork").Value("i", 0)
        else:
            self._taken = _Count()

    def take(self) -> Any:
        """The next unit nobody has taken, or None when none is left."""
        with self._taken.get_lock():
            index = self._taken.value
            self._taken.value = min(index + 1, len(self._units))
        return self._units[index] if index < len(self._units) else None


class _Count:
    """A count one process keeps, shaped like ``multiprocessing.Value``."""

    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


def in_thread(work: Callable[[], Any], parallel: bool) -> Threaded | Inline:
    return Threaded(work) if parallel else Inline(work)


def in_process(work: Callable[[], Any], parallel: bool) -> Forked | Inline:
    """In a second process where this system can fork (and may now, ``quiet_for_fork``),
    else here when asked for."""
    if parallel and hasattr(os, "fork") and quiet_for_fork():
        return Forked(work)
    return Inline(work)


def quiet_for_fork(timeout: float = 2.0) -> bool:
    """Whether no thread of Pango's runs in this process, waiting up to ``timeout`` seconds
    for them to end. Pango 1.50 works with fontconfig in threads of its own, named
    "[pango] ..." ("[pango] FcInit" initialises fontconfig), which hold fontconfig's lock
    meanwhile: a process forked then has the lock held and no thread to let it go, and
    its first line of text waits forever (a cold build's second process once did). Where
    threads cannot be listed (no ``/proc``), it cannot tell, and says yes."""
    tasks = f"/proc/{os.getpid()}/task"
    deadline = time.monotonic() + timeout
    while True:
        try:
            names = [_thread_name(f"{tasks}/{task}/comm") for task in os.listdir(tasks)]
        except OSError:
            return True
        if not any(name.startswith(_PANGO) for name in names):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)


def _thread_name(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:                     # the thread ended meanwhile
        return ""


def _child(work, send, receive) -> None:
    # The reading end belongs to the parent: if the parent dies, sending must fail at once
    # rather than fill the pipe and wait forever. And the child dies with its parent.
    receive.close()
    die_with_parent()
    try:
        send.send(("ok", work()))
    except BookError as error:
        send.send(("book-error", (error.message, error.path, error.line, error.column,
                                  error.hint)))
    except BaseException as error:   # noqa: BLE001 - reported by the parent
        send.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        send.close()


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed build leaves none)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass          # not Linux: the child ends when it finds the pipe closed
