"""The per-call settings beyond `Options`: how to check and how to prepare.

`Options` says what the API is (model, surface, request); these say what
preflight is asked to do with an image:

- `CheckSettings` (inspect, check --decode/--quality, analyze_quality):
  decode the pixels, measure their quality and with which thresholds,
  which engine, under which pixel cap;
- `PrepareSettings` (prepare, tile, prepare PATH...): the target size, the
  image format written, the encoder's quality, the engine, the pixel cap,
  whether to measure the quality, and tiling with its overlap.

Rules (as for Options):
- frozen, holding canonical values only; built by the class (every field
  checked in __post_init__) or by make_check_settings / make_prepare_settings
  from keywords, where a target may be spelled as text; a bad value is the
  caller's mistake, an InvalidArgumentError;
- one object travels unchanged from the public entry to every worker: it
  pickles, and to_dict()/from_dict() carry it through a manifest; digest()
  is one stable hash of it (resume compares it);
- one meaning per word: `encoder_quality` is the JPEG/WebP quality,
  `measure_quality` measures the pixels, `image_format` is the format an
  image is written in. The 0.2 keywords (`quality`, `format`,
  `check_quality`) are accepted for one release, with a DeprecationWarning;
- pure: no file, network or image library.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from preflight._core.budgets import DEFAULT_PIXEL_CAP
from preflight._core.defaults import DEFAULT_OVERLAP as DEFAULT_OVERLAP
from preflight._core.formats import OUTPUT_FORMATS
from preflight._core.geometry import Target, parse_target
from preflight._core.options import KEYWORDS as OPTION_KEYWORDS
from preflight._core.options import Options, make_options
from preflight._core.tables import DEFAULT_TOKEN_RULE
from preflight.errors import InvalidArgumentError

if TYPE_CHECKING:
    from typing_extensions import Unpack

# preflight's own encoding defaults: the facts say nothing about encoder
# quality or tile overlap.
DEFAULT_ENCODER_QUALITY = 85  # first JPEG/WebP quality tried (a common visually lossless default)

# The image engines by name (preflight._imaging.engines builds them), and the
# other spellings accepted for them.
ENGINE_NAMES = ("vips", "pillow")
ENGINE_ALIASES = {"pyvips": "vips", "libvips": "vips", "pil": "pillow"}

# The formats tiles are written in (a tile must stay lossless or JPEG).
TILE_FORMATS = ("auto", "png", "jpeg")

HASH_NAME = "blake2b-256"


@dataclass(frozen=True)
class Thresholds:
    """Where each quality finding starts. preflight's own numbers, chosen on
    the evaluation set (docs/quality.md); the vision guide gives none."""

    blur: float = 0.5  # perceptual blur (0 sharp .. 1 flat) at or above this: blurry
    upscaled: float = 0.5  # effective/actual resolution at or below this: upscaled
    # and, for a smooth enlargement, the spectrum's cut-off must agree with an
    # interpolation periodicity at least this strong (1 to 3 on originals,
    # however smooth; tens on enlargements):
    periodicity: float = 6.0
    text_px: float = 12.0  # estimated text size (em, processed px) below this: small
    low_contrast: int = 64  # luminance spread (1st..99th percentile, of 255) below this
    blank: int = 16  # every channel's spread below this: blank
    border_fraction: float = 0.05  # uniform margins covering at least this share of the area

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise InvalidArgumentError(
                    f"thresholds.{item.name} must be a finite number >= 0, got {value!r}"
                )

    def to_dict(self) -> dict[str, float]:
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> Thresholds:
        return cls(**_known(cls, values, "thresholds"))  # type: ignore[arg-type]


DEFAULT_THRESHOLDS = Thresholds()


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, got {value!r}")
    return value


def _pixel_cap(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"pixel_cap must be a whole number of pixels, got {value!r}")
    return value


def engine_key(name: object) -> str | None:
    """The canonical engine name ('vips', 'pillow'), or None for the default."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidArgumentError(f"engine must be a name or None, got {name!r}")
    key = name.strip().lower()
    key = ENGINE_ALIASES.get(key, key)
    if key not in ENGINE_NAMES:
        raise InvalidArgumentError(f"unknown engine {name!r}; known: {', '.join(ENGINE_NAMES)}")
    return key


def image_format_key(name: object) -> str:
    """The canonical image format to write: 'auto' or one of OUTPUT_FORMATS."""
    if not isinstance(name, str):
        raise InvalidArgumentError(f"image_format must be a format name, got {name!r}")
    key = name.strip().lower()
    key = "jpeg" if key == "jpg" else key
    if key != "auto" and key not in OUTPUT_FORMATS:
        raise InvalidArgumentError(
            f"unknown output format {name!r}; known: auto, {', '.join(OUTPUT_FORMATS)}"
        )
    return key


