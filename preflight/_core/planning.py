"""Cost planning over millions of sizes, vectorized with numpy.

Rules:
- the same answers as the scalar core (api_size, tokens, estimate), bit for
  bit: the resize search does the same float division and the same
  round-half-to-even (numpy.rint), and the tests compare the two;
- numpy is imported here only, so `import preflight` stays light;
- money is still exact: token totals are integers, priced once as Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight._core.geometry import (
    MAX_SIDE,
    TOKEN_COUNTERS,
    Size,
    Target,
    _tier_guess,
    array_math,
    fits_tier,
    guide_tokens,
    policy_predicate,
    resolve_target,
    search_long_edge,
)
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import image_cap_exceeded, size_rejected
from preflight._core.tables import DEFAULT_OVERSIZED, DEFAULT_TOKEN_RULE, Tier, get_rule, get_tier
from preflight.errors import InvalidArgumentError

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
    (the scalar core's bounds: check_size), or InvalidArgumentError (code invalid-size)."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidArgumentError(f"{name} must be a one-dimensional array", code="invalid-size")
    if array.size == 0:
        return array.astype(np.int64)
    kind = array.dtype.kind
    if kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.rint(array)):
        if float(np.max(np.abs(array))) > MAX_SIDE:
            raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
        array = array.astype(np.int64)
    elif kind == "O":
        # Python ints (maybe past 64 bits): checked one by one, as the scalar core does.
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in array):
            raise InvalidArgumentError(f"{name} must hold whole numbers", code="invalid-size")
        if any(v > MAX_SIDE for v in array):
            raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
        array = array.astype(np.int64)
    elif kind not in "iu":
        raise InvalidArgumentError(f"{name} must hold whole numbers", code="invalid-size")
    elif int(array.max()) > MAX_SIDE:
        raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
    array = array.astype(np.int64, copy=False)
    if int(array.min()) < minimum:
        raise InvalidArgumentError(f"every {name} must be at least {minimum}", code="invalid-size")
    return array


def api_sizes(
    widths: ArrayLike, heights: ArrayLike, tier: str | Tier = "standard"
) -> tuple[IntArray, IntArray]:
    """Vectorized api_size: the published resize algorithm over arrays."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    return _api_sizes(width, height, get_tier(tier))


def _api_sizes(width: IntArray, height: IntArray, tier: Tier) -> tuple[IntArray, IntArray]:
    import numpy as np

    out_w, out_h = np.empty_like(width), np.empty_like(height)
    for start in range(0, width.size, _CHUNK):
        stop = start + _CHUNK
        out_w[start:stop], out_h[start:stop], _ = _api_chunk(
            width[start:stop], height[start:stop], tier
        )
    return out_w, out_h


def _api_chunk(width: IntArray, height: IntArray, tier: Tier) -> tuple[Any, Any, BoolArray]:
    """api_size over one chunk: (processed width, height, resized). In
    chunks, the temporaries stay in the CPU caches instead of being fresh
    pages of hundreds of MB each; only the sizes that do not fit are searched."""
    import numpy as np

    resized = ~fits_tier(width, height, tier)
    todo = np.flatnonzero(resized)
    if todo.size == 0:
        return width, height, resized
    w, h = width[todo], height[todo]
    portrait = h > w
    long_side = np.where(portrait, h, w)
    short_side = np.where(portrait, w, h)
    m = array_math()
    aspect = long_side / short_side  # float, as the published algorithm divides
    guess = _tier_guess(long_side, aspect, tier, m)
    found_w, found_h = search_long_edge(
        long_side,
        short_side,
        portrait,
        lambda a, b: fits_tier(a, b, tier),
        tier.max_edge,
        m,
        guess,
        symmetric=True,
        aspect=aspect,
    )
    out_w, out_h = width.copy(), height.copy()
    out_w[todo], out_h[todo] = found_w, found_h
    return out_w, out_h, resized


_CHUNK = 1 << 14


def target_sizes(
    widths: ArrayLike,
    heights: ArrayLike,
    policy: str | Target = "api",
    *,
    tier: str | Tier = "standard",
    max_tokens: int | None = None,
    rule: str = "guide",
    box: Size | None = None,
) -> tuple[IntArray, IntArray]:
    """Vectorized target_size: the same policy predicate and the same search
    (geometry.search_long_edge), over arrays."""
    import numpy as np

    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    target = resolve_target(policy, max_tokens=max_tokens, rule=rule, box=box)
    resolved = get_tier(tier)
    if target.policy == "api":
        return _api_sizes(width, height, resolved)
    fits = policy_predicate(target, resolved)
    m = array_math()
    out_w, out_h = width.copy(), height.copy()
    for start in range(0, width.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        w, h = width[part], height[part]
        todo = np.flatnonzero(~fits(w, h))
        if todo.size == 0:
            continue
        w, h = w[todo], h[todo]
        portrait = h > w
        found_w, found_h = search_long_edge(
            np.where(portrait, h, w), np.where(portrait, w, h), portrait, fits, resolved.max_edge, m
        )
        out_w[start + todo], out_h[start + todo] = found_w, found_h
    return out_w, out_h


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
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    if counts is None:
        # Read-only ones, allocated lazily by nobody: one image per size.
        count: IntArray = np.broadcast_to(np.int64(1), width.shape)
    else:
        count = _as_sizes(counts, "counts", minimum=0)
        if count.shape != width.shape:
            raise InvalidArgumentError("counts must be as long as widths", code="invalid-size")
    chosen = make_options(options, **keywords)
    tier = chosen.tier
    counter = TOKEN_COUNTERS[chosen.rule]
    all_rejected = image_cap_exceeded(chosen.images_in_request, chosen)
    out_w, out_h = np.empty_like(width), np.empty_like(height)
    per_image: IntArray = np.empty_like(width)
    resized: BoolArray = np.empty(width.shape, dtype=bool)
    rejected: BoolArray = np.empty(width.shape, dtype=bool)
    # int64 per chunk is exact while count x tokens x chunk cannot reach 2**63.
    # (A processed size fits the tier, so it costs at most max_tokens.)
    max_tokens = max(tier.max_patch_tokens, guide_tokens(tier.max_edge, tier.max_edge))
    wide = bool(count.size) and int(count.max()) >= 2**63 // (max_tokens * _CHUNK)
    total_tokens = images = images_resized = images_rejected = 0
    # One pass, chunk by chunk: every temporary stays in the CPU caches.
    for start in range(0, width.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        w, h = width[part], height[part]
        new_w, new_h, was_resized = _api_chunk(w, h, tier)
        refused = size_rejected(np.maximum(w, h), was_resized, chosen) | all_rejected
        refused = np.broadcast_to(refused, w.shape)
        billed = counter(new_w, new_h)
        np.putmask(billed, refused, 0)
        out_w[part], out_h[part], per_image[part] = new_w, new_h, billed
        resized[part], rejected[part] = was_resized, refused
        if counts is None:
            total_tokens += int(billed.sum())
            images_resized += int(np.count_nonzero(was_resized))
            images_rejected += int(np.count_nonzero(refused))
        else:
            c = count[part]
            if wide:  # exact Python ints, slower
                c = c.astype(object)
                billed = billed.astype(object)
            total_tokens += int((billed * c).sum())
            images += int(c.sum())
            images_resized += int(c[was_resized].sum())
            images_rejected += int(c[refused].sum())
    if counts is None:
        images = width.size
    return Plan(
        processed_width=out_w,
        processed_height=out_h,
        tokens=per_image,
        resized=resized,
        rejected=rejected,
        counts=count,
        images=images,
        images_resized=images_resized,
        images_rejected=images_rejected,
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
