# Properties of the resize search and the client-side targets, over sizes from
# 1 to 100,000 px a side, extreme aspect ratios included.

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_sizes, boxes, rules, sides, tiers, token_budgets

from preflight._core.geometry import (
    api_size,
    fits_tier,
    guide_tokens,
    patch_tokens,
    target_size,
    tokens,
)
from preflight._core.tables import GUIDE_TIP_MAX_PIXELS, GUIDE_TIP_MAX_SIDE, get_tier

# Pure arithmetic: no image engine is loaded (conftest checks), so tox's
# nopyvips env leaves this module to the py env.
pytestmark = pytest.mark.noengine


def shape_kept(original: tuple[int, int], result: tuple[int, int]) -> bool:
    """The published rounding: the short side is round(long / aspect), at least 1."""
    (w, h), (rw, rh) = original, result
    if h > w:
        return rw == max(round(rh / (h / w)), 1)
    return rh == max(round(rw / (w / h)), 1)


def next_candidate(original: tuple[int, int], result: tuple[int, int]) -> tuple[int, int]:
    """The search's next candidate: one more pixel on the long edge."""
    (w, h), (rw, rh) = original, result
    if h > w:
        long_edge = rh + 1
        return max(round(long_edge / (h / w)), 1), long_edge
    long_edge = rw + 1
    return long_edge, max(round(long_edge / (w / h)), 1)


@given(any_sizes, tiers)
def test_api_size_fits_is_maximal_and_never_upscales(size: tuple[int, int], tier: str) -> None:
    result = api_size(*size, tier)
    resolved = get_tier(tier)
    assert fits_tier(*result, resolved)
    assert result[0] <= size[0]
    assert result[1] <= size[1]
    assert min(result) >= 1
    if result != size:
        assert shape_kept(size, result)
        assert not fits_tier(*next_candidate(size, result), resolved)


@given(any_sizes, tiers)
def test_api_size_is_idempotent_and_symmetric(size: tuple[int, int], tier: str) -> None:
    result = api_size(*size, tier)
    assert api_size(*result, tier) == result
    assert api_size(size[1], size[0], tier) == result[::-1]


@given(any_sizes, tiers)
def test_fitting_images_are_unchanged(size: tuple[int, int], tier: str) -> None:
    if fits_tier(*size, get_tier(tier)):
        assert api_size(*size, tier) == size


@given(st.tuples(sides, sides), rules)
def test_tokens_grow_with_each_side(size: tuple[int, int], rule: str) -> None:
    w, h = size
    count = tokens(w, h, rule)
    assert tokens(w + 1, h, rule) >= count
    assert tokens(w, h + 1, rule) >= count
    assert count >= 1


@given(st.tuples(sides, sides))
def test_token_rules_match_their_formulas(size: tuple[int, int]) -> None:
    import math

    w, h = size
    assert guide_tokens(w, h) == math.ceil(w * h / 750) or w * h > 2**52
    assert guide_tokens(w, h) * 750 >= w * h > (guide_tokens(w, h) - 1) * 750
    assert patch_tokens(w, h) == -(-w // 28) * -(-h // 28)


def check_target(size: tuple[int, int], result: tuple[int, int], tier: str) -> None:
    assert min(result) >= 1
    assert result[0] <= size[0]
    assert result[1] <= size[1]
    assert fits_tier(*result, get_tier(tier))
    assert api_size(*result, tier) == result  # the API keeps it as it is
    if result != size:
        assert shape_kept(size, result)


@given(any_sizes, tiers)
def test_target_api_is_api_size(size: tuple[int, int], tier: str) -> None:
    assert target_size(*size, "api", tier=tier) == api_size(*size, tier)


@given(any_sizes, tiers)
def test_target_guide(size: tuple[int, int], tier: str) -> None:
    result = target_size(*size, "guide", tier=tier)
    check_target(size, result, tier)
    w, h = result
    assert w <= GUIDE_TIP_MAX_SIDE
    assert h <= GUIDE_TIP_MAX_SIDE
    assert w * h <= GUIDE_TIP_MAX_PIXELS
    assert target_size(*result, "guide", tier=tier) == result
    if result != size:
        bw, bh = next_candidate(size, result)
        assert (
            bw > GUIDE_TIP_MAX_SIDE
            or bh > GUIDE_TIP_MAX_SIDE
            or bw * bh > GUIDE_TIP_MAX_PIXELS
            or not fits_tier(bw, bh, get_tier(tier))
        )


@given(any_sizes, tiers, token_budgets, rules)
def test_target_token_budget(size: tuple[int, int], tier: str, budget: int, rule: str) -> None:
    result = target_size(*size, "tokens", tier=tier, max_tokens=budget, rule=rule)
    check_target(size, result, tier)
    assert tokens(*result, rule) <= budget
    assert target_size(*result, "tokens", tier=tier, max_tokens=budget, rule=rule) == result
    if result != size:
        bw, bh = next_candidate(size, result)
        assert tokens(bw, bh, rule) > budget or not fits_tier(bw, bh, get_tier(tier))


@given(any_sizes, tiers, boxes)
def test_target_box(size: tuple[int, int], tier: str, box: tuple[int, int]) -> None:
    result = target_size(*size, "box", tier=tier, box=box)
    check_target(size, result, tier)
    assert result[0] <= box[0]
    assert result[1] <= box[1]


@given(any_sizes, tiers, token_budgets)
def test_targets_are_symmetric(size: tuple[int, int], tier: str, budget: int) -> None:
    swapped = size[::-1]
    assert target_size(*swapped, "guide", tier=tier) == target_size(*size, "guide", tier=tier)[::-1]
    assert (
        target_size(*swapped, "tokens", tier=tier, max_tokens=budget)
        == target_size(*size, "tokens", tier=tier, max_tokens=budget)[::-1]
    )
