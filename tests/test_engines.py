# The engines: how one is chosen, that each delivers exactly the size the core
# asks for (off-by-one rounding is the classic bug), that they agree with each
# other and with Pillow's colour conversions, and that the hardening for
# untrusted input is in force. Tests that need pyvips skip without it.

from __future__ import annotations

import io
import struct
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from helpers import FIXTURES, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms
from test_prepare import ENGINES, encode, photo

import preflight
from preflight._core.geometry import Target, target_size
from preflight._imaging import engines
from preflight._imaging.engines import get_engine
from preflight._imaging.engines.base import Engine, looks_flat
from preflight._imaging.engines.pillow import PillowEngine
from preflight.errors import (
    DecodeError,
    InvalidArgumentError,
    UnsafeImageError,
    UnsupportedFormatError,
)

# The tier the expectations below are computed for (api_size and
# target_size default to it): a standard-tier model.
STANDARD = "claude-sonnet-4-5"


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    """Engine objects are cached per process: start and end with none made."""
    engines._make.cache_clear()
    yield
    engines._make.cache_clear()


# --- choosing an engine -------------------------------------------------------


def test_default_is_vips_when_installed_else_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFLIGHT_ENGINE", raising=False)
    assert get_engine().name == ENGINES[0]


def test_environment_variable_forces_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFLIGHT_ENGINE", "pillow")
    assert get_engine().name == "pillow"
    assert get_engine("PIL").name == "pillow"  # an explicit name wins, aliases work


def test_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="vips, pillow"):
        get_engine("magick")


def test_missing_pyvips_falls_back_to_pillow_and_explains_itself(
    monkeypatch: pytest.MonkeyPatch, fresh_engines: None
) -> None:
    monkeypatch.delenv("PREFLIGHT_ENGINE", raising=False)
    monkeypatch.setitem(sys.modules, "pyvips", None)  # makes `import pyvips` fail
    assert get_engine().name == "pillow"
    with pytest.raises(preflight.EngineUnavailableError, match=r'pip install "preflight\[vips\]"'):
        get_engine("vips")
    result = preflight.prepare(encode(photo(300, 200), "PNG"), target="box=150x150")
    assert result.engine == "pillow"


# --- exact sizes --------------------------------------------------------------


def with_orientation(image: Image.Image, fmt: str, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    return encode(image, fmt, exif=exif.tobytes(), **options)


def load_exactly(engine: Engine, data: bytes, box: tuple[int, int]) -> tuple[int, int]:
    info = preflight.probe(data)
    assert info.display_width is not None and info.display_height is not None
    want = target_size(info.display_width, info.display_height, Target("box", box=box))
    got = engine.size(engine.load(data, info, *want, pixel_cap=10**9))
    assert got == want, (engine.name, info.format, info.orientation, box)
    return got


# Every example encodes a photo and loads it with each engine: a third of
# the profile's examples (100 in CI).
@settings(max_examples=examples(1 / 3))
@given(
    width=st.integers(1, 1600),
    height=st.integers(1, 1600),
    orientation=st.integers(1, 8),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
    box=st.tuples(st.integers(1, 1600), st.integers(1, 1600)),
)
def test_engines_deliver_exactly_the_core_size(
    width: int, height: int, orientation: int, fmt: str, box: tuple[int, int]
) -> None:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    data = with_orientation(image, fmt, orientation)
    sizes = {load_exactly(get_engine(name), data, box) for name in ENGINES}
    assert len(sizes) == 1


@pytest.mark.parametrize(
    ("size", "box"),
    [
        # 12-megapixel photos: slow.
        pytest.param((4000, 3000), (1270, 952), marks=pytest.mark.slow),  # by 2, then a resize
        pytest.param((4001, 3001), (500, 500), marks=pytest.mark.slow),  # by 8, odd sides
        pytest.param((3999, 2999), (1000, 1000), marks=pytest.mark.slow),
        ((2048, 2048), (256, 256)),  # exactly 1/8: shrink-on-load alone
        ((2047, 1023), (1023, 511)),
        ((1000, 3), (7, 7)),
    ],
)
@pytest.mark.parametrize("orientation", [1, 6])
def test_shrink_on_load_sizes_are_exact(
    size: tuple[int, int], box: tuple[int, int], orientation: int
) -> None:
    data = with_orientation(photo(*size, seed=1), "JPEG", orientation)
    for name in ENGINES:
        load_exactly(get_engine(name), data, box)


# --- the engines agree --------------------------------------------------------


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255**2 / mse))


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.slow  # 1800 x 1200 photos through both engines and a reference
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_engines_agree_on_pixels(fmt: str) -> None:
    pytest.importorskip("pyvips")
    data = encode(photo(1800, 1200, seed=2), fmt, **({"quality": 92} if fmt != "PNG" else {}))
    outputs = [
        decoded(preflight.prepare(data, engine=name, image_format="png", model=STANDARD).data)
        for name in ENGINES
    ]
    assert outputs[0].shape == outputs[1].shape
    assert psnr(outputs[0], outputs[1]) >= 30


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp", "animated.png"])
def test_engines_take_the_same_first_frame(name: str) -> None:
    data = (FIXTURES / "samples" / name).read_bytes()
    with Image.open(io.BytesIO(data)) as source:
        first = np.asarray(source.convert("RGB"), dtype=np.float64)
    for engine in ENGINES:
        result = preflight.prepare(data, engine=engine, image_format="png", model=STANDARD)
        assert np.abs(decoded(result.data) - first).mean() < 3, engine


