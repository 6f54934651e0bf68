# The facts file's tables and examples, as tests: token counts and sizes
# exactly, the vision guide's rounded dollar figures within their rounding.
# The guide counts tokens by its own rule (w*h/750): its tables are checked
# with token_rule="guide"; the default is the patch rule, what the API bills.

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import preflight
from preflight._core.cost import format_usd

# The vision guide's examples price at $3/MTok on the standard tier: Sonnet
# 4.6 (Sonnet 4.5, its model, was retired on 2026-11-30).
GUIDE_MODEL = "claude-sonnet-4-6"

# vision guide, "Token count and cost": size, tokens, $/image, $/1000 (rounded)
GUIDE_COST_TABLE = [
    ((200, 200), 54, Decimal("0.000162"), Decimal("0.00016"), Decimal("0.16")),
    ((1000, 1000), 1334, Decimal("0.004002"), Decimal("0.004"), Decimal("4.00")),
    ((1092, 1092), 1590, Decimal("0.00477"), Decimal("0.0048"), Decimal("4.80")),
]

# vision guide, "Largest sizes the API accepts without resizing"
NOT_RESIZED = {
    (1, 1): (1092, 1092),
    (3, 4): (951, 1268),
    (2, 3): (896, 1344),
    (9, 16): (819, 1456),
    (1, 2): (784, 1568),
}
# current docs: the published algorithm finds these for very large images;
# 3:4 gives 952x1270, one pixel more than the guide's 951x1268.
LARGEST_FOR_ASPECT = {**NOT_RESIZED, (3, 4): (952, 1270)}


@pytest.mark.parametrize(("size", "tokens", "exact", "per_image", "per_1000"), GUIDE_COST_TABLE)
def test_guide_cost_table(
    size: tuple[int, int], tokens: int, exact: Decimal, per_image: Decimal, per_1000: Decimal
) -> None:
    result = preflight.estimate(*size, model=GUIDE_MODEL, token_rule="guide")
    assert result.tokens == tokens and result.rule == "guide"
    assert preflight.tokens(*size, "guide") == tokens
    assert result.cost_usd == exact
    assert not result.resized
    assert agrees_with_rounded(result.cost_usd, per_image)
    assert agrees_with_rounded(result.cost_per_1000_usd, per_1000)


def agrees_with_rounded(exact: Decimal, shown: Decimal) -> bool:
    """The guide's figure is the exact one rounded to the digits it shows, or
    within 1% of it (its $4.80 prices "about 1,600 tokens", not 1,590).
    Either alone is not enough: $0.000162 is 1.25% from "$0.00016" but
    rounds to it; $4.77 does not round to "$4.80" but is 0.6% from it."""
    half_unit = Decimal(1).scaleb(shown.as_tuple().exponent) / 2  # type: ignore[arg-type]
    return abs(exact - shown) <= half_unit or abs(exact - shown) <= shown / 100


def test_rounding_helper_can_fail() -> None:
    assert not agrees_with_rounded(Decimal("0.00017"), Decimal("0.00016"))
    assert not agrees_with_rounded(Decimal("4.70"), Decimal("4.80"))


def test_guide_cost_figures_print_like_the_guide() -> None:
    printed = [
        format_usd(preflight.estimate(*row[0], model=GUIDE_MODEL, token_rule="guide").cost_usd)
        for row in GUIDE_COST_TABLE
    ]
    assert printed == ["$0.00016", "$0.004", "$0.0048"]
    per_1000 = [
        format_usd(
            preflight.estimate(*row[0], model=GUIDE_MODEL, token_rule="guide").cost_per_1000_usd
        )
        for row in GUIDE_COST_TABLE
    ]
    assert per_1000 == ["$0.16", "$4.00", "$4.77"]  # the guide rounds 4.77 up to "about $4.80"


# What the API bills for the guide's sizes: 28 px patches (the default rule).
BILLED = {(200, 200): 64, (1000, 1000): 1296, (1092, 1092): 1521}


@pytest.mark.parametrize(("size", "billed"), list(BILLED.items()))
def test_the_default_count_is_what_the_api_bills(size: tuple[int, int], billed: int) -> None:
    result = preflight.estimate(*size, model=GUIDE_MODEL)
    assert (result.tokens, result.rule) == (billed, "patches")
    assert result.to_dict()["rule"] == "patches"
    assert preflight.tokens(*size, options=preflight.make_options(model=GUIDE_MODEL)) == billed
    assert result.cost_usd == Decimal(billed * 3) / 1_000_000


