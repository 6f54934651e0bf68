# WebP: the RIFF container and its first image chunk. Rules:
# - "RIFF" size "WEBP", then VP8 (lossy), VP8L (lossless) or VP8X (extended);
# - VP8: a key frame's start code 9d 01 2a and 14-bit sizes; VP8L: signature
#   0x2f and 14-bit sizes minus one; VP8X: 24-bit canvas size minus one and
#   flags for alpha, animation, EXIF and ICC;
# - for VP8X with the EXIF flag (or animation) the chunks are walked by their
#   lengths (padded to even) within the read budget, for the orientation and
#   the number of ANMF frames; past the budget those are reported unknown.

from __future__ import annotations

from preflight.errors import CorruptHeaderError
from preflight.headers._reader import NeedMoreSignal, Reader
from preflight.headers.exif import orientation_from_exif
from preflight.info import Header


def is_webp(prefix: bytes) -> bool:
    return prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP"


def parse_webp(reader: Reader, *, complete: bool, budget: int) -> Header:
    riff_end = 8 + reader.u32le(4)
    kind = reader.bytes(12, 4)
    body = 20
    if kind == b"VP8 ":
        if reader.bytes(body + 3, 3) != b"\x9d\x01\x2a":
            raise CorruptHeaderError("WebP: VP8 data without a key frame start code")
        width = reader.u16le(body + 6) & 0x3FFF
        height = reader.u16le(body + 8) & 0x3FFF
        return _still(width, height, alpha=False, mode="RGB")
    if kind == b"VP8L":
        if reader.u8(body) != 0x2F:
            raise CorruptHeaderError("WebP: VP8L data without its signature byte")
        bits = reader.u32le(body + 1)
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        alpha = bool((bits >> 28) & 1)
        return _still(width, height, alpha=alpha, mode="RGBA" if alpha else "RGB")
    if kind == b"VP8X":
        flags = reader.u8(body)
        width = reader.u24le(body + 4) + 1
        height = reader.u24le(body + 7) + 1
        alpha, animated = bool(flags & 0x10), bool(flags & 0x02)
        has_exif, icc = bool(flags & 0x08), bool(flags & 0x20)
        orientation, frames = 1, 1 if not animated else None
        if has_exif or animated:
            orientation, frames = _walk_chunks(
                reader, riff_end, complete=complete, budget=budget, animated=animated
            )
        return Header(
            format="webp",
            width=width,
            height=height,
            orientation=orientation,
            animated=animated and frames != 1,
            frames=frames,
            has_alpha=alpha,
            mode="RGBA" if alpha else "RGB",
            bit_depth=8,
            has_icc_profile=icc,
            has_exif=has_exif,
        )
    raise CorruptHeaderError(f"WebP: unknown first chunk {kind!r}")


def _still(width: int, height: int, *, alpha: bool, mode: str) -> Header:
    if width == 0 or height == 0:
        raise CorruptHeaderError(f"WebP: image size {width}x{height}")
    return Header(format="webp", width=width, height=height, has_alpha=alpha, mode=mode)


def _walk_chunks(
    reader: Reader, riff_end: int, *, complete: bool, budget: int, animated: bool
) -> tuple[int, int | None]:
    """(orientation, frame count or None) from the chunks after VP8X."""
    offset = 30  # after the VP8X chunk (8 + 10 bytes) and the 12-byte RIFF header
    orientation, frames = 1, 0
    try:
        while offset + 8 <= riff_end:
            kind = reader.bytes(offset, 4)
            size = reader.u32le(offset + 4)
            if kind == b"ANMF":
                frames += 1
            elif kind == b"EXIF":
                orientation = orientation_from_exif(reader.bytes(offset + 8, size))
            offset += 8 + size + (size & 1)
    except NeedMoreSignal as short:
        if not complete and short.at_least <= budget:
            raise
        return orientation, None if animated else 1
    return orientation, (frames or 1) if animated else 1
