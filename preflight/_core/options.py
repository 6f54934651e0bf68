"""Options: one validated object for everything that shapes an answer.

Which model (price, tier, image cap), which token rule, which surface (byte,
pixel and request limits), how many images the request holds, what the API
does with an oversized image, batch pricing, and the per-image byte budget.

Rules:
- Options is frozen and holds resolved values only (a Model, a Tier, a
  Surface, canonical names); it is built once, by make_options(), from an
  Options, keywords, or both (keywords win), and passed down unchanged;
- every public function takes `options=` or the same keywords, and all of
  them validate through make_options(), so no two paths accept different
  values (a count of True or 20.5 is refused everywhere);
- a bad value is the caller's mistake: InvalidArgumentError (code
  invalid-argument or invalid-size) or UnknownNameError, each a UsageError;
- the token rule is `token_rule` ("patches", what the API bills, unless
  "guide" is asked for); 0.2's keyword `rule=` still works for one release
  and warns (DeprecationWarning), and `Options.rule` reads `token_rule`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from preflight._core.tables import (
    BATCH_DISCOUNT,
    DEFAULT_MODEL,
    DEFAULT_OVERSIZED,
    DEFAULT_SURFACE,
    DEFAULT_TOKEN_RULE,
    MILLION,
    MODELS,
    OVERSIZED_POLICIES,
    PENDING_LOADERS,
    REQUEST_LIMIT_BATCHES,
    TIERS,
    TOKEN_RULES,
    Model,
    Surface,
    Tier,
    get_model,
    get_oversized,
    get_rule,
    get_surface,
    get_tier,
    normalize_model_name,
    parse_price,
    run_pending_loaders,
)
from preflight.errors import InvalidArgumentError, UnknownNameError

if TYPE_CHECKING:
    from typing_extensions import Unpack


class OptionKeywords(TypedDict, total=False):
    """The keywords every public function accepts in place of `options=`."""

    model: str | Model
    price_per_mtok: Decimal | str | int | None
    tier: str | Tier | None
    token_rule: str
    rule: str  # deprecated (0.3): token_rule
    surface: str | Surface
    images_in_request: int
    oversized: str
    batch: bool
    max_bytes: int | None
    prompt_tokens: int | None
    today: date | None


KEYWORDS = frozenset(OptionKeywords.__annotations__)

# A count or size past this is no image request's (and would overflow the
# int64 arithmetic of the vectorized paths).
MAX_COUNT = 2**62


@dataclass(frozen=True)
class Options:
    model: Model = dataclasses.field(default_factory=lambda: get_model(DEFAULT_MODEL))
    token_rule: str = DEFAULT_TOKEN_RULE  # "patches" (what the API bills) or "guide"
    surface: Surface = dataclasses.field(default_factory=lambda: get_surface(DEFAULT_SURFACE))
    images_in_request: int = 1  # every image block in the request, earlier turns included
    oversized: str = DEFAULT_OVERSIZED
    batch: bool = False
    max_bytes: int | None = None  # per-image base64 budget; None: the surface's
    prompt_tokens: int | None = None  # the whole prompt's length, where a price depends on it
    # The day a model's lifecycle is judged on (retired, retiring soon);
    # None: the real date, read when asked (`current_date`).
    today: date | None = None

    def __post_init__(self) -> None:
        # Built directly (not by make_options): refuse what make_options would.
        if not isinstance(self.model, Model):
            raise InvalidArgumentError(f"model must be a preflight.Model, got {self.model!r}")
        if not isinstance(self.surface, Surface):
            raise InvalidArgumentError(f"surface must be a preflight.Surface, got {self.surface!r}")
        if self.token_rule not in TOKEN_RULES:
            get_rule(self.token_rule)  # raises, listing the rules
            raise InvalidArgumentError(
                f"token_rule must be one of {TOKEN_RULES}, got {self.token_rule!r}"
            )
        if self.oversized not in OVERSIZED_POLICIES:
            get_oversized(self.oversized)
            raise InvalidArgumentError(
                f"oversized must be one of {OVERSIZED_POLICIES}, got {self.oversized!r}"
            )
        whole_number(self.images_in_request, "images_in_request")
        if not isinstance(self.batch, bool):
            raise InvalidArgumentError(f"batch must be True or False, got {self.batch!r}")
        if self.max_bytes is not None:
            whole_number(self.max_bytes, "max_bytes", minimum=4)
        if self.prompt_tokens is not None:
            whole_number(self.prompt_tokens, "prompt_tokens", minimum=0)
        if self.today is not None:
            check_day(self.today)
        get_tier(self.model.tier)

    @property
    def rule(self) -> str:
        """The token rule: `token_rule`, by its 0.2 name."""
        return self.token_rule

    @property
    def current_date(self) -> date:
        """`today`, or the real date when none was given."""
        return date.today() if self.today is None else self.today

    @property
    def tier(self) -> Tier:
        return get_tier(self.model.tier)

    @property
    def max_image_bytes(self) -> int:
        """The per-image limit on the base64 text."""
        return self.surface.max_image_base64_bytes if self.max_bytes is None else self.max_bytes

    @property
    def max_images(self) -> int | None:
        """The image cap of one request: the model's, or the surface's where
        it has its own (claude.ai: 20 per message), whichever is lower."""
        caps = [c for c in (self.model.max_images, self.surface.max_images) if c is not None]
        return min(caps) if caps else None

    @property
    def max_request_bytes(self) -> int | None:
        """The request body limit: the surface's, or Message Batches' on the
        Claude API ("API overview")."""
        if self.batch and self.surface.name == DEFAULT_SURFACE:
            return REQUEST_LIMIT_BATCHES
        return self.surface.max_request_bytes

    @property
    def price(self) -> tuple[Decimal | None, str]:
        """(USD per million input tokens or None when unpublished, what was assumed)."""
        return self.model.rate(self.prompt_tokens)

    def cost(self, tokens: int) -> Decimal | None:
        """Exact USD for `tokens` input tokens; None when the model has no
        published price and none was given."""
        rate, _ = self.price
        if rate is None:
            return None
        per_token = rate / MILLION
        return tokens * (per_token * BATCH_DISCOUNT if self.batch else per_token)

    @property
    def price_note(self) -> str:
        """What a reader of a cost should know: an assumed rate, or how to price."""
        rate, assumed = self.price
        if rate is None:
            return (
                f"{self.model.name} has no published price: pass price_per_mtok= "
                "(--price) to price it"
            )
        return assumed

    def to_dict(self) -> dict[str, object]:
        rate, _ = self.price
        return {
            "model": self.model.name,
            "price_per_mtok": None if rate is None else str(rate),
            "tier": self.tier.name,
            "rule": self.token_rule,  # the key every output names the token rule by
            "surface": self.surface.name,
            "images_in_request": self.images_in_request,
            "oversized": self.oversized,
            "batch": self.batch,
            "max_image_bytes": self.max_image_bytes,
            "prompt_tokens": self.prompt_tokens,
            **({} if self.today is None else {"today": self.today.isoformat()}),
        }


def whole_number(value: object, what: str, minimum: int = 1) -> int:
    """A count: an int (never a bool, a float or a string) in minimum..MAX_COUNT."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{what} must be a whole number, got {value!r}", code="invalid-size"
        )
    if value < minimum:
        raise InvalidArgumentError(
            f"{what} must be at least {minimum}, got {value}", code="invalid-size"
        )
    if value > MAX_COUNT:
        raise InvalidArgumentError(
            f"{what} must be at most {MAX_COUNT}, got a number that large", code="invalid-size"
        )
    return value


