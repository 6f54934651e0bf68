# JPEG: walk the marker segments from SOI to the first SOS. Rules:
# - the frame header (any SOF marker: baseline, extended, progressive,
#   lossless, arithmetic) gives the size, precision and components;
# - APP1 "Exif" gives the orientation, APP2 "ICC_PROFILE" an ICC profile,
#   APP14 "Adobe" the colour transform (as Pillow reads them: first EXIF wins);
# - every segment length is validated and the walk always moves forward;
# - a frame with height 0 (defined later by DNL) is refused, as Pillow does;
# - SOS or EOI before any SOF means there is no frame: corrupt.

from __future__ import annotations

from preflight.errors import CorruptHeaderError
from preflight.headers._reader import Reader
from preflight.headers.exif import orientation_from_exif
from preflight.info import Header

SIGNATURE = b"\xff\xd8\xff"

_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length
# Markers are 0x01 and 0xC0-0xFE; anything else after 0xFF is not JPEG.
_SOS, _EOI, _APP1, _APP2, _APP14 = 0xDA, 0xD9, 0xE1, 0xE2, 0xEE
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}


def parse_jpeg(reader: Reader) -> Header:
    offset = 2
    frame: tuple[int, int, int, int, int] | None = None  # marker, precision, h, w, comps
    orientation = 1
    exif_seen = icc = False
    while True:
        if reader.u8(offset) != 0xFF:
            raise CorruptHeaderError(f"JPEG: expected a marker at byte {offset}")
        while reader.u8(offset + 1) == 0xFF:  # fill bytes
            offset += 1
        marker = reader.u8(offset + 1)
        if marker < 0xC0 and marker != 0x01:
            raise CorruptHeaderError(f"JPEG: invalid marker 0x{marker:02x} at byte {offset}")
        offset += 2
        if marker in _STANDALONE:
            continue
        if marker in (_SOS, _EOI):
            break
        length = reader.u16be(offset)
        if length < 2:
            raise CorruptHeaderError(f"JPEG: segment length {length} at byte {offset}")
        body = offset + 2
        end = offset + length
        if marker in _SOF_MARKERS and frame is None:
            precision = reader.u8(body)
            height = reader.u16be(body + 1)
            width = reader.u16be(body + 3)
            components = reader.u8(body + 5)
            if length < 8:
                raise CorruptHeaderError("JPEG: frame header too short")
            frame = (marker, precision, height, width, components)
        elif marker == _APP1 and not exif_seen and length >= 8:
            if reader.bytes(body, 6) == b"Exif\x00\x00":
                exif_seen = True
                orientation = orientation_from_exif(reader.bytes(body + 6, length - 8))
        elif marker == _APP2 and length >= 14 and reader.bytes(body, 12) == b"ICC_PROFILE\x00":
            icc = True
        offset = end
    if frame is None:
        raise CorruptHeaderError("JPEG: no frame header (SOF) before the image data")
    marker, precision, height, width, components = frame
    if width == 0 or height == 0:
        raise CorruptHeaderError(f"JPEG: frame size {width}x{height}")
    if components not in _MODES:
        raise CorruptHeaderError(f"JPEG: {components} colour components")
    # The scan header must be there too: a file cut before its first scan has no pixels.
    return Header(
        format="jpeg",
        width=width,
        height=height,
        orientation=orientation,
        progressive=marker in _PROGRESSIVE,
        mode=_MODES[components],
        bit_depth=precision,
        color_components=components,
        has_icc_profile=icc,
        has_exif=exif_seen,
    )
