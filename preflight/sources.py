# Opening a source for the pixel-level tools (preflight.quality,
# preflight.tiling). Rules:
# - the same checks as prepare before any pixel is decoded: the header is
#   probed first, a format with no size in its header is refused, and the
#   declared size is held against a pixel cap;
# - the engine is the one asked for, else the best installed one, else the
#   other one when only it reads the format;
# - sizes are the displayed still's (after the EXIF orientation, first frame
#   of an animation): what the model is shown.

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from preflight.engines import get_engine, other_engine
from preflight.engines.base import Engine, SourceData
from preflight.errors import (
    InvalidArgumentError,
    SourceError,
    UnsafeImageError,
    UnsupportedFormatError,
)
from preflight.info import ImageInfo
from preflight.probe import probe

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# The same cap as prepare's default: Pillow's own decompression-bomb refusal
# threshold, far above the API's 8000 x 8000.
DEFAULT_PIXEL_CAP = 178_956_970


@dataclass(frozen=True)
class OpenedSource:
    data: SourceData  # what an engine decodes from: a path, or the bytes
    info: ImageInfo
    engine: Engine
    width: int  # displayed size of the still the engine decodes
    height: int


def open_source(
    source: Source, *, engine: str | None = None, pixel_cap: int = DEFAULT_PIXEL_CAP
) -> OpenedSource:
    """Probe `source` and pick the engine that decodes it; nothing decoded yet."""
    if isinstance(pixel_cap, bool) or not isinstance(pixel_cap, int) or pixel_cap < 1:
        raise InvalidArgumentError(f"pixel_cap must be a whole number of pixels, got {pixel_cap!r}")
    data, info = _read(source)
    still = info.still_size
    if info.width is None or info.height is None or still is None:
        raise UnsupportedFormatError(
            f"{info.format_label}: preflight reads no size from its header, so the pixel cap "
            "cannot be checked before decoding; export it as PNG or JPEG"
        )
    if info.width * info.height > pixel_cap:
        raise UnsafeImageError(
            f"declared size {info.width}x{info.height} ({info.width * info.height:,} px) is over "
            f"the pixel cap of {pixel_cap:,} px: refused before decoding (pixel_cap= raises it)"
        )
    return OpenedSource(data, info, _engine_for(info, engine), still[0], still[1])


def _read(source: Source) -> tuple[SourceData, ImageInfo]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fsdecode(source))
        return path, probe(path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return data, probe(data)
    try:
        read = source.read()
    except OSError as error:
        raise SourceError(f"cannot read the source: {error}") from None
    if not isinstance(read, bytes):
        raise SourceError("the source file is not opened in binary mode")
    return read, probe(read)


def _engine_for(info: ImageInfo, name: str | None) -> Engine:
    runner = get_engine(name)
    if info.format in runner.formats:
        return runner
    other = other_engine(runner) if name is None else None
    if other is not None and info.format in other.formats:
        return other
    raise UnsupportedFormatError(
        f"{info.format_label} cannot be decoded by the {runner.name} engine"
        + ("" if name is None else " (the one asked for)")
        + ": export it as PNG or JPEG"
    )
