# The parser against Pillow, the reference: on every fixture and on
# hypothesis-made images of every format and mode Pillow writes, the format,
# size (and mode, orientation, animation where both report them) agree with
# what Pillow reports after fully loading the image; or both refuse it.
#
# Deliberate differences, each tested here:
# - a JPEG cut inside its entropy-coded data: Pillow refuses to load it; the
#   parser reads its header and flags `missing_end_marker` (a warning), since
#   data appended after a JPEG's end (phones' motion photos) looks the same
#   from the header and must not be refused.
# - formats the API does not accept are only named: their sizes are checked
#   where Pillow opens them, but "refuse" differs (Pillow decodes TIFF/BMP).

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from preflight.errors import HeaderError
from preflight.headers import NeedMore, parse
from preflight.info import Header
from preflight.probe import probe
from tests.strategies import image_kinds, orientations, small_sides

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MANIFEST: dict[str, dict[str, Any]] = json.loads((FIXTURES / "manifest.json").read_text())
PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def pillow_facts(data: bytes) -> dict[str, Any] | None:
    """What Pillow reports after loading the image fully; None if it refuses."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return {
                "format": PILLOW_FORMATS.get(image.format or "", image.format),
                "size": image.size,
                "mode": image.mode,
                "orientation": image.getexif().get(0x0112, 1),
                "frames": getattr(image, "n_frames", 1),
            }
    except Exception:  # Pillow's refusals are of many types
        return None


def parsed(data: bytes) -> Header | None:
    """The parser's header, or None when preflight refuses the data: the
    parser raises, or probe finds the file certainly cut short."""
    try:
        result = parse(data, complete=True)
    except HeaderError:
        return None
    assert not isinstance(result, NeedMore)
    return None if probe(data).truncated else result


def assert_agree(data: bytes, *, modes: bool = True) -> None:
    pil, ours = pillow_facts(data), parsed(data)
    if pil is None or ours is None:
        assert pil is None and ours is None, (pil, ours)
        return
    assert ours.format == pil["format"]
    assert (ours.width, ours.height) == pil["size"]
    assert ours.orientation == (pil["orientation"] if 1 <= pil["orientation"] <= 8 else 1)
    assert (ours.frames or pil["frames"]) == pil["frames"]
    assert ours.animated == (pil["frames"] > 1)
    if modes and ours.format != "gif":  # Pillow turns later GIF frames into RGB(A)
        assert ours.mode == pil["mode"]


def make(kind: tuple[str, str, dict[str, Any]], size: tuple[int, int], orientation: int) -> bytes:
    fmt, mode, options = kind
    image = Image.new("RGB", size, (200, 120, 40))
    ImageDraw.Draw(image).line((0, 0, size[0], size[1]), fill=(10, 200, 90), width=3)
    if mode in ("RGBA", "LA"):
        image.putalpha(Image.linear_gradient("L").resize(size))
    image = image.convert(mode) if mode != "I;16" else image.convert("I").convert("I;16")
    params = dict(options)
    if orientation != 1 and fmt != "GIF":
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


@given(image_kinds, small_sides, small_sides, orientations)
def test_agrees_with_pillow_on_generated_images(
    kind: tuple[str, str, dict[str, Any]], width: int, height: int, orientation: int
) -> None:
    assert_agree(make(kind, (width, height), orientation))


@given(small_sides, small_sides, st.integers(2, 4), st.sampled_from(["GIF", "WEBP", "PNG"]))
def test_agrees_with_pillow_on_animations(width: int, height: int, count: int, fmt: str) -> None:
    frames = [Image.new("RGB", (width, height), (60 * i, 255 - 60 * i, 90)) for i in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=50)
    assert_agree(buffer.getvalue(), modes=False)


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, e in MANIFEST.items()
        if not n.startswith("unsupported/")
        and not e.get("missing_end_marker")
        and max(e.get("width", 0), e.get("height", 0)) <= 8000
    ),
)
def test_agrees_with_pillow_on_fixtures(name: str) -> None:
    assert_agree((FIXTURES / name).read_bytes())


def test_jpeg_cut_in_scan_data_is_flagged_not_refused() -> None:
    data = (FIXTURES / "hostile" / "cut-in-pixels.jpg").read_bytes()
    assert pillow_facts(data) is None  # Pillow refuses it ...
    header = parsed(data)  # ... we read its header, and probe flags the missing end
    assert header is not None
    assert (header.width, header.height) == (64, 48)


@pytest.mark.parametrize("name", ["bomb-100000x100000.png", "declares-65000x65000.jpg"])
def test_bombs_report_the_declared_size_pillow_refuses_to_tell(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (FIXTURES / "hostile" / name).read_bytes()
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))  # Pillow's guard raises before it gives the size
    header = parsed(data)
    assert header is not None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # this test only: ask for the size
    with Image.open(io.BytesIO(data)) as image:
        assert (header.width, header.height) == image.size


@pytest.mark.parametrize(
    "name",
    ["image.tiff", "image.bmp", "image.ico", "image.avif", "image.heic", "image.psd", "image.jp2"],
)
def test_unsupported_sizes_agree_with_pillow(name: str) -> None:
    try:
        import pillow_heif  # type: ignore[import-not-found,unused-ignore]

        pillow_heif.register_heif_opener()
    except ImportError:
        if name.endswith(".heic"):
            pytest.skip("pillow-heif is not installed")
    data = (FIXTURES / "unsupported" / name).read_bytes()
    header = parsed(data)
    assert header is not None
    with Image.open(io.BytesIO(data)) as image:
        assert (header.width, header.height) == image.size
