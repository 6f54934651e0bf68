"""The API's limits, each written once.

Rules:
- a limit is a predicate over numbers (`*_exceeded`), written with
  operators that mean the same on Python ints and numpy arrays, so the
  scalar core and the vectorized planner ask the same question; a limit the
  facts do not give for a surface is None and never exceeded;
- next to each predicate, the finding it yields (data, never an exception),
  in the API's own words (docs/errors.md) so that a user who has seen the
  API's 400 recognizes ours; `fix` says what to do;
- which size rejection wins is decided here once (size_findings): the
  8000 px limit, then the many-image limit, then the oversized policy;
- each finding carries `api_text`, the API's words alone (without
  preflight's detail), so that a finding placed in a request body
  (check_request) gives the API's "{path}: {text}" exactly.
"""

from __future__ import annotations

from typing import Any

from preflight._core.findings import (
    BAD_MEDIA_TYPE,
    CORRUPT,
    EMPTY,
    ERROR,
    MEDIA_TYPE_MISMATCH,
    NOT_AN_IMAGE,
    OVER_BYTE_LIMIT,
    OVER_MANY_IMAGES_SIDE,
    OVER_MAX_SIDE,
    OVERSIZED,
    REQUEST_TOO_LARGE,
    TOO_MANY_IMAGES,
    TRUNCATED,
    Finding,
)
from preflight._core.findings import (
    UNDECODABLE as UNDECODABLE_DATA,
)
from preflight._core.info import base64_length
from preflight._core.options import Options
from preflight._core.tables import MB
from preflight.errors import HeaderError

# --- 8000 px ("Vision") ---------------------------------------------------------


def max_side_exceeded(longest: Any, options: Options) -> Any:
    limit = options.surface.max_side_px
    return False if limit is None else longest > limit


def max_side_finding(width: int, height: int, options: Options) -> Finding:
    limit = options.surface.max_side_px
    words = f"At least one of the image dimensions exceed max allowed size: {limit} pixels"
    return Finding(
        OVER_MAX_SIDE,
        ERROR,
        f"{words} ({width}x{height})",
        f"downscale so both sides are at most {limit} px (preflight prepare does this)",
        api_text=words,
    )


# --- 2000 px in requests of more than 20 images ("Vision") -----------------------


def many_images_rule_applies(options: Options) -> bool:
    surface = options.surface
    return (
        surface.many_images_threshold is not None
        and surface.many_images_max_side_px is not None
        and options.images_in_request > surface.many_images_threshold
    )


def many_images_side_limit(options: Options) -> int | None:
    """The side limit the many-image rule puts on every image of this request."""
    return options.surface.many_images_max_side_px if many_images_rule_applies(options) else None


def many_images_side_exceeded(longest: Any, options: Options) -> Any:
    limit = many_images_side_limit(options)
    return False if limit is None else longest > limit


def many_images_side_finding(width: int, height: int, options: Options) -> Finding:
    surface = options.surface
    words = (
        "At least one of the image dimensions exceed max allowed size for many-image "
        f"requests: {surface.many_images_max_side_px} pixels"
    )
    return Finding(
        OVER_MANY_IMAGES_SIDE,
        ERROR,
        f"{words} ({width}x{height}, {options.images_in_request} images in the request)",
        f"downscale to at most {surface.many_images_max_side_px} px a side, or send at most "
        f"{surface.many_images_threshold} images per request (earlier turns and tool "
        "results count)",
        api_text=words,
    )


# --- oversized images ("Vision coordinates") --------------------------------------


def oversized_rejected(resized: Any, options: Options) -> Any:
    """An image the API would resize is refused instead under "error"."""
    return resized & (options.oversized == "error")


def oversized_finding(
    size: tuple[int, int], processed: tuple[int, int], options: Options
) -> Finding:
    # The API's message begins with these words ("Vision coordinates"); what
    # follows them is not documented, so the message ends there.
    words = (
        f"image dimensions {size[0]}x{size[1]} exceed the maximum image size of a model named "
        f"on this request and would be downsized to {processed[0]}x{processed[1]}"
    )
    return Finding(
        OVERSIZED,
        ERROR,
        words,
        f"resize to at most {processed[0]}x{processed[1]} first (preflight prepare does this), "
        'or drop "oversized_image": "error"',
        api_text=words,
    )


def size_findings(
    width: int, height: int, processed: tuple[int, int], options: Options
) -> list[Finding]:
    """The one size rejection the API answers with, if any: a side over the
    pixel limit is refused as that, whatever the oversized policy."""
    longest = max(width, height)
    if max_side_exceeded(longest, options):
        return [max_side_finding(width, height, options)]
    if many_images_side_exceeded(longest, options):
        return [many_images_side_finding(width, height, options)]
    if oversized_rejected(processed != (width, height), options):
        return [oversized_finding((width, height), processed, options)]
    return []


def size_rejected(longest: Any, resized: Any, options: Options) -> Any:
    """size_findings() as a predicate, for arrays (the planner)."""
    return (
        max_side_exceeded(longest, options)
        | many_images_side_exceeded(longest, options)
        | oversized_rejected(resized, options)
    )


