# Opening a source for the pixel-level tools (preflight.quality,
# preflight.tiling). Rules:
# - the same checks as prepare before any pixel is decoded: the header is
#   probed first, a format with no size in its header is refused, and the
#   declared size is held against a pixel cap;
# - the engine is the one asked for, else the best installed one, else the
#   other one when only it reads the format; an error says what to install;
# - a pipe, FIFO or device is read once, whole (probing it would drain it;
#   a FIFO waits for its writer, as `cat` does); prepare,
#   quality and tiling all open their sources here.
# - sizes are the displayed still's (after the EXIF orientation, first frame
#   of an animation): what the model is shown.

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from preflight.core.formats import FORMATS
from preflight.core.info import ImageInfo
from preflight.engines import get_engine, other_engine
from preflight.engines.base import Engine, SourceData
from preflight.errors import (
    InvalidArgumentError,
    SourceError,
    UnsafeImageError,
    UnsupportedFormatError,
)
from preflight.probing import probe
from preflight.remote import is_url

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# Pillow's own decompression-bomb refusal threshold (2 x its MAX_IMAGE_PIXELS
# default), about 13,377 x 13,377: far above the API's 8000 x 8000, and the
# same for both engines, so neither decodes what the other refuses.
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
    data, info = read_source(source)
    runner = engine_for(info, engine)  # first: it says what to install, or what is blocked
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
    return OpenedSource(data, info, runner, still[0], still[1])


def read_source(source: Source) -> tuple[SourceData, ImageInfo]:
    """What the engines decode from (a path, or bytes), and the probe of it."""
    if is_url(source):
        from preflight.remote import read_url

        assert isinstance(source, str)
        data = read_url(source)
        return data, dataclasses.replace(probe(data), path=source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fsdecode(source))
        streamed = _read_if_stream(path)
        if streamed is None:
            return path, probe(path)
        # A pipe, FIFO or device is read once, whole: probing it would drain it.
        return streamed, dataclasses.replace(probe(streamed), path=str(path))
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return data, probe(data)
    try:
        data = source.read()
    except OSError as error:
        raise SourceError(f"cannot read the source: {error}") from None
    if not isinstance(data, bytes):
        raise SourceError("the source file is not opened in binary mode")
    info = probe(data)
    name = getattr(source, "name", None)
    if isinstance(name, str):
        info = dataclasses.replace(info, path=name)
    return data, info


# The most preflight reads from a pipe or device into memory (its own bound,
# not an API limit: the largest file any surface takes is under 8 MiB).
MAX_STREAM_BYTES = 512 << 20


def _read_if_stream(path: Path) -> bytes | None:
    """The whole content of a path that is not a regular file (a pipe such as
    /dev/stdin, a FIFO, a character device), read once; None for anything
    else (probe reports it in its own words). As `cat` does, a FIFO waits for
    its writer."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)):
        return None
    chunks: list[bytes] = []
    held = 0
    try:
        with open(path, "rb", buffering=0) as stream:
            while chunk := stream.read(1 << 20):
                held += len(chunk)
                if held > MAX_STREAM_BYTES:
                    raise SourceError(
                        f"{path}: more than {MAX_STREAM_BYTES >> 20} MiB from a stream; "
                        "save it to a file first"
                    )
                chunks.append(chunk)
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    return b"".join(chunks)


def engine_for(info: ImageInfo, name: str | None) -> Engine:
    """The engine to decode `info` with: the one asked for, else the default,
    else the other one if only it reads the format."""
    runner = get_engine(name)
    if info.format in runner.formats:
        return runner
    other = other_engine(runner)
    if other is not None and info.format in other.formats:
        if name is None:
            return other
        hint = f"the {other.name} engine reads it (engine={other.name!r})"
    else:
        known = FORMATS.get(info.format)
        hint = known.install_hint if known is not None else "export it as PNG or JPEG"
    tried = [runner] if name is not None or other is None else [runner, other]
    blocked = [engine for engine in tried if info.format in engine.blocked]
    why = (
        "; libvips has a loader for it, but marks it untrusted, and preflight blocks "
        "untrusted libvips operations (input may be hostile)"
        if blocked
        else ""
    )
    names = " or ".join(f"the {engine.name} engine" for engine in tried)
    asked = " (the one asked for)" if name is not None else ""
    raise UnsupportedFormatError(
        f"{info.format_label} cannot be decoded by {names}{asked}{why}: {hint}"
    )
