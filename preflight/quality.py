# The quality analysis: the vision guide's image-quality advice ("sharp, not
# blurry or pixelated"; "text legible and not too small") as measured
# warnings. Rules:
# - opt-in and one decode: the image is decoded once, with shrink-on-load, at
#   the size the API will process (api_size for the tier), so every measure
#   is of what the model will see; nothing the API's own downscale removes
#   is reported;
# - measured with numpy only (the metrics are a few array passes each;
#   scikit-image or OpenCV would add a large dependency for no metric we
#   need: the one scikit-image has, blur_effect, is reimplemented below in
#   a dozen lines);
# - measuring (analyze_quality, measure_pixels) is separate from deciding
#   (quality_findings, pure: measures and thresholds in, findings out);
# - the thresholds are preflight's own, chosen on the evaluation set that
#   benchmarks/quality_eval.py builds (docs/quality.md has the table): the
#   vision guide gives no numbers for any of these;
# - findings are data ("warning" severity), never exceptions.

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight.core.findings import WARNING, Finding
from preflight.core.geometry import Size, api_size, tokens
from preflight.core.tables import DEFAULT_TOKEN_RULE, Tier, get_tier
from preflight.sources import DEFAULT_PIXEL_CAP, Source, open_source

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

    FloatArray = NDArray[numpy.float32]

# Stable finding codes.
BLURRY = "blurry"
UPSCALED = "upscaled"
SMALL_TEXT = "small-text"
LOW_CONTRAST = "low-contrast"
BLANK = "blank"
BORDERS = "borders"
QUALITY_CODES = (BLURRY, UPSCALED, SMALL_TEXT, LOW_CONTRAST, BLANK, BORDERS)


@dataclass(frozen=True)
class Thresholds:
    """Where each finding starts. preflight's own numbers, chosen on the
    evaluation set (docs/quality.md); the vision guide gives none."""

    blur: float = 0.5  # perceptual blur (0 sharp .. 1 flat) at or above this: blurry
    upscaled: float = 0.5  # effective/actual resolution at or below this: upscaled
    text_px: float = 12.0  # estimated text size (em, processed px) below this: small
    low_contrast: int = 64  # luminance spread (1st..99th percentile, of 255) below this
    blank: int = 16  # every channel's spread below this: blank
    border_fraction: float = 0.05  # uniform margins covering at least this share of the area


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class QualityMeasures:
    """What the analysis measured. Sizes in source pixels unless named
    `processed_`: the size the API processes, at which the image was measured."""

    width: int
    height: int
    processed_width: int
    processed_height: int
    spread: int  # luminance, 1st to 99th percentile, 0..255
    colour_spread: int  # the largest spread of any colour channel (or of luminance)
    blur: float | None  # Crété-Roffet perceptual blur, 0..1; None: no edges to judge
    detail: float  # share (0..1] of the processed resolution that carries detail
    text_px: float | None  # estimated text size (em) at the processed size; None: no text
    content_box: tuple[int, int, int, int] | None  # (left, top, right, bottom) inside margins

    @property
    def processed_size(self) -> Size:
        return self.processed_width, self.processed_height

    @property
    def scale(self) -> float:
        """Processed pixels per source pixel (1.0 when the API keeps the size)."""
        return self.processed_width / self.width


@dataclass(frozen=True)
class QualityReport:
    measures: QualityMeasures
    findings: tuple[Finding, ...]
    tier: str
    engine: str

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(finding.code for finding in self.findings)


# --- measuring ---------------------------------------------------------------

# Effective resolution: the whitened spectrum (power x f^2, flat for a sharp
# natural image, whose power falls as 1/f^2: Field 1987; van der Schaaf and
# van Hateren 1996) is smoothed into bands; detail ends at the highest band
# still within DETAIL_DROP_DB of the strongest one.
_SPECTRUM_ROWS = 256  # rows (columns) sampled for each axis' spectrum
_SPECTRUM_BANDS = 40
DETAIL_DROP_DB = 10.0
_BLUR_WINDOW = 9  # the re-blur of Crété-Roffet et al. (2007): a 9-tap average
_TEXT_BLOCK = 160  # side of the blocks searched for lines of text (processed px)
_TEXT_PEAK = 0.5  # autocorrelation a line pitch needs to count as text
_TEXT_MIN_BLOCKS = 2
LINE_PITCH_EM = 1.3  # baseline-to-baseline distance in ems, typical of text (1.15 .. 1.6)
_BORDER_TOLERANCE = 10  # levels a margin pixel may differ from the margin's colour


