# Shared test helpers: the fixture corpus and a pipe-like stream. Imported as
# a plain module (`from helpers import ...`), as strategies.py is: tox runs
# pytest without the repository root on sys.path.

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

from hypothesis import settings
from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# fixtures/manifest.json: what make_fixtures.py recorded about each file.
MANIFEST: dict[str, dict[str, Any]] = json.loads((FIXTURES / "manifest.json").read_text())
# The manifest's facts that the header parser reads...
HEADER_FACTS = (
    "format",
    "width",
    "height",
    "orientation",
    "animated",
    "frames",
    "mode",
    "progressive",
    "interlaced",
    "bit_depth",
    "has_icc_profile",
)
# ... and those probe adds, from the end of the file.
PROBE_FACTS = (*HEADER_FACTS, "truncated", "missing_end_marker")


class Pipe(io.RawIOBase):
    """A non-seekable stream that returns at most `chunk` bytes a read, as a
    pipe does."""

    def __init__(self, data: bytes, chunk: int = 100) -> None:
        self.inner = io.BytesIO(data)
        self.chunk = chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.inner.read(min(len(buffer), self.chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def installed_engines() -> list[str]:
    """The engines that run here: Pillow always, vips first when it loads."""
    from preflight._imaging.engines import get_engine
    from preflight.errors import MissingExtraError

    names = ["pillow"]
    try:
        get_engine("vips")
        names.insert(0, "vips")
    except MissingExtraError:
        pass
    return names


def examples(share: float) -> int:
    """A property's example count as a share of the loaded profile's (see
    conftest.py: dev, ci, thorough or HYPOTHESIS_MAX_EXAMPLES), at least 5.
    Properties whose every example encodes or decodes images take a share
    below 1; cheap arithmetic properties may take more than 1. Either way
    the environment still sets the strength."""
    return max(5, round(settings.default.max_examples * share))


def wait_until(condition: Callable[[], bool], *, timeout: float = 60.0) -> bool:
    """Poll `condition` until it holds: True if it did, False once `timeout`
    seconds pass (a watchdog against a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


P = ParamSpec("P")


def cached_image(make: Callable[P, Image.Image]) -> Callable[P, Image.Image]:
    """Keep the last 16 images `make` drew (test images are made again and
    again, once per engine): each call returns a fresh copy to do with as
    it likes."""
    cached = functools.lru_cache(maxsize=16)(make)

    @functools.wraps(make)
    def fresh(*args: P.args, **kwargs: P.kwargs) -> Image.Image:
        return cached(*args, **kwargs).copy()  # type: ignore[arg-type]

    return fresh
