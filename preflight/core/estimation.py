# One image size in, the whole answer out: will the API reject it, what size
# it processes, how many tokens, how many dollars. Rules:
# - pure: sizes and names in, a frozen Estimate out;
# - tokens are counted on the size the API processes, never the upload size;
# - a rejected image is billed nothing (the request fails), so its tokens and
#   cost are 0; its processed size is still reported, as the rules give it.

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from preflight.core.cost import image_cost, plain_decimal
from preflight.core.findings import Finding
from preflight.core.geometry import api_size, check_size, tokens
from preflight.core.rules import dimension_findings, image_count_findings, oversized_findings
from preflight.core.tables import (
    DEFAULT_MODEL,
    DEFAULT_OVERSIZED,
    DEFAULT_TOKEN_RULE,
    Model,
    Surface,
    get_oversized,
    get_rule,
    get_surface,
    resolve_model,
)
from preflight.errors import InvalidSizeError


@dataclass(frozen=True)
class Estimate:
    width: int
    height: int
    processed_width: int
    processed_height: int
    resized: bool
    tokens: int
    cost_usd: Decimal
    rejected: bool
    reasons: tuple[Finding, ...] = field(default=())
    model: str = DEFAULT_MODEL
    tier: str = "standard"
    rule: str = DEFAULT_TOKEN_RULE
    surface: str = "api"
    batch: bool = False
    oversized: str = DEFAULT_OVERSIZED

    @property
    def cost_per_1000_usd(self) -> Decimal:
        return self.cost_usd * 1000

    def to_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "processed_width": self.processed_width,
            "processed_height": self.processed_height,
            "resized": self.resized,
            "tokens": self.tokens,
            "cost_usd": plain_decimal(self.cost_usd),
            "cost_per_1000_usd": plain_decimal(self.cost_per_1000_usd),
            "rejected": self.rejected,
            "reasons": [r.to_dict() for r in self.reasons],
            "model": self.model,
            "tier": self.tier,
            "rule": self.rule,
            "surface": self.surface,
            "batch": self.batch,
            "oversized": self.oversized,
        }


def estimate(
    width: int,
    height: int,
    *,
    model: str | Model = DEFAULT_MODEL,
    rule: str = DEFAULT_TOKEN_RULE,
    surface: str | Surface = "api",
    images_in_request: int = 1,
    batch: bool = False,
    price_per_mtok: Decimal | str | int | None = None,
    tier: str | None = None,
    oversized: str = DEFAULT_OVERSIZED,
) -> Estimate:
    """Everything the API will do with a width x height image.

    `model` picks the price and resolution tier; `price_per_mtok` and `tier`
    override them (and let an unknown model name through). `images_in_request`
    counts every image block in the request, earlier turns included.
    `oversized="error"` models an image the API refuses rather than resizes
    (see tables.OVERSIZED_POLICIES).
    """
    width, height = check_size(width, height)
    if isinstance(images_in_request, bool) or not isinstance(images_in_request, int):
        raise InvalidSizeError(
            f"images_in_request must be a whole number, got {images_in_request!r}"
        )
    if images_in_request < 1:
        raise InvalidSizeError(f"images_in_request must be at least 1, got {images_in_request}")
    resolved_model = resolve_model(model, price_per_mtok=price_per_mtok, tier=tier)
    resolved_surface = get_surface(surface)
    resolved_rule = get_rule(rule)
    resolved_oversized = get_oversized(oversized)
    processed = api_size(width, height, resolved_model.tier)
    size_reasons = dimension_findings(width, height, resolved_surface, images_in_request)
    if not size_reasons:  # a side over the pixel limit is refused as that, whatever the policy
        size_reasons = oversized_findings(
            (width, height), processed, resolved_model.tier, resolved_oversized
        )
    reasons = tuple(size_reasons + image_count_findings(images_in_request, resolved_surface))
    rejected = bool(reasons)
    count = 0 if rejected else tokens(*processed, rule=resolved_rule)
    return Estimate(
        width=width,
        height=height,
        processed_width=processed[0],
        processed_height=processed[1],
        resized=processed != (width, height),
        tokens=count,
        cost_usd=image_cost(count, resolved_model, batch=batch),
        rejected=rejected,
        reasons=reasons,
        model=resolved_model.name,
        tier=resolved_model.tier,
        rule=resolved_rule,
        surface=resolved_surface.name,
        batch=batch,
        oversized=resolved_oversized,
    )
