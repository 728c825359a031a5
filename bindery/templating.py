"""Book templates -> a Jinja environment that cannot reach the machine.

A book may bring its own templates, so they are untrusted code. They run in Jinja's sandbox
with autoescaping and undefined variables as errors, and more: they receive plain immutable
records (``plain``), never paths, files or modules; attribute access is an allow-list; and
each rendering has a budget of time, output size and memory. A template that breaks a rule
is an error naming the template and its line.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import resource
import threading
from collections.abc import Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, Iterator

import jinja2
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup

#: How long one template may run, and how much it may write.
SECONDS = 10.0
OUTPUT_BYTES = 64 * 1024 * 1024
#: The largest number a template may pass to a function or a filter, or repeat a text by.
LARGEST = 1_000_000
#: How much more memory the process may take while a template runs.
MEMORY_BYTES = 4 * 1024 ** 3

#: What a template may call on a text: nothing that reaches the machine or grows it much.
_TEXT_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "format", "index", "isalnum",
    "isalpha", "isdigit", "islower", "isspace", "istitle", "isupper", "join", "lower",
    "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
    "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip",
    "swapcase", "title", "upper", "striptags", "unescape"})
_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
_SEQUENCE_METHODS = frozenset({"count", "index"})
_LOOP = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                   "depth", "depth0", "previtem", "nextitem", "cycle", "changed"})


class BudgetExceeded(Exception):
    """A template ran too long, wrote too much or asked for too much memory."""


class Record(Mapping):
    """An immutable record of plain values: what a template sees of a book, a chapter..."""

    __slots__ = ("_fields", "_kind")

    def __init__(self, kind: str, fields: dict[str, Any]):
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_fields", MappingProxyType(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{self._kind} has no `{name}`") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a record cannot be changed")

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"<{self._kind}>"


def plain(value: Any) -> Any:
    """``value`` as templates may see it: texts, numbers, tuples, mappings and records of
    them. Paths are left out (a template has no business with files), and so is anything
    else that is not plain data: a dataclass becomes a Record of its fields and properties."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value          # Markup is a str
    if isinstance(value, (tuple, list)):
        return tuple(plain(item) for item in value if not isinstance(item, PurePath))
    if isinstance(value, Mapping) and not isinstance(value, Record):
        return MappingProxyType({str(key): plain(item) for key, item in value.items()
                                 if not isinstance(item, PurePath)})
    if isinstance(value, Record):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)
                  if field.compare or field.name != "warnings"}
        for name, member in vars(type(value)).items():
            if isinstance(member, property):
                fields[name] = getattr(value, name)
        return _record_class(type(value).__name__)(type(value).__name__, {
            name: plain(item) for name, item in fields.items()
            if not isinstance(item, PurePath) and name != "warnings"})
    raise TypeError(f"templates get plain data, not {type(value).__name__}")


@functools.lru_cache(maxsize=None)
def _record_class(kind: str) -> type:
    """A Record subclass named after what it holds, so that a template error reads
    "'Book object' has no attribute 'root'"."""
    return type(kind, (Record,), {"__slots__": (), "__module__": "builtins"})


class BookEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with an allow-list of attributes and a budget for every call."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        if isinstance(obj, Record):
            return attr in obj
        if isinstance(obj, str):
            return attr in _TEXT_METHODS
        if isinstance(obj, Mapping):
            return attr in _MAPPING_METHODS
        if isinstance(obj, (tuple, list)):
            return attr in _SEQUENCE_METHODS
        if isinstance(obj, LoopContext):
            return attr in _LOOP
        return False

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        _check_numbers(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise BudgetExceeded("a power larger than 64 is more than a template needs")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if (isinstance(sized, (str, tuple, list)) and isinstance(count, int)
                        and len(sized) * count > LARGEST):
                    raise BudgetExceeded(f"repeating something {count} times makes more "
                                         f"than {LARGEST:,} items")
        if operator == "+" and isinstance(left, (str, tuple, list)) and isinstance(
                right, (str, tuple, list)) and len(left) + len(right) > OUTPUT_BYTES:
            raise BudgetExceeded("joining these makes more than a template may write")
        return super().call_binop(context, operator, left, right)


def _check_numbers(args, kwargs) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST:
            raise BudgetExceeded(f"the number {value} is larger than a template needs "
                                 f"(at most {LARGEST:,})")


def _guarded(function):
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        _check_numbers(args, kwargs)
        return function(*args, **kwargs)
    return guarded


def make_environment(loader: jinja2.BaseLoader) -> BookEnvironment:
    env = BookEnvironment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=True)
    env.filters = {name: _guarded(function) for name, function in env.filters.items()}
    env.tests = {name: _guarded(function) for name, function in env.tests.items()}
    return env


