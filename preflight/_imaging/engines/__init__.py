"""Choosing an image engine.

Rules: pyvips when it imports and libvips loads, else Pillow;
PREFLIGHT_ENGINE=pillow|vips or engine=... picks one; asking for vips
without it installed is a MissingExtraError (code engine-unavailable) that says how to install
it. Engines are made once per process (libvips settings are global).
"""

from __future__ import annotations

import os
from functools import cache

from preflight._imaging.engines.base import Engine
from preflight.errors import InvalidArgumentError, MissingExtraError

ENGINE_NAMES = ("vips", "pillow")
_ALIASES = {"pyvips": "vips", "libvips": "vips", "pil": "pillow"}


@cache
def _make(name: str) -> Engine:
    if name == "vips":
        from preflight._imaging.engines.vips import VipsEngine

        return VipsEngine()
    from preflight._imaging.engines.pillow import PillowEngine

    return PillowEngine()


def get_engine(name: str | None = None) -> Engine:
    """The named engine, or the best one installed."""
    chosen = name or os.environ.get("PREFLIGHT_ENGINE") or None
    if chosen is None:
        try:
            return _make("vips")
        except MissingExtraError:
            return _make("pillow")
    return _make(engine_name(chosen))


def engine_name(name: str) -> str:
    """The canonical engine name, or InvalidArgumentError listing the names."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ENGINE_NAMES:
        raise InvalidArgumentError(f"unknown engine {name!r}; known: {', '.join(ENGINE_NAMES)}")
    return key


def other_engine(engine: Engine) -> Engine | None:
    """The other engine, if it is installed: a fallback for formats the first
    one cannot read."""
    try:
        return _make("pillow" if engine.name == "vips" else "vips")
    except MissingExtraError:
        return None


def readers(fmt: str) -> list[Engine]:
    """The installed engines that decode `fmt`, vips first."""
    found = []
    for name in ENGINE_NAMES:
        try:
            engine = _make(name)
        except MissingExtraError:
            continue
        if fmt in engine.formats:
            found.append(engine)
    return found
