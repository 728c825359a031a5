"""What a build tells its caller: progress while it runs, a report when it is done."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import BookWarning


@dataclass(frozen=True)
class Output:
    """One output of a build: made now (``rebuilt``) or left as it was."""

    format: str
    path: Path
    size: int
    seconds: float
    rebuilt: bool = True
    reason: str = ""          # why it was rebuilt: the inputs that changed
    alongside: bool = False   # made in a second process while this one made the others


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)
    warnings: list[BookWarning | str] = field(default_factory=list)
    pages: int | None = None
    seconds: float = 0.0
    laid_out: bool = False
    stages: list[tuple[str, float]] = field(default_factory=list)   # wall time per stage
    typography: list | None = None     # the proof's findings (pdf/proof.py), when laid out

    @property
    def rebuilt(self) -> list[str]:
        return [output.format for output in self.outputs if output.rebuilt]


class Progress:
    """What a build tells its caller while it runs; the CLI prints it."""

    def stage(self, name: str, seconds: float) -> None:
        pass

    def starting(self, name: str) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass


class Clock:
    """Times the stages of a build, tells ``progress`` and keeps them for the report."""

    def __init__(self, progress: Progress, report: BuildReport):
        self.progress = progress
        self.report = report

    def timed(self, name: str, work: Callable[[], Any]) -> tuple[Any, float]:
        self.progress.starting(name)
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        self.progress.stage(name, seconds)
        self.report.stages.append((name, seconds))
        return result, seconds

    def stage(self, name: str, work: Callable[[], Any]) -> Any:
        return self.timed(name, work)[0]
