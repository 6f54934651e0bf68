# The PNG palette encode of both engines: a valid PNG with a palette of at
# most 256 colours, the same size, exact for a graphic that has 256 colours
# or fewer, and close for a photo. (Its speed, the reason the vips engine's
# settings changed, is measured in benchmarks/bench_hostile.py.)

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from test_prepare import ENGINES, photo

import preflight
from preflight._imaging.engines import get_engine


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def graphic(colours: int) -> Image.Image:
    rng = np.random.default_rng(colours)
    palette = rng.integers(0, 256, (colours, 3), dtype=np.uint8)
    index = rng.integers(0, colours, (60, 80))
    return Image.fromarray(palette[np.repeat(np.repeat(index, 5, 0), 5, 1)])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("colours", [2, 17, 256])
def test_few_colours_stay_exact(engine: str, colours: int) -> None:
    runner = get_engine(engine)
    source = graphic(colours)
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    data = buffer.getvalue()
    pixels = runner.load(data, preflight.probe(data), 400, 300, pixel_cap=10**9)
    out = decoded(runner.encode(pixels, "png", 85, palette=True))
    assert out.format == "PNG"
    assert out.mode == "P"
    assert np.array_equal(np.asarray(out.convert("RGB")), np.asarray(source))


@pytest.mark.parametrize("engine", ENGINES)
def test_noisy_photo_gets_a_valid_palette_png(engine: str) -> None:
    runner = get_engine(engine)
    source = photo(300, 200, seed=5)
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    data = buffer.getvalue()
    pixels = runner.load(data, preflight.probe(data), 300, 200, pixel_cap=10**9)
    out = decoded(runner.encode(pixels, "png", 85, palette=True))
    assert (out.format, out.mode, out.size) == ("PNG", "P", (300, 200))
    assert len(out.getcolors(256) or []) <= 256
    error = np.abs(np.asarray(out.convert("RGB"), float) - np.asarray(source, float)).mean()
    assert error < 12
