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
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight._core.assessment import assess
from preflight._core.cost import exact_cost, plain_decimal
from preflight._core.findings import (
    BAD_BASE64,
    BAD_MEDIA_TYPE,
    ERROR,
    INFO,
    MALFORMED_REQUEST,
    MEDIA_TYPE_MISMATCH,
    NOT_CHECKED_OFFLINE,
    OVER_BYTE_LIMIT,
    SOURCE_NOT_ACCEPTED,
    TOO_MANY_IMAGES,
    WARNING,
    Finding,
    has_error,
)
from preflight._core.geometry import TOKEN_COUNTERS, api_size
from preflight._core.headers import FIRST_READ, TAIL_READ, NeedMore, end_state, parse
from preflight._core.info import ImageInfo, base64_length
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import (
    UNDECODABLE,
    header_failure_finding,
    image_bytes_exceeded,
    image_bytes_finding,
    image_count_findings,
    request_bytes_exceeded,
    request_bytes_finding,
)
from preflight._core.tables import OVERSIZED_POLICIES
from preflight.errors import HeaderError, PreflightError, UnknownNameError

if TYPE_CHECKING:
    from typing_extensions import Unpack

# (kind, reference) -> the image's bytes, or None when it cannot say:
# kind is "url" (reference: the URL) or "file" (reference: the Files API id).
Resolver = Callable[[str, str], "bytes | None"]

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

    def to_dict(self) -> dict[str, object]:
        return {
            "rejected": self.rejected,
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
    checked = [_check_image(slot, counted, chosen, resolver) for slot in images]
    checked = _mark_duplicates(checked)
    for image in checked:
        found.extend(image.findings)
    # The cap counts images and document pages; pages are not counted
    # offline, and no page says how they count on the Claude API.
    found.extend(image_count_findings(len(images), chosen))
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
    """The caller's options; the body's model unless the caller names one."""
    named = value.get("model") if isinstance(value, dict) else None
    if options is not None or "model" in keywords or not isinstance(named, str):
        return make_options(options, **keywords)
    try:
        merged: OptionKeywords = {**keywords, "model": named}
        return make_options(None, **merged)
    except UnknownNameError:
        chosen = make_options(None, **keywords)
        found.append(
            Finding(
                "unknown-model",
                WARNING,
                f"model {named!r} is not in preflight's table: the limits and price of "
                f"{chosen.model.name} are assumed",
                "pass model= (--model) and price_per_mtok= (--price), or add it under "
                "[tool.preflight.models]",
                path="model",
            )
        )
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
    path = f"{base}.{kind}"
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
    at = f"{image.path}.source.base64"
    declared, data = source.get("media_type"), source.get("data")
    image = dataclasses.replace(image, source_kind="base64")
    if not isinstance(declared, str):
        what = "has no media_type" if declared is None else "media_type must be text"
        found.append(_malformed(f"{at}.media_type", f"the image {what}"))
        declared = None
    else:
        image = dataclasses.replace(image, media_type=declared)
    if not isinstance(data, str):
        found.append(_malformed(f"{at}.data", "data must be base64 text"))
        return image
    image = dataclasses.replace(image, base64_bytes=len(data))
    # The byte limit is on the text as sent, readable or not.
    if image_bytes_exceeded(len(data), options):
        found.append(image_bytes_finding(len(data), options).at(at))
    encoded = _valid_base64(data)
    if encoded is None:
        found.append(
            Finding(
                BAD_BASE64,
                ERROR,
                f"{UNDECODABLE}: the data is not base64 text (only A-Z a-z 0-9 + / and "
                "final = padding, in groups of 4)",
                "encode the file with base64.b64encode",
                path=f"{at}.data",
                api_text=UNDECODABLE,
            )
        )
        return image
    image = dataclasses.replace(image, digest=hashlib.sha256(encoded).hexdigest())
    try:
        info = _info_from_base64(data)
    except HeaderError as error:
        found.append(header_failure_finding(error).at(f"{at}.data"))
        return image
    return _assessed(image, info, declared, options, found, at, byte_checked=True)


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
    data = None
    if resolver is not None:
        try:
            data = resolver(kind, reference)
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
    try:
        info = _info_from_bytes(bytes(data))
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
    """assess()'s findings, placed: byte errors at the source, media types
    at media_type, dimensions and everything about the data at data."""
    _, findings = assess(info, options, declared_media_type=declared)
    base64_source = at.endswith(".base64")
    for finding in findings:
        if finding.code == TOO_MANY_IMAGES:  # the request's, once (check_request)
            continue
        if finding.code == OVER_BYTE_LIMIT and byte_checked:
            continue
        if not base64_source:
            found.append(finding.at(at))
        elif finding.code in (BAD_MEDIA_TYPE, MEDIA_TYPE_MISMATCH):
            found.append(finding.at(f"{at}.media_type"))
        else:
            found.append(finding.at(f"{at}.data"))
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
