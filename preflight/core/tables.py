# The numbers preflight is built on, as plain data, and nothing else.
# Rules:
# - every constant names its source in ../shared/claude-vision-facts.md:
#   "vision guide" is Part 1, "current docs" is Part 2;
# - where the facts are silent the value is None and the comment says so;
#   nothing here is guessed;
# - each table has one lookup that normalizes the name and, for an unknown
#   name, raises UnknownNameError listing the known names and saying how to
#   pass a custom value instead (as tiktoken does for encodings).

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

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

SUPPORTED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # vision guide

MILLION = 1_000_000
BATCH_DISCOUNT = Decimal("0.5")  # current docs: Message Batches 50% off


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


def _key(name: object) -> str:
    """A table lookup key. A name that is not a string (None, a number) gets
    a key no table holds, so the lookup raises UnknownNameError listing the
    known names, as for a misspelling, never AttributeError."""
    return name.strip().lower() if isinstance(name, str) else ""


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


# --- surfaces: where images are sent -----------------------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    max_images: int | None  # per request (API) or per turn (claude.ai)
    max_image_base64_bytes: int  # per image, measured on the base64 text
    max_request_bytes: int | None  # whole request body
    max_side_px: int | None  # any side over this is rejected
    many_images_threshold: int | None  # more images than this in a request ...
    many_images_max_side_px: int | None  # ... and any side over this is rejected
    note: str = ""


# The Messages API numbers of the vision guide: 100 images, 5 MB, 32 MB request,
# 8000 px, 2000 px when a request holds more than 20 images.
_API = Surface(
    "api",
    max_images=100,
    max_image_base64_bytes=5 * MB,
    max_request_bytes=32 * MB,
    max_side_px=8000,
    many_images_threshold=20,
    many_images_max_side_px=2000,
    note="vision guide: Messages API limits",
)

SURFACES: dict[str, Surface] = {
    "api": _API,
    # current docs: "Claude API directly | 10 MB"; the rest of the Messages API
    # limits are the vision guide's. The current docs allow 600 images per
    # request on larger-context models but do not say which models: we keep 100.
    "api-direct": Surface(
        "api-direct",
        max_images=100,
        max_image_base64_bytes=10 * MB,
        max_request_bytes=32 * MB,
        max_side_px=8000,
        many_images_threshold=20,
        many_images_max_side_px=2000,
        note="current docs: Claude API directly, 10 MB per image",
    ),
    # current docs: Bedrock and Vertex AI, 5 MB per image. The facts give no
    # other Bedrock/Vertex numbers; they serve the Messages API, so its vision
    # guide limits are assumed (an assumption, said so in the README).
    "bedrock": Surface(
        "bedrock",
        max_images=100,
        max_image_base64_bytes=5 * MB,
        max_request_bytes=32 * MB,
        max_side_px=8000,
        many_images_threshold=20,
        many_images_max_side_px=2000,
        note="current docs: 5 MB per image; other limits assumed from the Messages API",
    ),
    "vertex": Surface(
        "vertex",
        max_images=100,
        max_image_base64_bytes=5 * MB,
        max_request_bytes=32 * MB,
        max_side_px=8000,
        many_images_threshold=20,
        many_images_max_side_px=2000,
        note="current docs: 5 MB per image; other limits assumed from the Messages API",
    ),
    # vision guide: claude.ai takes 20 images per turn, 10 MB each. The facts
    # give no pixel, many-image or request-size limit for claude.ai: None.
    "claude.ai": Surface(
        "claude.ai",
        max_images=20,
        max_image_base64_bytes=10 * MB,
        max_request_bytes=None,
        max_side_px=None,
        many_images_threshold=None,
        many_images_max_side_px=None,
        note="vision guide: 20 images per turn, 10 MB; no pixel limit documented",
    ),
}
_SURFACE_ALIASES = {
    "messages": "api",
    "messages-api": "api",
    "claude-ai": "claude.ai",
    "claudeai": "claude.ai",
    "direct": "api-direct",
    "vertex-ai": "vertex",
    "amazon-bedrock": "bedrock",
}

# current docs: request body limits
REQUEST_LIMIT_BATCHES = 256 * MB
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


