"""Configuration files: models and prices added or overridden without a release.

Rules:
- two places, read with tomllib (tomli before Python 3.11): the
  [tool.preflight.models] table of the nearest pyproject.toml (found from a
  folder upward, as ruff finds its configuration) or of a preflight.toml
  ([models] at its top level), and a TOML file named by the environment
  variable PREFLIGHT_MODELS ([models] at its top level, or model tables at
  its top level); the environment's file is applied last, so it wins;
- a row names a model id; for a known id only the keys given change, a new
  id needs a price (or `price = "unpublished"`) and gets the smaller image
  cap and the standard tier unless it says otherwise (see docs/configuration.md);
- every key and value is validated: an unknown key or a bad value is a
  ConfigError (a UsageError: the CLI exits 2) naming the file and the key;
- a project file found by searching upward (one may sit in a downloaded
  folder being checked) may add models, but a row that re-points a
  built-in model (its id, an alias, or a spelling that resolves to it)
  needs `override = true` in that row; a file named outright (--config, or
  PREFLIGHT_MODELS) is the user's own choice and needs no opt-in;
- every file is read within a bound (budgets.MAX_CONFIG_BYTES): a device
  such as /dev/zero, a huge file or a TOML nested past the parser's depth
  is one ConfigError, never a read until the memory is gone or a traceback;
- the same file holds the command-line settings ([tool.preflight] of a
  pyproject.toml, the top level of a preflight.toml): kebab-case keys as
  ruff spells them (SETTINGS_KEYS), validated the same way; the CLI makes
  them the defaults of its flags, so a flag given on the command line wins;
- this is the shell: the pure core only ever sees the resulting table.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight._core.budgets import MAX_CONFIG_BYTES
from preflight._core.options import refresh_defaults
from preflight._core.selection import check_selectors
from preflight._core.tables import (
    BUILTIN_MODELS,
    MODELS,
    OVERSIZED_POLICIES,
    SURFACES,
    TIERS,
    TOKEN_RULES,
    Model,
    get_model,
    get_surface,
    get_tier,
    image_cap_for_context,
    install_models,
    normalize_model_name,
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
    "override": "true to change a built-in model from a project file found by search",
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
        with path.open("rb") as handle:
            return b"[tool.preflight" in handle.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return False


def read_bounded(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a configuration file, at most `limit` of them: more is a
    ConfigError (a device, or a file that is no configuration)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > limit:
        raise ConfigError(
            f"{path}: more than {limit:,} bytes: too large for a configuration file "
            "(preflight reads no more)"
        )
    return data


def read_toml(path: Path) -> dict[str, Any]:
    data = read_bounded(path)
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML (not UTF-8 text)") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply to read)") from None
    return parsed


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


def models_from_table(table: object, source: str, *, found: bool = False) -> dict[str, Model]:
    """Model rows from a {model id: {key: value}} table, validated. `found`:
    the table is a project file's found by searching, whose rows re-point a
    built-in model only with `override = true`."""
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
        override = row.get("override", False)
        if not isinstance(override, bool):
            raise ConfigError(f"{where}: override must be true or false, got {override!r}")
        if found and not override:
            builtin = _builtin_named(name, row.get("aliases"))
            if builtin is not None:
                raise ConfigError(
                    f"{where}: re-points the built-in model {builtin!r} (its price, tier or "
                    "limits); a project file found by search may add models, not change "
                    "built-in ones: add `override = true` to the row if that is meant, or "
                    "name the file with --config"
                )
        values = {key: value for key, value in row.items() if key != "override"}
        try:
            rows[name] = _model_row(name, values, MODELS.get(name))
        except (InvalidArgumentError, UnknownNameError) as error:
            raise ConfigError(f"{where}: {error}") from None
    return rows


def _builtin_named(name: object, aliases: object) -> str | None:
    """The built-in model a row's id or one of its aliases names, if any:
    the id itself, an alias, or a spelling that resolves to one."""
    builtin = {model.name for model in BUILTIN_MODELS}
    spellings = [name, *(aliases if isinstance(aliases, list) else [])]
    for spelling in spellings:
        if not isinstance(spelling, str):
            continue
        try:
            resolved = normalize_model_name(spelling)
        except (InvalidArgumentError, UnknownNameError):
            continue
        if resolved in builtin:
            return resolved
    return None


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


def load_models(
    project: Path | None = None,
    *,
    environment: bool = True,
    file: Path | None = None,
    searched: bool = False,
) -> list[str]:
    """Apply the model rows of the project file found from `project` upward
    (or of `file`, a project file named outright, or found by the caller's
    own search when `searched`), and of PREFLIGHT_MODELS (if set): back to
    the built-in rows first, so loading twice is loading once. A file found
    by search re-points built-in models only in rows that say `override =
    true`. Returns the files applied."""
    reset_models()
    applied: list[str] = []
    if project is not None or file is not None:
        found = file
        if found is None and project is not None:
            found = find_project_config(project)
        if found is not None:
            table = preflight_table(found)
            if "models" in table:
                by_search = searched or file is None
                apply_models(models_from_table(table["models"], str(found), found=by_search))
                applied.append(str(found))
    named = os.environ.get(MODELS_ENV, "").strip() if environment else ""
    if named:
        path = Path(named)
        try:
            rows = models_from_file(path)
        except ConfigError as error:
            raise ConfigError(f"{MODELS_ENV}: {error}") from None
        apply_models(rows)
        applied.append(str(path))
    refresh_defaults()
    return applied


def builtin_model_names() -> list[str]:
    return [m.name for m in BUILTIN_MODELS]


# --- command-line settings ----------------------------------------------------

OUTPUT_FORMATS = ("text", "json", "jsonl", "github", "sarif", "junit")

# Every key of [tool.preflight] (kebab-case, as ruff spells its keys), what it
# means, and the flag's destination it sets (None: read by the CLI itself).
SETTINGS_KEYS: dict[str, tuple[str, str | None]] = {
    "model": ("the Claude model (name, alias or dated id)", "model"),
    "price": ('a custom price, USD per million input tokens (a string like "2.50")', "price"),
    "tier": ("override the model's tier: standard or high-res", "tier"),
    "rule": ("token rule: patches (what the API bills) or guide", "token_rule"),
    "batch": ("price with the Message Batches discount (true or false)", "batch"),
    "surface": (f"where the images go: {', '.join(SURFACES)}", "surface"),
    "images-per-request": ("image blocks in the whole request", "images_per_request"),
    "oversized": ("what the API does with an oversized image: downsize or error", "oversized"),
    "max-bytes": ("per-image limit in bytes of base64 text", "max_bytes"),
    "strict": ("exit 1 on warnings too (true or false)", "strict"),
    "output-format": (f"output format: {', '.join(OUTPUT_FORMATS)}", "format"),
    "select": ("codes to report: codes, severities (error, warning, info) or ALL", None),
    "extend-select": ("codes to report on top of select", None),
    "ignore": ("codes not to report", None),
    "extend-ignore": ("codes not to report, on top of ignore", None),
    "per-file-ignores": ("a table: glob = [codes not to report for matching files]", None),
    "exclude": ("globs of files and folders the walk skips", None),
    "extend-exclude": ("globs the walk skips, on top of exclude", None),
    "force-exclude": ("apply exclude to files named on the command line too", "force_exclude"),
    "respect-gitignore": (
        "skip files git ignores (true or false; default true)",
        "respect_gitignore",
    ),
    "models": ("a table of model rows (see [tool.preflight.models])", None),
}
_SELECTION_KEYS = ("select", "extend-select", "ignore", "extend-ignore")


@dataclass(frozen=True)
class ProjectConfig:
    """The validated [tool.preflight] of one file (or nothing: `path` None).
    (Named apart from the per-call CheckSettings and PrepareSettings.)"""

    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)  # globs are relative to it
    values: Mapping[str, Any] = field(default_factory=dict)  # kebab-case keys

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def flag_defaults(self) -> dict[str, Any]:
        """{flag destination: value} for the keys that stand for a flag."""
        found: dict[str, Any] = {}
        for key, value in self.values.items():
            dest = SETTINGS_KEYS[key][1]
            if dest is not None:
                found[dest] = value
        return found


def settings_file(
    paths: Sequence[str], *, config: str | None, isolated: bool, cwd: Path
) -> Path | None:
    """The file the settings come from: --config's, none with --isolated,
    else the nearest project file above the paths' common folder (the
    current folder when there are no paths, or they come from stdin)."""
    if isolated:
        return None
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"--config {config}: no such file")
        return path
    start = cwd
    named = [p for p in paths if p != "-"]
    if named and len(named) == len(paths):
        try:
            common = Path(os.path.commonpath([os.path.abspath(p) for p in named]))
        except ValueError:  # pragma: no cover - different drives on Windows
            common = cwd
        start = common if common.is_dir() else common.parent
        while not start.exists() and start != start.parent:
            start = start.parent
    return find_project_config(start)


def load_settings(path: Path | None) -> ProjectConfig:
    """The validated settings of `path` (models already applied: a model
    named in the settings may be one of the file's rows)."""
    if path is None:
        return ProjectConfig()
    table = preflight_table(path)
    where = f"{path}: [tool.preflight]" if path.name == "pyproject.toml" else str(path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in SETTINGS_KEYS:
            hint = key.replace("_", "-")
            suggestion = f" (did you mean {hint!r}?)" if hint in SETTINGS_KEYS else ""
            raise ConfigError(
                f"{where}: unknown key {key!r}{suggestion}; known: {', '.join(SETTINGS_KEYS)}"
            )
        if key == "models":
            continue
        try:
            values[key] = _setting(key, value, table)
        except (InvalidArgumentError, UnknownNameError) as error:
            message = str(error)
            raise ConfigError(f"{where}: {key}: {message}") from None
    return ProjectConfig(path, path.parent.resolve(), values)


def _setting(key: str, value: Any, table: Mapping[str, Any]) -> Any:
    """One value, validated (raises InvalidArgumentError / UnknownNameError)."""
    if key in ("batch", "strict", "force-exclude", "respect-gitignore"):
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"must be true or false, got {value!r}")
        return value
    if key in ("images-per-request", "max-bytes"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"must be a whole number of at least 1, got {value!r}")
        return value
    if key == "model":
        if not isinstance(value, str):
            raise InvalidArgumentError(f"must be a string, got {value!r}")
        if "price" not in table:
            get_model(value)  # an unknown name needs a price, as --model does
        return value
    if key == "price":
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise InvalidArgumentError(f'must be a string such as "2.50", got {value!r}')
        parse_price(value, "price")
        return str(value)
    choices = {
        "tier": tuple(TIERS),
        "rule": TOKEN_RULES,
        "oversized": (*OVERSIZED_POLICIES, "resize"),
        "output-format": OUTPUT_FORMATS,
    }
    if key in choices:
        if value not in choices[key]:
            raise InvalidArgumentError(f"must be one of {', '.join(choices[key])}, got {value!r}")
        return value
    if key == "surface":
        if not isinstance(value, str):
            raise InvalidArgumentError(f"must be a string, got {value!r}")
        return get_surface(value).name
    if key in _SELECTION_KEYS or key in ("exclude", "extend-exclude"):
        items = _strings(value)
        if key in _SELECTION_KEYS:
            check_selectors(items)
        return items
    if key == "per-file-ignores":
        if not isinstance(value, Mapping):
            raise InvalidArgumentError(f'must be a table of glob = ["code", ...], got {value!r}')
        found: dict[str, tuple[str, ...]] = {}
        for pattern, codes in value.items():
            found[pattern] = check_selectors(_strings(codes))
        return found
    raise AssertionError(key)  # pragma: no cover - every key is handled above


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list):
        raise InvalidArgumentError(f"must be a list of strings, got {value!r}")
    if not all(isinstance(item, str) for item in value):
        raise InvalidArgumentError(f"must be a list of strings, got {value!r}")
    return tuple(value)
