"""Whether data decodes cleanly: one verdict, whichever engine is asked.

Rules:
- every installed engine that reads the format checks the data
  (Engine.check_decode), libvips first: with libvips, a JPEG fails on
  libjpeg's warnings (a damaged scan it repairs with grey); with Pillow,
  every byte is read and truncated data fails. The engine that will decode
  is not what decides: prepare(engine="pillow") and prepare(engine="vips")
  pass through, repair or refuse the same bytes alike;
- one damage is looked for by preflight itself, with either engine: a
  JPEG scan whose data ends before its pixels do (a file cut short, then
  closed with an end marker). Pillow's decoder silences libjpeg's warnings
  (libImaging/JpegDecode.c: its output_message does nothing), and libvips
  lets the warning pass when the cut is in the last rows. A decoder that
  runs out of a scan's data fills the rest with zeros; a scan that is whole
  never reads past its data. So the image is decoded again with filler
  inserted before the end marker: a whole image decodes to the same pixels,
  one cut short does not (docs/hostile-input.md). Without libvips, this is
  the one libjpeg warning preflight still sees;
- data that fails is repaired (decoded and re-encoded) only when every
  installed reader still makes pixels of it, each as leniently as it
  decodes anything (check_repairable): else it is refused, whichever
  engine runs;
- the pixel cap, the memory budget and the probe's size hold for every
  check, as for any decode (engines.guard).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence

from preflight._core.info import ImageInfo
from preflight._imaging.engines.base import VERIFY_SIDE, Engine
from preflight.errors import DecodeError

# Where a scan's entropy-coded data ends: the first marker that is not a
# stuffed 0xFF (FF 00), a restart marker (FF D0-D7) or a fill byte (FF FF).
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# The filler: bytes of no pattern (and no 0xFF). A scan cut short decodes
# them as data, which then differs from the zeros a decoder fills with
# unless every code they spell were an end-of-block: no Huffman table makes
# 512 irregular bits a run of those.
_FILLER = bytes((i * 167 + 91) % 251 for i in range(64))


def verify_data(data: bytes, info: ImageInfo, engines: Sequence[Engine], *, pixel_cap: int) -> None:
    """Raise DecodeError unless each of `engines` (every installed engine that
    reads `info`'s format: engines.readers) decodes `data` cleanly (see the
    module docstring)."""
    if not engines:
        raise DecodeError(
            f"{info.format_label}: no installed engine decodes it", code="cannot-decode-format"
        )
    decoded: bytes | None = None
    for engine in engines:
        pixels = engine.check_decode(data, info, pixel_cap=pixel_cap)
        if engine.name == "pillow":
            decoded = pixels
    if info.format == "jpeg":
        check_scan_ends(data, info, decoded)


def check_repairable(
    data: bytes, info: ImageInfo, engines: Sequence[Engine], *, pixel_cap: int
) -> None:
    """Raise DecodeError unless each of `engines` makes pixels of `data` that
    failed verify_data (its own decode, as lenient as it is, at a small
    size): damaged data is re-encoded only when no installed decoder refuses
    it, so one engine never repairs what the other refuses."""
    width, height = info.width or 1, info.height or 1
    scale = max(width, height) / VERIFY_SIDE
    small = (max(1, round(width / scale)), max(1, round(height / scale)))
    if info.transposed:
        small = (small[1], small[0])
    for engine in engines:
        try:
            engine.load(data, info, *small, pixel_cap=pixel_cap)
        except DecodeError as error:
            # The engine's own error, its code kept, said in these words.
            error.args = (
                f"{info.format_label} data is damaged and cannot be repaired: the {engine.name} "
                f"engine cannot decode it ({error})",
            )
            raise error from None


def last_scan_end(data: bytes) -> int | None:
    """The offset of the end-of-image marker that closes a JPEG's last scan,
    walking its segments and skipping each scan's entropy-coded data; None
    when the walk meets anything else (junk, a cut, no scan)."""
    at, scanned, size = 2, False, len(data)
    while at + 2 <= size:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return at if scanned else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            at += 2
            continue
        if at + 4 > size:
            return None
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            return None
        at += 2 + length
        if marker == 0xDA:
            found = _ENTROPY_END.search(data, at)
            if found is None:
                return None
            at, scanned = found.start(), True
    return None


def check_scan_ends(data: bytes, info: ImageInfo, plain: bytes | None = None) -> None:
    """Raise DecodeError when the JPEG's last scan ends before its pixels
    do: inserting filler before the end marker changes what it decodes to.
    `plain`: Pillow's 1/8-scale pixels of `data`, when already decoded."""
    end = last_scan_end(data)
    if end is None:
        return
    if plain is None:
        plain = _pillow_pixels(data)
    if plain is not None and _last_block_decoded(plain, info):
        return
    padded = _pillow_pixels(data[:end] + _FILLER + data[end:])
    if plain is None or padded != plain:
        raise DecodeError(
            f"{info.format_label} data could not be decoded cleanly: its last scan ends "
            "before its pixels do (the data was cut short and closed); a decoder fills "
            "the rest with grey"
        )


_MID_GREY = {"L": b"\x80", "RGB": b"\x80\x80\x80"}


def _last_block_decoded(plain: bytes, info: ImageInfo) -> bool:
    """Whether a single-scan (sequential) JPEG's last block was decoded from
    data: the shortcut that spares the second decode of most JPEGs. A scan
    that runs out leaves every later block's coefficients at zero, which
    decodes (YCbCr or grey, at 1/8 scale) to exactly mid-grey; the last
    block is decoded last, so a last pixel of any other value means the data
    lasted to the end. (A cut inside the last MCU itself, 16 pixels, is not
    told apart.) Progressive and multi-scan files always get the second
    decode."""
    grey = _MID_GREY.get(info.mode)
    if grey is None or info.progressive or info.coefficient_buffer_bytes:
        return False
    return plain[-len(grey) :] != grey


def _pillow_pixels(data: bytes) -> bytes | None:
    """The pixels Pillow decodes at 1/8 scale, None when it cannot (the
    caller has checked the data's size and memory: Pillow read it once)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=["JPEG", "MPO"]) as image:
                image.draft(image.mode, (VERIFY_SIDE, VERIFY_SIDE))
                image.load()
                pixels: bytes = image.tobytes()
                return pixels
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
