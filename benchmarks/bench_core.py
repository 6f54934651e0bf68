"""Throughput of the pure core: scalar estimate() and the vectorized planner.

Run: python benchmarks/bench_core.py [--n 10000000] [--previous REV] [--previous-plan REV]

Machines here are noisy, so every figure is printed next to a baseline measured
in the same run: for the scalar path, a Python call doing comparable trivial
arithmetic and the same calls on an earlier commit's code (--previous,
imported under another name); for the planner, numpy computing the token
formula over the same arrays, both of them: the guide's ceil(w*h/750) and
the patch rule's ceil(w/28)*ceil(h/28) (what plan counts by default), and
plan at an earlier commit (--previous-plan). Goal (issue 19): plan over 10M
sizes within 10x of numpy's formula, 3x as a moonshot.

Three sets of sizes, each with its share of distinct sizes printed (plan
answers a repeated size from its memo): the realistic mix (ten common sizes,
each jittered by up to 50 px: about 100,000 distinct), a corpus of exact
repeats (a few hundred distinct sizes, most images one of a handful, as in
a real upload log) and uniform 1..10000 px sides (hardly a repeat).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

import preflight
from preflight._core import planning
from preflight._core.planning import plan

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _previous import previous


def plan_without_memo(widths: np.ndarray, heights: np.ndarray) -> object:
    """plan with its memo of repeated sizes switched off: the search for every size."""
    saved = planning._MEMO_FROM
    planning._MEMO_FROM = widths.size + 1
    try:
        return plan(widths, heights)
    finally:
        planning._MEMO_FROM = saved


def best_of(repeats: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def realistic_sizes(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Camera photos, phone screenshots, scans and thumbnails, with jitter:
    most need resizing, as in a real upload corpus."""
    rng = np.random.default_rng(seed)
    bases = np.array(
        [
            (4032, 3024),
            (3024, 4032),
            (1920, 1080),
            (1170, 2532),
            (2480, 3508),
            (800, 600),
            (6000, 4000),
            (1024, 1024),
            (200, 200),
            (12000, 300),
        ]
    )
    pick = bases[rng.integers(0, len(bases), n)]
    jitter = rng.integers(-50, 51, (n, 2))
    sizes = np.maximum(pick + jitter, 1)
    return sizes[:, 0].copy(), sizes[:, 1].copy()