def test_strip_resize_matches_one_resize() -> None:
    engine = PillowEngine()
    rng = np.random.default_rng(0)
    for mode, bands in (("RGB", 3), ("RGBA", 4), ("L", 1)):
        pixels = rng.integers(0, 256, (1500, 2000, bands), dtype=np.uint8)
        image = Image.fromarray(pixels.squeeze(), mode)
        for size, tolerance in (((1270, 952), 0), ((612, 459), 8)):
            ours = np.asarray(engine.resize(image, *size), dtype=np.int16)
            plain = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            difference = np.abs(ours - np.asarray(plain, dtype=np.int16))
            assert difference.max() <= tolerance, (mode, size)
            assert difference.mean() < 0.01, (mode, size)  # only where the reduce grid shifts


# --- colour -------------------------------------------------------------------


def matrix_profile(
    red: tuple[float, float, float],
    green: tuple[float, float, float],
    blue: tuple[float, float, float],
    gamma: float = 2.2,
) -> bytes:
    """A minimal ICC v2 RGB display profile (primaries and one gamma curve)."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(values: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(v) for v in values)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    text = b"preflight test RGB\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78
    d50 = (0.9642, 1.0, 0.8249)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(d50)),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0none\0\0\0\0"),
    ]
    start = 128 + 4 + 12 * len(tags)
    table = body = b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", start + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", start + len(body))
        + b"none\x02\x10\x00\x00mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + b"".join(s15(v) for v in d50)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + body


# sRGB's own primaries (D50) with red and green swapped: converting from it
# turns reds green, so a skipped conversion cannot pass for a done one.
SWAPPED = matrix_profile(
    (0.3851, 0.7169, 0.0971), (0.4361, 0.2225, 0.0139), (0.1431, 0.0606, 0.7141)
)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_icc_tagged_images_become_srgb_like_pillows_conversion(engine: str, fmt: str) -> None:
    source = photo(96, 64, seed=4)
    options: dict[str, object] = {"quality": 95} if fmt != "PNG" else {}
    data = encode(source, fmt, icc_profile=SWAPPED, **options)
    assert preflight.probe(data).has_icc_profile
    with Image.open(io.BytesIO(data)) as original:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(SWAPPED))
        srgb = ImageCms.createProfile("sRGB")
        reference = ImageCms.profileToProfile(original, profile, srgb, outputMode="RGB")
        assert reference is not None
        raw = np.asarray(original.convert("RGB"), dtype=np.float64)
    result = preflight.prepare(
        data, engine=engine, image_format="png", target="box=48x48", model=STANDARD
    )
    expected = np.asarray(reference.resize((result.width, result.height)), dtype=np.float64)
    ours = decoded(result.data).astype(np.float64)
    assert np.abs(ours - expected).mean() < 4
    unconverted = np.asarray(Image.fromarray(raw.astype(np.uint8)).resize(ours.shape[1::-1]))
    assert np.abs(ours - unconverted).mean() > 30  # the conversion did happen
    assert "color-converted" in [a.code for a in result.actions]
    assert not preflight.probe(result.data).has_icc_profile


def test_cmyk_with_a_profile_matches_pillows_conversion() -> None:
    pyvips = pytest.importorskip("pyvips")
    cmyk_profile = bytes(pyvips.Operation.call("profile_load", "cmyk"))
    y, x = np.mgrid[0:48, 0:64]
    ink = np.stack([x * 4, y * 5, (x + y) * 2, (x * y) % 200], -1).astype(np.uint8)
    data = encode(Image.fromarray(ink, "CMYK"), "JPEG", quality=95, icc_profile=cmyk_profile)
    with Image.open(io.BytesIO(data)) as original:
        reference = ImageCms.profileToProfile(
            original,
            ImageCms.ImageCmsProfile(io.BytesIO(cmyk_profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
        assert reference is not None
        naive = np.asarray(original.convert("RGB"), dtype=np.float64)
    expected = np.asarray(reference, dtype=np.float64)
    assert np.abs(expected - naive).mean() > 5  # the profile matters for this test
    for engine in ENGINES:
        result = preflight.prepare(data, engine=engine, image_format="png", model=STANDARD)
        assert np.abs(decoded(result.data) - expected).mean() < 2, engine


# --- untrusted input ----------------------------------------------------------


def test_vips_is_hardened_when_the_engine_is_made() -> None:
    pyvips = pytest.importorskip("pyvips")
    get_engine("vips")
    assert pyvips.cache_get_max() == 0
    svg = (FIXTURES / "unsupported" / "drawing.svg").read_bytes()
    if pyvips.type_find("VipsOperation", "svgload"):
        with pytest.raises(pyvips.Error):  # svgload is marked untrusted: blocked
            pyvips.Image.new_from_buffer(svg, "")
        assert "svg" in get_engine("vips").blocked


def test_blocked_loader_is_named_as_the_reason() -> None:
    pyvips = pytest.importorskip("pyvips")
    if not pyvips.type_find("VipsOperation", "svgload"):
        pytest.skip("this libvips has no SVG loader")
    with pytest.raises(UnsupportedFormatError, match="untrusted"):
        preflight.prepare(FIXTURES / "unsupported" / "drawing.svg", engine="vips", model=STANDARD)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["cut-in-pixels.jpg", "cut-in-pixels.png"])
def test_truncated_pixels_fail_instead_of_turning_grey(engine: str, name: str) -> None:
    with pytest.raises(DecodeError):
        preflight.prepare(
            FIXTURES / "hostile" / name, engine=engine, image_format="png", model=STANDARD
        )


def test_pillow_keeps_its_bomb_guard_when_our_cap_is_raised() -> None:
    from crafted import bilevel_png

    default = Image.MAX_IMAGE_PIXELS
    # Just over Pillow's threshold, 1 bit a pixel (under the memory budget),
    # with data enough to fill the frame.
    bomb = bilevel_png(13400, 13400)
    with pytest.raises(UnsafeImageError, match="Pillow refuses"):
        preflight.prepare(bomb, engine="pillow", pixel_cap=10**11)
    assert default == Image.MAX_IMAGE_PIXELS


def test_pillow_opens_only_the_format_the_header_names() -> None:
    png = encode(photo(40, 30), "PNG")
    as_jpeg = preflight.ImageInfo(**{**preflight.probe(png).__dict__, "format": "jpeg"})
    with pytest.raises(UnsupportedFormatError):
        PillowEngine().load(png, as_jpeg, 40, 30, pixel_cap=10**9)


# --- flat graphics --------------------------------------------------------------


def test_flatness_heuristic() -> None:
    screenshot = Image.new("RGB", (400, 300), (250, 250, 250))
    for row in range(0, 300, 20):
        screenshot.paste((30, 30, 30), (10, row, 380, row + 8))
    photo_sample = photo(128, 96, seed=7)
    assert looks_flat(screenshot.resize((128, 96), Image.Resampling.NEAREST).tobytes(), 3)
    assert not looks_flat(photo_sample.tobytes(), 3)
    assert looks_flat(b"", 3)


def _jpeg_with_byte_orientation(picture: Image.Image, orientation: int) -> bytes:
    """A JPEG whose EXIF orientation tag has the wrong type (BYTE, not the
    SHORT the EXIF spec requires)."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIBBH", 0x0112, 1, 1, orientation, 0, 0) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    plain = encode(picture, "JPEG", quality=95)
    return plain[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + plain[2:]


def test_engines_turn_by_the_parsers_orientation() -> None:
    # A BYTE orientation tag: Pillow's exif_transpose does not turn it, and
    # the header parser follows Pillow (test_orientation_differential);
    # libvips reads this one as 6. The size is the core's (from the parser),
    # so the pixels must not be turned either: a turn would squash the
    # picture into the unturned size. Both engines give the same, unturned
    # picture.
    picture = photo(300, 100, seed=3)
    data = _jpeg_with_byte_orientation(picture, 6)
    assert preflight.probe(data).orientation == 1
    for name in ENGINES:
        result = preflight.prepare(
            data, engine=name, image_format="png", target="box=150x50", model=STANDARD
        )
        assert (result.width, result.height) == (150, 50)
        expected = np.asarray(picture.resize((150, 50), Image.Resampling.LANCZOS))
        assert psnr(decoded(result.data), expected) >= 30, name


def test_damaged_exif_prints_no_pillow_warnings() -> None:
    # An orientation tag whose data lies past the end of the EXIF block:
    # Pillow warns as it reads it; preflight reads orientation itself.
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHII", 0x0112, 3, 100, 4000) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    plain = encode(photo(80, 40), "JPEG")
    data = plain[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + plain[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ENGINES:
            result = preflight.prepare(data, engine=name, image_format="png", model=STANDARD)
            assert (result.width, result.height) == (80, 40)