def measure_pixels(pixels: NDArray[numpy.uint8], width: int, height: int) -> QualityMeasures:
    """The measures of an image decoded at its processed size: `pixels` is
    uint8 height x width x bands (alpha already flattened); width and height
    are the source's displayed size."""
    import numpy

    rows, columns = pixels.shape[0], pixels.shape[1]
    colour = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    grey = _luminance(colour)
    # Percentiles from every other pixel of every other line: the same to a level.
    sample = colour[::2, ::2]
    spread = _spread(numpy.clip(grey[::2, ::2] + 0.5, 0, 255).astype(numpy.uint8))
    colour_spread = max([spread, *(_spread(sample[..., band]) for band in range(sample.shape[2]))])
    return QualityMeasures(
        width=width,
        height=height,
        processed_width=columns,
        processed_height=rows,
        spread=spread,
        colour_spread=colour_spread,
        blur=perceptual_blur(grey),
        detail=min(detail_fraction(grey), _pixelation(grey)),
        text_px=text_size(grey),
        content_box=_content_box(colour, width, height),
    )


def _luminance(colour: NDArray[numpy.uint8]) -> FloatArray:
    import numpy

    if colour.shape[2] == 1:
        return colour[..., 0].astype(numpy.float32)
    weights = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)  # Rec. 601 luma
    return colour.astype(numpy.float32) @ weights


def _spread(channel: NDArray[numpy.uint8]) -> int:
    """1st to 99th percentile, from a histogram (no sort)."""
    import numpy

    counts = numpy.cumsum(numpy.bincount(channel.ravel(), minlength=256))
    total = int(counts[-1])
    low = int(numpy.searchsorted(counts, 0.01 * total))
    high = int(numpy.searchsorted(counts, 0.99 * total))
    return high - low


