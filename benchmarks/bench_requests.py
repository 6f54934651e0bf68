"""Request speed: check_request and prepare_request against decoding every
image once with pyvips, in the same run.

Run: python benchmarks/bench_requests.py [--repeat N]   (needs pyvips and numpy)

- check_request on a body of 100 base64 JPEGs, about 30 MB (photo-like noise,
  700x520 to 860x640): it reads each image's header from a decoded prefix
  of its base64, checks every character of the base64 without decoding it,
  hashes each image and serializes the body once to measure it;
- prepare_request on a 40-image conversation (so the 2000 px many-image
  rule is in force) with 5 oversized 4000x3000 JPEGs among 35 that the API
  keeps as they are: the 5 are decoded, resized and encoded again.

The baseline is what any client that looks at the pixels pays: decoding
each image of the body once with pyvips (from its bytes, already out of
base64). Times are the best of --repeat runs; the ratio is the figure that
travels between machines.
"""

from __future__ import annotations

import argparse
import base64
import io
import time
from collections.abc import Callable
from typing import Any


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def photo_jpeg(width: int, height: int, seed: int) -> bytes:
    """Noise over a smooth gradient: compresses like a detailed photo."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 127 // (width + height))])
    noise = rng.integers(0, 60, (3, height, width))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=92)
    return out.getvalue()


def block(data: bytes) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": encoded},
    }


def vips_decode_all(images: list[bytes]) -> None:
    import pyvips

    for data in images:
        pyvips.Image.new_from_buffer(data, "").write_to_memory()


def main() -> None:
    import preflight

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    # --- check_request on 100 images, ~30 MB ---
    images = [photo_jpeg(700 + (i % 5) * 40, 520 + (i % 4) * 40, i) for i in range(100)]
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 256,
        "messages": [
            {"role": "user", "content": [block(d) for d in images[:50]]},
            {"role": "assistant", "content": "Seen."},
            {
                "role": "user",
                "content": [*[block(d) for d in images[50:]], {"type": "text", "text": "?"}],
            },
        ],
    }
    report = preflight.check_request(body)
    assert not report.rejected, [f.api_message for f in report.errors]
    megabytes = report.body_bytes / 1e6 if report.body_bytes else 0.0
    check_s = best_of(args.repeat, lambda: preflight.check_request(body))
    decode_s = best_of(args.repeat, lambda: vips_decode_all(images))
    print(f"check_request, 100 images, {megabytes:.1f} MB body")
    print(f"  pyvips decode of each image once : {decode_s * 1000:8.1f} ms")
    print(f"  check_request                    : {check_s * 1000:8.1f} ms  "
          f"({check_s / decode_s:.2f}x the decode)")  # fmt: skip

    # --- prepare_request on a 40-image conversation, 5 oversized ---
    big = [photo_jpeg(4000, 3000, 1000 + i) for i in range(5)]
    small = [photo_jpeg(800, 600, 2000 + i) for i in range(35)]
    order = [big[i // 8] if i % 8 == 0 else small[i - i // 8 - 1] for i in range(40)]
    said = {"role": "assistant", "content": "Noted."}
    conversation = {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "messages": [
            {"role": "user", "content": [block(d) for d in order[:10]]},
            said,
            {"role": "user", "content": [block(d) for d in order[10:30]]},
            said,
            {"role": "user", "content": [block(d) for d in order[30:]]},
        ],
    }
    counted = len(order)
    prepared = preflight.prepare_request(conversation)
    assert prepared.passes and len(prepared.changes) == 5, (counted, prepared.changes)
    prepare_s = best_of(args.repeat, lambda: preflight.prepare_request(conversation))
    decode_40 = best_of(args.repeat, lambda: vips_decode_all(order))
    changed = len(prepared.changes)
    print(f"prepare_request, {counted} images, 5 oversized 4000x3000 ({changed} changed)")
    print(f"  pyvips decode of each image once : {decode_40 * 1000:8.1f} ms")
    print(f"  prepare_request                  : {prepare_s * 1000:8.1f} ms  "
          f"({prepare_s / decode_40:.2f}x the decode)")  # fmt: skip
    print(f"  engine: {preflight._imaging.preparation.get_engine().name}")


if __name__ == "__main__":
    main()