def check_day(value: object) -> date:
    """A day: a datetime.date (a datetime is refused: a day is meant, and
    its time zone would decide which)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidArgumentError(f"today must be a datetime.date, got {value!r}")
    return value


def _resolve_model(
    model: str | Model, price: Decimal | str | int | None, tier: str | Tier | None
) -> Model:
    """A table row, with the price or tier replaced when given; an unknown
    name is accepted only with a price."""
    if price is None:
        base = get_model(model)
    else:
        try:
            base = get_model(model)
        except UnknownNameError:
            if not isinstance(model, str):
                raise
            base = Model(model.strip(), None)
        base = dataclasses.replace(base, input_usd_per_mtok=parse_price(price))
        # A given price is the price: a second, long-prompt rate no longer applies.
        base = dataclasses.replace(base, long_prompt_usd_per_mtok=None, long_prompt_threshold=None)
    if tier is not None:
        chosen = get_tier(tier)
        # A tier of the table is kept by name; a custom Tier object as itself.
        base = dataclasses.replace(
            base, tier=chosen.name if TIERS.get(chosen.name) == chosen else chosen
        )
    return base


def make_options(options: Options | None = None, /, **keywords: Unpack[OptionKeywords]) -> Options:
    """The Options for a call: `options` (or the defaults) with `keywords`
    applied on top, every value validated."""
    if PENDING_LOADERS:  # the environment's models file, on first use (tables)
        run_pending_loaders()
    if "rule" in keywords:  # before the cache: every such call warns
        keywords = _renamed_rule(keywords)
    if not keywords:
        return options if options is not None else _DEFAULT_HOLDER[0]
    # The same keywords again (a loop calling estimate(w, h, model=...)):
    # validated once. Only hashable values are cached; bools and ints are
    # kept apart from each other (True == 1 would share an entry).
    try:
        key = (options, tuple(sorted((k, type(v), v) for k, v in keywords.items())))
        cached = _CACHE.get(key)
    except TypeError:
        key, cached = None, None
    if cached is not None:
        return cached
    made = _make_options(options, keywords)
    if key is not None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = made
    return made


_CACHE: dict[object, Options] = {}
_CACHE_SIZE = 256


def _make_options(options: Options | None, keywords: OptionKeywords) -> Options:
    unknown = set(keywords) - KEYWORDS
    if unknown:
        raise InvalidArgumentError(
            f"unknown option {sorted(unknown)[0]!r}; known: {', '.join(sorted(KEYWORDS))}"
        )
    base = options if options is not None else _DEFAULT_HOLDER[0]
    model = base.model
    if "model" in keywords or "price_per_mtok" in keywords or "tier" in keywords:
        model = _resolve_model(
            keywords.get("model", base.model),
            keywords.get("price_per_mtok"),
            keywords.get("tier"),
        )
    changes: dict[str, object] = {"model": model}
    if "token_rule" in keywords:
        changes["token_rule"] = get_rule(keywords["token_rule"])
    if "surface" in keywords:
        changes["surface"] = get_surface(keywords["surface"])
    if "images_in_request" in keywords:
        changes["images_in_request"] = whole_number(
            keywords["images_in_request"], "images_in_request"
        )
    if "oversized" in keywords:
        changes["oversized"] = get_oversized(keywords["oversized"])
    if "batch" in keywords:
        batch = keywords["batch"]
        if not isinstance(batch, bool):
            raise InvalidArgumentError(f"batch must be True or False, got {batch!r}")
        changes["batch"] = batch
    if "max_bytes" in keywords:
        max_bytes = keywords["max_bytes"]
        changes["max_bytes"] = (
            None if max_bytes is None else whole_number(max_bytes, "max_bytes", minimum=4)
        )
    if "prompt_tokens" in keywords:
        prompt = keywords["prompt_tokens"]
        changes["prompt_tokens"] = (
            None if prompt is None else whole_number(prompt, "prompt_tokens", minimum=0)
        )
    if "today" in keywords:
        today = keywords["today"]
        changes["today"] = None if today is None else check_day(today)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _renamed_rule(keywords: OptionKeywords) -> OptionKeywords:
    """`rule=` (0.2) as `token_rule=`, with a DeprecationWarning; both given
    must agree."""
    renamed: OptionKeywords = {**keywords}
    rule = renamed.pop("rule")
    warnings.warn(
        "rule= is deprecated and will be removed in 0.4: pass token_rule= (the default is "
        "'patches', what the API bills)",
        DeprecationWarning,
        stacklevel=3,
    )
    if "token_rule" in renamed and renamed["token_rule"] != rule:
        raise InvalidArgumentError(
            f"rule={rule!r} and token_rule={renamed['token_rule']!r} disagree: "
            "pass token_rule= only"
        )
    renamed["token_rule"] = rule
    return renamed


def _defaults() -> Options:
    # The table's row as it stands, not a lookup: building the defaults at
    # import must not read a models file (a lookup would run the pending
    # loaders, in the middle of importing them); config rebuilds these after
    # it changes the table (refresh_defaults).
    return Options(model=MODELS[normalize_model_name(DEFAULT_MODEL)])


# The defaults, built once (a list so that config can rebuild it when the
# default model's row is overridden).
_DEFAULT_HOLDER: list[Options] = [_defaults()]


def default_options() -> Options:
    if PENDING_LOADERS:
        run_pending_loaders()
    return _DEFAULT_HOLDER[0]


def refresh_defaults() -> None:
    """Rebuild the defaults after the model table changed (preflight._inputs.config);
    options made from names before it may now resolve differently."""
    _DEFAULT_HOLDER[0] = _defaults()
    _CACHE.clear()
