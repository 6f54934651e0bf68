# Sizes in, sizes out: how many tokens a size costs and what size the API
# (or a client-side policy) turns it into. Rules:
# - pure integer arithmetic, except the one float division the published
#   resize algorithm itself uses (L / aspect, then round-half-to-even), which
#   is reproduced exactly so that our answer is the API's answer;
# - every size is validated: positive ints only (bools are not sizes);
# - nothing here reads files or imports an image library.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preflight.core.tables import (
    GUIDE_PX_PER_TOKEN,
    GUIDE_TIP_MAX_PIXELS,
    GUIDE_TIP_MAX_SIDE,
    PATCH_PX,
    Tier,
    get_rule,
    get_tier,
)
from preflight.errors import InvalidArgumentError, InvalidSizeError

Size = tuple[int, int]


def check_size(width: object, height: object) -> Size:
    """Return (width, height) as ints, or raise InvalidSizeError saying what is wrong."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidSizeError(f"{name} must be a whole number of pixels, got {value!r}")
        if value < 1:
            raise InvalidSizeError(f"{name} must be at least 1 pixel, got {value}")
    return width, height  # type: ignore[return-value]


def patches(side: int) -> int:
    """Number of 28 px patches along one side (current docs)."""
    return -(-side // PATCH_PX)


def patch_tokens(width: int, height: int) -> int:
    """ceil(w/28) * ceil(h/28): what the API bills (current docs)."""
    return patches(width) * patches(height)


def guide_tokens(width: int, height: int) -> int:
    """ceil(w*h/750): the vision guide's formula, rounded up as its examples are."""
    return -(-(width * height) // GUIDE_PX_PER_TOKEN)


_RULES: dict[str, Callable[[int, int], int]] = {
    "guide": guide_tokens,
    "patches": patch_tokens,
}


def tokens(width: int, height: int, rule: str = "guide") -> int:
    """Tokens for an image of exactly this size (no resizing applied)."""
    width, height = check_size(width, height)
    return _RULES[get_rule(rule)](width, height)


def fits_tier(width: int, height: int, tier: Tier) -> bool:
    """The published fit test: padded edges within max_edge, patch tokens within budget."""
    return (
        patches(width) * PATCH_PX <= tier.max_edge
        and patches(height) * PATCH_PX <= tier.max_edge
        and patch_tokens(width, height) <= tier.max_patch_tokens
    )


def _largest_fitting(
    width: int, height: int, fits: Callable[[int, int], bool], max_edge: int
) -> Size:
    """The published search: the largest long edge L in 1..long such that
    fits(L, max(round(L / aspect), 1)), solved as landscape and swapped back.

    `fits` must be monotone (true for a size, true for every smaller one), which
    holds for all our predicates because round(L / aspect) never decreases in L,
    and must imply the tier fit, so no long edge over `max_edge` can pass: the
    search stops there, with the same answer as a search up to the long side.
    """
    portrait = height > width
    long_side, short_side = (height, width) if portrait else (width, height)
    if fits(width, height):
        return width, height
    aspect = long_side / short_side

    def candidate(long_edge: int) -> Size:
        short_edge = max(round(long_edge / aspect), 1)
        return (short_edge, long_edge) if portrait else (long_edge, short_edge)

    lo, hi = 1, min(long_side, max_edge)  # fits(candidate(1)) holds for every predicate
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(*candidate(mid)):
            lo = mid
        else:
            hi = mid - 1
    return candidate(lo)


def api_size(width: int, height: int, tier: str | Tier = "standard") -> Size:
    """The size the API processes: unchanged if it fits the tier, else the
    published resize algorithm's answer (current docs)."""
    width, height = check_size(width, height)
    resolved = get_tier(tier)
    return _largest_fitting(
        width, height, lambda w, h: fits_tier(w, h, resolved), resolved.max_edge
    )


# --- client-side targets ------------------------------------------------------

POLICIES = ("api", "guide", "tokens", "box")


@dataclass(frozen=True)
class Target:
    """A client-side resize policy. Every policy also fits the tier, so the API
    keeps the result as it is, keeps the aspect ratio and never upscales."""

    policy: str = "api"
    max_tokens: int | None = None  # policy "tokens"
    rule: str = "guide"  # the token rule max_tokens is counted in
    box: Size | None = None  # policy "box": fit within (max_width, max_height)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InvalidArgumentError(
                f"unknown target policy {self.policy!r}; known: {', '.join(POLICIES)}"
            )
        get_rule(self.rule)
        if self.policy == "tokens":
            if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
                raise InvalidArgumentError("the 'tokens' policy needs max_tokens=<whole number>")
            if self.max_tokens < 1:
                raise InvalidArgumentError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.policy == "box":
            if self.box is None:
                raise InvalidArgumentError("the 'box' policy needs box=(max_width, max_height)")
            box_w, box_h = self.box
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in self.box):
                raise InvalidArgumentError(
                    f"box sides must be whole numbers of at least 1 px, got {box_w}x{box_h}"
                )


