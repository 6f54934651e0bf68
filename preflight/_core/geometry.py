"""Sizes in, sizes out: what a size costs in tokens and what size the API turns it into.

A client-side policy (a Target) turns sizes through the same rules.

Rules:
- pure integer arithmetic, except the one float division the published
  resize algorithm itself uses (L / aspect, then round-half-to-even), which
  is reproduced exactly so that our answer is the API's answer;
- each rule is written once, with operators that mean the same on Python
  ints and on numpy int64 arrays, plus the few functions in a Math (below):
  the scalar path runs it on ints, the vectorized planner on arrays, and
  the property tests hold the two to the same answers;
- the resize search finds the largest fitting long edge from a closed-form
  guess (the last whole patch band that fits the token budget), verifies
  it (fits, and one pixel more does not: by monotonicity that is the
  published search's answer) and falls back to the published binary
  search only where the guess is off, so it stays bit-for-bit equal;
- every size is validated: positive ints only (bools are not sizes), at
  most MAX_SIDE;
- nothing here reads files or imports an image library; numpy is imported
  only when the array Math is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

from preflight._core.options import Options, default_options
from preflight._core.tables import (
    DEFAULT_TOKEN_RULE,
    GUIDE_PX_PER_TOKEN,
    GUIDE_TIP_MAX_PIXELS,
    GUIDE_TIP_MAX_SIDE,
    PATCH_PX,
    Tier,
    get_rule,
    get_tier,
)
from preflight.errors import InvalidArgumentError

Size = tuple[int, int]

# No image has a side this long; past it the float aspect ratio and the
# int64 arrays of the planner would lose exactness. Not an API limit.
MAX_SIDE = 2**62


def check_size(width: object, height: object) -> Size:
    """Return (width, height) as ints, or raise InvalidArgumentError (code
    invalid-size) saying what is wrong."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(
                f"{name} must be a whole number of pixels, got {value!r}", code="invalid-size"
            )
        if value < 1:
            raise InvalidArgumentError(
                f"{name} must be at least 1 pixel, got {value}", code="invalid-size"
            )
        if value > MAX_SIDE:
            raise InvalidArgumentError(
                f"{name} must be at most 2**62 pixels, got a larger number", code="invalid-size"
            )
    return width, height  # type: ignore[return-value]


# --- the few functions whose spelling differs between ints and arrays --------


def _pick(condition: Any, if_true: Any, if_false: Any) -> Any:
    return if_true if condition else if_false


def _negate(value: Any) -> Any:
    return not value


def _take(table: Any, index: Any) -> Any:
    return table[index]


def _compact(mask: Any, *values: Any) -> tuple[tuple[Any, ...], Any]:
    return values, None


def _expand(whole: Any, index: Any, part: Any) -> Any:
    return part


class Math:
    """Elementwise helpers for Python ints and floats (the scalar path)."""

    sqrt: Callable[[Any], Any] = staticmethod(math.sqrt)
    floor_int: Callable[[Any], Any] = staticmethod(int)  # non-negative floats only
    rint: Callable[[Any], Any] = staticmethod(round)  # round-half-to-even, as the API
    minimum: Callable[[Any, Any], Any] = staticmethod(min)
    maximum: Callable[[Any, Any], Any] = staticmethod(max)
    any_true: Callable[[Any], bool] = staticmethod(bool)
    all_true: Callable[[Any], bool] = staticmethod(bool)
    where: Callable[[Any, Any, Any], Any] = staticmethod(_pick)
    not_: Callable[[Any], Any] = staticmethod(_negate)
    take: Callable[[Any, Any], Any] = staticmethod(_take)  # a small table at an index
    # The elements where mask holds, and where they were; put them back.
    compact: Callable[..., tuple[tuple[Any, ...], Any]] = staticmethod(_compact)
    expand: Callable[[Any, Any, Any], Any] = staticmethod(_expand)


SCALAR = Math()


