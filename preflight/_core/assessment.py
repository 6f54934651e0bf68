"""Every way the API would reject or resize an image, from its header facts.

Rules:
- pure: an ImageInfo (or the facts in one) in, findings out; no file access;
- errors are what the API rejects, warnings what it accepts but changes or
  may misread, info what is harmless but worth knowing (see findings.py);
- the API looks at the stored pixels, not at EXIF metadata (vision guide), so
  limits and resizing use the stored width and height; the small-side
  warning uses the displayed size, which is what a viewer judges by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from preflight._core.estimation import Estimate, estimate_with
from preflight._core.findings import (
    ALPHA,
    ANIMATED,
    CMYK,
    ERROR,
    EXIF_ROTATION,
    HIGH_BIT_DEPTH,
    INFO,
    INTERLACED,
    MISSING_END_MARKER,
    PROGRESSIVE,
    SEVERITIES,
    SMALL_SIDE,
    TRUNCATED,
    UNSUPPORTED_FORMAT,
    WARNING,
    WILL_RESIZE,
    Finding,
)
from preflight._core.formats import ACCEPTED_MEDIA_TYPES, media_type_for_path
from preflight._core.geometry import TOKEN_COUNTERS
from preflight._core.info import ImageInfo, base64_length
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import (
    MEDIA_TYPE_WORDING,
    UNDECODABLE,
    bad_media_type_finding,
    byte_findings,
    image_count_findings,
    media_type_mismatch_finding,
    request_bytes_exceeded,
    request_bytes_finding,
)
from preflight._core.tables import SMALL_SIDE_PX

if TYPE_CHECKING:
    from typing_extensions import Unpack


_ORIENTATION_WORDS = {
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "mirrored and rotated 90°",
    6: "rotated 90° (clockwise to view)",
    7: "mirrored and rotated 270°",
    8: "rotated 270° (counter-clockwise to view)",
}


def assess(
    info: ImageInfo,
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> tuple[Estimate | None, list[Finding]]:
    """The estimate for the image (None when the API cannot take it at all)
    and every finding, errors first."""
    chosen = make_options(options, **keywords)
    found: list[Finding] = []
    declared = declared_media_type
    if declared is None and info.path is not None:
        declared = media_type_for_path(info.path)

    if info.media_type is None:
        found.append(
            Finding(
                UNSUPPORTED_FORMAT,
                ERROR,
                f"{info.format_label} is not accepted: {MEDIA_TYPE_WORDING}",
                "convert to JPEG or PNG (preflight prepare converts it)",
            )
        )
    elif declared is not None and declared not in ACCEPTED_MEDIA_TYPES:
        found.append(bad_media_type_finding(declared, info.media_type))
    elif declared is not None and declared != info.media_type:
        found.append(media_type_mismatch_finding(declared, info.media_type))
    if info.truncated:
        found.append(
            Finding(
                TRUNCATED,
                ERROR,
                f"{UNDECODABLE}: the {info.format_label} data is cut short "
                f"({_cut_short_words(info)})",
                "the file is incomplete: download or export it again",
                api_text=UNDECODABLE,
            )
        )
    found += byte_findings(info.file_bytes, chosen)

    result: Estimate | None = None
    if info.width is not None and info.height is not None:
        result = estimate_with(info.width, info.height, chosen)
        found += result.findings
    else:
        found += image_count_findings(chosen.images_in_request, chosen)
    if info.media_type is None:
        return None, found

    if result is not None and result.resized and not result.rejected:
        found.append(_resize_warning(info, result))
    found += _quality_findings(info)
    found.sort(key=lambda f: SEVERITIES.index(f.severity))  # stable: errors first
    return result, found


def check(
    info: ImageInfo,
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> list[Finding]:
    """Every finding about an image, errors first. Pure: no I/O.

    `declared_media_type` is the media type the request will declare; when
    None it is taken from the file extension of `info.path`, if any.
    """
    return assess(info, options, declared_media_type=declared_media_type, **keywords)[1]


def request_findings(
    base64_sizes: Sequence[int], options: Options | None = None, **keywords: Unpack[OptionKeywords]
) -> list[Finding]:
    """Findings about one request as a whole, given the base64 size of every
    image in it (earlier turns included): too many images for the model, or
    more base64 than the request body may hold. Per-image rules, the
    many-image side limit among them, are check()'s, with images_in_request
    set to the same count. The JSON around the images adds to the body, so
    under the limit here is necessary, not sufficient."""
    chosen = make_options(options, **keywords)
    found = image_count_findings(len(base64_sizes), chosen)
    total = sum(base64_sizes)
    if request_bytes_exceeded(total, chosen):
        what = f"the base64 of {len(base64_sizes)} images alone"
        found.append(request_bytes_finding(total, chosen, what))
    return found


def _resize_warning(info: ImageInfo, result: Estimate) -> Finding:
    assert info.width is not None and info.height is not None
    before = TOKEN_COUNTERS[result.rule](info.width, info.height)
    kept = (result.processed_width * result.processed_height) / (info.width * info.height)
    wasted = int(base64_length(info.file_bytes) * (1 - kept))
    return Finding(
        WILL_RESIZE,
        WARNING,
        f"the API will resize {info.width}x{info.height} to "
        f"{result.processed_width}x{result.processed_height} ({result.tier} tier): "
        f"{before} -> {result.tokens} tokens ({result.rule} rule); about "
        f"{_human_bytes(wasted)} of the upload carries detail the model never sees",
        f"resize client-side to {result.processed_width}x{result.processed_height} "
        "(preflight prepare) to save upload time and time-to-first-token",
    )


def _quality_findings(info: ImageInfo) -> list[Finding]:
    found: list[Finding] = []
    shown_w, shown_h = info.display_width, info.display_height
    if shown_w is not None and shown_h is not None and min(shown_w, shown_h) < SMALL_SIDE_PX:
        found.append(
            Finding(
                SMALL_SIDE,
                WARNING,
                f"{shown_w}x{shown_h}: a side under {SMALL_SIDE_PX} px may degrade output quality",
                "send a larger original if there is one (upscaling adds no detail)",
            )
        )
    if info.orientation != 1:
        found.append(
            Finding(
                EXIF_ROTATION,
                WARNING,
                f"EXIF orientation {info.orientation}: the image is shown "
                f"{_ORIENTATION_WORDS.get(info.orientation, 'transformed')}, but the model does "
                "not read image metadata and sees the stored pixels",
                "apply the rotation to the pixels (preflight prepare does)",
            )
        )
    if info.missing_end_marker:
        found.append(
            Finding(
                MISSING_END_MARKER,
                WARNING,
                _MISSING_END_WORDS.get(info.format, _MISSING_END_WORDS["gif"]).format(
                    info.format_label
                ),
                "if the image looks cut off, export it again; preflight prepare re-encodes it "
                "without the extra data",
            )
        )
    if info.animated:
        frames = f"{info.frames} frames" if info.frames else "several frames"
        found.append(
            Finding(
                ANIMATED,
                WARNING,
                f"animated {info.format_label} ({frames}): the vision guide does not say which "
                "frame the model sees",
                "send the frame you mean as a still image (preflight prepare takes the first)",
            )
        )
    if info.progressive:
        found.append(
            Finding(
                PROGRESSIVE,
                INFO,
                "progressive JPEG: accepted as it is (noted for pipelines that want baseline)",
            )
        )
    if info.mode in ("CMYK", "YCCK"):
        found.append(
            Finding(
                CMYK,
                INFO,
                f"{info.mode} JPEG: colours depend on the decoder",
                "convert to sRGB (preflight prepare does)",
            )
        )
    if info.bit_depth > 8:
        found.append(
            Finding(
                HIGH_BIT_DEPTH,
                INFO,
                f"{info.bit_depth} bits per sample: accepted; the facts do not say that the "
                "extra precision reaches the model, and it costs upload bytes",
                "reduce to 8 bits per sample (preflight prepare does)",
            )
        )
    if info.interlaced:
        kind = "Adam7-interlaced" if info.format == "png" else "interlaced"
        found.append(
            Finding(
                INTERLACED,
                INFO,
                f"{kind} {info.format_label}: accepted as it is; interlacing makes the file "
                "larger and helps only slow progressive display",
            )
        )
    if info.has_alpha:
        found.append(
            Finding(
                ALPHA,
                INFO,
                "has transparency: what shows through depends on the background it is drawn on",
            )
        )
    return found


def _cut_short_words(info: ImageInfo) -> str:
    if info.file_bytes < info.min_file_bytes:  # headers.end_state
        return (
            f"{info.file_bytes:,} bytes cannot hold the pixels of a {info.width}x{info.height} "
            f"frame: at least {info.min_file_bytes:,} at the format's best compression"
        )
    return _CUT_SHORT_WORDS.get(info.format, "the file ends too soon")


_CUT_SHORT_WORDS = {
    "png": "the file ends before its end chunk",
    "jpeg": "the file ends inside its pixel data, with no end marker",
    "webp": "the file is shorter than its RIFF header says",
}

# A JPEG is read whole to tell the two cases apart (probe): what is left is
# data after the image, or a file too large to read whole. A GIF is not.
_MISSING_END_WORDS = {
    "jpeg": (
        "the {} data does not end with its end marker: data follows the image (phones "
        "append a video to motion photos; decoders ignore it, the upload still carries it)"
    ),
    "gif": (
        "the {} data does not end with its end marker: the file may be cut short "
        "(decoders then fail), or carry data appended after the image"
    ),
}


def _human_bytes(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
