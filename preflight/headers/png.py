# PNG (and APNG): the IHDR chunk and the chunks before the first IDAT.
# Rules:
# - IHDR must be the first chunk, 13 bytes long, with a legal bit depth for
#   its colour type, compression 0, filter 0, interlace 0 or 1;
# - acTL before IDAT makes it an APNG (animated when it has over one frame);
#   tRNS gives transparency, iCCP an ICC profile, eXIf the EXIF orientation;
# - the walk stops at the first IDAT and never reads pixel data; chunk lengths
#   over 2**31-1 are corrupt (the PNG spec's limit), so the walk always ends.

from __future__ import annotations

import struct

from preflight.errors import CorruptHeaderError
from preflight.headers._reader import Reader
from preflight.headers.exif import orientation_from_exif
from preflight.info import Header

SIGNATURE = b"\x89PNG\r\n\x1a\n"

# colour type -> (allowed bit depths, Pillow mode by depth, has alpha)
_COLOR_TYPES: dict[int, tuple[frozenset[int], bool]] = {
    0: (frozenset({1, 2, 4, 8, 16}), False),  # gray
    2: (frozenset({8, 16}), False),  # RGB
    3: (frozenset({1, 2, 4, 8}), False),  # palette
    4: (frozenset({8, 16}), True),  # gray + alpha
    6: (frozenset({8, 16}), True),  # RGBA
}
_MAX_CHUNK = 2**31 - 1
_IHDR = struct.Struct(">I4sIIBBBBB")  # length, type, then IHDR's 13 bytes
_CHUNK = struct.Struct(">I4s")


def _mode(color_type: int, depth: int) -> str:
    """The mode Pillow reports for this PNG."""
    if color_type == 0:
        if depth == 1:
            return "1"
        if depth == 16:
            return "I;16"
        return "L"
    if color_type == 2:
        return "RGB"
    if color_type == 3:
        return "P"
    if color_type == 4:
        return "LA"
    return "RGBA"


def parse_png(reader: Reader) -> Header:
    data = reader.data
    reader.need(33)
    length, kind, width, height, depth, color_type, compression, filtering, interlace = (
        _IHDR.unpack_from(data, 8)
    )
    if length != 13 or kind != b"IHDR":
        raise CorruptHeaderError("PNG: the first chunk is not a 13-byte IHDR")
    if not (0 < width <= _MAX_CHUNK and 0 < height <= _MAX_CHUNK):
        raise CorruptHeaderError(f"PNG: image size {width}x{height}")
    if color_type not in _COLOR_TYPES or depth not in _COLOR_TYPES[color_type][0]:
        raise CorruptHeaderError(f"PNG: bit depth {depth} with colour type {color_type}")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise CorruptHeaderError("PNG: unknown compression, filter or interlace method")
    alpha = _COLOR_TYPES[color_type][1]
    frames = 1
    animated = icc = exif = False
    orientation = 1
    offset = 33  # after IHDR's length, type, data and CRC
    while True:
        reader.need(offset + 8)
        length, kind = _CHUNK.unpack_from(data, offset)
        if length > _MAX_CHUNK:
            raise CorruptHeaderError(f"PNG: chunk length {length} at byte {offset}")
        if kind == b"IDAT":
            break
        if kind == b"IEND":
            raise CorruptHeaderError("PNG: no image data (IEND before IDAT)")
        body = offset + 8
        if kind == b"acTL" and length >= 8:
            frames = reader.u32be(body) or 1
            animated = frames > 1
        elif kind == b"tRNS":
            alpha = True
        elif kind == b"iCCP":
            icc = True
        elif kind == b"eXIf" and not exif:
            exif = True
            orientation = orientation_from_exif(reader.bytes(body, length))
        offset = body + length + 4  # data and CRC
    return Header(
        format="png",
        width=width,
        height=height,
        orientation=orientation,
        animated=animated,
        frames=frames,
        interlaced=interlace == 1,
        has_alpha=alpha,
        mode=_mode(color_type, depth),
        bit_depth=depth,
        has_icc_profile=icc,
        has_exif=exif,
    )
