"""The output folder's store of laid-out units: left by a build, taken back by the next build
in a new process, and only when it is the very file this machine's Bindery wrote.

A build that lays the book out a unit at a time leaves its units in ``.bindery-<slug>.units``
(``pdf/unitstore.py`` makes the bytes). The next build in a new process starts from them, as
``watch`` starts from the units it keeps in memory: after a one-word edit, only the edited
chapter is laid out and painted.

Reading the store unpickles it, which can run any code the file names: a file that came with
a book (an archive, a checkout, a synced folder) must never be read. So the build writes a
seal beside it, ``.bindery-<slug>.seal``: the store's device, inode, size, change time and
SHA-256. The change time (``st_ctime``) is set by the system on every write, copy, extraction
or rename, and no program can set it back: a file not written by the build that wrote the
seal cannot match it, whatever the seal says. A store that does not match is not read, and
the build lays the book out from nothing.
"""

from __future__ import annotations

import hashlib
import json

from .manifest import store_names
from .outdir import OutputFolder
from .request import BuildRequest

#: What the seal records of the store, from ``os.stat``.
_SEALED = ("st_dev", "st_ino", "st_size", "st_ctime_ns")


def restore(folder: OutputFolder, slug: str, request: BuildRequest) -> bool:
    """Give the next layout of this process the units the folder's store holds, when its
    seal vouches for it; whether it did. ``watch`` keeps its own units once it has some;
    another build lets go of what its process kept, and ``--force`` trusts no store."""
    from ..pdf import units

    return units.restore(lambda: None if request.force else _read(folder, slug),
                         forget=not request.keep_layout)


def _read(folder: OutputFolder, slug: str) -> bytes | None:
    (store, start), (seal_name, _) = store_names(slug).items()
    seal = _seal(folder.read(seal_name, 4096))
    if seal is None:
        return None
    data = folder.read(store, 1 << 40, expect=lambda status: [
        getattr(status, field) for field in _SEALED] == seal["stat"])
    if data is None or not data.startswith(start) or (
            hashlib.sha256(data).hexdigest() != seal["sha256"]):
        return None
    return data


def leave(folder: OutputFolder, slug: str) -> None:
    """Store the units this process keeps from its last layout, and seal them; nothing
    when it keeps none, or when a file Bindery did not make is in the way."""
    from ..pdf import units

    data = units.stored()
    if data is None:
        return
    (store, start), (seal_name, seal_start) = store_names(slug).items()
    try:
        status = folder.write_own(store, data, start)
    except OSError:              # a full disk: the outputs are written, the store is not
        return
    if status is not None:
        seal = {"seal": 1, "stat": [getattr(status, field) for field in _SEALED],
                "sha256": hashlib.sha256(data).hexdigest()}
        try:
            folder.write_own(seal_name, json.dumps(seal).encode(), seal_start)
        except OSError:
            return


def _seal(data: bytes | None) -> dict | None:
    try:
        seal = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if (not isinstance(seal, dict) or not isinstance(seal.get("sha256"), str)
            or not isinstance(seal.get("stat"), list) or len(seal["stat"]) != len(_SEALED)):
        return None
    return seal
