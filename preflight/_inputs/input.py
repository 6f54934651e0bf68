"""The one source object: every image source, opened once, read by range.

Everything that reads an image (probe, inspect, prepare, quality, tiling)
takes an `Input`: a display name, a size when known, ranged reads, and the
whole content within a bound. What kind of source it came from (a path, a
pipe, bytes, a caller's file object, a URL) is decided once, by
`preflight._inputs.sources.open_input`, and never asked again.

Rules:
- `read(start, end)` returns the bytes in [start, end), fewer only at the
  end of the data; it never reads past `end` from a file or a range-capable
  server (a stream is read on to `end` and held);
- `tail(n)` is the last n bytes, or None when getting them would mean
  reading the whole object (a server that ignores Range): callers must
  cope without;
- `whole(limit)` is everything, refused past `limit` bytes before it is read
  where the size is known, and as soon as `limit` is passed where it is not;
- a stream (pipe, FIFO, device, non-seekable file object) is read once and
  held, within MAX_STREAM_BYTES, so that probing it never drains it;
- a caller's seekable file object is left where it was;
- what goes wrong while reading is a SourceError naming the source, never an
  unrelated exception.
"""

from __future__ import annotations

import io
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import BinaryIO, TypeVar

from preflight._core.budgets import MAX_STREAM_BYTES
from preflight.errors import PreflightError, SourceError

T = TypeVar("T")

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20


def _pread_by_seek(fd: int, size: int, offset: int) -> bytes:
    """os.pread for Windows, which has none (the fd is the Input's own)."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


_pread: Callable[[int, int, int], bytes] = getattr(os, "pread", _pread_by_seek)


class Input(ABC):
    """An opened image source (module docstring)."""

    #: What reports call it: a path, a URL, "<stdin>", "<bytes>".
    name: str
    #: Whether `name` is the source's own (a path, a URL, a file object's
    #: name) rather than a stand-in such as "<bytes>": only then is it
    #: reported as the image's path.
    named: bool = True
    #: A regular file on the local disk, which an engine may read by path
    #: (shrink-on-load); None for everything else.
    local_path: str | None = None
    #: An object at most this large is read whole by the first read: one
    #: round trip costs less than two (remote), one call less (local).
    whole_read: int = 4096

    @property
    @abstractmethod
    def size(self) -> int | None:
        """The length in bytes, when known without reading it all."""

    @abstractmethod
    def read(self, start: int, end: int) -> bytes:
        """The bytes in [start, end) (fewer at the end of the data)."""

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Several ranges; a remote source fetches them concurrently."""
        return [self.read(start, end) for start, end in ranges]

    #: The last bytes already read (where they start, and them): a longer
    #: prefix that reaches them takes them from here, not from the source.
    held_tail: tuple[int, bytes] | None = None

    def extend(self, held: bytes, n: int) -> bytes:
        """The first n bytes, given the first len(held) already read: only the
        part not yet held is read (no byte crosses the network twice)."""
        if n <= len(held):
            return held[:n]
        if self.held_tail is not None and n > self.held_tail[0]:
            start, tail = self.held_tail
            if len(held) >= start:
                return held + tail[len(held) - start : n - start]
            return held + self.read(len(held), start) + tail[: n - start]
        return held + self.read(len(held), n)

    def tail(self, n: int) -> bytes | None:
        """The last n bytes, or None when only a whole read could give them."""
        size = self.size
        if size is None:
            size = self.read_to_end()
        start = max(0, size - n)
        self.held_tail = (start, self.read(start, size))
        return self.held_tail[1]

    def read_to_end(self) -> int:
        """For a source of unknown size: read (and hold) it to its end, within
        MAX_STREAM_BYTES, and return its size."""
        size = self.size
        assert size is not None, "a source of unknown size overrides read_to_end"
        return size

    def whole(self, limit: int = MAX_STREAM_BYTES) -> bytes:
        """Everything, within `limit` bytes."""
        size = self.size
        if size is None:
            size = self.read_to_end()
        if size > limit:
            raise SourceError(
                f"{self.name}: {size:,} bytes, over the {_mib(limit)} preflight reads into memory"
            )
        return self.read(0, size)

    def close(self) -> None:  # noqa: B027 - most Inputs hold nothing to release
        """Release what the Input opened (never a caller's own file object)."""

    def __enter__(self) -> Input:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _mib(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n:,} bytes"


class BytesInput(Input):
    """Bytes in memory."""

    def __init__(self, data: bytes, name: str | None = None) -> None:
        self.data = data
        self.name = "<bytes>" if name is None else name
        self.named = name is not None
        # Already in memory: parsed whole, so a GIF's frames are all counted.
        self.whole_read = len(data)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, start: int, end: int) -> bytes:
        return self.data[start:end]

    def whole(self, limit: int = MAX_STREAM_BYTES) -> bytes:
        # Bytes a caller already holds are not read into memory again: no bound.
        return self.data


