# The vectorized planner agrees exactly with the scalar core.

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_sizes, rules, tiers

import preflight
from preflight._core import planning
from preflight._core.planning import api_sizes, plan, token_counts
from preflight.errors import InvalidSizeError

# Pure arithmetic: no image engine is loaded (conftest checks), so tox's
# nopyvips env leaves this module to the py env.
pytestmark = pytest.mark.noengine

# The vision guide's examples price at $3/MTok on the standard tier: Sonnet 4.5.
GUIDE_MODEL = "claude-sonnet-4-5"

size_lists = st.lists(any_sizes, min_size=1, max_size=200)


@given(size_lists, tiers)
def test_api_sizes_match_scalar(sizes: list[tuple[int, int]], tier: str) -> None:
    widths = np.array([w for w, _ in sizes])
    heights = np.array([h for _, h in sizes])
    out_w, out_h = api_sizes(widths, heights, tier)
    assert list(zip(out_w.tolist(), out_h.tolist(), strict=True)) == [
        preflight.api_size(w, h, tier) for w, h in sizes
    ]


@given(size_lists, rules)
def test_token_counts_match_scalar(sizes: list[tuple[int, int]], rule: str) -> None:
    widths = np.array([w for w, _ in sizes])
    heights = np.array([h for _, h in sizes])
    assert token_counts(widths, heights, rule).tolist() == [
        preflight.tokens(w, h, rule) for w, h in sizes
    ]


@given(
    size_lists,
    rules,
    # Models still served: estimate() rejects a retired one (the request
    # fails), which a plan of sizes does not judge.
    st.sampled_from(["claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5"]),
    st.sampled_from(["api", "claude.ai"]),
    st.integers(1, 120),
    st.booleans(),
    st.data(),
)
def test_plan_matches_estimate(
    sizes: list[tuple[int, int]],
    rule: str,
    model: str,
    surface: str,
    images: int,
    batch: bool,
    data: st.DataObject,
) -> None:
    counts = data.draw(st.lists(st.integers(0, 1000), min_size=len(sizes), max_size=len(sizes)))
    options: dict[str, Any] = {
        "model": model,
        "token_rule": rule,
        "surface": surface,
        "images_in_request": images,
        "batch": batch,
        "oversized": data.draw(st.sampled_from(["resize", "error"])),
    }
    result = plan([w for w, _ in sizes], [h for _, h in sizes], counts, **options)
    scalar = [preflight.estimate(w, h, **options) for w, h in sizes]
    assert result.tokens.tolist() == [e.tokens for e in scalar]
    assert result.rejected.tolist() == [e.rejected for e in scalar]
    assert result.resized.tolist() == [e.resized for e in scalar]
    assert result.total_tokens == sum(e.tokens * c for e, c in zip(scalar, counts, strict=True))
    assert result.total_cost_usd == sum(
        (e.cost_usd * c for e, c in zip(scalar, counts, strict=True)), start=Decimal(0)
    )
    assert result.images == sum(counts)


def test_plan_guide_table() -> None:
    sides = [200, 1000, 1092]
    result = plan(sides, sides, [1000, 1000, 1000], model=GUIDE_MODEL, token_rule="guide")
    assert result.tokens.tolist() == [54, 1334, 1590]
    assert str(result.total_cost_usd.normalize()) == "8.934"  # $0.16 + $4.002 + $4.77


@pytest.mark.parametrize(
    ("widths", "heights"),
    [
        ([0], [5]),
        ([1.5], [2]),
        ([[1]], [[1]]),
        (["a"], [1]),
        ([1, 2], [1]),
        ([-3], [4]),
        ([10**19], [5]),  # unsigned 64-bit: must not wrap to a negative size
        ([2**70], [5]),  # past 64 bits
    ],
)
def test_plan_rejects_bad_sizes(widths: object, heights: object) -> None:
    with pytest.raises(InvalidSizeError):
        plan(widths, heights)  # type: ignore[arg-type]


def test_plan_handles_sides_up_to_int64_like_the_scalar_core() -> None:
    sizes = [(10**18, 5), (3, 10**17), (2**62, 2**62), (12_345_678_901, 1)]
    result = plan([w for w, _ in sizes], [h for _, h in sizes], model=GUIDE_MODEL)
    assert list(
        zip(result.processed_width.tolist(), result.processed_height.tolist(), strict=True)
    ) == [preflight.api_size(w, h, "standard") for w, h in sizes]  # GUIDE_MODEL's tier


def test_plan_accepts_whole_floats_and_empty() -> None:
    assert plan([1920.0], [1080.0], model=GUIDE_MODEL).processed_width.tolist() == [1456]
    empty = plan([], [])
    assert empty.images == 0
    assert empty.total_tokens == 0


