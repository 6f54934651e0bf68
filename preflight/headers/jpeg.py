# JPEG: walk the marker segments from SOI to the frame header. Rules:
# - the frame header (any SOF marker: baseline, extended, progressive,
#   lossless, arithmetic) gives the size, precision and components;
# - APP1 "Exif" gives the orientation, APP2 "ICC_PROFILE" an ICC profile,
#   APP14 "Adobe" the colour transform (as Pillow reads them: first EXIF wins);
# - every segment length is validated and the walk always moves forward;
# - a frame with height 0 (defined later by DNL) is refused, as Pillow does;
# - SOS or EOI before any SOF means there is no frame: corrupt;
# - the walk stops at the frame header, as imagesize does: EXIF and ICC
#   segments come before it (JFIF/EXIF order). When the data is the whole
#   file, a scan (SOS) must follow, else it is truncated; a file cut later
#   is found by probe's end-of-file check (a missing EOI marker).

from __future__ import annotations

from preflight.errors import CorruptHeaderError
from preflight.headers._reader import NeedMoreSignal, Reader
from preflight.headers.exif import orientation_from_exif
from preflight.info import Header

SIGNATURE = b"\xff\xd8\xff"

_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length
# Markers are 0x01 and 0xC0-0xFE; anything else after 0xFF is not JPEG.
_SOS, _EOI, _APP1, _APP2, _APP14 = 0xDA, 0xD9, 0xE1, 0xE2, 0xEE
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}


def parse_jpeg(reader: Reader, *, complete: bool = False) -> Header:
    # Direct indexing with explicit bounds checks: this loop is most of probe's
    # time on JPEGs, and the Reader's method calls doubled it.
    data, size = reader.data, reader.size
    offset = 2
    frame: tuple[int, int, int, int, int] | None = None  # marker, precision, h, w, comps
    orientation = 1
    exif_seen = icc = False
    while True:
        if offset + 2 > size:
            raise NeedMoreSignal(offset + 2)
        if data[offset] != 0xFF:
            raise CorruptHeaderError(f"JPEG: expected a marker at byte {offset}")
        marker = data[offset + 1]
        if marker == 0xFF:  # a fill byte
            offset += 1
            continue
        if marker < 0xC0 and marker != 0x01:
            raise CorruptHeaderError(f"JPEG: invalid marker 0x{marker:02x} at byte {offset}")
        offset += 2
        if marker in _STANDALONE:
            continue
        if marker in (_SOS, _EOI):
            break
        if offset + 2 > size:
            raise NeedMoreSignal(offset + 2)
        length = (data[offset] << 8) | data[offset + 1]
        if length < 2:
            raise CorruptHeaderError(f"JPEG: segment length {length} at byte {offset}")
        body = offset + 2
        end = offset + length
        if marker in _SOF_MARKERS and frame is None:
            if length < 8:
                raise CorruptHeaderError("JPEG: frame header too short")
            reader.need(body + 6)
            precision = data[body]
            height = (data[body + 1] << 8) | data[body + 2]
            width = (data[body + 3] << 8) | data[body + 4]
            frame = (marker, precision, height, width, data[body + 5])
            break  # metadata comes before the frame header in practice; stop here
        if marker == _APP1 and not exif_seen and length >= 8:
            reader.need(end)
            if data[body : body + 6] == b"Exif\x00\x00":
                exif_seen = True
                orientation = orientation_from_exif(data[body + 6 : end])
        elif marker == _APP2 and length >= 14:
            reader.need(body + 12)
            icc = icc or data[body : body + 12] == b"ICC_PROFILE\x00"
        offset = end
    if frame is None:
        raise CorruptHeaderError("JPEG: no frame header (SOF) before the image data")
    marker, precision, height, width, components = frame
    if complete and data.find(b"\xff\xda", offset) < 0:
        # The whole file is here and no scan follows the frame header: there
        # are no pixels. (A false match inside a table is possible; probe's
        # end-of-image check still flags such a file.)
        raise NeedMoreSignal(size + 1)
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