@cache
def array_math() -> Math:
    """The same helpers over numpy arrays (int64 sizes, float64 aspects)."""
    import numpy as np

    # The small tables (tuples) as arrays, converted once each.
    tables: dict[int, tuple[Any, Any]] = {}

    class ArrayMath(Math):
        sqrt = staticmethod(np.sqrt)
        floor_int = staticmethod(lambda x: x.astype(np.int64))  # non-negative: truncation
        rint = staticmethod(lambda x: np.rint(x).astype(np.int64))
        minimum = staticmethod(np.minimum)
        maximum = staticmethod(np.maximum)
        any_true = staticmethod(lambda x: bool(np.any(x)))
        all_true = staticmethod(lambda x: bool(np.all(x)))
        where = staticmethod(np.where)
        not_ = staticmethod(np.logical_not)

        @staticmethod
        def take(table: Any, index: Any) -> Any:
            held = tables.get(id(table))
            if held is None or held[0] is not table:
                held = tables[id(table)] = (table, np.array(table))
            return held[1][index]

        @staticmethod
        def compact(mask: Any, *values: Any) -> tuple[tuple[Any, ...], Any]:
            index = np.flatnonzero(mask)
            return tuple(np.asarray(v)[index] for v in values), index

        @staticmethod
        def expand(whole: Any, index: Any, part: Any) -> Any:
            result = np.array(whole, copy=True)
            result[index] = part
            return result

    return ArrayMath()


# --- token rules ------------------------------------------------------------


def patches(side: Any) -> Any:
    """Number of 28 px patches along one side (current docs): ceil(side / 28)
    for the positive sides there are."""
    return (side + (PATCH_PX - 1)) // PATCH_PX


def patch_tokens(width: Any, height: Any) -> Any:
    """ceil(w/28) * ceil(h/28): what the API bills (current docs)."""
    return patches(width) * patches(height)


def guide_tokens(width: Any, height: Any) -> Any:
    """ceil(w*h/750): the vision guide's formula, rounded up as its examples are."""
    return (width * height + (GUIDE_PX_PER_TOKEN - 1)) // GUIDE_PX_PER_TOKEN


TOKEN_COUNTERS: dict[str, Callable[[Any, Any], Any]] = {
    "guide": guide_tokens,
    "patches": patch_tokens,
}


def tokens(
    width: int, height: int, rule: str | None = None, *, options: Options | None = None
) -> int:
    """Tokens for an image of exactly this size (no resizing applied), under
    `rule`, else the rule of `options`, else the default options' (what
    estimate() counts with)."""
    width, height = check_size(width, height)
    chosen = rule if rule is not None else _options(options).rule
    count: int = TOKEN_COUNTERS[get_rule(chosen)](width, height)
    return count


def _options(options: Options | None) -> Options:
    """`options`, or the defaults (the default model: what estimate() uses)."""
    if options is None:
        return default_options()
    if not isinstance(options, Options):
        raise InvalidArgumentError(
            f"options must be a preflight.Options (make_options(...)), got {options!r}"
        )
    return options


def _tier(tier: str | Tier | None, options: Options | None) -> Tier:
    """`tier`, else the tier of `options`' model, else the default model's."""
    return get_tier(tier) if tier is not None else _options(options).tier


# --- the resize rule (current docs, "The published resize algorithm") --------


