# GIF: the logical screen and the image descriptors. Rules:
# - decoders use the frames' own sizes too, so the size is the logical screen
#   grown to hold every frame seen (left + width, top + height), as Pillow does;
# - the screen and the first image descriptor are required; further frames
#   are counted while the data lasts: the walk needs the whole file, so when
#   it would go past the read budget it stops and reports what it knows
#   (frames=None; animated if a second frame or a looping extension was seen);
# - every sub-block chain is walked by its lengths, so the walk always ends.

from __future__ import annotations

from preflight.errors import CorruptHeaderError
from preflight.headers._reader import NeedMoreSignal, Reader
from preflight.info import Header

SIGNATURES = (b"GIF87a", b"GIF89a")

_IMAGE, _EXTENSION, _TRAILER = 0x2C, 0x21, 0x3B
_GRAPHIC_CONTROL, _APPLICATION = 0xF9, 0xFF


def _skip_sub_blocks(reader: Reader, offset: int) -> int:
    """The offset after a chain of sub-blocks (each: a length byte, then data)."""
    data, end = reader.data, reader.size
    while offset < end:
        size = data[offset]
        offset += 1 + size
        if size == 0:
            return offset
    raise NeedMoreSignal(offset + 1)


def parse_gif(reader: Reader, *, complete: bool, budget: int) -> Header:
    screen_w = reader.u16le(6)
    screen_h = reader.u16le(8)
    flags = reader.u8(10)
    offset = 13
    if flags & 0x80:
        offset += 3 << ((flags & 0x07) + 1)
    width, height = screen_w, screen_h
    frames = started = 0  # frames whose data was walked to its end / begun
    interlaced = transparent = looping = False
    finished = False
    try:
        while True:
            if complete and offset >= reader.size and frames:
                finished = True  # the trailer is missing, but no frame is cut
                break
            block = reader.u8(offset)
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
                offset = _skip_sub_blocks(reader, offset + 2)
            elif block == _IMAGE:
                left, top = reader.u16le(offset + 1), reader.u16le(offset + 3)
                frame_w, frame_h = reader.u16le(offset + 5), reader.u16le(offset + 7)
                local = reader.u8(offset + 9)
                if frames == 0:
                    interlaced = bool(local & 0x40)
                width = max(width, left + frame_w)
                height = max(height, top + frame_h)
                started += 1
                offset += 10
                if local & 0x80:
                    offset += 3 << ((local & 0x07) + 1)
                offset = _skip_sub_blocks(reader, offset + 1)  # after the LZW code size
                frames += 1
            else:
                raise CorruptHeaderError(f"GIF: unknown block 0x{block:02x} at byte {offset}")
    except NeedMoreSignal as short:
        # Data cut inside a frame is truncated (the decoder would fail); a walk
        # that would pass the budget stops once one frame has begun: its size
        # is known and counting the rest is best-effort.
        if complete or started == 0 or short.at_least <= budget:
            raise
    if started == 0:
        raise CorruptHeaderError("GIF: no image in the file")
    if width == 0 or height == 0:
        raise CorruptHeaderError(f"GIF: image size {width}x{height}")
    return Header(
        format="gif",
        width=width,
        height=height,
        animated=started > 1 or (not finished and looping),
        frames=frames if finished else None,
        interlaced=interlaced,
        has_alpha=transparent,
        mode="P",
        bit_depth=8,
    )
