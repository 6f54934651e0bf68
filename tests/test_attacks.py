"""Attacks on decoding: bombs the pixel cap does not see, frames the data
cannot fill, and damage one engine would see and the other not.

Every bomb is made by code (tests/crafted.py) and is small on disk. Those
that would take gigabytes if a regression let them through are decoded in a
child process under an address-space limit (resource.setrlimit), so a
regression fails here instead of exhausting the machine.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from crafted import (
    bmp_cut,
    gif_frame_without_data,
    jpeg_cut_and_closed,
    jpeg_declaring,
    png_header_only,
    png_with_text_bomb,
    tiff_of_samples,
)
from helpers import FIXTURES, installed_engines
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import preflight
from preflight._core.budgets import DECODE_MEMORY_BUDGET
from preflight._imaging import engines, preparation
from preflight._imaging.engines.guard import decode_memory, memory_budget
from preflight._imaging.engines.verification import last_scan_end
from preflight._imaging.preparation import decode_failure
from preflight.errors import DecodeError, InvalidArgumentError

ENGINES = installed_engines()
TESTS = Path(__file__).resolve().parent
# The child's address space: preflight, Pillow and libvips loaded take about
# 0.75 GB of it here; any of the bombs below decoded would need more.
CHILD_MEMORY = 1536 << 20


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width: int, height: int) -> Image.Image:
    """Noise with some structure: JPEG cannot make it tiny."""
    import numpy as np

    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    big = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))[:height, :width]
    noise = rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(big + noise)


def run_bounded(script: str, memory: int = CHILD_MEMORY) -> object:
    """Run `script` in a fresh interpreter whose address space is capped at
    `memory` bytes; it prints one JSON value, returned here."""
    preamble = textwrap.dedent(
        f"""
        import resource, sys, json
        resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
        sys.path[:0] = {[str(TESTS), *sys.path]!r}  # the same preflight as this process
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- bytes, not pixels -------------------------------------------------------------

# name -> (the maker's call in crafted.py, the code prepare must refuse it with)
BOMBS = {
    # The issue's: 1 MB on disk, 1 GB of samples decoded.
    "tiff-1000x1000-1024-samples": ("tiff_of_samples(1000, 1000, 1024)", "over-memory-budget"),
    # The issue's: 16-bit RGBA under the pixel cap, 1.7 MB on disk and every
    # row there; 1.35 GB decoded.
    "png-13000x13000-rgba16": ("filled_png(13000, 13000, 16, 6)", "over-memory-budget"),
    # 30 bytes declaring a 13000x13000 frame: libvips decoded it (777 MB).
    "gif-13000x13000-no-data": ("gif_frame_without_data(13000, 13000)", "over-memory-budget"),
    # Under the budget, but the data cannot fill the frame.
    "gif-8000x8000-no-data": ("gif_frame_without_data(8000, 8000)", "decode-failed"),
    "jpeg-8000x8000-small-scan": ("jpeg_declaring(8000, 8000, SMALL_JPEG)", "decode-failed"),
    "bmp-half-the-rows": ("bmp_cut(3000, 3000, 1500)", "decode-failed"),
    # 12000 x 12000 RGBA (under the pixel cap) declared in 45 bytes: 576 MB decoded.
    "webp-12000x12000": ("webp_lossless_declaring(12000, 12000)", "over-memory-budget"),
}


@pytest.mark.parametrize("engine", ENGINES)
def test_bombs_are_refused_before_decoding_under_a_memory_limit(engine: str) -> None:
    script = f"""
    import io
    from crafted import *
    from PIL import Image
    import preflight
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buffer, "JPEG")
    SMALL_JPEG = buffer.getvalue()
    found = {{}}
    for name, make in {[(name, make) for name, (make, _) in BOMBS.items()]!r}:
        data = eval(make)
        try:
            preflight.prepare(data, engine={engine!r})
            found[name] = ["prepared", len(data)]
        except preflight.PreflightError as error:
            found[name] = [error.code, str(error)]
    print(json.dumps(found))
    """
    found = run_bounded(script)
    assert isinstance(found, dict)
    for name, (_, code) in BOMBS.items():
        if name.startswith("bmp") and engine == "vips":  # BMP is Pillow's alone
            assert found[name][0] == "cannot-decode-format"
            continue
        assert found[name][0] == code, (name, found[name])
        if code == "decode-failed":
            assert "cannot hold the pixels" in found[name][1], found[name]


def test_the_memory_estimate_counts_samples_and_bytes_per_sample() -> None:
    tiff = preflight.probe(tiff_of_samples(1000, 1000, 1024))
    assert (tiff.samples, tiff.bit_depth) == (1024, 8)
    assert decode_memory(tiff, 100, 100) == 1000 * 1000 * 1024
    png16 = preflight.probe(png_header_only(13000, 13000, 16, 6))
    assert (png16.samples, png16.bit_depth) == (4, 16)
    assert decode_memory(png16, 1568, 1568) == 13000 * 13000 * 8 > DECODE_MEMORY_BUDGET
    # Every 8-bit RGB image under the pixel cap fits; four 16-bit samples at 8000x8000 too.
    rgb = preflight.probe(png_header_only(13377, 13377, 8, 2))
    assert decode_memory(rgb, 100, 100) <= DECODE_MEMORY_BUDGET
    api_max = preflight.probe(png_header_only(8000, 8000, 16, 6))
    assert decode_memory(api_max, 100, 100) <= DECODE_MEMORY_BUDGET