class FileInput(Input):
    """A regular file on the local disk, opened once; read with pread."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd: int | None = fd
        self.name = path
        self.local_path = path
        self._size: int | None = None

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = self._call(lambda fd: os.lseek(fd, 0, os.SEEK_END))
        return self._size

    def read(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        return self._call(lambda fd: _pread(fd, end - start, start))

    def extend(self, held: bytes, n: int) -> bytes:
        # Read the longer prefix from the start in one call: the page cache
        # copies it once, where reading the rest and joining it to what is
        # held copies it twice (a GIF's frames walk takes up to 8 MiB).
        return held[:n] if n <= len(held) else self.read(0, n)

    def _call(self, call: Callable[[int], T]) -> T:
        if self.fd is None:
            raise SourceError(f"{self.name}: the input is closed")
        try:
            return call(self.fd)
        except OSError as error:
            raise SourceError(f"{self.name}: cannot read ({error.strerror or error})") from None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class StreamInput(Input):
    """A source read once, front to back: a pipe, a FIFO, a device, a socket,
    or a file object that cannot seek. What is read is held (within
    MAX_STREAM_BYTES), so every later range comes from memory."""

    def __init__(
        self, read: Callable[[int], object], name: str, close: Callable[[], None] | None = None
    ) -> None:
        self._read_raw = read
        self.name = name
        self._close = close
        self._held = bytearray()
        self._ended = False

    @property
    def size(self) -> int | None:
        return len(self._held) if self._ended else None

    def _fill(self, end: int) -> None:
        while not self._ended and len(self._held) < end:
            if len(self._held) >= MAX_STREAM_BYTES:
                raise SourceError(
                    f"{self.name}: more than {_mib(MAX_STREAM_BYTES)} from a stream; "
                    "save it to a file first"
                )
            room = MAX_STREAM_BYTES + 1 - len(self._held)
            want = min(max(end - len(self._held), 1), _CHUNK, room)
            chunk = self._next(want)
            if not chunk:
                self._ended = True
            else:
                self._held += chunk

    def _next(self, n: int) -> bytes:
        # A caller's object: any type may come back.
        got: object = reading(self.name, lambda: self._read_raw(n))
        if got is None:
            return b""
        if isinstance(got, (bytearray, memoryview)):
            got = bytes(got)
        if not isinstance(got, bytes):
            raise SourceError(f"{self.name}: not opened in binary mode (open it with 'rb')")
        return got

    def read(self, start: int, end: int) -> bytes:
        self._fill(end)
        return bytes(self._held[start:end])

    def read_to_end(self) -> int:
        self._fill(MAX_STREAM_BYTES + 1)
        return len(self._held)

    def whole(self, limit: int = MAX_STREAM_BYTES) -> bytes:
        self._fill(limit + 1)
        if not self._ended:
            raise SourceError(
                f"{self.name}: more than {_mib(limit)} from a stream; save it to a file first"
            )
        return bytes(self._held)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


class SeekableInput(Input):
    """A caller's seekable binary file object, read from where it stands and
    put back there after every read."""

    def __init__(self, stream: BinaryIO, start: int, name: str) -> None:
        self.stream = stream
        self.start = start
        self.name = name
        self._size: int | None = None

    @property
    def size(self) -> int:
        if self._size is None:
            end = reading(self.name, lambda: self.stream.seek(0, os.SEEK_END))
            reading(self.name, lambda: self.stream.seek(self.start))
            self._size = end - self.start
        return self._size

    def read(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""

        def go() -> bytes:
            self.stream.seek(self.start + start)
            try:
                reader = StreamInput(self.stream.read, self.name)
                return reader.read(0, end - start)
            finally:
                self.stream.seek(self.start)

        return reading(self.name, go)


def reading(name: str, call: Callable[[], T]) -> T:
    """Run one read of a source named `name`: whatever it raises is about the
    source (a SourceError naming it), never an unrelated exception: a
    caller's file object may raise anything (a closed file's ValueError, a
    missing method, its own bugs)."""
    try:
        return call()
    except PreflightError:
        raise
    except UnicodeError:
        raise SourceError(f"{name}: not opened in binary mode (use 'rb')") from None
    except OSError as error:
        raise SourceError(f"{name}: cannot read ({error.strerror or error})") from None
    except Exception as error:
        detail = str(error) or type(error).__name__
        raise SourceError(f"{name}: cannot read ({detail})") from None


def open_file_object(stream: object) -> Input:
    """An Input over a caller's binary file object (never closed by it)."""
    own = getattr(stream, "name", None)
    name = own if isinstance(own, str) else "<stream>"
    if not hasattr(stream, "read"):
        raise SourceError(
            f"cannot read a {type(stream).__name__}: pass a path, bytes, a URL or a binary file"
        )
    if isinstance(stream, io.TextIOBase):
        raise SourceError(f"{name}: not opened in binary mode (open it with 'rb')")
    if getattr(stream, "closed", False) is True:
        raise SourceError(f"{name}: the file is closed")
    readable = getattr(stream, "readable", None)
    try:
        can_read = readable() if callable(readable) else True
    except (OSError, ValueError):
        can_read = False
    if can_read is False:
        raise SourceError(f"{name}: not open for reading")
    seekable = getattr(stream, "seekable", None)
    start: int | None = None
    try:
        if callable(seekable) and seekable():
            start = stream.tell()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        start = None
    except Exception as error:  # a caller's object may raise anything: about the source
        detail = str(error) or type(error).__name__
        raise SourceError(f"{name}: cannot read ({detail})") from None
    opened: Input
    if isinstance(start, int):
        opened = SeekableInput(stream, start, name)  # type: ignore[arg-type]
    else:
        opened = StreamInput(stream.read, name)
    opened.named = isinstance(own, str)
    return opened


def open_path(path: str) -> Input:
    """An Input over a local path: a regular file by pread, a pipe, FIFO or
    device as a stream (as `cat` does, a FIFO waits for its writer)."""
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
        mode = os.fstat(fd).st_mode
    except OSError as error:
        os.close(fd)
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    if stat.S_ISREG(mode):
        return FileInput(fd, path)
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise SourceError(f"{path}: is a directory")

    def close() -> None:
        os.close(fd)

    return StreamInput(lambda n: os.read(fd, n), path, close)
