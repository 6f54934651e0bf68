"""The numbers preflight is built on, as plain data, and nothing else.

Rules:
- every constant names its source, as docs/ does ("vision guide", "current
  docs", a documentation page by title); docs/README.md lists the sources;
- where the facts are silent the value is None and the comment says so;
  nothing here is guessed, and an assumption is marked as one;
- each table has one lookup that normalizes the name and, for an unknown
  name, raises UnknownNameError listing the known names and saying how to
  pass a custom value instead (as tiktoken does for encodings);
- the tables can be extended or overridden without a release
  (preflight._inputs.config reads [tool.preflight.models]); this module only holds
  the built-in rows and the lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypedDict

from preflight.errors import InvalidArgumentError, UnknownNameError

MB = 1_048_576  # current docs: "1 MB here is 1,048,576 bytes"

PATCH_PX = 28  # current docs: tokens are 28 x 28 px patches
GUIDE_PX_PER_TOKEN = 750  # vision guide: tokens = (width_px * height_px) / 750

SMALL_SIDE_PX = 200  # vision guide: any side under 200 px may degrade quality

# vision guide tip: resize client-side to at most 1.15 megapixels and within
# 1568 px in both dimensions. "Megapixel" is 10**6 px: the guide calls
# 1092 x 1092 (1,192,464 px) "1.19 MP".
GUIDE_TIP_MAX_PIXELS = 1_150_000
GUIDE_TIP_MAX_SIDE = 1568

MILLION = 1_000_000
BATCH_DISCOUNT = Decimal("0.5")  # "Pricing": Message Batches 50% off input, every model


def _key(name: object) -> str:
    """A table lookup key. A name that is not a string (None, a number) gets
    a key no table holds, so the lookup raises UnknownNameError listing the
    known names, as for a misspelling, never AttributeError."""
    return name.strip().lower() if isinstance(name, str) else ""


# --- resolution tiers (current docs, "Resolution tiers") ---------------------


@dataclass(frozen=True)
class Tier:
    name: str
    max_edge: int  # longest side, tested on the edge padded up to whole patches
    max_patch_tokens: int


TIERS: dict[str, Tier] = {
    "standard": Tier("standard", max_edge=1568, max_patch_tokens=1568),
    "high-res": Tier("high-res", max_edge=2576, max_patch_tokens=4784),
}
_TIER_ALIASES = {"high-resolution": "high-res", "highres": "high-res", "hi-res": "high-res"}


def get_tier(name: str | Tier) -> Tier:
    if isinstance(name, Tier):
        return name
    key = _key(name)
    key = _TIER_ALIASES.get(key, key)
    try:
        return TIERS[key]
    except KeyError:
        raise UnknownNameError(
            "tier",
            name,
            TIERS,
            "For another tier pass preflight.Tier(name, max_edge=..., max_patch_tokens=...).",
        ) from None


# --- surfaces: where images are sent (docs/limits.md) -------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    # Images per request (per message on claude.ai). None: the model's image
    # cap decides (the Messages API and the platforms serving it).
    max_images: int | None
    max_image_base64_bytes: int  # per image, measured on the base64 text
    max_request_bytes: int | None  # whole request body (HTTP 413 above it)
    max_side_px: int | None  # any side over this is rejected
    many_images_threshold: int | None  # more image blocks than this in a request ...
    many_images_max_side_px: int | None  # ... and any side over this is rejected
    # On Bedrock and Google Cloud, PDF (document) blocks count toward the
    # many-image rule too ("Vision").
    documents_count_as_images: bool = False
    # Image source kinds the surface takes ("Vision": only base64 on Bedrock
    # and Google Cloud; the Claude API also takes url and file).
    source_kinds: tuple[str, ...] = ("base64", "url", "file")
    note: str = ""


class _PixelLimits(TypedDict):
    max_side_px: int
    many_images_threshold: int
    many_images_max_side_px: int


_PIXEL_LIMITS: _PixelLimits = {  # "Vision": 8000 px; 2000 px a side in requests of over 20 images
    "max_side_px": 8000,
    "many_images_threshold": 20,
    "many_images_max_side_px": 2000,
}

SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        # "Vision": 10 MB per image on the Claude API; "API overview": 32 MB
        # request body for Messages (and Token Counting).
        Surface(
            "api",
            max_images=None,
            max_image_base64_bytes=10 * MB,
            max_request_bytes=32 * MB,
            **_PIXEL_LIMITS,
            note="Claude API (Messages): 10 MB per image, 32 MB request, model's image cap",
        ),
        # "Vision": 5 MB per image on Bedrock; AWS documentation: InvokeModel
        # payloads are limited to 20 MB.
        Surface(
            "bedrock",
            max_images=None,
            max_image_base64_bytes=5 * MB,
            max_request_bytes=20 * MB,
            **_PIXEL_LIMITS,
            documents_count_as_images=True,
            source_kinds=("base64",),
            note="Amazon Bedrock: 5 MB per image, 20 MB payload (AWS documentation)",
        ),
        # "Vision": 5 MB per image on Vertex AI; the 30 MB request limit is a
        # third-party report only (docs/limits.md).
        Surface(
            "vertex",
            max_images=None,
            max_image_base64_bytes=5 * MB,
            max_request_bytes=30 * MB,
            **_PIXEL_LIMITS,
            documents_count_as_images=True,
            source_kinds=("base64",),
            note="Google Cloud Vertex AI: 5 MB per image, 30 MB request (third-party report)",
        ),
        # vision guide and "Vision": 20 images per message, 10 MB each. No
        # pixel, many-image or request-size limit is documented for claude.ai.
        Surface(
            "claude.ai",
            max_images=20,
            max_image_base64_bytes=10 * MB,
            max_request_bytes=None,
            max_side_px=None,
            many_images_threshold=None,
            many_images_max_side_px=None,
            note="claude.ai: 20 images per message, 10 MB; no pixel limit documented",
        ),
        # The vision guide's own Messages API numbers (older than "Vision"):
        # 100 images, 5 MB per image, 32 MB request. Kept to reproduce the guide.
        Surface(
            "vision-guide",
            max_images=100,
            max_image_base64_bytes=5 * MB,
            max_request_bytes=32 * MB,
            **_PIXEL_LIMITS,
            note="the vision guide's Messages API limits: 100 images, 5 MB, 32 MB",
        ),
    )
}
DEFAULT_SURFACE = "api"
# The surfaces that are clouds ("Models overview": some models retired on the
# Claude API are still served on some clouds).
CLOUD_SURFACES = ("bedrock", "vertex")
_SURFACE_ALIASES = {
    "messages": "api",
    "messages-api": "api",
    "claude-api": "api",
    "api-direct": "api",
    "direct": "api",
    "anthropic": "api",
    "claude-ai": "claude.ai",
    "claudeai": "claude.ai",
    "vertex-ai": "vertex",
    "google-vertex": "vertex",
    "amazon-bedrock": "bedrock",
    "aws-bedrock": "bedrock",
    "guide": "vision-guide",
}

# "API overview": request body limits of the other endpoints.
REQUEST_LIMIT_BATCHES = 256 * MB  # Message Batches (per batch or per request: not stated)
REQUEST_LIMIT_FILES_API = 500 * MB


def get_surface(name: str | Surface) -> Surface:
    if isinstance(name, Surface):
        return name
    key = _key(name)
    key = _SURFACE_ALIASES.get(key, key)
    try:
        return SURFACES[key]
    except KeyError:
        raise UnknownNameError(
            "surface",
            name,
            SURFACES,
            "For another surface pass a preflight.Surface(...) with its limits.",
        ) from None


# --- models (docs/models.md: "Models overview", "Pricing", "Vision") ----------

# "Vision": 100 images per request on models with a 200K-token context
# window, 600 on every other model.
SMALL_CONTEXT_TOKENS = 200_000
SMALL_CONTEXT_IMAGE_CAP = 100
LARGE_CONTEXT_IMAGE_CAP = 600


# Lifecycle of a model ("Models overview", each model's page; SDK 2.17):
# available now (whatever the page calls it: current, latest, active,
# limited access ...), legacy (still served, older), deprecated (served
# until its retirement date), retired (the API answers "not found").
CURRENT = "current"
LEGACY = "legacy"
DEPRECATED = "deprecated"
RETIRED = "retired"
LIFECYCLES = (CURRENT, LEGACY, DEPRECATED, RETIRED)
# preflight's own notice period: a deprecated model this many days (or
# fewer) from its retirement date gets a warning. Not from a source.
RETIREMENT_WARNING_DAYS = 30

# "A maximum of 100 PDF pages may be provided." (API error messages
# observed in public reports, 2026). A third party reports 600 pages on
# 1M-context models; no Anthropic source says so, so it is kept here as a
# report and not applied: preflight checks 100 pages on every model, which
# rejects sooner, never later (docs/requests.md).
MAX_PDF_PAGES = 100
MAX_PDF_PAGES_REPORTED_LARGE_CONTEXT = 600  # third-party report only: not applied


def image_cap_for_context(context_tokens: int | None) -> int:
    """The image cap from the context window; an unknown window gets the
    smaller cap (an assumption that rejects sooner, never later)."""
    if context_tokens is None or context_tokens <= SMALL_CONTEXT_TOKENS:
        return SMALL_CONTEXT_IMAGE_CAP
    return LARGE_CONTEXT_IMAGE_CAP


@dataclass(frozen=True)
class Model:
    name: str
    # USD per million input tokens; None where no price is published (pricing
    # such a model needs price_per_mtok).
    input_usd_per_mtok: Decimal | None
    tier: str | Tier = "standard"  # a name in TIERS, or a custom Tier
    max_images: int = SMALL_CONTEXT_IMAGE_CAP  # image blocks per request
    context_tokens: int | None = SMALL_CONTEXT_TOKENS
    # A second rate for long prompts ("Pricing", Haiku 5.5): prompts of more
    # than long_prompt_threshold tokens are priced at long_prompt_usd_per_mtok.
    long_prompt_usd_per_mtok: Decimal | None = None
    long_prompt_threshold: int | None = None
    status: str = ""  # as the model's page words it (docs/models.md)
    aliases: tuple[str, ...] = field(default=())  # dated ids and other spellings
    assumed: str = ""  # what preflight assumes for this model, where the docs are silent
    lifecycle: str = CURRENT  # one of LIFECYCLES, as documented (see lifecycle_on)
    # deprecated: the day it retires; retired: the day it retired, where known
    retires_on: date | None = None
    # Retired on the Claude API but still served on some clouds ("Models
    # overview": Opus 4 and 4.1); which clouds is not said.
    clouds_may_serve: bool = False

    def lifecycle_on(self, today: date) -> str:
        """The lifecycle on `today`: a deprecated model is retired from its
        retirement date on."""
        if (
            self.lifecycle == DEPRECATED
            and self.retires_on is not None
            and today >= self.retires_on
        ):
            return RETIRED
        return self.lifecycle

    def days_left(self, today: date) -> int | None:
        """Days until retirement for a model not yet retired that has a date."""
        if self.retires_on is None or self.lifecycle_on(today) == RETIRED:
            return None
        return (self.retires_on - today).days

    def rate(self, prompt_tokens: int | None = None) -> tuple[Decimal | None, str]:
        """(USD per million input tokens, what was assumed to pick it)."""
        if self.long_prompt_usd_per_mtok is None or self.long_prompt_threshold is None:
            return self.input_usd_per_mtok, ""
        if prompt_tokens is None:
            return self.input_usd_per_mtok, (
                f"{self.name} has two input rates; the prompt length is unknown, so the rate "
                f"for prompts up to {self.long_prompt_threshold:,} tokens is assumed "
                f"(${self.long_prompt_usd_per_mtok}/MTok above; pass prompt_tokens=)"
            )
        if prompt_tokens > self.long_prompt_threshold:
            return self.long_prompt_usd_per_mtok, ""
        return self.input_usd_per_mtok, ""


def _model(
    name: str,
    price: str | None,
    context: int | None,
    tier: str,
    status: str,
    *aliases: str,
    long_price: str | None = None,
    assumed: str = "",
    max_images: int | None = None,
    lifecycle: str | None = None,
    retires_on: date | None = None,
    clouds_may_serve: bool = False,
) -> Model:
    return Model(
        name,
        None if price is None else Decimal(price),
        tier,
        max_images=image_cap_for_context(context) if max_images is None else max_images,
        context_tokens=context,
        long_prompt_usd_per_mtok=None if long_price is None else Decimal(long_price),
        long_prompt_threshold=None if long_price is None else 100_000,
        status=status,
        aliases=aliases,
        assumed=assumed,
        lifecycle=(LEGACY if status == LEGACY else CURRENT) if lifecycle is None else lifecycle,
        retires_on=retires_on,
        clouds_may_serve=clouds_may_serve,
    )


_1M = 1_000_000
_200K = 200_000
HIGH = "high-res"  # "Vision": Claude 4.7 and later
STD = "standard"  # "Vision": every other model

# In the order of docs/models.md (a test compares the two).
BUILTIN_MODELS: tuple[Model, ...] = (
    _model("claude-fable-5-2", "8", _1M, HIGH, "current"),
    _model("claude-mythos-5-2", None, _1M, HIGH, "verified organizations only"),
    _model("claude-haiku-5-5", "0.10", _1M, HIGH, "latest", long_price="0.50"),
    _model("claude-sonnet-5-5", "2", _1M, HIGH, "latest"),
    _model("claude-opus-5-5", "4", _1M, HIGH, "latest"),
    _model("claude-fable-5-1", "10", _1M, HIGH, "active"),
    _model("claude-mythos-5-1", "10", _1M, HIGH, "limited access"),
    _model("claude-sonnet-5", "2", _1M, HIGH, "legacy"),
    _model("claude-fable-5", "10", _1M, HIGH, "legacy"),
    _model("claude-mythos-5", "10", _1M, HIGH, "invitation only"),
    _model("claude-opus-5", "5", _1M, HIGH, "legacy"),
    _model("claude-opus-4-8", "5", _1M, HIGH, "legacy"),
    _model("claude-opus-4-7", "5", _1M, HIGH, "legacy"),
    _model("claude-opus-4-6", "5", _1M, STD, "legacy"),
    _model("claude-sonnet-4-6", "3", _1M, STD, "legacy"),
    _model("claude-haiku-4-5", "1", _200K, STD, "legacy", "claude-haiku-4-5-20251001"),
    _model("claude-opus-4-5", "5", _200K, STD, "legacy", "claude-opus-4-5-20251101"),
    # "Models overview" (late November 2026): deprecated, retiring on
    # 2026-11-30; reports from December 2026 and SDK 2.17's model list
    # (which no longer has it): retired on that day.
    _model(
        "claude-sonnet-4-5",
        "3",
        _200K,
        STD,
        "deprecated, retires 2026-11-30",
        "claude-sonnet-4-5-20250929",
        lifecycle=DEPRECATED,
        retires_on=date(2026, 11, 30),
    ),
    # Retired; no source gives the day.
    _model(
        "claude-opus-4-1",
        "15",
        _200K,
        STD,
        "retired on the Claude API",
        lifecycle=RETIRED,
        clouds_may_serve=True,
    ),
    _model(
        "claude-opus-4",
        "15",
        _200K,
        STD,
        "retired on the Claude API",
        "claude-opus-4-0",
        lifecycle=RETIRED,
        clouds_may_serve=True,
    ),
    _model("claude-sonnet-4", "3", _200K, STD, "retired", "claude-sonnet-4-0", lifecycle=RETIRED),
    _model(
        "claude-3-5-haiku", "0.80", _200K, STD, "retired", "claude-haiku-3-5", lifecycle=RETIRED
    ),
    # In the SDK 2.14 model list only: no price, context, tier or cap is
    # published. The smaller cap and the standard tier are assumed: the
    # first rejects sooner, never later; the second makes prepare's output
    # small enough for either tier.
    _model(
        "claude-mythos-preview",
        None,
        None,
        STD,
        "in the SDK model list only (2.14, 2.17)",
        assumed="tier and image cap not published: standard tier and 100 images assumed",
    ),
)

MODELS: dict[str, Model] = {m.name: m for m in BUILTIN_MODELS}
# A current, generally available model ("Models overview": latest).
DEFAULT_MODEL = "claude-sonnet-5-5"

_SNAPSHOT_SUFFIX = re.compile(r"-(\d{8}|latest)$")
_UNKNOWN_MODEL_HINT = (
    "Pass price_per_mtok=... (USD per million input tokens) and tier='standard' or "
    "'high-res', or a preflight.Model(name, input_usd_per_mtok, tier), or add it under "
    "[tool.preflight.models] (docs/configuration.md)."
)


def _alias_index(models: dict[str, Model]) -> dict[str, str]:
    index: dict[str, str] = {}
    for model in models.values():
        for alias in model.aliases:
            index[alias] = model.name
    return index


_ALIASES = _alias_index(MODELS)


def normalize_model_name(name: str) -> str:
    """The table key for a spelling: dots or spaces for dashes, no 'claude-'
    prefix, a dated or '-latest' suffix all map to the id."""
    exact = _key(name)
    if exact in MODELS or exact in _ALIASES:  # a configured id is kept as it is
        return _ALIASES.get(exact, exact)
    key = exact.replace("_", "-").replace(".", "-").replace(" ", "-")
    if key.startswith("anthropic-"):
        key = key[len("anthropic-") :]
    if key in _ALIASES:
        return _ALIASES[key]
    if not key.startswith("claude-"):
        key = "claude-" + key
    if key in _ALIASES:
        return _ALIASES[key]
    key = _SNAPSHOT_SUFFIX.sub("", key)
    return _ALIASES.get(key, key)


# Models named by the environment (PREFLIGHT_MODELS, docs/configuration.md)
# are read at the first lookup, never at import: the shell registers the
# reader here (preflight.tables does, when preflight is imported) and the
# core only runs it. A reader that fails stays registered, so every later
# use reports the same error instead of quietly using the built-in rows.
PENDING_LOADERS: list[Callable[[], None]] = []


def run_pending_loaders() -> None:
    """Run the registered readers once, before the first lookup."""
    if not PENDING_LOADERS:
        return
    loaders = PENDING_LOADERS[:]
    PENDING_LOADERS.clear()  # a reader looks models up too
    try:
        for loader in loaders:
            loader()
    except BaseException:
        PENDING_LOADERS[:0] = loaders
        raise


def get_model(name: str | Model) -> Model:
    if isinstance(name, Model):
        return name
    if PENDING_LOADERS:
        run_pending_loaders()
    try:
        return MODELS[normalize_model_name(name)]
    except KeyError:
        raise UnknownNameError("model", name, MODELS, _UNKNOWN_MODEL_HINT) from None


def cautious_model(name: str) -> Model:
    """A model the table does not hold, with the limits that reject sooner,
    never later: the smaller image cap (100), the standard tier (prepare's
    output then fits either tier), no price (pricing it needs one)."""
    return Model(
        name.strip(),
        None,
        STD,
        max_images=SMALL_CONTEXT_IMAGE_CAP,
        context_tokens=None,
        status="not in preflight's table",
        assumed="not in preflight's table: standard tier and 100 images assumed",
    )


def install_models(models: dict[str, Model]) -> None:
    """Add or replace table rows (preflight._inputs.config calls this with the rows
    of [tool.preflight.models]); aliases are indexed again."""
    MODELS.update(models)
    _ALIASES.clear()
    _ALIASES.update(_alias_index(MODELS))


def reset_models() -> None:
    """Back to the built-in rows only."""
    MODELS.clear()
    MODELS.update({m.name: m for m in BUILTIN_MODELS})
    _ALIASES.clear()
    _ALIASES.update(_alias_index(MODELS))


def parse_price(value: object, what: str = "price_per_mtok") -> Decimal:
    """A price in USD per million tokens: a finite, non-negative number
    given as a Decimal, an int or a string (floats are refused: they are
    rarely the number that was meant)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidArgumentError(
            f"{what} must be a number given as a string, an int or a Decimal, got {value!r}"
        )
    text = str(value).strip()
    try:
        # ASCII only: Decimal also reads other scripts' digits ("١٢").
        price = Decimal(text) if text.isascii() else Decimal("NaN")
    except (InvalidOperation, ValueError):
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise InvalidArgumentError(f"{what} must be a non-negative number, got {value!r}")
    if price > MAX_PRICE_PER_MTOK:
        raise InvalidArgumentError(
            f"{what} {value!r} is over {MAX_PRICE_PER_MTOK:,} USD per million tokens: "
            "is it per token instead of per million?"
        )
    return price


