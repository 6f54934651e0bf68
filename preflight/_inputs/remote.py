"""Images in object storage: any fsspec URL as a source, and as a place to write to.

For example s3://, gs://, az://, http(s)://, file://, memory://.

Rules:
- fsspec and the cloud file systems are optional extras, imported inside
  the functions here, never at `import preflight`; a protocol whose package
  is missing is a MissingExtraError (a UsageError) naming the pip extra;
- probing reads only header bytes, by range: the first FIRST_READ bytes and
  the last TAIL_READ (the end check) in one concurrent round trip (a small
  object in one request, whole), then only the missing part of the longer
  prefix the parser asks for (NeedMore). The size comes from the listing
  when the caller has it, else from one info call (HEAD: no body);
- the decisions are the local path's: the same parser, the same end check,
  the same settling of a JPEG without its end marker (read whole, within
  the parser's budget);
- a missing object, no permission or a network failure is a SourceError
  naming the URL (inspect: an `unreadable` finding), whatever the file
  system raised: third-party file systems raise their own exception types;
- whole reads (prepare, check --decode) are bounded by preflight._inputs.sources'
  stream bound; writes are atomic where the file system allows (write_url).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from preflight._core.budgets import MAX_STREAM_BYTES
from preflight._core.formats import IMAGE_EXTENSIONS
from preflight._core.headers import FIRST_READ
from preflight._inputs.writing import write_atomically
from preflight.errors import (
    InvalidArgumentError,
    MissingExtraError,
    PreflightError,
    SourceError,
    WriteError,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# A scheme of two letters or more: "C://x" stays a Windows drive path.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")

# The pip extra that brings each protocol's file system (pyproject.toml).
EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
    "http": "remote",
    "https": "remote",
}

# An object this small is read whole in one request: one round trip of at
# most 8 KiB costs less than two of 4 KiB and 64 bytes.
WHOLE_READ = 2 * FIRST_READ

# Protocols where one write creates the object whole (an object store's PUT
# or upload), or the object appears in one step (memory).
_ATOMIC_PUT = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})

T = TypeVar("T")


def is_url(source: object) -> bool:
    """A string with a URL scheme (`scheme://`): read through fsspec."""
    return type(source) is str and _URL.match(source) is not None


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def open_url(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec file system for `url`, and the path within it. Credentials
    come from fsspec's own configuration and the cloud libraries' (see
    docs/remote.md)."""
    if not is_url(url):
        raise InvalidArgumentError(f"{url!r} is not a URL (scheme://...)")
    extra = EXTRAS.get(scheme(url), "remote")
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise MissingExtraError(
            f"{url}: reading URLs needs fsspec: pip install 'preflight[remote]'"
        ) from None
    try:
        fs, path = url_to_fs(url)
    except ImportError as error:
        raise MissingExtraError(
            f"{url}: the {scheme(url)}:// file system is not installed ({error}): "
            f"pip install 'preflight[{extra}]'"
        ) from None
    except ValueError as error:  # "Protocol not known"
        raise InvalidArgumentError(f"{url}: {error}") from None
    return fs, path


def fetching(url: str, call: Callable[[], T]) -> T:
    """Run one file-system call; whatever it raises is about the source."""
    try:
        return call()
    except PreflightError:
        raise
    except FileNotFoundError:
        raise SourceError(f"{url}: no such object") from None
    except PermissionError:
        raise SourceError(f"{url}: permission denied") from None
    except IsADirectoryError:
        raise SourceError(f"{url}: is a directory (a prefix)") from None
    except Exception as error:
        # aiohttp, botocore, google-auth, azure-core... each has its own types.
        detail = str(error) or type(error).__name__
        raise SourceError(f"{url}: cannot read ({detail})") from None


def object_size(url: str, fs: AbstractFileSystem | None = None, path: str | None = None) -> int:
    """The size of the object at `url`, from one info call (HTTP: a HEAD)."""
    if fs is None or path is None:
        fs, path = open_url(url)
    found = fetching(url, lambda: fs.info(path))
    if found.get("type") == "directory":
        raise SourceError(f"{url}: is a directory (a prefix)")
    size = found.get("size")
    if not isinstance(size, int) or size < 0:
        raise SourceError(f"{url}: the server does not say how large the object is")
    return size


