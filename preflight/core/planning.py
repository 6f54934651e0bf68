# Cost planning over millions of sizes, vectorized with numpy. Rules:
# - the same answers as the scalar core (api_size, tokens, estimate), bit for
#   bit: the resize search does the same float division and the same
#   round-half-to-even (numpy.rint), and the tests compare the two;
# - numpy is imported here only, so `import preflight` stays light;
# - money is still exact: token totals are integers, priced once as Decimal.

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight.core.geometry import (
    MAX_SIDE,
    TOKEN_COUNTERS,
    _tier_guess,
    array_math,
    fits_tier,
    search_long_edge,
)
from preflight.core.options import OptionKeywords, Options, make_options
from preflight.core.rules import image_cap_exceeded, size_rejected
from preflight.core.tables import DEFAULT_OVERSIZED, DEFAULT_TOKEN_RULE, Tier, get_rule, get_tier
from preflight.errors import InvalidSizeError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Unpack

    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Plan:
    """Per-size arrays and exact totals. `counts[i]` images share size i."""

    processed_width: IntArray
    processed_height: IntArray
    tokens: IntArray  # per image; 0 for a rejected image (it is not billed)
    resized: BoolArray
    rejected: BoolArray
    counts: IntArray
    images: int  # sum of counts
    images_resized: int
    images_rejected: int
    total_tokens: int
    total_cost_usd: Decimal | None  # None: the model has no published price
    model: str
    tier: str
    rule: str
    surface: str
    batch: bool
    oversized: str = DEFAULT_OVERSIZED
    price_note: str = ""


def _as_sizes(values: ArrayLike, name: str, minimum: int = 1) -> IntArray:
    """A one-dimensional int64 array of whole numbers in minimum..MAX_SIDE
    (the scalar core's bounds: check_size), or InvalidSizeError."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidSizeError(f"{name} must be a one-dimensional array")
    if array.size == 0:
        return array.astype(np.int64)
    kind = array.dtype.kind
    if kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.rint(array)):
        if float(np.max(np.abs(array))) > MAX_SIDE:
            raise InvalidSizeError(f"every {name} must be at most 2**62")
        array = array.astype(np.int64)
    elif kind == "O":
        # Python ints (maybe past 64 bits): checked one by one, as the scalar core does.
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in array):
            raise InvalidSizeError(f"{name} must hold whole numbers")
        if any(v > MAX_SIDE for v in array):
            raise InvalidSizeError(f"every {name} must be at most 2**62")
        array = array.astype(np.int64)
    elif kind not in "iu":
        raise InvalidSizeError(f"{name} must hold whole numbers")
    elif int(array.max()) > MAX_SIDE:
        raise InvalidSizeError(f"every {name} must be at most 2**62")
    array = array.astype(np.int64, copy=False)
    if int(array.min()) < minimum:
        raise InvalidSizeError(f"every {name} must be at least {minimum}")
    return array


def api_sizes(
    widths: ArrayLike, heights: ArrayLike, tier: str | Tier = "standard"
) -> tuple[IntArray, IntArray]:
    """Vectorized api_size: the published resize algorithm over arrays."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidSizeError("widths and heights must have the same length")
    return _api_sizes(width, height, get_tier(tier))


def _api_sizes(width: IntArray, height: IntArray, tier: Tier) -> tuple[IntArray, IntArray]:
    import numpy as np

    m = array_math()
    out_w, out_h = width.copy(), height.copy()
    todo = np.flatnonzero(~fits_tier(width, height, tier))
    # In chunks: the search's temporaries then stay in the CPU caches instead
    # of being fresh pages of hundreds of MB each.
    for start in range(0, todo.size, _CHUNK):
        chunk = todo[start : start + _CHUNK]
        w, h = width[chunk], height[chunk]
        portrait = h > w
        long_side = np.where(portrait, h, w)
        short_side = np.where(portrait, w, h)
        guess = _tier_guess(long_side, long_side / short_side, tier, m)
        out_w[chunk], out_h[chunk] = search_long_edge(
            long_side,
            short_side,
            portrait,
            lambda a, b: fits_tier(a, b, tier),
            tier.max_edge,
            m,
            guess,
        )
    return out_w, out_h


_CHUNK = 1 << 14


def token_counts(widths: ArrayLike, heights: ArrayLike, rule: str = DEFAULT_TOKEN_RULE) -> IntArray:
    """Vectorized tokens() on the given sizes (no resizing)."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    result: IntArray = TOKEN_COUNTERS[get_rule(rule)](width, height)
    return result


def plan(
    widths: ArrayLike,
    heights: ArrayLike,
    counts: ArrayLike | None = None,
    options: Options | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Plan:
    """estimate() for every (width, height) at once, with exact totals."""
    import numpy as np

    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidSizeError("widths and heights must have the same length")
    if counts is None:
        count: IntArray = np.ones_like(width)
    else:
        count = _as_sizes(counts, "counts", minimum=0)
        if count.shape != width.shape:
            raise InvalidSizeError("counts must be as long as widths")
    chosen = make_options(options, **keywords)
    tier = chosen.tier

    out_w, out_h = _api_sizes(width, height, tier)
    resized: BoolArray = (out_w != width) | (out_h != height)
    rejected: BoolArray = np.zeros(width.shape, dtype=bool)
    rejected |= size_rejected(np.maximum(width, height), resized, chosen)
    if image_cap_exceeded(chosen.images_in_request, chosen):
        rejected[:] = True
    per_image = np.where(rejected, 0, TOKEN_COUNTERS[chosen.rule](out_w, out_h))
    total_tokens = _exact_dot(per_image, count)
    return Plan(
        processed_width=out_w,
        processed_height=out_h,
        tokens=per_image,
        resized=resized,
        rejected=rejected,
        counts=count,
        images=_exact_sum(count),
        images_resized=_exact_sum(count[resized]),
        images_rejected=_exact_sum(count[rejected]),
        total_tokens=total_tokens,
        total_cost_usd=chosen.cost(total_tokens),
        model=chosen.model.name,
        tier=tier.name,
        rule=chosen.rule,
        surface=chosen.surface.name,
        batch=chosen.batch,
        oversized=chosen.oversized,
        price_note=chosen.price_note,
    )


def _exact_sum(values: Any) -> int:
    # int64 sums cannot overflow for any realistic count; Python int for the result.
    return int(values.sum(dtype="int64"))


def _exact_dot(a: Any, b: Any) -> int:
    return int((a * b).sum(dtype="int64"))