def render_within_budget(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render ``template``, stopping it when it runs too long, writes too much or takes
    too much memory."""
    context = {name: plain(value) for name, value in context.items()}
    with _memory_budget(), _time_budget():
        pieces, size = [], 0
        for piece in template.generate(**context):
            size += len(piece)
            if size > OUTPUT_BYTES:
                raise BudgetExceeded(f"the template writes more than "
                                     f"{OUTPUT_BYTES // 1024 ** 2} MiB")
            pieces.append(piece)
    return "".join(pieces)


class _time_budget:
    """Raises BudgetExceeded in the rendering thread when the time is up.

    A watchdog thread injects the exception (CPython's PyThreadState_SetAsyncExc), so that
    even a loop that calls nothing is stopped; it is never injected after the rendering
    has ended.
    """

    def __enter__(self):
        self._lock = threading.Lock()
        self._running = True
        self._fired = False
        self._thread_id = threading.get_ident()
        self._timer = threading.Timer(SECONDS, self._stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _stop(self) -> None:
        with self._lock:
            if self._running:
                self._fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread_id), ctypes.py_object(_TimeUp))

    def __exit__(self, kind, error, traceback):
        self._timer.cancel()
        with self._lock:
            self._running = False
        if kind is _TimeUp:     # keep the traceback: it names the template and line
            raise BudgetExceeded(f"the template runs longer than {SECONDS:g} s"
                                 ).with_traceback(traceback) from None
        if self._fired and kind is not None:
            # Stopped where Jinja could not map the place back to the template (its
            # traceback rewriting failed): name the template that ran, without a line.
            stopped = BudgetExceeded(f"the template runs longer than {SECONDS:g} s")
            stopped.template_places = _template_places(error)
            raise stopped from None
        return False


class _TimeUp(Exception):
    pass


def _template_places(error: BaseException) -> list[tuple[str, int | None]]:
    """The template files, with their lines, running when ``error`` (or what it arose from)
    was raised; found in the frames of Jinja's compiled templates, whose line in the Python
    code Jinja maps back to the template (``get_corresponding_lineno``)."""
    places = []
    while error is not None:
        tb = error.__traceback__
        while tb is not None:
            template = tb.tb_frame.f_globals.get("__jinja_template__")
            if template is not None and template.filename:
                line = _python_line(tb)
                places.append((template.filename, template.get_corresponding_lineno(line)
                               if line is not None else None))
            tb = tb.tb_next
        error = error.__context__
    return places


def _python_line(tb) -> int | None:
    """The line of a traceback entry; where Python records none for the very instruction
    (as for an exception raised from another thread), the nearest one before it."""
    if tb.tb_lineno is not None:
        return tb.tb_lineno
    positions = list(tb.tb_frame.f_code.co_positions())
    for index in range(min(tb.tb_lasti // 2, len(positions) - 1), -1, -1):
        if positions[index][0] is not None:
            return positions[index][0]
    return None


class _memory_budget:
    """A ceiling on the process's address space while a template runs (where the system
    allows one), so that a template cannot make the machine swap."""

    def __enter__(self):
        self._saved = None
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            with open("/proc/self/statm") as statm:
                used = int(statm.read().split()[0]) * resource.getpagesize()
            ceiling = used + MEMORY_BYTES
            if (soft == resource.RLIM_INFINITY or soft > ceiling) and (
                    hard == resource.RLIM_INFINITY or hard >= ceiling):
                resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
                self._saved = (soft, hard)
        except (OSError, ValueError):
            pass
        return self

    def __exit__(self, kind, error, traceback):
        if self._saved is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._saved)
        if kind is MemoryError:
            raise BudgetExceeded("the template needs more memory than a book may take"
                                 ).with_traceback(traceback) from None
        return False


__all__ = ["BookEnvironment", "BudgetExceeded", "Markup", "Record", "SecurityError",
           "make_environment", "plain", "render_within_budget"]