def test_a_jpeg_is_counted_at_the_scale_it_is_decoded_at() -> None:
    big = preflight.probe(jpeg_declaring(8000, 8000, encoded(photo(64, 48), "JPEG")))
    assert decode_memory(big, 8000, 8000) == 8000 * 8000 * 3
    assert decode_memory(big, 1000, 1000) == 1000 * 1000 * 3  # 1/8 scale
    assert decode_memory(big, 1500, 1500) == 2000 * 2000 * 3  # 1/4: 1/8 would be too small


@pytest.mark.parametrize("engine", ENGINES)
def test_the_budget_is_the_environments_when_set(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encoded(photo(300, 200), "PNG")
    monkeypatch.setenv("PREFLIGHT_MEMORY_BUDGET", str(300 * 200 * 3 - 1))
    assert memory_budget() == 300 * 200 * 3 - 1
    with pytest.raises(DecodeError) as refused:
        preflight.prepare(data, engine=engine, image_format="png")
    assert refused.value.code == "over-memory-budget"
    monkeypatch.setenv("PREFLIGHT_MEMORY_BUDGET", str(300 * 200 * 3))
    assert preflight.prepare(data, engine=engine, image_format="png").width == 300
    monkeypatch.setenv("PREFLIGHT_MEMORY_BUDGET", "lots")
    with pytest.raises(InvalidArgumentError, match="PREFLIGHT_MEMORY_BUDGET"):
        preflight.prepare(data, engine=engine, image_format="png")


# --- frames the data cannot fill ------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        gif_frame_without_data(8000, 8000),
        jpeg_declaring(8000, 8000, encoded(Image.new("RGB", (64, 48), "red"), "JPEG")),
        bmp_cut(3000, 3000, 1500),
        png_header_only(8000, 8000, 8, 2),
    ],
    ids=["gif", "jpeg", "bmp", "png"],
)
def test_check_reports_a_frame_its_data_cannot_fill(data: bytes) -> None:
    info = preflight.probe(data)
    assert info.truncated
    assert 0 < info.file_bytes < info.min_file_bytes
    report = preflight.inspect(data)
    truncated = [f for f in report.findings if f.code == "truncated"]
    assert truncated and "cannot hold the pixels" in truncated[0].message


# The most compressible content each format can hold (one colour), at sizes
# hypothesis picks: the least file the bound allows must never exceed a real one.
KINDS = [
    ("PNG", "1", {}),
    ("PNG", "L", {}),
    ("PNG", "RGB", {"optimize": True}),
    ("PNG", "RGBA", {}),
    ("PNG", "I;16", {}),
    ("PNG", "P", {}),
    ("GIF", "P", {}),
    ("GIF", "L", {"interlace": True}),
    ("JPEG", "RGB", {"quality": 1, "optimize": True}),
    ("JPEG", "L", {"quality": 1, "progressive": True, "optimize": True}),
    ("JPEG", "RGB", {"quality": 50, "subsampling": 2}),
    ("BMP", "RGB", {}),
    ("BMP", "P", {}),
    ("TIFF", "RGB", {"compression": "tiff_deflate"}),
    ("TIFF", "L", {"compression": "packbits"}),
    ("TIFF", "RGB", {"compression": "tiff_lzw"}),
    ("TIFF", "L", {}),
]


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    width=st.integers(1, 900),
    height=st.integers(1, 900),
    colour=st.integers(0, 255),
)
def test_the_least_file_bound_never_refuses_a_real_file(
    kind: tuple[str, str, dict[str, object]], width: int, height: int, colour: int
) -> None:
    fmt, mode, options = kind
    image = Image.new(mode, (width, height), colour)
    data = encoded(image, fmt, **options)
    info = preflight.probe(data)
    assert info.file_bytes >= info.min_file_bytes, (fmt, mode, options, info.min_file_bytes)
    assert not info.truncated


def test_no_fixture_is_too_short_for_its_frame() -> None:
    for folder in ("samples", "unsupported"):
        for path in sorted((FIXTURES / folder).iterdir()):
            try:
                info = preflight.probe(path)
            except preflight.PreflightError:
                continue
            assert info.file_bytes >= info.min_file_bytes, path


# --- one verdict, whichever engine ------------------------------------------------


def _verdict(data: bytes, engine: str) -> str:
    try:
        result = preflight.prepare(data, engine=engine)
    except DecodeError as error:
        return f"refused: {error.code}"
    return result.actions[0].code


