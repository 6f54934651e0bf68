# The API's hard limits, checked on numbers only. Rules:
# - each check takes sizes and counts and returns findings (data), never raises
#   for an over-limit image;
# - the limits come from a Surface (preflight.core.tables); a limit the facts do not
#   give for a surface is None and is not checked;
# - messages are the API's own error messages (current docs), so a user who has
#   seen the API's 400 recognizes ours.

from __future__ import annotations

from collections.abc import Sequence

from preflight.core.findings import (
    ERROR,
    OVER_BYTE_LIMIT,
    OVER_MANY_IMAGES_SIDE,
    OVER_MAX_SIDE,
    OVERSIZED,
    REQUEST_TOO_LARGE,
    TOO_MANY_IMAGES,
    Finding,
)
from preflight.core.info import base64_length
from preflight.core.tables import MB, Surface


def dimension_findings(
    width: int, height: int, surface: Surface, images_in_request: int = 1
) -> list[Finding]:
    """Rejections for a side over the surface's pixel limits (vision guide)."""
    found: list[Finding] = []
    longest = max(width, height)
    if surface.max_side_px is not None and longest > surface.max_side_px:
        found.append(
            Finding(
                OVER_MAX_SIDE,
                ERROR,
                "At least one of the image dimensions exceed max allowed size: "
                f"{surface.max_side_px} pixels ({width}x{height})",
                f"downscale so both sides are at most {surface.max_side_px} px "
                "(preflight prepare does this)",
            )
        )
    elif (
        surface.many_images_threshold is not None
        and surface.many_images_max_side_px is not None
        and images_in_request > surface.many_images_threshold
        and longest > surface.many_images_max_side_px
    ):
        found.append(
            Finding(
                OVER_MANY_IMAGES_SIDE,
                ERROR,
                "At least one of the image dimensions exceed max allowed size for "
                f"many-image requests: {surface.many_images_max_side_px} pixels "
                f"({width}x{height}, {images_in_request} images in the request)",
                f"downscale to at most {surface.many_images_max_side_px} px a side, or send "
                f"at most {surface.many_images_threshold} images per request",
            )
        )
    return found


def oversized_findings(
    size: tuple[int, int], processed: tuple[int, int], tier: str, oversized: str
) -> list[Finding]:
    """Rejection for an image the API would resize, where oversized images
    are refused instead (oversized="error", see tables.OVERSIZED_POLICIES).
    The facts give no wording for this error: the message is ours."""
    if oversized != "error" or size == processed:
        return []
    return [
        Finding(
            OVERSIZED,
            ERROR,
            f"{size[0]}x{size[1]} is over what the {tier} tier keeps ({processed[0]}x"
            f"{processed[1]}), and oversized images are rejected here, not resized "
            '("oversized_image": "error", or a computer-use tool result)',
            f"resize to at most {processed[0]}x{processed[1]} first (preflight prepare does this)",
        )
    ]


def image_count_findings(images_in_request: int, surface: Surface) -> list[Finding]:
    """Too many images in one request (vision guide; counts every image block in
    the conversation, tool results included: current docs)."""
    if surface.max_images is not None and images_in_request > surface.max_images:
        return [
            Finding(
                TOO_MANY_IMAGES,
                ERROR,
                f"Too much media: 0 document pages + {images_in_request} images "
                f"> {surface.max_images}",
                f"split into requests of at most {surface.max_images} images "
                "(earlier turns and tool results count too)",
            )
        ]
    return []


def byte_findings(file_bytes: int, surface: Surface, max_bytes: int | None = None) -> list[Finding]:
    """Rejection for an image whose base64 text is over the per-image limit
    (current docs: the limit is measured on base64, 1 MB = 1,048,576 bytes)."""
    limit = surface.max_image_base64_bytes if max_bytes is None else max_bytes
    encoded = base64_length(file_bytes)
    if encoded <= limit:
        return []
    limit_label = f"{limit // MB} MB" if limit % MB == 0 else f"{limit} bytes"
    return [
        Finding(
            OVER_BYTE_LIMIT,
            ERROR,
            f"image exceeds {limit_label} maximum: {encoded} bytes > {limit} bytes",
            "re-encode or downscale (preflight prepare fits the base64 size under the limit); "
            "the limit applies to the base64 text, 4/3 of the file size",
        )
    ]


def request_size_findings(base64_bytes: Sequence[int], surface: Surface) -> list[Finding]:
    """Rejection of a whole request whose images' base64 text alone is over
    the surface's request body limit (vision guide: 32 MB; the API answers
    HTTP 413 request_too_large). The JSON and any text add to the body, so
    under the limit here is necessary, not sufficient."""
    total = sum(base64_bytes)
    limit = surface.max_request_bytes
    if limit is None or total <= limit:
        return []
    return [
        Finding(
            REQUEST_TOO_LARGE,
            ERROR,
            f"Request exceeds the maximum size: {len(base64_bytes)} images are {total} bytes "
            f"of base64 > {limit} bytes ({limit // MB} MB request limit)",
            "split the images over several requests, or shrink them (preflight prepare); "
            "the Files API takes larger uploads",
        )
    ]
