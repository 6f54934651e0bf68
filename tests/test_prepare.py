# prepare(): with each installed engine, the output is accepted as it is,
# not resized by the API, correctly oriented, flattened onto white, within the
# byte budget, and the input is never touched.

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import io
import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import FIXTURES, examples, installed_engines
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageOps

import preflight
from preflight.errors import (
    ByteBudgetError,
    InvalidArgumentError,
    OutputPathError,
    UnsafeImageError,
    UnsupportedFormatError,
)

# The tier the expectations below are computed for (api_size and
# target_size default to it): a standard-tier model.
STANDARD = "claude-sonnet-4-6"  # standard tier
STANDARD_OPTIONS = preflight.make_options(model=STANDARD)


ENGINES = installed_engines()
engines = pytest.mark.parametrize("engine", ENGINES)


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth colour fields with mild noise: photo-like for encoders."""
    return Image.fromarray(photo_pixels(width, height, seed), "RGB")  # a copy: RGB


@functools.lru_cache(maxsize=8)
def photo_pixels(width: int, height: int, seed: int) -> np.ndarray:
    # Cached (8 photos: at most 300 MB), read-only: many tests ask for the
    # same large photo, test_engines for six of them twice over. The
    # colour fields are computed per row and column and added to the noise
    # in place (the same values as a full grid, at a quarter of the time).
    rng = np.random.default_rng(seed)
    x = np.arange(width, dtype=np.float32)
    y = np.arange(height, dtype=np.float32)[:, None]
    pixels = rng.normal(0, 4, (height, width, 3))
    pixels[..., 0] += 127 + 100 * np.sin(x / 37 + seed)
    pixels[..., 1] += 127 + 100 * np.cos(y / 29)
    pixels[..., 2] += 127 + 100 * np.sin((x + y) / 53)
    out = np.clip(pixels, 0, 255, out=pixels).astype(np.uint8)
    out.setflags(write=False)
    return out


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
    kept = preflight.api_size(result.width, result.height, options=STANDARD_OPTIONS)
    assert kept == (result.width, result.height)
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
    ("PNG", "LA", {}),
    ("PNG", "1", {}),
    ("GIF", "L", {}),
    ("WEBP", "RGB", {"lossless": True}),
    ("TIFF", "RGB", {}),
    ("BMP", "RGB", {}),
]


# Every example encodes, prepares and probes a photo up to 2400 px a side: a
# third of the profile's examples (100 in CI), and slow.
@pytest.mark.slow
@settings(max_examples=examples(1 / 3))
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
    if mode in ("RGBA", "LA"):
        image.putalpha(128)
    image = image.convert(mode) if mode != "I;16" else image.convert("I").convert("I;16")
    data = encode(image, fmt, **options)
    result = preflight.prepare(
        data, engine=None if fmt == "BMP" else engine, target=target, model=STANDARD
    )
    assert_ready(result)
    expected = preflight.target_size(
        width, height, target, options=preflight.make_options(model=STANDARD)
    )
    assert (result.width, result.height) == expected or result.passed_through


# Where the stored pixel (x, y) of a W x H image is shown, per EXIF orientation
# (the EXIF 2.3 definitions, independent of any library's implementation).
SHOWN_AT = {
    1: lambda x, y, w, h: (x, y),
    2: lambda x, y, w, h: (w - 1 - x, y),  # mirrored left-right
    3: lambda x, y, w, h: (w - 1 - x, h - 1 - y),  # rotated 180
    4: lambda x, y, w, h: (x, h - 1 - y),  # mirrored top-bottom
    5: lambda x, y, w, h: (y, x),  # transposed
    6: lambda x, y, w, h: (h - 1 - y, x),  # rotated 90 clockwise to view
    7: lambda x, y, w, h: (h - 1 - y, w - 1 - x),  # transversed
    8: lambda x, y, w, h: (y, w - 1 - x),  # rotated 90 counter-clockwise to view
}


def rgb_at(data: bytes, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        red, green, blue = (int(v) for v in np.asarray(image.convert("RGB"))[y, x])
    return red, green, blue


@engines
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_marked_corner_ends_where_the_viewer_sees_it(
    engine: str, fmt: str, orientation: int
) -> None:
    width, height, mark = 120, 80, 16
    stored = Image.new("RGB", (width, height), (128, 128, 128))
    stored.paste((255, 0, 0), (0, 0, mark, mark))  # top-left corner: red
    stored.paste((0, 0, 255), (width - mark, 0, width, mark))  # top-right corner: blue
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"quality": 95} if fmt != "PNG" else {}
    data = encode(stored, fmt, exif=exif.tobytes(), **options)
    assert preflight.probe(data).orientation == orientation

    result = preflight.prepare(data, engine=engine, image_format="png", model=STANDARD)
    shown_w, shown_h = (height, width) if orientation >= 5 else (width, height)
    assert (result.width, result.height) == (shown_w, shown_h)
    inset = mark // 2  # the middle of each mark, clear of edge blur
    for (x, y), colour in (((inset, inset), "red"), ((width - 1 - inset, inset), "blue")):
        shown_x, shown_y = SHOWN_AT[orientation](x, y, width, height)
        red, _, blue = rgb_at(result.data, shown_x, shown_y)
        assert (red > 200, blue > 200) == (colour == "red", colour == "blue"), (colour, red, blue)
    assert ("rotated" in [a.code for a in result.actions]) == (orientation != 1)
    assert preflight.probe(result.data).orientation == 1


@engines
def test_transparency_flattened_onto_white(engine: str) -> None:
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((20, 10, 40, 30), fill=(255, 0, 0, 255))
    result = preflight.prepare(
        encode(image, "PNG"), engine=engine, image_format="jpeg", model=STANDARD
    )
    assert min(rgb_at(result.data, 2, 2)) > 245  # white, never black
    red = rgb_at(result.data, 30, 20)
    assert red[0] > 200 and red[1] < 60
    assert "alpha-flattened" in [a.code for a in result.actions]
    auto = preflight.prepare(
        encode(image.resize((2400, 1600)), "WEBP", lossless=True), engine=engine, model=STANDARD
    )
    assert auto.media_type == "image/png"  # transparency kept in auto mode


@engines
def test_cmyk_matches_pillows_conversion(engine: str) -> None:
    source = photo(64, 48).convert("CMYK")
    data = encode(source, "JPEG", quality=95)
    result = preflight.prepare(data, engine=engine, image_format="png", model=STANDARD)
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
    result = preflight.prepare(data, engine=engine, max_bytes=limit, model=STANDARD)
    assert len(result.base64()) <= limit
    codes = [a.code for a in result.actions]
    assert "quality-lowered" in codes or "shrunk-for-bytes" in codes
    tiny = preflight.prepare(data, engine=engine, max_bytes=2_000, model=STANDARD)
    assert len(tiny.base64()) <= 2_000
    assert "shrunk-for-bytes" in [a.code for a in tiny.actions]
    kept = preflight.api_size(tiny.width, tiny.height, options=STANDARD_OPTIONS)
    assert kept == (tiny.width, tiny.height)


def test_impossible_byte_budget_is_a_clear_error() -> None:
    with pytest.raises(ByteBudgetError):
        preflight.prepare(encode(photo(200, 200), "PNG"), max_bytes=8, image_format="png")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@pytest.mark.slow  # photos up to 12 megapixels through both engines and a reference
@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (2500, 700)])
def test_engines_agree_on_size_and_are_close_to_lanczos(size: tuple[int, int]) -> None:
    source = photo(*size, seed=5)
    data = encode(source, "JPEG", quality=92)
    with Image.open(io.BytesIO(data)) as decoded:
        want = preflight.api_size(*size, options=preflight.make_options(model=STANDARD))
        reference = np.asarray(decoded.convert("RGB").resize(want, Image.Resampling.LANCZOS))
    sizes = set()
    for engine in ENGINES:
        result = preflight.prepare(data, engine=engine, model=STANDARD)
        sizes.add((result.width, result.height))
        with Image.open(io.BytesIO(result.data)) as out:
            assert psnr(np.asarray(out.convert("RGB")), reference) >= 30, engine
    assert sizes == {want}


@engines
def test_pass_through_returns_identical_bytes(engine: str) -> None:
    for name in ("photo-800x600.jpg", "rgba.png", "still.gif", "lossy.webp"):
        path = FIXTURES / "samples" / name
        result = preflight.prepare(path, engine=engine, model=STANDARD)
        assert result.data == path.read_bytes()
        assert result.passed_through
        assert result.engine is None


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    sources = sorted(p for p in (FIXTURES / "samples").iterdir())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    for path in sources:
        preflight.prepare(path, model=STANDARD).save(tmp_path / (path.name + ".out"))
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}


def test_save_refuses_the_source_and_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(photo(3000, 200), "PNG"))
    result = preflight.prepare(path, model=STANDARD)
    with pytest.raises(OutputPathError):
        result.save(path)
    with pytest.raises(preflight.UsageError, match="refusing to overwrite"):  # the caller's
        result.save(str(path))
    written = result.save(tmp_path / "deep" / "er" / "out.jpg")
    assert written.read_bytes() == result.data
    assert [p.name for p in written.parent.iterdir()] == ["out.jpg"]  # no temp files left


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_get_the_mode_the_umask_gives(tmp_path: Path, umask: int) -> None:
    result = preflight.prepare(FIXTURES / "samples" / "baseline.jpg", model=STANDARD)
    old = os.umask(umask)
    try:
        written = result.save(tmp_path / "out.jpg")
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask


def test_an_unwritable_output_is_a_data_error(tmp_path: Path) -> None:
    result = preflight.prepare(FIXTURES / "samples" / "baseline.jpg", model=STANDARD)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(preflight.WriteError) as caught:
        result.save(blocker / "out.jpg")
    assert isinstance(caught.value, OSError) and isinstance(caught.value, preflight.DataError)


def test_block_and_base64() -> None:
    result = preflight.prepare(FIXTURES / "samples" / "baseline.jpg", model=STANDARD)
    block = result.to_block()
    assert block["type"] == "image"
    source = block["source"]
    assert isinstance(source, dict)
    assert source["media_type"] == "image/jpeg"
    assert base64.b64decode(source["data"]) == result.data


def test_pixel_cap_refuses_before_decoding() -> None:
    with pytest.raises(UnsafeImageError) as caught:
        preflight.prepare(FIXTURES / "hostile" / "bomb-100000x100000.png", model=STANDARD)
    assert "100000x100000" in str(caught.value)
    with pytest.raises(UnsafeImageError):
        preflight.prepare(
            FIXTURES / "samples" / "photo-800x600.jpg", pixel_cap=1000, model=STANDARD
        )


def test_unsupported_and_bad_arguments() -> None:
    with pytest.raises(UnsupportedFormatError, match="SVG"):
        preflight.prepare(FIXTURES / "unsupported" / "drawing.svg", model=STANDARD)
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", engine="magick", model=STANDARD)
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", image_format="bmp", model=STANDARD)
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(FIXTURES / "samples" / "baseline.jpg", target="huge", model=STANDARD)


@engines
def test_animation_gives_the_first_frame(engine: str) -> None:
    result = preflight.prepare(FIXTURES / "samples" / "animated.gif", engine=engine, model=STANDARD)
    assert "first-frame" in [a.code for a in result.actions]
    assert not preflight.probe(result.data).animated


def test_truncated_input_fails_cleanly() -> None:
    for engine in ENGINES:
        with pytest.raises(preflight.DecodeError):
            preflight.prepare(
                FIXTURES / "hostile" / "cut-in-pixels.jpg", engine=engine, model=STANDARD
            )


@engines
@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_metadata_is_stripped(engine: str, fmt: str) -> None:
    from PIL import ImageCms

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "CameraMaker"  # make
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encode(photo(1200, 900), "JPEG", exif=exif.tobytes(), icc_profile=srgb)
    result = preflight.prepare(
        source, engine=engine, format=fmt, target="box=600x600", model=STANDARD
    )
    info = preflight.probe(result.data)
    assert not info.has_exif
    assert not info.has_icc_profile
    assert b"CameraMaker" not in result.data
    assert "metadata-stripped" in [a.code for a in result.actions]


def posterized(bits: int) -> bytes:
    """A flat-looking graphic (few colours) whose PNG is large: noise at the
    colour boundaries defeats PNG's filters."""
    return encode(ImageOps.posterize(photo(1000, 750, seed=3), bits), "PNG")