DAMAGED_JPEGS = {
    "baseline-cut-60": lambda: jpeg_cut_and_closed(encoded(photo(400, 300), "JPEG"), 0.6),
    "baseline-cut-95": lambda: jpeg_cut_and_closed(encoded(photo(400, 300), "JPEG"), 0.95),
    "optimized-cut-70": lambda: jpeg_cut_and_closed(
        encoded(photo(400, 300), "JPEG", optimize=True), 0.7
    ),
    "progressive-cut-50": lambda: jpeg_cut_and_closed(
        encoded(photo(400, 300), "JPEG", progressive=True), 0.5
    ),
    "progressive-cut-90": lambda: jpeg_cut_and_closed(
        encoded(photo(400, 300), "JPEG", progressive=True), 0.9
    ),
}


@pytest.mark.parametrize("name", sorted(DAMAGED_JPEGS))
def test_engines_agree_on_a_damaged_jpeg(name: str) -> None:
    data = DAMAGED_JPEGS[name]()
    info = preflight.probe(data)
    assert not info.truncated and not info.missing_end_marker  # nothing shows at its ends
    verdicts = {engine: _verdict(data, engine) for engine in ENGINES}
    assert set(verdicts.values()) == {"repaired"}, verdicts
    for engine in ENGINES:
        assert decode_failure(data, info, engine=engine) is not None


@pytest.mark.parametrize(
    "name", ["baseline.jpg", "progressive.jpg", "photo-800x600.jpg", "motion-photo.jpg"]
)
def test_engines_agree_on_a_sound_jpeg(name: str) -> None:
    path = next(FIXTURES.rglob(name))
    data = path.read_bytes()
    info = preflight.probe(data)
    failures = {engine: decode_failure(data, info, engine=engine) for engine in ENGINES}
    assert set(failures.values()) == {None}, failures


def _pillow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pyvips were not installed: Pillow is the only reader."""
    pillow = engines.get_engine("pillow")
    monkeypatch.setattr(
        preparation, "readers", lambda fmt: [pillow] if fmt in pillow.formats else []
    )


@pytest.mark.parametrize("name", sorted(DAMAGED_JPEGS))
def test_without_libvips_a_scan_cut_short_is_still_found(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pillow_only(monkeypatch)
    data = DAMAGED_JPEGS[name]()
    assert _verdict(data, "pillow") == "repaired"
    failure = decode_failure(data, preflight.probe(data), engine="pillow")
    assert failure is not None and "ends before its pixels do" in failure


def test_without_libvips_sound_jpegs_still_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    _pillow_only(monkeypatch)
    sound = [p for p in sorted(FIXTURES.rglob("*.jpg")) if "hostile" not in p.parts]
    assert len(sound) > 10
    for path in sound:
        data = path.read_bytes()
        try:
            info = preflight.probe(data)
        except preflight.PreflightError:
            continue
        if info.format != "jpeg":
            continue
        assert decode_failure(data, info, engine="pillow") is None, path
    for options in ({}, {"progressive": True}, {"optimize": True}, {"subsampling": 0}):
        data = encoded(photo(333, 251), "JPEG", **options)
        assert decode_failure(data, preflight.probe(data), engine="pillow") is None, options
    # Mid-grey to the last block: the shortcut cannot vouch for it, the second decode does.
    for mode in ("RGB", "L"):
        data = encoded(Image.new(mode, (333, 251), (128,) * len(mode)), "JPEG")
        assert decode_failure(data, preflight.probe(data), engine="pillow") is None, mode


def test_the_last_scan_is_found_past_every_scan_and_not_in_appended_data() -> None:
    progressive = encoded(photo(120, 90), "JPEG", progressive=True)
    assert last_scan_end(progressive) == len(progressive) - 2
    appended = progressive + b"\xff\xda\x00\x08junk" + b"\xff\xd9"  # a video after the image
    assert last_scan_end(appended) == len(progressive) - 2
    assert last_scan_end(progressive[:-2]) is None  # no end marker: nothing to pad before


@pytest.mark.parametrize("after_pixels", [False, True], ids=["before-idat", "after-idat"])
def test_engines_agree_on_a_png_text_bomb(after_pixels: bool) -> None:
    png = encoded(photo(64, 48), "PNG")
    data = png_with_text_bomb(png, inflated=50 << 20, after_pixels=after_pixels)
    assert len(data) < 200_000
    verdicts = {engine: _verdict(data, engine) for engine in ENGINES}
    assert set(verdicts.values()) == {"repaired"}, verdicts
    for engine in ENGINES:
        result = preflight.prepare(data, engine=engine, image_format="png")
        assert b"zTXt" not in result.data
        with Image.open(io.BytesIO(result.data)) as image:
            assert image.size == (64, 48)


def test_a_warning_from_pillow_is_not_printed_while_verifying(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = DAMAGED_JPEGS["baseline-cut-60"]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for engine in ENGINES:
            decode_failure(data, preflight.probe(data), engine=engine)
    assert capsys.readouterr().err == ""