def fits_tier(width: Any, height: Any, tier: Tier) -> Any:
    """The published fit test: padded edges within max_edge, patch tokens
    within budget. Ints in, a bool out; arrays in, a bool array out.
    (An edge padded up to whole patches is within max_edge exactly when the
    edge itself is within the last whole patch under max_edge.)"""
    longest = PATCH_PX * (tier.max_edge // PATCH_PX)
    return (
        (width <= longest)
        & (height <= longest)
        & (patches(width) * patches(height) <= tier.max_patch_tokens)
    )


@dataclass(frozen=True)
class _Bands:
    """Per-tier tables for the closed-form guess. Band p holds the long
    edges 28(p-1)+1 .. 28p (p long-side patches); its short side may have
    q = min(T // p, max_edge // 28) patches, so an edge L of band p fits when
    round(L / aspect) <= 28q, i.e. L <= aspect * (28q + 0.5) (28q is even:
    a tie rounds down). Fitting is monotone in L, so the bands with room are
    1..p*, p* the last band whose first edge fits: aspect >= threshold[p].
    `start[k]` is p* at aspect k / scale; the thresholds are more than
    1 / scale apart, so p* at any aspect in that cell is start[k] or one more."""

    scale: float
    top: float  # aspects from here on have room in every band
    start: tuple[int, ...]
    next_threshold: tuple[float, ...]  # by band p: the threshold of band p + 1 (inf past the last)
    edge: tuple[float, ...]  # 28p
    short_cap: tuple[float, ...]  # 28q + 0.5


_MAX_BAND_CELLS = 1 << 16


@cache
def _bands(tier: Tier) -> _Bands:
    band_limit = tier.max_edge // PATCH_PX
    edge = [0.0] + [float(PATCH_PX * p) for p in range(1, band_limit + 1)]
    short_cap = [0.5] + [
        PATCH_PX * min(tier.max_patch_tokens // p, band_limit) + 0.5
        for p in range(1, band_limit + 1)
    ]
    inf = float("inf")
    threshold = [-inf] + [
        (PATCH_PX * (p - 1) + 1) / short_cap[p] if short_cap[p] > 1 else inf
        for p in range(1, band_limit + 1)
    ]
    threshold.append(inf)
    finite = [t for t in threshold[1:] if t != inf] or [1.0]
    top = max(max(finite), 1.0)
    gaps = [b - a for a, b in pairwise(finite)] or [1.0]
    scale = 1.0
    while scale * min(gaps) <= 2 and (top + 1) * scale * 2 <= _MAX_BAND_CELLS:
        scale *= 2
    # A tier too fine for the table gets coarser cells: the guess is then
    # off more often, and the verified search corrects it (slower, still exact).
    start = []
    band = 0
    for cell in range(int(top * scale) + 2):
        while threshold[band + 1] <= cell / scale:
            band += 1
        start.append(band)
    return _Bands(scale, top, tuple(start), tuple(threshold[1:]), tuple(edge), tuple(short_cap))


def _tier_guess(long_side: Any, aspect: Any, tier: Tier, m: Math) -> Any:
    """A closed-form guess of the largest long edge that fits the tier: the
    last band with room (a table lookup by aspect, see _Bands) and in it the
    largest edge whose short side keeps to the band's patches,
    min(28p, floor(aspect * (28q + 0.5))). Only a guess: the caller verifies
    it (it is off only where the float product and the published division
    round differently)."""
    bands = _bands(tier)
    take, minimum = m.take, m.minimum
    band = take(bands.start, m.floor_int(minimum(aspect, bands.top) * bands.scale))
    band = band + (aspect >= take(bands.next_threshold, band))
    # 28p <= max_edge caps the product before the cast (a huge aspect would overflow int64).
    return m.floor_int(minimum(aspect * take(bands.short_cap, band), take(bands.edge, band)))


def search_long_edge(
    long_side: Any,
    short_side: Any,
    portrait: Any,
    fits: Callable[[Any, Any], Any],
    max_edge: int,
    m: Math,
    guess: Any = None,
    symmetric: bool = False,
    aspect: Any = None,
) -> tuple[Any, Any]:
    """The published search: the largest long edge L in 1..long_side such
    that fits(candidate(L)), candidate(L) = (L, max(round(L / aspect), 1))
    oriented back as the input. Returns the (width, height) found.

    `fits` must be monotone (true for a size, true for every smaller one),
    which holds for every predicate here because round(L / aspect) never
    decreases in L, and must imply the tier fit, so no long edge over
    `max_edge` passes: the search stops there, with the same answer as a
    search up to the long side. A `guess` is verified and kept where it is
    the boundary (fits, and L + 1 does not): by monotonicity that is the
    search's own answer; elsewhere the binary search runs, narrowed by what
    the check learnt. `symmetric`: fits(w, h) == fits(h, w), so candidates
    are tested as (long, short) without orienting them.
    """
    if aspect is None:
        aspect = long_side / short_side  # float, as the published algorithm divides
    where, rint, maximum, minimum, not_ = m.where, m.rint, m.maximum, m.minimum, m.not_

    def short_of(edge: Any, aspect: Any) -> Any:
        return maximum(rint(edge / aspect), 1)

    def oriented(edge: Any, short: Any, portrait: Any) -> tuple[Any, Any]:
        return where(portrait, short, edge), where(portrait, edge, short)

    def ok(edge: Any, aspect: Any, portrait: Any) -> Any:
        short = short_of(edge, aspect)
        return fits(edge, short) if symmetric else fits(*oriented(edge, short, portrait))

    hi = minimum(long_side, max_edge)
    if guess is None:
        lo = long_side * 0 + 1  # fits(candidate(1)) holds for every predicate
    else:
        guess = maximum(minimum(guess, hi), 1)
        short = short_of(guess, aspect)
        fits_guess = fits(guess, short) if symmetric else fits(*oriented(guess, short, portrait))
        # (Past hi, the second test's answer is not used.)
        settled = fits_guess & ((guess >= hi) | not_(ok(guess + 1, aspect, portrait)))
        if m.all_true(settled):
            return oriented(guess, short, portrait)
        lo = where(fits_guess, guess, 1)
        hi = where(settled, guess, where(fits_guess, hi, guess - 1))
    open_ = lo < hi
    if m.any_true(open_):
        # The binary search, on the unsettled sizes only.
        (low, high, part_aspect, part_portrait), index = m.compact(open_, lo, hi, aspect, portrait)
        while m.any_true(low < high):
            active = low < high
            mid = (low + high + 1) // 2
            passed = ok(mid, part_aspect, part_portrait)
            low = where(active & passed, mid, low)
            high = where(active & not_(passed), mid - 1, high)
        lo = m.expand(lo, index, low)
    return oriented(lo, short_of(lo, aspect), portrait)


def _largest_fitting(
    width: int,
    height: int,
    fits: Callable[[int, int], bool],
    tier: Tier,
    *,
    guess: bool,
    symmetric: bool,
) -> Size:
    """The scalar search: unchanged if it fits, else the published answer."""
    if fits(width, height):
        return width, height
    portrait = height > width
    long_side, short_side = (height, width) if portrait else (width, height)
    first = _tier_guess(long_side, long_side / short_side, tier, SCALAR) if guess else None
    found: Size = search_long_edge(
        long_side, short_side, portrait, fits, tier.max_edge, SCALAR, first, symmetric
    )
    return found


def api_size(
    width: int, height: int, tier: str | Tier | None = None, *, options: Options | None = None
) -> Size:
    """The size the API processes: unchanged if it fits the tier, else the
    published resize algorithm's answer (current docs). The tier is `tier`,
    else that of `options`' model, else the default model's, so that
    api_size(w, h) is the size estimate(w, h) reports."""
    width, height = check_size(width, height)
    resolved = _tier(tier, options)
    return _largest_fitting(
        width,
        height,
        lambda w, h: fits_tier(w, h, resolved),
        resolved,
        guess=True,
        symmetric=True,
    )


# --- client-side targets ------------------------------------------------------

POLICIES = ("api", "guide", "tokens", "box")
# Policies that need the image's pixels measured before they are a size:
# "effective" (the resolution that carries all the detail the image has,
# preflight._imaging.quality). Only prepare resolves them (it measures, then sends a
# box); sizes-only functions refuse them.
MEASURED_POLICIES = ("effective",)


@dataclass(frozen=True)
class Target:
    """A client-side resize policy. Every policy also fits the tier, so the API
    keeps the result as it is, keeps the aspect ratio and never upscales."""

    policy: str = "api"
    max_tokens: int | None = None  # policy "tokens"
    rule: str = DEFAULT_TOKEN_RULE  # the token rule max_tokens is counted in
    box: Size | None = None  # policy "box": fit within (max_width, max_height)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES + MEASURED_POLICIES:
            known = ", ".join(POLICIES + MEASURED_POLICIES)
            raise InvalidArgumentError(f"unknown target policy {self.policy!r}; known: {known}")
        get_rule(self.rule)
        if self.policy == "tokens":
            if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
                raise InvalidArgumentError("the 'tokens' policy needs max_tokens=<whole number>")
            if self.max_tokens < 1:
                raise InvalidArgumentError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.policy == "box":
            if not isinstance(self.box, (tuple, list)) or len(self.box) != 2:
                raise InvalidArgumentError(
                    f"the 'box' policy needs box=(max_width, max_height), got {self.box!r}"
                )
            box_w, box_h = self.box
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in self.box):
                raise InvalidArgumentError(
                    f"box sides must be whole numbers of at least 1 px, got {box_w}x{box_h}"
                )


def _is_count(text: str) -> bool:
    """ASCII digits only (str.isdigit also takes '²'), and not absurdly long."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def parse_target(spec: str | Target | None, *, measured: bool = False) -> Target:
    """Read a target from its command-line spelling: 'api', 'guide',
    'tokens=800' (or 'tokens:800'), 'box=1024x768'; and, with
    measured=True (a caller that measures the pixels: prepare), 'effective'."""
    if spec is None:
        return Target()
    if isinstance(spec, Target):
        if spec.policy in MEASURED_POLICIES and not measured:
            raise InvalidArgumentError(_unmeasured(spec.policy))
        return spec
    if not isinstance(spec, str):
        raise InvalidArgumentError(f"a target is a Target or its spelling, got {spec!r}")
    text = spec.strip().lower()
    name, sep, arg = text.replace(":", "=").partition("=")
    if name in ("api", "guide") and not sep:
        return Target(name)
    if name in MEASURED_POLICIES and not sep:
        if not measured:
            raise InvalidArgumentError(_unmeasured(name))
        return Target(name)
    if name in ("tokens", "max-tokens", "max_tokens") and _is_count(arg):
        return Target("tokens", max_tokens=int(arg))
    if name == "box" and sep:
        width, _, height = arg.partition("x")
        if _is_count(width) and _is_count(height):
            return Target("box", box=(int(width), int(height)))
    also = ", 'effective'" if measured else ""
    raise InvalidArgumentError(
        f"bad target {spec!r}: use 'api', 'guide'{also}, 'tokens=N' or 'box=WIDTHxHEIGHT'"
    )


def _unmeasured(policy: str) -> str:
    return (
        f"target {policy!r} needs the image's pixels measured: prepare takes it "
        "(prepare(source, target='effective')); a size alone cannot say"
    )


def policy_predicate(target: Target, tier: Tier) -> Callable[[Any, Any], Any]:
    """The fit test of a target policy, on ints or arrays (written with & so
    that the scalar search and the vectorized planner share it)."""
    if target.policy in MEASURED_POLICIES:
        raise InvalidArgumentError(_unmeasured(target.policy))
    if target.policy == "api":
        return lambda w, h: fits_tier(w, h, tier)
    if target.policy == "guide":
        return lambda w, h: (
            (w <= GUIDE_TIP_MAX_SIDE)
            & (h <= GUIDE_TIP_MAX_SIDE)
            & (w * h <= GUIDE_TIP_MAX_PIXELS)
            & fits_tier(w, h, tier)
        )
    if target.policy == "tokens":
        budget = target.max_tokens
        assert budget is not None  # enforced by Target
        count = TOKEN_COUNTERS[get_rule(target.rule)]
        return lambda w, h: (count(w, h) <= budget) & fits_tier(w, h, tier)
    assert target.box is not None  # enforced by Target
    box_w, box_h = target.box
    return lambda w, h: (w <= box_w) & (h <= box_h) & fits_tier(w, h, tier)


def resolve_target(
    policy: str | Target,
    *,
    max_tokens: int | None = None,
    rule: str = DEFAULT_TOKEN_RULE,
    box: Size | None = None,
) -> Target:
    """A Target from target_size's arguments."""
    if isinstance(policy, Target):
        return policy
    if not isinstance(policy, str):
        raise InvalidArgumentError(f"a target policy is a Target or its name, got {policy!r}")
    if max_tokens is None and box is None and "=" in policy:
        return parse_target(policy)
    return Target(policy, max_tokens=max_tokens, rule=rule, box=box)


def target_size(
    width: int,
    height: int,
    policy: str | Target = "api",
    *,
    tier: str | Tier | None = None,
    max_tokens: int | None = None,
    rule: str | None = None,
    box: Size | None = None,
    options: Options | None = None,
) -> Size:
    """The largest aspect-preserving size, no larger than the input, that meets
    the policy and that the API will not resize further:

    - "api": the API's own answer (= api_size): resizing to it client-side
      changes nothing but latency and upload bytes;
    - "guide": the vision guide's tip, at most 1.15 MP and 1568 px a side;
    - "tokens": at most max_tokens tokens under `rule`;
    - "box": within box=(max_width, max_height).

    The tier is `tier`, else that of `options`' model, else the default
    model's (as api_size); `rule` (for max_tokens) likewise.
    """
    width, height = check_size(width, height)
    chosen_rule = rule if rule is not None else _options(options).rule
    target = resolve_target(policy, max_tokens=max_tokens, rule=chosen_rule, box=box)
    resolved = _tier(tier, options)
    return _largest_fitting(
        width,
        height,
        policy_predicate(target, resolved),
        resolved,
        guess=False,
        symmetric=False,
    )
