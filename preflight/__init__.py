"""preflight: check, price and fix images before they are sent to Claude's vision API.

The pure core (sizes in, decisions out) is imported eagerly and imports nothing
heavy. The I/O shell (probe, inspect, prepare) and the numpy planner load on
first use, so ``import preflight`` never imports Pillow, pyvips or numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from preflight.check import check
from preflight.cost import format_usd, image_cost, plain_decimal
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
from preflight.estimate import Estimate, estimate
from preflight.findings import Finding
from preflight.geometry import Target, api_size, parse_target, target_size, tokens
from preflight.info import Header, ImageInfo
from preflight.plan import Plan, plan
from preflight.probe import probe
from preflight.report import Report, inspect
from preflight.tables import (
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

if TYPE_CHECKING:
    from preflight.prepare import Action, PreparedImage, prepare

__version__ = "0.1.0"

# name -> module that defines it, imported on first attribute access.
# A function must not be lazy if its module may be imported by another route
# first: importing a submodule binds the package attribute to the module.
_LAZY = {
    "prepare": "preflight.prepare",
    "PreparedImage": "preflight.prepare",
    "Action": "preflight.prepare",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'preflight' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
