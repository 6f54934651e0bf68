# The quality analysis: each finding fires on a generated image with its
# defect and stays quiet on the same image without it, with both engines; the
# pure judgement (quality_findings) follows its thresholds; the engines'
# to_array and crop give the pixels they should.

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from helpers import cached_image, installed_engines
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from preflight._core.geometry import api_size, tokens
from preflight._imaging.engines import get_engine
from preflight._imaging.quality import (
    BLANK,
    BLURRY,
    BORDERS,
    LOW_CONTRAST,
    QUALITY_CODES,
    SMALL_TEXT,
    UPSCALED,
    QualityMeasures,
    Thresholds,
    analyze_quality,
    detail_share,
    effective_size,
    quality_findings,
)

ENGINES = installed_engines()
engines = pytest.mark.parametrize("engine", ENGINES)


@cached_image
def scene(width: int = 900, height: int = 700, seed: int = 1) -> Image.Image:
    """Photo-like: shapes with hard edges over a gradient, fine grain, noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    base = 60 + 150 * y + np.zeros((height, width, 3), np.float32)
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        size = rng.uniform(20, 200)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x0, y0, x0 + size * 1.4, y0 + size), fill=fill)
    grain = rng.normal(128, 60, (height, width)).clip(0, 255).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(grain).filter(ImageFilter.GaussianBlur(1.2)))
    pixels = (
        np.asarray(image).astype(np.float32) + 0.6 * (smooth.astype(np.float32) - 128)[..., None]
    )
    pixels += rng.normal(0, 2.0, pixels.shape)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


@cached_image  # drawing a page of words takes a second or two
def text_page(size: int, width: int = 1000, height: int = 800) -> Image.Image:
    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "the",
        "lazy",
        "dog",
        "0123456789",
        "invoice",
        "total",
    ]
    y, n = size, 0
    while y + 2 * size < height:
        line = ""
        while draw.textlength(line, font=font) < width - 5 * size:
            line += words[n % len(words)] + " "
            n += 1
        draw.text((size, y), line, fill=(20, 20, 20), font=font)
        y += round(size * 1.3)
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def codes(image: Image.Image, engine: str, **options: object) -> set[str]:
    return set(analyze_quality(png(image), engine=engine, **options).codes)  # type: ignore[arg-type]


@engines
def test_clean_photo_has_no_findings(engine: str) -> None:
    assert codes(scene(), engine) == set()


@engines
def test_blurry(engine: str) -> None:
    assert BLURRY in codes(scene().filter(ImageFilter.GaussianBlur(4)), engine)
    report = analyze_quality(png(scene().filter(ImageFilter.GaussianBlur(4))), engine=engine)
    finding = next(f for f in report.findings if f.code == BLURRY)
    assert "perceptual blur" in finding.message and "Crété-Roffet" in finding.message
    assert finding.severity == "warning" and finding.fix


@engines
@pytest.mark.parametrize("resample", [Image.Resampling.BICUBIC, Image.Resampling.NEAREST])
def test_upscaled_reports_effective_size_and_tokens_saved(
    engine: str, resample: Image.Resampling
) -> None:
    original = scene(900, 700)
    enlarged = original.resize((225, 175), Image.Resampling.LANCZOS).resize((900, 700), resample)
    report = analyze_quality(png(enlarged), engine=engine)
    assert UPSCALED in report.codes
    effective = effective_size(report.measures)
    assert effective[0] <= 900 * 0.5 and effective[1] <= 700 * 0.5
    finding = next(f for f in report.findings if f.code == UPSCALED)
    saved = tokens(900, 700) - tokens(*effective)
    assert f"{effective[0]}x{effective[1]}" in finding.message
    assert f"({saved} saved" in finding.message
    assert UPSCALED not in codes(original, engine)


@engines
def test_small_text(engine: str) -> None:
    report = analyze_quality(png(text_page(6)), engine=engine)
    assert SMALL_TEXT in report.codes
    assert report.measures.text_px is not None and 4 < report.measures.text_px < 9
    assert SMALL_TEXT not in codes(text_page(20), engine)


@pytest.mark.slow  # two 3000 x 2400 pages of text
@engines
def test_small_text_after_the_apis_resize_says_tile(engine: str) -> None:
    big = text_page(20, 3000, 2400)  # the API shrinks it about 2.5x: 20 px -> about 8 px
    report = analyze_quality(png(big), engine=engine, tier="standard")
    finding = next(f for f in report.findings if f.code == SMALL_TEXT)
    assert report.measures.processed_size == api_size(3000, 2400, "standard")
    assert "after the API's resize" in finding.message
    assert "preflight.tile" in finding.fix
    text_px = report.measures.text_px
    assert text_px is not None
    assert f"{text_px / report.measures.scale:.1f} px" in finding.message
    # The same page on the high-res tier is shrunk less: the text stays legible.
    assert SMALL_TEXT not in codes(text_page(32, 3000, 2400), engine, tier="high-res")


@engines
def test_low_contrast_and_blank(engine: str) -> None:
    pixels = np.asarray(scene()).astype(np.float32)
    flat = Image.fromarray((pixels.mean() + (pixels - pixels.mean()) * 0.15).astype(np.uint8))
    found = codes(flat, engine)
    assert LOW_CONTRAST in found and BLANK not in found
    rng = np.random.default_rng(0)
    empty = (rng.normal(200, 1.5, (600, 800, 1)) + np.zeros(3)).clip(0, 255).astype(np.uint8)
    assert codes(Image.fromarray(empty), engine) == {BLANK}
    assert codes(scene(), engine).isdisjoint({LOW_CONTRAST, BLANK})


@engines
def test_borders_report_the_crop_box(engine: str) -> None:
    inner = scene(800, 500)
    framed = Image.new("RGB", (800, 700), "black")
    framed.paste(inner, (0, 100))
    report = analyze_quality(png(framed), engine=engine)
    assert BORDERS in report.codes
    box = report.measures.content_box
    assert box is not None
    left, top, right, bottom = box
    assert (left, right) == (0, 800)
    assert 95 <= top <= 100 and 600 <= bottom <= 605  # never cuts into the content
    finding = next(f for f in report.findings if f.code == BORDERS)
    saved = tokens(800, 700) - tokens(*api_size(right - left, bottom - top))
    assert f"({saved} saved" in finding.message and str(box) in finding.fix
    assert BORDERS not in codes(inner, engine)


def test_alpha_is_judged_on_white() -> None:
    image = scene().convert("RGBA")
    image.putalpha(255)
    assert codes(image, ENGINES[0]) == set()


def test_codes_are_stable() -> None:
    assert QUALITY_CODES == (BLURRY, UPSCALED, SMALL_TEXT, LOW_CONTRAST, BLANK, BORDERS)


# --- the pure judgement --------------------------------------------------------------

measures = st.builds(
    QualityMeasures,
    width=st.integers(300, 4000),
    height=st.integers(300, 4000),
    processed_width=st.just(0),
    processed_height=st.just(0),
    spread=st.integers(0, 255),
    colour_spread=st.integers(0, 255),
    blur=st.one_of(st.none(), st.floats(0, 1)),
    detail=st.floats(0.01, 1),
    text_px=st.one_of(st.none(), st.floats(1, 60)),
    content_box=st.none(),
    periodicity=st.floats(0, 60),
    runs=st.sampled_from([1.0, 1 / 2, 1 / 3, 1 / 4]),
)


def processed(m: QualityMeasures) -> QualityMeasures:
    width, height = api_size(m.width, m.height, "standard")  # effective_size's tier
    spread = min(m.spread, m.colour_spread)
    return dataclasses.replace(
        m, processed_width=width, processed_height=height, spread=spread, content_box=None
    )


@given(measures.map(processed))
def test_findings_follow_the_thresholds(m: QualityMeasures) -> None:
    limits = Thresholds()
    found = {f.code for f in quality_findings(m, thresholds=limits)}
    if m.colour_spread < limits.blank:
        assert found == {BLANK}
        return
    assert (BLURRY in found) == (m.blur is not None and m.blur >= limits.blur)
    # Two measures must agree on a smooth enlargement; repeated pixels suffice alone.
    spectral = m.detail <= limits.upscaled and m.periodicity >= limits.periodicity
    assert (UPSCALED in found) == (spectral or m.runs <= limits.upscaled)
    assert (SMALL_TEXT in found) == (m.text_px is not None and m.text_px < limits.text_px)
    assert (LOW_CONTRAST in found) == (m.spread < limits.low_contrast)
    assert BORDERS not in found
    assert all(f.severity == "warning" and f.fix for f in quality_findings(m))


@given(measures.map(processed))
def test_effective_size_is_within_the_processed_size_and_fits(m: QualityMeasures) -> None:
    width, height = effective_size(m)
    assert 1 <= width <= m.processed_width and 1 <= height <= m.processed_height
    assert api_size(width, height, "standard") == (width, height)
    if detail_share(m) >= 1:
        assert (width, height) == m.processed_size


def test_borders_threshold_is_a_share_of_the_area() -> None:
    base = QualityMeasures(1000, 1000, 1000, 1000, 200, 200, 0.2, 1.0, None, (0, 20, 1000, 980))
    # Margins of 20 px top and bottom: 4% of the area.
    quiet = Thresholds(border_fraction=0.05)
    loud = Thresholds(border_fraction=0.03)
    assert BORDERS not in {f.code for f in quality_findings(base, thresholds=quiet)}
    assert BORDERS in {f.code for f in quality_findings(base, thresholds=loud)}


# --- the engine additions -------------------------------------------------------------


@engines
def test_to_array_and_crop(engine: str) -> None:
    from preflight._inputs.probing import probe

    runner = get_engine(engine)
    source = scene(120, 80)
    data = png(source)
    pixels = runner.load(data, probe(data), 120, 80, pixel_cap=10**6)
    array = runner.to_array(pixels)
    assert array.dtype == np.uint8 and array.shape == (80, 120, 3)
    assert np.array_equal(array, np.asarray(source))
    piece = runner.to_array(runner.crop(pixels, 10, 20, 30, 40))
    assert np.array_equal(piece, np.asarray(source)[20:60, 10:40])
    grey = png(source.convert("L"))
    assert runner.to_array(runner.load(grey, probe(grey), 120, 80, pixel_cap=10**6)).shape == (
        80,
        120,
        1,
    )


# --- the evidence must agree ------------------------------------------------------------


@cached_image  # 3000 blobs over the whole image: a second or two
def smooth_natural(width: int = 600, height: int = 500) -> Image.Image:
    """Smooth at its own resolution (like a microscope's image): soft blobs
    of 3 to 8 px, so its spectrum rolls off early, with no enlargement and
    no interpolation in its history."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.zeros((height, width), np.float32)
    for _ in range(3000):
        cx, cy, size = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(3, 8)
        field += rng.uniform(-1, 1) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * size**2))
    field = (field - field.min()) / (field.max() - field.min()) * 220 + 20
    return Image.fromarray(np.repeat(field[..., None], 3, axis=2).astype(np.uint8))


