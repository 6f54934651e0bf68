"""The tables preflight's answers come from: models, tiers, surfaces, image formats, prices.

A public namespace that only re-exports (the rows and lookups live in
preflight._core.tables, preflight._core.formats and preflight._core.cost),
plus the one thing the pure core cannot do itself: reading a models file
named by the environment (PREFLIGHT_MODELS, docs/configuration.md). That
happens at the first model lookup (get_model, make_options, the defaults,
`MODELS` read from here or from preflight), never at import; a file that
cannot be used is a ConfigError at that use, and at every later one.

`MODELS` is the live table: read it from this module (or from preflight),
not copied at import, to see the environment's rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from preflight._core import tables as _core
from preflight._core.cost import format_usd, image_cost, plain_decimal
from preflight._core.formats import FORMATS, Format
from preflight._core.tables import (
    DEFAULT_MODEL,
    SURFACES,
    TIERS,
    Model,
    Surface,
    Tier,
    get_model,
    get_surface,
    get_tier,
)
from preflight.errors import ConfigError

if TYPE_CHECKING:
    MODELS: dict[str, Model]  # the live table: read through __getattr__ below

__all__ = [
    "DEFAULT_MODEL",
    "FORMATS",
    "MODELS",
    "SURFACES",
    "TIERS",
    "Format",
    "Model",
    "Surface",
    "Tier",
    "format_usd",
    "get_model",
    "get_surface",
    "get_tier",
    "image_cost",
    "models",
    "plain_decimal",
]


def models() -> dict[str, Model]:
    """The model table in use: the built-in rows, with the models file
    named by PREFLIGHT_MODELS applied (read now if it was not yet)."""
    _core.run_pending_loaders()
    return _core.MODELS


def _models_from_environment() -> None:
    """Apply the rows of the file PREFLIGHT_MODELS names, if it names one.
    Applying the same rows twice is applying them once (the command line
    also applies them, with the project's, in load_models)."""
    from preflight._inputs.config import MODELS_ENV, apply_models, models_from_file

    named = os.environ.get(MODELS_ENV, "").strip()
    if not named:
        return
    try:
        rows = models_from_file(Path(named))
    except ConfigError as error:
        raise ConfigError(f"{MODELS_ENV}: {error}") from None
    apply_models(rows)


def __getattr__(name: str) -> object:
    if name == "MODELS":
        return models()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
