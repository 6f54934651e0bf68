"""preflight: check, price and fix images before they are sent to Claude's vision API.

Every public name is imported here, eagerly: no module imports Pillow, pyvips
or numpy at import time (they load inside the functions that use them), so
``import preflight`` stays light. (Lazy attributes would be unsafe: importing
a submodule such as preflight.preparation rebinds the package attribute of the
same name to the module.)
"""

from __future__ import annotations

from preflight.core.assessment import check, check_request
from preflight.core.cost import format_usd, image_cost, plain_decimal
from preflight.core.estimation import Estimate, estimate
from preflight.core.findings import Finding
from preflight.core.geometry import Target, api_size, parse_target, target_size, tokens
from preflight.core.info import Header, ImageInfo
from preflight.core.planning import Plan, plan
from preflight.core.tables import (
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
    CorruptHeaderError,
    DecodeError,
    EmptyInputError,
    EngineError,
    HeaderError,
    HeaderTooLargeError,
    InvalidArgumentError,
    InvalidSizeError,
    NotAnImageError,
    OutputPathError,
    PreflightError,
    SourceError,
    TruncatedError,
    UnknownNameError,
    UnsafeImageError,
    UnsupportedFormatError,
)
from preflight.inspection import Report, inspect
from preflight.preparation import Action, PreparedImage, prepare
from preflight.probing import probe

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "SURFACES",
    "TIERS",
    "Action",
    "ByteBudgetError",
    "CorruptHeaderError",
    "DecodeError",
    "EmptyInputError",
    "EngineError",
    "Estimate",
    "Finding",
    "Header",
    "HeaderError",
    "HeaderTooLargeError",
    "ImageInfo",
    "InvalidArgumentError",
    "InvalidSizeError",
    "Model",
    "NotAnImageError",
    "OutputPathError",
    "Plan",
    "PreflightError",
    "PreparedImage",
    "Report",
    "SourceError",
    "Surface",
    "Target",
    "Tier",
    "TruncatedError",
    "UnknownNameError",
    "UnsafeImageError",
    "UnsupportedFormatError",
    "__version__",
    "api_size",
    "check",
    "check_request",
    "estimate",
    "format_usd",
    "get_model",
    "get_surface",
    "get_tier",
    "image_cost",
    "inspect",
    "parse_target",
    "plain_decimal",
    "plan",
    "prepare",
    "probe",
    "target_size",
    "tokens",
]
