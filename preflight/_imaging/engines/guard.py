"""The checks an engine makes on what its own library is about to decode.

They run after the library has read the header and before any pixel is
decoded.

Rules:
- the pixel cap is checked on the library's width x height, not only on
  the header parser's: a container may hold something other than what it
  declares, and the file may have changed since it was probed (probe and
  the decoder open it separately);
- the library's size must be one the probe allows for (the stored size;
  the first frame's canvas of a GIF; the displayed size where the library
  orients as it reads); anything else is a DecodeError: the file changed
  since it was probed, or it lies about its size;
- a progressive (or multi-scan) JPEG is decoded from a buffer of every
  DCT coefficient of the image, whatever the output size (shrink-on-load
  does not help): its size (info.coefficient_buffer_bytes, libjpeg's own
  arithmetic) is checked against a memory cap before decoding;
- the memory a decode needs is estimated from the header and held against
  the decode budget (budgets.DECODE_MEMORY_BUDGET): bytes, not pixels, so
  a file of many samples, or of 16-bit ones, is refused as surely as one
  of too many pixels; the estimate is the same for both engines (the
  file's own layout, not either library's), so they refuse alike;
- a file shorter than the least data its declared frame needs
  (info.min_file_bytes) is refused before decoding: a decoder would fill
  the rest with pixels of its own invention;
- pure functions of sizes and the environment: the engines call them with
  their library's numbers.
"""

from __future__ import annotations

import os

from preflight._core.budgets import DECODE_MEMORY_BUDGET
from preflight._core.info import ImageInfo
from preflight.errors import DecodeError, InvalidArgumentError

# preflight's own choice, not a fact about the API: about the coefficients
# of an 8000 x 8000 JPEG without chroma subsampling (366 MiB), the largest
# image the API accepts; a 13000 x 13000 progressive JPEG (1.9 MB on disk,
# 483 MiB of coefficients at 4:2:0, about 1 GB peak in either engine) is over.
JPEG_MEMORY_CAP = 384 << 20
JPEG_MEMORY_CAP_VARIABLE = "PREFLIGHT_JPEG_MEMORY_CAP"


def jpeg_memory_cap() -> int:
    """The cap on a JPEG's coefficient buffer, in bytes: JPEG_MEMORY_CAP, or
    the environment variable PREFLIGHT_JPEG_MEMORY_CAP (a whole number of bytes)."""
    text = os.environ.get(JPEG_MEMORY_CAP_VARIABLE, "").strip()
    if not text:
        return JPEG_MEMORY_CAP
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InvalidArgumentError(
            f"{JPEG_MEMORY_CAP_VARIABLE} must be a whole number of bytes, got {text!r}"
        )
    return int(text)


def check_coefficient_memory(info: ImageInfo) -> None:
    """Refuse a JPEG whose coefficient buffer is over the memory cap."""
    needed = info.coefficient_buffer_bytes
    cap = jpeg_memory_cap()
    if needed > cap:
        kind = "progressive" if info.progressive else "multi-scan"
        raise DecodeError(
            f"a {kind} JPEG of {info.width}x{info.height} is decoded from a buffer of all its "
            f"DCT coefficients: {needed / (1 << 20):,.0f} MiB here, over the cap of "
            f"{cap / (1 << 20):,.0f} MiB; refused before decoding (re-encode it as a baseline "
            f"JPEG, or set {JPEG_MEMORY_CAP_VARIABLE}=<bytes> to raise the cap)",
            code="over-pixel-cap",
        )


def check_decode_size(
    info: ImageInfo,
    width: int,
    height: int,
    pixel_cap: int,
    *,
    library: str,
    oriented: bool = False,
) -> None:
    """Refuse to decode a width x height image over `pixel_cap`, or one whose
    size is not what probing the file found. `oriented`: the library turns
    the image upright as it reads it (its size is the displayed one)."""
    if width * height > pixel_cap:
        raise DecodeError(
            f"{library} is about to decode {width}x{height} ({width * height:,} px), over the "
            f"pixel cap of {pixel_cap:,} px: refused before decoding (pixel_cap= raises it)",
            code="over-pixel-cap",
        )
    allowed = {(info.width, info.height)}
    if info.first_frame_size is not None:
        allowed.add(info.first_frame_size)
    if oriented:
        allowed.add((info.display_width, info.display_height))
    if (width, height) not in allowed:
        probed = f"{info.width}x{info.height}"
        raise DecodeError(
            f"{info.format_label}: {library} reads {width}x{height} where probing the file "
            f"read {probed}: the file changed since it was probed, or it lies about its size"
        )


