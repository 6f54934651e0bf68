"""A cost plan: what a set of image sizes costs on one or more models.

As sent, or "after prepare" (resized client-side to a Target first).

Rules:
- pure except for numpy: arrays in, a frozen CostPlan out;
- the numbers come from the vectorized core (planning.plan, and
  planning.target_sizes for a target: the same search as target_size),
  never from a second copy of a rule;
- exact: tokens and images are ints, costs Decimal, summed exactly; a
  model sharing a tier and rule with another is planned once and priced
  again; to_dict() writes every exact number as a string;
- a histogram of tokens per image (fixed buckets) with each bucket's share
  of the images and of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight._core.cost import exact_cost
from preflight._core.geometry import Target, parse_target
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.planning import Plan, _as_sizes, plan, target_sizes
from preflight._core.tables import DEFAULT_MODEL, Model
from preflight.errors import InvalidArgumentError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from typing_extensions import Unpack

# Upper edges (exclusive) of the histogram's buckets of tokens per image;
# bucket 0 holds the rejected images (billed nothing).
BUCKET_EDGES = (1, 100, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 3000, 4000)


@dataclass(frozen=True)
class Bucket:
    low: int  # tokens per image, inclusive
    high: int | None  # exclusive; None: no upper end
    images: int
    tokens: int
    cost_usd: Decimal | None

    @property
    def label(self) -> str:
        if self.high == 1 and self.low == 0:
            return "0 (rejected)"
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high - 1}"


@dataclass(frozen=True)
class ModelCost:
    model: str
    tier: str
    rule: str
    batch: bool
    images: int
    rejected: int
    resized: int  # by the API (after the target, if any)
    tokens: int
    cost_usd: Decimal | None  # None: no published price
    price_note: str
    histogram: tuple[Bucket, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "tier": self.tier,
            "rule": self.rule,
            "batch": self.batch,
            "images": str(self.images),
            "rejected": str(self.rejected),
            "resized": str(self.resized),
            "tokens": str(self.tokens),
            "cost_usd": exact_cost(self.cost_usd),
            "price_note": self.price_note,
            "histogram": [
                {
                    "tokens": b.label,
                    "images": str(b.images),
                    "tokens_total": str(b.tokens),
                    "cost_usd": exact_cost(b.cost_usd),
                    "share_of_images": _share(b.images, self.images),
                    "share_of_cost": _share(b.tokens, self.tokens),
                }
                for b in self.histogram
            ],
        }


@dataclass(frozen=True)
class CostPlan:
    rows: int
    images: int
    target: Target | None  # None: priced as sent
    resized_by_target: int  # images the target shrinks client-side
    models: tuple[ModelCost, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": str(self.rows),
            "images": str(self.images),
            "target": None if self.target is None else target_text(self.target),
            "resized_by_target": str(self.resized_by_target),
            "models": [m.to_dict() for m in self.models],
        }


def cost_plan(
    widths: ArrayLike,
    heights: ArrayLike,
    counts: ArrayLike | None = None,
    *,
    models: Sequence[str | Model] = (DEFAULT_MODEL,),
    target: str | Target | None = None,
    options: Options | None = None,
    planner: Callable[[Any, Any, Any, Options], Plan] | None = None,
    **keywords: Unpack[OptionKeywords],
) -> CostPlan:
    """Price every (width, height) (counts[i] images of size i) on each of
    `models`, as sent or, with `target`, after resizing to it first (as
    prepare does). `options` / keywords (batch, rule, surface, ...) apply to
    every model. `planner` is plan() or a stand-in with its answers (the
    command line's --scheduler passes the cluster's)."""

    if not models:
        raise InvalidArgumentError("models must name at least one model")
    if "model" in keywords:
        raise InvalidArgumentError("pass models=[...] to cost_plan, not model=")
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    count = None if counts is None else _as_sizes(counts, "counts", minimum=0)
    if count is not None and count.shape != width.shape:
        raise InvalidArgumentError("counts must be as long as widths", code="invalid-size")
    chosen_target = None if target is None else parse_target(target)
    base = make_options(options, **keywords)
    per_model = [make_options(base, model=m) for m in models]
    if "price_per_mtok" in keywords:  # a given price applies to every model
        per_model = [
            make_options(base, model=m, price_per_mtok=keywords["price_per_mtok"]) for m in models
        ]

    plans: dict[tuple[object, ...], tuple[Plan, int]] = {}
    results = []
    for chosen in per_model:
        tier = chosen.tier
        key: tuple[object, ...] = (
            tier,
            chosen.rule,
            chosen.surface,
            chosen.images_in_request,
            chosen.oversized,
            chosen.max_images,
        )
        if key not in plans:
            sized_w, sized_h, shrunk = width, height, 0
            if chosen_target is not None:
                sized_w, sized_h = target_sizes(width, height, chosen_target, tier=tier)
                changed = (sized_w != width) | (sized_h != height)
                shrunk = _weighted_count(changed, count)
            planned = (planner or plan)(sized_w, sized_h, count, chosen)
            plans[key] = (planned, shrunk)
        found, shrunk = plans[key]
        results.append(_model_cost(found, chosen))
    images = int(width.size) if count is None else _exact_total(count)
    first_shrunk = next(iter(plans.values()))[1] if plans else 0
    return CostPlan(
        rows=int(width.size),
        images=images,
        target=chosen_target,
        resized_by_target=first_shrunk,
        models=tuple(results),
    )


def _model_cost(found: Plan, options: Options) -> ModelCost:
    return ModelCost(
        model=options.model.name,
        tier=found.tier,
        rule=found.rule,
        batch=options.batch,
        images=found.images,
        rejected=found.images_rejected,
        resized=found.images_resized,
        tokens=found.total_tokens,
        cost_usd=options.cost(found.total_tokens),
        price_note=options.price_note,
        histogram=_histogram(found, options),
    )


def _histogram(found: Plan, options: Options) -> tuple[Bucket, ...]:
    """Images and tokens per bucket of tokens per image, exactly: a count per
    distinct token value (np.bincount), then summed per bucket in Python."""
    import numpy as np

    tokens = found.tokens
    if tokens.size == 0:
        per_value_images: list[int] = []
    elif found.counts.strides == (0,):  # one image per row
        per_value_images = np.bincount(tokens).tolist()
    else:
        per_value_images = _exact_bincount(tokens, found.counts)
    edges = (0, *BUCKET_EDGES)
    images = [0] * len(edges)
    token_sums = [0] * len(edges)
    bucket = 0
    for value, n in enumerate(per_value_images):
        if not n:
            continue
        while bucket + 1 < len(edges) and value >= edges[bucket + 1]:
            bucket += 1
        images[bucket] += n
        token_sums[bucket] += n * value
    return tuple(
        Bucket(
            low=edges[i],
            high=edges[i + 1] if i + 1 < len(edges) else None,
            images=images[i],
            tokens=token_sums[i],
            cost_usd=options.cost(token_sums[i]),
        )
        for i in range(len(edges))
    )


def _exact_bincount(tokens: Any, counts: Any) -> list[int]:
    """Images per token value, weighted by counts, in exact integers: float64
    weights are exact while every partial sum stays under 2**53."""
    import numpy as np

    total = _exact_total(counts)
    if total < 2**53:
        return [int(v) for v in np.bincount(tokens, weights=counts).tolist()]
    result: dict[int, int] = {}
    order = np.argsort(tokens, kind="stable")
    values, starts = np.unique(tokens[order], return_index=True)
    sums = np.add.reduceat(counts[order].astype(object), starts)
    for value, amount in zip(values.tolist(), sums.tolist(), strict=True):
        result[value] = int(amount)
    top = max(result, default=-1)
    return [result.get(v, 0) for v in range(top + 1)]


def _exact_total(counts: Any) -> int:
    import numpy as np

    if counts.size and int(counts.max()) >= 2**63 // max(counts.size, 1):
        return int(np.sum(counts.astype(object)))
    return int(counts.sum(dtype=np.int64))


def _weighted_count(mask: Any, counts: Any) -> int:
    import numpy as np

    if counts is None:
        return int(np.count_nonzero(mask))
    return _exact_total(counts[mask])


def _share(part: int, whole: int) -> str:
    """part / whole as an exact-to-six-places decimal string ('0' for 0/0)."""
    if whole == 0:
        return "0"
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001")))


def target_text(target: Target) -> str:
    if target.policy == "tokens":
        return f"tokens={target.max_tokens}"
    if target.policy == "box":
        assert target.box is not None
        return f"box={target.box[0]}x{target.box[1]}"
    return target.policy
