"""Probe speed: preflight.probe against imagesize.get and Pillow's open().size.

Run: python benchmarks/bench_probe.py    (needs `pip install imagesize`)

Side by side in one run (the machines are noisy: compare the ratios):
(a) 2,000 mixed files of 50 to 1000 px a side (photo-like JPEG with EXIF,
    PNG and WebP; GIF still and animated, with few flat colours as GIFs
    usually have), the median over several passes of the mean time per
    file of each tool, overall and per format;
(b) probe time of an 8000x8000 file against a 200x200 one (JPEG and PNG):
    reading headers only, the time must not grow with the pixel count;
(c) the price of counting GIF frames, which walks the whole file (within
    the 8 MiB read budget): still GIFs of photo noise, 100 KB and 1 MB.
Generated files go to benchmarks/.data/ (ignored by git) and are reused.
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
CORPUS_VERSION = "3"  # bump when make_corpus changes: the cached files are remade
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


def picture(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Gradients and noise: files of photo-like sizes, made fast (in C)."""
    ramp = Image.linear_gradient("L")
    red = ramp.resize(size)
    green = ramp.rotate(rng.choice((90, 180, 270))).resize(size)
    blue = Image.effect_noise(size, rng.randint(5, 60))
    return Image.merge("RGB", (red, green, blue))


def graphic(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Few flat colours, as GIFs usually hold (a photo's noise in a GIF makes
    an unusually large file; section (c) times those)."""
    image = picture(size, rng).quantize(colors=rng.choice((4, 8, 16)), dither=Image.Dither.NONE)
    return image.convert("RGB")


def make_corpus(count: int = 2000) -> list[Path]:
    folder = DATA / f"mixed-v{CORPUS_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.iterdir())
    if len(existing) == count:
        return existing
    rng = random.Random(0)
    exif = Image.Exif()
    exif[0x0112] = 6
    paths = []
    for index in range(count):
        fmt = FORMATS[index % 4]
        size = (rng.randint(50, 1000), rng.randint(50, 1000))
        image = graphic(size, rng) if fmt == "GIF" else picture(size, rng)
        path = folder / f"{index:04d}.{fmt.lower()}"
        if fmt == "JPEG":
            image.save(path, fmt, exif=exif.tobytes(), quality=rng.randint(50, 90))
        elif fmt == "GIF" and index % 8 == 2:  # every other GIF animated
            frames = [image, image.rotate(180)]
            frames[0].save(path, fmt, save_all=True, append_images=frames[1:], loop=0)
        elif fmt == "GIF":
            image.save(path, fmt)
        elif fmt == "PNG":
            image.save(path, fmt, compress_level=1)
        else:
            image.save(path, fmt, quality=70)
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


def noisy_gifs() -> dict[str, Path]:
    """Still GIFs of photo noise, about 100 KB and 1 MB: counting frames
    walks the whole file (within the 8 MiB budget), so time grows with it."""
    folder = DATA / "gifs"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for label, side in (("100 KB", 330), ("1 MB", 1040)):
        path = folder / f"noise-{side}.gif"
        if not path.exists():
            Image.effect_noise((side, side), 80).save(path, "GIF")
        files[label] = path
    return files


def main() -> None:
    paths = make_corpus()
    for path in paths[:100]:  # same answers, before timing anything
        info = preflight.probe(path)
        assert (info.width, info.height) == pillow_size(path)
        # imagesize applies the EXIF rotation to JPEG sizes: compare with ours
        assert imagesize.get(path) in ((info.width, info.height), (info.height, info.width))
    sizes = sorted(path.stat().st_size for path in paths)
    ours = per_file(preflight.probe, paths)
    theirs = per_file(imagesize.get, paths)
    pillow = per_file(pillow_size, paths)
    print(
        f"(a) {len(paths):,} mixed files ({', '.join(FORMATS)}; median {sizes[len(sizes) // 2]:,}"
        f" bytes, largest {sizes[-1]:,}), median time per file"
    )
    rows = [
        ("preflight.probe", ours, "format, size, orientation, animation, mode, bytes..."),
        ("imagesize.get", theirs, f"size only; probe/imagesize = {ours / theirs:.2f}"),
        ("PIL open().size", pillow, f"size, format, mode; Pillow/probe = {pillow / ours:.1f}x"),
    ]
    for label, micros, note in rows:
        print(f"    {label:<17} {micros:7.1f} us  ({note})")
    no_gif = [p for p in paths if p.suffix != ".gif"]
    ours_ng, theirs_ng = per_file(preflight.probe, no_gif), per_file(imagesize.get, no_gif)
    print(
        f"    without the GIFs ({len(no_gif):,} files): probe {ours_ng:.1f} us,"
        f" imagesize {theirs_ng:.1f} us -> {ours_ng / theirs_ng:.2f}"
    )
    for fmt in FORMATS:
        subset = [p for p in paths if p.suffix == f".{fmt.lower()}"]
        ours_fmt, theirs_fmt = per_file(preflight.probe, subset), per_file(imagesize.get, subset)
        print(
            f"    {fmt:<5} probe {ours_fmt:5.1f} us, imagesize {theirs_fmt:5.1f} us"
            f" -> {ours_fmt / theirs_fmt:.2f}"
        )
    files = big_and_small()
    print("(b) probe time by pixel count (same run)")
    for fmt in ("JPEG", "PNG"):
        small = per_file(preflight.probe, [files[f"{fmt} 200"]] * 200)
        big = per_file(preflight.probe, [files[f"{fmt} 8000"]] * 200)
        size = files[f"{fmt} 8000"].stat().st_size / 1e6
        print(
            f"    {fmt:<4} 200x200 {small:6.1f} us, 8000x8000 ({size:.0f} MB) {big:6.1f} us"
            f" -> ratio {big / small:.2f}"
        )
    print("(c) GIF frame counting: probe reads the whole GIF (within 8 MiB), imagesize 24 bytes")
    for label, path in noisy_gifs().items():
        ours_gif = per_file(preflight.probe, [path] * 200)
        theirs_gif = per_file(imagesize.get, [path] * 200)
        print(
            f"    {label:<6} still GIF: probe {ours_gif:6.1f} us, imagesize {theirs_gif:5.1f} us"
            f" -> {ours_gif / theirs_gif:.1f}x"
        )


if __name__ == "__main__":
    main()