MEMORY_BUDGET_VARIABLE = "PREFLIGHT_MEMORY_BUDGET"
_ASSUMED_SAMPLES = 4  # when the parser does not know a format's samples per pixel


def memory_budget() -> int:
    """The decode budget, in bytes: DECODE_MEMORY_BUDGET, or the environment
    variable PREFLIGHT_MEMORY_BUDGET (a whole number of bytes)."""
    text = os.environ.get(MEMORY_BUDGET_VARIABLE, "").strip()
    if not text:
        return DECODE_MEMORY_BUDGET
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InvalidArgumentError(
            f"{MEMORY_BUDGET_VARIABLE} must be a whole number of bytes, got {text!r}"
        )
    return int(text)


def jpeg_scale(stored: tuple[int, int], wanted: tuple[int, int]) -> int:
    """The DCT scaling a JPEG decoder uses for a decode to `wanted` (both in
    stored orientation): the largest of 8, 4, 2, 1 that still gives at least
    the wanted size (Pillow's draft(), libvips' shrink-on-load)."""
    ratio = min(stored[0] // max(1, wanted[0]), stored[1] // max(1, wanted[1]))
    return next(scale for scale in (8, 4, 2, 1) if ratio >= scale or scale == 1)


def decode_memory(info: ImageInfo, width: int, height: int) -> int:
    """The bytes a decode of `info` to width x height (displayed
    orientation) needs, from its header: the frame at the file's own layout
    (at the scale a JPEG is shrunk to as it is read), a JPEG's coefficient
    buffer, a TIFF's tile."""
    if info.width is None or info.height is None:
        return 0  # not decodable anyway: open_source refuses unknown sizes
    frame_w, frame_h = info.width, info.height  # a GIF's whole canvas: the larger one
    if info.format == "jpeg":
        wanted = (height, width) if info.transposed else (width, height)
        scale = jpeg_scale((info.width, info.height), wanted)
        frame_w, frame_h = -(-frame_w // scale), -(-frame_h // scale)
    per_sample = max(1, -(-info.bit_depth // 8))
    samples = info.samples or _ASSUMED_SAMPLES
    frame = frame_w * frame_h * samples * per_sample
    return frame + info.coefficient_buffer_bytes + info.tile_bytes


def check_decode_memory(info: ImageInfo, width: int, height: int) -> None:
    """Refuse a decode whose estimated memory is over the budget, and data
    too short to fill the frame it declares; both before decoding."""
    budget = memory_budget()
    needed = decode_memory(info, width, height)
    if needed > budget:
        per_sample = max(1, -(-info.bit_depth // 8))
        samples = info.samples or _ASSUMED_SAMPLES
        raise DecodeError(
            f"{info.format_label} {info.width}x{info.height} of {samples} samples per pixel, "
            f"{per_sample} byte(s) each: decoding it needs about {needed / (1 << 20):,.0f} MiB, "
            f"over the decode budget of {budget / (1 << 20):,.0f} MiB; refused before decoding "
            f"(set {MEMORY_BUDGET_VARIABLE}=<bytes> to raise it)",
            code="over-memory-budget",
        )
    check_filled(info)


def check_filled(info: ImageInfo) -> None:
    """Refuse data that cannot hold its declared first frame: what a decoder
    would show for the rest is not in the file."""
    if 0 < info.file_bytes < info.min_file_bytes:
        raise DecodeError(
            f"{info.format_label}: {info.file_bytes:,} bytes cannot hold the pixels of its "
            f"declared {info.width}x{info.height} frame (at least {info.min_file_bytes:,} "
            "bytes at the format's best compression); refused before decoding: the rest "
            "would be invented"
        )