@engines
def test_png_over_budget_tries_a_palette_first(engine: str) -> None:
    data = posterized(2)
    limit = 150_000
    assert len(base64.b64encode(data)) > limit
    result = preflight.prepare(data, engine=engine, max_bytes=limit, model=STANDARD)
    assert result.media_type == "image/png"
    assert (result.width, result.height) == (1000, 750)
    assert len(result.base64()) <= limit
    assert "palette" in [a.code for a in result.actions]


@engines
def test_auto_png_over_budget_becomes_jpeg_before_shrinking(engine: str) -> None:
    data = posterized(3)
    result = preflight.prepare(data, engine=engine, max_bytes=300_000, model=STANDARD)
    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (1000, 750)
    assert len(result.base64()) <= 300_000
    assert "format-changed" in [a.code for a in result.actions]
    forced = preflight.prepare(
        data, engine=engine, max_bytes=300_000, image_format="png", model=STANDARD
    )
    assert forced.media_type == "image/png"
    assert len(forced.base64()) <= 300_000
    assert forced.width < 1000
    codes = [a.code for a in forced.actions]
    assert "palette" in codes
    assert "shrunk-for-bytes" in codes
    assert_ready(forced)


@engines
def test_an_opaque_alpha_band_is_dropped(engine: str) -> None:
    image = photo(1000, 700)
    image.putalpha(255)
    result = preflight.prepare(
        encode(image, "PNG"), engine=engine, target="box=900x900", model=STANDARD
    )
    assert not preflight.probe(result.data).has_alpha
    assert "alpha-flattened" not in [a.code for a in result.actions]
    transparent = photo(1000, 700)
    transparent.putalpha(200)
    kept = preflight.prepare(
        encode(transparent, "PNG"), engine=engine, target="box=900x900", model=STANDARD
    )
    assert preflight.probe(kept.data).has_alpha