@pytest.mark.parametrize("tier", ["standard", "high-res"])
def test_api_sizes_across_many_chunks_match_scalar(tier: str) -> None:
    # More sizes than one chunk of the vectorized search, mixed fitting and
    # not, so chunk boundaries and the scatter back into place are exercised.
    rng = np.random.default_rng(7)
    widths = rng.integers(1, 20_000, size=50_000)
    heights = rng.integers(1, 20_000, size=50_000)
    widths[::3] = rng.integers(1, 1500, size=widths[::3].size)
    out_w, out_h = api_sizes(widths, heights, tier)
    expected = [
        preflight.api_size(int(w), int(h), tier) for w, h in zip(widths, heights, strict=True)
    ]
    assert list(zip(out_w.tolist(), out_h.tolist(), strict=True)) == expected


# The memo of answers by size (planning._Memo) serves files of sizes that
# repeat; forced on here, with tiny tables (collisions), tiny chunks (misses
# settled across chunks) and a trial that may switch it off mid-run.
served_models = st.sampled_from(["claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5"])


@settings(max_examples=80)
@given(
    st.lists(st.tuples(st.integers(1, 9000), st.integers(1, 9000)), min_size=1, max_size=12),
    rules,
    served_models,
    st.integers(1, 120),
    st.sampled_from(["resize", "error"]),
    st.data(),
)
def test_plan_with_the_memo_matches_estimate(
    pool: list[tuple[int, int]],
    rule: str,
    model: str,
    images: int,
    oversized: str,
    data: st.DataObject,
) -> None:
    sizes = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=300))
    counts = data.draw(
        st.none() | st.lists(st.integers(0, 1000), min_size=len(sizes), max_size=len(sizes))
    )
    options: dict[str, Any] = {
        "model": model,
        "token_rule": rule,
        "images_in_request": images,
        "oversized": oversized,
    }
    lookups: list[int] = []
    lookup = planning._Memo.lookup

    def counted(memo: planning._Memo, w: Any, h: Any) -> Any:
        lookups.append(int(w.size))
        return lookup(memo, w, h)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planning, "_CHUNK", data.draw(st.sampled_from([1, 3, 8, 64])))
        patch.setattr(planning, "_MEMO_CHUNK", data.draw(st.sampled_from([1, 5, 16, 128])))
        patch.setattr(planning, "_MEMO_FROM", 0)
        patch.setattr(planning, "_MEMO_BITS", data.draw(st.integers(1, 6)))
        patch.setattr(planning, "_MEMO_TRIAL", data.draw(st.sampled_from([1, 40, 1 << 20])))
        patch.setattr(planning._Memo, "lookup", counted)
        result = plan([w for w, _ in sizes], [h for _, h in sizes], counts, **options)
    assert lookups  # the memo answered
    weights = counts if counts is not None else [1] * len(sizes)
    scalar = [preflight.estimate(w, h, **options) for w, h in sizes]
    assert result.processed_width.tolist() == [e.processed_width for e in scalar]
    assert result.processed_height.tolist() == [e.processed_height for e in scalar]
    assert result.tokens.tolist() == [e.tokens for e in scalar]
    assert result.rejected.tolist() == [e.rejected for e in scalar]
    assert result.resized.tolist() == [e.resized for e in scalar]
    assert result.total_tokens == sum(e.tokens * c for e, c in zip(scalar, weights, strict=True))
    assert result.images == sum(weights)
    assert result.images_resized == sum(
        c for e, c in zip(scalar, weights, strict=True) if e.resized
    )
    assert result.images_rejected == sum(
        c for e, c in zip(scalar, weights, strict=True) if e.rejected
    )


def test_plan_of_a_large_repetitive_file_matches_its_distinct_sizes() -> None:
    # Past the memo's threshold at its real settings: 600,000 rows of 40
    # sizes (phone photos, screenshots, thumbnails) planned as they come and
    # as the 40 distinct sizes: the same answer for every row.
    rng = np.random.default_rng(11)
    distinct_w = rng.integers(1, 9000, 40)
    distinct_h = rng.integers(1, 9000, 40)
    pick = rng.integers(0, 40, 600_000)
    assert pick.size >= planning._MEMO_FROM
    whole = plan(distinct_w[pick], distinct_h[pick], model="claude-opus-4-7")
    each = plan(distinct_w, distinct_h, model="claude-opus-4-7")
    assert np.array_equal(whole.processed_width, each.processed_width[pick])
    assert np.array_equal(whole.processed_height, each.processed_height[pick])
    assert np.array_equal(whole.tokens, each.tokens[pick])
    assert np.array_equal(whole.resized, each.resized[pick])
    assert whole.total_tokens == int(each.tokens[pick].sum())
