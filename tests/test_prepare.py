# prepare(): with each installed engine, the output is accepted as it is,
# not resized by the API, correctly oriented, flattened onto white, within the
# byte budget, and the input is never touched.

from __future__ import annotations

import base64
import hashlib
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import preflight
from preflight.engines import get_engine
from preflight.errors import (
    ByteBudgetError,
    EngineError,
    InvalidArgumentError,
    OutputPathError,
    UnsafeImageError,
    UnsupportedFormatError,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def installed_engines() -> list[str]:
    names = ["pillow"]
    try:
        get_engine("vips")
        names.insert(0, "vips")
    except EngineError:
        pass
    return names


ENGINES = installed_engines()
engines = pytest.mark.parametrize("engine", ENGINES)


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth colour fields with mild noise: photo-like for encoders."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 127 + 100 * np.sin(x / 37 + seed)
    green = 127 + 100 * np.cos(y / 29)
    blue = 127 + 100 * np.sin((x + y) / 53)
    pixels = np.stack([red, green, blue], axis=-1) + rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def assert_ready(result: preflight.PreparedImage, limit: int = 5 * 1_048_576) -> None:
    """Accepted as it is: the content matches the media type, the API keeps
    its size, the base64 is within the limit, and check() finds no error."""
    info = preflight.probe(result.data)
    assert info.media_type == result.media_type
    assert (info.width, info.height) == (result.width, result.height)
    assert preflight.api_size(result.width, result.height) == (result.width, result.height)
    assert len(result.base64()) <= limit
    assert info.orientation == 1
    errors = [f for f in preflight.check(info, declared_media_type=result.media_type) if f.is_error]
    assert errors == []


KINDS = [
    ("JPEG", "RGB", {"quality": 90}),
    ("JPEG", "L", {}),
    ("JPEG", "CMYK", {}),
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {}),
    ("PNG", "P", {}),
    ("PNG", "I;16", {}),
    ("GIF", "P", {}),
    ("WEBP", "RGB", {"quality": 80}),
    ("WEBP", "RGBA", {"lossless": True}),
    ("TIFF", "RGB", {}),
    ("BMP", "RGB", {}),
]


@given(
    st.sampled_from(KINDS),
    st.integers(1, 2400),
    st.integers(1, 2400),
    st.sampled_from(ENGINES),
    st.sampled_from(["api", "guide", "tokens=300"]),
)
def test_prepared_images_are_ready(
    kind: tuple[str, str, dict[str, Any]], width: int, height: int, engine: str, target: str
) -> None:
    fmt, mode, options = kind
    image = photo(min(width, 2400), min(height, 2400)).resize((width, height))
    if mode == "RGBA":
        image.putalpha(128)
    image = image.convert(mode) if mode != "I;16" else image.convert("I").convert("I;16")
    data = encode(image, fmt, **options)
    result = preflight.prepare(data, engine=None if fmt == "BMP" else engine, target=target)
    assert_ready(result)
    expected = preflight.target_size(width, height, target)
    assert (result.width, result.height) == expected or result.passed_through


@engines
@pytest.mark.parametrize("orientation", range(1, 9))
def test_marked_corner_ends_where_the_viewer_sees_it(engine: str, orientation: int) -> None:
    data = (FIXTURES / "samples" / f"orientation-{orientation}.jpg").read_bytes()
    result = preflight.prepare(data, engine=engine, format="png")
    with Image.open(io.BytesIO(result.data)) as out:
        pixels = out.convert("RGB")
    # What a viewer shows: Pillow's exif_transpose of the source.
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as source:
        shown = ImageOps.exif_transpose(source).convert("RGB")
    assert pixels.size == shown.size
    for corner in [
        (2, 2),
        (shown.width - 3, 2),
        (2, shown.height - 3),
        (shown.width - 3, shown.height - 3),
    ]:
        expected_red = shown.getpixel(corner)[0] > 200  # type: ignore[index]
        assert (pixels.getpixel(corner)[0] > 200) == expected_red, corner  # type: ignore[index]
    if orientation != 1:
        assert "rotated" in [a.code for a in result.actions]


@engines
def test_transparency_flattened_onto_white(engine: str) -> None:
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((20, 10, 40, 30), fill=(255, 0, 0, 255))
    result = preflight.prepare(encode(image, "PNG"), engine=engine, format="jpeg")
    with Image.open(io.BytesIO(result.data)) as out:
        rgb = out.convert("RGB")
        assert min(rgb.getpixel((2, 2))) > 245  # type: ignore[arg-type]  # white, never black
        red = rgb.getpixel((30, 20))
    assert red[0] > 200 and red[1] < 60  # type: ignore[index]
    assert "alpha-flattened" in [a.code for a in result.actions]
    auto = preflight.prepare(
        encode(image.resize((2400, 1600)), "WEBP", lossless=True), engine=engine
    )
    assert auto.media_type == "image/png"  # transparency kept in auto mode


