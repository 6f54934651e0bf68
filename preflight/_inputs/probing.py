"""probe(): what an image file is, from its first bytes.

The I/O shell around the pure header parser.

Rules:
- read only what the parser asks for: a first read of 4 KiB (the whole
  file, when it is smaller), then on NeedMore the longer prefix it asks
  for, never past the parser's 8 MiB budget; plus the last 64 bytes of the
  file to tell a file cut short. From a file object each byte is read
  once; from a path the longer prefix is read again from the start (see
  _probe_path). One exception: a JPEG that does not end with its end
  marker is read whole, within the budget, to tell a file cut short from
  data appended after the image (_settle_jpeg_end);
- never decode pixels; never move a caller's file object without putting
  it back where it was (when it can seek);
- a source that cannot be read raises SourceError (an OSError) naming it:
  a file object in text mode, closed, not open for reading, or raising
  anything of its own while read, too (never an unrelated exception);
  bytes that are not a readable image raise the parser's HeaderError.
"""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from collections.abc import Callable
from functools import partial
from typing import BinaryIO

from preflight._core.headers import (
    FIRST_READ,
    READ_BUDGET,
    TAIL_READ,
    NeedMore,
    end_marker_after_scan,
    end_state,
    parse,
)
from preflight._core.info import Header, ImageInfo
from preflight._inputs.remote import (
    WHOLE_READ,
    fetching,
    is_url,
    object_size,
    open_url,
    raise_from_fs,
)
from preflight.errors import InvalidArgumentError, PreflightError, SourceError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# The first read is FIRST_READ (4 KiB) bytes. A shorter file is then whole:
# its size is the length read (no other call), and the parser knows it has
# the whole file (GIF frames counted, no second read for the tail). A larger
# one costs an lseek for its size (0.2 us; fstat costs 0.7 us) and a 64-byte
# read of its tail (0.4 us). Measured on 2,000 photo-like files, a 16 KiB
# first read made probe about 5% slower: most headers end well within 4 KiB.
_COPY_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def _pread_by_seek(fd: int, size: int, offset: int) -> bytes:
    """os.pread for Windows, which has none (the fd is probe's own)."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


_pread: Callable[[int, int, int], bytes] = getattr(os, "pread", _pread_by_seek)


def probe(source: Source) -> ImageInfo:
    """Header facts of an image: a path, bytes, or a binary file object."""
    if type(source) is str:  # the common case first: this is a hot path
        if "://" in source and is_url(source):  # object storage: ranged reads
            return probe_url(source)
        return _probe_path(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        result = parse(data, complete=True)
        assert not isinstance(result, NeedMore)  # complete data never needs more
        return _settle_jpeg_end(_info(result, data, data[-TAIL_READ:], len(data)), lambda: data)
    if isinstance(source, (str, os.PathLike)):
        return _probe_path(os.fsdecode(source))
    if not hasattr(source, "read"):
        raise SourceError(f"cannot probe a {type(source).__name__}: pass a path, bytes or a file")
    _check_stream(source)
    try:
        return _probe_stream(source)
    except PreflightError:
        raise  # SourceError, or the parser's HeaderError: about the data
    except UnicodeError:
        raise SourceError(f"{_name(source)}: not opened in binary mode (use 'rb')") from None
    except OSError as error:
        raise SourceError(f"{_name(source)}: cannot read ({error.strerror or error})") from None
    except Exception as error:
        # Whatever else a caller's file object raises (a closed file's
        # ValueError, a missing method, its own bugs) is about the source,
        # not the image: one clear error, never an unrelated exception.
        detail = str(error) or type(error).__name__
        raise SourceError(f"{_name(source)}: cannot read ({detail})") from None


def _check_stream(stream: object) -> None:
    """A file object that cannot give bytes is refused before it is read."""
    if isinstance(stream, io.TextIOBase):
        raise SourceError(f"{_name(stream)}: not opened in binary mode (open it with 'rb')")
    if getattr(stream, "closed", False) is True:
        raise SourceError(f"{_name(stream)}: the file is closed")
    readable = getattr(stream, "readable", None)
    try:
        can_read = readable() if callable(readable) else True
    except (OSError, ValueError):
        can_read = False
    if can_read is False:
        raise SourceError(f"{_name(stream)}: not open for reading")


def _parse_growing(
    data: bytes,
    size: int | None,
    read_prefix: Callable[[bytes, int], bytes],
    result: Header | NeedMore | None = None,
) -> tuple[Header, bytes]:
    """Parse the prefix `data` (or take `result`, its parse, when the caller
    already has it); while the parser asks for more, get a longer prefix
    (read_prefix(held, n): the first n bytes, or fewer at the end) and parse
    again. `size` is the whole length when known; a short read means the
    end. Returns the header and the prefix it was read from."""
    if result is None:
        result = parse(data, complete=size is not None and len(data) >= size)
    while isinstance(result, NeedMore):
        wanted = result.at_least
        if size is not None:  # a walk may ask for all it may use: no more than there is
            wanted = min(wanted, size)
        data = read_prefix(data, wanted)
        complete = len(data) < wanted or (size is not None and len(data) >= size)
        result = parse(data, complete=complete)
    return result, data


def _extend(read_next: Callable[[int], bytes]) -> Callable[[bytes, int], bytes]:
    """read_prefix for a stream: read only the bytes after those held."""

    def read_prefix(held: bytes, n: int) -> bytes:
        return held + read_next(n - len(held))

    return read_prefix


def _info(
    header: Header, prefix: bytes, tail: bytes, size: int, path: str | None = None
) -> ImageInfo:
    truncated, missing_end = end_state(header, prefix, tail, size)
    return ImageInfo.from_header(header, size, path, truncated, missing_end)


def _settle_jpeg_end(info: ImageInfo, read_whole: Callable[[], bytes]) -> ImageInfo:
    """Rare (motion photos, files cut short): a JPEG that does not end with
    its end marker is read whole (within the budget), to tell data appended
    after the image from pixel data cut off, which is `truncated`."""
    if (
        info.missing_end_marker
        and info.format == "jpeg"
        and info.file_bytes <= READ_BUDGET
        and end_marker_after_scan(read_whole()) is False
    ):
        return dataclasses.replace(info, truncated=True, missing_end_marker=False)
    return info


def _probe_path(path: str) -> ImageInfo:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise SourceError(f"{path}: a broken symbolic link (to {target})") from None
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory") from None
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot open ({error.strerror or error})") from None
    except ValueError:  # a NUL character in the path
        raise SourceError(f"{path!r}: not a valid path") from None
    try:
        try:
            first = _pread(fd, FIRST_READ, 0)
        except OSError:  # a directory (EISDIR), a FIFO or a terminal (ESPIPE)...
            return _probe_special(fd, path)
        # A short read of a regular file is its end: the whole file is here,
        # and its size is known without another call.
        size = len(first) if len(first) < FIRST_READ else os.lseek(fd, 0, os.SEEK_END)
        result = parse(first, complete=len(first) >= size)
        if isinstance(result, NeedMore):
            # Read the longer prefix from the start in one call: the page
            # cache copies it once, where reading the rest and joining it to
            # what is held copies it twice (a GIF's frames walk takes up to
            # the 8 MiB budget).
            result, prefix = _parse_growing(first, size, lambda _held, n: _pread(fd, n, 0), result)
        else:
            prefix = first
        if size <= len(prefix):
            tail = prefix[-TAIL_READ:]
        else:
            tail = _pread(fd, TAIL_READ, size - TAIL_READ)
        info = _info(result, prefix, tail, size, path)
        if info.missing_end_marker:  # rare: the hot path makes no closure
            held = prefix  # already the whole file when it is small
            info = _settle_jpeg_end(
                info, lambda: held if len(held) >= size else _pread(fd, size, 0)
            )
        return info
    except SourceError:
        raise
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    finally:
        os.close(fd)


def _probe_special(fd: int, path: str) -> ImageInfo:
    """A path that is not a regular file: a directory is refused; a FIFO or a
    device is read as a stream."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        raise SourceError(f"{path}: is a directory")
    with os.fdopen(os.dup(fd), "rb") as stream:
        found = _probe_stream(stream)
    return dataclasses.replace(found, path=path)


