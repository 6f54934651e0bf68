"""One image size in, the whole answer out: an Estimate.

Will the API reject it, what size it processes, how many tokens, how many
dollars.

Rules:
- pure: a size and Options in, a frozen Estimate out;
- tokens are counted on the size the API processes, never the upload size;
- a rejected image is billed nothing (the request fails), so its tokens and
  cost are 0; its processed size is still reported, as the rules give it;
- a model with no published price gives cost None and says how to price it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from preflight._core.cost import plain_decimal
from preflight._core.findings import Finding
from preflight._core.geometry import TOKEN_COUNTERS, api_size, check_size
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import image_count_findings, model_findings, size_findings

if TYPE_CHECKING:
    from typing_extensions import Unpack


@dataclass(frozen=True)
class Estimate:
    width: int
    height: int
    processed_width: int
    processed_height: int
    resized: bool
    tokens: int
    cost_usd: Decimal | None  # None: the model has no published price (see price_note)
    rejected: bool
    findings: tuple[Finding, ...] = field(default=())
    model: str = ""
    tier: str = "standard"
    rule: str = "guide"
    surface: str = "api"
    batch: bool = False
    oversized: str = "downsize"
    price_note: str = ""  # an assumed rate, or how to price a model without one

    @property
    def cost_per_1000_usd(self) -> Decimal | None:
        return None if self.cost_usd is None else self.cost_usd * 1000

    def to_dict(self) -> dict[str, object]:
        per_1000 = self.cost_per_1000_usd
        return {
            "width": self.width,
            "height": self.height,
            "processed_width": self.processed_width,
            "processed_height": self.processed_height,
            "resized": self.resized,
            "tokens": self.tokens,
            "cost_usd": None if self.cost_usd is None else plain_decimal(self.cost_usd),
            "cost_per_1000_usd": None if per_1000 is None else plain_decimal(per_1000),
            "rejected": self.rejected,
            "findings": [f.to_dict() for f in self.findings],
            "model": self.model,
            "tier": self.tier,
            "rule": self.rule,
            "surface": self.surface,
            "batch": self.batch,
            "oversized": self.oversized,
            "price_note": self.price_note,
        }


def estimate(
    width: int,
    height: int,
    options: Options | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Estimate:
    """Everything the API will do with a width x height image.

    `options` (or the same keywords: model, price_per_mtok, tier, rule,
    surface, images_in_request, oversized, batch, max_bytes, prompt_tokens,
    today) say where and how it is sent; `images_in_request` counts every
    image block in the request, earlier turns included. A retired model
    (on `today`, the real date unless given) rejects the estimate.
    """
    width, height = check_size(width, height)
    chosen = make_options(options, **keywords)
    result = estimate_with(width, height, chosen)
    about_model = model_findings(chosen)
    if not about_model:
        return result
    refused = any(f.is_error for f in about_model)
    return dataclasses.replace(
        result,
        findings=(*about_model, *result.findings),
        rejected=result.rejected or refused,
        tokens=0 if refused else result.tokens,
        cost_usd=chosen.cost(0) if refused else result.cost_usd,
    )


def estimate_with(width: int, height: int, options: Options) -> Estimate:
    """estimate() for a checked size and resolved Options (the hot path)."""
    tier = options.tier
    processed = api_size(width, height, tier)
    findings = size_findings(width, height, processed, options)
    findings += image_count_findings(options.images_in_request, options)
    rejected = bool(findings)
    count = 0 if rejected else TOKEN_COUNTERS[options.rule](*processed)
    return Estimate(
        width=width,
        height=height,
        processed_width=processed[0],
        processed_height=processed[1],
        resized=processed != (width, height),
        tokens=count,
        cost_usd=options.cost(count),
        rejected=rejected,
        findings=tuple(findings),
        model=options.model.name,
        tier=tier.name,
        rule=options.rule,
        surface=options.surface.name,
        batch=options.batch,
        oversized=options.oversized,
        price_note=options.price_note,
    )
