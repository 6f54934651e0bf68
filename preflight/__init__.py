"""preflight: check, price and fix images before they are sent to Claude's vision API.

The names here are the calls users make and what they return, the three
roots of the errors, the model table's lookup and the version (at most 50
names; a test holds it). Everything else public lives in a documented
namespace that only re-exports (docs/python.md):

- preflight.errors: every exception class;
- preflight.tables: models, tiers, surfaces, image formats, prices;
- preflight.quality: the quality measures, thresholds and decisions;
- preflight.types: every result, value and request-body type.

Names 0.2 had here and 0.3 moved stay reachable for one release: reading
one warns (DeprecationWarning) and names its new home.

Nothing is read from the environment at import: a models file named by
PREFLIGHT_MODELS is read at the first model lookup (preflight.tables).
Each public name is imported at its first use (PEP 562 `__getattr__`), so
``import preflight`` loads only the errors and the model table's module;
no module imports Pillow, pyvips or numpy at import time (they load inside
the functions that use them). No submodule is named like a public name, so
importing one never rebinds a name here.
"""

from __future__ import annotations

import warnings as _warnings
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from preflight._core import tables as _core_tables
from preflight._version import __version__
from preflight.errors import DataError, PreflightError, UsageError

if _TYPE_CHECKING:
    from preflight._core.assessment import check, request_findings
    from preflight._core.bodies import RequestReport
    from preflight._core.cost import format_usd, image_cost
    from preflight._core.estimation import Estimate, estimate
    from preflight._core.explaining import explain
    from preflight._core.findings import Finding
    from preflight._core.geometry import Target, api_size, parse_target, target_size, tokens
    from preflight._core.info import ImageInfo
    from preflight._core.options import Options, make_options
    from preflight._core.planning import Plan, plan
    from preflight._core.settings import CheckSettings, PrepareSettings
    from preflight._core.tables import DEFAULT_MODEL, Model, get_model, get_surface, get_tier
    from preflight._imaging.inspection import Report, inspect
    from preflight._imaging.preparation import PreparedImage, prepare
    from preflight._imaging.quality import QualityReport, analyze_quality
    from preflight._imaging.tiling import TileImage, Tiling, tile, tile_layout
    from preflight._inputs.probing import probe
    from preflight._requests.building import image_block
    from preflight._requests.fetching import check_request
    from preflight._requests.fixing import PreparedRequest, prepare_request
    from preflight._requests.packing import PackedRequest, pack_images

# Where each public name lives: imported at its first use (PEP 562), so
# `import preflight` (and `preflight --version`) loads almost nothing.
_HOMES: dict[str, str] = {
    "CheckSettings": "preflight._core.settings",
    "DEFAULT_MODEL": "preflight._core.tables",
    "Estimate": "preflight._core.estimation",
    "Finding": "preflight._core.findings",
    "ImageInfo": "preflight._core.info",
    "Model": "preflight._core.tables",
    "Options": "preflight._core.options",
    "PackedRequest": "preflight._requests.packing",
    "Plan": "preflight._core.planning",
    "PrepareSettings": "preflight._core.settings",
    "PreparedImage": "preflight._imaging.preparation",
    "PreparedRequest": "preflight._requests.fixing",
    "QualityReport": "preflight._imaging.quality",
    "Report": "preflight._imaging.inspection",
    "RequestReport": "preflight._core.bodies",
    "Target": "preflight._core.geometry",
    "TileImage": "preflight._imaging.tiling",
    "Tiling": "preflight._imaging.tiling",
    "analyze_quality": "preflight._imaging.quality",
    "api_size": "preflight._core.geometry",
    "check": "preflight._core.assessment",
    "check_request": "preflight._requests.fetching",
    "estimate": "preflight._core.estimation",
    "explain": "preflight._core.explaining",
    "format_usd": "preflight._core.cost",
    "get_model": "preflight._core.tables",
    "get_surface": "preflight._core.tables",
    "get_tier": "preflight._core.tables",
    "image_block": "preflight._requests.building",
    "image_cost": "preflight._core.cost",
    "inspect": "preflight._imaging.inspection",
    "make_options": "preflight._core.options",
    "pack_images": "preflight._requests.packing",
    "parse_target": "preflight._core.geometry",
    "plan": "preflight._core.planning",
    "prepare": "preflight._imaging.preparation",
    "prepare_request": "preflight._requests.fixing",
    "probe": "preflight._inputs.probing",
    "request_findings": "preflight._core.assessment",
    "target_size": "preflight._core.geometry",
    "tile": "preflight._imaging.tiling",
    "tile_layout": "preflight._imaging.tiling",
    "tokens": "preflight._core.geometry",
}

