"""JPEG: walk the marker segments from SOI to the first scan (SOS).

Rules:
- the frame header (any SOF marker: baseline, extended, progressive,
  lossless, arithmetic) gives the size, precision and components; its
  length must match its component count and its precision be 2..16;
- APP1 "Exif" gives the orientation (the first one wins, as in Pillow);
  when it has none, the last APP1 XMP packet's tiff:Orientation does, as
  in Pillow's getexif (libvips ignores XMP: docs/hostile-input.md);
  APP2 "ICC_PROFILE" an ICC profile, wherever they sit before the scan;
- bytes between segments that are not a marker are skipped, as libjpeg and
  Pillow do (with a warning); 0xFF fill bytes too. A whole file that ends
  in such junk before any frame header is corrupt, not truncated. Markers that libjpeg
  refuses (reserved JPGn, hierarchical DHP/EXP, a second SOI, a marker code
  under 0xC0 other than TEM) are corrupt, as is EOI or SOS before any frame;
- a frame with height 0 (defined later by DNL) is refused, as Pillow does;
- every segment length is validated and the walk always moves forward;
- the walk needs the scan header: without it there are no pixels (a file
  that ends before it is truncated). Once the frame is known, a scan beyond
  the read budget is not an error: the header is reported as read so far.
"""

from __future__ import annotations

from preflight._core.formats import FORMATS
from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.headers.exif import exif_orientation, xmp_orientation
from preflight._core.info import Header
from preflight.errors import HeaderError

SIGNATURE = FORMATS["jpeg"].signatures[0]  # the format registry

_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_EXIF = b"Exif\x00\x00"
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_ICC = b"ICC_PROFILE\x00"

# What the byte after 0xFF means to the walk: one table lookup per marker.
_SEGMENT, _FRAME, _APP1, _APP2, _STANDALONE, _SCAN, _END, _FILL, _ESCAPE, _INVALID = range(10)


def _marker_kinds() -> bytes:
    kinds = bytearray([_INVALID]) * 256  # under 0xC0: not a marker libjpeg knows
    kinds[0xC0:0xFF] = bytes([_SEGMENT]) * (0xFF - 0xC0)  # a length follows
    for marker in _SOF_MARKERS:
        kinds[marker] = _FRAME
    kinds[0xE1], kinds[0xE2] = _APP1, _APP2
    for marker in (0x01, *range(0xD0, 0xD8)):  # TEM, RST0-7: no length
        kinds[marker] = _STANDALONE
    kinds[0xDA], kinds[0xD9], kinds[0xFF], kinds[0x00] = _SCAN, _END, _FILL, _ESCAPE
    # JPG (C8), a second SOI (D8), DHP (DE), EXP (DF), JPG0-13 (F0-FD): libjpeg stops.
    for marker in (0xC8, 0xD8, 0xDE, 0xDF, *range(0xF0, 0xFE)):
        kinds[marker] = _INVALID
    return bytes(kinds)


_KINDS = _marker_kinds()


def parse_jpeg(reader: Reader, *, complete: bool, budget: int) -> Header:
    frame, orientation, exif_seen, icc, scan = _walk(reader, complete=complete, budget=budget)
    marker, precision, height, width, components, _ = frame
    # A progressive file, or one whose first scan holds only some of the
    # components, is decoded from a buffer of every coefficient of the image.
    multi_scan = scan is not None and scan + 4 < reader.size and reader.data[scan + 4] < components
    sampling = _sampling(reader, frame)
    buffered = (
        coefficient_buffer_bytes(width, height, sampling)
        if marker in _PROGRESSIVE or multi_scan
        else 0
    )
    least = 0
    if marker not in _ARITHMETIC:
        # Huffman coding spends at least one bit on every 8x8 block of a
        # component it codes (a DC difference, in every kind of scan that
        # carries one), and a single-symbol table still has one-bit codes:
        # the component with the fewest blocks bounds the data from below.
        # (Arithmetic coding can spend less than a bit: no bound.)
        least = (scan or 0) + -(-min(_blocks(width, height, sampling)) // 8)
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
        coefficient_buffer_bytes=buffered,
        samples=components,
        min_file_bytes=least,
    )