def test_pixel_cap_is_adjustable() -> None:
    path = FIXTURES / "samples" / "wide-2400x600.jpg"
    with pytest.raises(UnsafeImageError, match="2400x600"):
        preflight.prepare(path, pixel_cap=2400 * 600 - 1, model=STANDARD)
    assert preflight.prepare(path, pixel_cap=2400 * 600, model=STANDARD).width == 1568
    with pytest.raises(UnsafeImageError, match="65000x65000"):
        preflight.prepare(FIXTURES / "hostile" / "declares-65000x65000.jpg", model=STANDARD)


@engines
def test_converted_formats_say_so(engine: str) -> None:
    path = FIXTURES / "unsupported" / "image.tiff"
    result = preflight.prepare(path, engine=engine, model=STANDARD)
    assert_ready(result)
    assert result.actions[0].code == "converted"
    assert "TIFF" in result.actions[0].detail


# What each engine converts among the formats the API refuses (the libvips of
# pyvips[binary] has no HEVC, JPEG 2000, BMP, ICO or PSD loader; Pillow reads
# HEIC only with pillow-heif). The rest must be a named, actionable error.
CONVERTS = {
    "vips": {"tiff", "bigtiff", "avif"},
    "pillow": {"tiff", "bigtiff", "avif", "bmp", "ico", "jp2", "psd", "heic"},
}