def raise_from_fs(error: BaseException) -> None:
    raise error


def read_url(url: str, *, size: int | None = None, limit: int | None = None) -> bytes:
    """The whole object at `url`, within `limit` bytes (default: the bound
    preflight._inputs.sources puts on what it reads into memory)."""
    bound = MAX_STREAM_BYTES if limit is None else limit
    fs, path = open_url(url)
    if size is None:
        size = object_size(url, fs, path)
    if size > bound:
        raise SourceError(
            f"{url}: {size:,} bytes, over the {bound >> 20} MiB preflight reads into memory"
        )
    return bytes(fetching(url, lambda: fs.cat_file(path, start=0, end=size) if size else b""))


def write_url(url: str, data: bytes) -> bool:
    """Write `data` to `url`. Atomic where the file system allows it: a local
    file (file://) through a temporary file and a rename; an object store
    (s3, gs, az) and memory:// in one put, which creates the object whole.
    Elsewhere (sftp, ftp, webdav, ...) a plain write, which a failure may
    leave half done. Returns whether the write was atomic."""
    fs, path = open_url(url)
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    try:
        if "file" in protocols or "local" in protocols:
            write_atomically(Path(path), data)
            return True
        parent = posixpath.dirname(path.rstrip("/"))
        if parent and "memory" in protocols:
            fs.makedirs(parent, exist_ok=True)
        fs.pipe_file(path, data)
    except PreflightError:
        raise
    except Exception as error:  # the file system's own types: see fetching
        detail = str(error) or type(error).__name__
        raise WriteError(f"{url}: cannot write ({detail})") from None
    return bool(protocols & _ATOMIC_PUT)


@dataclass(frozen=True)
class RemoteFile:
    """One object found under a URL: its URL, its path relative to the URL
    walked (where prepare puts its output), and its size from the listing."""

    url: str
    relative: str
    size: int | None


def walk_url(url: str, *, every_file: bool = False) -> list[RemoteFile]:
    """The objects under a directory-like URL (a prefix), by the file
    system's own listing, image extensions only unless `every_file`, sorted
    by relative path; a URL naming one object is that object; a URL that
    cannot be listed is returned as is (probing it reports why)."""
    fs, path = open_url(url)
    name = posixpath.basename(path.rstrip("/")) or path
    try:
        found = fs.info(path)
    except Exception:  # missing, no permission, offline: probe says which
        return [RemoteFile(url, name, None)]
    if found.get("type") != "directory":
        size = found.get("size")
        return [RemoteFile(url, name, size if isinstance(size, int) else None)]
    listing = fetching(url, lambda: fs.find(path, detail=True))
    root = fs._strip_protocol(path).rstrip("/")
    base = url.rstrip("/")
    files: list[RemoteFile] = []
    for key, entry in listing.items():
        if entry.get("type", "file") != "file":
            continue
        relative = key[len(root) + 1 :] if key.startswith(root + "/") else posixpath.basename(key)
        if not every_file and os.path.splitext(relative)[1].lower() not in IMAGE_EXTENSIONS:
            continue
        size = entry.get("size")
        files.append(
            RemoteFile(f"{base}/{relative}", relative, size if isinstance(size, int) else None)
        )
    files.sort(key=lambda f: f.relative)
    return files


def expand_sources(paths: Iterable[str], *, every_file: bool = False) -> Iterator[str | RemoteFile]:
    """What `check` and `prepare` take from their arguments: each URL walked
    (walk_url), each local directory walked by extension, other paths as
    they are (a missing path becomes an `unreadable` finding)."""
    from pathlib import Path

    for text in paths:
        if is_url(text):
            yield from walk_url(text, every_file=every_file)
        elif os.path.isdir(text):
            from preflight._inputs.walking import walk_files

            yield from map(str, walk_files(Path(text), every_file))
        else:
            yield text
