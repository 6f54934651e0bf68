"""GIF: the logical screen and the image descriptors.

Rules:
- decoders use the frames' own sizes too, so the size is the logical screen
  grown to hold every frame seen (left + width, top + height). Pillow grows
  its size the same way, but only as it seeks to each frame: after opening
  it holds the screen and the first frame (tests/test_headers_differential),
  which is first_frame_size when later frames grow it further;
- the screen and the first image descriptor are required;
- frames are counted to the trailer, or to the end of the file, where, as
  in Pillow, a frame cut short still counts. The walk needs the whole file:
  when it would go past the read budget it stops and reports what it knows
  (frames=None; animated if a second frame or a looping extension was seen);
- the mode is Pillow's for the first frame: "P", or "L" when its colour
  table is missing or is the identity gray ramp (Pillow drops such tables);
- a byte that starts no block (',' '!' ';') is skipped, as Pillow does;
- every sub-block chain is walked by its lengths, so the walk always ends.
"""

from __future__ import annotations

import re
import struct

from preflight._core.formats import FORMATS
from preflight._core.headers._reader import NeedMoreSignal, Reader
from preflight._core.info import Header
from preflight.errors import HeaderError

SIGNATURES = FORMATS["gif"].signatures  # the format registry

_IMAGE, _EXTENSION, _TRAILER = 0x2C, 0x21, 0x3B
_GRAPHIC_CONTROL, _APPLICATION = 0xF9, 0xFF
_BLOCK_START = re.compile(rb"[,!;]")
_FULL_RUN = 256 * 256  # bytes of full sub-blocks checked in one strided slice
# No LZW code gives more than 4096 pixels (no table entry is longer than
# the table), and none is shorter than 2 bits: a frame of N pixels needs at
# least N / 16384 bytes of data. A frame declared larger than its data can
# fill is shown by decoders with invented pixels.
LZW_MAX_PIXELS_PER_BYTE = 4096 * 8 // 2
_SCREEN = struct.Struct("<HHB")  # width, height, flags
_DESCRIPTOR = struct.Struct("<HHHHB")  # left, top, width, height, flags
# The identity gray ramp of each colour table size (2..256 entries).
_GRAY_RAMPS = {
    3 << bits: bytes(v for i in range(1 << bits) for v in (i, i, i)) for bits in range(1, 9)
}


def _skip_sub_blocks(data: bytes, size: int, offset: int) -> int:
    """The offset after a chain of sub-blocks (each: a length byte, then data)."""
    while offset < size:
        length = data[offset]
        if length == 0xFF:
            # Encoders write full 255-byte sub-blocks: one strided slice finds
            # the first length byte that is not 255, instead of a Python
            # iteration per block (the image data is most of a GIF).
            run = data[offset : offset + _FULL_RUN : 256]
            offset += 256 * (len(run) - len(run.lstrip(b"\xff")))
            continue
        offset += 1 + length
        if length == 0:
            return offset
    raise NeedMoreSignal(offset + 1)


def parse_gif(reader: Reader, *, complete: bool, budget: int) -> Header:
    data, size = reader.data, reader.size
    if not complete and size < budget:
        # Counting frames walks the whole file: ask for all the budget allows
        # at once, rather than walking a prefix that cannot be enough.
        raise NeedMoreSignal(budget)
    reader.need(13)
    width, height, flags = _SCREEN.unpack_from(data, 6)
    offset = 13
    gray = True  # no colour table: Pillow reads the indices as gray levels
    if flags & 0x80:
        table = 3 << ((flags & 0x07) + 1)
        reader.need(offset + table)
        gray = data.startswith(_GRAY_RAMPS[table], offset)
        offset += table
    started = 0  # image descriptors read
    least = 0  # the shortest file that can hold the first frame's pixels
    first_size = (width, height)  # the canvas once the first frame is placed
    frames = 0  # frames whose data was walked to its end
    interlaced = transparent = looping = finished = False
    try:
        while True:
            if offset >= size and complete and frames:
                finished = True  # no trailer, but every frame is whole
                break
            if offset >= size:
                raise NeedMoreSignal(offset + 1)
            block = data[offset]
            if block == _TRAILER:
                finished = True
                break
            if block == _EXTENSION:
                label = reader.u8(offset + 1)
                if label == _GRAPHIC_CONTROL and started == 0 and reader.u8(offset + 2) >= 4:
                    # Only the first frame's control block: that frame is the still.
                    transparent = bool(reader.u8(offset + 3) & 0x01)
                elif label == _APPLICATION and reader.u8(offset + 2) == 11:
                    looping = looping or reader.bytes(offset + 3, 11) == b"NETSCAPE2.0"
                offset = _skip_sub_blocks(data, size, offset + 2)
            elif block == _IMAGE:
                reader.need(offset + 10)
                left, top, frame_w, frame_h, local = _DESCRIPTOR.unpack_from(data, offset + 1)
                if started == 0:
                    interlaced = bool(local & 0x40)
                    if local & 0x80:
                        table = 3 << ((local & 0x07) + 1)
                        reader.need(offset + 10 + table)
                        gray = data.startswith(_GRAY_RAMPS[table], offset + 10)
                if left + frame_w > width:
                    width = left + frame_w
                if top + frame_h > height:
                    height = top + frame_h
                started += 1
                offset += 10
                if local & 0x80:
                    offset += 3 << ((local & 0x07) + 1)
                if started == 1:
                    first_size = (width, height)
                    # The first frame's pixels need at least this much LZW data.
                    least = offset + 1 + -(-frame_w * frame_h // LZW_MAX_PIXELS_PER_BYTE)
                offset = _skip_sub_blocks(data, size, offset + 1)  # after the LZW code size
                frames += 1
            else:
                found = _BLOCK_START.search(data, offset + 1)
                offset = found.start() if found else size
    except NeedMoreSignal as short:
        if complete and started:
            # The whole file ends inside a frame's data: Pillow counts the
            # frame. Whether the pixels decode is not a header question (a
            # broken sub-block chain often still decodes); probe flags the
            # missing trailer, as it flags a JPEG without its end marker.
            finished = True
        elif complete or started == 0 or short.at_least <= budget:
            raise
        # Otherwise the walk would pass the budget once a frame has begun:
        # its size is known, and counting the rest is best-effort.
    if started == 0:
        raise HeaderError("GIF: no image in the file", code="corrupt")
    if width == 0 or height == 0:
        raise HeaderError(f"GIF: image size {width}x{height}", code="corrupt")
    return Header(
        format="gif",
        width=width,
        height=height,
        animated=started > 1 or (not finished and looping),
        frames=started if finished else None,
        interlaced=interlaced,
        has_alpha=transparent,
        mode="L" if gray else "P",
        bit_depth=8,
        first_frame_size=first_size if first_size != (width, height) else None,
        samples=4,  # decoders render the frame as RGBA (libvips) or convert it to RGB(A)
        min_file_bytes=least,
    )