def test_the_patch_rule_is_the_default_on_every_model() -> None:
    for model in preflight.tables.MODELS.values():
        options = preflight.make_options(model=model, today=date(2026, 11, 1))
        width, height = preflight.api_size(3000, 2000, options=options)
        patches = -(-width // 28) * -(-height // 28)
        assert options.token_rule == "patches", model.name
        assert preflight.tokens(width, height, options=options) == patches, model.name
        result = preflight.estimate(3000, 2000, options)
        assert result.rule == "patches", model.name
        assert result.tokens == (0 if result.rejected else patches), model.name


@pytest.mark.parametrize("size", list(NOT_RESIZED.values()))
def test_guide_not_resized_table(size: tuple[int, int]) -> None:
    width, height = size
    assert preflight.api_size(width, height, "standard") == (width, height)
    assert preflight.api_size(height, width, "standard") == (height, width)
    assert not preflight.estimate(width, height, model=GUIDE_MODEL).resized


@pytest.mark.parametrize(("aspect", "expected"), list(LARGEST_FOR_ASPECT.items()))
@pytest.mark.parametrize("scale", [2000, 4000, 20_000])
def test_very_large_images_come_back_at_the_table_size(
    aspect: tuple[int, int], expected: tuple[int, int], scale: int
) -> None:
    aw, ah = aspect
    assert preflight.api_size(aw * scale, ah * scale, "standard") == expected
    # landscape is the same answer swapped
    assert preflight.api_size(ah * scale, aw * scale, "standard") == expected[::-1]


def test_guide_three_four_size_also_fits() -> None:
    # 951x1268 fits and is not resized, though 952x1270 is the algorithm's maximum.
    assert preflight.api_size(951, 1268) == (951, 1268)
    assert preflight.api_size(952, 1270) == (952, 1270)


def test_tokens_above_1600_are_not_a_resize_rule() -> None:
    # facts: 951x1268, 896x1344 and 784x1568 are over 1,600 by w*h/750 yet not resized
    for size in [(951, 1268), (896, 1344), (784, 1568)]:
        assert size[0] * size[1] / 750 > 1600
        assert not preflight.estimate(*size, model=GUIDE_MODEL).resized


def test_screenshot_example() -> None:
    assert preflight.api_size(1920, 1080, "standard") == (1456, 819)
    assert preflight.tokens(1456, 819, "patches") == 1560
    assert preflight.api_size(1920, 1080, "high-res") == (1920, 1080)
    assert preflight.tokens(1920, 1080, "patches") == 2691
    assert preflight.estimate(1920, 1080, model="claude-opus-4-7").tokens == 2691
    assert preflight.estimate(1920, 1080, model=GUIDE_MODEL).tokens == 1560
    assert preflight.estimate(1920, 1080, token_rule="guide", model=GUIDE_MODEL).tokens == 1590


def test_guide_formula_approximates_patches() -> None:
    # facts: 28*28 = 784 is what 750 approximates
    assert preflight.tokens(28, 28, "patches") == 1
    assert preflight.tokens(29, 28, "patches") == 2
    assert preflight.tokens(750, 1, "guide") == 1
    assert preflight.tokens(751, 1, "guide") == 2


@pytest.mark.parametrize(
    ("model", "price", "tier"),
    [
        ("claude-opus-4-7", "5", "high-res"),
        ("claude-opus-4-6", "5", "standard"),
        ("claude-opus-4-5", "5", "standard"),
        ("claude-opus-4-1", "15", "standard"),
        ("claude-opus-4", "15", "standard"),
        ("claude-sonnet-4-6", "3", "standard"),
        ("claude-sonnet-4-5", "3", "standard"),
        ("claude-sonnet-4", "3", "standard"),
        ("claude-haiku-4-5", "1", "standard"),
        ("claude-3-5-haiku", "0.80", "standard"),
    ],
)
def test_price_table(model: str, price: str, tier: str) -> None:
    entry = preflight.get_model(model)
    assert entry.input_usd_per_mtok == Decimal(price)
    assert entry.tier == tier


def test_batch_discount_is_half() -> None:
    full = preflight.estimate(1000, 1000, model=GUIDE_MODEL).cost_usd
    assert preflight.estimate(1000, 1000, batch=True, model=GUIDE_MODEL).cost_usd * 2 == full


def test_tiers_and_surfaces_table() -> None:
    assert (
        preflight.tables.TIERS["standard"].max_edge,
        preflight.tables.TIERS["standard"].max_patch_tokens,
    ) == (
        1568,
        1568,
    )
    assert (
        preflight.tables.TIERS["high-res"].max_edge,
        preflight.tables.TIERS["high-res"].max_patch_tokens,
    ) == (
        2576,
        4784,
    )
    # The vision guide's Messages API numbers.
    guide = preflight.get_surface("vision-guide")
    assert (guide.max_images, guide.max_image_base64_bytes, guide.max_request_bytes) == (
        100,
        5 * 1_048_576,
        32 * 1_048_576,
    )
    # Late 2026 ("Vision", "API overview"): 10 MB per image on the Claude API;
    # the image cap comes from the model (100 or 600).
    api = preflight.get_surface("api")
    assert (api.max_images, api.max_image_base64_bytes, api.max_request_bytes) == (
        None,
        10 * 1_048_576,
        32 * 1_048_576,
    )
    for surface in (guide, api, preflight.get_surface("bedrock"), preflight.get_surface("vertex")):
        assert (
            surface.max_side_px,
            surface.many_images_threshold,
            surface.many_images_max_side_px,
        ) == (8000, 20, 2000)
    assert preflight.get_surface("bedrock").max_request_bytes == 20 * 1_048_576
    assert preflight.get_surface("vertex").max_request_bytes == 30 * 1_048_576
    claude_ai = preflight.get_surface("claude.ai")
    assert (claude_ai.max_images, claude_ai.max_image_base64_bytes) == (20, 10 * 1_048_576)
    assert preflight.get_surface("api-direct").max_image_base64_bytes == 10 * 1_048_576
    assert preflight.get_surface("bedrock").max_image_base64_bytes == 5 * 1_048_576
    assert preflight.get_surface("vertex").max_image_base64_bytes == 5 * 1_048_576