def _thresholds(value: object) -> Thresholds:
    if not isinstance(value, Thresholds):
        raise InvalidArgumentError(f"thresholds must be a preflight.Thresholds, got {value!r}")
    return value


def _set(instance: object, name: str, value: object) -> None:
    object.__setattr__(instance, name, value)  # frozen: canonical values, set once


@dataclass(frozen=True)
class CheckSettings:
    """How inspect() looks at an image beyond its header."""

    decode: bool = False  # decode the pixel data: data that does not is `undecodable`
    measure_quality: bool = False  # measure the pixels: blurry, upscaled, small-text...
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    engine: str | None = None  # None: the best installed engine
    pixel_cap: int = DEFAULT_PIXEL_CAP  # refuse to decode more pixels than this

    def __post_init__(self) -> None:
        _flag(self.decode, "decode")
        _flag(self.measure_quality, "measure_quality")
        _thresholds(self.thresholds)
        _set(self, "engine", engine_key(self.engine))
        _pixel_cap(self.pixel_cap)

    @property
    def reads_pixels(self) -> bool:
        """Whether the whole source is read (a decode or a measure)."""
        return self.decode or self.measure_quality

    def to_dict(self) -> dict[str, object]:
        return {
            "decode": self.decode,
            "measure_quality": self.measure_quality,
            "thresholds": self.thresholds.to_dict(),
            "engine": self.engine,
            "pixel_cap": self.pixel_cap,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> CheckSettings:
        known = _known(cls, values, "check settings")
        if isinstance(known.get("thresholds"), Mapping):
            known["thresholds"] = Thresholds.from_dict(known["thresholds"])  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]

    def digest(self) -> str:
        return stable_digest(self.to_dict())


@dataclass(frozen=True)
class PrepareSettings:
    """How prepare() and tile() make the bytes to send."""

    target: Target = dataclasses.field(default_factory=Target)  # "effective" allowed
    image_format: str = "auto"  # auto, jpeg, png or webp (tiles: auto, png or jpeg)
    encoder_quality: int | None = None  # JPEG/WebP quality; None: preflight's default
    engine: str | None = None  # None: the best installed engine
    pixel_cap: int = DEFAULT_PIXEL_CAP  # refuse to decode more pixels than this
    measure_quality: bool = False  # put the quality findings on the result
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    tile: bool = False  # a batch makes tiles (tile()) instead of one image (prepare())
    overlap: int = DEFAULT_OVERLAP  # tiles: pixels neighbouring tiles share
    overview: bool = True  # tiles: the whole image first, when there is more than one tile

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target):
            raise InvalidArgumentError(
                f"target must be a preflight.Target (make_prepare_settings reads text), "
                f"got {self.target!r}"
            )
        parse_target(self.target, measured=True)
        _set(self, "image_format", image_format_key(self.image_format))
        quality = self.encoder_quality
        if quality is not None and (
            isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100
        ):
            raise InvalidArgumentError(
                f"encoder_quality must be a whole number 1..100, got {quality!r}"
            )
        _set(self, "engine", engine_key(self.engine))
        _pixel_cap(self.pixel_cap)
        _flag(self.measure_quality, "measure_quality")
        _thresholds(self.thresholds)
        _flag(self.tile, "tile")
        if isinstance(self.overlap, bool) or not isinstance(self.overlap, int) or self.overlap < 0:
            raise InvalidArgumentError(
                f"overlap must be a whole number of pixels >= 0, got {self.overlap!r}"
            )
        _flag(self.overview, "overview")
        if self.tile:
            self.check_tileable()

    def check_tileable(self) -> None:
        """Refuse the settings that tiles cannot honour (rather than drop them):
        tiles keep the full resolution, in PNG or JPEG, and are not measured."""
        if self.image_format not in TILE_FORMATS:
            raise InvalidArgumentError(
                f"tiles are written as {', '.join(TILE_FORMATS)}, not {self.image_format!r}"
            )
        if self.target != Target():
            raise InvalidArgumentError(
                f"tiles keep the full resolution: a target ({target_spec(self.target)}) "
                "does not apply to them"
            )
        if self.measure_quality:
            raise InvalidArgumentError(
                "the quality is not measured on tiles: measure the image (measure_quality) "
                "or tile it, not both"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "target": target_spec(self.target),
            "image_format": self.image_format,
            "encoder_quality": self.encoder_quality,
            "engine": self.engine,
            "pixel_cap": self.pixel_cap,
            "measure_quality": self.measure_quality,
            "thresholds": self.thresholds.to_dict(),
            "tile": self.tile,
            "overlap": self.overlap,
            "overview": self.overview,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> PrepareSettings:
        known = _known(cls, values, "prepare settings")
        if "target" in known:
            known["target"] = target_from_spec(known["target"])
        if isinstance(known.get("thresholds"), Mapping):
            known["thresholds"] = Thresholds.from_dict(known["thresholds"])  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]

    def digest(self) -> str:
        return stable_digest(self.to_dict())


