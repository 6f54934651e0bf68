"""The cost of the quality analysis, against a plain decode and against prepare.

Run: python benchmarks/bench_quality.py [--repeat N] [--engine vips|pillow]

On the same generated images, in the same process and run, interleaved
(round-robin) and the median of N repeats reported:

- decode:   the shrink-on-load decode alone, to the size the API processes
            (engine.load(source, info, w, h), what analyze_quality decodes);
- prepare:  preflight.prepare(source) (decode, encode; or verify and pass through);
- prepare+q: preflight.prepare(source, measure_quality=True) (measured on its own decode);
- analyze:  preflight._imaging.quality.analyze_quality(source) (probe, decode, measure);
- measure:  the numpy measures alone, on the decoded pixels.

All with the same options (the default model's tier unless --tier).

Goal (issue 12): analyze costs at most one shrink-on-load decode plus a small
fraction, i.e. analyze / decode a little over 1.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from preflight._core.budgets import DEFAULT_PIXEL_CAP
from preflight._core.geometry import api_size
from preflight._core.options import Options, make_options
from preflight._imaging.engines import get_engine
from preflight._imaging.engines.base import Engine
from preflight._imaging.preparation import prepare
from preflight._imaging.quality import analyze_quality, measure_pixels
from preflight._inputs.probing import probe


def photo(width: int, height: int) -> Image.Image:
    rng = numpy.random.default_rng(width)
    small = rng.integers(0, 256, (height // 40, width // 40, 3), dtype=numpy.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    noise = rng.normal(0, 6, (height, width, 3))
    pixels = numpy.asarray(image).astype(numpy.float32) + noise
    return Image.fromarray(pixels.clip(0, 255).astype(numpy.uint8)).filter(ImageFilter.SHARPEN)


def page(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    for y in range(40, height - 40, 38):
        draw.text(
            (40, y),
            "The quick brown fox jumps over the lazy dog 0123456789 " * 3,
            fill="black",
            font=font,
        )
    return image


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def contenders_for(
    engine: Engine, data: bytes, options: Options
) -> dict[str, Callable[[], object]]:
    info = probe(data)
    size = api_size(info.width or 1, info.height or 1, options.tier)
    array = engine.to_array(
        engine.without_alpha(engine.load(data, info, *size, pixel_cap=DEFAULT_PIXEL_CAP))
    )
    return {
        "decode": lambda: engine.load(data, probe(data), *size, pixel_cap=DEFAULT_PIXEL_CAP),
        "prepare": lambda: prepare(data, options, engine=engine.name),
        "prepare+q": lambda: prepare(data, options, engine=engine.name, measure_quality=True),
        "analyze": lambda: analyze_quality(data, options, engine=engine.name),
        "measure": lambda: measure_pixels(array, info.width or 1, info.height or 1),
    }


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--tier", default=None)
    args = parser.parse_args()
    engine = get_engine(args.engine)
    options = make_options(tier=args.tier) if args.tier else make_options()
    images = {
        "photo 4000x3000 JPEG": encoded(photo(4000, 3000), "JPEG"),
        "photo 1000x1000 JPEG": encoded(photo(1000, 1000), "JPEG"),
        "photo 640x480 JPEG": encoded(photo(640, 480), "JPEG"),
        "page 2480x3508 PNG": encoded(page(2480, 3508), "PNG"),
        "screenshot 1920x1080 PNG": encoded(page(1920, 1080), "PNG"),
    }
    print(
        f"engine: {engine.name}; tier: {options.tier.name}; median of {args.repeat} runs, "
        "interleaved\n"
    )
    columns = ("image", "decode", "prepare", "prepare+q", "analyze", "measure")
    ratios = ("analyze / decode", "analyze / prepare", "prepare+q / prepare")
    print("| " + " | ".join(columns + ratios) + " |")
    print("|---" * (len(columns) + len(ratios)) + "|")
    for name, data in images.items():
        contenders = contenders_for(engine, data, options)
        times: dict[str, list[float]] = {key: [] for key in contenders}
        for _ in range(args.repeat):
            for key, run in contenders.items():
                start = time.perf_counter()
                run()
                times[key].append(time.perf_counter() - start)
        ms = {key: median_ms(values) for key, values in times.items()}
        print(
            f"| {name} | {ms['decode']:.1f} | {ms['prepare']:.1f} | {ms['prepare+q']:.1f} | "
            f"{ms['analyze']:.1f} | {ms['measure']:.1f} | {ms['analyze'] / ms['decode']:.2f} | "
            f"{ms['analyze'] / ms['prepare']:.2f} | {ms['prepare+q'] / ms['prepare']:.2f} |"
        )


if __name__ == "__main__":
    main()
