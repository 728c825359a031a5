"""An EPUB -> DAISY Ace's accessibility verdict (when Ace and Chromium are installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .epubcheck import CheckUnavailable


@dataclass
class AceResult:
    path: Path
    outcome: str
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"Ace: {len(self.violations)} violations ({self.outcome})"


def ace_command() -> list[str]:
    """How to run DAISY Ace here: the command in ``BINDERY_ACE``, else ``ace`` or ``ace-cli``
    on the PATH (``tests/tools/install`` puts one in ``tests/tools/node_modules/.bin``)."""
    configured = os.environ.get("BINDERY_ACE")
    if configured:
        return [configured]
    for name in ("ace", "ace-cli"):
        found = shutil.which(name)
        if found:
            return [found]
    raise CheckUnavailable("DAISY Ace is not installed (run tests/tools/install, then put "
                           "tests/tools/node_modules/.bin on the PATH or set BINDERY_ACE)")


def run_ace(path: Path) -> AceResult:
    """DAISY Ace's verdict on an EPUB: every violation, with its impact and rule."""
    command = ace_command()
    env = dict(os.environ)
    if "PUPPETEER_EXECUTABLE_PATH" not in env:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            raise CheckUnavailable("DAISY Ace needs Chromium (`chromium` not found)")
        env["PUPPETEER_EXECUTABLE_PATH"] = chromium
    with tempfile.TemporaryDirectory(prefix="bindery-ace-") as out:
        done = subprocess.run([*command, "--silent", "--force", "--outdir", out, str(path)],
                              capture_output=True, text=True, env=env, timeout=600)
        report = Path(out) / "report.json"
        if not report.exists():
            raise CheckUnavailable(f"Ace did not run: {(done.stderr or done.stdout)[-400:]}")
        data = json.loads(report.read_text("utf-8"))
    violations = []
    for subject in data.get("assertions", []):
        url = subject.get("earl:testSubject", {}).get("url", "")
        for assertion in subject.get("assertions", []):
            if assertion["earl:result"]["earl:outcome"] == "fail":
                test = assertion["earl:test"]
                violations.append(f"{test['earl:impact']} {test['dct:title']} in {url}: "
                                  f"{assertion['earl:result'].get('dct:description', '')}")
    return AceResult(path=path, outcome=data["earl:result"]["earl:outcome"],
                     violations=violations)
