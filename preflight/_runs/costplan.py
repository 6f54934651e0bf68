"""A cost plan: what a set of image sizes costs on one or more models.

As sent, or "after prepare" (resized client-side to a Target first).

Rules:
- pure except for numpy: arrays in, a frozen CostPlan out;
- the numbers come from the vectorized core (planning.plan, and
  planning.target_sizes for a target: the same search as target_size),
  never from a second copy of a rule;
- exact: tokens and images are ints, costs Decimal, summed exactly; a
  model sharing a tier and rule with another is planned once and priced
  again; to_dict() writes counts as JSON integers and costs as exact
  decimal strings (as every preflight JSON does);
- a histogram of tokens per image for each model, its buckets fitted to
  the data (histogram_edges: one per distinct value when there are few,
  else edges at the image-weighted eighths, rounded down to two significant
  digits), with each bucket's share of the images and of the tokens
  (the cost, at one price per model); rejected images, billed nothing,
  are a bucket of their own.
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

# At most this many buckets of billed images (plus one of rejected images).
HISTOGRAM_ROWS = 8


@dataclass(frozen=True)
class Bucket:
    low: int  # tokens per image, inclusive
    high: int  # inclusive
    images: int
    tokens: int
    cost_usd: Decimal | None
    rejected: bool = False  # the rejected images (0 tokens: not billed)

    @property
    def label(self) -> str:
        if self.rejected:
            return "rejected"
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,}-{self.high:,}"


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
            "images": self.images,
            "images_rejected": self.rejected,
            "images_resized": self.resized,
            "tokens": self.tokens,
            "cost_usd": exact_cost(self.cost_usd),
            "price_note": self.price_note,
            "histogram": [
                {
                    "min_tokens": b.low,
                    "max_tokens": b.high,
                    "rejected": b.rejected,
                    "images": b.images,
                    "tokens": b.tokens,
                    "cost_usd": exact_cost(b.cost_usd),
                    "share_of_images": _share(b.images, self.images),
                    "share_of_tokens": _share(b.tokens, self.tokens),
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
            "rows": self.rows,
            "images": self.images,
            "target": None if self.target is None else target_text(self.target),
            "resized_by_target": self.resized_by_target,
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
    # Every accepted image costs at least one token: 0 is a rejection.
    rejected = per_value_images[0] if per_value_images else 0
    billed = [(v, n) for v, n in enumerate(per_value_images) if v and n]
    buckets = [Bucket(0, 0, rejected, 0, options.cost(0), rejected=True)] if rejected else []
    edges = histogram_edges(billed)
    each_value = len(edges) == len(billed)  # one bucket per distinct value
    for low, high in zip(edges, [*edges[1:], None], strict=False):  # none for no edges
        inside = [(v, n) for v, n in billed if v >= low and (high is None or v < high)]
        images = sum(n for _, n in inside)
        spent = sum(v * n for v, n in inside)
        # The last bucket ends at the largest value; the others where the next begins.
        top = inside[-1][0] if high is None or each_value else high - 1
        buckets.append(Bucket(low, top, images, spent, options.cost(spent)))
    return tuple(buckets)


def histogram_edges(billed: Sequence[tuple[int, int]]) -> list[int]:
    """The lower edges of the buckets of billed images, from (tokens per
    image, images) pairs in increasing order of tokens, images > 0. At most
    HISTOGRAM_ROWS distinct values: one bucket each. Otherwise the first
    bucket starts at the smallest value and the others at the image-weighted
    eighths (the smallest value with at least k/8 of the images at or under
    it, k = 1..7), each rounded down to two significant digits so the edges
    read as round numbers (1,500, not 1,523), duplicates dropped: at most
    HISTOGRAM_ROWS buckets, none empty (each edge is at or under a value it
    was taken from, and over the edge before it)."""
    if len(billed) <= HISTOGRAM_ROWS:  # none at all too: no bucket
        return [v for v, _ in billed]
    total = sum(n for _, n in billed)
    edges = [billed[0][0]]
    seen = 0
    k = 1
    for value, images in billed:
        seen += images
        while k < HISTOGRAM_ROWS and seen * HISTOGRAM_ROWS >= k * total:
            edge = _round_down(value)
            if edge > edges[-1]:
                edges.append(edge)
            k += 1
    return edges


def _round_down(value: int) -> int:
    """value rounded down to two significant digits: 1523 -> 1500, 87 -> 87."""
    step: int = 10 ** max(len(str(value)) - 2, 0)
    return value - value % step


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


def _share(part: int, whole: int) -> float:
    """part / whole rounded to six places (0 for 0/0): a JSON number."""
    if whole == 0:
        return 0.0
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001")))


def target_text(target: Target) -> str:
    if target.policy == "tokens":
        return f"tokens={target.max_tokens}"
    if target.policy == "box":
        assert target.box is not None
        return f"box={target.box[0]}x{target.box[1]}"
    return target.policy
