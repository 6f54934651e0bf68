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
