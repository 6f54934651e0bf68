"""preflight: check, price and fix images before they are sent to Claude's vision API.

Every public name is imported here, eagerly: no module imports Pillow, pyvips
or numpy at import time (they load inside the functions that use them), so
``import preflight`` stays light. No submodule is named like a public
function, so importing one never rebinds a name here.
"""

from __future__ import annotations

import os as _os

from preflight.core.assessment import check, request_findings
from preflight.core.bodies import RequestImage, RequestReport, check_request
from preflight.core.cost import format_usd, image_cost, plain_decimal
from preflight.core.estimation import Estimate, estimate
from preflight.core.findings import Finding
from preflight.core.formats import FORMATS, Format
from preflight.core.geometry import Target, api_size, parse_target, target_size, tokens
from preflight.core.info import Header, ImageInfo
from preflight.core.options import Options, make_options
from preflight.core.planning import Plan, plan
from preflight.core.tables import (
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
from preflight.fixing import PreparedRequest, RequestChange, prepare_request
from preflight.inspection import Report, inspect
from preflight.packing import Pack, PackedRequest, PackFailure, PackPlan, pack_images
from preflight.preparation import Action, PreparedImage, prepare
from preflight.probing import probe
from preflight.quality import (
    QUALITY_CODES,
    QualityMeasures,
    QualityReport,
    Thresholds,
    analyze_quality,
    effective_size,
    quality_findings,
)
from preflight.tiling import TileImage, Tiling, tile, tile_layout

__version__ = "0.2.0"

# A models file named by the environment applies to every use of the library
# (docs/configuration.md); a bad one is a ConfigError here, loudly, at once.
if _os.environ.get("PREFLIGHT_MODELS", "").strip():
    from preflight.config import load_models as _load_models

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
