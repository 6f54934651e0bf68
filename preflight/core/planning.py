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

from preflight.core.cost import image_cost
from preflight.core.tables import (
    DEFAULT_MODEL,
    DEFAULT_OVERSIZED,
    DEFAULT_TOKEN_RULE,
    GUIDE_PX_PER_TOKEN,
    PATCH_PX,
    Model,
    Surface,
    Tier,
    get_oversized,
    get_rule,
    get_surface,
    get_tier,
    resolve_model,
)
from preflight.errors import InvalidSizeError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

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
    total_cost_usd: Decimal
    model: str
    tier: str
    rule: str
    surface: str
    batch: bool
    oversized: str = DEFAULT_OVERSIZED


_INT64_MAX = 2**63 - 1


def _as_sizes(values: ArrayLike, name: str) -> IntArray:
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidSizeError(f"{name} must be a one-dimensional array")
    if array.dtype == object or (
        array.dtype.kind == "u" and array.size and array.max() > _INT64_MAX
    ):
        # Python ints past 64 bits, or unsigned ones past int64: no image has such a side.
        raise InvalidSizeError(f"every {name} must be a whole number of at most {_INT64_MAX}")
    if array.size and array.dtype.kind not in "iu":
        if (
            array.dtype.kind == "f"
            and np.all(np.isfinite(array))
            and np.all(array == np.rint(array))
        ):
            array = array.astype(np.int64)
        else:
            raise InvalidSizeError(f"{name} must hold whole numbers")
    array = array.astype(np.int64, copy=False)
    if array.size and int(array.min()) < 1:
        raise InvalidSizeError(f"every {name} must be at least 1 pixel")
    return array


def _patches(side: IntArray) -> IntArray:
    return -(-side // PATCH_PX)


def _fits(width: IntArray, height: IntArray, tier: Tier) -> BoolArray:
    pw, ph = _patches(width), _patches(height)
    result: BoolArray = (
        (pw * PATCH_PX <= tier.max_edge)
        & (ph * PATCH_PX <= tier.max_edge)
        & (pw * ph <= tier.max_patch_tokens)
    )
    return result


def api_sizes(
    widths: ArrayLike, heights: ArrayLike, tier: str | Tier = "standard"
) -> tuple[IntArray, IntArray]:
    """Vectorized api_size: the published resize algorithm over arrays."""
    import numpy as np

    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidSizeError("widths and heights must have the same length")
    resolved = get_tier(tier)
    out_w, out_h = width.copy(), height.copy()
    todo = np.flatnonzero(~_fits(width, height, resolved))
    # In chunks: the search's temporaries then stay in the CPU caches instead
    # of being fresh pages of hundreds of MB each (measured on 10 million
    # sizes: about twice as fast, most of the difference kernel time).
    for start in range(0, todo.size, _CHUNK):
        chunk = todo[start : start + _CHUNK]
        out_w[chunk], out_h[chunk] = _resize(width[chunk], height[chunk], resolved)
    return out_w, out_h


_CHUNK = 1 << 14


def _resize(w: IntArray, h: IntArray, tier: Tier) -> tuple[IntArray, IntArray]:
    """The resize search for sizes that do not fit."""
    import numpy as np

    portrait = h > w
    long_side = np.where(portrait, h, w)
    aspect = long_side / np.where(portrait, w, h)  # float64, as the scalar code's `/`

    def short_for(long_edge: IntArray) -> IntArray:
        return np.maximum(np.rint(long_edge / aspect), 1).astype(np.int64)

    # The fit test is symmetric in width and height, so the search runs on
    # (long, short) and swaps back once. No size with a long edge over
    # max_edge fits, so the search can stop there.
    lo = np.ones_like(long_side)
    hi = np.minimum(long_side, tier.max_edge)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi + 1) // 2
        ok = _fits(mid, short_for(mid), tier)
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid - 1, hi)
    short = short_for(lo)
    return np.where(portrait, short, lo), np.where(portrait, lo, short)


def token_counts(widths: ArrayLike, heights: ArrayLike, rule: str = DEFAULT_TOKEN_RULE) -> IntArray:
    """Vectorized tokens() on the given sizes (no resizing)."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    result: IntArray = (
        _patches(width) * _patches(height)
        if get_rule(rule) == "patches"
        else -(-(width * height) // GUIDE_PX_PER_TOKEN)
    )
    return result


def plan(
    widths: ArrayLike,
    heights: ArrayLike,
    counts: ArrayLike | None = None,
    *,
    model: str | Model = DEFAULT_MODEL,
    rule: str = DEFAULT_TOKEN_RULE,
    surface: str | Surface = "api",
    images_in_request: int = 1,
    batch: bool = False,
    price_per_mtok: Decimal | str | int | None = None,
    tier: str | None = None,
    oversized: str = DEFAULT_OVERSIZED,
) -> Plan:
    """estimate() for every (width, height) at once, with exact totals."""
    import numpy as np

    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if counts is None:
        count: IntArray = np.ones_like(width)
    else:
        count = np.asarray(counts).astype(np.int64)
        if count.shape != width.shape or (count.size and int(count.min()) < 0):
            raise InvalidSizeError("counts must be non-negative and as long as widths")
    if images_in_request < 1:
        raise InvalidSizeError(f"images_in_request must be at least 1, got {images_in_request}")
    resolved_model = resolve_model(model, price_per_mtok=price_per_mtok, tier=tier)
    resolved_surface = get_surface(surface)
    resolved_rule = get_rule(rule)
    resolved_oversized = get_oversized(oversized)

    out_w, out_h = api_sizes(width, height, resolved_model.tier)
    longest = np.maximum(width, height)
    rejected: BoolArray = np.zeros(width.shape, dtype=bool)
    if resolved_surface.max_side_px is not None:
        rejected |= longest > resolved_surface.max_side_px
    if (
        resolved_surface.many_images_threshold is not None
        and resolved_surface.many_images_max_side_px is not None
        and images_in_request > resolved_surface.many_images_threshold
    ):
        rejected |= longest > resolved_surface.many_images_max_side_px
    if resolved_surface.max_images is not None and images_in_request > resolved_surface.max_images:
        rejected[:] = True
    resized: BoolArray = (out_w != width) | (out_h != height)
    if resolved_oversized == "error":
        rejected |= resized
    per_image = np.where(rejected, 0, token_counts(out_w, out_h, resolved_rule))
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
        total_cost_usd=image_cost(total_tokens, resolved_model, batch=batch),
        model=resolved_model.name,
        tier=resolved_model.tier,
        rule=resolved_rule,
        surface=resolved_surface.name,
        batch=batch,
        oversized=resolved_oversized,
    )


def _exact_sum(values: Any) -> int:
    # int64 sums cannot overflow for any realistic count; Python int for the result.
    return int(values.sum(dtype="int64"))


def _exact_dot(a: Any, b: Any) -> int:
    return int((a * b).sum(dtype="int64"))
