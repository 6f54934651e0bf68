# probe(): what an image file is, from its first bytes. The I/O shell around
# the pure header parser. Rules:
# - read only what the parser asks for (a first read of 4 KiB, more only on
#   NeedMore, never past the parser's 1 MiB budget), plus the last 64 bytes
#   of the file to tell a file cut short;
# - never decode pixels; never move a caller's file object without putting
#   it back where it was (when it can seek);
# - a source that cannot be read raises SourceError (an OSError) naming it;
#   bytes that are not a readable image raise the parser's HeaderError.

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import BinaryIO

from preflight.errors import SourceError
from preflight.headers import FIRST_READ, READ_BUDGET, TAIL_READ, NeedMore, end_state, parse
from preflight.info import Header, ImageInfo

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

_COPY_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def probe(source: Source) -> ImageInfo:
    """Header facts of an image: a path, bytes, or a binary file object."""
    if type(source) is str:  # the common case first: this is a hot path
        return _probe_path(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        header = _parse_prefix(data, len(data), lambda n: data)
        return _info(header, data, data[-TAIL_READ:], len(data))
    if isinstance(source, (str, os.PathLike)):
        return _probe_path(os.fsdecode(source))
    if not hasattr(source, "read"):
        raise SourceError(f"cannot probe a {type(source).__name__}: pass a path, bytes or a file")
    try:
        return _probe_stream(source)
    except SourceError:
        raise
    except OSError as error:
        raise SourceError(f"{_name(source)}: cannot read ({error.strerror or error})") from None


def _parse_prefix(first: bytes, size: int | None, read_prefix: Callable[[int], bytes]) -> Header:
    """Parse, reading a longer prefix while the parser asks for one. `size`
    is the whole length when known; a short read also means the end."""
    data = first
    complete = size is not None and len(data) >= size
    while True:
        result = parse(data, complete=complete)
        if not isinstance(result, NeedMore):
            return result
        more = read_prefix(min(result.at_least, READ_BUDGET))
        complete = len(more) < result.at_least or (size is not None and len(more) >= size)
        if len(more) <= len(data):
            complete = True  # nothing more to be had: whatever it is, it ends here
        data = more


def _info(
    header: Header, prefix: bytes, tail: bytes, size: int, path: str | None = None
) -> ImageInfo:
    truncated, missing_end = end_state(header, prefix, tail, size)
    # ImageInfo is Header plus four fields. Copying the header's validated
    # fields directly skips a second frozen-dataclass __init__ (field by field
    # object.__setattr__), which was a third of probe's time on small files.
    info = object.__new__(ImageInfo)
    fields = info.__dict__
    fields.update(header.__dict__)
    fields["file_bytes"] = size
    fields["path"] = path
    fields["truncated"] = truncated
    fields["missing_end_marker"] = missing_end
    return info


def _probe_path(path: str) -> ImageInfo:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory") from None
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot open ({error.strerror or error})") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            if stat.S_ISDIR(status.st_mode):
                raise SourceError(f"{path}: is a directory")
            with os.fdopen(os.dup(fd), "rb") as stream:  # a FIFO or a device
                found = _probe_stream(stream)
            return _with_path(found, path)
        size = status.st_size
        first = os.pread(fd, FIRST_READ, 0)
        result = parse(first, complete=len(first) >= size)
        header = (
            result
            if not isinstance(result, NeedMore)
            else _parse_prefix(first, size, lambda n: os.pread(fd, n, 0))
        )
        tail = (
            first[-TAIL_READ:] if size <= len(first) else os.pread(fd, TAIL_READ, size - TAIL_READ)
        )
        return _info(header, first, tail, size, path)
    except SourceError:
        raise
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    finally:
        os.close(fd)


def _with_path(info: ImageInfo, path: str) -> ImageInfo:
    fields = {name: getattr(info, name) for name in ImageInfo.__dataclass_fields__}
    fields["path"] = path
    return ImageInfo(**fields)


def _name(stream: object) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _probe_stream(stream: BinaryIO) -> ImageInfo:
    start: int | None = None
    try:
        if stream.seekable():
            start = stream.tell()
    except (OSError, ValueError):
        start = None
    if start is not None:
        return _probe_seekable(stream, start)
    # Not seekable: keep what we read, then read on to the end to count it.
    buffer = bytearray(_read(stream, FIRST_READ))

    def read_prefix(n: int) -> bytes:
        if len(buffer) < n:
            buffer.extend(_read(stream, n - len(buffer)))
        return bytes(buffer[:n])

    header = _parse_prefix(bytes(buffer), None, read_prefix)
    prefix = bytes(buffer[:16])
    size, tail = len(buffer), bytes(buffer[-TAIL_READ:])
    while chunk := stream.read(_COPY_CHUNK):
        size += len(chunk)
        tail = (tail + chunk)[-TAIL_READ:]
    return _info(header, prefix, tail, size, _path_of(stream))


def _probe_seekable(stream: BinaryIO, start: int) -> ImageInfo:
    try:
        size = stream.seek(0, os.SEEK_END) - start

        def read_prefix(n: int) -> bytes:
            stream.seek(start)
            return _read(stream, n)

        first = read_prefix(FIRST_READ)
        header = _parse_prefix(first, size, read_prefix)
        stream.seek(start + max(size - TAIL_READ, 0))
        tail = _read(stream, TAIL_READ)
    finally:
        stream.seek(start)
    return _info(header, first, tail, size, _path_of(stream))


def _read(stream: BinaryIO, n: int) -> bytes:
    """Read up to n bytes, looping over short reads (pipes, sockets)."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            raise SourceError(f"{_name(stream)}: not opened in binary mode")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _path_of(stream: object) -> str | None:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else None
