"""Every type preflight's calls take or return, in one place, for annotations.

A public namespace that only re-exports: the results (frozen dataclasses
with `.to_dict()`), the values they hold (Finding, Header, ImageInfo,
Target, Options, and the per-call CheckSettings and PrepareSettings), and
the typed content blocks and Messages bodies shaped like the Anthropic
SDK's (TypedDicts, docs/sdk-types.md).
"""

from __future__ import annotations

from preflight._core.blocks import (
    Base64ImageSource,
    CacheControl,
    FileImageSource,
    ImageBlock,
    ImageTransformations,
    MediaType,
    MessagesBody,
    TextBlock,
    URLImageSource,
    UserMessage,
)
from preflight._core.bodies import (
    ApiError,
    DimensionDetails,
    Refusal,
    RequestImage,
    RequestReport,
)
from preflight._core.estimation import Estimate
from preflight._core.explaining import Explanation
from preflight._core.findings import Finding
from preflight._core.geometry import Target
from preflight._core.info import Header, ImageInfo
from preflight._core.options import Options
from preflight._core.planning import Plan
from preflight._core.settings import CheckSettings, PrepareSettings
from preflight._imaging.inspection import Report
from preflight._imaging.preparation import Action, PreparedImage
from preflight._imaging.quality import QualityMeasures, QualityReport
from preflight._imaging.tiling import TileImage, Tiling
from preflight._requests.fixing import PreparedRequest, RequestChange
from preflight._requests.packing import Pack, PackedRequest, PackFailure, PackPlan

__all__ = [
    "Action",
    "ApiError",
    "Base64ImageSource",
    "CacheControl",
    "CheckSettings",
    "DimensionDetails",
    "Estimate",
    "Explanation",
    "FileImageSource",
    "Finding",
    "Header",
    "ImageBlock",
    "ImageInfo",
    "ImageTransformations",
    "MediaType",
    "MessagesBody",
    "Options",
    "Pack",
    "PackFailure",
    "PackPlan",
    "PackedRequest",
    "Plan",
    "PrepareSettings",
    "PreparedImage",
    "PreparedRequest",
    "QualityMeasures",
    "QualityReport",
    "Refusal",
    "Report",
    "RequestChange",
    "RequestImage",
    "RequestReport",
    "Target",
    "TextBlock",
    "TileImage",
    "Tiling",
    "URLImageSource",
    "UserMessage",
]
