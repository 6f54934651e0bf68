# The EXIF orientation tag, from a TIFF-structured EXIF block. Rules:
# - bytes in, an orientation 1..8 out; anything malformed (bad byte order,
#   offsets outside the block, an absurd entry count, a wrong tag type, a
#   value outside 1..8) means "no usable orientation", i.e. 1, never an
#   exception: broken metadata does not make an image unusable, and Pillow
#   ignores it too;
# - only IFD0 is read: that is where the orientation of the main image lives.

from __future__ import annotations

import struct

ORIENTATION_TAG = 0x0112
_SHORT, _LONG = 3, 4
_EXIF_PREFIX = b"Exif\x00\x00"
_LE16, _LE32 = struct.Struct("<H"), struct.Struct("<I")
_BE16, _BE32 = struct.Struct(">H"), struct.Struct(">I")


def orientation_from_exif(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Orientation from the EXIF block data[start:end] (with or without the
    'Exif\\0\\0' prefix). Offsets, not a slice: a JPEG's EXIF segment holds
    a thumbnail of tens of KB that need not be copied."""
    stop = len(data) if end is None else min(end, len(data))
    base = start + 6 if data.startswith(_EXIF_PREFIX, start) else start
    if stop - base < 8:
        return 1
    order = data[base : base + 4]
    if order == b"II*\x00":
        u16, u32 = _LE16, _LE32
    elif order == b"MM\x00*":
        u16, u32 = _BE16, _BE32
    else:
        return 1
    ifd = u32.unpack_from(data, base + 4)[0]
    if ifd < 8 or base + ifd + 2 > stop:
        return 1
    first = base + ifd + 2
    count = min(u16.unpack_from(data, base + ifd)[0], (stop - first) // 12)
    for entry in range(first, first + 12 * count, 12):  # never past the block
        if u16.unpack_from(data, entry)[0] != ORIENTATION_TAG:
            continue
        kind = u16.unpack_from(data, entry + 2)[0]
        if kind == _SHORT:
            value = u16.unpack_from(data, entry + 8)[0]
        elif kind == _LONG:
            value = u32.unpack_from(data, entry + 8)[0]
        else:
            return 1
        return int(value) if 1 <= value <= 8 else 1
    return 1
