"""An EPUB -> AZW3 (Kindle's own format) through calibre's ``ebook-convert``, when calibre is
installed; Bindery never depends on it. Send to Kindle takes the EPUB itself, so this is for
a Kindle loaded over USB, or a store that wants AZW3.

The conversion runs in a temporary folder of its own, with no network use of calibre's
(``ebook-convert`` reads the EPUB and writes the AZW3, nothing else). Its bytes are
calibre's: they are reproducible only as far as calibre's are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import BookError

#: How long calibre may take on one book.
TIMEOUT_SECONDS = 600


def make_azw3(epub: bytes, slug: str) -> bytes:
    """The AZW3 calibre makes of ``epub``; a BookError when calibre is missing or fails."""
    program = shutil.which("ebook-convert")
    if program is None:
        raise BookError("--format azw3 needs calibre's ebook-convert on the PATH, and there "
                        "is none", hint="install calibre, or send the EPUB to Kindle as it is")
    with tempfile.TemporaryDirectory(prefix="bindery-azw3-") as folder:
        source, target = Path(folder) / f"{slug}.epub", Path(folder) / f"{slug}.azw3"
        source.write_bytes(epub)
        environment = {**os.environ, "CALIBRE_CONFIG_DIRECTORY": str(Path(folder) / "config"),
                       "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-background-networking"}
        try:
            done = subprocess.run([program, str(source), str(target)], cwd=folder,
                                  env=environment, capture_output=True, text=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise BookError(f"ebook-convert took more than {TIMEOUT_SECONDS} s") from None
        if done.returncode != 0 or not target.is_file():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
            raise BookError(f"ebook-convert could not make the AZW3: {last[0]}")
        return target.read_bytes()
