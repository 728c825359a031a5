"""The output folder's store of laid-out units: left by a build, taken back by the next build
in a new process, and only when this user's Bindery sealed it.

A build that lays the book out a unit at a time leaves its units in ``.bindery-<slug>.units``
(``pdf/unitstore.py`` makes the bytes). The next build in a new process starts from them, as
``watch`` starts from the units it keeps in memory: after a one-word edit, only the edited
chapter is laid out and painted. It then writes only the units not as the store's base held
them, as edits beside it (``.bindery-<slug>.edits``), while their pages are a quarter of
the book's or fewer: one chapter, not the whole book's units again.

Reading the store unpickles it, which can run any code the file names: a file that came with
a book (an archive, a checkout, a synced or shared folder), or that someone else wrote into
the folder, must never be read. So the build writes a seal beside it,
``.bindery-<slug>.seal``: an HMAC-SHA256 of the base's bytes, and one of the edits', under
a key of this user's (``$XDG_CACHE_HOME/bindery/seal.key``, made once, 32 random bytes,
readable by this user only; the one file Bindery keeps outside the book's folders and the
output folder). No one
without the key can seal a store; a store whose seal does not verify is not read, and the
book is laid out from nothing. Where the key cannot be made or read, no store is written or
read.
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import secrets
from pathlib import Path

from .manifest import store_names
from .outdir import OutputFolder
from .request import BuildRequest

#: The seal's format: the HMAC of the store's base, and of its edits (or null).
SEAL = 3
#: The seal of the base each output folder's store had when this process read it, by
#: (folder, slug): edits written to that base are sealed with it.
_BASES: dict[tuple, str] = {}


def restore(folder: OutputFolder, slug: str, request: BuildRequest) -> None:
    """Give this process's next conversion the chapters, its next layout the units and its
    next site the font subsets that the folder's store holds, when its seal verifies.
    ``watch`` keeps its own once it has some; another build lets go of what its process
    kept; ``--force`` trusts no store."""
    from ..convert import memo
    from ..pdf import units
    from ..pdf.unitstore import first, hyphenation_again

    if request.keep_layout and units.keeps():
        return                 # watch keeps its own, from its first build on
    _BASES.pop((folder.path, slug), None)
    data = None if request.force else _read(folder, slug)
    before = first(data[1] or data[0]) if data is not None else None
    before = before if isinstance(before, dict) else {}
    memo.restore(before.get("memo"), forget=not request.keep_layout)
    if before.get("fonts"):
        from ..site import fonts
        fonts.restore(before["fonts"])
    if before.get("hyphenation"):
        hyphenation_again(before["hyphenation"])
    units.restore(data, forget=not request.keep_layout)


def _read(folder: OutputFolder, slug: str) -> tuple[bytes, bytes | None] | None:
    """The store's base and edits (None: none since the base), when the seal verifies."""
    (store, start), (edits_name, _), (seal_name, _) = store_names(slug).items()
    try:
        seal = json.loads(folder.read(seal_name, 4096) or b"null")
        if not isinstance(seal, dict) or seal.get("seal") != SEAL:
            return None
        data = folder.read(store, 1 << 40)
        edits = folder.read(edits_name, 1 << 40) if seal.get("edits") is not None else None
    except (OSError, ValueError):
        return None
    if not (_verified(data, start, seal.get("units")) and (
            seal.get("edits") is None or _verified(edits, start, seal["edits"]))):
        return None
    _BASES[folder.path, slug] = seal["units"]
    return data, edits


def _verified(data: bytes | None, start: bytes, sealed) -> bool:
    expected = seal_of(data) if data is not None and data.startswith(start) else None
    return (isinstance(sealed, str) and expected is not None
            and hmac.compare_digest(expected, sealed))


def leave(folder: OutputFolder, slug: str) -> None:
    """Store the units this process keeps from its last layout, and seal them: as edits
    to the base it read while few changed, else as a new base. Nothing when it keeps none,
    when there is no key to seal with, or when a file Bindery did not make is in the way.
    A store that cannot be written costs the next build its speed, not this build its
    outputs (written already)."""
    from ..convert import memo
    from ..pdf import units
    from ..pdf.unitstore import hyphenation
    from ..site import fonts

    try:
        if _key() is None:
            return             # nothing to seal with: nothing pickled for nothing
        made = units.stored({"memo": memo.kept(), "fonts": fonts.kept(),
                             "hyphenation": hyphenation()})
        base = _BASES.pop((folder.path, slug), None)
        if made is None or (made[1] and base is None):
            return
        data, edits = made
        sealed = seal_of(data)
        (store, start), (edits_name, _), (seal_name, seal_start) = store_names(slug).items()
        if folder.write_own(edits_name if edits else store, data, start) is not None:
            seal = {"seal": SEAL, "units": base if edits else sealed,
                    "edits": sealed if edits else None}
            folder.write_own(seal_name, json.dumps(seal).encode(), seal_start)
    except Exception:            # noqa: BLE001 - see above
        return


def seal_of(data: bytes) -> str | None:
    """The HMAC-SHA256 of ``data`` under this user's key; None without a key."""
    key = _key()
    return hmac.new(key, data, "sha256").hexdigest() if key is not None else None


@functools.cache
def _key() -> bytes | None:
    """This user's sealing key, made the first time (atomically: builds may start
    together); None when it cannot be made or read, or others could read it."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bindery"
    path = folder / "seal.key"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            temporary = folder / f".seal.key.{os.getpid()}"
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o600)
            try:
                os.write(handle, secrets.token_bytes(32))
                os.fsync(handle)
            finally:
                os.close(handle)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass                 # another build made it first: theirs is the key
            finally:
                os.unlink(temporary)
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            status, key = os.fstat(handle), os.read(handle, 64)
        finally:
            os.close(handle)
    except (OSError, RuntimeError):      # RuntimeError: no home folder
        return None
    if status.st_uid != os.getuid() or status.st_mode & 0o077 or len(key) != 32:
        return None
    return key
