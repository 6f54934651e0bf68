"""Writing local files safely: whole or not at all, folders made without recursion.

Every output preflight writes to a local disk (prepared images, manifests,
fixed request bodies, packed bodies, file:// URLs) goes through
write_atomically: a temporary file in the same folder, then a rename, so a
reader or an interrupted run never sees half a file.

A run killed outright (kill -9, a power cut) cannot remove its temporary
file. Each is named `.NAME.preflight-XXXXXXXX`, a form no one else uses, so
the first write into a folder in a later run (once per folder per
process) removes those older than STALE_TEMPORARY_SECONDS: no write takes
an hour, so an older one belongs to no run still going, while a younger one
may be another run's, writing now.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

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


TEMPORARY_MARK = ".preflight-"
STALE_TEMPORARY_SECONDS = 3600.0
# mkstemp's names: the prefix, then 8 characters of its alphabet.
_TEMPORARY = re.compile(r"\..+\.preflight-[a-z0-9_]{8}")
_swept: set[str] = set()  # folders already swept by this process


def sweep_stale_temporaries(folder: Path, *, now: float | None = None) -> list[str]:
    """Remove the temporary files of killed runs in `folder` (see the module
    docstring); the names removed. Errors are ignored: a sweep is a courtesy."""
    removed: list[str] = []
    cutoff = (time.time() if now is None else now) - STALE_TEMPORARY_SECONDS
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMPORARY.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _temporary_beside(target: Path) -> tuple[int, str]:
    """A new temporary file in `target`'s folder (made if missing; stale
    temporaries swept once per folder): its descriptor and path."""
    try:
        make_folders(target.parent)
        folder = os.path.abspath(target.parent)
        if folder not in _swept:
            _swept.add(folder)
            sweep_stale_temporaries(target.parent)
        return tempfile.mkstemp(prefix=f".{target.name}{TEMPORARY_MARK}", dir=target.parent)
    except OSError as error:
        raise WriteError(f"{target}: cannot write ({error.strerror or error})") from None


@contextlib.contextmanager
def open_atomically(target: Path) -> Iterator[BinaryIO]:
    """write_atomically for output written as it comes (a report streamed to
    `-o FILE`): the block writes to a temporary file in the same folder,
    renamed to `target` when the block ends, removed if it raises (and the
    exception passes through unchanged)."""
    handle, temporary = _temporary_beside(target)
    out = os.fdopen(handle, "wb")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(out.fileno(), _file_mode())
        yield out  # what the block raises passes through as it is
    except BaseException:
        out.close()
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        out.close()
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise WriteError(f"{target}: cannot write ({error.strerror or error})") from None


def write_atomically(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a temporary file in the same folder
    and a rename: a reader (or an interrupted run) never sees half a file."""
    try:
        make_folders(target.parent)
        folder = os.path.abspath(target.parent)
        if folder not in _swept:
            _swept.add(folder)
            sweep_stale_temporaries(target.parent)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}{TEMPORARY_MARK}", dir=target.parent
        )
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