@engines
def test_smooth_image_is_not_upscaled_but_its_enlargement_is(engine: str) -> None:
    original = smooth_natural()
    report = analyze_quality(png(original), engine=engine)
    assert report.measures.detail <= 0.5  # the spectrum alone would say "upscaled"
    assert report.measures.periodicity < Thresholds().periodicity
    assert UPSCALED not in report.codes
    small = scene(300, 250).resize((100, 83), Image.Resampling.LANCZOS)
    enlarged = analyze_quality(png(small.resize((300, 249), Image.Resampling.BICUBIC)))
    assert enlarged.measures.periodicity >= Thresholds().periodicity
    assert UPSCALED in enlarged.codes


@engines
def test_repeated_pixels_are_upscaled(engine: str) -> None:
    small = scene(200, 150)
    report = analyze_quality(png(small.resize((600, 450), Image.Resampling.NEAREST)), engine=engine)
    assert report.measures.runs == pytest.approx(1 / 3)
    assert UPSCALED in report.codes
    assert analyze_quality(png(small), engine=engine).measures.runs == 1.0


@engines
def test_a_background_is_not_a_border(engine: str) -> None:
    # A dark object on white, well inside the frame: the white goes on
    # around the object, it does not end along a side.
    image = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 150, 550, 450), fill=(30, 60, 90))
    draw.rectangle((380, 420, 420, 520), fill=(90, 60, 30))
    assert BORDERS not in codes(image, engine)
    # The same picture padded with grey: the grey ends where the white starts.
    padded = Image.new("RGB", (900, 700), (128, 128, 128))
    padded.paste(image, (50, 50))
    report = analyze_quality(png(padded), engine=engine)
    assert BORDERS in report.codes
    box = report.measures.content_box
    assert box is not None and 45 <= box[0] <= 50 and 850 <= box[2] <= 855


@engines
def test_letterbox_survives_jpeg(engine: str) -> None:
    framed = Image.new("RGB", (800, 700), "black")
    framed.paste(scene(800, 500), (0, 100))
    buffer = io.BytesIO()
    framed.save(buffer, "JPEG", quality=75)
    report = analyze_quality(buffer.getvalue(), engine=engine)
    assert BORDERS in report.codes
    box = report.measures.content_box
    assert box is not None and 84 <= box[1] <= 100 and 600 <= box[3] <= 616
