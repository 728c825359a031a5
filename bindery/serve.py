"""The site folder -> http://127.0.0.1:PORT/, rebuilt on every change (``watch``), and each
open page reloaded once a rebuild is in place.

Built on the standard library's HTTP server: it serves the files of the site folder and
nothing else, on the loopback address only. The pages on disk are the published ones; as
they are served, one line of script is added before ``</body>``: it listens to
``/_bindery/events`` (server-sent events) and reloads the page when a build has finished.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from .errors import BookError, display_path

EVENTS = "/_bindery/events"
_RELOAD = (f'<script>new EventSource("{EVENTS}").onmessage = () => location.reload();'
           "</script>\n").encode()


class Builds:
    """How many builds have finished; the event stream waits on it."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()
        self.stopping = False

    def finished(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()


class _Handler(SimpleHTTPRequestHandler):
    builds: Builds

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".epub": "application/epub+zip", ".woff2": "font/woff2",
                      ".xml": "application/xml", ".js": "text/javascript"}

    def log_message(self, *args) -> None:
        pass                                   # the terminal shows builds, not requests

    def do_GET(self) -> None:
        if self.path == EVENTS:
            self._events()
            return
        path = Path(self.translate_path(self.path))
        if not path.resolve().is_relative_to(Path(self.directory).resolve()):
            self.send_error(404)              # a link out of the site is not followed
            return
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if path.suffix == ".html" and path.is_file():
            self._page(path)
            return
        super().do_GET()                     # other files, and /read -> /read/ redirects

    def _page(self, path: Path) -> None:
        body = path.read_bytes()
        end = body.rfind(b"</body>")
        body = body[:end] + _RELOAD + body[end:] if end >= 0 else body + _RELOAD
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        builds = self.builds
        with builds.changed:
            seen = builds.count
        try:
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while True:
                with builds.changed:
                    builds.changed.wait_for(lambda: builds.count != seen or builds.stopping,
                                            timeout=15)
                    if builds.stopping:
                        return
                    fresh, seen = builds.count != seen, builds.count
                self.wfile.write(b"data: reload\n\n" if fresh else b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def start(site: Path, port: int, builds: Builds) -> ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1:``port`` (0: any free port) from a thread."""
    handler = type("Handler", (_Handler,), {"builds": builds})
    server = ThreadingHTTPServer(("127.0.0.1", port),
                                 functools.partial(handler, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="bindery-serve", daemon=True).start()
    return server


def serve_book(book_dir: Path, out_dir: Path, port: int, rebuild: Callable[[], object],
               say: Callable[[str], None], fail: Callable[[str], None]) -> None:
    """Serve the book's site and rebuild it on every change, until Ctrl-C."""
    from .builder.fingerprint import identity_of, read_book_toml
    from .builder.outputs import OUTPUTS
    from .watch import watch

    data = read_book_toml(book_dir)
    identity = identity_of(data) if data is not None else None
    if identity is None:
        raise BookError("cannot read the book's slug", book_dir / "book.toml",
                        hint="bindery build shows what is wrong")
    site = out_dir / OUTPUTS["site"].file_name(identity.slug)
    builds = Builds()
    try:
        server = start(site, port, builds)
    except OSError as error:
        raise BookError(f"cannot serve on 127.0.0.1:{port}: {error.strerror}",
                        hint="give another --port") from None

    def build() -> None:
        rebuild()
        builds.finished()

    say(f"serving {display_path(site)} on http://127.0.0.1:{server.server_address[1]}/ "
        f"(Ctrl-C to stop)")
    try:
        watch(book_dir, out_dir, build, say=say, fail=fail)
    except KeyboardInterrupt:
        pass
    finally:
        builds.stop()
        server.shutdown()
        server.server_close()
