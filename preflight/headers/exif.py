# The EXIF orientation tag, from a TIFF-structured EXIF block. Rules:
# - bytes in, an orientation 1..8 out; anything malformed (bad byte order,
#   offsets outside the block, an absurd entry count, a wrong tag type, a
#   value outside 1..8) means "no usable orientation", i.e. 1, never an
#   exception: broken metadata does not make an image unusable, and Pillow
#   ignores it too;
# - only IFD0 is read: that is where the orientation of the main image lives.

from __future__ import annotations

from typing import Literal

ORIENTATION_TAG = 0x0112
_SHORT, _LONG = 3, 4
_EXIF_PREFIX = b"Exif\x00\x00"


def orientation_from_exif(block: bytes) -> int:
    """Orientation from an EXIF block (with or without the 'Exif\\0\\0' prefix)."""
    if block.startswith(_EXIF_PREFIX):
        block = block[len(_EXIF_PREFIX) :]
    if len(block) < 8:
        return 1
    order = block[:4]
    endian: Literal["little", "big"]
    if order == b"II*\x00":
        endian = "little"
    elif order == b"MM\x00*":
        endian = "big"
    else:
        return 1
    ifd = int.from_bytes(block[4:8], endian)
    if ifd < 8 or ifd + 2 > len(block):
        return 1
    count = int.from_bytes(block[ifd : ifd + 2], endian)
    first = ifd + 2
    count = min(count, (len(block) - first) // 12)  # never walk past the block
    for index in range(count):
        entry = first + 12 * index
        tag = int.from_bytes(block[entry : entry + 2], endian)
        if tag != ORIENTATION_TAG:
            continue
        kind = int.from_bytes(block[entry + 2 : entry + 4], endian)
        if kind == _SHORT:
            value = int.from_bytes(block[entry + 8 : entry + 10], endian)
        elif kind == _LONG:
            value = int.from_bytes(block[entry + 8 : entry + 12], endian)
        else:
            return 1
        return value if 1 <= value <= 8 else 1
    return 1
