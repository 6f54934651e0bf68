"""One way in: every kind of image source opened once, into an `Input`.

`open_input` is called at each public entry (probe, inspect, prepare,
analyze_quality, tile, the batch runs); everything after it takes the
Input and never asks again what kind of source it was. Rules:
- a `str` with a URL scheme is a URL: http(s) through the ranged reader in
  http.py, every other scheme through its fsspec file system (remote.py);
  anything else that is a `str` or `os.PathLike` is a local path;
- a local path to a regular file is opened once and read by range; a pipe,
  FIFO or device is a stream, read once and held (a FIFO waits for its
  writer, as `cat` does); `-` is standard input where the CLI says so
  (`open_input("-")` here is a file named "-", as for `open()`);
- bytes stay bytes; a caller's file object is read where it stands and
  never closed;
- an Input passed in is returned as it is (the caller keeps it open).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from preflight._inputs.http import HttpInput, is_http
from preflight._inputs.input import BytesInput, Input, open_file_object, open_path
from preflight._inputs.remote import RemoteInput, is_url

# What the public entries take: a path, a URL, bytes, a binary file object,
# or an already opened Input.
Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | Input

# What an engine decodes from: a path it opens itself, or the bytes.
SourceData = Path | bytes


def open_input(source: Source, *, size: int | None = None, timeout: float | None = None) -> Input:
    """The Input for `source` (module docstring). `size`: an object's length
    when a listing gave it (a URL then needs no metadata request).
    `timeout`: seconds for each network connect and read (by default
    NETWORK_TIMEOUT, or the PREFLIGHT_TIMEOUT environment variable)."""
    if isinstance(source, Input):
        return source
    if type(source) is str and "://" in source and is_url(source):
        if is_http(source):
            return HttpInput(source, size, timeout)
        return RemoteInput(source, size)
    if isinstance(source, (str, os.PathLike)):
        return open_path(os.fsdecode(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return BytesInput(bytes(source))
    return open_file_object(source)


def decodable(opened: Input) -> SourceData:
    """What an engine decodes `opened` from: a regular local file by its path
    (shrink-on-load), anything else as its bytes, read whole within bounds."""
    if opened.local_path is not None:
        return Path(opened.local_path)
    return opened.whole()
