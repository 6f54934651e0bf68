"""Throughput of the pure core: scalar estimate() and the vectorized planner.

Run: python benchmarks/bench_core.py [--n 10000000] [--previous REV]

Machines here are noisy, so every figure is printed next to a baseline measured
in the same run: for the scalar path, a Python call doing comparable trivial
arithmetic and the same calls on an earlier commit's code (--previous,
imported under another name); for the planner, numpy computing
ceil(w*h/750) over the same arrays (goal of issue 11: plan within 10x).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

import preflight
from preflight._core.planning import plan

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _previous import previous


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000, help="sizes for the planner")
    parser.add_argument("--scalar-n", type=int, default=200_000, help="sizes for the scalar loop")
    parser.add_argument(
        "--previous", default="c9d03a5", help="commit to compare with (default: before issue 11)"
    )
    args = parser.parse_args()
    old = previous(args.previous)

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

    def vector_baseline() -> None:
        -(-(widths * heights) // 750)

    base_v = best_of(3, vector_baseline)
    plan_v = best_of(3, lambda: plan(widths, heights))
    plan_u = best_of(3, lambda: plan(uniform_w, uniform_h))
    old_plan_v = best_of(3, lambda: old.plan(widths, heights))
    base_v = min(base_v, best_of(3, vector_baseline))
    resized = plan(widths, heights).images_resized / args.n

    n_s, n_v = len(sample), args.n
    print(f"scalar, {n_s:,} sizes (realistic mix, {resized:.0%} resized)")
    print(f"  baseline ceil(w*h/750) loop : {n_s / base_s:>12,.0f} sizes/s")
    for label, seconds, before in (("api_size", api_s, old_api_s), ("estimate", est_s, old_est_s)):
        print(
            f"  {label:<28}: {n_s / seconds:>12,.0f} sizes/s  ({seconds / base_s:.0f}x baseline; "
            f"{args.previous}: {n_s / before:,.0f} sizes/s, now {before / seconds:.2f}x as fast)"
        )
    print(f"vectorized plan, {n_v:,} sizes")
    print(f"  baseline numpy ceil(w*h/750): {base_v:8.2f} s")
    print(
        f"  plan, realistic mix         : {plan_v:8.2f} s  ({plan_v / base_v:.1f}x baseline, "
        f"{n_v / plan_v / 1e6:.1f} M sizes/s)"
    )
    print(
        f"  plan at {args.previous:<20}: {old_plan_v:8.2f} s  ({old_plan_v / base_v:.0f}x baseline)"
    )
    print(
        f"  plan, uniform 1..10000 px   : {plan_u:8.2f} s  ({plan_u / base_v:.1f}x baseline, "
        f"{n_v / plan_u / 1e6:.1f} M sizes/s)"
    )
    print(f"  plan vs scalar estimate     : {(est_s / n_s) / (plan_v / n_v):.0f}x faster per size")


if __name__ == "__main__":
    main()
