# The quality analysis wired into the library: inspect(measure_quality=True) appends
# its warnings (and an error finding, never an exception, for pixels that do
# not decode); prepare(measure_quality=True) puts them on the result, measured
# on prepare's own decode; prepare(target="effective") sends an enlarged
# image at the size that carries its detail; "effective" is refused where no
# pixels are measured; tile() takes options like every public function.

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter
from test_decode_verify import png_with_bad_idat
from test_quality import ENGINES, png, scene

import preflight
from preflight._core.geometry import MEASURED_POLICIES, Target
from preflight._imaging.quality import BLURRY, UPSCALED

engines = pytest.mark.parametrize("engine", ENGINES)


def blurry() -> bytes:
    return png(scene(900, 700).filter(ImageFilter.GaussianBlur(4)))


def enlarged() -> bytes:
    small = scene(900, 700).resize((300, 233), Image.Resampling.LANCZOS)
    return png(small.resize((900, 700), Image.Resampling.BICUBIC))


# --- inspect ------------------------------------------------------------------------


def test_inspect_appends_quality_findings_only_when_asked() -> None:
    report = preflight.inspect(blurry(), measure_quality=True)
    assert BLURRY in [f.code for f in report.findings]
    assert not report.rejected  # warnings, not errors
    assert preflight.inspect(blurry()).findings == ()
    assert preflight.inspect(png(scene()), measure_quality=True).findings == ()


def test_inspect_quality_follows_the_options() -> None:
    report = preflight.inspect(
        enlarged(), measure_quality=True, tier="standard", token_rule="patches"
    )
    finding = next(f for f in report.findings if f.code == UPSCALED)
    assert "patches rule" in finding.message


def test_inspect_quality_reports_pixels_that_do_not_decode() -> None:
    report = preflight.inspect(png_with_bad_idat(), measure_quality=True)
    assert [f.code for f in report.findings] == ["undecodable"]
    assert report.rejected
    with pytest.raises(preflight.UsageError):
        preflight.inspect(png(scene()), measure_quality="yes")  # type: ignore[arg-type]


def test_inspect_quality_skips_what_the_api_refuses() -> None:
    report = preflight.inspect(b"not an image", measure_quality=True)
    assert [f.code for f in report.findings] == ["not-an-image"]


# --- prepare ------------------------------------------------------------------------


@engines
def test_prepare_puts_quality_findings_on_the_result(engine: str) -> None:
    result = preflight.prepare(blurry(), engine=engine, measure_quality=True)
    assert result.passed_through  # measured, and still sent byte for byte
    assert BLURRY in [f.code for f in result.findings]
    assert preflight.prepare(blurry(), engine=engine).findings == ()
    big = scene(2400, 1800).filter(ImageFilter.GaussianBlur(10))
    resized = preflight.prepare(png(big), engine=engine, measure_quality=True, tier="standard")
    assert not resized.passed_through
    assert BLURRY in [f.code for f in resized.findings]
    with pytest.raises(preflight.UsageError):
        preflight.prepare(blurry(), measure_quality=1)  # type: ignore[arg-type]


@engines
def test_prepare_effective_target_sends_the_detail_size(engine: str) -> None:
    report = preflight.analyze_quality(enlarged(), engine=engine)
    expected = preflight.effective_size(report.measures, report.tier)
    assert expected[0] <= 450 and expected[1] <= 350
    result = preflight.prepare(enlarged(), engine=engine, target="effective")
    assert (result.width, result.height) == expected
    assert "effective-size" in [a.code for a in result.actions]
    assert result.tokens < preflight.tokens(900, 700)
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == expected
    # A sharp image carries detail to its full size: the effective target changes nothing.
    sharp = png(scene(900, 700))
    same = preflight.prepare(sharp, engine=engine, target="effective")
    assert same.passed_through and (same.width, same.height) == (900, 700)


def test_effective_is_a_target_only_where_pixels_are_measured() -> None:
    assert MEASURED_POLICIES == ("effective",)
    assert preflight.parse_target("effective", measured=True) == Target("effective")
    with pytest.raises(preflight.InvalidArgumentError, match="measured"):
        preflight.parse_target("effective")
    with pytest.raises(preflight.InvalidArgumentError, match="measured"):
        preflight.target_size(900, 700, Target("effective"))
    with pytest.raises(preflight.InvalidArgumentError, match="measured"):
        preflight.target_size(900, 700, "effective")
    with pytest.raises(preflight.InvalidArgumentError):
        preflight.parse_target("effective=3")


# --- tile ---------------------------------------------------------------------------


def test_tile_takes_options() -> None:
    data = png(Image.new("RGB", (1500, 3100), "white"))
    options = preflight.make_options(tier="standard", token_rule="patches")
    by_options = preflight.tile(data, options, image_format="png")
    by_keywords = preflight.tile(data, tier="standard", token_rule="patches", image_format="png")
    assert by_options.layout == by_keywords.layout and by_options.rule == "patches"
    assert by_options.tokens == by_keywords.tokens
    high = preflight.tile(data, tier="high-res", image_format="png")
    assert len(high.layout.boxes) < len(by_options.layout.boxes)
    with pytest.raises(preflight.ByteBudgetError):
        preflight.tile(png(scene(900, 700)), max_bytes=1000, image_format="jpeg")
    with pytest.raises(preflight.UsageError):
        preflight.tile(data, modle="x")  # type: ignore[call-arg]


def test_new_names_are_public() -> None:
    for name in ("analyze_quality", "tile", "tile_layout", "QualityReport", "Tiling", "TileImage"):
        assert name in preflight.__all__ and hasattr(preflight, name)
