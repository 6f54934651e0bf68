"""Formats the API does not accept: recognized by signature and named.

So the user learns what the file is and that it needs converting.

Rules:
- sizes are read where the header gives them cheaply (TIFF, BMP, PSD, ICO,
  JPEG 2000, and HEIC/AVIF from the primary item's properties), else None;
  a malformed size is None, not an error: the file is refused as
  unsupported either way (and prepare refuses to decode a file whose size
  it does not know);
- the size is that of what a decoder will decode, not what a directory
  says: for ICO, the embedded PNG's IHDR or DIB header of the entry Pillow
  picks; for TIFF, the first IFD, wherever it sits within the read budget
  (NeedMore asks for it), with the first of duplicated tags, as libtiff
  and Pillow keep;
- SVG is recognized from text: optional BOM and whitespace, then XML
  declarations, processing instructions, comments and a doctype, then an
  <svg element, within the first 4 KiB. The scan moves forward with each
  step (a backtracking regular expression took exponential time on
  "<!---->" repeated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from preflight._core.formats import FORMATS
from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.info import Header

_HEIC_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# Signatures, from the format registry (preflight._core.formats).
_TIFF = FORMATS["tiff"].signatures
(_BMP,) = FORMATS["bmp"].signatures
(_ICO,) = FORMATS["ico"].signatures
(_PDF,) = FORMATS["pdf"].signatures
_JXL_CODESTREAM, _JXL_BOX = FORMATS["jxl"].signatures
_JP2_BOX, _JP2_CODESTREAM = FORMATS["jp2"].signatures
(_PSD,) = FORMATS["psd"].signatures
_SVG_SNIFF = 4096  # bytes of text in which the <svg element must start
_XML_SPACE = b" \t\r\n"
_SVG_NAME_END = frozenset(b" \t\r\n>/:")


def sniff(reader: Reader, *, complete: bool, budget: int) -> Header | None:
    """A Header for an unsupported format, or None if this is no known format."""
    head = reader.data[:16]
    if head[:4] in _TIFF:
        return _tiff(reader, complete=complete, budget=budget)
    if head[:2] == _BMP and len(head) >= 14:
        return _bmp(reader)
    if head[:4] == _ICO:
        return _ico(reader, complete=complete, budget=budget)
    if head[:5] == _PDF:
        return Header(format="pdf", width=None, height=None)
    if head[:2] == _JXL_CODESTREAM or head[:12] == _JXL_BOX:
        return Header(format="jxl", width=None, height=None)
    if head[:12] == _JP2_BOX:
        return _jp2_box(reader)
    if head[:4] == _JP2_CODESTREAM:  # a bare codestream: SIZ gives the grid size
        return _sized(
            reader, "jp2", lambda r: (r.u32be(8) - r.u32be(16), r.u32be(12) - r.u32be(20))
        )
    if head[:4] == _PSD:
        return _sized(reader, "psd", lambda r: (r.u32be(18), r.u32be(14)))
    if head[4:8] == b"ftyp":
        return _isobmff(reader, complete=complete, budget=budget)
    if _svg_prologue(reader.data) is True:
        return Header(format="svg", width=None, height=None)
    return None


def needs_more_to_sniff(data: bytes) -> bool:
    """True when a short prefix could still turn out to be a known format."""
    return len(data) < 16 or (len(data) < _SVG_SNIFF and _svg_prologue(data) is None)


def _svg_prologue(data: bytes) -> bool | None:
    """True if the text starts an SVG document, False if it cannot, None if
    the data ends (within the sniffing window) before that is known."""
    text = data[:_SVG_SNIFF]
    at = 3 if text.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while at < len(text) and text[at] in _XML_SPACE:
            at += 1
        if at >= len(text) or text[at] != 0x3C:  # '<'
            return None if at >= len(text) else False
        if text.startswith(b"<!--", at):
            close, skip = text.find(b"-->", at + 4), 3
        elif text.startswith(b"<?", at):
            close, skip = text.find(b"?>", at + 2), 2
        elif text[at : at + 9].upper() == b"<!DOCTYPE":
            bracket, close = text.find(b"[", at), text.find(b">", at)
            if 0 <= bracket < close:  # an internal subset may hold '>'
                close = text.find(b"]", bracket)
                close = text.find(b">", close) if close >= 0 else -1
            skip = 1
        elif text.startswith(b"<svg", at) and len(text) > at + 4:
            return text[at + 4] in _SVG_NAME_END
        else:
            return None if len(text) - at < 5 and b"<svg".startswith(text[at:]) else False
        if close < 0:
            return None
        at = close + skip


def _sized(reader: Reader, fmt: str, read: Callable[[Reader], tuple[int, int]]) -> Header:
    try:
        width, height = read(reader)
    except NeedMoreSignal:
        return Header(format=fmt, width=None, height=None)
    if width <= 0 or height <= 0:  # e.g. a JPEG 2000 offset past the grid
        return Header(format=fmt, width=None, height=None)
    return Header(format=fmt, width=width, height=height)


def _ico(reader: Reader, *, complete: bool, budget: int) -> Header:
    """ICO: the size of the image Pillow decodes. Its directory may say 16x16
    while the embedded PNG is 13000x13000: the embedded image's own header
    is what counts (read within the budget; unknown when cut or past it)."""
    try:
        size = _icon_image_size(reader)
    except NeedMoreSignal as short:
        if not complete and short.at_least <= budget:
            raise
        size = None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return Header(format="ico", width=None, height=None)
    return Header(format="ico", width=size[0], height=size[1], samples=4)


def _icon_image_size(reader: Reader) -> tuple[int, int] | None:
    """Pillow's choice of entry (IcoImagePlugin.IcoFile: the largest
    directory size, then the lowest colour depth, then directory order) and
    the size of the image stored there: a PNG's IHDR, or a DIB's header
    (whose height counts the XOR image and the AND mask: half is shown)."""
    count = reader.u16le(4)
    if count == 0:
        return None
    entries = []
    for index in range(count):  # Pillow reads every entry: so does this
        entry = 6 + 16 * index
        width, height = reader.u8(entry) or 256, reader.u8(entry + 1) or 256
        colours, bpp = reader.u8(entry + 2), reader.u16le(entry + 6)
        depth = bpp or (colours and (colours - 1).bit_length()) or 256  # ceil(log2)
        entries.append((-(width * height), depth, index, reader.u32le(entry + 12)))
    offset = min(entries)[3]
    if reader.bytes(offset, 8) == b"\x89PNG\r\n\x1a\n":
        return reader.u32be(offset + 16), reader.u32be(offset + 20)
    header_size = reader.u32le(offset)
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = reader.u16le(offset + 4), reader.u16le(offset + 6)
    elif header_size >= 40:
        width = _signed32(reader.u32le(offset + 4))
        height = abs(_signed32(reader.u32le(offset + 8)))
    else:
        return None
    return width, height // 2


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _jp2_box(reader: Reader) -> Header:
    """JPEG 2000 (JP2): the 'ihdr' box inside 'jp2h' holds height, then width."""
    at = reader.data.find(b"ihdr", 12, 4096)
    if at < 0:
        return Header(format="jp2", width=None, height=None)
    return _sized(reader, "jp2", lambda r: (r.u32be(at + 8), r.u32be(at + 4)))


def _tiff(reader: Reader, *, complete: bool, budget: int) -> Header:
    """Width, height and orientation from the first IFD (classic or BigTIFF).
    Many writers put the IFD after the pixels, at the end of the file: it is
    asked for (NeedMore) when within the budget, else the sizes are unknown."""
    big_endian = reader.data[:2] == b"MM"
    u16 = reader.u16be if big_endian else reader.u16le
    u32 = reader.u32be if big_endian else reader.u32le
    u64 = reader.u64be if big_endian else reader.u64le
    found: dict[int, int] = {}
    try:
        big_tiff = u16(2) == 43  # 8-byte offsets and counts, 20-byte entries
        if big_tiff:
            ifd, count = u64(8), 0
            if u16(4) == 8:  # the offset size BigTIFF defines
                count = u64(ifd)
            first, entry_size, value_field = ifd + 8, 20, 12
        else:
            ifd = u32(4)
            count, first, entry_size, value_field = u16(ifd), ifd + 2, 12, 8
        count = min(count, 4096)
        reader.need(first + entry_size * count)  # the whole directory, in one request
        for index in range(count):
            entry = first + entry_size * index
            tag = u16(entry)
            if tag in _TIFF_TAGS and tag not in found:  # the first one wins
                kind, value_at = u16(entry + 2), entry + value_field
                if tag == _BITS_PER_SAMPLE and kind == 3:
                    count = u64(entry + 4) if big_tiff else u32(entry + 4)
                    value = _largest_short(count, value_at, u16, u32, u64, big_tiff=big_tiff)
                else:
                    value = _tiff_integer(kind, value_at, u16, u32, u64, big_tiff=big_tiff)
                if value is not None:
                    found[tag] = value
    except NeedMoreSignal as short:
        if not complete and short.at_least <= budget:
            raise
        found = {}  # the IFD is cut short or past the budget: sizes unknown
    width, height = found.get(256) or None, found.get(257) or None
    if width is None or height is None:
        width = height = None
    orientation = found.get(0x0112, 1)
    samples = max(1, found.get(_SAMPLES_PER_PIXEL, 1))
    bits = max(1, found.get(_BITS_PER_SAMPLE, 1))
    held = samples
    if found.get(_PHOTOMETRIC) == 3:  # a palette: decoders expand it to RGB
        held, bits = 3, 8
    per_sample = -(-bits // 8)
    tile_bytes = 0
    if found.get(_TILE_WIDTH) and found.get(_TILE_LENGTH):
        tile_bytes = found[_TILE_WIDTH] * found[_TILE_LENGTH] * samples * per_sample
    least = 0
    ratio = _BEST_RATIO.get(found.get(_COMPRESSION, 1))
    if width is not None and height is not None and ratio is not None:
        packed = height * -(-width * samples * found.get(_BITS_PER_SAMPLE, 1) // 8)
        least = 8 + -(-packed // ratio)
    return Header(
        format="tiff",
        width=width,
        height=height,
        orientation=orientation if 1 <= orientation <= 8 else 1,
        bit_depth=bits,
        samples=held,
        min_file_bytes=least,
        tile_bytes=tile_bytes,
    )


_BITS_PER_SAMPLE, _COMPRESSION, _PHOTOMETRIC, _SAMPLES_PER_PIXEL = 258, 259, 262, 277
_TILE_WIDTH, _TILE_LENGTH = 322, 323
_TIFF_TAGS = frozenset(
    {256, 257, 0x0112, _BITS_PER_SAMPLE, _COMPRESSION, _PHOTOMETRIC, _SAMPLES_PER_PIXEL}
    | {_TILE_WIDTH, _TILE_LENGTH}
)
# Compression -> the most bytes of pixels one byte of its data can give:
# none (1:1), LZW (5; a code of at least 9 bits gives at most 4096 bytes),
# Deflate (8 and the old 32946; zlib's 1032:1), PackBits (32773; two bytes
# repeat a byte at most 128 times). Other compressions: no bound is used.
_BEST_RATIO = {1: 1, 5: 4096 * 8 // 9, 8: 1032, 32946: 1032, 32773: 64}


def _largest_short(
    count: int,
    at: int,
    u16: Callable[[int], int],
    u32: Callable[[int], int],
    u64: Callable[[int], int],
    *,
    big_tiff: bool,
) -> int | None:
    """The largest of a SHORT array's first values (BitsPerSample holds one
    per sample): inline when they fit in the entry, else at its offset."""
    if count < 1:
        return None
    inline = 4 if big_tiff else 2  # SHORTs that fit in the value field
    start = at if count <= inline else (u64(at) if big_tiff else u32(at))
    return max(u16(start + 2 * index) for index in range(min(count, 64)))


def _tiff_integer(
    kind: int,
    at: int,
    u16: Callable[[int], int],
    u32: Callable[[int], int],
    u64: Callable[[int], int],
    *,
    big_tiff: bool,
) -> int | None:
    """An unsigned integer tag value stored in the entry: SHORT, LONG, or
    LONG8 in BigTIFF; None for other types (libtiff rejects them for sizes)."""
    if kind == 3:
        return u16(at)
    if kind == 4:
        return u32(at)
    if kind == 16 and big_tiff:
        return u64(at)
    return None


def _bmp(reader: Reader) -> Header:
    bpp, compression = 24, -1
    try:
        header_size = reader.u32le(14)
        if header_size == 12:
            width, height = reader.u16le(18), reader.u16le(20)
            bpp, compression = reader.u16le(24), 0
        else:
            width = reader.u32le(18)
            raw = reader.u32le(22)
            height = raw if raw < 2**31 else 2**32 - raw  # negative: top-down rows
            if width >= 2**31:
                width = 0
            bpp, compression = reader.u16le(28), reader.u32le(30)
        pixels_at = reader.u32le(10)
    except NeedMoreSignal:
        width = height = pixels_at = 0
    least = 0
    if width and height and compression in (0, 3) and 1 <= bpp <= 32:
        # Uncompressed rows (BI_RGB, BI_BITFIELDS), padded to 4 bytes: all there or cut short.
        least = pixels_at + ((width * bpp + 31) // 32) * 4 * height
    return Header(
        format="bmp",
        width=width or None,
        height=height or None,
        samples=4 if bpp == 32 else 3,  # a palette or 16 bits are read as RGB
        min_file_bytes=least,
    )


def _isobmff(reader: Reader, *, complete: bool, budget: int) -> Header | None:
    data = reader.data
    size = reader.u32be(0)
    brands = {data[8:12]}
    end = min(size, len(data)) if size >= 16 else 16
    brands.update(data[i : i + 4] for i in range(16, end - 3, 4))
    if brands & _AVIF_BRANDS:
        fmt = "avif"
    elif brands & _HEIC_BRANDS:
        fmt = "heic"
    else:
        return None  # an MP4, MOV or other ISO file: not an image
    try:
        width, height, orientation = _heif_size(reader)
    except NeedMoreSignal as short:
        if not complete and short.at_least <= budget:
            raise
        width, height, orientation = None, None, 1  # the meta box is cut or past the budget
    return Header(format=fmt, width=width, height=height, orientation=orientation)


def _boxes(reader: Reader, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of each ISO-BMFF box in data[start:end]."""
    offset = start
    while offset + 8 <= end:
        size, kind, header = reader.u32be(offset), reader.bytes(offset + 4, 4), 8
        if size == 1:  # a 64-bit size follows the type
            size, header = reader.u64be(offset + 8), 16
        elif size == 0:  # to the end of the enclosing box
            size = end - offset
        if size < header:
            return  # a box smaller than its own header: stop, sizes unknown
        yield kind, offset + header, min(offset + size, end)
        offset += size


