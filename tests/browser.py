"""A real browser for the tests: Debian's Chromium (tests/tools/install), driven by
Playwright, and a static file server on 127.0.0.1 for the pages it opens."""

from __future__ import annotations

import functools
import shutil
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helpers import ROOT

#: Where the suite leaves screenshots for a person to look at (not committed).
SCREENSHOTS = ROOT / "tests" / "output"
TOOLS = ROOT / "tests" / "tools" / "node_modules"

#: Chromium as root in a container, with nothing reaching the network on its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "tests/tools/install installs Debian's chromium"
    return path


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=chromium_path(),
                                            args=CHROMIUM_ARGS)
        try:
            yield chrome
        finally:
            chrome.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".mjs": "text/javascript", ".xhtml": "application/xhtml+xml",
                      ".epub": "application/epub+zip", ".woff2": "font/woff2",
                      ".xml": "application/xml"}
    requested: list = []

    def log_message(self, *args) -> None:
        pass

    def send_response(self, code, message=None):
        self.requested.append((self.path, code))
        super().send_response(code, message)


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on a free port of 127.0.0.1; yields its base URL and the requests
    made, as ``(path, status)``."""
    requested: list = []
    handler = type("Handler", (_QuietHandler,), {"requested": requested})
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()