def _name(stream: object) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _probe_stream(stream: BinaryIO) -> ImageInfo:
    start: int | None = None
    seekable = getattr(stream, "seekable", None)
    try:
        if callable(seekable) and seekable():
            start = stream.tell()
    except (OSError, ValueError):
        start = None
    if start is not None:
        return _probe_seekable(stream, start)
    # Not seekable: parse what was read, then read on to the end to count it.
    first = _read(stream, FIRST_READ)
    header, prefix = _parse_growing(first, None, _extend(lambda n: _read(stream, n)))
    size, tail = len(prefix), prefix[-TAIL_READ:]
    # A JPEG is kept whole while it is within the read budget: its end may
    # need settling (_settle_jpeg_end), and a pipe cannot be read again.
    kept: list[bytes] | None = [prefix] if header.format == "jpeg" else None
    while chunk := _read(stream, _COPY_CHUNK):
        size += len(chunk)
        tail = (tail + chunk)[-TAIL_READ:]
        if kept is not None and size <= READ_BUDGET:
            kept.append(chunk)
        else:
            kept = None  # over the budget: the end stays unsettled
    info = _info(header, prefix, tail, size, _path_of(stream))
    if kept is None or not info.missing_end_marker:
        return info
    whole = b"".join(kept)
    return _settle_jpeg_end(info, lambda: whole)