# --- models (current docs, "Prices" and "Resolution tiers") -----------------


@dataclass(frozen=True)
class Model:
    name: str
    input_usd_per_mtok: Decimal  # USD per million input tokens
    tier: str = "standard"


def _model(name: str, price: str, tier: str = "standard") -> Model:
    return Model(name, Decimal(price), tier)


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        _model("claude-opus-4-7", "5", "high-res"),
        _model("claude-opus-4-6", "5"),
        _model("claude-opus-4-5", "5"),
        _model("claude-opus-4-1", "15"),
        _model("claude-opus-4", "15"),
        _model("claude-sonnet-4-6", "3"),
        _model("claude-sonnet-4-5", "3"),
        _model("claude-sonnet-4", "3"),
        _model("claude-haiku-4-5", "1"),
        _model("claude-3-5-haiku", "0.80"),
    )
}
DEFAULT_MODEL = "claude-sonnet-4-5"

# Extra spellings people use; the normalizer below also accepts dots for
# dashes, a missing "claude-" prefix, and a dated or "-latest" suffix.
_MODEL_ALIASES = {
    "claude-haiku-3-5": "claude-3-5-haiku",
    "claude-opus-4-0": "claude-opus-4",
    "claude-sonnet-4-0": "claude-sonnet-4",
}
_SNAPSHOT_SUFFIX = re.compile(r"-(\d{8}|latest)$")
_UNKNOWN_MODEL_HINT = (
    "Pass price_per_mtok=... (USD per million input tokens) and tier='standard' or "
    "'high-res', or a preflight.Model(name, input_usd_per_mtok, tier)."
)


def normalize_model_name(name: str) -> str:
    key = _key(name).replace("_", "-").replace(".", "-").replace(" ", "-")
    key = _SNAPSHOT_SUFFIX.sub("", key)
    if key.startswith("anthropic-"):
        key = key[len("anthropic-") :]
    if not key.startswith("claude-"):
        key = "claude-" + key
    return _MODEL_ALIASES.get(key, key)


def get_model(name: str | Model) -> Model:
    if isinstance(name, Model):
        return name
    try:
        return MODELS[normalize_model_name(name)]
    except KeyError:
        raise UnknownNameError("model", name, MODELS, _UNKNOWN_MODEL_HINT) from None


# --- token rules --------------------------------------------------------------

TOKEN_RULES = ("guide", "patches")  # vision guide w*h/750; current docs 28 px patches
DEFAULT_TOKEN_RULE = "guide"


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


# What the API does with an image over its tier's size (current docs): it
# resizes it, unless the image block carries "transformations":
# {"oversized_image": "error"} or the image sits in a computer-use /
# browser-use tool_result, where an oversized image is rejected instead.
OVERSIZED_POLICIES = ("resize", "error")
DEFAULT_OVERSIZED = "resize"


def get_oversized(name: str) -> str:
    key = _key(name)
    if key not in OVERSIZED_POLICIES:
        raise UnknownNameError(
            "oversized-image policy",
            name,
            OVERSIZED_POLICIES,
            "'resize' is the API's default; 'error' is the image block's "
            '"transformations": {"oversized_image": "error"} and computer-use tool results.',
        )
    return key


def resolve_model(
    model: str | Model,
    *,
    price_per_mtok: Decimal | str | int | None = None,
    tier: str | None = None,
) -> Model:
    """The model to price with: a table entry, with the price or tier replaced
    when given; an unknown name is accepted only with a custom price."""
    if price_per_mtok is None:
        base = get_model(model)
        return (
            base if tier is None else Model(base.name, base.input_usd_per_mtok, get_tier(tier).name)
        )
    try:
        price = Decimal(str(price_per_mtok).strip())
    except ArithmeticError:  # decimal.InvalidOperation
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise InvalidArgumentError(
            f"price_per_mtok must be a non-negative number, got {price_per_mtok!r}"
        )
    if isinstance(model, Model):
        name, default_tier = model.name, model.tier
    else:
        try:
            known = get_model(model)
            name, default_tier = known.name, known.tier
        except UnknownNameError:
            name, default_tier = model, "standard"
    return Model(name, price, get_tier(tier or default_tier).name)