@engines
@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "unsupported").iterdir()), ids=lambda path: path.name
)
def test_every_refused_format_is_converted_or_named(engine: str, path: Path) -> None:
    kind = path.stem if path.stem == "bigtiff" else path.suffix[1:]
    converts = kind in CONVERTS[engine]
    if kind == "heic" and engine == "pillow":
        converts = importlib.util.find_spec("pillow_heif") is not None
    if converts:
        result = preflight.prepare(path, engine=engine, model=STANDARD)
        assert_ready(result)
        assert result.actions[0].code == "converted"
        assert (result.width, result.height) == (64, 48)
    else:
        with pytest.raises(UnsupportedFormatError) as caught:
            preflight.prepare(path, engine=engine, model=STANDARD)
        label = preflight.probe(path).format_label
        assert str(caught.value).startswith(label)
        assert caught.value.code == "cannot-decode-format"


def test_automatic_engine_falls_back_to_pillow_for_what_libvips_cannot_read() -> None:
    result = preflight.prepare(FIXTURES / "unsupported" / "image.bmp", model=STANDARD)
    assert result.engine == "pillow"
    assert_ready(result)


def test_unknown_size_is_refused_before_decoding() -> None:
    with pytest.raises(UnsupportedFormatError, match="JPEG XL"):
        preflight.prepare(FIXTURES / "unsupported" / "image.jxl", model=STANDARD)


