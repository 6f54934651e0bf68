"""A cost plan from a 10-million-row CSV of sizes, end to end (read + plan +
totals + histogram), against pandas.read_csv plus numpy's token formula over
the same file, in the same run (goal of issue 11: within 3x): both formulas,
the guide's ceil(w*h/750) and the patch rule's ceil(w/28)*ceil(h/28) (what
the plan counts by default).

Run: python benchmarks/bench_costplan.py [--rows 10000000]

The CSV is generated once into benchmarks/.data/ (gitignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import realistic_sizes

from preflight._inputs.sizes import read_sizes
from preflight._runs.costplan import cost_plan

DATA = Path(__file__).resolve().parent / ".data"


def best_of(repeats: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def make_csv(rows: int) -> Path:
    path = DATA / f"sizes-{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    widths, heights = realistic_sizes(rows)
    counts = np.random.default_rng(5).integers(1, 4, rows)
    table = np.column_stack([widths, heights, counts])
    with open(path.with_suffix(".tmp"), "w") as out:
        out.write("width,height,count\n")
        np.savetxt(out, table, fmt="%d", delimiter=",")
    path.with_suffix(".tmp").rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = make_csv(args.rows)
    size_mb = path.stat().st_size / 1e6

    def baseline() -> int:
        import pandas as pd

        frame = pd.read_csv(path)
        w = frame["width"].to_numpy()
        h = frame["height"].to_numpy()
        return int((-(-(w * h) // 750)).sum())

    def patch_baseline() -> int:
        import pandas as pd

        frame = pd.read_csv(path)
        w = frame["width"].to_numpy()
        h = frame["height"].to_numpy()
        return int(((-(-w // 28)) * (-(-h // 28))).sum())

    def ours(reader: str, target: str | None = None) -> Callable[[], object]:
        def run() -> object:
            sizes = read_sizes(path, reader=reader)
            return cost_plan(sizes.widths, sizes.heights, sizes.counts, target=target)

        return run

    have = {m: importlib.util.find_spec(m) is not None for m in ("pandas", "pyarrow")}
    print(f"{args.rows:,} rows, {size_mb:.0f} MB CSV")
    if not have["pandas"]:
        print("  pandas is not installed: no baseline")
        return
    base = best_of(args.repeats, baseline)
    patch = best_of(args.repeats, patch_baseline)
    print(f"  baseline pandas.read_csv + numpy ceil(w*h/750): {base:6.2f} s")
    print(f"  baseline pandas.read_csv + numpy ceil(w/28)*ceil(h/28): {patch:6.2f} s")
    readers = [r for r in ("pyarrow", "pandas") if have[r]] + ["numpy"]
    for reader in readers:
        read = best_of(args.repeats, lambda r=reader: read_sizes(path, reader=r))
        total = best_of(args.repeats, ours(reader))
        print(
            f"  read ({reader:<7})          : {read:6.2f} s;  read + cost plan: {total:6.2f} s "
            f"({total / base:.2f}x / {total / patch:.2f}x the baselines; goal 3x)"
        )
    auto = best_of(args.repeats, ours("auto", target="guide"))
    print(
        f"  read + cost plan, --target guide (auto reader): {auto:6.2f} s "
        f"({auto / base:.2f}x / {auto / patch:.2f}x)"
    )


if __name__ == "__main__":
    main()
