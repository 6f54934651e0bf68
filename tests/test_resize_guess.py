# The closed-form guess of the resize search against a plain reference: the
# published algorithm written out here as a binary search over the long edge
# (Python ints and floats, nothing shared with preflight's code), on the
# sizes where a closed form is most likely to be off: exact .5 ties of
# L / aspect, extreme aspect ratios and long sides at patch band edges.

from __future__ import annotations

import numpy as np
import pytest
from helpers import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

import preflight
from preflight._core.planning import api_sizes

# Pure arithmetic: no image engine is loaded (conftest checks), so tox's
# nopyvips env leaves this module to the py env.
pytestmark = pytest.mark.noengine

TIERS = {"standard": (1568, 1568), "high-res": (2576, 4784)}


def reference(width: int, height: int, tier: str) -> tuple[int, int]:
    max_edge, budget = TIERS[tier]

    def fits(w: int, h: int) -> bool:
        pw, ph = -(-w // 28), -(-h // 28)
        return pw * 28 <= max_edge and ph * 28 <= max_edge and pw * ph <= budget

    if fits(width, height):
        return width, height
    portrait = height > width
    long_side, short_side = (height, width) if portrait else (width, height)
    aspect = long_side / short_side

    def candidate(edge: int) -> tuple[int, int]:
        short = max(round(edge / aspect), 1)
        return (short, edge) if portrait else (edge, short)

    lo, hi = 1, long_side
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(*candidate(mid)):
            lo = mid
        else:
            hi = mid - 1
    return candidate(lo)


tiers = st.sampled_from(sorted(TIERS))


@st.composite
def half_ties(draw: st.DrawFn) -> tuple[int, int]:
    """A long side and a short side for which some edge L near the answer
    has L / aspect == n + 0.5 exactly: long = 2 L m, short = (2n + 1) m."""
    edge = draw(st.integers(28, 2600))
    n = draw(st.integers(0, edge - 1))
    m = draw(st.integers(1, 50))
    long_side, short_side = 2 * edge * m, (2 * n + 1) * m
    if short_side > long_side:
        long_side, short_side = short_side, long_side
    return (long_side, short_side) if draw(st.booleans()) else (short_side, long_side)


@st.composite
def band_edges(draw: st.DrawFn) -> tuple[int, int]:
    """A size whose answer lies at a patch band edge: the long side of a
    fitting size 28k + d, d in -2..2, scaled up."""
    k = draw(st.integers(1, 92))
    d = draw(st.integers(-2, 2))
    edge = max(28 * k + d, 1)
    short = draw(st.integers(1, edge))
    scale = draw(st.integers(1, 40))
    offset = draw(st.integers(-3, 3))
    long_side, short_side = edge * scale + offset, short * scale
    long_side = max(long_side, 1)
    return (long_side, short_side) if draw(st.booleans()) else (short_side, long_side)


extreme = st.one_of(
    st.tuples(st.integers(1, 12), st.integers(1, 2**40)),
    st.tuples(st.integers(1, 2**40), st.integers(1, 12)),
    st.tuples(st.integers(1, 2**20), st.integers(1, 2**20)),
)
hard_sizes = st.one_of(half_ties(), band_edges(), extreme)


# Cheap and where a closed form goes wrong: five times the profile's
# examples (1500 in CI).
@settings(max_examples=examples(5))
@given(hard_sizes, tiers)
@example((4000, 4000), "standard")
@example((3000, 4000), "standard")
@example((2**62, 1), "high-res")
@example((1, 2**62), "standard")
@example((1569, 1), "standard")
def test_api_size_matches_reference_search(size: tuple[int, int], tier: str) -> None:
    assert preflight.api_size(*size, tier) == reference(*size, tier)


@settings(max_examples=examples(2 / 3))
@given(st.lists(hard_sizes, min_size=1, max_size=300), tiers)
def test_api_sizes_match_reference_search(sizes: list[tuple[int, int]], tier: str) -> None:
    out_w, out_h = api_sizes(
        np.array([w for w, _ in sizes], dtype=np.int64),
        np.array([h for _, h in sizes], dtype=np.int64),
        tier,
    )
    got = list(zip(out_w.tolist(), out_h.tolist(), strict=True))
    assert got == [reference(w, h, tier) for w, h in sizes]


def test_every_aspect_cell_of_the_guess_table() -> None:
    # One size per aspect step of 1/4096 from 1 to 4 (both tiers, both
    # orientations): every cell of the band table, and most band boundaries.
    long_side = np.full(3 * 4096 + 1, 40_960, dtype=np.int64)
    short_side = (40_960 * 4096) // (4096 + np.arange(3 * 4096 + 1))
    for tier in TIERS:
        for w, h in ((long_side, short_side), (short_side, long_side)):
            out_w, out_h = api_sizes(w, h, tier)
            got = list(zip(out_w.tolist(), out_h.tolist(), strict=True))
            assert got == [
                reference(a, b, tier) for a, b in zip(w.tolist(), h.tolist(), strict=True)
            ]
