# PNG (and APNG): the IHDR chunk and the chunks before the first IDAT.
# Rules:
# - IHDR must be the first chunk, 13 bytes long, with a legal bit depth for
#   its colour type, compression 0, filter 0, interlace 0 or 1, and a correct
#   CRC (libpng and Pillow refuse a damaged IHDR; other CRCs are not checked);
# - acTL before IDAT makes it an APNG (animated when it has over one frame);
#   as in Pillow, an acTL shorter than 8 bytes is corrupt, one with 0 or over
#   2**31 frames, or a second acTL, is ignored (a still PNG), and the frames
#   are acTL's count plus the IDAT image when no fcTL precedes it;
# - tRNS gives transparency, iCCP an ICC profile, eXIf the EXIF orientation;
# - the walk stops at the first IDAT and never reads pixel data, so an eXIf
#   after the pixels is not seen (Pillow reads one there once it has decoded
#   the pixels); chunk lengths over 2**31-1 are corrupt (the PNG spec's
#   limit), so the walk always ends.

from __future__ import annotations

import struct
import zlib

from preflight.core.info import Header
from preflight.errors import CorruptHeaderError
from preflight.headers._reader import NeedMoreSignal, Reader
from preflight.headers.exif import orientation_from_exif

SIGNATURE = b"\x89PNG\r\n\x1a\n"

# (bit depth, colour type) -> (Pillow's mode, has alpha): the legal pairs.
_MODES: dict[tuple[int, int], tuple[str, bool]] = {
    (1, 0): ("1", False),  # gray
    (2, 0): ("L", False),
    (4, 0): ("L", False),
    (8, 0): ("L", False),
    (16, 0): ("I;16", False),
    (8, 2): ("RGB", False),  # RGB
    (16, 2): ("RGB", False),
    (1, 3): ("P", False),  # palette
    (2, 3): ("P", False),
    (4, 3): ("P", False),
    (8, 3): ("P", False),
    (8, 4): ("LA", True),  # gray + alpha
    (16, 4): ("RGBA", True),  # Pillow 13 reads 16-bit gray + alpha as RGBA
    (8, 6): ("RGBA", True),  # RGBA
    (16, 6): ("RGBA", True),
}
_MAX_CHUNK = 2**31 - 1
# length, type, IHDR's 13 bytes, CRC
_IHDR = struct.Struct(">I4sIIBBBBBI")
_CHUNK = struct.Struct(">I4s")


def parse_png(reader: Reader) -> Header:
    data, size = reader.data, reader.size
    reader.need(33)  # the signature and the IHDR chunk
    length, kind, width, height, depth, color_type, compression, filtering, interlace, crc = (
        _IHDR.unpack_from(data, 8)
    )
    if length != 13 or kind != b"IHDR":
        raise CorruptHeaderError("PNG: the first chunk is not a 13-byte IHDR")
    if zlib.crc32(data[12:29]) != crc:
        raise CorruptHeaderError("PNG: the IHDR chunk is damaged (bad CRC)")
    if not (0 < width <= _MAX_CHUNK and 0 < height <= _MAX_CHUNK):
        raise CorruptHeaderError(f"PNG: image size {width}x{height}")
    mode_alpha = _MODES.get((depth, color_type))
    if mode_alpha is None:
        raise CorruptHeaderError(f"PNG: bit depth {depth} with colour type {color_type}")
    if compression != 0 or filtering != 0 or interlace > 1:
        raise CorruptHeaderError("PNG: unknown compression, filter or interlace method")
    mode, alpha = mode_alpha
    declared_frames: int | None = None  # from acTL, as Pillow keeps it
    icc = exif = first_frame_is_idat = False
    orientation = 1
    offset = 33  # after IHDR's length, type, data and CRC
    while True:
        if offset + 8 > size:
            raise NeedMoreSignal(offset + 8)
        length, kind = _CHUNK.unpack_from(data, offset)
        if length > _MAX_CHUNK:
            raise CorruptHeaderError(f"PNG: chunk length {length} at byte {offset}")
        if kind == b"IDAT":
            break
        if kind == b"IEND":
            raise CorruptHeaderError("PNG: no image data (IEND before IDAT)")
        body = offset + 8
        if kind == b"acTL":
            if length < 8:
                raise CorruptHeaderError("PNG: acTL chunk shorter than 8 bytes")
            declared = reader.u32be(body)
            if declared_frames is not None:  # a second acTL voids the first
                declared_frames = None
            elif 0 < declared <= 0x80000000:
                declared_frames = declared
        elif kind == b"fcTL":
            first_frame_is_idat = True
        elif kind == b"tRNS":
            alpha = True
        elif kind == b"iCCP":
            icc = True
        elif kind == b"eXIf":  # the last one wins, as in Pillow
            exif = True
            reader.need(body + length)
            orientation = orientation_from_exif(data, body, body + length)
        offset = body + length + 4  # data and CRC
    frames = 1
    if declared_frames is not None:
        # Without an fcTL before it, the IDAT image is a default image shown
        # by decoders without APNG support, outside the animation: Pillow
        # counts it as one more frame.
        frames = declared_frames + (0 if first_frame_is_idat else 1)
    return Header(
        format="png",
        width=width,
        height=height,
        orientation=orientation,
        animated=frames > 1,
        frames=frames,
        interlaced=interlace == 1,
        has_alpha=alpha,
        mode=mode,
        bit_depth=depth,
        has_icc_profile=icc,
        has_exif=exif,
    )
