"""explain(): an API error (message, JSON body or SDK exception) read back into a finding.

Rules:
- pure: no I/O, no SDK import. An exception is read by duck typing
  (`.body`, `.message`, `.status_code`, `.error_code`, `.details`, as
  anthropic 2.17's APIStatusError has them), so any client's error works;
- the API's wordings are data (WORDINGS): one regex per wording, each with
  its code in the catalogue, whether it is the current wording or an older
  one seen in logs, and where it was seen. Every wording docs/errors.md
  lists is here, and a test holds each to the catalogue;
- text is read as the SDKs print it: `Error code: 400 - {...}` (a Python
  dict's repr, SDKs before 2.x), `400 MESSAGE (error_code: ..., path: ...,
  type: ...)` followed by the details' JSON (SDK 2.17), `400 {json}` (other
  clients), a JSON body, or the message alone, with or without a traceback
  around it. Only the first MAX_EXPLAIN_CHARS characters are read;
- what is not an image error preflight knows is an Explanation with no
  code, never an exception.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from preflight._core import findings as f
from preflight._core.catalogue import RULES

CURRENT = "current"
OLDER = "older"

# The most text explain() reads (its own bound, not an API limit): an API
# error message is a few hundred characters; a log pasted whole is read as
# far as this, and `preflight explain` refuses more than this on stdin.
MAX_EXPLAIN_CHARS = 1 << 20

_OBSERVED = "API error messages observed in public reports, 2024-2026"
_SDK = "Anthropic Python SDK 2.17"


@dataclass(frozen=True)
class Wording:
    """One way the API has worded an error: `pattern` finds the words (named
    groups hold the numbers and media types), `code` is the catalogue's,
    `wording` CURRENT or OLDER, `seen` when an older one was seen, `points`
    where the API points (the field its path ends at, or "no path")."""

    code: str
    pattern: str
    wording: str
    source: str
    points: str
    seen: str = ""


# Most specific first: where two match at the same place, the first wins.
WORDINGS: tuple[Wording, ...] = (
    Wording(
        f.OVER_MAX_SIDE,
        r"At least one of the image dimensions exceed max allowed size: "
        r"(?P<max_side_px>\d+) pixels",
        CURRENT,
        _OBSERVED,
        "...image.source.base64.data",
    ),
    Wording(
        f.OVER_MANY_IMAGES_SIDE,
        r"At least one of the image dimensions exceed max allowed size for many-image requests: "
        r"(?P<max_side_px>\d+) pixels",
        CURRENT,
        _OBSERVED,
        "...image.source.base64.data",
    ),
    Wording(
        f.OVER_MANY_IMAGES_SIDE,
        r"(?:At least one of the image dimensions )?exceeds? max allowed size for many-images "
        r"requests: (?P<max_side_px>\d+) pixels",
        OLDER,
        _OBSERVED,
        "...image.source.base64.data",
        seen="2024",
    ),
    Wording(
        f.OVER_BYTE_LIMIT,
        r"image exceeds (?P<limit_mb>\d+) MB maximum: (?P<image_bytes>\d+) bytes > "
        r"(?P<limit_bytes>\d+) bytes",
        CURRENT,
        _OBSERVED,
        "...image.source.base64",
    ),
    Wording(
        f.MEDIA_TYPE_MISMATCH,
        r"The image was specified using the (?P<declared>[\w.+-]+/[\w.+-]+) media type, but the "
        r"image appears to be an? (?P<actual>[\w.+-]+/[\w.+-]+) image",
        CURRENT,
        _OBSERVED,
        "...image.source.base64",
    ),
    Wording(
        f.MEDIA_TYPE_MISMATCH,
        r"Image does not match the provided media type (?P<declared>[\w.+-]+/[\w.+-]+)",
        OLDER,
        _OBSERVED,
        "...image.source.base64.data",
        seen="August 2025 to January 2026",
    ),
    Wording(
        f.BAD_MEDIA_TYPE,
        r"Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        CURRENT,
        _OBSERVED,
        "...image.source.base64.media_type",
    ),
    Wording(f.EMPTY, r"image cannot be empty", CURRENT, _OBSERVED, "...image.source.base64"),
    Wording(f.BAD_BASE64, r"invalid base64 data", CURRENT, _OBSERVED, "...image.source.base64"),
    Wording(
        f.UNSUPPORTED_FORMAT,
        r"Image format (?P<declared>[\w.+-]+/[\w.+-]+) not supported",
        CURRENT,
        _OBSERVED,
        "...image.source.base64.data",
    ),
    Wording(f.NOT_AN_IMAGE, r"Could not process image", CURRENT, _OBSERVED, "no path"),
    Wording(
        f.OVERSIZED,
        r"image dimensions (?P<width>\d+)x(?P<height>\d+) exceed the maximum image size of a "
        r"model named on this request and would be downsized to "
        r"(?P<target_width>\d+)x(?P<target_height>\d+)",
        CURRENT,
        f'{_OBSERVED}; the "Vision coordinates" page',
        "the block itself (messages.0.content.0)",
    ),
    Wording(
        f.TOO_MANY_IMAGES,
        r"too many images and documents: (?P<images>\d+) \+ (?P<documents>\d+) > (?P<cap>\d+)",
        CURRENT,
        _OBSERVED,
        "no path",
    ),
    Wording(
        f.TOO_MANY_IMAGES,
        r"Too much media: (?P<document_pages>\d+) document pages \+ (?P<images>\d+) images > "
        r"(?P<cap>\d+)",
        OLDER,
        _OBSERVED,
        "no path",
        seen="2025 to January 2026",
    ),
    Wording(
        f.TOO_MANY_PDF_PAGES,
        r"A maximum of (?P<max_pages>\d+) PDF pages may be provided",
        CURRENT,
        _OBSERVED,
        "...pdf.source.base64.data",
    ),
    Wording(
        f.REQUEST_TOO_LARGE,
        r"Request exceeds the maximum size",
        CURRENT,
        f'{_OBSERVED}; the "API overview" page (HTTP 413 request_too_large)',
        "no path",
    ),
    Wording(
        f.URL_DISALLOWED,
        r"This URL is disallowed by the website's robots\.txt file",
        CURRENT,
        _OBSERVED,
        "no path",
    ),
    Wording(f.URL_UNREACHABLE, r"Unable to download the file", CURRENT, _OBSERVED, "no path"),
)

# The path the API prints before its words: "messages.3.content.1.image.source.base64: ".
_PATH = r"(?P<path>(?:messages|system)(?:\.[A-Za-z0-9_]+)+): "
_COMPILED = tuple(re.compile(f"(?:{_PATH})?(?:{w.pattern})") for w in WORDINGS)
_NAMED = frozenset({"declared", "actual"})  # groups that are media types, not numbers

# Other codes the API answers with the same words (preflight tells them apart
# from the data; the API's answer does not).
SAME_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {f.NOT_AN_IMAGE: (f.TRUNCATED, f.CORRUPT, f.UNDECODABLE)}
)

# error.details.error_code values (SDK 2.17). The image one is a finding;
# the others are about a request with images but no check of preflight's:
# what they mean, in our words, from the SDK's documentation of each.
DIMENSIONS_CODE = "image_dimensions_too_large"
OTHER_ERROR_CODES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "organization_url_fetch_disabled": (
            "URL image and document sources are turned off for the organization.",
            "Send the image as base64 or through the Files API.",
        ),
        "file_expired": (
            "A Files API file named by a `file` source has expired: its content is gone.",
            "Upload the file again and name the new file_id.",
        ),
        "file_not_downloadable": (
            "A Files API file that cannot be downloaded (only files a tool made can be).",
            "Upload the image as a file of your own, or send it as base64.",
        ),
    }
)

_STATUS = re.compile(r"Error code: (?P<status>[1-5]\d\d)\b|(?m:(?:^|Error: )(?P<bare>[45]\d\d) )")
_SDK_TRAILER = re.compile(
    r" \((?:error_code: (?P<error_code>[\w.-]+), )?path: [^\s,()]*(?:, type: (?P<type>\w+))?\)"
)
_BLOCK_PATH = re.compile(r"messages\.\d+\.content\.\d+(?:\.content\.\d+)*")
_MAX_PATHS = 1000  # details.paths read (a request holds at most 600 images)
_MAX_LITERAL = 1 << 16  # a repr longer than this is not an SDK's printed body


@dataclass(frozen=True)
class Explanation:
    """What an API error means. `code` is the catalogue's (`preflight rule
    CODE`), None when it is not an image error preflight knows.

    `path` is the field the API printed before its words; `blocks` the
    blocks it names in preflight's paths ("messages.3.content.1.image", as
    check_request's images), `block_paths` the same as SDK 2.17's
    `details.paths` give them ("messages.3.content.1"). `numbers` holds the
    limits and counts in the words (max_side_px, image_bytes, limit_bytes,
    limit_mb, images, documents, document_pages, cap, max_pages, width,
    height, target_width, target_height) and details.max_side_length_pixels;
    `media_types` the declared and actual types the words name."""

    code: str | None
    message: str  # the API's message, as found
    wording: str | None = None  # CURRENT or OLDER; None: no known words matched
    seen: str = ""  # when an older wording was seen
    source: str = ""  # where the wording (or the structured code) comes from
    points: str = ""  # where the API points for this error
    path: str | None = None
    blocks: tuple[str, ...] = ()
    block_paths: tuple[str, ...] = ()
    numbers: Mapping[str, int] = field(default_factory=dict)
    media_types: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    severity: str = ""
    summary: str = ""
    meaning: str = ""
    fix: str = ""
    fixed_by: tuple[str, ...] = ()
    same_words: tuple[str, ...] = ()  # other codes the API words the same way

    @property
    def recognised(self) -> bool:
        return self.code is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "recognised": self.recognised,
            "code": self.code,
            "severity": self.severity or None,
            "wording": self.wording,
            "seen": self.seen or None,
            "message": self.message,
            "path": self.path,
            "blocks": list(self.blocks),
            "block_paths": list(self.block_paths),
            "numbers": dict(self.numbers),
            "media_types": dict(self.media_types),
            "status": self.status,
            "error_type": self.error_type,
            "error_code": self.error_code,
            "summary": self.summary,
            "meaning": self.meaning,
            "fix": self.fix,
            "fixed_by": list(self.fixed_by),
            "same_words": list(self.same_words),
            "points": self.points or None,
            "source": self.source or None,
        }


@dataclass
class _Raw:
    """What the input says, before the words are read."""

    text: str = ""  # where to look for the words
    status: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    details: dict[str, Any] | None = None
    exact: bool = False  # `text` is the API's message itself (from a body)


def explain(error: object) -> Explanation:
    """What an API error means: `error` is its message (with or without the
    SDK's `Error code: 400 - ` or `400 ` prefix), its JSON body (text or
    dict), or an SDK exception (duck-typed). Never raises for what it does
    not know: the Explanation then has no code."""
    return _interpret(_read(error))


# --- reading the input ------------------------------------------------------------


def _read(error: object) -> _Raw:
    if isinstance(error, (bytes, bytearray, memoryview)):
        error = bytes(error[:MAX_EXPLAIN_CHARS]).decode("utf-8", "replace")
    if isinstance(error, str):
        return _from_text(error[:MAX_EXPLAIN_CHARS])
    if isinstance(error, Mapping):
        return _from_mapping(error) or _Raw(text=_short(repr(error)))
    return _from_exception(error)


def _from_exception(error: object) -> _Raw:
    """An SDK exception: its parsed body when it has one, else its message."""
    status = getattr(error, "status_code", None)
    raw = _from_mapping(getattr(error, "body", None))
    if raw is None:
        text = getattr(error, "message", None)
        raw = _from_text(text[:MAX_EXPLAIN_CHARS] if isinstance(text, str) else str(error))
    if raw.status is None and isinstance(status, int) and not isinstance(status, bool):
        raw.status = status
    error_code = getattr(error, "error_code", None)
    if raw.error_code is None and isinstance(error_code, str):
        raw.error_code = error_code
    if raw.details is None:
        raw.details = _details_of(getattr(error, "details", None))
    return raw


def _details_of(details: object) -> dict[str, Any] | None:
    """details as a dict: a dict, or an SDK model's fields."""
    if isinstance(details, Mapping):
        return dict(details)
    if details is None:
        return None
    fields = {
        name: getattr(details, name)
        for name in ("error_code", "max_side_length_pixels", "paths")
        if hasattr(details, name)
    }
    return fields or None


def _from_mapping(value: object) -> _Raw | None:
    """A body {"type": "error", "error": {...}}, the error object alone
    {"type", "message", "details"}, or check_request's api_error
    ({"status", "body"}); None for anything else."""
    if not isinstance(value, Mapping):
        return None
    status = value.get("status")
    if isinstance(value.get("body"), Mapping):
        raw = _from_mapping(value["body"])
        if raw is not None and isinstance(status, int) and not isinstance(status, bool):
            raw.status = status
        return raw
    inner = value.get("error")
    if isinstance(inner, Mapping):
        value = inner
    message = value.get("message")
    if not isinstance(message, str):
        return None
    raw = _Raw(text=message[:MAX_EXPLAIN_CHARS], exact=True)
    kind = value.get("type")
    raw.error_type = kind if isinstance(kind, str) else None
    raw.details = _details_of(value.get("details"))
    if raw.details is not None and isinstance(raw.details.get("error_code"), str):
        raw.error_code = raw.details["error_code"]
    return raw


def _from_text(text: str) -> _Raw:
    """Text as the SDKs and logs print an error (module docstring)."""
    stripped = text.strip()
    status_match = _STATUS.search(stripped)
    status = None
    if status_match is not None:
        status = int(status_match.group("status") or status_match.group("bare"))
    parsed = _embedded_dict(stripped)
    raw = _from_mapping(parsed)
    if raw is not None:  # a body in the text: its message is the API's
        raw.status = raw.status if raw.status is not None else status
        return raw
    raw = _Raw(text=stripped, status=status)
    trailer = _SDK_TRAILER.search(stripped)
    if trailer is not None:  # SDK 2.17: "400 MESSAGE (error_code: ..., path: ..., type: ...)"
        raw.error_type = trailer.group("type")
        raw.error_code = trailer.group("error_code")
        start = status_match.end() if status_match is not None else 0
        if start <= trailer.start():
            raw.text, raw.exact = stripped[start : trailer.start()].strip(), True
    if isinstance(parsed, Mapping) and "error_code" in parsed:  # the details' JSON after it
        raw.details = _details_of(parsed)
        if raw.error_code is None and isinstance(parsed.get("error_code"), str):
            raw.error_code = parsed["error_code"]
    return raw


def _embedded_dict(text: str) -> object:
    """The dict from the first "{" to the last "}": JSON, or a Python repr
    (older SDKs print the body with repr); None when neither parses."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    candidate = text[start : end + 1]
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        pass
    if len(candidate) > _MAX_LITERAL:
        return None
    try:
        return ast.literal_eval(candidate)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


# --- reading the words -------------------------------------------------------------


def _interpret(raw: _Raw) -> Explanation:
    found = _match(raw.text)
    message = raw.text
    if found is not None and not raw.exact:
        # In a log, the message starts at its path (or words) and ends with its line.
        start = found[1].start()
        end = raw.text.find("\n", found[1].end())
        message = raw.text[start : None if end < 0 else end]
    details = raw.details or {}
    block_paths = _details_paths(details)
    numbers: dict[str, int] = {}
    media_types: dict[str, str] = {}
    path: str | None = None
    wording: Wording | None = None
    code: str | None = None
    if found is not None:
        wording, match = found
        code = wording.code
        path = match.group("path")
        for name, value in match.groupdict().items():
            if value is None or name == "path":
                continue
            if name in _NAMED:
                media_types[name] = value
            else:
                numbers[name] = int(value)
    side = details.get("max_side_length_pixels")
    if isinstance(side, int) and not isinstance(side, bool):
        numbers["max_side_length_pixels"] = side
    if code is None and raw.error_code == DIMENSIONS_CODE:
        code = f.OVERSIZED  # the code the "Vision coordinates" page gives that error
    if code is None and (raw.status == 413 or raw.error_type == "request_too_large"):
        code = f.REQUEST_TOO_LARGE
    printed = _block_of(path, code) if path is not None else None
    if printed is not None and printed[1] not in block_paths:
        block_paths = (printed[1], *block_paths)
    blocks = tuple(_typed(p, code) for p in block_paths)
    if printed is not None:  # the printed path keeps its own block types
        blocks = tuple(
            printed[0] if p == printed[1] else b for p, b in zip(block_paths, blocks, strict=True)
        )
    base = Explanation(
        code=code,
        message=_short(message),
        wording=wording.wording if wording is not None else None,
        seen=wording.seen if wording is not None else "",
        source=_source(wording, raw),
        points=wording.points if wording is not None else "",
        path=path,
        blocks=blocks,
        block_paths=block_paths,
        numbers=MappingProxyType(numbers),
        media_types=MappingProxyType(media_types),
        status=raw.status,
        error_type=raw.error_type,
        error_code=raw.error_code,
    )
    if code is None:
        other = OTHER_ERROR_CODES.get(raw.error_code or "")
        if other is not None:
            return _replace(base, meaning=other[0], fix=other[1], source=_SDK)
        return base
    rule = RULES[code]
    return _replace(
        base,
        severity=rule.severity,
        summary=rule.summary,
        meaning=rule.meaning,
        fix=rule.fix,
        fixed_by=rule.fixed_by,
        same_words=SAME_WORDS.get(code, ()),
    )


def _replace(explanation: Explanation, **changes: Any) -> Explanation:
    return dataclasses.replace(explanation, **changes)


def _match(text: str) -> tuple[Wording, re.Match[str]] | None:
    """The wording found first in the text (the first in WORDINGS at a tie)."""
    best: tuple[Wording, re.Match[str]] | None = None
    for wording, pattern in zip(WORDINGS, _COMPILED, strict=True):
        match = pattern.search(text)
        if match is not None and (best is None or match.start() < best[1].start()):
            best = (wording, match)
    return best


def _source(wording: Wording | None, raw: _Raw) -> str:
    if wording is not None:
        return wording.source
    if raw.error_code is not None:
        return f"{_SDK} (error.details.error_code)"
    if raw.status == 413 or raw.error_type == "request_too_large":
        return 'the "API overview" page (HTTP 413 request_too_large)'
    return ""


def _details_paths(details: Mapping[str, Any]) -> tuple[str, ...]:
    paths = details.get("paths")
    if not isinstance(paths, (list, tuple)):
        return ()
    kept: list[str] = []
    for item in paths[:_MAX_PATHS]:
        if isinstance(item, str) and _BLOCK_PATH.fullmatch(item) and item not in kept:
            kept.append(item)
    return tuple(kept)


def _block_of(path: str, code: str | None) -> tuple[str, str] | None:
    """The block a printed path names: (preflight's form, with block types;
    the SDK's form, indexes only). "messages.2.content.0.tool_result.content.1
    .image.source.base64" -> ("messages.2.content.0.tool_result.content.1.image",
    "messages.2.content.0.content.1"). None for a path outside the messages."""
    words = path.split(".")
    if len(words) < 4 or words[0] != "messages" or not words[1].isdigit():
        return None
    typed, plain = ["messages", words[1]], ["messages", words[1]]
    i = 2
    while i + 1 < len(words) and words[i] == "content" and words[i + 1].isdigit():
        typed += ["content", words[i + 1]]
        plain += ["content", words[i + 1]]
        i += 2
        kind = words[i] if i < len(words) else None
        if kind is not None and not kind.isdigit() and kind not in ("content", "source"):
            typed.append(kind)
            i += 1
        elif kind == "content":
            typed.append("tool_result")  # the one block that holds blocks
        else:
            typed.append(_leaf_type(code))
            break
    if len(plain) < 4:
        return None
    return ".".join(typed), ".".join(plain)


def _typed(block_path: str, code: str | None) -> str:
    """An SDK block path in preflight's form: a block with blocks inside is a
    tool_result; the last one is the image (a pdf for the page limit)."""
    words = block_path.split(".")
    typed: list[str] = []
    for i in range(0, len(words), 2):
        typed += words[i : i + 2]
        if i >= 2:
            typed.append("tool_result" if i + 2 < len(words) else _leaf_type(code))
    return ".".join(typed)


def _leaf_type(code: str | None) -> str:
    return "pdf" if code == f.TOO_MANY_PDF_PAGES else "image"


def _short(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
