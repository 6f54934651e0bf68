# tile() and tile_layout(): every tile fits the tier unresized, the tiles
# cover the whole image with at least the asked-for overlap, they come in
# reading order with "Image N:" labels, the overview fits, and the tiles carry
# the source's own pixels.

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from helpers import installed_engines
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from preflight._core.geometry import api_size, tokens
from preflight._imaging.tiling import Layout, tile, tile_layout
from preflight.errors import InvalidArgumentError

engines = pytest.mark.parametrize("engine", installed_engines())

layout_sizes = st.tuples(st.integers(1, 9000), st.integers(1, 9000))
tiers = st.sampled_from(["standard", "high-res"])
overlaps = st.integers(0, 200)


def assert_sound(layout: Layout, tier: str, overlap: int) -> None:
    width, height = layout.width, layout.height
    assert len(layout.boxes) == layout.columns * layout.rows
    for left, top, right, bottom in layout.boxes:
        w, h = right - left, bottom - top
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        assert api_size(w, h, tier) == (w, h), "a tile the API would resize"
    # Rows top to bottom, each left to right; a grid, so coverage is per axis.
    grid = [layout.boxes[r * layout.columns : (r + 1) * layout.columns] for r in range(layout.rows)]
    for row in grid:
        assert len({(top, bottom) for _, top, _, bottom in row}) == 1
        lefts = [left for left, _, _, _ in row]
        assert lefts == sorted(lefts)
        assert row[0][0] == 0 and row[-1][2] == width
        for before, after in itertools.pairwise(row):
            assert before[2] - after[0] >= overlap  # overlap respected (so no gap)
    tops = [row[0][1] for row in grid]
    assert tops == sorted(tops)
    assert grid[0][0][1] == 0 and grid[-1][0][3] == height
    for above, below in itertools.pairwise(grid):
        assert above[0][3] - below[0][1] >= overlap


@given(layout_sizes, tiers, overlaps)
def test_layout_tiles_fit_cover_overlap_and_read_in_order(
    size: tuple[int, int], tier: str, overlap: int
) -> None:
    # Tiles are at least 784 px on some side in every tier, so any overlap
    # up to 200 px has a layout.
    layout = tile_layout(*size, tier, overlap=overlap)
    assert_sound(layout, tier, overlap)
    if api_size(*size, tier) == size:
        assert layout.boxes == ((0, 0, *size),)


@given(layout_sizes, tiers)
def test_no_smaller_layout_exists_in_either_direction(size: tuple[int, int], tier: str) -> None:
    """The layout needs no more tiles than the simplest bound: whole tier-
    sized squares with the overlap."""
    layout = tile_layout(*size, tier, overlap=0)
    if len(layout.boxes) == 1:
        return
    # Tiles of the tier's largest unresized square, with no overlap, cover it in:
    side = api_size(10_000, 10_000, tier)[0]
    bound = -(-size[0] // side) * -(-size[1] // side)
    assert len(layout.boxes) <= bound


def test_known_layouts() -> None:
    long_page = tile_layout(1000, 20000, "standard")
    assert (long_page.columns, long_page.width) == (1, 1000)
    assert long_page.rows == 18
    wide = tile_layout(5000, 800, "standard")
    assert (wide.columns, wide.rows) == (4, 1)
    assert tile_layout(5000, 800, "high-res").columns == 2


def test_bad_overlap() -> None:
    with pytest.raises(InvalidArgumentError):
        tile_layout(3000, 3000, overlap=-1)
    with pytest.raises(InvalidArgumentError):
        tile_layout(3000, 3000, overlap=5000)


def page(width: int, height: int) -> Image.Image:
    """A page with a distinct mark in every 100 px cell, so crops can be told apart."""
    rng = np.random.default_rng(width * 7 + height)
    pixels = rng.integers(0, 256, (height // 50 + 1, width // 50 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(np.kron(pixels, np.ones((50, 50, 1), dtype=np.uint8))[:height, :width])
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 40):
        draw.text((10, y), f"line {y}", fill=(0, 0, 0))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


@engines
def test_tiles_are_the_source_pixels_in_reading_order(engine: str) -> None:
    source = page(1500, 3100)
    result = tile(png(source), engine=engine, overlap=80, image_format="png", tier="standard")
    labels = [image.label for image in result.images]
    assert labels == [f"Image {n}:" for n in range(1, len(result.images) + 1)]
    overview = result.overview
    assert overview is not None and result.images[0] is overview
    assert (overview.width, overview.height) == api_size(1500, 3100, "standard")
    assert api_size(overview.width, overview.height) == (overview.width, overview.height)
    tiles = result.tiles
    assert len(tiles) == len(result.layout.boxes) > 1
    assert [t.box for t in tiles] == list(result.layout.boxes)
    for piece in tiles:
        left, top, right, bottom = piece.box
        decoded = Image.open(io.BytesIO(piece.data))
        assert decoded.size == (piece.width, piece.height) == (right - left, bottom - top)
        assert api_size(*decoded.size) == decoded.size
        expected = np.asarray(source.crop(piece.box))
        assert np.array_equal(np.asarray(decoded.convert("RGB")), expected)
        assert piece.media_type == "image/png"
        assert piece.tokens == tokens(*decoded.size)
    assert result.tokens == sum(image.tokens for image in result.images)
    assert result.whole_size == api_size(1500, 3100, "standard")
    assert result.whole_tokens == tokens(*api_size(1500, 3100, "standard"))
    content = result.to_content()
    assert [block["type"] for block in content[:4]] == ["text", "image", "text", "image"]
    assert content[0]["text"] == "Image 1:"


@engines
def test_small_image_is_one_tile_without_overview(engine: str) -> None:
    result = tile(png(page(800, 600)), engine=engine, tier="standard")
    assert len(result.images) == 1 and result.overview is None
    assert result.images[0].box == (0, 0, 800, 600)
    assert result.tokens == result.whole_tokens


@engines
def test_photo_tiles_are_jpeg_within_the_tier(engine: str) -> None:
    rng = np.random.default_rng(3)
    noisy = Image.fromarray(rng.integers(0, 256, (1300, 2600, 3), dtype=np.uint8))
    result = tile(png(noisy), engine=engine, tier="standard")
    assert {image.media_type for image in result.images} == {"image/jpeg"}
    for image in result.images:
        decoded = Image.open(io.BytesIO(image.data))
        assert api_size(*decoded.size) == decoded.size


def test_too_many_tiles_for_a_request_is_an_error() -> None:
    with pytest.raises(InvalidArgumentError, match="images"):
        tile(png(Image.new("L", (8000, 8000), 255)), surface="claude.ai")