if _TYPE_CHECKING:
    MODELS: dict[str, Model]  # the live table: read through __getattr__ below

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "CheckSettings",
    "DataError",
    "Estimate",
    "Finding",
    "ImageInfo",
    "Model",
    "Options",
    "PackedRequest",
    "Plan",
    "PreflightError",
    "PrepareSettings",
    "PreparedImage",
    "PreparedRequest",
    "QualityReport",
    "Report",
    "RequestReport",
    "Target",
    "TileImage",
    "Tiling",
    "UsageError",
    "__version__",
    "analyze_quality",
    "api_size",
    "check",
    "check_request",
    "estimate",
    "explain",
    "format_usd",
    "get_model",
    "get_surface",
    "get_tier",
    "image_block",
    "image_cost",
    "inspect",
    "make_options",
    "pack_images",
    "parse_target",
    "plan",
    "prepare",
    "prepare_request",
    "probe",
    "request_findings",
    "target_size",
    "tile",
    "tile_layout",
    "tokens",
]

# 0.2's top-level names that moved to a namespace in 0.3: name -> new home.
MOVED = {
    "FORMATS": "preflight.tables",
    "Format": "preflight.tables",
    "SURFACES": "preflight.tables",
    "Surface": "preflight.tables",
    "TIERS": "preflight.tables",
    "Tier": "preflight.tables",
    "plain_decimal": "preflight.tables",
    "QUALITY_CODES": "preflight.quality",
    "QualityMeasures": "preflight.quality",
    "Thresholds": "preflight.quality",
    "effective_size": "preflight.quality",
    "quality_findings": "preflight.quality",
    "Action": "preflight.types",
    "Header": "preflight.types",
    "Pack": "preflight.types",
    "PackFailure": "preflight.types",
    "PackPlan": "preflight.types",
    "RequestChange": "preflight.types",
    "RequestImage": "preflight.types",
    **dict.fromkeys(
        (
            "ByteBudgetError",
            "ConfigError",
            "DecodeError",
            "EngineError",
            "HeaderError",
            "InvalidArgumentError",
            "MissingExtraError",
            "SizesFileError",
            "SourceError",
            "UnknownNameError",
            "WriteError",
            # merged into another class in 0.3 (preflight.errors.DEPRECATED_NAMES)
            "ClusterError",
            "CorruptHeaderError",
            "EmptyInputError",
            "EngineUnavailableError",
            "HeaderTooLargeError",
            "InvalidSizeError",
            "NotAnImageError",
            "OutputPathError",
            "TruncatedError",
            "UnsafeImageError",
            "UnsupportedFormatError",
            "WorkerCrashError",
        ),
        "preflight.errors",
    ),
}


def _read_models_from_environment() -> None:
    from preflight.tables import _models_from_environment

    _models_from_environment()


# The first model lookup reads PREFLIGHT_MODELS's file (preflight.tables):
# registered now (not a use), read at that lookup, whichever module makes it.
_core_tables.PENDING_LOADERS.append(_read_models_from_environment)


def __getattr__(name: str) -> _Any:
    if name == "MODELS":
        # The live table, after the environment's models file (first use).
        from preflight import tables

        return tables.models()
    found = _HOMES.get(name)
    if found is not None:
        import importlib

        value = getattr(importlib.import_module(found), name)
        globals()[name] = value  # once: later reads are plain attribute reads
        return value
    home = MOVED.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(home)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", DeprecationWarning)  # warned once, here
        value = getattr(module, name)
    where = f"{home}.{name}"
    if home == "preflight.errors" and name not in module.__all__:
        merged, code = module.DEPRECATED_NAMES[name]
        where = f"preflight.errors.{merged.__name__} (code {code!r})"
    _warnings.warn(
        f"preflight.{name} is deprecated and will be removed in 0.4: use {where}",
        DeprecationWarning,
        stacklevel=2,
    )
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
