"""Opening a source for decoding: the checks before any pixel is decoded, and the engine.

Rules:
- the same checks for prepare, quality and tiling: the header is probed
  first, a format with no size in its header is refused, and the declared
  size is held against a pixel cap;
- the engine is the one asked for, else the best installed one, else the
  other one when only it reads the format; an error says what to install;
- sizes are the displayed still's (after the EXIF orientation, first frame
  of an animation): what the model is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight._core.budgets import DEFAULT_PIXEL_CAP
from preflight._core.formats import FORMATS
from preflight._core.info import ImageInfo
from preflight._imaging.engines import get_engine, other_engine
from preflight._imaging.engines.base import Engine, SourceData
from preflight._inputs.probing import read_source
from preflight._inputs.sources import Source
from preflight.errors import DecodeError, InvalidArgumentError


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
        raise DecodeError(
            f"{info.format_label}: preflight reads no size from its header, so the pixel cap "
            "cannot be checked before decoding; export it as PNG or JPEG",
            code="cannot-decode-format",
        )
    if info.width * info.height > pixel_cap:
        raise DecodeError(
            f"declared size {info.width}x{info.height} ({info.width * info.height:,} px) is over "
            f"the pixel cap of {pixel_cap:,} px: refused before decoding (pixel_cap= raises it)",
            code="over-pixel-cap",
        )
    return OpenedSource(data, info, runner, still[0], still[1])


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
    raise DecodeError(
        f"{info.format_label} cannot be decoded by {names}{asked}{why}: {hint}",
        code="cannot-decode-format",
    )