# No model costs anything near this; a larger number is a unit mistake (and
# would overflow exact Decimal arithmetic later).
MAX_PRICE_PER_MTOK = Decimal(1_000_000)


# --- token rules --------------------------------------------------------------

TOKEN_RULES = ("guide", "patches")  # vision guide w*h/750; current docs 28 px patches
# What the API bills: count_tokens measurements (2026) equal the patch count
# of the processed size plus a few tokens; the guide's w*h/750 is 2 to 4 %
# higher on the sizes measured. The guide's rule stays available ("guide")
# and reproduces the guide's cost table.
DEFAULT_TOKEN_RULE = "patches"


def get_rule(name: str) -> str:
    key = _key(name)
    if key in ("patch", "api"):
        key = "patches"
    if key not in TOKEN_RULES:
        raise UnknownNameError(
            "token rule",
            name,
            TOKEN_RULES,
            "'guide' is the vision guide's w*h/750, 'patches' the current docs' 28 px patches.",
        )
    return key


# --- oversized images ("Vision coordinates", Oversized image error) -----------

# What the API does with an image over its tier's size: "downsize" (the
# default) resizes it; "error" answers 400 instead: an image block with
# "transformations": {"oversized_image": "error"}, and screenshots in
# computer-use / browser-use tool_result blocks.
OVERSIZED_POLICIES = ("downsize", "error")
DEFAULT_OVERSIZED = "downsize"
_OVERSIZED_ALIASES = {"resize": "downsize", "downscale": "downsize"}


def get_oversized(name: str) -> str:
    key = _key(name)
    key = _OVERSIZED_ALIASES.get(key, key)
    if key not in OVERSIZED_POLICIES:
        raise UnknownNameError(
            "oversized-image policy",
            name,
            OVERSIZED_POLICIES,
            "'downsize' is the API's default ('resize' is accepted for it); 'error' is the "
            'image block\'s "transformations": {"oversized_image": "error"} and computer-use '
            "tool results.",
        )
    return key
