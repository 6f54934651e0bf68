"""The quality analysis: the vision guide's image-quality advice as measured warnings.

The advice: "sharp, not blurry or pixelated"; "text legible and not too
small".

Rules:
- opt-in and one decode: the image is decoded once, with shrink-on-load, at
  the size the API will process (api_size for the tier), so every measure
  is of what the model will see; nothing the API's own downscale removes
  is reported;
- measured with numpy only, on samples of the decoded image shared by all
  the measures (a few hundred thousand values, whatever the size: the
  analysis costs a small fraction of the decode); scikit-image or OpenCV
  would add a large dependency for no metric we need (the one scikit-image
  has, blur_effect, is reimplemented below in a dozen lines);
- a finding needs its evidence to agree: an enlargement must show both a
  spectral cut-off and an interpolation periodicity (or repeated pixels);
  a margin must be uniform and end along the whole side, where the
  content starts;
- measuring (analyze_quality, measure_pixels) is separate from deciding
  (quality_findings, pure: measures and thresholds in, findings out);
- the thresholds are preflight's own, chosen on the evaluation set that
  benchmarks/quality_eval.py builds (docs/quality.md has the table): the
  vision guide gives no numbers for any of these;
- findings are data ("warning" severity), never exceptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight._core.catalogue import (
    BLANK,
    BLURRY,
    BORDERS,
    LOW_CONTRAST,
    SMALL_TEXT,
    UPSCALED,
)
from preflight._core.findings import WARNING, Finding
from preflight._core.geometry import Size, api_size, tokens
from preflight._core.options import OptionKeywords, Options, default_options
from preflight._core.settings import DEFAULT_THRESHOLDS as DEFAULT_THRESHOLDS
from preflight._core.settings import CheckKeywords, CheckSettings, check_call
from preflight._core.settings import Thresholds as Thresholds
from preflight._core.tables import DEFAULT_TOKEN_RULE, Tier, get_tier
from preflight._imaging.engines.base import Engine, Pixels
from preflight._imaging.opening import open_source
from preflight._inputs.sources import Source

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray
    from typing_extensions import Unpack

    class QualityKeywords(OptionKeywords, CheckKeywords, total=False):
        """analyze_quality's keywords: the Options' and the CheckSettings'."""

    FloatArray = NDArray[numpy.float32]

# Stable finding codes (defined in the catalogue, with every other code).
QUALITY_CODES = (BLURRY, UPSCALED, SMALL_TEXT, LOW_CONTRAST, BLANK, BORDERS)


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
    periodicity: float = 0.0  # interpolation periodicity along the cut-off axis (1-3: none)
    runs: float = 1.0  # 1/k for runs of k identical pixels along both axes (pixelation)

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

# The measures never pass over the whole image: they share a few samples of
# it, each converted to grey once (the cost is then a small fraction of the
# decode at any size, benchmarks/bench_quality.py):
# - a sample of rows (about _LINES, whole width) and of columns (about
#   _LINES, whole height): blur, the spectrum and pixelation along each axis;
# - pairs of neighbouring columns (about _TEXT_PAIRS): the horizontal
#   gradient at full vertical resolution, for the text rows;
# - the colour of the rows sample: the spreads;
# - the outermost lines of each side: the margins.
_LINES = 64  # rows (and columns) sampled for blur, the spectrum and pixelation
_TEXT_PAIRS = 128  # pairs of neighbouring columns sampled for text
_SPREAD_SAMPLE = 65536  # pixels sampled for the spreads (every row, some columns)
# Effective resolution: the whitened spectrum (power x f^2, flat for a sharp
# natural image, whose power falls as 1/f^2: Field 1987; van der Schaaf and
# van Hateren 1996), by Welch's method (the mean power of windowed segments
# of one fixed length, whatever the image size), in bands; detail ends at the
# highest band still within DETAIL_DROP_DB of the strongest one.
_SEGMENT = 256  # px: the FFT length
_SPECTRUM_BANDS = 40
DETAIL_DROP_DB = 10.0
# Interpolation periodicity (the second measure an enlargement must show):
_LONGEST_PERIOD = 8  # px: enlargements up to 8x
_PERIOD_FLOOR = 0.02  # cycles/px: the spectrum's median is taken above this
_BLUR_WINDOW = 9  # the re-blur of Crété-Roffet et al. (2007): a 9-tap average
_TEXT_BLOCK = 160  # side of the blocks searched for lines of text (processed px)
_TEXT_PEAK = 0.5  # autocorrelation a line pitch needs to count as text
_TEXT_MIN_BLOCKS = 2
LINE_PITCH_EM = 1.3  # baseline-to-baseline distance in ems, typical of text (1.15 .. 1.6)
# Margins: a line is uniform when every pixel is within _BORDER_TOLERANCE
# levels of the side's colour; the margin counts only when the content starts
# along the whole side, as padding does: in the lines just inside it, at
# least _BORDER_EDGE_SHARE of the pixels (median over _BORDER_DEPTH lines,
# after _BORDER_GUARD lines where a JPEG's blocks ring) differ from the
# margin's colour. A background that continues inside (a silhouette on white,
# a chart's white surround, a sky) fails that test.
_BORDER_TOLERANCE = 8
_BORDER_EDGE_SHARE = 0.5
_BORDER_GUARD = 8  # processed px: a JPEG's 8 px blocks ring along the edge
_BORDER_DEPTH = 16


