"""Evaluation of the quality findings (preflight._imaging.quality) on images with known defects.

Run: python benchmarks/quality_eval.py [--dump FILE.tsv]

The set is built here, reproducibly (fixed seeds), from what is available
offline:

- the sample images bundled inside scikit-image's wheel (skimage/data), when
  scikit-image is installed (it is only a data source: preflight does not use
  it; without it the set is the generated images only);
- generated scenes (seeded): shapes, gradients, textures, line charts, at
  about 1000 px;
- text pages rendered with Pillow's bundled font (ImageFont.load_default(size)).

Degradations: Gaussian blur (sigma in pixels of the image as sent), down-
then-upscaling by several factors and filters, JPEG at low quality, added
margins (letterbox, pillarbox, padding), contrast reduction; plus generated
near-blank images. Every image goes through the full path
(analyze_quality on encoded bytes, standard tier). Printed: per code, the
detection rate on the images with that defect and the false-alarm rate on the
originals; then per degradation, how often each code fires.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from preflight._core.geometry import api_size
from preflight._imaging.quality import QUALITY_CODES, analyze_quality

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "wizards",
    "quietly",
    "judge",
    "boxing",
    "matches;",
    "invoice",
    "total",
    "1,234.56",
    "due",
    "2024-03-01",
    "ref",
    "QX-7781",
    "page",
    "of",
    "results",
    "summary",
    "table",
    "figure",
    "legend",
    "axis",
    "value",
    "error",
    "rate",
    "per",
    "cent",
]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "original", or the degradation's family
    expect: str | None  # the code that should fire, None for originals
    image: Image.Image
    fmt: str = "PNG"
    quality: int = 90
    text_px: float | None = None  # text size (em) after the API's resize, for text pages


# --- originals -------------------------------------------------------------------


def bundled_images() -> Iterator[tuple[str, Image.Image]]:
    try:
        import skimage
    except ImportError:
        print("scikit-image not installed: its sample images are left out", file=sys.stderr)
        return
    folder = Path(skimage.__file__).parent / "data"
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".png", ".jpg"):
            continue
        with Image.open(path) as image:
            image.load()
            if min(image.size) < 128:
                continue
            yield f"skimage/{path.name}", image.convert("RGB")


def scene(seed: int) -> Image.Image:
    """A photo-like scene: a gradient sky, shapes with soft shading, a
    textured ground, sensor noise."""
    rng = numpy.random.default_rng(seed)
    width, height = int(rng.integers(800, 1200)), int(rng.integers(600, 1000))
    y, x = numpy.mgrid[0:height, 0:width].astype(numpy.float32)
    top, bottom = rng.uniform(40, 230, 3), rng.uniform(20, 200, 3)
    base = top + (bottom - top) * (y / height)[..., None]
    image = Image.fromarray(numpy.clip(base, 0, 255).astype(numpy.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(15, 40))):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        size = rng.uniform(20, 300)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = (x0, y0, x0 + size * rng.uniform(0.3, 2), y0 + size)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=fill)
        else:
            draw.rectangle(box, fill=fill)
    array = numpy.asarray(image).astype(numpy.float32)
    grain = rng.normal(128, 60, (height, width)).clip(0, 255).astype(numpy.uint8)
    smooth = Image.fromarray(grain).filter(ImageFilter.GaussianBlur(1.5))
    array += 0.8 * (numpy.asarray(smooth).astype(numpy.float32) - 128)[..., None]
    array += rng.normal(0, 2.5, array.shape)
    array *= (0.85 + 0.3 * numpy.sin(x / rng.uniform(60, 300)) ** 2)[..., None]
    return Image.fromarray(numpy.clip(array, 0, 255).astype(numpy.uint8)).filter(
        ImageFilter.GaussianBlur(0.6)
    )


def chart(seed: int) -> Image.Image:
    rng = numpy.random.default_rng(seed)
    width, height = 1000, 700
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(60, 20), (60, 640), (980, 640)], fill="black", width=2)
    font = ImageFont.load_default(size=18)
    for series in range(3):
        values = numpy.cumsum(rng.normal(0, 12, 90)) + 330
        points = [(60 + i * 10, float(v)) for i, v in enumerate(values)]
        colour = ("#1f77b4", "#d62728", "#2ca02c")[series]
        draw.line(points, fill=colour, width=2)
    for i in range(10):
        draw.text((60 + i * 92, 650), f"{2015 + i}", fill="black", font=font)
    draw.text((400, 670), "year", fill="black", font=font)
    return image


def product(seed: int) -> Image.Image:
    """A product shot on a white studio background: a shaded object, a soft
    shadow, the background not quite uniform (vignetting, sensor noise)."""
    rng = numpy.random.default_rng(seed)
    width, height = 1000, 800
    y, x = numpy.mgrid[0:height, 0:width].astype(numpy.float32)
    radius = numpy.hypot((x - width / 2) / width, (y - height / 2) / height)
    array = numpy.repeat((250 - 12 * radius**2)[..., None], 3, axis=2)
    cx, cy = rng.uniform(350, 650), rng.uniform(300, 450)
    rx, ry = rng.uniform(120, 250), rng.uniform(150, 280)
    shadow = numpy.exp(-(((x - cx) / (rx * 1.1)) ** 2 + ((y - cy - ry * 0.9) / 25) ** 2))
    array *= (1 - 0.35 * shadow)[..., None]
    inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
    tint = rng.uniform(30, 220, 3)
    light = 0.6 + 0.4 * numpy.clip(1 - numpy.hypot(x - cx + rx / 3, y - cy + ry / 3) / rx, 0, 1)
    array[inside] = (tint * light[..., None])[inside]
    array += rng.normal(0, 1.5, array.shape)
    image = Image.fromarray(numpy.clip(array, 0, 255).astype(numpy.uint8))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    draw.text((cx - rx / 2, cy - 10), f"BRAND {seed}", fill="white", font=font)
    return image.filter(ImageFilter.GaussianBlur(0.7))


def screenshot(seed: int) -> Image.Image:
    """A UI screenshot: a title bar, a sidebar, panels of flat colour, text,
    buttons; the window fills the frame."""
    rng = numpy.random.default_rng(seed)
    width, height = 1280, 800
    image = Image.new("RGB", (width, height), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 36), fill=(52, 56, 64))
    draw.rectangle((0, 36, 220, height), fill=(232, 234, 238))
    font = ImageFont.load_default(size=15)
    for i in range(14):
        draw.text(
            (16, 56 + i * 30),
            WORDS[int(rng.integers(len(WORDS)))].title(),
            fill=(40, 40, 40),
            font=font,
        )
    draw.text((12, 10), "preflight - settings", fill=(230, 230, 230), font=font)
    for row in range(3):
        for column in range(3):
            left, top = 240 + column * 345, 56 + row * 245
            draw.rounded_rectangle(
                (left, top, left + 325, top + 225), 8, fill="white", outline=(210, 212, 216)
            )
            for line in range(6):
                words = " ".join(WORDS[int(rng.integers(len(WORDS)))] for _ in range(5))
                draw.text((left + 14, top + 14 + line * 24), words, fill=(60, 60, 60), font=font)
            colour = tuple(int(v) for v in rng.integers(0, 200, 3))
            draw.rounded_rectangle((left + 14, top + 178, left + 120, top + 210), 6, fill=colour)
    return image


def document(seed: int) -> Image.Image:
    """A page of text with white page margins, a heading and a figure box."""
    rng = numpy.random.default_rng(seed)
    width, height = 850, 1100
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((90, 80), "Quarterly report", fill="black", font=ImageFont.load_default(size=34))
    font = ImageFont.load_default(size=16)
    y = 140
    while y < height - 120:
        if rng.random() < 0.08:
            draw.rectangle((90, y, 760, y + 160), outline=(80, 80, 80), width=2)
            y += 180
            continue
        words = " ".join(WORDS[int(rng.integers(len(WORDS)))] for _ in range(13))
        draw.text((90, y), words, fill=(25, 25, 25), font=font)
        y += 22
    return image


def illustration(seed: int) -> Image.Image:
    """A flat vector-style illustration: overlapping shapes of flat colour,
    anti-aliased edges, no noise, the shapes running off the edges."""
    rng = numpy.random.default_rng(seed)
    width, height = 900, 900
    scale = 2  # drawn at twice the size, then reduced: anti-aliased edges
    image = Image.new(
        "RGB", (width * scale, height * scale), tuple(int(v) for v in rng.integers(0, 256, 3))
    )
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 20))):
        x0, y0 = rng.uniform(-200, width * scale), rng.uniform(-200, height * scale)
        size = rng.uniform(150, 900)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x0 + size, y0 + size * rng.uniform(0.5, 1.5)), fill=fill)
        else:
            draw.polygon(
                [(x0, y0), (x0 + size, y0 + size / 3), (x0 + size / 4, y0 + size)], fill=fill
            )
    return image.resize((width, height), Image.Resampling.LANCZOS)


def text_page(size: int, width: int, height: int, seed: int, spacing: float) -> Image.Image:
    """Lines of text at `size` px (em), filling the page to one em from each edge."""
    rng = numpy.random.default_rng(seed)
    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = size
    while y + size * 2 < height:
        words: list[str] = []
        while draw.textlength(" ".join(words), font=font) < width - 4 * size:
            words.append(WORDS[int(rng.integers(len(WORDS)))])
        draw.text((size, y), " ".join(words[:-1]), fill=(20, 20, 20), font=font)
        y += round(size * spacing)
    return image


def blank(seed: int) -> Image.Image:
    rng = numpy.random.default_rng(seed)
    width, height = int(rng.integers(300, 1200)), int(rng.integers(300, 1200))
    level = rng.uniform(0, 255, 3)
    noise = rng.normal(0, rng.uniform(0, 2.5), (height, width, 1))
    array = numpy.clip(level + noise, 0, 255).astype(numpy.uint8)
    image = Image.fromarray(array)
    if seed % 3 == 0:  # a blank page with a speck of dust
        ImageDraw.Draw(image).ellipse((40, 40, 44, 44), fill=(0, 0, 0))
    return image


# --- degradations -------------------------------------------------------------------


def blurred(image: Image.Image, sigma: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(sigma))


def upscaled(image: Image.Image, factor: int, resample: Image.Resampling) -> Image.Image:
    width, height = image.size
    small = image.resize(
        (max(1, width // factor), max(1, height // factor)), Image.Resampling.LANCZOS
    )
    return small.resize((width, height), resample)


def bordered(image: Image.Image, style: str) -> Image.Image:
    width, height = image.size
    if style == "letterbox":
        bar = height // 8
        canvas = Image.new("RGB", (width, height + 2 * bar), "black")
        canvas.paste(image, (0, bar))
    elif style == "pillarbox":
        bar = width // 8
        canvas = Image.new("RGB", (width + 2 * bar, height), "black")
        canvas.paste(image, (bar, 0))
    elif style == "padding":
        pad = max(width, height) // 25
        canvas = Image.new("RGB", (width + 2 * pad, height + 2 * pad), (245, 245, 245))
        canvas.paste(image, (pad, pad))
    else:  # "scanner": a grey strip on two sides, as a flatbed leaves
        canvas = Image.new("RGB", (width + width // 10, height + height // 12), (90, 90, 90))
        canvas.paste(image, (0, 0))
    return canvas


def low_contrast(image: Image.Image, factor: float) -> Image.Image:
    array = numpy.asarray(image).astype(numpy.float32)
    mean = array.mean()
    return Image.fromarray(numpy.clip(mean + (array - mean) * factor, 0, 255).astype(numpy.uint8))


FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def build_cases() -> Iterator[Case]:
    originals = list(bundled_images())
    originals += [(f"scene/{seed}", scene(seed)) for seed in range(16)]
    originals += [(f"chart/{seed}", chart(seed)) for seed in range(4)]
    # More varied generated originals: a product on white, UI screenshots,
    # document pages, flat illustrations (uniform backgrounds, flat colour,
    # text: the hard cases for borders, blur and upscaling).
    originals += [(f"product/{seed}", product(seed)) for seed in range(3)]
    originals += [(f"screenshot/{seed}", screenshot(seed)) for seed in range(3)]
    originals += [(f"document/{seed}", document(seed)) for seed in range(3)]
    originals += [(f"illustration/{seed}", illustration(seed)) for seed in range(3)]
    for name, image in originals:
        yield (Case(name, "original", None, image))
        for sigma in (1, 2, 3, 4, 6):
            expect = "blurry" if sigma >= 3 else None
            yield (
                Case(f"{name} blur {sigma}", f"blur sigma {sigma}", expect, blurred(image, sigma))
            )
        for factor in (2, 3, 4):
            for label, resample in FILTERS.items():
                expect = "upscaled" if factor >= 3 else None
                yield (
                    Case(
                        f"{name} up{factor} {label}",
                        f"upscale x{factor} {label}",
                        expect,
                        upscaled(image, factor, resample),
                    )
                )
        for jpeg_quality in (10, 25):
            yield (
                Case(
                    f"{name} jpeg {jpeg_quality}",
                    f"jpeg q{jpeg_quality}",
                    None,
                    image,
                    "JPEG",
                    jpeg_quality,
                )
            )
        for style in ("letterbox", "pillarbox", "padding", "scanner"):
            yield (Case(f"{name} {style}", f"borders {style}", "borders", bordered(image, style)))
        # Letterboxed video frames are usually JPEG: the bars' edge rings.
        framed = bordered(image, "letterbox")
        yield Case(
            f"{name} letterbox jpeg", "borders letterbox JPEG q75", "borders", framed, "JPEG", 75
        )
        for factor in (0.25, 0.1):
            yield (
                Case(
                    f"{name} contrast {factor}",
                    f"contrast x{factor}",
                    "low-contrast",
                    low_contrast(image, factor),
                )
            )
    for seed in range(30):
        yield (
            Case(f"blank/{seed}", "blank", "blank", blank(seed), "JPEG" if seed % 2 else "PNG", 85)
        )
    yield from text_cases()


def text_cases() -> list[Case]:
    """Text at known sizes after the API's resize: rendered at that size on a
    page the API keeps, and rendered larger on a page the API shrinks."""
    cases: list[Case] = []
    seed = 0
    for size in (4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32):
        expect = "small-text" if size <= 8 else None
        for spacing in (1.2, 1.5):
            seed += 1
            page = text_page(size, 1000, 800, seed, spacing)
            cases.append(
                Case(f"text/{size}px s{spacing}", f"text {size}px", expect, page, text_px=size)
            )
            # The same size after the API's resize: a 3x larger page, 3x larger text.
            big = text_page(size * 3, 3000, 2400, seed, spacing)
            processed = api_size(3000, 2400)[0] / 3000
            cases.append(
                Case(
                    f"text/{size * 3}px page 3000 s{spacing}",
                    f"text {size}px",
                    expect if size * 3 * processed <= 8.5 else None,
                    big,
                    text_px=size * 3 * processed,
                )
            )
    return cases


# --- running ----------------------------------------------------------------------


def encode(case: Case) -> bytes:
    buffer = io.BytesIO()
    if case.fmt == "JPEG":
        case.image.save(buffer, "JPEG", quality=case.quality)
    else:
        case.image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, help="write every case's measures to a TSV file")
    args = parser.parse_args()
    started = time.perf_counter()
    total = 0
    fired: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, int] = defaultdict(int)
    detected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    false_alarms: dict[str, int] = defaultdict(int)
    originals = 0
    rows = []
    alarms: dict[str, list[str]] = defaultdict(list)
    text_quiet = [0, 0]
    for case in build_cases():
        total += 1
        report = analyze_quality(encode(case), tier="standard")
        codes = set(report.codes)
        counts[case.kind] += 1
        for code in codes:
            fired[case.kind][code] += 1
        if case.expect is not None:
            detected[case.expect][1] += 1
            detected[case.expect][0] += case.expect in codes
        if case.kind.startswith("text") and case.text_px is not None and case.text_px >= 16:
            text_quiet[1] += 1
            text_quiet[0] += "small-text" in codes
        if case.kind == "original":
            originals += 1
            for code in codes:
                false_alarms[code] += 1
                alarms[code].append(case.name)
        m = report.measures
        rows.append(
            f"{case.name}\t{case.kind}\t{case.expect}\t{','.join(sorted(codes))}\t{m.blur}\t"
            f"{m.detail:.3f}\t{m.text_px}\t{m.spread}\t{m.colour_spread}\t{m.content_box}"
        )
    print(f"{total} images ({originals} originals) in {time.perf_counter() - started:.0f} s\n")
    print("| code | defect set | detected | false alarms on originals |")
    print("|---|---|---|---|")
    sets = {
        "blurry": "Gaussian blur, sigma >= 3 px",
        "upscaled": "down- then upscaled x3 and x4, 4 filters",
        "borders": "letterbox (PNG, JPEG q75), pillarbox, padding, scanner strip",
        "blank": "uniform colour, noise 0..2.5, some JPEG, some with a speck",
        "low-contrast": "contrast x0.25 and x0.1",
        "small-text": "text <= 8 px (em) after the API's resize",
    }
    for code in QUALITY_CODES:
        hits, cases = detected[code]
        alarms_rate = rate(false_alarms[code], originals)
        print(f"| `{code}` | {sets[code]} | {rate(hits, cases)} | {alarms_rate} |")
    print(f"\nsmall-text on text >= 16 px after the API's resize: fires on {rate(*text_quiet)}")
    print("\n| degradation | images | " + " | ".join(f"`{c}`" for c in QUALITY_CODES) + " |")
    print("|---|---|" + "---|" * len(QUALITY_CODES))
    for kind in counts:
        cells = " | ".join(f"{100 * fired[kind][c] / counts[kind]:.0f}%" for c in QUALITY_CODES)
        print(f"| {kind} | {counts[kind]} | {cells} |")
    for code, names in alarms.items():
        print(f"\nfalse alarms, {code}: {', '.join(names)}")
    if args.dump:
        header = "name\tkind\texpect\tcodes\tblur\tdetail\ttext_px\tspread\tcolour_spread\tbox"
        args.dump.write_text("\n".join([header, *rows]) + "\n")


if __name__ == "__main__":
    main()