def parse_target(spec: str | Target | None) -> Target:
    """Read a target from its command-line spelling: 'api', 'guide',
    'tokens=800' (or 'tokens:800'), 'box=1024x768'."""
    if spec is None:
        return Target()
    if isinstance(spec, Target):
        return spec
    text = spec.strip().lower()
    name, sep, arg = text.replace(":", "=").partition("=")
    if name in ("api", "guide") and not sep:
        return Target(name)
    if name in ("tokens", "max-tokens", "max_tokens") and arg.isdigit():
        return Target("tokens", max_tokens=int(arg))
    if name == "box" and sep:
        width, _, height = arg.partition("x")
        if width.isdigit() and height.isdigit():
            return Target("box", box=(int(width), int(height)))
    raise InvalidArgumentError(
        f"bad target {spec!r}: use 'api', 'guide', 'tokens=N' or 'box=WIDTHxHEIGHT'"
    )


def _policy_predicate(target: Target, tier: Tier) -> Callable[[int, int], bool]:
    if target.policy == "api":
        return lambda w, h: fits_tier(w, h, tier)
    if target.policy == "guide":
        return lambda w, h: (
            w <= GUIDE_TIP_MAX_SIDE
            and h <= GUIDE_TIP_MAX_SIDE
            and w * h <= GUIDE_TIP_MAX_PIXELS
            and fits_tier(w, h, tier)
        )
    if target.policy == "tokens":
        budget = target.max_tokens
        assert budget is not None  # enforced by Target
        count = _RULES[get_rule(target.rule)]
        return lambda w, h: count(w, h) <= budget and fits_tier(w, h, tier)
    assert target.box is not None  # enforced by Target
    box_w, box_h = target.box
    return lambda w, h: w <= box_w and h <= box_h and fits_tier(w, h, tier)


def target_size(
    width: int,
    height: int,
    policy: str | Target = "api",
    *,
    tier: str | Tier = "standard",
    max_tokens: int | None = None,
    rule: str = "guide",
    box: Size | None = None,
) -> Size:
    """The largest aspect-preserving size, no larger than the input, that meets
    the policy and that the API will not resize further:

    - "api": the API's own answer (= api_size): resizing to it client-side
      changes nothing but latency and upload bytes;
    - "guide": the vision guide's tip, at most 1.15 MP and 1568 px a side;
    - "tokens": at most max_tokens tokens under `rule`;
    - "box": within box=(max_width, max_height).
    """
    width, height = check_size(width, height)
    target = (
        policy
        if isinstance(policy, Target)
        else parse_target(policy)
        if max_tokens is None and box is None and "=" in policy
        else Target(policy, max_tokens=max_tokens, rule=rule, box=box)
    )
    resolved = get_tier(tier)
    return _largest_fitting(width, height, _policy_predicate(target, resolved), resolved.max_edge)