def repeated_sizes(n: int, seed: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Exact repeats, as a real file of sizes has them: 300 distinct sizes,
    Zipf-weighted (a phone's 4032x3024 and a screen's 1920x1080 are most of
    the rows, a long tail of odd sizes the rest)."""
    rng = np.random.default_rng(seed)
    common = np.array(
        [(4032, 3024), (3024, 4032), (1920, 1080), (1170, 2532), (1284, 2778), (2480, 3508)]
    )
    tail = rng.integers(16, 8000, (294, 2))
    distinct = np.concatenate([common, tail])
    weights = 1.0 / np.arange(1, len(distinct) + 1) ** 1.1
    pick = rng.choice(len(distinct), n, p=weights / weights.sum())
    return distinct[pick, 0].copy(), distinct[pick, 1].copy()


def distinct_sizes(widths: np.ndarray, heights: np.ndarray) -> int:
    return int(np.unique(widths * 65536 + heights).size)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000, help="sizes for the planner")
    parser.add_argument("--scalar-n", type=int, default=200_000, help="sizes for the scalar loop")
    parser.add_argument(
        "--previous", default="c9d03a5", help="commit to compare with (default: before issue 11)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the planner's calls")
    parser.add_argument(
        "--previous-plan",
        default="6e92cb4",
        help="commit whose plan to compare with (default: before issue 19's plan work)",
    )
    args = parser.parse_args()
    old = previous(args.previous)
    old_plan = previous(args.previous_plan).plan

    widths, heights = realistic_sizes(args.n)
    uniform_w = np.random.default_rng(2).integers(1, 10_000, args.n)
    uniform_h = np.random.default_rng(3).integers(1, 10_000, args.n)

    sample = list(
        zip(widths[: args.scalar_n].tolist(), heights[: args.scalar_n].tolist(), strict=True)
    )

    def scalar_baseline() -> None:
        for w, h in sample:
            (w * h + 749) // 750

    def scalar_estimate() -> None:
        for w, h in sample:
            preflight.estimate(w, h)

    def scalar_api_size() -> None:
        for w, h in sample:
            preflight.api_size(w, h)

    def old_estimate() -> None:
        for w, h in sample:
            old.estimate(w, h)

    def old_api_size() -> None:
        for w, h in sample:
            old.api_size(w, h)

    base_s = best_of(3, scalar_baseline)
    est_s, old_est_s = best_of(3, scalar_estimate), best_of(3, old_estimate)
    api_s, old_api_s = best_of(3, scalar_api_size), best_of(3, old_api_size)

    repeated_w, repeated_h = repeated_sizes(args.n)
    sets = {
        "realistic mix": (widths, heights),
        "exact repeats": (repeated_w, repeated_h),
        "uniform 1..10000 px": (uniform_w, uniform_h),
    }
    vector_rows = []
    for label, (w, h) in sets.items():
        # Rounds of every call back to back. Printed: the best time of each
        # call and their ratios, and the median over the rounds of each
        # round's own ratio (a burst of load on this shared machine hits a
        # round, not one call of every round).
        calls = {
            "guide": lambda w=w, h=h: -(-(w * h) // 750),
            "patch": lambda w=w, h=h: (-(-w // 28)) * (-(-h // 28)),
            "plan": lambda w=w, h=h: plan(w, h),
            "memoless": lambda w=w, h=h: plan_without_memo(w, h),
            "before": lambda w=w, h=h: old_plan(w, h, token_rule="patches"),
        }
        rounds = [
            {name: best_of(1, call) for name, call in calls.items()} for _ in range(args.rounds)
        ]
        best = {name: min(r[name] for r in rounds) for name in calls}

        def ratio(top: str, bottom: str, rounds: list[dict[str, float]] = rounds) -> float:
            return statistics.median(r[top] / r[bottom] for r in rounds)

        vector_rows.append((label, distinct_sizes(w, h), best, ratio))
    resized = plan(widths, heights).images_resized / args.n

    n_s, n_v = len(sample), args.n
    print(f"scalar, {n_s:,} sizes (realistic mix, {resized:.0%} resized)")
    print(f"  baseline ceil(w*h/750) loop : {n_s / base_s:>12,.0f} sizes/s")
    for label, seconds, before in (("api_size", api_s, old_api_s), ("estimate", est_s, old_est_s)):
        print(
            f"  {label:<28}: {n_s / seconds:>12,.0f} sizes/s  ({seconds / base_s:.0f}x baseline; "
            f"{args.previous}: {n_s / before:,.0f} sizes/s, now {before / seconds:.2f}x as fast)"
        )
    print(f"vectorized plan, {n_v:,} sizes (default options: the patch rule)")
    for label, share, best, ratio in vector_rows:
        print(f"  {label} ({share:,} distinct sizes)")
        print(f"    numpy ceil(w*h/750)          : {best['guide']:7.3f} s")
        print(f"    numpy ceil(w/28)*ceil(h/28)  : {best['patch']:7.3f} s")
        for name, what in (
            ("plan", "plan"),
            ("memoless", "plan without its memo"),
            ("before", f"plan at {args.previous_plan}"),
        ):
            print(
                f"    {what:<29}: {best[name]:7.3f} s  "
                f"({best[name] / best['guide']:.1f}x / {best[name] / best['patch']:.1f}x the "
                f"guide / patch formula, best times; median of the rounds' own ratios "
                f"{ratio(name, 'guide'):.1f}x / {ratio(name, 'patch'):.1f}x)"
            )
        print(
            f"    plan is {best['before'] / best['plan']:.1f}x as fast as at {args.previous_plan} "
            f"(median {ratio('before', 'plan'):.1f}x; goal: within 10x of numpy's formula, "
            "moonshot 3x)"
        )
    plan_v = vector_rows[0][2]["plan"]
    print(f"  plan vs scalar estimate     : {(est_s / n_s) / (plan_v / n_v):.0f}x faster per size")


if __name__ == "__main__":
    main()
