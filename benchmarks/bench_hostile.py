"""Hostile-input costs: peak memory and time of what the hardening refuses or changes.

Run: python benchmarks/bench_hostile.py [--only NAME] [--repeat N]
(inputs are generated once under benchmarks/.data/hostile/; the pyvips
rows need pyvips).

Every case runs in a fresh subprocess, so its peak resident memory (VmHWM)
belongs to that one operation; imports and engine set-up happen before the
clock starts. Cases:

- progressive 13000x13000 JPEG (1.9 MB on disk, 4:2:0), prepared by each
  engine to the default target: "before" with the coefficient-memory cap
  lifted (PREFLIGHT_JPEG_MEMORY_CAP set huge: what 0.1 did), "after" with
  the default cap (refused before decoding). The peak is compared with the
  parser's coefficient_buffer_bytes, the formula the cap is checked on.
- PNG palette encode of a 2000x1500 noisy image by the vips engine, as a
  ratio to the Pillow engine's palette encode of the same pixels in the same
  run (the issue measured 6.6 s for the vips engine's encode).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data" / "hostile"
ROOT = Path(__file__).resolve().parent.parent
PROGRESSIVE = DATA / "progressive-13000.jpg"
NOISY = DATA / "noisy-2000x1500.png"


def make_inputs() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    if not PROGRESSIVE.exists():
        # libvips streams the encode: no 500 MB image in memory to make it.
        import pyvips

        gradient = pyvips.Image.xyz(13000, 13000)
        image = (gradient[0] % 256).bandjoin([gradient[1] % 256, (gradient[0] + gradient[1]) % 256])
        image.cast("uchar").copy(interpretation="srgb").jpegsave(
            str(PROGRESSIVE), Q=20, interlace=True, subsample_mode="on"
        )
    if not NOISY.exists():
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(1)
        base = np.linspace(0, 255, 2000, dtype=np.float32)[None, :, None]
        noisy = base + rng.normal(0, 40, (1500, 2000, 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(NOISY)


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no /proc/self/status: this benchmark needs Linux")


def child(case: str) -> None:
    """Run one case in this (fresh) process and print its numbers as JSON."""
    import preflight
    from preflight._imaging.engines import get_engine

    outcome = "ok"
    if case.startswith("progressive"):
        engine = case.split("/")[1]
        get_engine(engine)  # set-up before the clock
        setup = peak_rss_bytes()
        start = time.perf_counter()
        try:
            preflight.prepare(PROGRESSIVE, engine=engine, pixel_cap=10**9)
        except preflight.PreflightError as error:
            outcome = f"refused ({error.code})"
        seconds = time.perf_counter() - start
        extra = {"buffer_bytes": preflight.probe(PROGRESSIVE).coefficient_buffer_bytes}
    else:
        engine = case.split("/")[1]
        runner = get_engine(engine)
        pixels = runner.load(NOISY, preflight.probe(NOISY), 2000, 1500, pixel_cap=10**9)
        setup = peak_rss_bytes()
        start = time.perf_counter()
        data = runner.encode(pixels, "png", 85, palette=True)
        seconds = time.perf_counter() - start
        extra = {"output_bytes": len(data)}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak": peak_rss_bytes(),
                "setup": setup,
                "outcome": outcome,
                **extra,
            }
        )
    )


CASES = {
    "progressive/vips/before": {"PREFLIGHT_JPEG_MEMORY_CAP": str(1 << 40)},
    "progressive/vips/after": {},
    "progressive/pillow/before": {"PREFLIGHT_JPEG_MEMORY_CAP": str(1 << 40)},
    "progressive/pillow/after": {},
    "palette/vips": {},
    "palette/pillow": {},
}


def measure(case: str) -> dict[str, object]:
    env = {**os.environ, **CASES[case], "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", case],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    make_inputs()
    names = [name for name in CASES if not args.only or args.only in name]
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in names}
    for _ in range(args.repeat):  # interleaved: a noisy neighbour hits every case alike
        for name in names:
            runs[name].append(measure(name))
    print(f"{'case':28} {'median s':>9} {'peak MB':>8} {'setup MB':>9}  outcome / notes")
    medians: dict[str, float] = {}
    for name, results in runs.items():
        seconds = statistics.median(float(str(r["seconds"])) for r in results)
        medians[name] = seconds
        peak = max(int(str(r["peak"])) for r in results) / 1e6
        setup = max(int(str(r["setup"])) for r in results) / 1e6
        notes = str(results[0]["outcome"])
        if "buffer_bytes" in results[0]:
            notes += f"; coefficient buffer {int(str(results[0]['buffer_bytes'])) / 1e6:.0f} MB"
        if "output_bytes" in results[0]:
            notes += f"; {int(str(results[0]['output_bytes'])):,} bytes out"
        print(f"{name:28} {seconds:9.3f} {peak:8.0f} {setup:9.0f}  {notes}")
    if "palette/vips" in medians and "palette/pillow" in medians:
        ratio = medians["palette/vips"] / medians["palette/pillow"]
        print(f"vips palette encode / Pillow palette encode: {ratio:.2f}x")


if __name__ == "__main__":
    main()
