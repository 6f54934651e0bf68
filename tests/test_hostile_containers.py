# Containers that lie about their size: the header parser must report the
# size of what a decoder will actually decode (Pillow is the reference), so
# the pixel cap is checked against it. ICO directories that understate the
# embedded PNG or bitmap; TIFFs with duplicated ImageWidth tags (the first
# wins, as in libtiff and Pillow), with the directory after the pixels (read
# within the budget) or past the budget (size unknown: refused), BigTIFF.

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from crafted import bilevel_png, dib, ico, pillow_ico, tiff
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import preflight
from preflight._core.headers import READ_BUDGET, NeedMore, parse
from preflight._core.info import Header
from preflight.errors import UnsafeImageError, UnsupportedFormatError


def pillow_size(data: bytes) -> tuple[int, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Image was not the expected size", bomb warnings
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size


def header_of(data: bytes) -> Header:
    """What probe gets: the first 4 KiB, then the longer prefixes asked for."""
    prefix = data[:4096]
    result = parse(prefix, complete=len(prefix) == len(data))
    while isinstance(result, NeedMore):
        prefix = data[: result.at_least]
        result = parse(prefix, complete=len(prefix) == len(data))
    return result


# --- ICO ---------------------------------------------------------------------


def test_ico_bomb_behind_a_16px_directory_is_reported_at_its_real_size() -> None:
    bomb = ico([((16, 16), bilevel_png(13000, 13000))])
    assert len(bomb) < 100_000
    header = header_of(bomb)
    assert (header.width, header.height) == (13000, 13000)
    assert (header.width, header.height) == pillow_size(bomb)  # 169 Mpx, 1 bit each: 21 MB


def test_ico_bomb_is_refused_by_the_pixel_cap_before_decoding() -> None:
    bomb = ico([((16, 16), bilevel_png(13000, 13000))])
    with pytest.raises(UnsafeImageError, match="13000x13000"):
        preflight.prepare(bomb, pixel_cap=1_000_000, engine="pillow")


def test_ico_with_a_bitmap_that_outgrows_its_directory() -> None:
    data = ico([((16, 16), dib(300, 200))])
    assert (header_of(data).width, header_of(data).height) == (300, 200) == pillow_size(data)


@given(
    sizes=st.lists(
        st.tuples(st.integers(1, 256), st.integers(1, 256)), min_size=1, max_size=4, unique=True
    ),
    bitmap=st.booleans(),
)
def test_ico_size_is_the_entry_pillow_decodes(sizes: list[tuple[int, int]], bitmap: bool) -> None:
    data = pillow_ico(sizes, bitmap=bitmap)
    header = header_of(data)
    assert (header.width, header.height) == pillow_size(data)


@given(
    listed=st.lists(
        st.tuples(st.integers(1, 256), st.integers(1, 256)), min_size=1, max_size=4, unique=True
    ),
    real=st.lists(st.tuples(st.integers(1, 600), st.integers(1, 600)), min_size=4, max_size=4),
    png=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_lying_ico_directories_give_pillows_size(
    listed: list[tuple[int, int]], real: list[tuple[int, int]], png: list[bool]
) -> None:
    images = [
        (size, bilevel_png(*embedded) if is_png else dib(*embedded))
        for size, embedded, is_png in zip(listed, real, png, strict=False)
    ]
    data = ico(images)
    header = header_of(data)
    assert (header.width, header.height) == pillow_size(data)


def test_ico_embedded_image_past_the_data_is_asked_for_or_unknown() -> None:
    data = ico([((16, 16), bytes(8000) + bilevel_png(5000, 5000))])
    # the directory points at the zeros: a 40-byte DIB header of zeros is no image
    assert header_of(data).width is None
    far = ico([((16, 16), bilevel_png(5000, 5000))])
    asked = parse(far[:20])  # within the budget: asked for
    assert isinstance(asked, NeedMore)
    assert asked.at_least > 20
    assert parse(far[:30], complete=True).width is None  # cut short: unknown


def test_ico_embedded_image_missing_is_refused_by_prepare() -> None:
    data = ico([((16, 16), bilevel_png(50, 50))])[:40]  # cut inside the embedded PNG
    with pytest.raises(UnsupportedFormatError, match="no size"):
        preflight.prepare(data, engine="pillow")


# --- TIFF --------------------------------------------------------------------


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("little_endian", [True, False])
def test_duplicated_image_width_keeps_the_first_as_pillow_does(
    big: bool, little_endian: bool
) -> None:
    data = tiff([30, 5000], 20, big=big, little_endian=little_endian)
    header = header_of(data)
    assert (header.width, header.height) == (30, 20)
    if big and not little_endian:
        # Pillow 13 tests BigTIFF on the wrong byte of a big-endian header
        # and cannot open these; libtiff (through libvips) is the reference.
        pyvips = pytest.importorskip("pyvips")
        image = pyvips.Image.new_from_buffer(data, "")
        assert (image.width, image.height) == (30, 20)
    else:
        assert pillow_size(data) == (30, 20)


@pytest.mark.parametrize("big", [False, True])
def test_directory_after_the_pixels_is_asked_for(big: bool) -> None:
    data = tiff(3000, 1000, big=big)  # 3 MB of pixels, then the directory
    first = parse(data[:4096])
    assert isinstance(first, NeedMore)
    assert first.at_least <= READ_BUDGET
    header = header_of(data)
    assert (header.width, header.height) == (3000, 1000) == pillow_size(data)


def test_directory_after_the_pixels_through_probe() -> None:
    data = tiff(2000, 1500, extra=[(0x0112, 3, 6)])
    info = preflight.probe(data)
    assert (info.width, info.height, info.orientation) == (2000, 1500, 6)
    # Pillow's TIFF reader turns the image upright as it loads it.
    assert (info.display_width, info.display_height) == pillow_size(data)


def test_directory_past_the_read_budget_leaves_the_size_unknown(tmp_path: Path) -> None:
    data = tiff(100, 100, padding=READ_BUDGET)
    header = header_of(data)
    assert header.format == "tiff"
    assert (header.width, header.height) == (None, None)
    path = tmp_path / "far.tiff"
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormatError, match="no size"):
        preflight.prepare(path, engine="pillow")


@pytest.mark.parametrize("kind", [1, 8, 9])  # BYTE, SSHORT, SLONG: no size libtiff accepts here
def test_width_of_an_odd_type_is_not_guessed(kind: int) -> None:
    data = tiff(40, 30, directory_at_end=False)
    # Re-type the ImageWidth entry (the first, at offset 8 + 2).
    at = 10
    patched = data[:at] + data[at : at + 2] + bytes([kind, 0]) + data[at + 4 :]
    header = header_of(patched)
    assert header.width is None or (header.width, header.height) == pillow_size(patched)
