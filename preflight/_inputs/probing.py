"""probe(): what an image is, from its first bytes; the shell around the pure header parser.

Rules:
- the source is opened once into an Input (sources.open_input) and read
  by range: a first read of 4 KiB (the whole object, when it is that
  small: 8 KiB over a network), then on NeedMore the longer prefix the
  parser asks for, never past its 8 MiB budget; plus the last 64 bytes to
  tell a file cut short (where a source can give them without a whole
  read). One exception: a JPEG that does not end with its end marker is
  read whole, within the budget, to tell a file cut short from data
  appended after the image (_settle_jpeg_end);
- never decode pixels; never move a caller's file object;
- a source that cannot be read raises SourceError (an OSError) naming it;
  bytes that are not a readable image raise the parser's HeaderError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

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
from preflight._inputs.input import Input
from preflight._inputs.sources import Source, SourceData, decodable, open_input
from preflight.errors import SourceError


def probe(source: Source, *, size: int | None = None) -> ImageInfo:
    """Header facts of an image: a path, a URL, bytes, a binary file object or
    an Input. `size`: an object's length when a listing gave it."""
    opened = open_input(source, size=size)
    try:
        return probe_input(opened)
    finally:
        if opened is not source:
            opened.close()


def probe_input(opened: Input) -> ImageInfo:
    """probe() of an opened Input (module docstring)."""
    path = opened.name if opened.named else None
    size = opened.size
    tail: bytes | None = b""
    have_tail = False
    if size is None:
        # A stream, or a URL whose first answer tells its size; then the
        # tail, before any longer prefix (the order of a known size's reads).
        first = opened.read(0, FIRST_READ)
        size = opened.size
        if size is not None and size > len(first):
            tail, have_tail = opened.tail(TAIL_READ), True
    elif size <= opened.whole_read:
        first = opened.read(0, size)
    else:
        # The first read and the tail together: one round trip remotely.
        first, tail = opened.read_ranges([(0, FIRST_READ), (size - TAIL_READ, size)])
        opened.held_tail, have_tail = (size - TAIL_READ, tail), True
    if size is not None and len(first) < min(size, FIRST_READ):
        raise SourceError(f"{opened.name}: shorter than its size ({size:,} bytes)")
    header, prefix = _parse_growing(first, size, opened.extend)
    if size is not None and size <= len(prefix):
        tail = prefix[-TAIL_READ:]
    elif not have_tail:
        tail = opened.tail(TAIL_READ)  # a stream is read on to its end, held
        size = opened.size
    if size is None or size < len(prefix):  # no length told, or a file that grew
        size = len(prefix)
    if tail is None:
        # The end is the whole object away (a server without Range): the
        # end-of-file checks are skipped rather than paid for (http.py).
        return ImageInfo.from_header(header, size, path, False, False)
    info = _info(header, prefix, tail, size, path)
    if info.missing_end_marker:  # rare: the hot path makes no closure
        held, whole = prefix, size
        info = _settle_jpeg_end(info, lambda: opened.extend(held, whole))
    return info


def read_source(source: Source) -> tuple[SourceData, ImageInfo]:
    """What the engines decode from (a path, or bytes) and the probe of it,
    from one opening of `source`."""
    opened = open_input(source)
    try:
        info = probe_input(opened)
        return decodable(opened), info
    finally:
        if opened is not source:
            opened.close()


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
