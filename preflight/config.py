# Configuration files: models and prices added or overridden without a
# release. Rules:
# - two places, read with tomllib (tomli before Python 3.11): the
#   [tool.preflight.models] table of the nearest pyproject.toml (found from a
#   folder upward, as ruff finds its configuration) or of a preflight.toml
#   ([models] at its top level), and a TOML file named by the environment
#   variable PREFLIGHT_MODELS ([models] at its top level, or model tables at
#   its top level); the environment's file is applied last, so it wins;
# - a row names a model id; for a known id only the keys given change, a new
#   id needs a price (or `price = "unpublished"`) and gets the smaller image
#   cap and the standard tier unless it says otherwise (see docs/configuration.md);
# - every key and value is validated: an unknown key or a bad value is a
#   ConfigError (a UsageError: the CLI exits 2) naming the file and the key;
# - this is the shell: the pure core only ever sees the resulting table.

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from preflight.core.options import refresh_defaults
from preflight.core.tables import (
    BUILTIN_MODELS,
    MODELS,
    Model,
    get_tier,
    image_cap_for_context,
    install_models,
    parse_price,
    reset_models,
)
from preflight.errors import ConfigError, InvalidArgumentError, UnknownNameError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODELS_ENV = "PREFLIGHT_MODELS"
PROJECT_FILES = ("preflight.toml", "pyproject.toml")

# The keys a model row may hold, and what each means (docs/configuration.md).
MODEL_KEYS = {
    "price": 'USD per million input tokens (a string like "2.50"), or "unpublished"',
    "tier": "standard or high-res",
    "context": "context window in tokens (sets the image cap: 100 up to 200K, else 600)",
    "image_cap": "image blocks per request (overrides the one from context)",
    "long_prompt_price": "USD per million input tokens for prompts over long_prompt_threshold",
    "long_prompt_threshold": "prompt tokens above which long_prompt_price applies",
    "aliases": "other names for the model (a list of strings)",
    "status": "a note shown with the model (e.g. deprecated)",
}


def find_project_config(start: Path) -> Path | None:
    """The nearest preflight.toml, or pyproject.toml with a [tool.preflight]
    table, from `start` (a folder or a file) upward."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder.resolve(), *folder.resolve().parents):
        for name in PROJECT_FILES:
            path = candidate / name
            if path.is_file() and (name == "preflight.toml" or _has_tool_table(path)):
                return path
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return b"[tool.preflight" in path.read_bytes()
    except OSError:
        return False


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML (not UTF-8 text)") from None


def preflight_table(path: Path) -> dict[str, Any]:
    """The preflight settings of a project file: [tool.preflight] of a
    pyproject.toml, the whole of a preflight.toml."""
    data = read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("preflight", {}) if isinstance(tool, dict) else {}
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.preflight] must be a table")
    return table


def models_from_table(table: object, source: str) -> dict[str, Model]:
    """Model rows from a {model id: {key: value}} table, validated."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: models must be a table of model tables")
    rows: dict[str, Model] = {}
    for name, row in table.items():
        where = f"{source}: models.{name}"
        if not isinstance(row, Mapping):
            raise ConfigError(f"{where}: must be a table of keys ({', '.join(MODEL_KEYS)})")
        unknown = sorted(set(row) - set(MODEL_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r}; known: {', '.join(MODEL_KEYS)}"
            )
        try:
            rows[name] = _model_row(name, dict(row), MODELS.get(name))
        except (InvalidArgumentError, UnknownNameError) as error:
            raise ConfigError(f"{where}: {error}") from None
    return rows


def _whole(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, got {value!r}")
    return value


def _model_row(name: str, row: dict[str, Any], known: Model | None) -> Model:
    if known is None and "price" not in row:
        raise ConfigError(
            'a new model needs a price (USD per million input tokens, or "unpublished")'
        )
    model = known if known is not None else Model(name, None, aliases=())
    changes: dict[str, Any] = {}
    if "price" in row:
        price = row["price"]
        changes["input_usd_per_mtok"] = (
            None if price == "unpublished" else parse_price(price, "price")
        )
    if "tier" in row:
        changes["tier"] = get_tier(row["tier"]).name
    if "context" in row:
        context = _whole(row["context"], "context")
        changes["context_tokens"] = context
        changes["max_images"] = image_cap_for_context(context)
    elif known is None:
        changes["context_tokens"] = None
    if "image_cap" in row:
        changes["max_images"] = _whole(row["image_cap"], "image_cap")
    if ("long_prompt_price" in row) != ("long_prompt_threshold" in row):
        raise ConfigError("long_prompt_price and long_prompt_threshold go together")
    if "long_prompt_price" in row:
        changes["long_prompt_usd_per_mtok"] = parse_price(
            row["long_prompt_price"], "long_prompt_price"
        )
        changes["long_prompt_threshold"] = _whole(
            row["long_prompt_threshold"], "long_prompt_threshold"
        )
    if "aliases" in row:
        aliases = row["aliases"]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ConfigError(f"aliases must be a list of strings, got {aliases!r}")
        changes["aliases"] = tuple(a.strip().lower() for a in aliases)
    if "status" in row:
        if not isinstance(row["status"], str):
            raise ConfigError(f"status must be a string, got {row['status']!r}")
        changes["status"] = row["status"]
    return dataclasses.replace(model, **changes)


def models_from_file(path: Path) -> dict[str, Model]:
    """The rows of a models file (PREFLIGHT_MODELS): a [models] table, or
    model tables at the top level."""
    data = read_toml(path)
    table = data.get("models", data) if isinstance(data, dict) else data
    return models_from_table(table, str(path))


def apply_models(rows: dict[str, Model]) -> None:
    """Put rows into the table used by every lookup (and the defaults)."""
    install_models(rows)
    refresh_defaults()


def load_models(project: Path | None = None, *, environment: bool = True) -> list[str]:
    """Apply the model rows of the project file found from `project` upward
    (if any) and of PREFLIGHT_MODELS (if set): back to the built-in rows
    first, so loading twice is loading once. Returns the files applied."""
    reset_models()
    applied: list[str] = []
    if project is not None:
        found = find_project_config(project)
        if found is not None:
            table = preflight_table(found)
            if "models" in table:
                apply_models(models_from_table(table["models"], str(found)))
                applied.append(str(found))
    named = os.environ.get(MODELS_ENV, "").strip() if environment else ""
    if named:
        path = Path(named)
        apply_models(models_from_file(path))
        applied.append(str(path))
    refresh_defaults()
    return applied


def builtin_model_names() -> list[str]:
    return [m.name for m in BUILTIN_MODELS]
