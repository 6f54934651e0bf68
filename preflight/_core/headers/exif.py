"""The EXIF orientation tag, from a TIFF-structured EXIF block, read as Pillow reads it.

Pillow's exif_transpose is the reference: the engines turn by this value, so
check and prepare agree with what Pillow shows.

Rules:
- bytes in, an orientation out; anything malformed (bad byte order,
  offsets outside the block, an absurd entry count) means "no usable
  orientation", never an exception: broken metadata does not make an
  image unusable;
- only IFD0 is read: that is where the orientation of the main image lives;
- as in Pillow (TiffImagePlugin.ImageFileDirectory_v2.load): an entry of
  an unknown type or with a count of 0 is skipped, as if absent (a later
  entry may still give the tag, and an absent tag lets XMP's
  tiff:Orientation count); so is one whose values, added to those stored
  out of line before it, exceed the block; a value cut short by the end of
  the block ends the directory; the first entry read wins;
  any numeric type counts (SHORT, LONG, SBYTE, SSHORT, SLONG, RATIONAL,
  SRATIONAL, FLOAT, DOUBLE, IFD, LONG8) by its first value, turning when
  that equals 2..8; BYTE, ASCII and UNDEFINED values are present but never
  turn. libvips differs (it turns a BYTE value, and ignores FLOAT, DOUBLE,
  IFD and LONG8): docs/hostile-input.md lists the differences.
"""

from __future__ import annotations

import math
import re
import struct

ORIENTATION_TAG = 0x0112
_EXIF_PREFIX = b"Exif\x00\x00"
_LE16, _LE32 = struct.Struct("<H"), struct.Struct("<I")
_BE16, _BE32 = struct.Struct(">H"), struct.Struct(">I")
# TIFF type -> (bytes per value, struct code of the first value, or None
# for the types Pillow gives back as bytes or text).
_TYPES: dict[int, tuple[int, str | None]] = {
    1: (1, None),  # BYTE
    2: (1, None),  # ASCII
    3: (2, "H"),  # SHORT
    4: (4, "I"),  # LONG
    5: (8, "II"),  # RATIONAL
    6: (1, "b"),  # SBYTE
    7: (1, None),  # UNDEFINED
    8: (2, "h"),  # SSHORT
    9: (4, "i"),  # SLONG
    10: (8, "ii"),  # SRATIONAL
    11: (4, "f"),  # FLOAT
    12: (8, "d"),  # DOUBLE
    13: (4, "I"),  # IFD
    16: (8, "Q"),  # LONG8
}
# Pillow's Image.getexif: when EXIF has no orientation, the first
# tiff:Orientation in the XMP packet, one digit.
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')


def orientation_from_exif(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Orientation 1..8 from the EXIF block data[start:end] (with or without
    the 'Exif\\0\\0' prefix); 1 when absent or not a turn."""
    return exif_orientation(data, start, end) or 1


def exif_orientation(data: bytes, start: int = 0, end: int | None = None) -> int | None:
    """The orientation tag of the EXIF block data[start:end]: 1..8 when
    present (1 for a value that does not turn), None when absent. Offsets,
    not a slice: a JPEG's EXIF segment holds a thumbnail of tens of KB that
    need not be copied."""
    stop = len(data) if end is None else min(end, len(data))
    base = start + 6 if data.startswith(_EXIF_PREFIX, start) else start
    if stop - base < 8:
        return None
    order = data[base : base + 4]
    if order == b"II*\x00":
        u16, u32, endian = _LE16, _LE32, "<"
    elif order == b"MM\x00*":
        u16, u32, endian = _BE16, _BE32, ">"
    else:
        return None
    ifd = u32.unpack_from(data, base + 4)[0]
    if ifd < 8 or base + ifd + 2 > stop:
        return None
    first = base + ifd + 2
    count = min(u16.unpack_from(data, base + ifd)[0], (stop - first) // 12)
    out_of_line = 0  # bytes of values stored elsewhere, so far (Pillow's running total)
    for entry in range(first, first + 12 * count, 12):  # never past the block
        tag, kind = u16.unpack_from(data, entry)[0], u16.unpack_from(data, entry + 2)[0]
        unit, code = _TYPES.get(kind, (0, None))
        size = unit * u32.unpack_from(data, entry + 4)[0]
        if size == 0:
            continue  # an unknown type, or no value: skipped, as if absent
        at = entry + 8
        if size > 4:  # the value lies elsewhere in the block
            out_of_line += size
            if out_of_line > stop - base:
                continue  # more than the whole block: Pillow skips the entry
            at = base + u32.unpack_from(data, entry + 8)[0]
            if at + size > stop:
                return None  # a value cut short: Pillow stops reading the IFD
        if tag != ORIENTATION_TAG:
            continue
        if code is None:
            return 1  # present, but bytes or text: Pillow does not turn
        return _turn(struct.unpack_from(endian + code, data, at))
    return None


def _turn(first: tuple[float, ...]) -> int:
    """1..8 when the first value (a rational: its quotient) equals 2..8, else 1."""
    if len(first) == 2:
        numerator, denominator = first
        value: float = numerator / denominator if denominator else math.nan
    else:
        value = first[0]
    return int(value) if value in (2, 3, 4, 5, 6, 7, 8) else 1


def xmp_orientation(data: bytes, start: int = 0, end: int | None = None) -> int | None:
    """Pillow's fallback when EXIF has no orientation: the first
    tiff:Orientation attribute or element of an XMP packet (one digit)."""
    found = _XMP_ORIENTATION.search(data, start, len(data) if end is None else end)
    if found is None:
        return None
    value = int(found[2])
    return value if 1 <= value <= 8 else 1
