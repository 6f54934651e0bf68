"""Writing local files safely: whole or not at all, folders made without recursion.

Every output preflight writes to a local disk (prepared images, manifests,
fixed request bodies, packed bodies, file:// URLs) goes through
write_atomically: a temporary file in the same folder, then a rename, so a
reader or an interrupted run never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from preflight.errors import WriteError


def _file_mode() -> int:
    """The mode a plain open() would give a new file: 0o666 less the umask
    (mkstemp makes 0o600 files, which other users of the output could not read)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def make_folders(folder: Path) -> None:
    """mkdir -p without recursion (os.makedirs and Path.mkdir(parents=True)
    recurse once per level, and overflow the stack in a deep output tree)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for step in reversed(missing):
        try:
            step.mkdir()
        except FileExistsError:
            if not step.is_dir():
                raise


def write_atomically(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a temporary file in the same folder
    and a rename: a reader (or an interrupted run) never sees half a file."""
    try:
        make_folders(target.parent)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise WriteError(f"{target}: cannot write ({error.strerror or error})") from None
    try:
        with os.fdopen(handle, "wb") as out:
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), _file_mode())
            out.write(data)
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise WriteError(f"{target}: cannot write ({error.strerror or error})") from None
        raise
