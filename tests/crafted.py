# Hand-made files for the hostile-input tests: containers whose directory
# lies about what they hold, TIFFs laid out as real writers lay them out
# (directory after the pixels, BigTIFF, duplicated tags), bombs that are
# small on disk. Imported as a plain module, as helpers.py is.

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bilevel_png(width: int, height: int) -> bytes:
    """A 1-bit grey PNG of zeros: width x height pixels in a few KB, made
    without ever holding them (rows compressed one at a time)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte, then the packed bits
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def dib(width: int, height: int) -> bytes:
    """An ICO entry's bitmap: a 40-byte header (height doubled: the XOR image
    and the AND mask), 32-bit BGRA rows, then the 1-bit mask rows."""
    header = struct.pack("<IiiHHIIiiII", 40, width, 2 * height, 1, 32, 0, 0, 0, 0, 0, 0)
    mask_row = ((width + 31) // 32) * 4
    return header + bytes(4 * width * height) + bytes(mask_row * height)


def ico(images: list[tuple[tuple[int, int], bytes]], bpp: int = 32) -> bytes:
    """An ICO whose directory says each `(w, h)` (0 meaning 256), holding the
    given embedded images (PNG or DIB bytes), whatever their real size."""
    directory = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    bodies = b""
    for (width, height), body in images:
        directory += struct.pack(
            "<BBBBHHII", width % 256, height % 256, 0, 0, 1, bpp, len(body), offset + len(bodies)
        )
        bodies += body
    return directory + bodies


def pillow_ico(sizes: list[tuple[int, int]], bitmap: bool = False) -> bytes:
    buffer = io.BytesIO()
    largest = max(sizes, key=lambda size: size[0] * size[1])
    Image.new("RGBA", largest, (10, 200, 30, 255)).save(
        buffer, "ICO", sizes=sizes, bitmap_format="bmp" if bitmap else "png"
    )
    return buffer.getvalue()


def tiff(
    width: int | list[int],
    height: int,
    *,
    big: bool = False,
    little_endian: bool = True,
    directory_at_end: bool = True,
    padding: int = 0,
    extra: list[tuple[int, int, int]] | None = None,
) -> bytes:
    """An uncompressed 8-bit grey TIFF of zeros. `width` may list several
    ImageWidth values (a duplicated tag: the first one is the real width).
    The directory sits after the pixels (and `padding` more bytes) as many
    writers put it, or before them. `extra`: more (tag, type, value) entries."""
    widths = width if isinstance(width, list) else [width]
    order = "<" if little_endian else ">"
    pixels = bytes(widths[0] * height) + bytes(padding)
    header_size = 16 if big else 8
    entries: list[tuple[int, int, int]] = [(256, 4, w) for w in widths]
    entries += [(257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    entries += [(273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, widths[0] * height)]
    entries += extra or []
    entry_size, count_size, next_size = (20, 8, 8) if big else (12, 2, 4)
    directory_size = count_size + entry_size * len(entries) + next_size
    if directory_at_end:
        strip, directory = header_size, header_size + len(pixels)
    else:
        strip, directory = header_size + directory_size, header_size
    mark = b"II" if little_endian else b"MM"
    if big:
        head = mark + struct.pack(order + "HHHQ", 43, 8, 0, directory)
    else:
        head = mark + struct.pack(order + "HI", 42, directory)
    table = struct.pack(order + ("Q" if big else "H"), len(entries))
    for tag, kind, value in entries:
        value = strip if tag == 273 else value
        packed = {1: "B", 3: "H", 4: "I", 8: "h", 9: "i", 16: "Q"}[kind]
        field = struct.pack(order + packed, value)
        table += struct.pack(order + ("HHQ" if big else "HHI"), tag, kind, 1)
        table += field + bytes((8 if big else 4) - len(field))
    table += bytes(next_size)
    return head + (pixels + table if directory_at_end else table + pixels)


# --- bombs the pixel cap does not see: bytes, not pixels ---------------------


def deflated_zeros(size: int) -> bytes:
    """A zlib stream of `size` zero bytes, made in milliseconds whatever the
    size: once the window holds only zeros, each 64 KiB of input compresses
    (and sync-flushes) to the same bytes, which are repeated; the remainder
    is a stored block; the checksum of n zeros is (n mod 65521) << 16 | 1."""
    piece = 1 << 16
    compressor = zlib.compressobj(9)
    zeros = bytes(piece)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    whole, rest = divmod(size, piece)
    if whole == 0:
        return zlib.compress(bytes(size))
    stream = first + again * (whole - 1)
    if rest:
        stream += b"\x00" + struct.pack("<HH", rest, rest ^ 0xFFFF) + bytes(rest)
    adler = ((size % 65521) << 16) | 1
    return stream + b"\x03\x00" + struct.pack(">I", adler)


def tiff_of_samples(width: int, height: int, samples: int, bits: int = 8) -> bytes:
    """A Deflate-compressed TIFF of zeros with `samples` samples per pixel
    (ExtraSamples unspecified): small on disk, width x height x samples x
    bits/8 bytes decoded. BitsPerSample is stored once per sample."""
    row = width * samples * bits // 8
    data = deflated_zeros(row * height)
    entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, value or offset data
    order = "<"
    bits_array = struct.pack(order + "H" * samples, *([bits] * samples))
    extra = struct.pack(order + "H" * (samples - 3), *([0] * (samples - 3))) if samples > 3 else b""
    header = 8
    data_at = header
    arrays_at = data_at + len(data)
    bits_at = arrays_at
    extra_at = bits_at + len(bits_array)
    directory_at = extra_at + len(extra)
    directory_at += directory_at % 2
    tags = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, samples, bits_at if samples > 2 else bits),
        (259, 3, 1, 8),
        (262, 3, 1, 2 if samples >= 3 else 1),
        (273, 4, 1, data_at),
        (277, 3, 1, samples),
        (278, 4, 1, height),
        (279, 4, 1, len(data)),
    ]
    if extra:
        tags.append((338, 3, samples - 3, extra_at if samples - 3 > 2 else 0))
    table = struct.pack(order + "H", len(tags))
    for tag, kind, count, value in tags:
        packed = struct.pack(order + ("I" if kind == 4 or count > 2 else "H"), value)
        table += struct.pack(order + "HHI", tag, kind, count) + packed.ljust(4, b"\x00")
    table += bytes(4)
    body = data + bits_array + extra
    body += bytes(directory_at - header - len(body))
    entries.clear()
    return b"II" + struct.pack(order + "HI", 42, directory_at) + body + table


def png_header_only(width: int, height: int, depth: int, color_type: int) -> bytes:
    """A PNG whose IHDR declares width x height at this depth and colour type,
    with a token IDAT: the memory budget refuses it before anything else."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    idat = zlib.compress(bytes(64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_frame_without_data(width: int, height: int) -> bytes:
    """A GIF of about 30 bytes whose screen and one frame declare width x
    height, with one LZW code of data: decoders invent the rest."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return screen + frame + b"\x02\x02\x4c\x01\x00" + b";"


def jpeg_declaring(width: int, height: int, source: bytes) -> bytes:
    """`source` (a small baseline JPEG) with its frame header's size
    rewritten: a large frame over a few KB of scan data."""
    data = bytearray(source)
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_with_text_bomb(png: bytes, *, inflated: int, after_pixels: bool = False) -> bytes:
    """`png` with a zTXt chunk that inflates to `inflated` bytes, before its
    first IDAT or after its last one (Pillow refuses one over 1 MiB)."""
    body = b"Comment\x00\x00" + deflated_zeros(inflated)
    bomb = chunk(b"zTXt", body)
    at = png.rindex(b"IEND") - 4 if after_pixels else png.index(b"IDAT") - 4
    return png[:at] + bomb + png[at:]


def jpeg_cut_and_closed(jpeg: bytes, fraction: float) -> bytes:
    """`jpeg` cut inside its (last) scan and given an end marker, so that
    nothing at its end looks wrong: libjpeg warns and fills the rest with grey."""
    scan = jpeg.rindex(b"\xff\xda")
    return jpeg[: scan + int((len(jpeg) - scan) * fraction)] + b"\xff\xd9"


def bmp_cut(width: int, height: int, rows_present: int) -> bytes:
    """An uncompressed 24-bit BMP that declares width x height and holds
    only `rows_present` rows."""
    stride = (width * 3 + 3) // 4 * 4
    header = b"BM" + struct.pack("<IHHI", 54 + stride * height, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return header + info + bytes(stride * rows_present)


def filled_png(width: int, height: int, depth: int = 1, color_type: int = 0) -> bytes:
    """A PNG of zeros whose data fills its frame (unlike a bomb of a few
    bytes), made in milliseconds at any size (deflated_zeros)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    idat = deflated_zeros(height * (1 + (width * channels * depth + 7) // 8))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def filled_bilevel_png(width: int, height: int) -> bytes:
    """A 1-bit grey PNG of zeros whose data fills its frame."""
    return filled_png(width, height)


def webp_lossless_declaring(width: int, height: int, *, alpha: bool = True) -> bytes:
    """A lossless WebP whose header declares width x height (at most 16384
    a side) over a few bytes of data."""
    bits = (width - 1) | ((height - 1) << 14) | (int(alpha) << 28)
    body = b"\x2f" + struct.pack("<I", bits) + bytes(16)
    chunk_ = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk_)) + b"WEBP" + chunk_
