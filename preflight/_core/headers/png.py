"""PNG (and APNG): the IHDR chunk and the chunks before the first IDAT.

Rules:
- IHDR must be the first chunk, 13 bytes long, with a legal bit depth for
  its colour type, compression 0, filter 0, interlace 0 or 1, and a correct
  CRC (libpng and Pillow refuse a damaged IHDR; other CRCs are not checked);
- acTL before IDAT makes it an APNG (animated when it has over one frame);
  as in Pillow, an acTL shorter than 8 bytes is corrupt, one with 0 or over
  2**31 frames, or a second acTL, is ignored (a still PNG), and the frames
  are acTL's count plus the IDAT image when no fcTL precedes it;
- tRNS gives transparency, iCCP an ICC profile, eXIf the EXIF orientation;
  as in Pillow's getexif: without eXIf, a text chunk "Raw profile type
  exif" (ImageMagick's hex dump of EXIF) stands for it, and without an
  orientation there, an XMP text chunk's tiff:Orientation (libvips reads
  neither: docs/hostile-input.md); the last chunk of each kind wins;
- the walk stops at the first IDAT and never reads pixel data, so an eXIf
  after the pixels is not seen (Pillow reads one there once it has decoded
  the pixels); chunk lengths over 2**31-1 are corrupt (the PNG spec's
  limit), so the walk always ends.
"""

from __future__ import annotations

import struct
import zlib

from preflight._core.formats import FORMATS
from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.headers.exif import exif_orientation, xmp_orientation
from preflight._core.info import Header
from preflight.errors import HeaderError

SIGNATURE = FORMATS["png"].signatures[0]  # the format registry

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
        raise HeaderError("PNG: the first chunk is not a 13-byte IHDR", code="corrupt")
    if zlib.crc32(data[12:29]) != crc:
        raise HeaderError("PNG: the IHDR chunk is damaged (bad CRC)", code="corrupt")
    if not (0 < width <= _MAX_CHUNK and 0 < height <= _MAX_CHUNK):
        raise HeaderError(f"PNG: image size {width}x{height}", code="corrupt")
    mode_alpha = _MODES.get((depth, color_type))
    if mode_alpha is None:
        raise HeaderError(f"PNG: bit depth {depth} with colour type {color_type}", code="corrupt")
    if compression != 0 or filtering != 0 or interlace > 1:
        raise HeaderError("PNG: unknown compression, filter or interlace method", code="corrupt")
    mode, alpha = mode_alpha
    declared_frames: int | None = None  # from acTL, as Pillow keeps it
    icc = exif = first_frame_is_idat = False
    exif_span: tuple[int, int] | None = None
    texts: dict[bytes, bytes | None] = {}  # the text chunks orientation may come from
    offset = 33  # after IHDR's length, type, data and CRC
    while True:
        if offset + 8 > size:
            raise NeedMoreSignal(offset + 8)
        length, kind = _CHUNK.unpack_from(data, offset)
        if length > _MAX_CHUNK:
            raise HeaderError(f"PNG: chunk length {length} at byte {offset}", code="corrupt")
        if kind == b"IDAT":
            break
        if kind == b"IEND":
            raise HeaderError("PNG: no image data (IEND before IDAT)", code="corrupt")
        body = offset + 8
        if kind == b"acTL":
            if length < 8:
                raise HeaderError("PNG: acTL chunk shorter than 8 bytes", code="corrupt")
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
            exif_span = (body, body + length)
        elif kind in _TEXT_CHUNKS:
            keyword = data[body : min(body + length, body + 80)].split(b"\x00", 1)[0]
            if keyword in (_RAW_EXIF, _XMP):
                reader.need(body + length)
                texts[keyword] = _text(kind, data[body + len(keyword) + 1 : body + length])
        offset = body + length + 4  # data and CRC
    orientation = _orientation(data, exif_span, texts)
    frames = 1
    if declared_frames is not None:
        # Without an fcTL before it, the IDAT image is a default image shown
        # by decoders without APNG support, outside the animation: Pillow
        # counts it as one more frame.
        frames = declared_frames + (0 if first_frame_is_idat else 1)
    # What decoders hold: a palette is expanded to RGB (RGBA with tRNS).
    if color_type == 3:
        samples = 4 if alpha else 3
    else:
        samples = _CHANNELS[color_type] + (1 if alpha and color_type in (0, 2) else 0)
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
        samples=samples,
        min_file_bytes=min_png_bytes(width, height, _CHANNELS[color_type] * depth),
    )


# Samples per pixel stored in the file, by colour type.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# zlib's largest possible compression ratio: a 258-byte match coded in two
# bits (zlib's FAQ, "What is the maximum compression ratio?").
DEFLATE_MAX_RATIO = 1032


def min_png_bytes(width: int, height: int, bits_per_pixel: int) -> int:
    """The shortest PNG that can hold width x height pixels of this many
    bits: the signature, IHDR, and the image's packed bits (filter bytes not
    counted) at zlib's best ratio. Conservative: interlacing only adds."""
    packed = -(-width * height * bits_per_pixel // 8)
    return 33 + -(-packed // DEFLATE_MAX_RATIO)


_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})
_RAW_EXIF = b"Raw profile type exif"
_XMP = b"XML:com.adobe.xmp"
_MAX_TEXT = 1 << 20  # decompressed text kept from one chunk


def _text(kind: bytes, rest: bytes) -> bytes | None:
    """The text of a tEXt/zTXt/iTXt chunk after its keyword and NUL, or None
    when it cannot be read (bad compression, over _MAX_TEXT)."""
    compressed = False
    if kind == b"zTXt":
        compressed, rest = True, rest[1:]  # the compression method byte
    elif kind == b"iTXt":
        if len(rest) < 2:
            return None
        compressed = rest[0] == 1
        parts = rest[2:].split(b"\x00", 2)  # language, translated keyword, text
        if len(parts) < 3:
            return None
        rest = parts[2]
    if not compressed:
        return rest
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(rest, _MAX_TEXT)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else text


def _orientation(
    data: bytes, exif_span: tuple[int, int] | None, texts: dict[bytes, bytes | None]
) -> int:
    """Pillow's order: the eXIf chunk, else the raw EXIF text; then XMP."""
    found: int | None = None
    if exif_span is not None:
        found = exif_orientation(data, *exif_span)
    elif texts.get(_RAW_EXIF):
        raw = texts[_RAW_EXIF] or b""
        try:
            block = bytes.fromhex(b"".join(raw.split(b"\n")[3:]).decode("latin-1"))
        except ValueError:
            block = b""
        found = exif_orientation(block)
    if found is None and texts.get(_XMP):
        found = xmp_orientation(texts[_XMP] or b"")
    return found or 1
