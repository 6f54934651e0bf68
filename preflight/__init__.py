"""preflight: check, price and fix images before they are sent to Claude's vision API.

Every public name is imported here, eagerly: no module imports Pillow, pyvips
or numpy at import time (they load inside the functions that use them), so
``import preflight`` stays light. No submodule is named like a public
function, so importing one never rebinds a name here.
"""

from __future__ import annotations

import os as _os

from preflight._core.assessment import check, request_findings
from preflight._core.bodies import RequestImage, RequestReport, check_request
from preflight._core.cost import format_usd, image_cost, plain_decimal
from preflight._core.estimation import Estimate, estimate
from preflight._core.findings import Finding
from preflight._core.formats import FORMATS, Format
from preflight._core.geometry import Target, api_size, parse_target, target_size, tokens
from preflight._core.info import Header, ImageInfo
from preflight._core.options import Options, make_options
from preflight._core.planning import Plan, plan
from preflight._core.tables import (
    DEFAULT_MODEL,
    MODELS,
    SURFACES,
    TIERS,
    Model,
    Surface,
    Tier,
    get_model,
    get_surface,
    get_tier,
)
from preflight._imaging.inspection import Report, inspect
from preflight._imaging.preparation import Action, PreparedImage, prepare
from preflight._imaging.quality import (
    QUALITY_CODES,
    QualityMeasures,
    QualityReport,
    Thresholds,
    analyze_quality,
    effective_size,
    quality_findings,
)
from preflight._imaging.tiling import TileImage, Tiling, tile, tile_layout
from preflight._inputs.probing import probe
from preflight._requests.fixing import PreparedRequest, RequestChange, prepare_request
from preflight._requests.packing import Pack, PackedRequest, PackFailure, PackPlan, pack_images
from preflight._version import __version__
from preflight.errors import (
    ByteBudgetError,
    ClusterError,
    ConfigError,
    CorruptHeaderError,
    DataError,
    DecodeError,
    EmptyInputError,
    EngineError,
    EngineUnavailableError,
    HeaderError,
    HeaderTooLargeError,
    InvalidArgumentError,
    InvalidSizeError,
    MissingExtraError,
    NotAnImageError,
    OutputPathError,
    PreflightError,
    SizesFileError,
    SourceError,
    TruncatedError,
    UnknownNameError,
    UnsafeImageError,
    UnsupportedFormatError,
    UsageError,
    WorkerCrashError,
    WriteError,
)

# A models file named by the environment applies to every use of the library
# (docs/configuration.md); a bad one is a ConfigError here, loudly, at once.
if _os.environ.get("PREFLIGHT_MODELS", "").strip():
    from preflight._inputs.config import load_models as _load_models

    _load_models(None)

__all__ = [
    "DEFAULT_MODEL",
    "FORMATS",
    "MODELS",
    "QUALITY_CODES",
    "SURFACES",
    "TIERS",
    "Action",
    "ByteBudgetError",
    "ClusterError",
    "ConfigError",
    "CorruptHeaderError",
    "DataError",
    "DecodeError",
    "EmptyInputError",
    "EngineError",
    "EngineUnavailableError",
    "Estimate",
    "Finding",
    "Format",
    "Header",
    "HeaderError",
    "HeaderTooLargeError",
    "ImageInfo",
    "InvalidArgumentError",
    "InvalidSizeError",
    "MissingExtraError",
    "Model",
    "NotAnImageError",
    "Options",
    "OutputPathError",
    "Pack",
    "PackFailure",
    "PackPlan",
    "PackedRequest",
    "Plan",
    "PreflightError",
    "PreparedImage",
    "PreparedRequest",
    "QualityMeasures",
    "QualityReport",
    "Report",
    "RequestChange",
    "RequestImage",
    "RequestReport",
    "SizesFileError",
    "SourceError",
    "Surface",
    "Target",
    "Thresholds",
    "Tier",
    "TileImage",
    "Tiling",
    "TruncatedError",
    "UnknownNameError",
    "UnsafeImageError",
    "UnsupportedFormatError",
    "UsageError",
    "WorkerCrashError",
    "WriteError",
    "__version__",
    "analyze_quality",
    "api_size",
    "check",
    "check_request",
    "effective_size",
    "estimate",
    "format_usd",
    "get_model",
    "get_surface",
    "get_tier",
    "image_cost",
    "inspect",
    "make_options",
    "pack_images",
    "parse_target",
    "plain_decimal",
    "plan",
    "prepare",
    "prepare_request",
    "probe",
    "quality_findings",
    "request_findings",
    "target_size",
    "tile",
    "tile_layout",
    "tokens",
]