# --- image cap per request ("Vision": 100 or 600 by model; 20 on claude.ai) --------


def image_cap_exceeded(images: int, options: Options) -> bool:
    cap = options.max_images
    return cap is not None and images > cap


def image_cap_finding(images: int, options: Options, document_pages: int = 0) -> Finding:
    cap = options.max_images
    words = f"Too much media: {document_pages} document pages + {images} images > {cap}"
    return Finding(
        TOO_MANY_IMAGES,
        ERROR,
        words,
        f"split into requests of at most {cap} images (earlier turns and tool results count "
        f"too; {options.model.name} takes {options.model.max_images})",
        api_text=words,
    )


def image_count_findings(images: int, options: Options) -> list[Finding]:
    return [image_cap_finding(images, options)] if image_cap_exceeded(images, options) else []


# --- bytes per image, measured on base64 ("Vision", current docs) ------------------


def image_bytes_exceeded(base64_bytes: Any, options: Options) -> Any:
    return base64_bytes > options.max_image_bytes


def byte_limit_label(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit} bytes"


def image_bytes_finding(base64_bytes: int, options: Options) -> Finding:
    limit = options.max_image_bytes
    words = f"image exceeds {byte_limit_label(limit)} maximum: {base64_bytes} bytes > {limit} bytes"
    return Finding(
        OVER_BYTE_LIMIT,
        ERROR,
        words,
        "re-encode or downscale (preflight prepare fits the base64 size under the limit); "
        "the limit applies to the base64 text, 4/3 of the file size",
        api_text=words,
    )


def byte_findings(file_bytes: int, options: Options) -> list[Finding]:
    encoded = base64_length(file_bytes)
    if image_bytes_exceeded(encoded, options):
        return [image_bytes_finding(encoded, options)]
    return []


# --- the request body ("API overview": 413 request_too_large) ------------------------


def request_bytes_exceeded(body_bytes: int, options: Options) -> bool:
    limit = options.max_request_bytes
    return limit is not None and body_bytes > limit


def request_bytes_finding(body_bytes: int, options: Options, what: str = "the body") -> Finding:
    limit = options.max_request_bytes
    assert limit is not None
    return Finding(
        REQUEST_TOO_LARGE,
        ERROR,
        f"{REQUEST_TOO_LARGE_WORDS}: {what} is {body_bytes} bytes > {limit} bytes "
        f"({byte_limit_label(limit)} request limit on {options.surface.name})",
        "split the images over several requests, or shrink them (preflight prepare); "
        "the Files API takes larger uploads",
        api_text=REQUEST_TOO_LARGE_WORDS,
    )


# HTTP 413 request_too_large ("API overview"; docs/errors.md).
REQUEST_TOO_LARGE_WORDS = "Request exceeds the maximum size"


# --- media types and undecodable data (live API behaviour, docs/errors.md) -----------

# The API's words for data it cannot decode.
UNDECODABLE = "Could not process image"
# The API's words for a media type outside the four.
MEDIA_TYPE_WORDING = "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"


def bad_media_type_finding(declared: str, actual: str | None) -> Finding:
    """A declared media type that is not one of the four the API takes."""
    return Finding(
        BAD_MEDIA_TYPE,
        ERROR,
        f"declared media type {declared!r}: {MEDIA_TYPE_WORDING}",
        f"declare {actual}" if actual is not None else "declare one of the four media types",
        api_text=MEDIA_TYPE_WORDING,
    )


def media_type_mismatch_finding(declared: str, actual: str) -> Finding:
    """A declared media type that is not the data's."""
    words = (
        f"The image was specified using the {declared} media type, but the image "
        f"appears to be a {actual} image"
    )
    return Finding(
        MEDIA_TYPE_MISMATCH,
        ERROR,
        words,
        f"declare {actual}, or rename the file to match its content",
        api_text=words,
    )


def header_failure_finding(error: HeaderError) -> Finding:
    """Data that cannot be read as an image at all: the API cannot decode it."""
    # The error's codes and the findings' are the same words.
    if error.code == EMPTY:
        code, detail, fix = EMPTY, "the file is empty", "re-export the image"
    elif error.code == TRUNCATED:
        code, detail, fix = TRUNCATED, str(error), "the file is cut short: re-export it"
    elif error.code == NOT_AN_IMAGE:
        code, detail, fix = NOT_AN_IMAGE, str(error), "send a JPEG, PNG, GIF or WebP image"
    else:  # corrupt, header-too-large: the header cannot be read.
        code, detail, fix = CORRUPT, str(error), "re-export the image"
    return Finding(code, ERROR, f"{UNDECODABLE}: {detail}", fix, api_text=UNDECODABLE)


def undecodable_finding(format_label: str, failure: str) -> Finding:
    """A header that reads over data that does not decode (check --decode)."""
    return Finding(
        UNDECODABLE_DATA,
        ERROR,
        f"{UNDECODABLE}: the {format_label} header reads, its data does not decode ({failure})",
        "export the image again (preflight prepare re-encodes what still decodes)",
        api_text=UNDECODABLE,
    )
