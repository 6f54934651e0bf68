"""WebP: the RIFF container and its first image chunk.

Rules:
- "RIFF" size "WEBP", then VP8 (lossy), VP8L (lossless) or VP8X (extended);
- VP8: a shown key frame, its start code 9d 01 2a and 14-bit sizes; VP8L:
  signature 0x2f, version 0 and 14-bit sizes minus one; VP8X: a 10-byte
  chunk, 24-bit canvas size minus one (under 2**32 pixels) and flags for
  alpha, animation, EXIF and ICC; what libwebp refuses is corrupt;
- for VP8X with the EXIF flag (or animation) the chunks are walked by their
  lengths (padded to even) within the read budget, for the orientation and
  the number of ANMF frames; past the budget those are reported unknown.
"""

from __future__ import annotations

import struct

from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.headers.exif import exif_orientation, xmp_orientation
from preflight._core.info import Header
from preflight.errors import HeaderError

_RIFF = struct.Struct("<I4x4sI")  # RIFF size, ("WEBP"), the first chunk's kind and size
_VP8 = struct.Struct("<HB3sHH")  # frame tag (24 bits), start code, width, height
_VP8L = struct.Struct("<BI")  # signature, then size / alpha / version bits


def is_webp(prefix: bytes) -> bool:
    return prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP"


def parse_webp(reader: Reader, *, complete: bool, budget: int) -> Header:
    data = reader.data
    reader.need(20)
    riff_size, kind, chunk_size = _RIFF.unpack_from(data, 4)
    riff_end = 8 + riff_size
    body = 20
    if kind == b"VP8 ":
        reader.need(30)
        tag, tag_high, start_code, width, height = _VP8.unpack_from(data, body)
        tag |= tag_high << 16
        # libwebp's checks: a shown key frame of a known profile, whose first
        # partition fits in the chunk, with the start code.
        if tag & 0x01 or (tag >> 1) & 0x07 > 3 or not tag & 0x10:
            raise HeaderError(
                "WebP: VP8 data does not start with a shown key frame", code="corrupt"
            )
        if tag >> 5 >= chunk_size:
            raise HeaderError("WebP: VP8 first partition larger than its chunk", code="corrupt")
        if start_code != b"\x9d\x01\x2a":
            raise HeaderError("WebP: VP8 data without a key frame start code", code="corrupt")
        return _still(width & 0x3FFF, height & 0x3FFF, alpha=False, mode="RGB")
    if kind == b"VP8L":
        reader.need(25)
        signature, bits = _VP8L.unpack_from(data, body)
        if signature != 0x2F:
            raise HeaderError("WebP: VP8L data without its signature byte", code="corrupt")
        if bits >> 29:
            raise HeaderError(f"WebP: VP8L version {bits >> 29}", code="corrupt")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        alpha = bool((bits >> 28) & 1)
        return _still(width, height, alpha=alpha, mode="RGBA" if alpha else "RGB")
    if kind == b"VP8X":
        if chunk_size != 10:
            raise HeaderError("WebP: VP8X chunk not 10 bytes long", code="corrupt")
        flags = reader.u8(body)
        width = reader.u24le(body + 4) + 1
        height = reader.u24le(body + 7) + 1
        if width * height >= 1 << 32:  # libwebp's limit on the canvas area
            raise HeaderError(f"WebP: canvas {width}x{height} is over 2**32 pixels", code="corrupt")
        alpha, animated = bool(flags & 0x10), bool(flags & 0x02)
        has_exif, icc, has_xmp = bool(flags & 0x08), bool(flags & 0x20), bool(flags & 0x04)
        orientation, frames = 1, 1 if not animated else None
        if has_exif or has_xmp or animated:
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
            # an animation's frames are composited onto an RGBA canvas
            samples=4 if alpha or animated else 3,
        )
    raise HeaderError(f"WebP: unknown first chunk {kind!r}", code="corrupt")


def _still(width: int, height: int, *, alpha: bool, mode: str) -> Header:
    if width == 0 or height == 0:
        raise HeaderError(f"WebP: image size {width}x{height}", code="corrupt")
    return Header(
        format="webp",
        width=width,
        height=height,
        has_alpha=alpha,
        mode=mode,
        samples=4 if alpha else 3,
    )


def _walk_chunks(
    reader: Reader, riff_end: int, *, complete: bool, budget: int, animated: bool
) -> tuple[int, int | None]:
    """(orientation, frame count or None) from the chunks after VP8X: the
    EXIF chunk's orientation, else the XMP chunk's tiff:Orientation (as in
    Pillow's getexif; libvips ignores XMP)."""
    offset = 30  # after the VP8X chunk (8 + 10 bytes) and the 12-byte RIFF header
    orientation: int | None = None
    xmp: tuple[int, int] | None = None
    frames = 0
    try:
        while offset + 8 <= riff_end:
            kind = reader.bytes(offset, 4)
            size = reader.u32le(offset + 4)
            if kind == b"ANMF":
                frames += 1
            elif kind == b"EXIF":
                reader.need(offset + 8 + size)
                orientation = exif_orientation(reader.data, offset + 8, offset + 8 + size)
            elif kind == b"XMP ":
                reader.need(offset + 8 + size)
                xmp = (offset + 8, offset + 8 + size)
            offset += 8 + size + (size & 1)
    except NeedMoreSignal as short:
        if not complete and short.at_least <= budget:
            # The EXIF chunk and the frames are spread to the end of the
            # file: ask for all of it (within the budget) at once.
            raise NeedMoreSignal(max(short.at_least, min(riff_end, budget))) from None
        return _resolved(reader.data, orientation, xmp), None if animated else 1
    return _resolved(reader.data, orientation, xmp), (frames or 1) if animated else 1


def _resolved(data: bytes, orientation: int | None, xmp: tuple[int, int] | None) -> int:
    if orientation is None and xmp is not None:
        orientation = xmp_orientation(data, *xmp)
    return orientation or 1
