# Findings: what preflight has to say about one image, as data.
# Rules:
# - a finding is never an exception: a rejected image is a normal answer;
# - `code` is stable (scripts key on it); `severity` is "error" (the API would
#   reject the request), "warning" (accepted, but resized or likely misread)
#   or "info" (worth knowing, harmless);
# - `message` uses the API's own words where the API has some (current docs,
#   "The API's error messages"), so users recognize them; `fix` says what to do.

from __future__ import annotations

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

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


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
# Warnings: accepted, but resized or likely misread.
MISSING_END_MARKER = "missing-end-marker"
WILL_RESIZE = "will-resize"
SMALL_SIDE = "small-side"
EXIF_ROTATION = "exif-rotation"
ANIMATED = "animated"
# Info.
PROGRESSIVE = "progressive"
CMYK = "cmyk"
HIGH_BIT_DEPTH = "high-bit-depth"
INTERLACED = "interlaced"
ALPHA = "alpha"
