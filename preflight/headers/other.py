# Formats the API does not accept: recognized by signature and named, so the
# user learns what the file is and that it needs converting. Rules:
# - sizes are read where the header gives them cheaply (TIFF, BMP, PSD, ICO,
#   HEIC/AVIF 'ispe'), else None; a malformed size is None, not an error:
#   the file is refused as unsupported either way;
# - SVG is recognized from text: optional BOM and whitespace, an optional XML
#   declaration, comments and doctype, then an <svg element.

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from preflight.headers._reader import NeedMoreSignal, Reader
from preflight.info import Header

_HEIC_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_JXL_BOX = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_JP2_BOX = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_SVG = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:(?:<!--.*?-->|<!DOCTYPE[^>]*>)\s*)*<svg[\s>:]",
    re.S | re.I,
)
_SVG_SNIFF = 4096  # bytes of text in which the <svg element must start


def sniff(reader: Reader) -> Header | None:
    """A Header for an unsupported format, or None if this is no known format."""
    head = reader.data[:16]
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _tiff(reader)
    if head[:2] == b"BM" and len(head) >= 14:
        return _bmp(reader)
    if head[:4] == b"\x00\x00\x01\x00":
        return _sized(reader, "ico", _largest_icon)
    if head[:5] == b"%PDF-":
        return Header(format="pdf", width=None, height=None)
    if head[:2] == b"\xff\x0a" or head[:12] == _JXL_BOX:
        return Header(format="jxl", width=None, height=None)
    if head[:12] == _JP2_BOX:
        return _jp2_box(reader)
    if head[:4] == b"\xff\x4f\xff\x51":  # a bare codestream: SIZ gives the grid size
        return _sized(
            reader, "jp2", lambda r: (r.u32be(8) - r.u32be(16), r.u32be(12) - r.u32be(20))
        )
    if head[:4] == b"8BPS":
        return _sized(reader, "psd", lambda r: (r.u32be(18), r.u32be(14)))
    if head[4:8] == b"ftyp":
        return _isobmff(reader)
    if _SVG.match(reader.data[:_SVG_SNIFF]):
        return Header(format="svg", width=None, height=None)
    return None


def needs_more_to_sniff(data: bytes) -> bool:
    """True when a short prefix could still turn out to be a known format."""
    return len(data) < 16 or (len(data) < _SVG_SNIFF and data.lstrip()[:1] == b"<")


def _sized(reader: Reader, fmt: str, read: Callable[[Reader], tuple[int, int]]) -> Header:
    try:
        width, height = read(reader)
    except NeedMoreSignal:
        return Header(format=fmt, width=None, height=None)
    if not width or not height:
        return Header(format=fmt, width=None, height=None)
    return Header(format=fmt, width=width, height=height)


def _largest_icon(reader: Reader) -> tuple[int, int]:
    """ICO holds several sizes; Pillow reports the largest (0 means 256 px)."""
    count = reader.u16le(4)
    best = (0, 0)
    for index in range(min(count, 256)):
        entry = 6 + 16 * index
        width, height = reader.u8(entry) or 256, reader.u8(entry + 1) or 256
        if width * height > best[0] * best[1]:
            best = (width, height)
    return best


def _jp2_box(reader: Reader) -> Header:
    """JPEG 2000 (JP2): the 'ihdr' box inside 'jp2h' holds height, then width."""
    at = reader.data.find(b"ihdr", 12, 4096)
    if at < 0:
        return Header(format="jp2", width=None, height=None)
    return _sized(reader, "jp2", lambda r: (r.u32be(at + 8), r.u32be(at + 4)))


def _tiff(reader: Reader) -> Header:
    big = reader.data[:2] == b"MM"
    u16 = reader.u16be if big else reader.u16le
    u32 = reader.u32be if big else reader.u32le
    width: int | None = None
    height: int | None = None
    orientation = 1
    try:
        if u16(2) == 43:  # BigTIFF: sizes not read
            return Header(format="tiff", width=None, height=None)
        ifd = u32(4)
        count = min(u16(ifd), 512)
        for index in range(count):
            entry = ifd + 2 + 12 * index
            tag, kind = u16(entry), u16(entry + 2)
            value = u16(entry + 8) if kind == 3 else u32(entry + 8)
            if tag == 256:
                width = value
            elif tag == 257:
                height = value
            elif tag == 0x0112:
                orientation = value if 1 <= value <= 8 else 1
    except NeedMoreSignal:
        pass
    if not width or not height:
        width = height = None
    return Header(format="tiff", width=width, height=height, orientation=orientation)


def _bmp(reader: Reader) -> Header:
    try:
        header_size = reader.u32le(14)
        if header_size == 12:
            width, height = reader.u16le(18), reader.u16le(20)
        else:
            width = reader.u32le(18)
            raw = reader.u32le(22)
            height = raw if raw < 2**31 else 2**32 - raw  # negative: top-down rows
            if width >= 2**31:
                width = 0
    except NeedMoreSignal:
        width = height = 0
    return Header(format="bmp", width=width or None, height=height or None)


def _isobmff(reader: Reader) -> Header | None:
    size = reader.u32be(0)
    brands = {reader.data[8:12]}
    end = min(size, len(reader.data)) if size >= 16 else 16
    brands.update(reader.data[i : i + 4] for i in range(16, end - 3, 4))
    if brands & _AVIF_BRANDS:
        fmt = "avif"
    elif brands & _HEIC_BRANDS:
        fmt = "heic"
    else:
        return None  # an MP4, MOV or other ISO file: not an image
    width, height = _ispe(reader.data)
    return Header(format=fmt, width=width, height=height)


def _box_body(data: bytes, kind: bytes, size: int) -> bytes | None:
    at = data.find(kind)
    if at < 4 or at + 4 + size > len(data):
        return None
    return data[at + 4 : at + 4 + size]


def _ispe(data: bytes) -> tuple[int | None, int | None]:
    """The image size of a HEIF/AVIF file, as decoders show it.

    The largest 'ispe' (image spatial extents) property is the primary image
    (a grid's tiles and thumbnails are smaller); a 'clap' (clean aperture)
    box crops it and an 'irot' box of 90 or 270 degrees turns it, as
    decoders do. A full item-property walk is not needed for these files.
    """
    width, height = _largest_ispe(data)
    if width is None or height is None:
        return None, None
    clap = _box_body(data, b"clap", 32)
    if clap is not None:
        w_num, w_den, h_num, h_den = struct.unpack(">IIII", clap[:16])
        if w_den and h_den and 0 < w_num // w_den <= width and 0 < h_num // h_den <= height:
            width, height = w_num // w_den, h_num // h_den
    irot = _box_body(data, b"irot", 1)
    if irot is not None and irot[0] & 0x03 in (1, 3):
        width, height = height, width
    return width, height


def _largest_ispe(data: bytes) -> tuple[int | None, int | None]:
    best: tuple[int, int] | None = None
    start = 0
    while True:
        at = data.find(b"ispe", start)
        if at < 4 or at + 16 > len(data):
            break
        width = int.from_bytes(data[at + 8 : at + 12], "big")
        height = int.from_bytes(data[at + 12 : at + 16], "big")
        if width and height and (best is None or width * height > best[0] * best[1]):
            best = (width, height)
        start = at + 4
    return best if best else (None, None)
