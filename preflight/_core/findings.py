"""Findings: what preflight has to say about one image, as data.

Rules:
- a finding is never an exception: a rejected image is a normal answer;
- `code` is stable (scripts key on it); `severity` is "error" (the API would
  reject the request), "warning" (accepted, but resized or likely misread)
  or "info" (worth knowing, harmless);
- `message` uses the API's own words where the API has some (current docs,
  "The API's error messages"), so users recognize them; `fix` says what to do;
- in a request body (check_request) a finding also has `path`, the API's
  dotted location of the field at fault, and `api_text`, the API's words
  alone (None where the facts do not give them); `api_message` is then
  "{path}: {api_text}", the text the API would answer (docs/errors.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    fix: str = ""
    path: str | None = None  # the API's dotted path of the field at fault, in a request body
    api_text: str | None = None  # the API's own words, where the facts give them
    api_pathless: bool = False  # the API prints its words without a path

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def api_path(self) -> str | None:
        """The path the API prints before its words; None where it prints none."""
        return None if self.api_pathless else self.path

    @property
    def api_message(self) -> str:
        """What the API would answer: "{path}: {its words}", or its words
        alone where it prints no path. Where the facts do not give the API's
        words, preflight's message stands in for them."""
        text = self.message if self.api_text is None else self.api_text
        path = self.api_path
        return text if path is None else f"{path}: {text}"

    def at(self, path: str | None) -> Finding:
        """The same finding, located at `path` in a request body."""
        return dataclasses.replace(self, path=path)

    def to_dict(self) -> dict[str, str]:
        data = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }
        if self.path is not None:
            data["path"] = self.path
            data["api_message"] = self.api_message
        return data


def has_error(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def worst_severity(findings: Iterable[Finding]) -> str | None:
    seen = {f.severity for f in findings}
    return next((s for s in SEVERITIES if s in seen), None)


# Stable codes. Errors: the API rejects the request.
OVER_MAX_SIDE = "over-max-side"
OVER_MANY_IMAGES_SIDE = "over-many-images-side"
TOO_MANY_IMAGES = "too-many-images"
OVER_BYTE_LIMIT = "over-byte-limit"
UNSUPPORTED_FORMAT = "unsupported-format"
NOT_AN_IMAGE = "not-an-image"
MEDIA_TYPE_MISMATCH = "media-type-mismatch"
BAD_MEDIA_TYPE = "bad-media-type"
EMPTY = "empty"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
UNREADABLE = "unreadable"
UNDECODABLE = "undecodable"  # the header reads, the pixel data does not (check --decode)
REQUEST_TOO_LARGE = "request-too-large"  # the request's base64 images over its body limit
OVERSIZED = "oversized"  # over the tier's size where oversized images are refused
MALFORMED_REQUEST = "malformed-request"  # a body the API cannot read: wrong shape or types
SOURCE_NOT_ACCEPTED = "source-not-accepted"  # a url or file source where only base64 is taken
BAD_BASE64 = "bad-base64"  # image data that is not base64 text
TOO_MANY_PDF_PAGES = "too-many-pdf-pages"  # a base64 PDF over the page limit
RETIRED_MODEL = "retired-model"  # the request names a model the API no longer serves
URL_DISALLOWED = "url-disallowed"  # a url source the site's robots.txt keeps the API from
URL_UNREACHABLE = "url-unreachable"  # a url source the API cannot download
# Warnings: accepted, but resized or likely misread.
MISSING_END_MARKER = "missing-end-marker"
WILL_RESIZE = "will-resize"
SMALL_SIDE = "small-side"
EXIF_ROTATION = "exif-rotation"
ANIMATED = "animated"
MODEL_RETIRING = "model-retiring"  # the model retires within RETIREMENT_WARNING_DAYS
RETIRED_ON_CLAUDE_API = "retired-on-claude-api"  # retired there, still served on some clouds
UNKNOWN_MODEL = "unknown-model"  # a model name preflight's table does not hold
PDF_PAGES_UNKNOWN = "pdf-pages-unknown"  # a base64 PDF whose pages could not be counted
# Info.
PROGRESSIVE = "progressive"
CMYK = "cmyk"
HIGH_BIT_DEPTH = "high-bit-depth"
INTERLACED = "interlaced"
ALPHA = "alpha"
NOT_CHECKED_OFFLINE = "not-checked-offline"  # a url or file image: the API fetches it
