"""A sans-I/O image header parser: bytes in, header facts out.

Rules:
- parse(data, complete=...) looks only at `data`, a prefix of the file; it
  returns a Header, or NeedMore(n): call again with the first n bytes,
  where len(data) < n <= READ_BUDGET (n may exceed the strict minimum: a
  walk that needs the rest of the file, counting GIF or WebP frames, asks
  for all the budget allows at once; a caller that knows the file is
  shorter passes what there is, with complete=True); when `complete` says
  data is the whole file, running out of data is HeaderError "truncated" instead;
- it raises only HeaderError (preflight.errors), its code one of "empty",
  "not-an-image", "truncated", "corrupt", "header-too-large" (a header that
  needs more than READ_BUDGET bytes). Every read is bounds-
  checked and unsigned, every length validated, every walk moves forward;
- the four accepted formats are parsed fully; the formats the API refuses
  are named (other.py); anything else is not an image;
- Pillow is the reference the tests compare against, not a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight._core.headers import other
from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.headers.gif import SIGNATURES as GIF_SIGNATURES
from preflight._core.headers.gif import parse_gif
from preflight._core.headers.jpeg import SIGNATURE as JPEG_SIGNATURE
from preflight._core.headers.jpeg import end_marker_after_scan as end_marker_after_scan
from preflight._core.headers.jpeg import parse_jpeg
from preflight._core.headers.png import SIGNATURE as PNG_SIGNATURE
from preflight._core.headers.png import parse_png
from preflight._core.headers.webp import is_webp, parse_webp
from preflight._core.info import Header
from preflight.errors import HeaderError

# The read budget is at least the largest file any surface accepts (10 MB of
# base64, current docs: a 7.5 MiB file), so a header is never "too large" in
# a file the API could take: a JPEG may carry megabytes of XMP before its
# frame header, and counting a GIF's frames reads the whole file. A header
# that needs more belongs to a file over every byte limit.
READ_BUDGET = 8 << 20
FIRST_READ = 4096  # what a caller should read first: almost every header fits


@dataclass(frozen=True)
class NeedMore:
    at_least: int  # the parser needs the first `at_least` bytes of the file


_WHOLE_BUDGET = NeedMore(READ_BUDGET)


def parse(data: bytes, *, complete: bool = False) -> Header | NeedMore:
    """Header facts from the first bytes of a file (see the module comment)."""
    if type(data) is not bytes:
        data = bytes(data)
    if not data:
        if complete:
            raise HeaderError("the file is empty", code="empty")
        return NeedMore(FIRST_READ)
    if not complete and data[:6] in GIF_SIGNATURES and len(data) < READ_BUDGET:
        # Counting a GIF's frames walks the whole file: ask for all the
        # budget allows straight away (probe's hot path for GIFs over 4 KiB).
        return _WHOLE_BUDGET
    try:
        return _parse(data, complete)
    except NeedMoreSignal as short:
        if complete:
            raise HeaderError(
                f"the data ends at byte {len(data)}, inside the header "
                f"(it needs at least {short.at_least} bytes)",
                code="truncated",
            ) from None
        if short.at_least > READ_BUDGET:
            raise HeaderError(
                f"the header needs more than the first {READ_BUDGET >> 20} MiB of the file "
                "(no surface accepts a file that large)",
                code="header-too-large",
            ) from None
        # Ask for a little more than the minimum: fewer round trips.
        return NeedMore(min(max(short.at_least, 2 * len(data)), READ_BUDGET))


def _parse(data: bytes, complete: bool) -> Header:
    reader = Reader(data)
    first = data[0]  # one comparison per format before any slicing
    if first == 0xFF and data.startswith(JPEG_SIGNATURE):
        return parse_jpeg(reader, complete=complete, budget=READ_BUDGET)
    if first == 0x89 and data.startswith(PNG_SIGNATURE):
        return parse_png(reader)
    if first == 0x47 and data[:6] in GIF_SIGNATURES:  # "G"
        return parse_gif(reader, complete=complete, budget=READ_BUDGET)
    if first == 0x52 and is_webp(data):  # "R"
        return parse_webp(reader, complete=complete, budget=READ_BUDGET)
    found = other.sniff(reader, complete=complete, budget=READ_BUDGET)
    if found is not None:
        return found
    if not complete and other.needs_more_to_sniff(data):
        raise NeedMoreSignal(len(data) + 1)
    if _is_prefix_of_signature(data):
        raise HeaderError(
            f"the data ends at byte {len(data)}, inside the signature", code="truncated"
        )
    raise HeaderError(_describe_unknown(data), code="not-an-image")


_SIGNATURES = (JPEG_SIGNATURE, PNG_SIGNATURE, *GIF_SIGNATURES, b"RIFF")


def _is_prefix_of_signature(data: bytes) -> bool:
    return len(data) < 12 and any(sig.startswith(data[: len(sig)]) for sig in _SIGNATURES)


def _describe_unknown(data: bytes) -> str:
    start = data[:8]
    if all(32 <= b < 127 or b in b"\t\r\n" for b in data[:64]):
        return "no image signature: the data looks like text"
    return f"no image signature (starts with {start.hex(' ')})"


TAIL_READ = 64  # bytes from the end of the file that end_state() looks at


def end_state(header: Header, prefix: bytes, tail: bytes, file_size: int) -> tuple[bool, bool]:
    """(truncated, missing_end_marker) from the last bytes of the whole file.

    Certain cases are `truncated`: a PNG that does not end with its IEND chunk
    and a WebP shorter than its RIFF container says. A JPEG that does not end
    with its end-of-image marker, or a GIF without its trailer, may be cut
    short, or may carry data appended after the image (phones append videos
    to "motion photos", which decoders read fine): `missing_end_marker`.
    A file shorter than the least data its declared first frame needs
    (Header.min_file_bytes) is `truncated` whatever its end looks like.
    """
    if file_size < header.min_file_bytes:
        return True, False
    if header.format == "png":
        return b"IEND" not in tail, False
    if header.format == "webp" and len(prefix) >= 8:
        return file_size < 8 + int.from_bytes(prefix[4:8], "little"), False
    trimmed = tail.rstrip(b"\x00\r\n ")
    if header.format == "jpeg":
        return False, not trimmed.endswith(b"\xff\xd9")
    if header.format == "gif":
        return False, not trimmed.endswith(b"\x3b")
    return False, False
