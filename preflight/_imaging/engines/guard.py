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
- pure functions of sizes and the environment: the engines call them with
  their library's numbers.
"""

from __future__ import annotations

import os

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
