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
    BAD_BASE64,
    BAD_MEDIA_TYPE,
    CORRUPT,
    EMPTY,
    ERROR,
    MEDIA_TYPE_MISMATCH,
    MODEL_RETIRING,
    NOT_AN_IMAGE,
    OVER_BYTE_LIMIT,
    OVER_MANY_IMAGES_SIDE,
    OVER_MAX_SIDE,
    OVERSIZED,
    PDF_PAGES_UNKNOWN,
    REQUEST_TOO_LARGE,
    RETIRED_MODEL,
    RETIRED_ON_CLAUDE_API,
    TOO_MANY_IMAGES,
    TOO_MANY_PDF_PAGES,
    TRUNCATED,
    UNKNOWN_MODEL,
    UNSUPPORTED_FORMAT,
    URL_DISALLOWED,
    URL_UNREACHABLE,
    WARNING,
    Finding,
)
from preflight._core.findings import (
    UNDECODABLE as UNDECODABLE_DATA,
)
from preflight._core.info import base64_length
from preflight._core.options import Options
from preflight._core.tables import (
    CLOUD_SURFACES,
    CURRENT,
    MAX_PDF_PAGES,
    MB,
    MODELS,
    RETIRED,
    RETIREMENT_WARNING_DAYS,
    Model,
)
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
    # The API's words ("Vision coordinates"; API error messages observed in
    # 2026). In a request the API points at the image block itself.
    target = f"{processed[0]}x{processed[1]}"
    words = (
        f"image dimensions {size[0]}x{size[1]} exceed the maximum image size of a model named "
        f"on this request and would be downsized to {target}; scale the image to at most "
        f'{target} or set the image\'s oversized_image setting to "downsize"'
    )
    return Finding(
        OVERSIZED,
        ERROR,
        words,
        f"resize to at most {target} first (preflight prepare does this), "
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


def image_cap_exceeded(images: Any, options: Options, documents: Any = 0) -> Any:
    """Image and document blocks together over the cap (API error messages
    observed in 2026: "too many images and documents: N + M > cap")."""
    cap = options.max_images
    return False if cap is None else images + documents > cap


def image_cap_finding(images: int, options: Options, documents: int = 0) -> Finding:
    cap = options.max_images
    words = f"too many images and documents: {images} + {documents} > {cap}"
    return Finding(
        TOO_MANY_IMAGES,
        ERROR,
        words,
        f"split into requests of at most {cap} image and document blocks (earlier turns and "
        f"tool results count too; {options.model.name} takes {options.model.max_images})",
        api_text=words,
        api_pathless=True,
    )


def image_count_findings(images: int, options: Options, documents: int = 0) -> list[Finding]:
    if image_cap_exceeded(images, options, documents):
        return [image_cap_finding(images, options, documents)]
    return []


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
        api_pathless=True,
    )


# HTTP 413 request_too_large ("API overview"; docs/errors.md).
REQUEST_TOO_LARGE_WORDS = "Request exceeds the maximum size"


# --- the data of a base64 image (API error messages observed in 2026) ------------
# The API validates the declared media_type against its four literals before
# it looks at the data; then, per image: empty, base64, the data's format.

# The API's words for data it cannot decode (it prints no path with them).
UNDECODABLE = "Could not process image"
# The API's words for a media type outside the four.
MEDIA_TYPE_WORDING = "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
EMPTY_WORDS = "image cannot be empty"
INVALID_BASE64_WORDS = "invalid base64 data"


