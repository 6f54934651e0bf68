"""prepare() speed and memory, side by side with bare pyvips and naive Pillow.

Run: python benchmarks/bench_prepare.py [--repeat 3]   (needs preflight[vips])

Inputs (made once under benchmarks/.data/prepare, photo-like: smooth colour
fields plus noise): an 8000x8000 baseline JPEG, a 4000x3000 JPEG, an
8000x8000 PNG and a 4000x3000 WebP. Each measurement runs in a fresh process
(so peak RSS is that method's own), the median of --repeat runs is shown:

  vips-bare     pyvips thumbnail to the same size + save: the floor
  prepare-vips  preflight.prepare, pyvips engine (probe, checks, encode)
  prepare-pil   preflight.prepare, Pillow engine (draft + reducing_gap)
  pillow-naive  Image.open, resize(LANCZOS), save
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data" / "prepare"
INPUTS = {
    "jpeg-8000": ("8000x8000 JPEG", (8000, 8000), "jpg"),
    "jpeg-4000": ("4000x3000 JPEG", (4000, 3000), "jpg"),
    "png-8000": ("8000x8000 PNG", (8000, 8000), "png"),
    "webp-4000": ("4000x3000 WebP", (4000, 3000), "webp"),
}
METHODS = ("vips-bare", "prepare-vips", "prepare-pil", "pillow-naive")


def make_inputs() -> dict[str, Path]:
    import pyvips

    DATA.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, (_, (width, height), ext) in INPUTS.items():
        path = DATA / f"{key}.{ext}"
        paths[key] = path
        if path.exists():
            continue
        xy = pyvips.Image.xyz(width, height)
        red = (xy[0] / 23).sin() * 90 + 127
        green = (xy[1] / 31).cos() * 90 + 127
        blue = ((xy[0] + xy[1]) / 47).sin() * 90 + 127
        noise = pyvips.Image.gaussnoise(width, height, sigma=6, mean=0)
        image = (red.bandjoin([green, blue]) + noise).cast("uchar").copy(interpretation="srgb")
        if ext == "jpg":
            image.jpegsave(str(path), Q=90, interlace=False)
        elif ext == "png":
            image.pngsave(str(path), compression=3)
        else:
            image.webpsave(str(path), Q=85)
    return paths


def run_one(method: str, path: Path, out: Path) -> dict[str, float]:
    """In a child process: time one method on one file; report seconds and peak RSS."""
    import preflight

    info = preflight.probe(path)
    assert info.width is not None and info.height is not None
    width, height = preflight.api_size(info.width, info.height)
    fmt = "jpeg"  # what prepare's auto mode writes for these photos
    if method.startswith("vips") or method == "prepare-vips":
        import pyvips

        pyvips.cache_set_max(0)
    start = time.perf_counter()
    if method == "vips-bare":
        image = pyvips.Image.thumbnail(str(path), width, height=height, size="force")
        image.jpegsave(str(out), Q=85, keep="none", optimize_coding=True)
    elif method in ("prepare-vips", "prepare-pil"):
        result = preflight.prepare(path, engine="vips" if method == "prepare-vips" else "pillow")
        assert (result.width, result.height) == (width, height), (result.width, result.height)
        assert result.media_type == f"image/{fmt}"
        result.save(out)
    else:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None  # naive, as a script would be: no bomb guard
        with Image.open(path) as image:
            image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(
                out, "JPEG", quality=85
            )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss:
    on Linux ru_maxrss survives exec, so a child would report its parent's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(method: str, path: Path, repeat: int) -> dict[str, float]:
    runs = []
    for index in range(repeat):
        out = DATA / f"out-{method}-{index}.jpg"
        child = subprocess.run(
            [sys.executable, __file__, "--one", method, str(path), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(child.stdout))
        out.unlink(missing_ok=True)
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=3, metavar=("METHOD", "INPUT", "OUTPUT"))
    args = parser.parse_args()
    if args.one:
        method, path, out = args.one
        print(json.dumps(run_one(method, Path(path), Path(out))))
        return
    paths = make_inputs()
    print(f"median of {args.repeat} runs, each in its own process; time in s, peak RSS in MB")
    header = f"{'input':<16}" + "".join(f"{m:>21}" for m in METHODS)
    print(header)
    for key, path in paths.items():
        results = {m: measure(m, path, args.repeat) for m in METHODS}
        cells = "".join(
            f"{results[m]['seconds']:>10.3f}s {results[m]['peak_mb']:>7.0f}MB " for m in METHODS
        )
        print(f"{INPUTS[key][0]:<16}{cells}")
        bare, ours = results["vips-bare"], results["prepare-vips"]
        pil, naive = results["prepare-pil"], results["pillow-naive"]
        print(
            f"{'':<16}prepare-vips/vips-bare {ours['seconds'] / bare['seconds']:.2f}x, "
            f"naive/prepare-vips {naive['seconds'] / ours['seconds']:.1f}x "
            f"(memory {ours['peak_mb'] / naive['peak_mb']:.2f} of naive), "
            f"prepare-pil/prepare-vips {pil['seconds'] / ours['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