DEFAULT_CHECK_SETTINGS = CheckSettings()
DEFAULT_PREPARE_SETTINGS = PrepareSettings()


def target_spec(target: Target) -> str | dict[str, object]:
    """A target as its command-line text when that reads back the same, else
    as its fields."""
    text = {"api": "api", "guide": "guide", "effective": "effective"}.get(target.policy)
    if target.policy == "tokens":
        text = f"tokens={target.max_tokens}"
    elif target.policy == "box" and target.box is not None:
        text = f"box={target.box[0]}x{target.box[1]}"
    if text is not None and parse_target(text, measured=True) == target:
        return text
    return {
        "policy": target.policy,
        "max_tokens": target.max_tokens,
        "rule": target.rule,
        "box": None if target.box is None else list(target.box),
    }


def target_from_spec(spec: object) -> Target:
    """target_spec() read back (text or fields), or a Target as it is."""
    if isinstance(spec, (str, Target)):
        return parse_target(spec, measured=True)
    if isinstance(spec, Mapping):
        box = spec.get("box")
        try:
            return Target(
                policy=spec.get("policy", "api"),
                max_tokens=spec.get("max_tokens"),
                rule=spec.get("rule", DEFAULT_TOKEN_RULE),
                box=None if box is None else (box[0], box[1]),
            )
        except (TypeError, IndexError, KeyError):
            pass
    raise InvalidArgumentError(f"target must be text or a target's fields, got {spec!r}")