@engines
def test_cmyk_matches_pillows_conversion(engine: str) -> None:
    source = photo(64, 48).convert("CMYK")
    data = encode(source, "JPEG", quality=95)
    result = preflight.prepare(data, engine=engine, format="png")
    with Image.open(io.BytesIO(data)) as original:
        reference = np.asarray(original.convert("RGB"), dtype=np.float32)
    with Image.open(io.BytesIO(result.data)) as out:
        ours = np.asarray(out.convert("RGB"), dtype=np.float32)
    assert np.abs(ours - reference).mean() < 8
    assert "color-converted" in [a.code for a in result.actions]


@engines
def test_tight_byte_budget_is_honoured(engine: str) -> None:
    data = encode(photo(1200, 900, seed=3), "PNG")
    limit = 40_000
    result = preflight.prepare(data, engine=engine, max_bytes=limit)
    assert len(result.base64()) <= limit
    codes = [a.code for a in result.actions]
    assert "quality-lowered" in codes or "shrunk-for-bytes" in codes
    tiny = preflight.prepare(data, engine=engine, max_bytes=2_000)
    assert len(tiny.base64()) <= 2_000
    assert "shrunk-for-bytes" in [a.code for a in tiny.actions]
    assert preflight.api_size(tiny.width, tiny.height) == (tiny.width, tiny.height)


def test_impossible_byte_budget_is_a_clear_error() -> None:
    with pytest.raises(ByteBudgetError):
        preflight.prepare(encode(photo(200, 200), "PNG"), max_bytes=8, format="png")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (2500, 700)])
def test_engines_agree_on_size_and_are_close_to_lanczos(size: tuple[int, int]) -> None:
    source = photo(*size, seed=5)
    data = encode(source, "JPEG", quality=92)
    with Image.open(io.BytesIO(data)) as decoded:
        want = preflight.api_size(*size)
        reference = np.asarray(decoded.convert("RGB").resize(want, Image.Resampling.LANCZOS))
    sizes = set()
    for engine in ENGINES:
        result = preflight.prepare(data, engine=engine)
        sizes.add((result.width, result.height))
        with Image.open(io.BytesIO(result.data)) as out:
            assert psnr(np.asarray(out.convert("RGB")), reference) >= 30, engine
    assert sizes == {want}


@engines
def test_pass_through_returns_identical_bytes(engine: str) -> None:
    for name in ("photo-800x600.jpg", "rgba.png", "still.gif", "lossy.webp"):
        path = FIXTURES / "samples" / name
        result = preflight.prepare(path, engine=engine)
        assert result.data == path.read_bytes()
        assert result.passed_through
        assert result.engine is None


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    sources = sorted(p for p in (FIXTURES / "samples").iterdir())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    for path in sources:
        preflight.prepare(path).save(tmp_path / (path.name + ".out"))
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}


def test_save_refuses_the_source_and_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(photo(3000, 200), "PNG"))
    result = preflight.prepare(path)
    with pytest.raises(OutputPathError):
        result.save(path)
    with pytest.raises(OSError, match="refusing to overwrite"):  # an OSError too
        result.save(str(path))
    written = result.save(tmp_path / "deep" / "er" / "out.jpg")
    assert written.read_bytes() == result.data
    assert [p.name for p in written.parent.iterdir()] == ["out.jpg"]  # no temp files left


def test_block_and_base64() -> None:
    result = preflight.prepare(FIXTURES / "samples" / "baseline.jpg")
    block = result.to_block()
    assert block["type"] == "image"
    source = block["source"]
    assert isinstance(source, dict)
    assert source["media_type"] == "image/jpeg"
    assert base64.b64decode(source["data"]) == result.data


def test_pixel_cap_refuses_before_decoding() -> None:
    with pytest.raises(UnsafeImageError) as caught:
        preflight.prepare(FIXTURES / "hostile" / "bomb-100000x100000.png")
    assert "100000x100000" in str(caught.value)
    with pytest.raises(UnsafeImageError):
        preflight.prepare(FIXTURES / "samples" / "photo-800x600.jpg", pixel_cap=1000)


def test_unsupported_and_bad_arguments() -> None:
    with pytest.raises(UnsupportedFormatError, match="SVG"):
        preflight.prepare(FIXTURES / "unsupported" / "drawing.svg")
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", engine="magick")
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", format="bmp")
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", target="huge")


@engines
def test_animation_gives_the_first_frame(engine: str) -> None:
    result = preflight.prepare(FIXTURES / "samples" / "animated.gif", engine=engine)
    assert "first-frame" in [a.code for a in result.actions]
    assert not preflight.probe(result.data).animated


def test_truncated_input_fails_cleanly() -> None:
    for engine in ENGINES:
        with pytest.raises(preflight.DecodeError):
            preflight.prepare(FIXTURES / "hostile" / "cut-in-pixels.jpg", engine=engine)
