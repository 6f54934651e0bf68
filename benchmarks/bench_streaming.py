"""Prepare streams: peak memory of `preflight prepare` over 100 and 1,000
files, and what verifying a pass-through costs.

Run: python benchmarks/bench_streaming.py [--engine vips|pillow]

(a) Peak memory. Each run is a fresh `python -m preflight prepare` process
over a folder of N photo-like 1600x1200 JPEGs (re-encoded: over the standard
tier) and its peak resident memory (ru_maxrss of the child) is read. A
streaming prepare holds one image at a time: the peak for 1,000 files
should be that of 100 files, not ten times more (0.1 held every output
until the end: 2.4 GB for 5,000 files).

(b) Verification. prepare decodes what it passes through (a small,
shrink-on-load decode by the engine, and Pillow's reading of the whole
file) so it never returns data that does not decode. Measured in one
process on an 800x600 JPEG and a 1000x750 PNG that pass through: prepare
as it is against prepare with the verification replaced by a no-op.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data" / "streaming"
sys.path.insert(0, str(ROOT))


def photo(width: int, height: int, seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack(
        [
            127 + 100 * np.sin(x / 37 + seed),
            127 + 100 * np.cos(y / 29),
            127 + 100 * np.sin((x + y) / 53),
        ],
        axis=-1,
    ) + rng.normal(0, 6, (height, width, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def folder_of(count: int) -> Path:
    folder = DATA / f"{count}"
    if len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    templates = [photo(1600, 1200, seed) for seed in range(8)]
    for index in range(count):
        (folder / f"photo-{index:04d}.jpg").write_bytes(templates[index % len(templates)])
    return folder


def peak_of_prepare(folder: Path, engine: str) -> tuple[float, float]:
    """(peak resident MB, seconds) of one prepare run in a fresh process."""
    out = DATA / f"out-{folder.name}"
    command = [
        sys.executable,
        "-m",
        "preflight",
        "prepare",
        str(folder),
        "--out",
        str(out),
        "--engine",
        engine,
        "--model",
        "claude-sonnet-4-6",
        "--format",
        "json",
    ]
    code = (
        "import resource, subprocess, sys; "
        f"subprocess.run({command!r}, stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    return int(result.stdout.strip()) / 1024, seconds


def verification_cost(engine: str, repeat: int) -> list[str]:
    import numpy as np
    from PIL import Image

    import preflight
    from preflight._imaging import preparation

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (750, 1000, 3), dtype=np.uint8)).save(
        buffer, "PNG"
    )
    cases = {"800x600 JPEG": photo(800, 600, 3), "1000x750 PNG": buffer.getvalue()}
    real = preparation._decode_failure
    rows = []
    for name, data in cases.items():
        timings: dict[str, list[float]] = {"verified": [], "unverified": []}
        for _ in range(repeat):
            for label in ("verified", "unverified"):
                if label == "unverified":
                    preparation._decode_failure = lambda *args: None  # type: ignore[assignment]
                try:
                    start = time.perf_counter()
                    result = preflight.prepare(data, engine=engine)
                    timings[label].append(time.perf_counter() - start)
                finally:
                    preparation._decode_failure = real
                assert result.passed_through
        verified = statistics.median(timings["verified"]) * 1000
        unverified = statistics.median(timings["unverified"]) * 1000
        rows.append(
            f"    {name}: pass-through {unverified:.2f} ms without verification, "
            f"{verified:.2f} ms with it -> {verified / unverified:.1f}x"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="vips", choices=("vips", "pillow"))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"(a) peak memory of `preflight prepare --engine {args.engine}`, fresh process each")
    peaks = {}
    for count in (100, 1000):
        peak, seconds = peak_of_prepare(folder_of(count), args.engine)
        peaks[count] = peak
        print(f"    {count:5d} files: peak {peak:6.1f} MB, {seconds:5.1f} s")
    print(f"    peak(1000) / peak(100) = {peaks[1000] / peaks[100]:.2f} (1.00: independent of N)")
    print(f"(b) verifying pass-throughs ({args.engine} engine, median of {args.repeat})")
    for row in verification_cost(args.engine, args.repeat):
        print(row)


if __name__ == "__main__":
    main()