def _child(reader: Reader, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, body, body_end in _boxes(reader, start, end):
        if found == kind:
            return body, body_end
    return None


# (irot angle in quarter turns anticlockwise, imir axis or None) -> the EXIF
# orientation with the same effect, as libavif (and so Pillow) converts them.
# imir axis 0 exchanges top and bottom, 1 left and right.
_HEIF_ORIENTATIONS = {
    (0, None): 1,
    (1, None): 8,
    (2, None): 3,
    (3, None): 6,
    (0, 0): 4,
    (1, 0): 5,
    (2, 0): 2,
    (3, 0): 7,
    (0, 1): 2,
    (1, 1): 7,
    (2, 1): 4,
    (3, 1): 5,
}


def _heif_size(reader: Reader) -> tuple[int | None, int | None, int]:
    """(width, height, orientation) of the primary image of a HEIF/AVIF file.

    meta/pitm names the primary item; meta/iprp/ipma lists its properties,
    indices into meta/iprp/ipco: 'ispe' (the stored size), 'clap' (a clean
    aperture, which crops it), 'irot' and 'imir' (a turn and a mirror, given
    as the EXIF orientation with the same effect, as Pillow does for AVIF:
    display_width/display_height are what decoders show). Sizes are unknown
    when any of these boxes is missing.
    """
    meta = _child(reader, 0, 1 << 62, b"meta")
    if meta is None:
        return None, None, 1
    primary: int | None = None
    properties: list[tuple[bytes, int, int]] = []
    associations: dict[int, list[int]] = {}
    for kind, body, body_end in _boxes(reader, meta[0] + 4, meta[1]):  # meta is a full box
        if kind == b"pitm":
            primary = reader.u16be(body + 4) if reader.u8(body) == 0 else reader.u32be(body + 4)
        elif kind == b"iprp":
            ipco = _child(reader, body, body_end, b"ipco")
            if ipco is not None:
                properties = list(_boxes(reader, *ipco))
            ipma = _child(reader, body, body_end, b"ipma")
            if ipma is not None:
                associations = _item_properties(reader, ipma[0])
    if primary is None or primary not in associations:
        return None, None, 1
    width: int | None = None
    height: int | None = None
    angle, axis = 0, None
    for index in associations[primary]:
        if not 1 <= index <= len(properties):
            continue
        kind, body, _ = properties[index - 1]
        if kind == b"ispe":
            width, height = reader.u32be(body + 4), reader.u32be(body + 8)
        elif kind == b"clap" and width and height:
            w_num, w_den, h_num, h_den = (reader.u32be(body + 4 * i) for i in range(4))
            if w_den and h_den and 0 < w_num // w_den <= width and 0 < h_num // h_den <= height:
                width, height = w_num // w_den, h_num // h_den
        elif kind == b"irot":
            angle = reader.u8(body) & 0x03
        elif kind == b"imir":
            axis = reader.u8(body) & 0x01
    orientation = _HEIF_ORIENTATIONS[(angle, axis)]
    return (width, height, orientation) if width and height else (None, None, 1)


def _item_properties(reader: Reader, body: int) -> dict[int, list[int]]:
    """item ID -> its property indices (1-based), from an 'ipma' box."""
    version, flags = reader.u8(body), reader.u8(body + 3)
    count = reader.u32be(body + 4)
    offset = body + 8
    found: dict[int, list[int]] = {}
    for _ in range(min(count, 4096)):
        if version < 1:
            item, offset = reader.u16be(offset), offset + 2
        else:
            item, offset = reader.u32be(offset), offset + 4
        indices = []
        for _ in range(reader.u8(offset)):
            if flags & 1:
                indices.append(reader.u16be(offset + 1) & 0x7FFF)
                offset += 2
            else:
                indices.append(reader.u8(offset + 1) & 0x7F)
                offset += 1
        offset += 1
        found[item] = indices
    return found
