"""This tree against an earlier commit, in the same run: no regression.

Run: python benchmarks/bench_versions.py [--base REV] [--rounds N]

The earlier commit (default: 79c2b87, the last commit of 0.1) is exported
with `git archive` into a temporary folder; each measurement runs in a fresh
subprocess with PYTHONPATH pointing at one tree or the other, the two
interleaved round by round, and the medians are compared. Every call names
its model (Sonnet 4.5, standard tier, in both trees): 0.2's default model is
another, and would not be the same work.

- api_size: the published resize algorithm, scalar, on 100,000 sizes;
- estimate: one image size in, the whole answer out, on 50,000 sizes;
- plan: the vectorized planner on 2,000,000 sizes;
- probe: header facts of 400 generated files (JPEG, PNG, GIF, WebP).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORK = r"""
import json, random, sys, time, io
from pathlib import Path
import preflight
which = sys.argv[1]
rng = random.Random(7)
sizes = [(rng.randint(1, 9000), rng.randint(1, 9000)) for _ in range(100_000)]
if which == "api_size":
    start = time.perf_counter()
    for w, h in sizes:
        preflight.api_size(w, h, "standard")
elif which == "estimate":
    start = time.perf_counter()
    for w, h in sizes[:50_000]:
        preflight.estimate(w, h, model="claude-sonnet-4-5")
elif which == "plan":
    import numpy as np
    g = np.random.default_rng(7)
    widths, heights = g.integers(1, 9000, 2_000_000), g.integers(1, 9000, 2_000_000)
    preflight.plan(widths[:10], heights[:10], model="claude-sonnet-4-5")
    start = time.perf_counter()
    preflight.plan(widths, heights, model="claude-sonnet-4-5")
elif which == "probe":
    paths = sorted(Path(sys.argv[2]).iterdir())
    for p in paths[:20]:
        preflight.probe(str(p))
    start = time.perf_counter()
    for p in paths:
        preflight.probe(str(p))
elapsed = time.perf_counter() - start
assert preflight.__file__.startswith(sys.argv[3]), preflight.__file__
print(json.dumps(elapsed))
"""

CASES = ("api_size", "estimate", "plan", "probe")


def make_files(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    for index in range(400):
        width, height = int(rng.integers(64, 1200)), int(rng.integers(64, 1200))
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        fmt, ext = [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp")][index % 4]
        image.save(folder / f"f{index:03d}.{ext}", fmt)


def export(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "preflight"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, case: str, files: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", WORK, case, str(files), str(tree)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        cwd=files,  # not a tree: `python -c` puts its folder first on sys.path
    )
    return float(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="79c2b87")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = export(args.base, Path(scratch) / "base")
        files = Path(scratch) / "files"
        files.mkdir()
        make_files(files)
        print(f"this tree against {args.base}, median of {args.rounds} interleaved runs")
        for case in CASES:
            times: dict[str, list[float]] = {"base": [], "this": []}
            for _ in range(args.rounds):
                times["base"].append(run(base, case, files))
                times["this"].append(run(ROOT, case, files))
            old, new = statistics.median(times["base"]), statistics.median(times["this"])
            ratio = new / old
            print(f"    {case:9s} {args.base}: {old:7.3f} s  this: {new:7.3f} s  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