def perceptual_blur(grey: FloatArray) -> float | None:
    """The no-reference perceptual blur of Crété-Roffet, Dolmière, Ladret and
    Nicolas, "The blur effect: perception and estimation with a new
    no-reference perceptual blur metric" (SPIE Electronic Imaging, 2007): blur
    the image again with a 9-tap average, and measure how much of the
    neighbouring-pixel variation that removes. A sharp image loses much
    (near 0), a blurred one little (near 1). Both directions; the worse one.
    None when there is no variation to judge."""
    import numpy

    worst: float | None = None
    size = _BLUR_WINDOW
    # Along rows, then along columns; every other line is enough (the
    # differences are taken along the line, so a sample of lines loses none).
    for lines in (grey[::2], grey.T[::2]):
        if lines.shape[1] <= size + 2:
            continue
        # The 9-tap average's neighbour difference is (F[i + 9] - F[i]) / 9:
        # no need to build the re-blurred image.
        blurred_variation = numpy.abs(lines[:, size + 1 :] - lines[:, 1:-size]) / size
        sharp = numpy.abs(numpy.diff(lines, axis=1))
        sharp_variation = sharp[:, size // 2 + 1 : size // 2 + 1 + blurred_variation.shape[1]]
        total_variation = float(sharp_variation.sum(dtype=numpy.float64))
        if total_variation <= 0:
            continue
        lost = numpy.maximum(sharp_variation - blurred_variation, 0)
        score = 1 - float(lost.sum(dtype=numpy.float64)) / total_variation
        worst = score if worst is None else max(worst, score)
    return worst


def detail_fraction(grey: FloatArray) -> float:
    """The share of the pixel frequency range (0 .. Nyquist) that carries
    detail, the smaller of the two axes: 1.0 for a sharp image, about 1/k
    for one enlarged k times with a smooth filter (or blurred as much)."""
    return min(_axis_detail(grey), _axis_detail(grey.T))


def _axis_detail(grey: FloatArray) -> float:
    import numpy

    length = grey.shape[1]
    if length < 2 * _SPECTRUM_BANDS or grey.shape[0] < 2:
        return 1.0
    lines = grey[:: max(1, grey.shape[0] // _SPECTRUM_ROWS)]
    lines = lines - lines.mean(axis=1, keepdims=True)
    window = numpy.hanning(length).astype(numpy.float32)
    power = (numpy.abs(numpy.fft.rfft(lines * window, axis=1)) ** 2).mean(axis=0)
    frequency = numpy.fft.rfftfreq(length)
    whitened = power * frequency**2
    edges = numpy.linspace(0.0, 0.5, _SPECTRUM_BANDS + 1)
    band = numpy.clip(numpy.searchsorted(edges, frequency[1:], side="left") - 1, 0, None)
    sums = numpy.bincount(band, weights=whitened[1:], minlength=_SPECTRUM_BANDS)
    counts = numpy.bincount(band, minlength=_SPECTRUM_BANDS)
    means = sums[:_SPECTRUM_BANDS] / numpy.maximum(counts[:_SPECTRUM_BANDS], 1)
    strongest = float(means.max())
    if strongest <= 0:
        return 1.0
    alive = numpy.nonzero(means >= strongest * 10 ** (-DETAIL_DROP_DB / 10))[0]
    return float((int(alive[-1]) + 1) / _SPECTRUM_BANDS)


def _pixelation(grey: FloatArray) -> float:
    """1/k for an image enlarged k times by repeating pixels (nearest
    neighbour): the typical run of identical neighbouring columns (rows) is k
    long. Smooth enlargements leave no identical runs: 1.0."""
    return min(_axis_pixelation(grey), _axis_pixelation(grey.T))


def _axis_pixelation(grey: FloatArray) -> float:
    import numpy

    if grey.shape[1] < 8:
        return 1.0
    same = numpy.all(grey[:, 1:] == grey[:, :-1], axis=0)
    # Starts of runs of identical columns: a column that differs from the previous.
    starts = numpy.concatenate(([0], numpy.nonzero(~same)[0] + 1, [grey.shape[1]]))
    typical = float(numpy.median(numpy.diff(starts)))
    return 1.0 if typical < 2 else 1.0 / typical


def text_size(grey: FloatArray) -> float | None:
    """Estimated size (em, in pixels) of horizontal lines of text, or None
    when there are none: lines of text make the row profile of horizontal
    gradients periodic, with the line pitch as period (the projection-profile
    idea of document analysis, e.g. O'Gorman 1993, "The document spectrum").
    Searched in blocks, so columns and mixed pages work; the median pitch of
    the blocks that show one, divided by a typical line spacing."""
    import numpy

    block = _TEXT_BLOCK
    rows, columns = grey.shape
    if rows < 32 or columns < 16:
        return None
    gradient = numpy.abs(numpy.diff(grey, axis=1))
    block_rows = max(1, rows // block)
    block_columns = max(1, gradient.shape[1] // block)
    height = min(block, rows)
    width = min(block, gradient.shape[1])
    profiles = (
        gradient[: block_rows * height, : block_columns * width]
        .reshape(block_rows, height, block_columns, width)
        .mean(axis=3)
        .transpose(0, 2, 1)
        .reshape(-1, height)
    )
    profiles = profiles - profiles.mean(axis=1, keepdims=True)
    energy = (profiles**2).sum(axis=1)
    profiles = profiles[energy > 1e-3 * height]
    if len(profiles) == 0:
        return None
    spectrum = numpy.fft.rfft(profiles, n=2 * height, axis=1)
    correlation = numpy.fft.irfft(numpy.abs(spectrum) ** 2, axis=1)[:, :height]
    correlation = correlation / correlation[:, :1]
    pitches = []
    for curve in correlation:
        pitch = _first_peak(curve, low=3, high=height // 3)
        if pitch is not None:
            pitches.append(pitch)
    if len(pitches) < min(_TEXT_MIN_BLOCKS, len(profiles)):
        return None
    return float(numpy.median(pitches)) / LINE_PITCH_EM


def _first_peak(curve: FloatArray, low: int, high: int) -> int | None:
    """The first local maximum of an autocorrelation after its first dip,
    within [low, high], if it is strong enough to be a line pitch, the lines
    repeat (a second peak at twice the pitch) and alternate with gaps
    (negative at half the pitch): textures rarely do all three."""
    below = curve[1:high] < _TEXT_PEAK
    if not below.any():
        return None
    start = max(low, int(below.argmax()) + 1)
    for lag in range(start, high - 1):
        if curve[lag] >= _TEXT_PEAK and curve[lag - 1] <= curve[lag] >= curve[lag + 1]:
            repeats = 2 * lag >= len(curve) or curve[2 * lag] >= _TEXT_PEAK / 2
            # Half a pitch away a text line meets the gap between lines: the
            # profile is anti-correlated there (about -0.7 on text pages).
            alternates = curve[lag // 2] < 0
            return lag if repeats and alternates else None
    return None


def _content_box(
    colour: NDArray[numpy.uint8], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) in source pixels of what lies inside uniform
    margins, or None when there are none. Each side's margin is the run of
    lines within _BORDER_TOLERANCE of that side's outermost line's median
    colour; one processed pixel is given back on each cut side (the resize
    blends the edge), and source coordinates are rounded outward."""
    import numpy

    rows, columns = colour.shape[0], colour.shape[1]

    def margin(lines: NDArray[numpy.uint8]) -> int:
        # Outward in: most images stop at their first line, so read lines in
        # growing chunks rather than comparing the whole image.
        reference = numpy.median(lines[0], axis=0)
        count, chunk = 0, 1
        while count < len(lines):
            part = lines[count : count + chunk].astype(numpy.int16)
            uniform = numpy.all(numpy.abs(part - reference) <= _BORDER_TOLERANCE, axis=(1, 2))
            if not uniform.all():
                count += int(uniform.argmin())
                break
            count += len(part)
            chunk *= 2
        return max(0, count - 1)

    top = margin(colour)
    bottom = margin(colour[::-1])
    left = margin(colour.transpose(1, 0, 2))
    right = margin(colour.transpose(1, 0, 2)[::-1])
    if top + bottom >= rows or left + right >= columns:
        return None
    if top == bottom == left == right == 0:
        return None
    scale_x, scale_y = width / columns, height / rows
    return (
        math.floor(left * scale_x),
        math.floor(top * scale_y),
        width - math.floor(right * scale_x),
        height - math.floor(bottom * scale_y),
    )


# --- the entry points ---------------------------------------------------------


def analyze_quality(
    source: Source,
    *,
    tier: str | Tier = "standard",
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    rule: str = DEFAULT_TOKEN_RULE,
    engine: str | None = None,
    pixel_cap: int = DEFAULT_PIXEL_CAP,
) -> QualityReport:
    """Decode `source` once, at the size the API processes for `tier`
    (shrink-on-load), measure it and judge the measures."""
    resolved = get_tier(tier)
    opened = open_source(source, engine=engine, pixel_cap=pixel_cap)
    runner = opened.engine
    processed_w, processed_h = api_size(opened.width, opened.height, resolved)
    pixels = runner.load(opened.data, opened.info, processed_w, processed_h, pixel_cap=pixel_cap)
    if runner.size(pixels) != (processed_w, processed_h):
        pixels = runner.resize(pixels, processed_w, processed_h)
    array = runner.to_array(runner.without_alpha(pixels))
    measures = measure_pixels(array, opened.width, opened.height)
    findings = quality_findings(measures, tier=resolved, thresholds=thresholds, rule=rule)
    return QualityReport(measures, findings, resolved.name, runner.name)


def effective_size(measures: QualityMeasures, tier: str | Tier = "standard") -> Size:
    """The size that carries all the detail the image has: the processed size
    scaled by the measured detail fraction, aspect kept (the published
    algorithm's rounding), never larger than the processed size. Sending the
    image at this size loses nothing the model can see."""
    from preflight.core.geometry import target_size

    detail = min(1.0, max(measures.detail, 0.0))
    box = (
        max(1, math.ceil(measures.processed_width * detail)),
        max(1, math.ceil(measures.processed_height * detail)),
    )
    return target_size(measures.width, measures.height, "box", tier=tier, box=box)


def quality_findings(
    measures: QualityMeasures,
    *,
    tier: str | Tier = "standard",
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    rule: str = DEFAULT_TOKEN_RULE,
) -> tuple[Finding, ...]:
    """Pure: the warnings the measures call for, under these thresholds."""
    resolved = get_tier(tier)
    processed = f"{measures.processed_width}x{measures.processed_height}"
    if measures.colour_spread < thresholds.blank:
        return (
            Finding(
                BLANK,
                WARNING,
                f"nearly uniform: no colour channel spreads over more than "
                f"{measures.colour_spread} of 255 levels (1st to 99th percentile; "
                f"blank under {thresholds.blank}): a failed capture or a blank page?",
                "check the capture; leave the image out if it is empty",
            ),
        )
    found: list[Finding] = []
    if measures.blur is not None and measures.blur >= thresholds.blur:
        found.append(
            Finding(
                BLURRY,
                WARNING,
                f"perceptual blur {measures.blur:.2f} at the processed {processed} "
                f"(Crété-Roffet et al. 2007; 0 sharp, 1 flat; blurry from "
                f"{thresholds.blur:.2f}): the model will see a blurry image",
                "send a sharper original: in focus, not enlarged, not re-compressed",
            )
        )
    if measures.detail <= thresholds.upscaled:
        found.append(_upscaled(measures, resolved, thresholds, rule))
    if measures.text_px is not None and measures.text_px < thresholds.text_px:
        found.append(_small_text(measures, thresholds))
    if measures.spread < thresholds.low_contrast:
        found.append(
            Finding(
                LOW_CONTRAST,
                WARNING,
                f"low contrast: luminance spreads over {measures.spread} of 255 levels "
                f"(1st to 99th percentile; low under {thresholds.low_contrast})",
                "re-capture with better light or exposure, or stretch the levels before sending",
            )
        )
    border = _borders(measures, resolved, thresholds, rule)
    if border is not None:
        found.append(border)
    return tuple(found)


def _upscaled(measures: QualityMeasures, tier: Tier, thresholds: Thresholds, rule: str) -> Finding:
    effective_w, effective_h = effective_size(measures, tier)
    now = tokens(measures.processed_width, measures.processed_height, rule)
    then = tokens(effective_w, effective_h, rule)
    return Finding(
        UPSCALED,
        WARNING,
        f"detail reaches {measures.detail:.0%} of the pixel frequency at the processed "
        f"{measures.processed_width}x{measures.processed_height} (upscaled at "
        f"{thresholds.upscaled:.0%} or less): it looks enlarged from about "
        f"{effective_w}x{effective_h}; sent at that size it costs {then} tokens instead of "
        f"{now} ({now - then} saved, {rule} rule), and the model sees the same detail",
        f"send it at {effective_w}x{effective_h}, or find the image at its original resolution",
    )


def _small_text(measures: QualityMeasures, thresholds: Thresholds) -> Finding:
    assert measures.text_px is not None
    after = measures.text_px
    before = after / measures.scale
    processed = f"{measures.processed_width}x{measures.processed_height}"
    if measures.scale < 1 and before >= thresholds.text_px:
        fix = (
            f"split it into tiles the API does not resize (preflight.tile): the text stays "
            f"about {before:.0f} px high"
        )
    else:
        fix = "capture the text larger (zoom in, higher resolution); tiling cannot enlarge it"
    resized = f"after the API's resize to {processed}" if measures.scale < 1 else "(not resized)"
    return Finding(
        SMALL_TEXT,
        WARNING,
        f"text about {before:.1f} px high (em size) in the image is about {after:.1f} px "
        f"{resized}, under the {thresholds.text_px:.0f} px where it stays legible",
        fix,
    )


def _borders(
    measures: QualityMeasures, tier: Tier, thresholds: Thresholds, rule: str
) -> Finding | None:
    if measures.content_box is None:
        return None
    left, top, right, bottom = measures.content_box
    inner_w, inner_h = right - left, bottom - top
    area = measures.width * measures.height
    margin_share = 1 - inner_w * inner_h / area
    if margin_share < thresholds.border_fraction:
        return None
    now = tokens(measures.processed_width, measures.processed_height, rule)
    cropped_w, cropped_h = api_size(inner_w, inner_h, tier)
    then = tokens(cropped_w, cropped_h, rule)
    gain = ""
    if cropped_w > round(inner_w * measures.scale):
        gain = f"; the content gets {cropped_w / (inner_w * measures.scale):.2f}x the resolution"
    return Finding(
        BORDERS,
        WARNING,
        f"uniform margins cover {margin_share:.0%} of the image (flagged from "
        f"{thresholds.border_fraction:.0%}): the content is the box ({left}, {top}, {right}, "
        f"{bottom}), {inner_w}x{inner_h}; cropped, it costs {then} tokens instead of {now} "
        f"({now - then} saved, {rule} rule){gain}",
        f"crop to the box (left, top, right, bottom) = ({left}, {top}, {right}, {bottom})",
    )