def _probe_seekable(stream: BinaryIO, start: int) -> ImageInfo:
    try:
        size = stream.seek(0, os.SEEK_END) - start
        stream.seek(start)
        first = _read(stream, min(size, FIRST_READ))

        header, prefix = _parse_growing(first, size, _extend(lambda n: _read(stream, n)))
        if size <= len(prefix):
            tail = prefix[-TAIL_READ:]
        else:
            stream.seek(start + size - TAIL_READ)
            tail = _read(stream, TAIL_READ)

        def read_whole() -> bytes:
            stream.seek(start)
            return _read(stream, size)

        return _settle_jpeg_end(_info(header, prefix, tail, size, _path_of(stream)), read_whole)
    finally:
        stream.seek(start)


def _read(stream: BinaryIO, n: int) -> bytes:
    """Read up to n bytes, looping over short reads (pipes, sockets)."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        got: object = stream.read(remaining)  # a caller's object: any type may come back
        if not got:
            break
        if isinstance(got, (bytearray, memoryview)):
            got = bytes(got)
        if not isinstance(got, bytes):
            raise SourceError(f"{_name(stream)}: not opened in binary mode (open it with 'rb')")
        chunk = got
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _path_of(stream: object) -> str | None:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else None


def probe_url(url: str, *, size: int | None = None) -> ImageInfo:
    """probe() for a URL: header facts from ranged reads (module comment).
    `size`: the object's length when a listing gave it (saves a request)."""
    fs, path = open_url(url)
    if size is None:
        size = object_size(url, fs, path)
    elif isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidArgumentError(f"size must be a whole number of bytes, got {size!r}")

    def read_range(start: int, end: int) -> bytes:
        got = fetching(url, lambda: fs.cat_file(path, start=start, end=end))
        return bytes(got)

    if size <= WHOLE_READ:
        first = read_range(0, size) if size else b""
        tail = first[-TAIL_READ:]
    else:
        # Both ranges in one call: an async file system (HTTP, S3, GCS, Azure)
        # sends the two requests concurrently, one round trip.
        got = fetching(
            url,
            lambda: fs.cat_ranges([path, path], [0, size - TAIL_READ], [FIRST_READ, size]),
        )
        for part in got:
            if isinstance(part, BaseException):  # a file system that returns its errors
                fetching(url, partial(raise_from_fs, part))
        first, tail = bytes(got[0]), bytes(got[1])
    if len(first) < min(size, FIRST_READ):
        raise SourceError(f"{url}: the object is shorter than its listed size ({size} bytes)")

    tail_start = size - len(tail)

    def read_prefix(held: bytes, n: int) -> bytes:
        # Only the part not yet held (the tail is): no byte crosses the network twice.
        if n <= len(held):
            return held[:n]
        if n <= tail_start or len(held) > tail_start:
            return held + read_range(len(held), n)
        return held + read_range(len(held), tail_start) + tail[: n - tail_start]

    result = parse(first, complete=len(first) >= size)
    if isinstance(result, NeedMore):
        header, prefix = _parse_growing(first, size, read_prefix, result)
    else:
        header, prefix = result, first
    if size <= len(prefix):
        tail = prefix[-TAIL_READ:]
    info = _info(header, prefix, tail, size, url)
    if info.missing_end_marker and size <= READ_BUDGET:
        held = prefix
        info = _settle_jpeg_end(info, lambda: read_prefix(held, size))
    return info
