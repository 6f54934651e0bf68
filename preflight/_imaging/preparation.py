"""prepare(): the bytes to send, for any image an engine can decode.

Rules:
- pass-through first: an input the API takes as it is (a supported format,
  a size its tier keeps and the target allows, no EXIF rotation, not
  animated, not CMYK, not cut short, within the byte limit) comes back
  byte for byte, never re-encoded (its metadata included);
- otherwise one shrink-on-load decode to exactly the size the pure core
  chose (from the displayed size, after orientation), then one encode;
  more encodes only when the result is over the byte budget (measured on
  base64): lossy formats lower their quality first, a PNG tries a palette
  (and becomes a JPEG if the format was automatic and nothing is
  transparent), and only then the dimensions shrink, sizes from the core;
- format "auto": PNG when something is transparent or the image is a flat
  graphic (few distinct colours), JPEG for photos and for lossy sources;
  without an alpha channel the image is flattened onto white;
- untrusted input: the header's declared size is checked against a pixel
  cap before anything is decoded; a format with no size in its header is
  refused for the same reason;
- the source is only ever read; save() writes atomically and refuses to
  overwrite the source;
- the settings (a PrepareSettings, or the same keywords) are validated
  once, at the entry, and read from that object only;
- measure_quality=True adds the quality findings (preflight._imaging.quality)
  measured on prepare's own decode (what is sent, at the size the model sees it);
  target="effective" measures first, then sends the image at the size that
  carries all its detail (effective_size): prepare is the one place that
  resolves that measured target into a box.
"""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from preflight._core.blocks import CacheControl, ImageBlock, ImageTransformations, image_block
from preflight._core.blocks import media_type as block_media_type
from preflight._core.budgets import DEFAULT_PIXEL_CAP as DEFAULT_PIXEL_CAP
from preflight._core.cost import exact_cost
from preflight._core.estimation import Estimate, estimate_with
from preflight._core.findings import Finding
from preflight._core.formats import FORMATS, MEDIA_TYPES
from preflight._core.geometry import Target, target_size, tokens
from preflight._core.info import ImageInfo, base64_length
from preflight._core.options import OptionKeywords, Options
from preflight._core.rules import many_images_side_limit
from preflight._core.settings import (
    DEFAULT_ENCODER_QUALITY,
    PrepareKeywords,
    PrepareSettings,
    prepare_call,
)
from preflight._core.settings import image_format_key as image_format_key
from preflight._core.tables import Tier
from preflight._imaging.engines import readers
from preflight._imaging.engines.base import (
    Engine,
    Pixels,
    SourceData,
    looks_flat,
)
from preflight._imaging.engines.verification import check_repairable, verify_data
from preflight._imaging.opening import engine_for, open_source
from preflight._inputs.remote import is_url
from preflight._inputs.sources import Source
from preflight._inputs.writing import make_folders as make_folders
from preflight._inputs.writing import write_atomically as write_atomically
from preflight.errors import (
    ByteBudgetError,
    DecodeError,
    EngineError,
    InvalidArgumentError,
    SourceError,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    class PrepareCallKeywords(OptionKeywords, PrepareKeywords, total=False):
        """prepare()'s keywords: the Options' and the PrepareSettings' (and,
        for one release, the 0.2 names format=, quality= and check_quality=)."""

        format: str
        quality: int | None
        check_quality: bool


# Encoding choices of preflight's own: the facts say nothing about quality.
DEFAULT_QUALITY = DEFAULT_ENCODER_QUALITY  # first JPEG/WebP quality tried
QUALITY_FLOOR = 40  # below this the byte budget is met by shrinking instead
_SHRINK_MARGIN = 0.9  # aim a little under the budget when shrinking
_LOSSY_SOURCES = frozenset({"jpeg", "heic", "avif"})


@dataclass(frozen=True)
class Action:
    """One thing prepare did, and why. `code` is stable."""

    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    media_type: str
    width: int
    height: int
    tokens: int
    cost_usd: Decimal | None  # None: the model has no published price
    source: ImageInfo
    actions: tuple[Action, ...] = field(default=())
    engine: str | None = None  # None for a pass-through
    source_estimate: Estimate | None = None  # the source as the API would take it
    findings: tuple[Finding, ...] = ()  # quality findings (measure_quality=True), as sent

    @property
    def format(self) -> str:
        return self.media_type.split("/", 1)[1]

    @property
    def extension(self) -> str:
        return FORMATS[self.format].extensions[0]

    @property
    def passed_through(self) -> bool:
        return any(a.code == "passthrough" for a in self.actions)

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def to_block(
        self,
        *,
        cache_control: CacheControl | None = None,
        transformations: ImageTransformations | None = None,
    ) -> ImageBlock:
        """A Messages API image content block carrying these bytes, typed
        like the SDK's ImageBlockParam (preflight._core.blocks)."""
        return image_block(
            self.base64(),
            block_media_type(self.media_type),
            cache_control=cache_control,
            transformations=transformations,
        )

    def manifest_fields(self, output: str) -> dict[str, object]:
        """What a manifest line says of this image written to `output` (the
        command line's preflight-manifest.jsonl and the Dask runner's)."""
        info, before = self.source, self.source_estimate
        return {
            "status": "ok",
            "output": output,
            "media_type": self.media_type,
            "source_format": info.format,
            "source_width": info.width,
            "source_height": info.height,
            "width": self.width,
            "height": self.height,
            "source_bytes": info.file_bytes,
            "bytes": len(self.data),
            "tokens_before": before.tokens if before else None,
            "tokens_after": self.tokens,
            "cost_before_usd": exact_cost(before.cost_usd) if before else None,
            "cost_after_usd": exact_cost(self.cost_usd),
            "engine": self.engine,
            "actions": [a.to_dict() for a in self.actions],
            "findings": [f.to_dict() for f in self.findings],
        }

    def save(self, path: str | os.PathLike[str]) -> Path | str:
        """Write the bytes atomically (a temporary file, then a rename);
        never over the source file. A URL (scheme://) is written through
        fsspec, atomically where the file system allows (remote.write_url);
        it is returned as given."""
        if is_url(path):
            from preflight._inputs.remote import write_url

            assert isinstance(path, str)
            if path == self.source.path:
                raise InvalidArgumentError(
                    f"{path}: refusing to overwrite the source image", code="bad-output-path"
                )
            write_url(path, self.data)
            return path
        target = Path(path)
        if self.source.path is not None and _same_file(Path(self.source.path), target):
            raise InvalidArgumentError(
                f"{target}: refusing to overwrite the source image", code="bad-output-path"
            )
        write_atomically(target, self.data)
        return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def prepare(
    source: Source,
    options: Options | None = None,
    *,
    settings: PrepareSettings | None = None,
    **keywords: Unpack[PrepareCallKeywords],
) -> PreparedImage:
    """The bytes to send for `source`: accepted by the API as they are, and
    not resized by it, under `options` (or the same keywords): the model's
    tier, the surface's byte limit (or max_bytes), and, in a request of more
    than 20 images, the many-image side limit. See the module comment.
    `settings` (a PrepareSettings, or the same keywords: target,
    image_format, encoder_quality, engine, pixel_cap, measure_quality,
    thresholds): measure_quality=True puts the quality findings on the
    result (`findings`); target="effective" sends the image at its
    effective resolution."""
    chosen_options, wanted = prepare_call(
        options, settings, dict(keywords), where="prepare", stacklevel=2
    )
    if wanted.tile:
        raise InvalidArgumentError("settings.tile is True: tile() makes tiles, prepare() one image")
    chosen = wanted.target
    measure = wanted.measure_quality
    effective = chosen.policy == "effective"
    if effective:
        chosen = Target()  # measured at the size the API processes, then boxed below
    out_format = wanted.image_format
    quality, engine, pixel_cap = wanted.encoder_quality, wanted.engine, wanted.pixel_cap
    tier = chosen_options.tier
    limit = chosen_options.max_image_bytes

    opened = open_source(source, engine=engine, pixel_cap=pixel_cap)
    data_source, info, runner = opened.data, opened.info, opened.engine
    source_estimate = _source_estimate(info, chosen_options)
    assert info.width is not None and info.height is not None  # open_source checked
    # The still a decoder gives: for an animation, its first frame, whose
    # canvas a GIF's later frames may outgrow.
    shown_w, shown_h = opened.width, opened.height
    want_w, want_h = target_size(shown_w, shown_h, chosen, tier=tier)
    side_limit = many_images_side_limit(chosen_options)
    if side_limit is not None and max(want_w, want_h) > side_limit:
        # More than 20 images in the request ("Vision"): 2000 px a side at most.
        want_w, want_h = target_size(
            want_w, want_h, Target("box", box=(side_limit, side_limit)), tier=tier
        )

    pixels: Pixels | None = None
    findings: tuple[Finding, ...] = ()
    processed = (want_w, want_h)
    if measure or effective:
        from preflight._imaging.quality import effective_size, judge_pixels

        pixels = _exact(
            runner,
            runner.load(data_source, info, want_w, want_h, pixel_cap=pixel_cap),
            want_w,
            want_h,
        )
        report = judge_pixels(runner, pixels, shown_w, shown_h, chosen_options, wanted.thresholds)
        if measure:
            findings = report.findings
        if effective:
            # The box that keeps every detail the measures trust (no smaller
            # than what the judgement calls an enlargement's true size).
            want_w, want_h = effective_size(report.measures, tier, wanted.thresholds)

    repaired: Action | None = None
    if _can_pass_through(info, (want_w, want_h), limit, out_format):
        # Read once: what is verified is what is returned, even if the file
        # is replaced meanwhile.
        data = _read_all(data_source)
        failure = _decode_failure(runner, data, info, pixel_cap)
        if failure is None:
            count = tokens(info.width, info.height, chosen_options.rule)
            return PreparedImage(
                data=data,
                media_type=MEDIA_TYPES[info.format],
                width=info.width,
                height=info.height,
                tokens=count,
                cost_usd=chosen_options.cost(count),
                source=info,
                actions=(
                    Action("passthrough", "already accepted as it is, and decodes: sent unchanged"),
                ),
                source_estimate=source_estimate,
                findings=findings,
            )
        # Damaged data the API would answer "Could not process image" for:
        # re-encoded below if every installed decoder still makes pixels of
        # it (else refused, whichever engine runs).
        check_repairable(data, info, readers(info.format) or [runner], pixel_cap=pixel_cap)
        data_source = data
        repaired = Action("repaired", f"the data does not decode cleanly ({failure}): re-encoded")

    actions = _describe_transforms(info, (shown_w, shown_h), (want_w, want_h))
    if repaired is not None:
        actions.insert(0, repaired)
    if (want_w, want_h) != processed:
        actions.append(
            Action(
                "effective-size",
                f"{processed[0]}x{processed[1]} -> {want_w}x{want_h}: the image carries no "
                "more detail than that (it was enlarged), so nothing the model sees is lost",
            )
        )
    if pixels is None:
        pixels = runner.load(data_source, info, want_w, want_h, pixel_cap=pixel_cap)
    elif runner.size(pixels) != (want_w, want_h):  # the effective size: smaller, one resize
        pixels = runner.resize(pixels, want_w, want_h)
    pixels = _exact(runner, pixels, want_w, want_h)
    transparent = runner.has_transparency(pixels)
    if out_format != "auto":
        fmt = out_format
    else:
        fmt = "png" if transparent else _auto_format(runner, pixels, info)
    if transparent and fmt == "jpeg":
        actions.append(Action("alpha-flattened", "transparency flattened onto white for JPEG"))
    if not transparent or fmt == "jpeg":
        # An alpha band that hides nothing only costs bytes: drop it (onto white).
        pixels = runner.without_alpha(pixels)
    data, fmt, width, height = _fit_bytes(
        runner,
        pixels,
        fmt,
        quality,
        limit,
        tier,
        actions,
        may_switch_to_jpeg=out_format == "auto" and not transparent,
    )
    actions.append(Action("metadata-stripped", "EXIF, XMP and ICC metadata removed"))
    count = tokens(width, height, chosen_options.rule)
    return PreparedImage(
        data=data,
        media_type=f"image/{fmt}",
        width=width,
        height=height,
        tokens=count,
        cost_usd=chosen_options.cost(count),
        source=info,
        actions=tuple(actions),
        engine=runner.name,
        source_estimate=source_estimate,
        findings=findings,
    )


def _read_all(source: SourceData) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return source.read_bytes()
    except OSError as error:
        raise SourceError(f"{source}: cannot read ({error.strerror or error})") from None


def _source_estimate(info: ImageInfo, options: Options) -> Estimate | None:
    """The source as the API would take it, under the same options."""
    if info.media_type is None or info.width is None or info.height is None:
        return None
    return estimate_with(info.width, info.height, options)


def decode_failure(
    data: bytes, info: ImageInfo, *, engine: str | None = None, pixel_cap: int = DEFAULT_PIXEL_CAP
) -> str | None:
    """Why `data` (an image of the four accepted formats) does not decode to
    its stated size, or None when it does: what check --decode asks."""
    return _decode_failure(engine_for(info, engine), data, info, pixel_cap)


def _decode_failure(runner: Engine, data: bytes, info: ImageInfo, pixel_cap: int) -> str | None:
    """Why `data` does not decode cleanly to its stated size, or None when
    it does: the same verdict whichever engine runs (every
    installed library that reads the format must decode every byte, the
    pixel cap, memory budget and probed size checked on what each is about
    to decode; preflight._imaging.engines.verification)."""
    try:
        verify_data(data, info, readers(info.format) or [runner], pixel_cap=pixel_cap)
    except DecodeError as error:
        return str(error)
    return None


def _can_pass_through(info: ImageInfo, wanted: tuple[int, int], limit: int, fmt: str) -> bool:
    return (
        info.media_type is not None
        and fmt in ("auto", info.format)
        and (info.display_width, info.display_height) == wanted
        and info.orientation == 1
        and not info.animated
        and info.mode not in ("CMYK", "YCCK")
        and not info.truncated
        and not info.missing_end_marker
        and base64_length(info.file_bytes) <= limit
    )


def _describe_transforms(
    info: ImageInfo, shown: tuple[int, int], wanted: tuple[int, int]
) -> list[Action]:
    actions: list[Action] = []
    if info.media_type is None:
        actions.append(
            Action("converted", f"converted from {info.format_label}, which the API refuses")
        )
    if info.animated:
        frames = f"{info.frames} frames" if info.frames else "an animation"
        actions.append(Action("first-frame", f"first frame of {frames} taken, as a still"))
    if info.orientation != 1:
        actions.append(
            Action("rotated", f"EXIF orientation {info.orientation} applied to the pixels")
        )
    if shown != wanted:
        actions.append(
            Action("resized", f"{shown[0]}x{shown[1]} -> {wanted[0]}x{wanted[1]} (aspect kept)")
        )
    if info.mode in ("CMYK", "YCCK"):
        actions.append(Action("color-converted", f"{info.mode} converted to sRGB"))
    elif info.has_icc_profile:
        actions.append(Action("color-converted", "ICC profile applied: converted to sRGB"))
    if info.bit_depth > 8:
        actions.append(Action("depth-reduced", f"{info.bit_depth}-bit samples reduced to 8-bit"))
    if info.truncated or info.missing_end_marker:
        actions.append(Action("reencoded", "re-encoded: the source did not end as it should"))
    return actions


def _auto_format(runner: Engine, pixels: Pixels, info: ImageInfo) -> str:
    """PNG for flat graphics, JPEG for photos; a lossy source stays lossy."""
    if info.format in _LOSSY_SOURCES:
        return "jpeg"
    sample, channels = runner.sample(pixels)
    return "png" if looks_flat(sample, channels) else "jpeg"


def _exact(runner: Engine, pixels: Pixels, width: int, height: int) -> Pixels:
    """The engines must deliver the core's size exactly; this holds them to it."""
    if runner.size(pixels) != (width, height):
        got = "{}x{}".format(*runner.size(pixels))
        raise EngineError(f"the {runner.name} engine produced {got}, not {width}x{height}")
    return pixels


def _fit_bytes(
    runner: Engine,
    pixels: Pixels,
    fmt: str,
    quality: int | None,
    limit: int,
    tier: Tier,
    actions: list[Action],
    *,
    may_switch_to_jpeg: bool,
) -> tuple[bytes, str, int, int]:
    """Encode within `limit` bytes of base64, at the size given if possible:
    a lossy format lowers its quality (bisection down to QUALITY_FLOOR); a PNG
    is quantized to a palette, then, when the format was chosen automatically
    and nothing is transparent, becomes a JPEG. Only then the dimensions shrink,
    with the size from the core. Returns the bytes, format and size."""
    start = quality or DEFAULT_QUALITY
    width, height = runner.size(pixels)
    data = runner.encode(pixels, fmt, start)
    if base64_length(len(data)) <= limit:
        actions.append(_encoded(fmt, start, data))
        return data, fmt, width, height
    budget = f"{limit:,} bytes of base64"
    if fmt == "png":
        packed = runner.encode(pixels, "png", start, palette=True)
        if base64_length(len(packed)) <= limit:
            actions.append(Action("palette", f"PNG quantized to 256 colours to fit {budget}"))
            actions.append(_encoded("png", start, packed))
            return packed, fmt, width, height
        if may_switch_to_jpeg:
            actions.append(Action("format-changed", f"PNG over {budget}: JPEG instead"))
            fmt, data = "jpeg", runner.encode(pixels, "jpeg", start)
            if base64_length(len(data)) <= limit:
                actions.append(_encoded(fmt, start, data))
                return data, fmt, width, height
    if fmt in ("jpeg", "webp"):
        best = _search_quality(runner, pixels, fmt, start, limit)
        if best is not None:
            q, data = best
            actions.append(Action("quality-lowered", f"quality {start} -> {q} to fit {budget}"))
            actions.append(_encoded(fmt, q, data))
            return data, fmt, width, height
    lossy = fmt in ("jpeg", "webp")
    floor = min(start, QUALITY_FLOOR) if lossy else start
    current = runner.encode(pixels, fmt, floor, palette=not lossy)
    while base64_length(len(current)) > limit and (width, height) != (1, 1):
        # Shrink by the square root of the overshoot (bytes grow with area),
        # with the geometry from the core: aspect kept, tier still fits.
        ratio = math.sqrt(limit / base64_length(len(current))) * _SHRINK_MARGIN
        box = (max(1, math.floor(width * ratio)), max(1, math.floor(height * ratio)))
        new_w, new_h = target_size(width, height, Target("box", box=box), tier=tier)
        if (new_w, new_h) == (width, height):  # rounding kept the size: one pixel less
            smaller = Target("box", box=(max(1, width - 1), max(1, height - 1)))
            new_w, new_h = target_size(width, height, smaller, tier=tier)
            if (new_w, new_h) == (width, height):
                break
        pixels = _exact(runner, runner.resize(pixels, new_w, new_h), new_w, new_h)
        width, height = new_w, new_h
        current = runner.encode(pixels, fmt, floor, palette=not lossy)
    if base64_length(len(current)) > limit:
        raise ByteBudgetError(f"no {fmt.upper()} encoding fits {budget}, even at {width}x{height}")
    if lossy and floor < start:
        actions.append(Action("quality-lowered", f"quality {start} -> {floor} to fit {budget}"))
    if not lossy:
        actions.append(Action("palette", f"PNG quantized to 256 colours to fit {budget}"))
    actions.append(Action("shrunk-for-bytes", f"shrunk to {width}x{height} to fit {budget}"))
    actions.append(_encoded(fmt, floor, current))
    return current, fmt, width, height


def _search_quality(
    runner: Engine, pixels: Pixels, fmt: str, start: int, limit: int
) -> tuple[int, bytes] | None:
    """The highest quality in [QUALITY_FLOOR, start) that fits, by bisection."""
    low, high = QUALITY_FLOOR, start - 1
    best: tuple[int, bytes] | None = None
    while low <= high:
        mid = (low + high) // 2
        data = runner.encode(pixels, fmt, mid)
        if base64_length(len(data)) <= limit:
            best = (mid, data)
            low = mid + 1
        else:
            high = mid - 1
    return best


def _encoded(fmt: str, quality: int, data: bytes) -> Action:
    how = f"{fmt.upper()} at quality {quality}" if fmt != "png" else "PNG (lossless)"
    return Action("reencoded", f"encoded as {how}: {len(data):,} bytes")
