"""Reading a source whole or by path: what the engines decode from.

Rules:
- a path to a regular file is handed on as a path (the engines read it
  themselves, with shrink-on-load); bytes stay bytes; a file object is
  read once;
- a pipe, FIFO or device is read once, whole, within MAX_STREAM_BYTES
  (probing it would drain it; a FIFO waits for its writer, as `cat` does);
- a URL is read whole through the object-storage transport, within the same
  bound.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path
from typing import BinaryIO

from preflight._core.budgets import MAX_STREAM_BYTES as MAX_STREAM_BYTES
from preflight._core.info import ImageInfo
from preflight._inputs.probing import probe
from preflight._inputs.remote import is_url
from preflight.errors import SourceError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# What an engine decodes from: a path it opens itself, or the bytes.
SourceData = Path | bytes


def read_source(source: Source) -> tuple[SourceData, ImageInfo]:
    """What the engines decode from (a path, or bytes), and the probe of it."""
    if is_url(source):
        from preflight._inputs.remote import read_url

        assert isinstance(source, str)
        data = read_url(source)
        return data, dataclasses.replace(probe(data), path=source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fsdecode(source))
        streamed = _read_if_stream(path)
        if streamed is None:
            return path, probe(path)
        # A pipe, FIFO or device is read once, whole: probing it would drain it.
        return streamed, dataclasses.replace(probe(streamed), path=str(path))
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return data, probe(data)
    try:
        data = source.read()
    except OSError as error:
        raise SourceError(f"cannot read the source: {error}") from None
    if not isinstance(data, bytes):
        raise SourceError("the source file is not opened in binary mode")
    info = probe(data)
    name = getattr(source, "name", None)
    if isinstance(name, str):
        info = dataclasses.replace(info, path=name)
    return data, info


def _read_if_stream(path: Path) -> bytes | None:
    """The whole content of a path that is not a regular file (a pipe such as
    /dev/stdin, a FIFO, a character device), read once; None for anything
    else (probe reports it in its own words). As `cat` does, a FIFO waits for
    its writer."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)):
        return None
    chunks: list[bytes] = []
    held = 0
    try:
        with open(path, "rb", buffering=0) as stream:
            while chunk := stream.read(1 << 20):
                held += len(chunk)
                if held > MAX_STREAM_BYTES:
                    raise SourceError(
                        f"{path}: more than {MAX_STREAM_BYTES >> 20} MiB from a stream; "
                        "save it to a file first"
                    )
                chunks.append(chunk)
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    return b"".join(chunks)