def stable_digest(value: object) -> str:
    """'blake2b-256:<hex>' of canonical JSON: the same value, the same digest,
    in any process and any Python."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return f"{HASH_NAME}:{hashlib.blake2b(text.encode(), digest_size=32).hexdigest()}"


_D = TypeVar("_D")


def _known(cls: type[Any], values: Mapping[str, object], what: str) -> dict[str, object]:
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping, got {values!r}")
    names = {item.name for item in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidArgumentError(
            f"unknown {what} key {unknown[0]!r}; known: {', '.join(sorted(names))}"
        )
    return dict(values)


# --- keywords -----------------------------------------------------------------------


class CheckKeywords(TypedDict, total=False):
    """The keywords inspect() and analyze_quality() take in place of `settings=`."""

    decode: bool
    measure_quality: bool
    thresholds: Thresholds
    engine: str | None
    pixel_cap: int


class PrepareKeywords(TypedDict, total=False):
    """The keywords prepare() and tile() take in place of `settings=`."""

    target: str | Target
    image_format: str
    encoder_quality: int | None
    engine: str | None
    pixel_cap: int
    measure_quality: bool
    thresholds: Thresholds
    tile: bool
    overlap: int
    overview: bool


CHECK_KEYWORDS = frozenset(CheckKeywords.__annotations__)
PREPARE_KEYWORDS = frozenset(PrepareKeywords.__annotations__)

# The 0.2 names, accepted for one release (preflight 0.3) with a warning.
CHECK_ALIASES = {"quality": "measure_quality"}
PREPARE_ALIASES = {
    "quality": "encoder_quality",
    "format": "image_format",
    "check_quality": "measure_quality",
}


def renamed(
    keywords: dict[str, Any], aliases: Mapping[str, str], *, where: str, stacklevel: int
) -> None:
    """Replace each deprecated keyword by its new name, in place, warning once
    for each (a DeprecationWarning pointing at the caller's line)."""
    for old, new in aliases.items():
        if old not in keywords:
            continue
        if new in keywords:
            raise InvalidArgumentError(f"{where}: {old}= is the old name of {new}=; give one")
        warnings.warn(
            f"{where}: {old}= is deprecated (preflight 0.3) and will be removed: use {new}=",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        keywords[new] = keywords.pop(old)


def split_keywords(
    keywords: dict[str, Any], setting_names: frozenset[str], option_names: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(option keywords, setting keywords); an unknown keyword is an error
    naming both kinds."""
    options: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for key, value in keywords.items():
        if key in setting_names:
            settings[key] = value
        elif key in option_names:
            options[key] = value
        else:
            raise InvalidArgumentError(
                f"unknown keyword {key!r}; settings: {', '.join(sorted(setting_names))}; "
                f"options: {', '.join(sorted(option_names))}"
            )
    return options, settings


def make_check_settings(
    settings: CheckSettings | None = None, /, **keywords: Unpack[CheckKeywords]
) -> CheckSettings:
    """The CheckSettings for a call: `settings` (or the defaults) with
    `keywords` applied on top, every value validated."""
    return check_settings_from(settings, dict(keywords), where="make_check_settings", stacklevel=2)


def make_prepare_settings(
    settings: PrepareSettings | None = None, /, **keywords: Unpack[PrepareKeywords]
) -> PrepareSettings:
    """The PrepareSettings for a call: `settings` (or the defaults) with
    `keywords` applied on top (a target may be text: 'guide', 'tokens=800'),
    every value validated."""
    return prepare_settings_from(
        settings, dict(keywords), where="make_prepare_settings", stacklevel=2
    )


def check_settings_from(
    settings: CheckSettings | None, keywords: dict[str, Any], *, where: str, stacklevel: int
) -> CheckSettings:
    """make_check_settings for a public entry `where` (its deprecated
    keywords warn at its caller, `stacklevel` frames up)."""
    base = _base(settings, CheckSettings, DEFAULT_CHECK_SETTINGS)
    if not keywords:
        return base
    renamed(keywords, CHECK_ALIASES, where=where, stacklevel=stacklevel + 1)
    _only(keywords, CHECK_KEYWORDS, "setting")
    return dataclasses.replace(base, **keywords)


def prepare_settings_from(
    settings: PrepareSettings | None, keywords: dict[str, Any], *, where: str, stacklevel: int
) -> PrepareSettings:
    """make_prepare_settings for a public entry `where`."""
    base = _base(settings, PrepareSettings, DEFAULT_PREPARE_SETTINGS)
    if not keywords:
        return base
    renamed(keywords, PREPARE_ALIASES, where=where, stacklevel=stacklevel + 1)
    _only(keywords, PREPARE_KEYWORDS, "setting")
    if "target" in keywords:
        keywords["target"] = parse_target(keywords["target"], measured=True)
    return dataclasses.replace(base, **keywords)


def _base(settings: _D | None, cls: type[_D], default: _D) -> _D:
    if settings is None:
        return default
    if not isinstance(settings, cls):
        raise InvalidArgumentError(
            f"settings must be a preflight.{cls.__name__}, got {type(settings).__name__}"
        )
    return settings


def _only(keywords: Mapping[str, object], known: frozenset[str], what: str) -> None:
    unknown = sorted(set(keywords) - known)
    if unknown:
        raise InvalidArgumentError(
            f"unknown {what} {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )


def check_call(
    options: Options | None,
    settings: CheckSettings | None,
    keywords: dict[str, Any],
    *,
    where: str,
    stacklevel: int,
) -> tuple[Options, CheckSettings]:
    """The Options and CheckSettings of a public entry `where`, validated
    once, from its `options=`, `settings=` and keywords of either kind."""
    if not keywords:
        return make_options(options), _base(settings, CheckSettings, DEFAULT_CHECK_SETTINGS)
    renamed(keywords, CHECK_ALIASES, where=where, stacklevel=stacklevel + 1)
    chosen, wanted = split_keywords(keywords, CHECK_KEYWORDS, OPTION_KEYWORDS)
    made = make_options(options, **chosen)
    return made, check_settings_from(settings, wanted, where=where, stacklevel=stacklevel + 1)


def prepare_call(
    options: Options | None,
    settings: PrepareSettings | None,
    keywords: dict[str, Any],
    *,
    where: str,
    stacklevel: int,
) -> tuple[Options, PrepareSettings]:
    """The Options and PrepareSettings of a public entry `where`, validated once."""
    if not keywords:
        return make_options(options), _base(settings, PrepareSettings, DEFAULT_PREPARE_SETTINGS)
    renamed(keywords, PREPARE_ALIASES, where=where, stacklevel=stacklevel + 1)
    chosen, wanted = split_keywords(keywords, PREPARE_KEYWORDS, OPTION_KEYWORDS)
    made = make_options(options, **chosen)
    return made, prepare_settings_from(settings, wanted, where=where, stacklevel=stacklevel + 1)
