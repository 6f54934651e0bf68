"""Start-up: the installed `preflight` command, whole process, against a bare interpreter.

Run: python benchmarks/bench_startup.py [--repeat N]

- `python -c pass`: the interpreter alone (the floor every command pays);
- `preflight --version`: goal at most 80 ms;
- `preflight check ONE.png` (a bundled sample): goal at most 150 ms;
- `python -c "import preflight"`, and the same with `preflight.cli`: what
  the imports cost.

The goals are absolute (the issue's, on a 2-core machine); the ratio to the
bare interpreter, measured in the same run, is the figure that travels.
Times are the best of --repeat runs (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "samples" / "rgb.png"


def best_of(repeat: int, command: list[str]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    script = shutil.which("preflight") or str(Path(sys.executable).parent / "preflight")
    if not Path(script).exists():
        sys.exit("the preflight command is not installed: pip install .")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("python -c 'import preflight'", [sys.executable, "-c", "import preflight"], None),
        ("python -c 'import preflight.cli'", [sys.executable, "-c", "import preflight.cli"], None),
        ("preflight --version", [script, "--version"], 0.080),
        (f"preflight check {SAMPLE.name}", [script, "check", str(SAMPLE)], 0.150),
    ]
    floor = None
    for label, command, goal in rows:
        took = best_of(args.repeat, command)
        floor = floor or took
        verdict = ""
        if goal is not None:
            verdict = f"  goal <= {goal * 1000:.0f} ms: {'met' if took <= goal else 'NOT met'}"
        ratio = took / floor
        print(f"{label:42} {took * 1000:7.1f} ms  ({ratio:4.1f}x the bare interpreter){verdict}")


if __name__ == "__main__":
    main()
