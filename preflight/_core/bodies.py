"""check_request(): a whole Messages request body in, what the API would say about it out.

Rules:
- the body is walked as the API walks it: `system`, every message's
  `content` (a string or a list of blocks), images nested in `tool_result`
  content, `document` blocks; every image block counts toward the
  many-image rule and the image cap, wherever it sits (docs/limits.md);
- pure: no file or network access and no image library. base64 data is
  decoded only as far as the header parser asks (a prefix, in whole
  4-character groups, grown on NeedMore; plus the last bytes, for a file
  cut short). A `url` or `file` image is read only through the caller's
  resolver, a function passed in; without one it is counted, not checked;
- every limit is core/rules' (and assess()'s): nothing is written twice
  here; each finding is placed at the API's dotted path (docs/errors.md);
- a malformed body (not JSON, not an object, wrong types anywhere) gives
  findings, never an exception; only the caller's own mistakes (bad
  options) raise UsageError.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight._core.assessment import assess
from preflight._core.cost import exact_cost, plain_decimal
from preflight._core.findings import (
    BAD_MEDIA_TYPE,
    CORRUPT,
    ERROR,
    INFO,
    MALFORMED_REQUEST,
    MEDIA_TYPE_MISMATCH,
    NOT_AN_IMAGE,
    NOT_CHECKED_OFFLINE,
    OVER_BYTE_LIMIT,
    OVER_MANY_IMAGES_SIDE,
    OVER_MAX_SIDE,
    OVERSIZED,
    REQUEST_TOO_LARGE,
    RETIRED_MODEL,
    SOURCE_NOT_ACCEPTED,
    TOO_MANY_IMAGES,
    TRUNCATED,
    UNDECODABLE,
    UNSUPPORTED_FORMAT,
    WARNING,
    Finding,
    has_error,
)
from preflight._core.formats import ACCEPTED_MEDIA_TYPES
from preflight._core.geometry import TOKEN_COUNTERS, api_size
from preflight._core.headers import FIRST_READ, TAIL_READ, NeedMore, end_state, parse
from preflight._core.info import ImageInfo, base64_length
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import (
    bad_media_type_finding,
    empty_data_finding,
    header_failure_finding,
    image_bytes_exceeded,
    image_bytes_finding,
    image_count_findings,
    invalid_base64_finding,
    model_findings,
    pdf_pages_exceeded,
    pdf_pages_finding,
    pdf_pages_unknown_finding,
    request_bytes_exceeded,
    request_bytes_finding,
    unknown_model_finding,
    unsupported_format_finding,
    url_disallowed_finding,
    url_unreachable_finding,
)
from preflight._core.tables import OVERSIZED_POLICIES, cautious_model
from preflight.errors import HeaderError, InvalidArgumentError, PreflightError, UnknownNameError

if TYPE_CHECKING:
    from typing_extensions import Unpack


@dataclass(frozen=True)
class Refusal:
    """What a resolver returns for a source the API would refuse to fetch:
    `reason` "robots" (the site's robots.txt disallows it) or "download"
    (it cannot be downloaded); `detail` says what was seen."""

    reason: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.reason not in REFUSAL_REASONS:
            raise InvalidArgumentError(
                f"Refusal reason must be one of {', '.join(REFUSAL_REASONS)}, got {self.reason!r}"
            )


REFUSAL_REASONS = ("robots", "download")

# (kind, reference) -> the image's bytes, or its header facts (an ImageInfo,
# for a resolver that reads only the header: preflight._requests.fetching),
# a Refusal (the API would not get them), or None when it cannot say: kind
# is "url" (reference: the URL) or "file" (reference: the Files API id). A
# HeaderError it raises is data that is no readable image (a finding).
Resolver = Callable[[str, str], "bytes | ImageInfo | Refusal | None"]

# Tool types of the computer-use tool are versioned ("computer_20250124");
# the browser-use tool's type is not in the facts, so any type starting with
# "browser" is taken for it. Without a `tools` entry for the tool's name,
# the names the tools go by are used.
COMPUTER_USE_TYPE_PREFIXES = ("computer_", "browser")
COMPUTER_USE_NAMES = frozenset({"computer", "browser"})

_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_TAIL_CHARS = -(-TAIL_READ // 3) * 4 + 4  # whole groups covering the last TAIL_READ bytes
ROLES = ("user", "assistant")


@dataclass(frozen=True)
class RequestImage:
    """One image block of a request, as the API would take it."""

    path: str  # the block's dotted path: "messages.3.content.1.image"
    location: tuple[str | int, ...]  # keys from the body down to the block
    turn: int | None  # index of its message
    source_kind: str  # "base64", "url", "file", or "" when the source is unreadable
    checked: bool  # False: a url or file image not resolved, or unreadable data
    media_type: str | None = None  # as declared (base64 sources)
    format: str | None = None  # what the data is, when read
    width: int | None = None
    height: int | None = None
    processed_width: int | None = None  # what the API would process
    processed_height: int | None = None
    base64_bytes: int | None = None  # the length of the base64 text as sent
    tokens: int = 0  # at the processed size, if the request passes; 0 when unknown
    digest: str | None = None  # sha256 of the base64 text (or "url:..."/"file:...")
    duplicate_of: str | None = None  # path of an earlier block with the same content
    oversized: str = "downsize"  # what the API does with it when over the tier's size
    computer_use: bool = False  # in a tool_result answering a computer-use tool
    findings: tuple[Finding, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return has_error(self.findings)

    @property
    def resized(self) -> bool:
        return self.processed_width is not None and (
            (self.processed_width, self.processed_height) != (self.width, self.height)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "turn": self.turn,
            "source": self.source_kind,
            "checked": self.checked,
            "media_type": self.media_type,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "processed_width": self.processed_width,
            "processed_height": self.processed_height,
            "base64_bytes": self.base64_bytes,
            "tokens": self.tokens,
            "duplicate_of": self.duplicate_of,
            "oversized": self.oversized,
            "computer_use": self.computer_use,
            "rejected": self.rejected,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class RequestReport:
    """What the API would say about a whole request, and what its images cost.

    Token totals are what the images would be billed if the request passed
    (a rejected request bills nothing). `image_tokens` counts every image
    block, as the API bills every block it is sent; `distinct_*` count each
    content once, to show what sending a repeated image once would save.
    """

    rejected: bool
    findings: tuple[Finding, ...]
    images: tuple[RequestImage, ...]
    documents: int
    image_tokens: int
    tokens_per_turn: tuple[tuple[int | None, int], ...]
    distinct_images: int
    distinct_image_tokens: int
    cost_usd: Decimal | None
    batch_cost_usd: Decimal | None
    body_bytes: int | None  # compact JSON, as the SDK sends it; None: not serializable
    options: Options

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    @property
    def unchecked(self) -> int:
        return sum(not image.checked for image in self.images)

    @property
    def max_request_bytes(self) -> int | None:
        return self.options.max_request_bytes

    @property
    def api_error(self) -> ApiError | None:
        """The error response the API would return, or None when it would
        accept the request (see api_error())."""
        return api_error(self.findings, self.images, self.options)

    def to_dict(self) -> dict[str, object]:
        error = self.api_error
        return {
            "rejected": self.rejected,
            "api_error": None if error is None else error.to_dict(),
            "model": self.options.model.name,
            "surface": self.options.surface.name,
            "images": len(self.images),
            "documents": self.documents,
            "unchecked": self.unchecked,
            "image_tokens": self.image_tokens,
            "tokens_per_turn": [
                {"turn": turn, "tokens": tokens} for turn, tokens in self.tokens_per_turn
            ],
            "distinct_images": self.distinct_images,
            "distinct_image_tokens": self.distinct_image_tokens,
            "cost_usd": exact_cost(self.cost_usd),
            "batch_cost_usd": exact_cost(self.batch_cost_usd),
            "price_note": self.options.price_note,
            "body_bytes": self.body_bytes,
            "max_request_bytes": self.max_request_bytes,
            "findings": [f.to_dict() for f in self.findings],
            "image_details": [image.to_dict() for image in self.images],
        }


# --- the API's one answer ---------------------------------------------------------


@dataclass(frozen=True)
class DimensionDetails:
    """`error.details` of a dimension error, as SDK 2.17 reads it
    (anthropic.types.ImageDimensionsTooLargeError): the largest side allowed
    and the block path of every image over the limit, in body order."""

    max_side_length_pixels: int
    paths: tuple[str, ...]
    error_code: str = "image_dimensions_too_large"

    def to_dict(self) -> dict[str, object]:
        return {
            "error_code": self.error_code,
            "max_side_length_pixels": self.max_side_length_pixels,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class ApiError:
    """The error response the API would return: HTTP `status` and the JSON
    `body` ({"type": "error", "error": {"type", "message", "details"?}});
    `finding` is the finding it reports."""

    status: int
    error_type: str
    message: str
    finding: Finding
    details: DimensionDetails | None = None

    @property
    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"type": self.error_type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details.to_dict()
        return {"type": "error", "error": error}

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "body": self.body, "code": self.finding.code}


# Which failure the API answers with when several fail: the lowest phase,
# then body order (findings are kept in body order). The facts give one
# step of this order (the media_type literal before the data) and that a
# retired model fails before any image is looked at; the rest is
# preflight's choice, the same every time (docs/errors.md).
_PHASES: dict[str, int] = {
    REQUEST_TOO_LARGE: 0,  # the body as received, before it is parsed
    MALFORMED_REQUEST: 1,  # the schema: shapes, types, literals
    BAD_MEDIA_TYPE: 1,
    SOURCE_NOT_ACCEPTED: 1,
    RETIRED_MODEL: 2,  # the model, before any image
    TOO_MANY_IMAGES: 3,  # a count of blocks, before any is decoded
    # 4: each block's data, in body order (every other error)
    OVER_MAX_SIDE: 5,  # then the dimension rules, over every image
    OVER_MANY_IMAGES_SIDE: 6,
    OVERSIZED: 7,
}
_DATA_PHASE = 4
_STATUS: dict[str, tuple[int, str]] = {
    REQUEST_TOO_LARGE: (413, "request_too_large"),
    # "not found" (SDK 2.17 notes): read as HTTP 404 not_found_error.
    RETIRED_MODEL: (404, "not_found_error"),
}
_INVALID_REQUEST = (400, "invalid_request_error")


def api_error(
    findings: tuple[Finding, ...] | list[Finding],
    images: tuple[RequestImage, ...] | list[RequestImage],
    options: Options,
) -> ApiError | None:
    """The API's answer to a request with these findings: the first error in
    the API's order (_PHASES), with details for a dimension error."""
    errors = [f for f in findings if f.is_error]
    if not errors:
        return None
    first = min(errors, key=lambda f: _PHASES.get(f.code, _DATA_PHASE))  # stable: body order
    status, kind = _STATUS.get(first.code, _INVALID_REQUEST)
    details = None
    if first.code in (OVER_MAX_SIDE, OVER_MANY_IMAGES_SIDE, OVERSIZED):
        paths = tuple(
            block_path(image.location)
            for image in images
            if any(f.code == first.code for f in image.findings)
        )
        details = DimensionDetails(_max_side(first.code, options), paths)
    return ApiError(status, kind, first.api_message, first, details)


def _max_side(code: str, options: Options) -> int:
    """max_side_length_pixels of a dimension error. Only its name is
    documented: the side limit of the rule (the tier's longest edge for an
    oversized image) is preflight's reading of it."""
    surface = options.surface
    if code == OVER_MAX_SIDE and surface.max_side_px is not None:
        return surface.max_side_px
    if code == OVER_MANY_IMAGES_SIDE and surface.many_images_max_side_px is not None:
        return surface.many_images_max_side_px
    return options.tier.max_edge


def block_path(location: tuple[str | int, ...]) -> str:
    """A block's path as SDK 2.17's details give it: indexes only, no block
    types ("messages.0.content.1.content.0")."""
    return ".".join(str(key) for key in location)


def check_request(
    body: object,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    **keywords: Unpack[OptionKeywords],
) -> RequestReport:
    """Everything the API would say about a Messages request body.

    `body` is the dict passed to `client.messages.create(**body)`, or its
    JSON (text or bytes). The model is the body's `model` unless `options`
    or `model=` names one. `resolver(kind, reference)` may return the bytes
    of a `url` or `file` image; without it those are counted, not checked.
    """
    found: list[Finding] = []
    value = _load(body, found)
    chosen = _request_options(value, options, keywords, found)
    slots = list(_walk(value, found))
    images = [s for s in slots if s.kind == "image"]
    documents = len(slots) - len(images)
    counted = len(images) + (documents if chosen.surface.documents_count_as_images else 0)
    checked: list[RequestImage] = []
    for slot in slots:  # in body order
        if slot.kind == "image":
            image = _check_image(slot, counted, chosen, resolver)
            checked.append(image)
            found.extend(image.findings)  # (duplicates marked below do not change findings)
        else:
            found.extend(_check_document(slot))
    checked = _mark_duplicates(checked)
    found.extend(model_findings(chosen))
    found.extend(image_count_findings(len(images), chosen, documents))
    size = _body_size(value, found)
    if size is not None and request_bytes_exceeded(size, chosen):
        found.append(request_bytes_finding(size, chosen, "the body (compact JSON, as sent)"))
    return _report(found, checked, documents, size, chosen)


# --- reading the body -----------------------------------------------------------


def _malformed(path: str | None, message: str, fix: str = "") -> Finding:
    # The API's words for these are not in the facts: preflight's stand in.
    return Finding(MALFORMED_REQUEST, ERROR, message, fix or "fix the request body", path=path)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")


def _load(body: object, found: list[Finding]) -> object:
    """The body as Python data: a dict as it is; JSON text or bytes parsed."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            found.append(_malformed(None, f"the request body is not UTF-8 text: {error}"))
            return None
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as error:
            found.append(_malformed(None, f"the request body is not JSON: {error}"))
            return None
    return body


def _request_options(
    value: object, options: Options | None, keywords: OptionKeywords, found: list[Finding]
) -> Options:
    """The caller's options; the body's model unless the caller names one.
    A body model preflight does not know gets the cautious limits
    (tables.cautious_model) and a warning."""
    named = value.get("model") if isinstance(value, dict) else None
    if options is not None or "model" in keywords or not isinstance(named, str):
        return make_options(options, **keywords)
    try:
        merged: OptionKeywords = {**keywords, "model": named}
        return make_options(None, **merged)
    except UnknownNameError:
        cautious: OptionKeywords = {**keywords, "model": cautious_model(named)}
        chosen = make_options(None, **cautious)
        found.append(unknown_model_finding(named, chosen.model))
        return chosen


@dataclass(frozen=True)
class _Slot:
    kind: str  # "image" or "document"
    path: str
    location: tuple[str | int, ...]
    block: dict[str, Any]
    turn: int
    computer_use: bool


def _walk(value: object, found: list[Finding]) -> Iterator[_Slot]:
    """Every image and document block, in body order; malformed parts as findings."""
    if value is None and found:
        return  # not JSON: already said
    if not isinstance(value, dict):
        found.append(
            _malformed(None, f"the request body must be a JSON object, not {_kind(value)}")
        )
        return
    if "model" not in value:
        found.append(_malformed("model", "the body has no model"))
    elif not isinstance(value["model"], str):
        found.append(_malformed("model", f"model must be text, not {_kind(value['model'])}"))
    _check_system(value.get("system"), found)
    messages = value.get("messages")
    if not isinstance(messages, list):
        what = "the body has no messages" if messages is None else "messages must be a list"
        found.append(_malformed("messages", what))
        return
    computer_ids = _computer_use_ids(value, messages)
    for i, message in enumerate(messages):
        path = f"messages.{i}"
        if not isinstance(message, dict):
            found.append(_malformed(path, f"a message must be an object, not {_kind(message)}"))
            continue
        if message.get("role") not in ROLES:
            found.append(_malformed(f"{path}.role", "role must be 'user' or 'assistant'"))
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            found.append(_malformed(f"{path}.content", "content must be text or a list of blocks"))
            continue
        for j, block in enumerate(content):
            yield from _blocks(
                block, f"{path}.content.{j}", ("messages", i, "content", j), i,
                computer_ids, found, nested=False, computer_use=False,
            )  # fmt: skip


def _check_system(system: object, found: list[Finding]) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        found.append(_malformed("system", "system must be text or a list of text blocks"))
        return
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            found.append(_malformed(f"system.{i}", "system takes text blocks only"))


def _computer_use_ids(body: dict[str, Any], messages: list[Any]) -> dict[str, bool]:
    """tool_use id -> whether it called a computer-use or browser-use tool:
    the tool's `type` in `tools`, else its name (see the module constants)."""
    tool_types: dict[str, object] = {}
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                tool_types[tool["name"]] = tool.get("type")
    ids: dict[str, bool] = {}
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not (isinstance(block, dict) and block.get("type") == "tool_use"):
                continue
            use_id, name = block.get("id"), block.get("name")
            if not (isinstance(use_id, str) and isinstance(name, str)):
                continue
            kind = tool_types.get(name)
            ids[use_id] = (
                kind.startswith(COMPUTER_USE_TYPE_PREFIXES)
                if isinstance(kind, str)
                else name in COMPUTER_USE_NAMES
            )
    return ids


def _printed_type(block: dict[str, Any], kind: str) -> str:
    """The block type the API prints in a path: "pdf" for a document block
    holding a base64 PDF (API error messages observed in 2026), else the
    block's own type."""
    source = block.get("source")
    if (
        kind == "document"
        and isinstance(source, dict)
        and source.get("type") == "base64"
        and source.get("media_type") == PDF_MEDIA_TYPE
    ):
        return "pdf"
    return kind


PDF_MEDIA_TYPE = "application/pdf"


def _blocks(
    block: object,
    base: str,
    location: tuple[str | int, ...],
    turn: int,
    computer_ids: dict[str, bool],
    found: list[Finding],
    *,
    nested: bool,
    computer_use: bool,
) -> Iterator[_Slot]:
    if not isinstance(block, dict):
        found.append(_malformed(base, f"a content block must be an object, not {_kind(block)}"))
        return
    kind = block.get("type")
    if not isinstance(kind, str):
        what = "a content block without type" if kind is None else "type must be text"
        found.append(_malformed(base if kind is None else f"{base}.type", what))
        return
    path = f"{base}.{_printed_type(block, kind)}"
    if kind == "image":
        yield _Slot("image", path, location, block, turn, computer_use)
    elif kind == "document":
        if "transformations" in block:
            found.append(
                _malformed(
                    f"{path}.transformations",
                    "document blocks do not accept transformations",
                    "remove the field (it is for image blocks)",
                )
            )
        yield _Slot("document", path, location, block, turn, computer_use)
    elif kind == "tool_result" and not nested:
        inner = block.get("content")
        if inner is None or isinstance(inner, str):
            return
        if not isinstance(inner, list):
            found.append(_malformed(f"{path}.content", "content must be text or a list of blocks"))
            return
        use_id = block.get("tool_use_id")
        computer = isinstance(use_id, str) and computer_ids.get(use_id, False)
        for k, item in enumerate(inner):
            yield from _blocks(
                item, f"{path}.content.{k}", (*location, "content", k), turn,
                computer_ids, found, nested=True, computer_use=computer,
            )  # fmt: skip


# --- one image ------------------------------------------------------------------


def _check_image(
    slot: _Slot, counted: int, options: Options, resolver: Resolver | None
) -> RequestImage:
    found: list[Finding] = []
    policy = _oversized_policy(slot, found)
    _check_cache_control(slot, found)
    opts = dataclasses.replace(options, images_in_request=counted, oversized=policy)
    image = RequestImage(
        slot.path,
        slot.location,
        slot.turn,
        "",
        checked=False,
        oversized=policy,
        computer_use=slot.computer_use,
    )
    source = slot.block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if not isinstance(source, dict):
        found.append(_malformed(f"{slot.path}.source", "an image block needs a source object"))
    elif kind == "base64":
        image = _check_base64(image, source, opts, found)
    elif kind in ("url", "file"):
        image = _check_reference(image, source, str(kind), opts, resolver, found)
    else:
        found.append(
            _malformed(f"{slot.path}.source.type", "source type must be base64, url or file")
        )
    return dataclasses.replace(image, findings=tuple(found))


def _oversized_policy(slot: _Slot, found: list[Finding]) -> str:
    """ "error" for `oversized_image: "error"` and computer-use tool results."""
    policy = "error" if slot.computer_use else "downsize"
    transformations = slot.block.get("transformations")
    if transformations is None:
        return policy
    value = transformations.get("oversized_image") if isinstance(transformations, dict) else None
    if not isinstance(transformations, dict) or (
        "oversized_image" in transformations and value not in OVERSIZED_POLICIES
    ):
        found.append(
            _malformed(
                f"{slot.path}.transformations",
                "transformations must be {'oversized_image': 'downsize' or 'error'}",
            )
        )
        return policy
    return "error" if value == "error" else policy


def _check_cache_control(slot: _Slot, found: list[Finding]) -> None:
    cache = slot.block.get("cache_control")
    if cache is None:
        return
    if (
        not isinstance(cache, dict)
        or cache.get("type") != "ephemeral"
        or cache.get("ttl", "5m") not in ("5m", "1h")
    ):
        found.append(
            _malformed(
                f"{slot.path}.cache_control",
                "cache_control must be {'type': 'ephemeral'} with an optional ttl '5m' or '1h'",
            )
        )


def _check_base64(
    image: RequestImage, source: dict[str, Any], options: Options, found: list[Finding]
) -> RequestImage:
    """A base64 image, in the API's order: the declared media_type literal,
    then the data (empty, base64, bytes, format, decodable), then its size.
    A literal outside the four is reported as that alone: the data is still
    read (for the report and prepare_request), but what the data is cannot
    be wrong against a type the API never accepted."""
    at = f"{image.path}.source.base64"
    declared, data = source.get("media_type"), source.get("data")
    image = dataclasses.replace(image, source_kind="base64")
    literal: str | None = None  # a declared type outside the four
    if not isinstance(declared, str):
        what = "has no media_type" if declared is None else "media_type must be text"
        found.append(_malformed(f"{at}.media_type", f"the image {what}"))
        declared = None
    elif declared not in ACCEPTED_MEDIA_TYPES:
        literal, declared = declared, None
        image = dataclasses.replace(image, media_type=literal)
    else:
        image = dataclasses.replace(image, media_type=declared)
    about_data: list[Finding] = []
    image, info = _read_base64(image, data, declared, options, about_data, at)
    if literal is not None:
        what = "" if info is None or info.media_type is not None else info.format_label
        actual = None if info is None else info.media_type
        found.append(bad_media_type_finding(literal, actual, what).at(f"{at}.media_type"))
        about_data = [f for f in about_data if f.code not in _DATA_IDENTITY]
    found.extend(about_data)
    return image


def _read_base64(
    image: RequestImage,
    data: object,
    declared: str | None,
    options: Options,
    found: list[Finding],
    at: str,
) -> tuple[RequestImage, ImageInfo | None]:
    """The data's findings, in the API's order, and its header facts when read."""
    if not isinstance(data, str):
        found.append(_malformed(f"{at}.data", "data must be base64 text"))
        return image, None
    image = dataclasses.replace(image, base64_bytes=len(data))
    if not data:
        found.append(empty_data_finding().at(at))
        return image, None
    encoded = _valid_base64(data)
    if encoded is None:
        found.append(invalid_base64_finding(data.startswith("data:")).at(at))
    # The byte limit is on the text as sent, readable or not.
    if image_bytes_exceeded(len(data), options):
        found.append(image_bytes_finding(len(data), options).at(at))
    if encoded is None:
        return image, None
    image = dataclasses.replace(image, digest=hashlib.sha256(encoded).hexdigest())
    try:
        info = _info_from_base64(data)
    except HeaderError as error:
        found.append(header_failure_finding(error).at(f"{at}.data"))
        return image, None
    return _assessed(image, info, declared, options, found, at, byte_checked=True), info


# What the data is: moot while the declared type is not one the API takes.
_DATA_IDENTITY = frozenset({MEDIA_TYPE_MISMATCH, UNSUPPORTED_FORMAT, NOT_AN_IMAGE})
# Data the API cannot decode: it answers "Could not process image", no path.
_UNDECODABLE_CODES = frozenset({NOT_AN_IMAGE, TRUNCATED, CORRUPT, UNDECODABLE})


def _check_reference(
    image: RequestImage,
    source: dict[str, Any],
    kind: str,
    options: Options,
    resolver: Resolver | None,
    found: list[Finding],
) -> RequestImage:
    key = "url" if kind == "url" else "file_id"
    at = f"{image.path}.source.{kind}"
    image = dataclasses.replace(image, source_kind=kind)
    reference = source.get(key)
    if not isinstance(reference, str):
        found.append(_malformed(f"{at}.{key}", f"a {kind} source needs {key} as text"))
        return image
    image = dataclasses.replace(image, digest=f"{kind}:{reference}")
    if kind not in options.surface.source_kinds:
        found.append(
            Finding(
                SOURCE_NOT_ACCEPTED,
                ERROR,
                f"{kind} image sources are not accepted on {options.surface.name}: "
                f"{', '.join(options.surface.source_kinds)} only",
                "send the image as base64 (preflight prepare_request cannot fetch it)",
                path=at,
            )
        )
    data: bytes | ImageInfo | Refusal | None = None
    if resolver is not None:
        try:
            data = resolver(kind, reference)
        except HeaderError as error:  # fetched, and not a readable image
            found.append(header_failure_finding(error).at(at))
            return image
        except (OSError, ValueError, PreflightError) as error:
            found.append(
                Finding(
                    NOT_CHECKED_OFFLINE,
                    WARNING,
                    f"the resolver could not fetch this {kind} image ({error}): not checked",
                    "the API fetches and checks it when the request is sent",
                    path=at,
                )
            )
            return image
    if data is None:
        found.append(
            Finding(
                NOT_CHECKED_OFFLINE,
                INFO,
                f"{kind} image: counted, but not checkable offline (the API fetches it, "
                "then checks it)",
                "pass resolver= (a function returning its bytes) to check it here",
                path=at,
            )
        )
        return image
    if isinstance(data, Refusal):
        if data.reason == "robots":
            found.append(url_disallowed_finding(reference).at(at))
        else:
            found.append(url_unreachable_finding(reference, data.detail).at(at))
        return image
    try:
        info = data if isinstance(data, ImageInfo) else _info_from_bytes(bytes(data))
    except HeaderError as error:
        found.append(header_failure_finding(error).at(at))
        return image
    # Whether the byte limit of a fetched image is on its bytes or their
    # base64 is not stated; the base64 length is used: it rejects sooner.
    size = base64_length(info.file_bytes)
    image = dataclasses.replace(image, base64_bytes=size)
    if image_bytes_exceeded(size, options):
        found.append(image_bytes_finding(size, options).at(at))
    return _assessed(image, info, None, options, found, at, byte_checked=True)


def _assessed(
    image: RequestImage,
    info: ImageInfo,
    declared: str | None,
    options: Options,
    found: list[Finding],
    at: str,
    *,
    byte_checked: bool,
) -> RequestImage:
    """assess()'s findings, placed where the API points: bytes and a media
    type mismatch at the source, an oversized image at its block, the rest
    at data; undecodable data has no path in the API's answer."""
    _, findings = assess(info, options, declared_media_type=declared)
    base64_source = at.endswith(".base64")
    for finding in findings:
        if finding.code == TOO_MANY_IMAGES:  # the request's, once (check_request)
            continue
        if finding.code == OVER_BYTE_LIMIT and byte_checked:
            continue
        if finding.code == OVERSIZED:  # the API points at the block itself
            found.append(finding.at(block_path(image.location)))
        elif not base64_source:
            found.append(finding.at(at))
        elif finding.code == UNSUPPORTED_FORMAT and declared is not None:
            found.append(unsupported_format_finding(declared, info.format_label).at(f"{at}.data"))
        elif finding.code == MEDIA_TYPE_MISMATCH:
            found.append(finding.at(at))
        else:
            found.append(finding.at(f"{at}.data"))
    for i, finding in enumerate(found):
        if finding.code in _UNDECODABLE_CODES and not finding.api_pathless:
            found[i] = dataclasses.replace(finding, api_pathless=True)
    image = dataclasses.replace(image, checked=True, format=info.format)
    if info.media_type is None or info.width is None or info.height is None:
        return image
    processed = api_size(info.width, info.height, options.tier)
    return dataclasses.replace(
        image,
        width=info.width,
        height=info.height,
        processed_width=processed[0],
        processed_height=processed[1],
        tokens=TOKEN_COUNTERS[options.rule](*processed),
    )


# --- documents ---------------------------------------------------------------------


def _check_document(slot: _Slot) -> list[Finding]:
    """A base64 PDF's page count against the limit (other documents are
    counted only). The data is decoded whole: its size is bounded by the
    body, which the caller holds in memory already."""
    source = slot.block.get("source")
    if not (
        isinstance(source, dict)
        and source.get("type") == "base64"
        and source.get("media_type") == PDF_MEDIA_TYPE
        and isinstance(source.get("data"), str)
    ):
        return []
    at = f"{slot.path}.source.base64.data"
    encoded = _valid_base64(source["data"])
    if encoded is None or not encoded:
        return [pdf_pages_unknown_finding("the data is not base64 text").at(at)]
    pages = count_pdf_pages(_decode(source["data"]))
    if isinstance(pages, str):
        return [pdf_pages_unknown_finding(pages).at(at)]
    return [pdf_pages_finding(pages).at(at)] if pdf_pages_exceeded(pages) else []


def count_pdf_pages(data: bytes) -> int | str:
    """The PDF's page count, or why it could not be counted. pypdf (the pdf
    extra) is imported here, lazily, and reads leniently (strict=False);
    any failure of a hostile or broken file is a reason, never a traceback."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return "pypdf is not installed"
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its warnings about odd files are ours to report
    try:
        return len(PdfReader(io.BytesIO(data), strict=False).pages)
    except RecursionError:
        return "the PDF's page tree nests too deeply to read"
    except Exception as error:  # any parser failure is a finding
        return f"the PDF could not be read: {type(error).__name__}: {error}"[:300]
    finally:
        quiet.setLevel(level)


# --- base64, read only as far as the header needs ------------------------------------


def _valid_base64(text: str) -> bytes | None:
    """The text as ASCII bytes when it is whole base64 (padded, in groups of
    4, padding only at the end); None otherwise. Checks every character
    without decoding: the decoder is only run on the prefix the parser needs."""
    if not text.isascii() or len(text) % 4:
        return None
    encoded = text.encode("ascii")
    if encoded.translate(None, _BASE64_ALPHABET):
        return None
    first_pad = encoded.find(b"=")
    if first_pad != -1 and first_pad < len(encoded) - 2:
        return None
    return encoded


def _decoded_length(text: str) -> int:
    return len(text) // 4 * 3 - (len(text) - len(text.rstrip("=")))


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text)
    except binascii.Error as error:  # checked before: cannot happen
        raise HeaderError(f"not base64 image data: {error}") from None


def _info_from_base64(text: str) -> ImageInfo:
    """Header facts from base64 text: decode a prefix in whole 4-character
    groups, grow it while the parser answers NeedMore, and decode the last
    groups for the end markers."""
    size = _decoded_length(text)
    wanted = FIRST_READ
    while True:
        chars = min(len(text), -(-wanted // 3) * 4)
        prefix = _decode(text[:chars])
        result = parse(prefix, complete=chars >= len(text))
        if not isinstance(result, NeedMore):
            break
        wanted = min(result.at_least, size)
    tail = prefix[-TAIL_READ:] if chars >= len(text) else _decode(text[-_TAIL_CHARS:])
    return _info(result, prefix, tail[-TAIL_READ:], size)


def _info_from_bytes(data: bytes) -> ImageInfo:
    result = parse(data, complete=True)
    assert not isinstance(result, NeedMore)  # complete data never needs more
    return _info(result, data, data[-TAIL_READ:], len(data))


def _info(header: Any, prefix: bytes, tail: bytes, size: int) -> ImageInfo:
    truncated, missing_end = end_state(header, prefix, tail, size)
    return ImageInfo(
        **vars(header), file_bytes=size, truncated=truncated, missing_end_marker=missing_end
    )


# --- the request as a whole ---------------------------------------------------------


def _mark_duplicates(images: list[RequestImage]) -> list[RequestImage]:
    first: dict[str, str] = {}
    marked: list[RequestImage] = []
    for image in images:
        if image.digest is not None and image.digest in first:
            image = dataclasses.replace(image, duplicate_of=first[image.digest])
        elif image.digest is not None:
            first[image.digest] = image.path
        marked.append(image)
    return marked


def serialized_size(value: object) -> int:
    """Bytes of the body as the SDK sends it: compact JSON, UTF-8, no NaN
    (anthropic 2.14 serializes with separators=(",", ":"), ensure_ascii=False)."""
    return len(
        json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    )


def _body_size(value: object, found: list[Finding]) -> int | None:
    if not isinstance(value, dict):
        return None
    try:
        return serialized_size(value)
    except (TypeError, ValueError, RecursionError) as error:
        found.append(_malformed(None, f"the body cannot be sent as JSON: {error}"))
        return None


def _report(
    found: list[Finding],
    images: list[RequestImage],
    documents: int,
    size: int | None,
    options: Options,
) -> RequestReport:
    per_turn: dict[int | None, int] = {}
    distinct: dict[str, int] = {}
    for image in images:
        per_turn[image.turn] = per_turn.get(image.turn, 0) + image.tokens
        distinct[image.digest or image.path] = image.tokens
    total = sum(image.tokens for image in images)
    batch = options if options.batch else dataclasses.replace(options, batch=True)
    return RequestReport(
        rejected=has_error(found),
        findings=tuple(found),
        images=tuple(images),
        documents=documents,
        image_tokens=total,
        tokens_per_turn=tuple(per_turn.items()),
        distinct_images=len(distinct),
        distinct_image_tokens=sum(distinct.values()),
        cost_usd=options.cost(total),
        batch_cost_usd=batch.cost(total),
        body_bytes=size,
        options=options,
    )


def describe_report(report: RequestReport) -> str:
    """One line: the verdict and the money."""
    price = report.cost_usd
    cost = "price unknown" if price is None else f"${plain_decimal(price)}"
    verdict = "REJECTED" if report.rejected else "ok"
    return (
        f"{verdict}: {len(report.images)} images ({report.unchecked} not checked offline), "
        f"{report.image_tokens} image tokens, {cost} on {report.options.model.name}"
    )
