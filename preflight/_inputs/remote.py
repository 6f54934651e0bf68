"""Object storage as a transport: fsspec URLs read by range, written, and listed.

For example s3://, gs://, az://, file://, memory:// (http(s):// objects are
read by http.py; fsspec lists their folders here). Rules:
- fsspec and the cloud file systems are optional extras, imported inside
  the functions here, never at `import preflight`; a protocol whose package
  is missing is a MissingExtraError (a UsageError) naming the pip extra;
- RemoteInput is an Input (input.py): ranged reads; several ranges in one
  call, which an async file system sends concurrently (one round trip); the
  size from the listing when the caller has it, else from one info call.
  What is read, and the decisions, are probe's, the same as for a local file;
- a missing object, no permission or a network failure is a SourceError
  naming the URL (inspect: an `unreadable` finding), whatever the file
  system raised: third-party file systems raise their own exception types;
- writes are atomic where the file system allows (write_url);
- this module imports nothing above the inputs layer.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from preflight._core.formats import IMAGE_EXTENSIONS
from preflight._core.headers import FIRST_READ
from preflight._inputs.input import Input
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


class RemoteInput(Input):
    """An object in any fsspec file system (s3, gs, az, memory, file, ...):
    ranged reads through the file system, the size from the listing when
    the caller has it, else from one info call."""

    whole_read = WHOLE_READ

    def __init__(self, url: str, size: int | None = None) -> None:
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise InvalidArgumentError(f"size must be a whole number of bytes, got {size!r}")
        self.name = url
        self.fs, self.path = open_url(url)  # a missing extra is the caller's to fix: it raises
        self._size = size
        self.fetched = 0  # bytes the reads returned, for the run's totals

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = object_size(self.name, self.fs, self.path)
        return self._size

    def read(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if end <= start:
            return b""
        data = bytes(fetching(self.name, lambda: self.fs.cat_file(self.path, start=start, end=end)))
        self.fetched += len(data)
        return data

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        # One call: an async file system (S3, GCS, Azure) sends the requests
        # concurrently, one round trip.
        size = self.size
        clipped = [(min(start, size), min(end, size)) for start, end in ranges]
        got = fetching(
            self.name,
            lambda: self.fs.cat_ranges(
                [self.path] * len(clipped), [a for a, _ in clipped], [b for _, b in clipped]
            ),
        )
        for part in got:
            if isinstance(part, BaseException):  # a file system that returns its errors
                fetching(self.name, partial(raise_from_fs, part))
        parts = [bytes(part) for part in got]
        self.fetched += sum(len(part) for part in parts)
        return parts


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
    name = posixpath.basename(url.split("://", 1)[1].rstrip("/")) or url
    if scheme(url) in ("http", "https") and not url.endswith("/"):
        # One object: no metadata request (its first ranged read tells its
        # size), and no extra is needed to read it (http.py).
        return [RemoteFile(url, name, None)]
    fs, path = open_url(url)
    if scheme(url) in ("http", "https"):
        found: dict[str, object] = {"type": "directory"}  # a listing page: walk its links
    else:
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
