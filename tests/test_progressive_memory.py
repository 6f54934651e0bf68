# Progressive and multi-scan JPEGs are decoded from a buffer of every DCT
# coefficient of the image (libjpeg, in both engines), whatever the output
# size: a 1.9 MB progressive 13000 x 13000 file peaked at about 1 GB. The
# parser computes that buffer as libjpeg allocates it; the engines refuse a
# file whose buffer is over the memory cap before decoding. Peak memory
# before and after is measured in benchmarks/bench_hostile.py, not here.

from __future__ import annotations

import io

import pytest
from PIL import Image
from test_prepare import ENGINES, encode, photo

import preflight
from preflight._core.headers.jpeg import coefficient_buffer_bytes
from preflight._imaging.engines.guard import (
    JPEG_MEMORY_CAP,
    JPEG_MEMORY_CAP_VARIABLE,
    jpeg_memory_cap,
)
from preflight.errors import InvalidArgumentError, UnsafeImageError


def jpeg(width: int, height: int, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 200)).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def blocks(side: int, factor: int, largest: int) -> int:
    """libjpeg's blocks of one component along one side, rounded up to its factor."""
    count = -(-side * factor // (8 * largest))
    return -(-count // factor) * factor


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # 4:4:4, 4:2:2, 4:2:0
@pytest.mark.parametrize("size", [(1001, 777), (8, 8), (17, 9), (4000, 3000)])
def test_buffer_is_libjpegs_arithmetic(subsampling: int, size: tuple[int, int]) -> None:
    width, height = size
    info = preflight.probe(jpeg(width, height, progressive=True, subsampling=subsampling))
    luma_h, luma_v = {0: (1, 1), 1: (2, 1), 2: (2, 2)}[subsampling]
    luma = blocks(width, luma_h, luma_h) * blocks(height, luma_v, luma_v)
    chroma = blocks(width, 1, luma_h) * blocks(height, 1, luma_v)
    assert info.coefficient_buffer_bytes == (luma + 2 * chroma) * 64 * 2
    assert coefficient_buffer_bytes(width, height, [(1, 1)]) == (
        blocks(width, 1, 1) * blocks(height, 1, 1) * 128
    )


def test_baseline_needs_no_buffer_and_multi_scan_does() -> None:
    data = jpeg(64, 48, subsampling=0)  # 4:4:4: 8 x 6 blocks per component
    assert preflight.probe(data).coefficient_buffer_bytes == 0
    # A first scan with one component of three: the others come in later
    # scans, so the decoder buffers the whole image (libjpeg's "multi-scan").
    scan = data.index(b"\xff\xda")
    one_component = data[: scan + 4] + b"\x01" + data[scan + 5 :]
    assert preflight.probe(one_component).coefficient_buffer_bytes == 3 * 8 * 6 * 128


@pytest.mark.parametrize("engine", ENGINES)
def test_over_the_cap_is_refused_before_decoding(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encode(photo(800, 600), "JPEG", progressive=True)
    needed = preflight.probe(data).coefficient_buffer_bytes
    monkeypatch.setenv(JPEG_MEMORY_CAP_VARIABLE, str(needed - 1))
    with pytest.raises(
        UnsafeImageError, match=r"progressive JPEG of 800x600.*PREFLIGHT_JPEG_MEMORY_CAP"
    ):
        preflight.prepare(data, engine=engine, target="box:100x100")
    monkeypatch.setenv(JPEG_MEMORY_CAP_VARIABLE, str(needed))
    assert preflight.prepare(data, engine=engine, target="box:100x100").width == 100
    # a baseline file of the same size needs no buffer: never refused for it
    monkeypatch.setenv(JPEG_MEMORY_CAP_VARIABLE, "1")
    baseline = encode(photo(800, 600), "JPEG")
    assert preflight.prepare(baseline, engine=engine, target="box:100x100").width == 100


def test_default_cap_refuses_the_13000px_progressive_bomb_and_keeps_8000px(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(JPEG_MEMORY_CAP_VARIABLE, raising=False)
    assert jpeg_memory_cap() == JPEG_MEMORY_CAP
    bomb = coefficient_buffer_bytes(13000, 13000, [(2, 2), (1, 1), (1, 1)])
    largest_accepted = coefficient_buffer_bytes(8000, 8000, [(1, 1), (1, 1), (1, 1)])
    assert largest_accepted <= JPEG_MEMORY_CAP < bomb


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1e9", "²"])
def test_a_bad_cap_in_the_environment_is_a_clear_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JPEG_MEMORY_CAP_VARIABLE, value)
    with pytest.raises(InvalidArgumentError, match=JPEG_MEMORY_CAP_VARIABLE):
        jpeg_memory_cap()
