"""inspect(): probe, estimate and check a source in one call that never raises for a bad file.

Rules:
- anything wrong with the file itself (missing, unreadable, empty,
  truncated, not an image) becomes an error finding in the Report;
- bad arguments (an unknown model, a bad surface) still raise: they are the
  caller's mistake, not the file's;
- this is I/O shell: the decisions are made by the pure check();
- quality=True appends the quality findings (preflight._imaging.quality: one
  shrink-on-load decode); an image that does not decode gets the
  `undecodable` error finding, as with decode=True.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

from preflight._core.assessment import assess
from preflight._core.cost import plain_decimal
from preflight._core.estimation import Estimate
from preflight._core.findings import (
    ERROR,
    UNREADABLE,
    Finding,
    has_error,
)
from preflight._core.info import ImageInfo
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import header_failure_finding, undecodable_finding
from preflight._inputs.probing import probe, probe_url
from preflight._inputs.remote import is_url, open_url, read_url
from preflight.errors import (
    HeaderError,
    InvalidArgumentError,
    SourceError,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


@dataclass(frozen=True)
class Report:
    path: str | None
    info: ImageInfo | None  # None when the file could not be read as an image
    estimate: Estimate | None  # None when the API cannot take the image at all
    findings: tuple[Finding, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return has_error(self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, object]:
        info, est = self.info, self.estimate
        return {
            "path": self.path,
            "format": info.format if info else None,
            "media_type": info.media_type if info else None,
            "width": info.width if info else None,
            "height": info.height if info else None,
            "display_width": info.display_width if info else None,
            "display_height": info.display_height if info else None,
            "file_bytes": info.file_bytes if info else None,
            "base64_bytes": info.base64_bytes if info else None,
            "processed_width": est.processed_width if est else None,
            "processed_height": est.processed_height if est else None,
            "resized": est.resized if est else None,
            "tokens": est.tokens if est else None,
            "cost_usd": plain_decimal(est.cost_usd) if est and est.cost_usd is not None else None,
            "rejected": self.rejected,
            "findings": [f.to_dict() for f in self.findings],
        }


def _source_name(source: Source) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None


def failure_finding(error: HeaderError | SourceError) -> Finding:
    """The finding for a file that cannot be read as an image at all."""
    if isinstance(error, SourceError):
        return Finding(UNREADABLE, ERROR, str(error), "check the path and its permissions")
    return header_failure_finding(error)


def inspect(
    source: Source,
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    decode: bool = False,
    quality: bool = False,
    **keywords: Unpack[OptionKeywords],
) -> Report:
    """Probe, estimate and check one image. Never raises for a bad file;
    bad options (the caller's mistake) raise UsageError. `decode=True` also
    decodes the pixel data (check --decode): a header that reads over data
    that does not is an `undecodable` error, as the API answers it.
    `quality=True` also measures the pixels (preflight.analyze_quality) and
    appends its warnings, for an image the API would take."""
    if type(source) is str and "://" in source and is_url(source):
        return inspect_url(
            source, options, declared_media_type=declared_media_type, decode=decode, **keywords
        )
    chosen = make_options(options, **keywords)
    if not isinstance(decode, bool):
        raise InvalidArgumentError(f"decode must be True or False, got {decode!r}")
    if not isinstance(quality, bool):
        raise InvalidArgumentError(f"quality must be True or False, got {quality!r}")
    path = _source_name(source)
    try:
        if decode or quality:
            source = _whole(source)
        info = probe(source)
    except (HeaderError, SourceError) as error:
        return Report(path, None, None, (failure_finding(error),))
    result, found = assess(info, chosen, declared_media_type=declared_media_type)
    if decode and info.media_type is not None and not any(f.is_error for f in found):
        assert isinstance(source, bytes)
        failure = _decode_check(source, info)
        if failure is not None:
            found.insert(0, undecodable_finding(info.format_label, failure))
    if quality and info.media_type is not None and not any(f.is_error for f in found):
        assert isinstance(source, bytes)
        found.extend(_quality_findings(source, info, chosen))
    return Report(path, info, result, tuple(found))


def _quality_findings(data: bytes, info: ImageInfo, options: Options) -> list[Finding]:
    """The quality warnings, or the `undecodable` error when the pixels do
    not decode (no engine for them, over the pixel cap, damaged data)."""
    from preflight._imaging.quality import analyze_quality
    from preflight.errors import PreflightError

    try:
        return list(analyze_quality(data, options).findings)
    except PreflightError as error:
        return [undecodable_finding(info.format_label, f"for the quality analysis: {error}")]


def _whole(source: Source) -> bytes:
    """The whole content of a source, read once (the header and the decode
    then see the same bytes)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return handle.read()
        except (OSError, ValueError) as error:
            detail = error.strerror if isinstance(error, OSError) else None
            raise SourceError(f"{os.fsdecode(source)}: cannot read ({detail or error})") from None
    try:
        data = source.read()
    except (OSError, ValueError) as error:
        raise SourceError(f"{_source_name(source) or '<stream>'}: cannot read ({error})") from None
    if not isinstance(data, bytes):
        raise SourceError(f"{_source_name(source) or '<stream>'}: not opened in binary mode")
    return data


def _decode_check(data: bytes, info: ImageInfo) -> str | None:
    from preflight._imaging.preparation import decode_failure
    from preflight.errors import PreflightError

    try:
        return decode_failure(data, info)
    except PreflightError as error:  # no engine for it, over a cap: it does not decode here
        return str(error)


def inspect_url(
    url: str,
    options: Options | None = None,
    *,
    size: int | None = None,
    declared_media_type: str | None = None,
    decode: bool = False,
    **keywords: Unpack[OptionKeywords],
) -> Report:
    """inspect() for a URL (size: from the listing, when known): never raises
    for a bad or unreachable object, which is a finding."""
    chosen = make_options(options, **keywords)
    if not isinstance(decode, bool):
        raise InvalidArgumentError(f"decode must be True or False, got {decode!r}")
    open_url(url)  # a missing extra or unknown protocol is the caller's to fix: it raises
    if decode:
        try:
            data = read_url(url, size=size)
        except SourceError as error:
            return Report(url, None, None, (failure_finding(error),))
        report = inspect(data, chosen, declared_media_type=declared_media_type, decode=True)
        info = None if report.info is None else replace(report.info, path=url)
        return replace(report, path=url, info=info)
    try:
        info = probe_url(url, size=size)
    except (HeaderError, SourceError) as error:
        return Report(url, None, None, (failure_finding(error),))
    result, found = assess(info, chosen, declared_media_type=declared_media_type)
    return Report(url, info, result, tuple(found))