def test_cost_follows_the_model_and_the_batch_discount() -> None:
    path = FIXTURES / "samples" / "wide-2400x600.jpg"
    sonnet = preflight.prepare(path, model="claude-sonnet-4-5")
    assert sonnet.tokens == preflight.tokens(1568, 392)
    assert sonnet.cost_usd == preflight.image_cost(sonnet.tokens, "claude-sonnet-4-5")
    batched = preflight.prepare(path, model="claude-sonnet-4-5", batch=True)
    assert batched.cost_usd * 2 == sonnet.cost_usd
    assert batched.source_estimate is not None
    assert batched.source_estimate.batch
    opus = preflight.prepare(path, model="claude-opus-4-7")  # high-res tier: kept as it is
    assert (opus.width, opus.height) == (2400, 600)
    assert opus.passed_through
    with pytest.raises(InvalidArgumentError):
        preflight.prepare(path, pixel_cap=0, model=STANDARD)


@engines
def test_a_gif_still_is_its_first_frame_at_its_own_size(engine: str) -> None:
    # The second frame grows the canvas to 56x40 (the size the API's limits
    # see); the still is the first frame, 40x30, not stretched to 56x40.
    path = FIXTURES / "samples" / "animated-frame-outgrows-screen.gif"
    result = preflight.prepare(path, engine=engine, image_format="png", model=STANDARD)
    assert (result.width, result.height) == (40, 30)
    with Image.open(path) as first:
        expected = np.asarray(first.convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")), expected)


def test_high_bit_depth_and_icc_pass_through_as_the_docs_say() -> None:
    # docs/prepare.md: a 16-bit PNG or an ICC-tagged JPEG the API takes as it
    # is stays byte for byte; CMYK is always converted.
    for name in ("rgb16.png", "gray16.png", "icc.jpg"):
        path = FIXTURES / "samples" / name
        result = preflight.prepare(path, model=STANDARD)
        assert result.passed_through, name
        assert result.data == path.read_bytes()
    cmyk = preflight.prepare(FIXTURES / "samples" / "cmyk.jpg", model=STANDARD)
    assert "color-converted" in [a.code for a in cmyk.actions]
