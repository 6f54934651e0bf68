"""inspect(): probe, estimate and check a source in one call that never raises for a bad file.

Rules:
- anything wrong with the file itself (missing, unreadable, empty,
  truncated, not an image) becomes an error finding in the Report;
- bad arguments (an unknown model, a bad surface) still raise: they are the
  caller's mistake, not the file's;
- this is I/O shell: the decisions are made by the pure check();
- how far to look is a CheckSettings (or the same keywords), validated once
  at the entry: decode=True decodes the pixel data; measure_quality=True
  appends the quality findings (preflight._imaging.quality: one
  shrink-on-load decode); an image that does not decode gets the
  `undecodable` error finding, as with decode=True.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

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
from preflight._core.options import OptionKeywords, Options
from preflight._core.rules import header_failure_finding, undecodable_finding
from preflight._core.settings import CheckKeywords, CheckSettings, check_call
from preflight._inputs.input import BytesInput, Input
from preflight._inputs.probing import probe_input
from preflight._inputs.sources import Source, open_input
from preflight.errors import (
    HeaderError,
    SourceError,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    class InspectKeywords(OptionKeywords, CheckKeywords, total=False):
        """inspect()'s keywords: the Options' and the CheckSettings' (and, for
        one release, the 0.2 name quality= for measure_quality=)."""

        quality: bool


@dataclass(frozen=True)
class Report:
    path: str | None
    info: ImageInfo | None  # None when the file could not be read as an image
    estimate: Estimate | None  # None when the API cannot take the image at all
    findings: tuple[Finding, ...] = field(default=())
    # Bytes received over the network to make this report (0 for a local
    # file): how it was read, not what the image is, so two reports of one
    # image are equal however they were read. Summed per run in the totals.
    fetched_bytes: int = field(default=0, compare=False)

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
    settings: CheckSettings | None = None,
    declared_media_type: str | None = None,
    size: int | None = None,
    **keywords: Unpack[InspectKeywords],
) -> Report:
    """Probe, estimate and check one image. Never raises for a bad file;
    bad options or settings (the caller's mistake) raise UsageError.
    `settings` (a CheckSettings, or the same keywords): `decode=True` also
    decodes the pixel data (check --decode): a header that reads over data
    that does not is an `undecodable` error, as the API answers it.
    `measure_quality=True` also measures the pixels (preflight.analyze_quality)
    and appends its warnings, for an image the API would take."""
    chosen, check = check_call(options, settings, dict(keywords), where="inspect", stacklevel=2)
    try:
        # One way in: a missing extra or an unknown URL scheme raises here
        # (the caller's to fix); a source that cannot be opened is a finding.
        opened = open_input(source, size=size)
    except SourceError as error:
        return Report(_source_name(source), None, None, (failure_finding(error),))
    try:
        report = _inspect_input(opened, chosen, check, declared_media_type)
    finally:
        if opened is not source:
            opened.close()
    # HttpInput and RemoteInput count what they received (`fetched`).
    fetched = getattr(opened, "fetched", 0)
    if isinstance(fetched, int) and fetched > 0:
        report = replace(report, fetched_bytes=fetched)
    return report


def _inspect_input(
    opened: Input,
    chosen: Options,
    check: CheckSettings,
    declared_media_type: str | None,
) -> Report:
    path = opened.name if opened.named else None
    data: bytes | None = None
    try:
        if check.reads_pixels:
            # Read once, whole: the header and the decode see the same bytes.
            data = opened.whole()
            info = probe_input(BytesInput(data, path))
        else:
            info = probe_input(opened)
    except (HeaderError, SourceError) as error:
        return Report(path, None, None, (failure_finding(error),))
    result, found = assess(info, chosen, declared_media_type=declared_media_type)
    if check.decode and info.media_type is not None and not any(f.is_error for f in found):
        assert data is not None
        failure = _decode_check(data, info, check)
        if failure is not None:
            found.insert(0, undecodable_finding(info.format_label, failure))
    if check.measure_quality and info.media_type is not None and not any(f.is_error for f in found):
        assert data is not None
        found.extend(_quality_findings(data, info, chosen, check))
    return Report(path, info, result, tuple(found))


def _quality_findings(
    data: bytes, info: ImageInfo, options: Options, check: CheckSettings
) -> list[Finding]:
    """The quality warnings, or the `undecodable` error when the pixels do
    not decode (no engine for them, over the pixel cap, damaged data)."""
    from preflight._imaging.quality import analyze_quality
    from preflight.errors import PreflightError

    try:
        return list(analyze_quality(data, options, settings=check).findings)
    except PreflightError as error:
        return [undecodable_finding(info.format_label, f"for the quality analysis: {error}")]


def _decode_check(data: bytes, info: ImageInfo, check: CheckSettings) -> str | None:
    from preflight._imaging.preparation import decode_failure
    from preflight.errors import PreflightError

    try:
        return decode_failure(data, info, engine=check.engine, pixel_cap=check.pixel_cap)
    except PreflightError as error:  # no engine for it, over a cap: it does not decode here
        return str(error)


def inspect_url(
    url: str,
    options: Options | None = None,
    *,
    settings: CheckSettings | None = None,
    size: int | None = None,
    declared_media_type: str | None = None,
    **keywords: Unpack[InspectKeywords],
) -> Report:
    """inspect() for a URL whose size a listing gave (it saves a request);
    never raises for a bad or unreachable object, which is a finding."""
    return inspect(
        url,
        options,
        settings=settings,
        size=size,
        declared_media_type=declared_media_type,
        **keywords,
    )