_ARITHMETIC = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _blocks(width: int, height: int, sampling: list[tuple[int, int]]) -> list[int]:
    """Each component's 8x8 blocks (jdinput.c: ceil(side * factor / (8 *
    the largest factor)) across and down), without the padding to whole MCUs."""
    max_h = max(h for h, _ in sampling)
    max_v = max(v for _, v in sampling)
    return [-(-width * h // (8 * max_h)) * -(-height * v // (8 * max_v)) for h, v in sampling]


def coefficient_buffer_bytes(width: int, height: int, sampling: list[tuple[int, int]]) -> int:
    """What libjpeg allocates for a whole-image coefficient buffer
    (jdcoefct.c, jinit_d_coef_controller with a full buffer): per component,
    its blocks across and down (jdinput.c: ceil(side * factor / (8 * the
    largest factor))), each rounded up to a whole number of its sampling
    factor, times 64 coefficients of 2 bytes (JCOEF). Shrink-on-load does not
    reduce it: the coefficients are buffered before any scaling."""
    max_h = max(h for h, _ in sampling)
    max_v = max(v for _, v in sampling)
    total = 0
    for h, v in sampling:
        across = -(-width * h // (8 * max_h))
        down = -(-height * v // (8 * max_v))
        total += (-(-across // h) * h) * (-(-down // v) * v) * 64 * 2
    return total


def _sampling(reader: Reader, frame: _Frame) -> list[tuple[int, int]]:
    """The (horizontal, vertical) sampling factors of each component, from the
    frame header (a factor of 0 is read as 1: libjpeg refuses such a file)."""
    body, components = frame[5], frame[4]
    factors = []
    for index in range(components):
        packed = reader.u8(body + 6 + 3 * index + 1)
        factors.append((max(1, packed >> 4), max(1, packed & 0x0F)))
    return factors


def end_marker_after_scan(data: bytes) -> bool | None:
    """For the whole of a JPEG file: whether an end-of-image marker follows
    its first scan header. Entropy-coded data cannot hold 0xFF 0xD9 (0xFF is
    stuffed as 0xFF 0x00), so the first one after the scan header ends the
    image: True means the image is whole (anything after it was appended, as
    in phones' motion photos), False that the file is cut short inside its
    pixel data. None when there is no scan header to start from."""
    try:
        *_, scan = _walk(Reader(data), complete=True, budget=len(data))
    except NeedMoreSignal:
        return None
    except HeaderError as error:
        if error.code != "corrupt":
            raise
        return None
    if scan is None:
        return None
    return data.find(b"\xff\xd9", scan + 2) >= 0


_Frame = tuple[int, int, int, int, int, int]  # marker, precision, height, width, components, body


def _walk(
    reader: Reader, *, complete: bool, budget: int
) -> tuple[_Frame, int, bool, bool, int | None]:
    """The segments up to the first scan: (frame, orientation, EXIF seen,
    ICC seen, the scan header's offset or None when the read budget ended
    the walk first)."""
    # Direct indexing with explicit bounds checks and a table of marker kinds:
    # this loop is most of probe's time on JPEGs, and method calls per read
    # doubled it.
    data, size = reader.data, reader.size
    scan: int | None = None
    offset = 2
    frame: _Frame | None = None
    orientation: int | None = None
    xmp: tuple[int, int] | None = None  # the last XMP packet's span
    exif_seen = icc = junk = False
    try:
        while True:
            if offset + 4 > size and (offset + 2 > size or _KINDS[data[offset + 1]] < _STANDALONE):
                raise NeedMoreSignal(offset + 4)
            if data[offset] != 0xFF:  # junk between segments: skip to the next 0xFF
                junk = True
                offset = data.find(b"\xff", offset)
                if offset < 0:
                    raise NeedMoreSignal(size + 2)
                continue
            marker = data[offset + 1]
            kind = _KINDS[marker]
            if kind < _STANDALONE:  # a segment with a length
                length = (data[offset + 2] << 8) | data[offset + 3]
                if length < 2:
                    raise HeaderError(
                        f"JPEG: segment length {length} at byte {offset}", code="corrupt"
                    )
                body = offset + 4
                offset += 2 + length
                if kind == _SEGMENT:
                    continue
                if kind == _FRAME:
                    if frame is None:
                        frame = _read_frame(reader, marker, body, length)
                elif kind == _APP1:
                    if length >= 8:
                        reader.need(offset)
                        if data.startswith(_EXIF, body):
                            if not exif_seen:
                                exif_seen = True
                                orientation = exif_orientation(data, body + 6, offset)
                        elif data.startswith(_XMP, body):
                            xmp = (body + len(_XMP), offset)
                elif length >= 14:  # APP2
                    reader.need(body + 12)
                    icc = icc or data.startswith(_ICC, body)
            elif kind == _STANDALONE:
                offset += 2
            elif kind == _FILL:  # skip the whole run of fill bytes in one step
                run = data[offset + 1 : offset + 65536]
                offset += len(run) - len(run.lstrip(b"\xff"))
            elif kind == _ESCAPE:  # an escaped 0xFF in junk: libjpeg discards it
                junk = True
                offset += 2
            elif kind == _SCAN and frame is not None:
                scan = offset
                break
            elif kind == _INVALID:
                raise HeaderError(
                    f"JPEG: invalid marker 0x{marker:02x} at byte {offset}", code="corrupt"
                )
            elif frame is None:  # a scan or the end of the image before any frame
                raise HeaderError(
                    "JPEG: no frame header (SOF) before the image data", code="corrupt"
                )
            else:
                raise HeaderError(
                    "JPEG: the image ends (EOI) before its first scan", code="corrupt"
                )
    except NeedMoreSignal as short:
        if complete and junk and frame is None:
            raise HeaderError(
                "JPEG: no frame header, only bytes that are not JPEG", code="corrupt"
            ) from None
        # The frame is known but the scan header is past the read budget: the
        # size is certain, what is missing is proof that pixels follow.
        if complete or frame is None or short.at_least <= budget:
            raise
    assert frame is not None
    if orientation is None and xmp is not None:
        orientation = xmp_orientation(data, *xmp)
    return frame, orientation or 1, exif_seen, icc, scan


def _read_frame(reader: Reader, marker: int, body: int, length: int) -> _Frame:
    """(marker, precision, height, width, components, body offset) of a valid
    frame header."""
    data = reader.data
    reader.need(body + 6)
    precision = data[body]
    height = (data[body + 1] << 8) | data[body + 2]
    width = (data[body + 3] << 8) | data[body + 4]
    components = data[body + 5]
    if length != 8 + 3 * components:
        raise HeaderError(
            f"JPEG: frame header of {length} bytes for {components} components", code="corrupt"
        )
    if width == 0 or height == 0:
        raise HeaderError(f"JPEG: frame size {width}x{height}", code="corrupt")
    if components not in _MODES:
        raise HeaderError(f"JPEG: {components} colour components", code="corrupt")
    if not 2 <= precision <= 16:
        raise HeaderError(f"JPEG: {precision}-bit samples", code="corrupt")
    reader.need(body + length - 2)  # the components' sampling factors
    return marker, precision, height, width, components, body
