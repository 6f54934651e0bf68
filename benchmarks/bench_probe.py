"""Probe speed: preflight.probe against imagesize.get and Pillow's open().size.

Run: python benchmarks/bench_probe.py    (needs `pip install imagesize`)

Side by side in one run (the machines are noisy: compare the ratios):
(a) 2,000 mixed small files (JPEG with EXIF, PNG, GIF, WebP), the median
    per-file time of each tool over several passes;
(b) probe time of an 8000x8000 file against a 200x200 one (JPEG and PNG):
    reading headers only, the time must not grow with the pixel count.
"""

from __future__ import annotations

import io
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import imagesize
from PIL import Image

import preflight

DATA = Path(__file__).resolve().parent / ".data" / "probe"


def make_corpus(count: int = 2000) -> list[Path]:
    folder = DATA / "mixed"
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.iterdir())
    if len(existing) == count:
        return existing
    rng = random.Random(0)
    paths = []
    exif = Image.Exif()
    exif[0x0112] = 6
    for index in range(count):
        fmt = ("JPEG", "PNG", "GIF", "WEBP")[index % 4]
        size = (rng.randint(50, 1200), rng.randint(50, 1200))
        image = Image.new("RGB", size, (rng.randint(0, 255), 90, 160))
        path = folder / f"{index:04d}.{fmt.lower()}"
        options = {"exif": exif.tobytes()} if fmt == "JPEG" else {}
        image.save(path, fmt, **options)
        paths.append(path)
    return paths


def pillow_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def per_file(call: Callable[[Path], object], paths: list[Path], passes: int = 7) -> float:
    """Median over passes of the mean time per file, in microseconds."""
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for path in paths:
            call(path)
        times.append((time.perf_counter() - start) / len(paths) * 1e6)
    return statistics.median(times)


def big_and_small() -> dict[str, Path]:
    folder = DATA / "sizes"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for side in (200, 8000):
        for fmt in ("JPEG", "PNG"):
            path = folder / f"{side}.{fmt.lower()}"
            if not path.exists():
                noise = Image.effect_noise((side, side), 40).convert("RGB")
                buffer = io.BytesIO()
                noise.save(
                    buffer, fmt, **({"quality": 80} if fmt == "JPEG" else {"compress_level": 1})
                )
                path.write_bytes(buffer.getvalue())
            files[f"{fmt} {side}"] = path
    return files


def main() -> None:
    paths = make_corpus()
    for path in paths[:50]:  # same answers, before timing anything
        info = preflight.probe(path)
        assert (info.width, info.height) == pillow_size(path)
        # imagesize applies the EXIF rotation to JPEG sizes: compare with ours
        assert imagesize.get(path) in ((info.width, info.height), (info.height, info.width))
    ours = per_file(preflight.probe, paths)
    theirs = per_file(imagesize.get, paths)
    pillow = per_file(pillow_size, paths)
    print(f"(a) {len(paths):,} mixed small files, median time per file")
    rows = [
        ("preflight.probe", ours, "format, size, orientation, animation, mode, bytes..."),
        ("imagesize.get", theirs, f"size only; probe/imagesize = {ours / theirs:.2f}"),
        ("PIL open().size", pillow, f"Pillow/probe = {pillow / ours:.1f}x"),
    ]
    for label, micros, note in rows:
        print(f"    {label:<17} {micros:7.1f} us  ({note})")
    files = big_and_small()
    print("(b) probe time by pixel count (same run)")
    for fmt in ("JPEG", "PNG"):
        small = per_file(preflight.probe, [files[f"{fmt} 200"]] * 200)
        big = per_file(preflight.probe, [files[f"{fmt} 8000"]] * 200)
        size = files[f"{fmt} 8000"].stat().st_size / 1e6
        print(
            f"    {fmt}: 200x200 {small:6.1f} us, 8000x8000 ({size:.0f} MB) {big:6.1f} us"
            f" -> ratio {big / small:.2f}"
        )


if __name__ == "__main__":
    main()