def measure_pixels(pixels: NDArray[numpy.uint8], width: int, height: int) -> QualityMeasures:
    """The measures of an image decoded at its processed size: `pixels` is
    uint8 height x width x bands (alpha already flattened); width and height
    are the source's displayed size."""
    import numpy

    rows, columns = pixels.shape[0], pixels.shape[1]
    colour = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    row_step = max(1, rows // _LINES)
    row_lines = _luminance(colour[row_step // 2 :: row_step])
    pair_step = max(2, columns // _TEXT_PAIRS)
    firsts = _luminance(colour[:, 0 : columns - 1 : pair_step])
    gradient = numpy.abs(_luminance(colour[:, 1::pair_step])[:, : firsts.shape[1]] - firsts)
    column_step = max(1, firsts.shape[1] // _LINES)
    column_lines = numpy.ascontiguousarray(firsts[:, column_step // 2 :: column_step].T)
    # The spreads from sampled columns, every row (a sample of rows could
    # fall between the lines of small text, every time).
    step = max(1, -(-columns // pair_step) * rows // _SPREAD_SAMPLE)
    # Colour only tells an isoluminant picture from a blank one: a quarter will do.
    sample = colour[:, :: pair_step * step * 4]
    grey = numpy.clip(firsts[:, ::step] + 0.5, 0, 255).astype(numpy.uint8)
    spread = _spread(grey[..., None])[0]
    colour_spread = max(spread, *_spread(sample))
    cutoff, periodicity = _detail(row_lines, column_lines)
    return QualityMeasures(
        width=width,
        height=height,
        processed_width=columns,
        processed_height=rows,
        spread=spread,
        colour_spread=colour_spread,
        blur=_blur_of_lines(row_lines, column_lines),
        detail=cutoff,
        text_px=_text_size(gradient, pair_step),
        content_box=_content_box(colour, width, height),
        periodicity=periodicity,
        runs=max(_axis_pixelation(row_lines), _axis_pixelation(column_lines)),
    )


def _luminance(colour: NDArray[numpy.uint8]) -> FloatArray:
    import numpy

    if colour.shape[2] == 1:
        return colour[..., 0].astype(numpy.float32)
    weights = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)  # Rec. 601 luma
    return colour.astype(numpy.float32) @ weights


def _spread(sample: NDArray[numpy.uint8]) -> list[int]:
    """Each band's 1st to 99th percentile, from histograms (no sort): one
    bincount for all the bands (band b counted at 256 b + level)."""
    import numpy

    bands = sample.shape[-1]
    offsets = (numpy.arange(bands, dtype=numpy.uint16) * 256).astype(numpy.uint16)
    counts = numpy.bincount((sample + offsets).ravel(), minlength=256 * bands)
    spreads = []
    for band in range(bands):
        cumulative = numpy.cumsum(counts[256 * band : 256 * (band + 1)])
        total = int(cumulative[-1])
        low = int(numpy.searchsorted(cumulative, 0.01 * total))
        high = int(numpy.searchsorted(cumulative, 0.99 * total))
        spreads.append(high - low)
    return spreads


def perceptual_blur(grey: FloatArray) -> float | None:
    """The no-reference perceptual blur of Crété-Roffet, Dolmière, Ladret and
    Nicolas, "The blur effect: perception and estimation with a new
    no-reference perceptual blur metric" (SPIE Electronic Imaging, 2007): blur
    the image again with a 9-tap average, and measure how much of the
    neighbouring-pixel variation that removes. A sharp image loses much
    (near 0), a blurred one little (near 1). Both directions; the worse one.
    None when there is no variation to judge."""
    return _blur_of_lines(grey, grey.T)


def _blur_of_lines(*axes: FloatArray) -> float | None:
    """perceptual_blur on samples of lines, one array of lines per axis: the
    differences are taken along each line, so a sample of lines loses none."""
    import numpy

    worst: float | None = None
    size = _BLUR_WINDOW
    for lines in axes:
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
    return _detail(grey, grey.T)[0]


def _detail(*axes: FloatArray) -> tuple[float, float]:
    """(cut-off, periodicity): the share of the frequency range that carries
    detail, the smallest of the axes, and the interpolation periodicity
    (_interpolation_peak) along that axis (the strongest, when the axes tie)."""
    found: list[tuple[float, float]] = []
    for lines in axes:
        bands = _band_power(lines)
        if bands is None:
            continue
        share = _cutoff(bands)
        found.append((share, _interpolation_peak(lines) if share < 1.0 else 0.0))
    if not found:
        return 1.0, 0.0
    share = min(share for share, _ in found)
    return share, max(peak for cut, peak in found if cut == share)


def _cutoff(means: FloatArray) -> float:
    """The share of the bands, from the lowest, up to the last one within
    DETAIL_DROP_DB of the strongest. The lowest band (periods over 80 px: the
    image's layout, its gradients) is no detail and is not compared: a smooth
    gradient would dwarf everything else."""
    import numpy

    detail = means[1:]
    strongest = float(detail.max())
    if strongest <= 0:
        return 1.0
    alive = numpy.nonzero(detail >= strongest * 10 ** (-DETAIL_DROP_DB / 10))[0]
    return float(min(1.0, (int(alive[-1]) + 2) / _SPECTRUM_BANDS))


def _interpolation_peak(lines: FloatArray) -> float:
    """How periodic the interpolation left the lines: an enlargement by k
    makes the strength of the second difference repeat every k pixels
    (Gallagher 2005, "Detection of linear and cubic interpolation in JPEG
    compressed images", CRV 2005). The strongest component of its spectrum at
    periods of 2 to 8 px, over the spectrum's median: about 1 to 3 for an
    image at its own resolution, however smooth; tens for an enlargement."""
    import numpy

    if lines.shape[1] < 32:
        return 0.0
    curvature = numpy.abs(lines[:, :-2] - 2 * lines[:, 1:-1] + lines[:, 2:]).mean(axis=0)
    curvature = curvature - curvature.mean()
    window = numpy.hanning(len(curvature)).astype(numpy.float32)
    spectrum = numpy.abs(numpy.fft.rfft(curvature * window))
    frequency = numpy.fft.rfftfreq(len(curvature))
    typical = float(numpy.median(spectrum[frequency > _PERIOD_FLOOR]))
    if typical <= 0:
        return 0.0
    return float(spectrum[frequency >= 1 / _LONGEST_PERIOD].max()) / typical


def _band_power(lines: FloatArray) -> FloatArray | None:
    """The whitened power (power x f^2) in _SPECTRUM_BANDS bands from 0 to
    the pixel frequency, by Welch's method; None when the lines are too short."""
    import numpy

    segment = min(_SEGMENT, lines.shape[1])
    if segment < 2 * _SPECTRUM_BANDS or lines.shape[0] < 2:
        return None
    count = lines.shape[1] // segment
    pieces = lines[:, : count * segment].reshape(-1, segment)
    pieces = pieces - pieces.mean(axis=1, keepdims=True)
    window = numpy.hanning(segment).astype(numpy.float32)
    power = (numpy.abs(numpy.fft.rfft(pieces * window, axis=1)) ** 2).mean(axis=0)
    frequency = numpy.fft.rfftfreq(segment)
    whitened = power * frequency**2
    edges = numpy.linspace(0.0, 0.5, _SPECTRUM_BANDS + 1)
    band = numpy.clip(numpy.searchsorted(edges, frequency[1:], side="left") - 1, 0, None)
    sums = numpy.bincount(band, weights=whitened[1:], minlength=_SPECTRUM_BANDS)
    counts = numpy.bincount(band, minlength=_SPECTRUM_BANDS)
    means = sums[:_SPECTRUM_BANDS] / numpy.maximum(counts[:_SPECTRUM_BANDS], 1)
    return means.astype(numpy.float32)


def _axis_pixelation(lines: FloatArray) -> float:
    """1/k for lines enlarged k times by repeating pixels (nearest neighbour):
    the typical run of identical neighbouring samples, all lines together, is
    k long. Smooth enlargements leave no identical runs: 1.0."""
    import numpy

    if lines.shape[1] < 8:
        return 1.0
    same = numpy.all(lines[:, 1:] == lines[:, :-1], axis=0)
    # Starts of runs: a position that differs from the previous one.
    starts = numpy.concatenate(([0], numpy.nonzero(~same)[0] + 1, [lines.shape[1]]))
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

    return _text_size(numpy.abs(numpy.diff(grey, axis=1)), 1)


def _text_size(gradient: FloatArray, step: int) -> float | None:
    """text_size from the horizontal gradient sampled every `step` columns."""
    import numpy

    block = _TEXT_BLOCK
    rows = gradient.shape[0]
    across = max(1, block // step)  # samples per block, across
    if rows < 32 or gradient.shape[1] * step < 16:
        return None
    block_rows = max(1, rows // block)
    block_columns = max(1, gradient.shape[1] // across)
    height = min(block, rows)
    width = min(across, gradient.shape[1])
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
    margins, or None when there are none. A side's margin is the run of lines
    within _BORDER_TOLERANCE of its outermost line's median colour, kept only
    when the content starts along the whole side (see _BORDER_EDGE_SHARE);
    one processed pixel is given back on each cut side (the resize blends
    the edge), and source coordinates are rounded outward."""
    rows, columns = colour.shape[0], colour.shape[1]
    across = colour.transpose(1, 0, 2)
    top = _margin(colour)
    bottom = _margin(colour[::-1])
    left = _margin(across)
    right = _margin(across[::-1])
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


def _margin(lines: NDArray[numpy.uint8]) -> int:
    """How many lines, from the first, are a padding-like margin (0: none).
    First on every 4th pixel of each line (cheap, and a sample can only
    find a margin longer and more uniform than it is): most sides stop there;
    then exactly, on the lines the sample found."""
    import numpy

    reference = numpy.median(lines[0], axis=0)
    coarse = _uniform_run(lines[:, ::4], reference, len(lines))
    if coarse == 0 or coarse >= len(lines) or not _content_starts(lines, coarse, reference):
        return 0
    count = _uniform_run(lines, reference, coarse)
    if count == 0 or not _content_starts(lines, count, reference):
        return 0
    return count - 1


def _uniform_run(lines: NDArray[numpy.uint8], reference: FloatArray, most: int) -> int:
    """How many lines from the first (at most `most`) are within
    _BORDER_TOLERANCE of `reference`, everywhere."""
    import numpy

    # Outward in: most images stop at their first line, so read lines in
    # growing chunks rather than comparing the whole image.
    count, chunk = 0, 1
    while count < most:
        part = numpy.abs(lines[count : min(count + chunk, most)].astype(numpy.int16) - reference)
        uniform = numpy.all(part <= _BORDER_TOLERANCE, axis=(1, 2))
        if not uniform.all():
            return count + int(uniform.argmin())
        count += len(part)
        chunk *= 2
    return count


def _content_starts(lines: NDArray[numpy.uint8], count: int, reference: FloatArray) -> bool:
    """Whether the content starts along the whole side after `count` margin
    lines (see _BORDER_EDGE_SHARE), rather than a background going on."""
    import numpy

    start = min(count + _BORDER_GUARD, len(lines) - 1)
    inside = numpy.abs(lines[start : start + _BORDER_DEPTH].astype(numpy.int16) - reference)
    differing = numpy.any(inside > _BORDER_TOLERANCE, axis=2).mean(axis=1)
    return float(numpy.median(differing)) >= _BORDER_EDGE_SHARE


# --- the entry points ---------------------------------------------------------


def analyze_quality(
    source: Source,
    options: Options | None = None,
    *,
    settings: CheckSettings | None = None,
    **keywords: Unpack[QualityKeywords],
) -> QualityReport:
    """Decode `source` once, at the size the API processes for the options'
    tier (shrink-on-load), measure it and judge the measures. `options` (or
    the same keywords) as everywhere: the tier and the token rule matter.
    `settings` (or the same keywords: thresholds, engine, pixel_cap) as
    inspect() takes them; its decode and measure_quality flags are moot here."""
    chosen, check = check_call(
        options, settings, dict(keywords), where="analyze_quality", stacklevel=2
    )
    opened = open_source(source, engine=check.engine, pixel_cap=check.pixel_cap)
    runner = opened.engine
    processed_w, processed_h = api_size(opened.width, opened.height, chosen.tier)
    pixels = runner.load(
        opened.data, opened.info, processed_w, processed_h, pixel_cap=check.pixel_cap
    )
    if runner.size(pixels) != (processed_w, processed_h):
        pixels = runner.resize(pixels, processed_w, processed_h)
    return judge_pixels(runner, pixels, opened.width, opened.height, chosen, check.thresholds)


def judge_pixels(
    runner: Engine,
    pixels: Pixels,
    width: int,
    height: int,
    options: Options,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> QualityReport:
    """The report for pixels an engine already decoded (prepare's own decode):
    they are taken as what the model sees; width x height is the source's
    displayed size."""
    array = runner.to_array(runner.without_alpha(pixels))
    measures = measure_pixels(array, width, height)
    findings = quality_findings(
        measures, tier=options.tier, thresholds=thresholds, rule=options.rule
    )
    return QualityReport(measures, findings, options.tier.name, runner.name)


def detail_share(measures: QualityMeasures, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> float:
    """The share of the processed resolution that carries detail, as far as
    the thresholds trust the measures: the spectrum's cut-off only when an
    interpolation periodicity confirms it (two measures agree), or the
    pixel repetition of a nearest-neighbour enlargement; else 1.0."""
    spectral = measures.detail if measures.periodicity >= thresholds.periodicity else 1.0
    return min(1.0, max(min(spectral, measures.runs), 0.0))


def effective_size(
    measures: QualityMeasures,
    tier: str | Tier | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Size:
    """The size that carries all the detail the image has: the processed size
    scaled by detail_share, aspect kept (the published algorithm's rounding),
    never larger than the processed size. Sending the image at this size
    loses nothing the model can see. `tier`: the one the measures were taken
    at (analyze_quality's options); by default the default model's, as for
    api_size."""
    from preflight._core.geometry import target_size

    detail = detail_share(measures, thresholds)
    box = (
        max(1, math.ceil(measures.processed_width * detail)),
        max(1, math.ceil(measures.processed_height * detail)),
    )
    return target_size(measures.width, measures.height, "box", tier=tier, box=box)


def quality_findings(
    measures: QualityMeasures,
    *,
    tier: str | Tier | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    rule: str = DEFAULT_TOKEN_RULE,
) -> tuple[Finding, ...]:
    """Pure: the warnings the measures call for, under these thresholds.
    `tier`: the one the measures were taken at; by default the default
    model's, as for api_size."""
    resolved = get_tier(tier) if tier is not None else default_options().tier
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
    if detail_share(measures, thresholds) <= thresholds.upscaled:
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
    effective_w, effective_h = effective_size(measures, tier, thresholds)
    now = tokens(measures.processed_width, measures.processed_height, rule)
    then = tokens(effective_w, effective_h, rule)
    share = detail_share(measures, thresholds)
    if measures.runs <= share:
        how = f"pixels repeat in runs of about {1 / measures.runs:.0f} along both axes"
    else:
        how = (
            f"detail reaches {measures.detail:.0%} of the pixel frequency, and the "
            f"interpolation left a periodicity of {measures.periodicity:.0f} (from "
            f"{thresholds.periodicity:.0f})"
        )
    return Finding(
        UPSCALED,
        WARNING,
        f"{how} at the processed {measures.processed_width}x{measures.processed_height} "
        f"(upscaled at {thresholds.upscaled:.0%} detail or less): it looks enlarged from about "
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
