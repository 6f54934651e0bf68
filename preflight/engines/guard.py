# The checks an engine makes on what its own library is about to decode,
# after the library has read the header and before any pixel is decoded.
# Rules:
# - the pixel cap is checked on the library's width x height, not only on
#   the header parser's: a container may hold something other than what it
#   declares, and the file may have changed since it was probed (probe and
#   the decoder open it separately);
# - the library's size must be one the probe allows for (the stored size;
#   the first frame's canvas of a GIF; the displayed size where the library
#   orients as it reads); anything else is a DecodeError: the file changed
#   since it was probed, or it lies about its size;
# - pure functions of sizes: the engines call them with their library's
#   numbers.

from __future__ import annotations

from preflight.errors import DecodeError, UnsafeImageError
from preflight.info import ImageInfo


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
        raise UnsafeImageError(
            f"{library} is about to decode {width}x{height} ({width * height:,} px), over the "
            f"pixel cap of {pixel_cap:,} px: refused before decoding (pixel_cap= raises it)"
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