def bad_media_type_finding(declared: str, actual: str | None, what: str = "") -> Finding:
    """A declared media type that is not one of the four the API takes;
    `what` names the data when it is no image the API takes (a PDF, ...)."""
    detail = f" ({what})" if what else ""
    return Finding(
        BAD_MEDIA_TYPE,
        ERROR,
        f"declared media type {declared!r}{detail}: {MEDIA_TYPE_WORDING}",
        f"declare {actual}"
        if actual is not None
        else "convert the data to JPEG or PNG and declare its media type "
        "(preflight prepare converts it)",
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


def empty_data_finding() -> Finding:
    return Finding(
        EMPTY,
        ERROR,
        f"{EMPTY_WORDS}: the data is empty",
        "put the image's base64 text in data (or remove the block)",
        api_text=EMPTY_WORDS,
    )


def invalid_base64_finding(prefixed: bool) -> Finding:
    """Data that is not base64 text; `prefixed`: it starts like a data: URL."""
    detail = (
        "the data keeps a data: URL prefix (data:<type>;base64,)"
        if prefixed
        else "only A-Z a-z 0-9 + / and final = padding, in groups of 4"
    )
    return Finding(
        BAD_BASE64,
        ERROR,
        f"{INVALID_BASE64_WORDS}: {detail}",
        "send base64.b64encode(file bytes) alone"
        + (" (preflight prepare_request strips the prefix)" if prefixed else ""),
        api_text=INVALID_BASE64_WORDS,
    )


def unsupported_format_finding(declared: str, format_label: str) -> Finding:
    """Data of a format the API does not take (ICO, TIFF, HEIC, PDF ...)
    declared as one of the four: the API names the declared type."""
    words = f"Image format {declared} not supported"
    return Finding(
        UNSUPPORTED_FORMAT,
        ERROR,
        f"{words}: the data is {format_label}, declared {declared}",
        "convert to JPEG or PNG (preflight prepare converts it)",
        api_text=words,
    )


def header_failure_finding(error: HeaderError) -> Finding:
    """Data that cannot be read as an image at all: the API cannot decode
    it and says so without a path (empty data has words of its own)."""
    if error.code == EMPTY:
        words = f"{EMPTY_WORDS}: the file is empty"
        return Finding(EMPTY, ERROR, words, "re-export the image", api_text=EMPTY_WORDS)
    if error.code == TRUNCATED:
        code, fix = TRUNCATED, "the file is cut short: re-export it"
    elif error.code == NOT_AN_IMAGE:
        code, fix = NOT_AN_IMAGE, "send a JPEG, PNG, GIF or WebP image"
    else:  # corrupt, header-too-large: the header cannot be read.
        code, fix = CORRUPT, "re-export the image"
    return Finding(
        code, ERROR, f"{UNDECODABLE}: {error}", fix, api_text=UNDECODABLE, api_pathless=True
    )


def undecodable_finding(format_label: str, failure: str) -> Finding:
    """A header that reads over data that does not decode (check --decode)."""
    return Finding(
        UNDECODABLE_DATA,
        ERROR,
        f"{UNDECODABLE}: the {format_label} header reads, its data does not decode ({failure})",
        "export the image again (preflight prepare re-encodes what still decodes)",
        api_text=UNDECODABLE,
        api_pathless=True,
    )


# --- PDF documents (API error messages observed in 2026) ---------------------------


def pdf_pages_exceeded(pages: int) -> bool:
    return pages > MAX_PDF_PAGES


def pdf_pages_finding(pages: int) -> Finding:
    words = f"A maximum of {MAX_PDF_PAGES} PDF pages may be provided."
    return Finding(
        TOO_MANY_PDF_PAGES,
        ERROR,
        f"{words} (this PDF has {pages} pages)",
        f"split the PDF into parts of at most {MAX_PDF_PAGES} pages, one document block each",
        api_text=words,
    )


def pdf_pages_unknown_finding(reason: str) -> Finding:
    return Finding(
        PDF_PAGES_UNKNOWN,
        WARNING,
        f"the PDF's pages were not counted ({reason}): the {MAX_PDF_PAGES}-page limit is "
        "not checked",
        "install the pdf extra (pip install 'preflight[pdf]') to count pages"
        if "pypdf" in reason
        else "check that the PDF opens; the API counts its pages when it is sent",
    )


# --- url sources the API fetches (API error messages observed in 2026) --------------

URL_DISALLOWED_WORDS = "This URL is disallowed by the website's robots.txt file."
URL_UNREACHABLE_WORDS = "Unable to download the file"


def url_disallowed_finding(url: str) -> Finding:
    return Finding(
        URL_DISALLOWED,
        ERROR,
        f"{URL_DISALLOWED_WORDS} ({url})",
        "download the image yourself and send it as base64 (or through the Files API)",
        api_text=URL_DISALLOWED_WORDS,
        api_pathless=True,
    )


def url_unreachable_finding(url: str, detail: str = "") -> Finding:
    extra = f": {detail}" if detail else ""
    return Finding(
        URL_UNREACHABLE,
        ERROR,
        f"{URL_UNREACHABLE_WORDS} ({url}{extra})",
        "check that the URL is public and answers; or send the image as base64",
        api_text=URL_UNREACHABLE_WORDS,
        api_pathless=True,
    )


# --- the model (model pages; SDK 2.17) ----------------------------------------------------


def model_findings(options: Options) -> list[Finding]:
    """A retired model (the API refuses the request before it looks at an
    image), or one retiring within RETIREMENT_WARNING_DAYS, on
    options.current_date. Opus 4 and 4.1 are retired on the Claude API only:
    elsewhere a warning."""
    model = options.model
    if model.retires_on is None and model.lifecycle != RETIRED:
        return []  # the common case, without reading the date
    today = options.current_date
    name = model.name
    if model.lifecycle_on(today) == RETIRED:
        when = f" on {model.retires_on.isoformat()}" if model.retires_on is not None else ""
        fix = f"name a current model ({_successor_hint(model)})"
        if model.clouds_may_serve and options.surface.name in CLOUD_SURFACES:
            return [
                Finding(
                    RETIRED_ON_CLAUDE_API,
                    WARNING,
                    f"{name} is retired on the Claude API; some clouds still serve it "
                    f"(which ones is not documented: check that {options.surface.name} does)",
                    fix,
                    path="model",
                )
            ]
        return [
            Finding(
                RETIRED_MODEL,
                ERROR,
                f"{name} was retired{when}: the API refuses the request (not found) "
                "before it looks at any image",
                fix,
                path="model",
            )
        ]
    left = model.days_left(today)
    if left is not None and left <= RETIREMENT_WARNING_DAYS:
        assert model.retires_on is not None
        return [
            Finding(
                MODEL_RETIRING,
                WARNING,
                f"{name} retires on {model.retires_on.isoformat()} ({left} days from "
                f"{today.isoformat()}): requests naming it fail from that day",
                f"move to a current model ({_successor_hint(model)})",
                path="model",
            )
        ]
    return []


def _successor_hint(model: Model) -> str:
    """A same-family model that is not retired, from the table, as a hint."""
    family = next((w for w in ("opus", "sonnet", "haiku") if w in model.name), None)
    for candidate in MODELS.values():
        if (
            family is not None
            and family in candidate.name
            and candidate.lifecycle == CURRENT
            and candidate.retires_on is None
        ):
            return f"e.g. {candidate.name}"
    return "see docs/models.md"


def unknown_model_finding(name: str, model: Model) -> Finding:
    return Finding(
        UNKNOWN_MODEL,
        WARNING,
        f"model {name!r} is not in preflight's table: the cautious limits are assumed "
        f"({model.max_images} images, {model.tier if isinstance(model.tier, str) else 'its'} "
        "tier) and no price",
        "check the model's name; pass model= and price_per_mtok= (--model, --price), or "
        "add it under [tool.preflight.models]",
        path="model",
    )
