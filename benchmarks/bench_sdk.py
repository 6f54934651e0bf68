"""The SDK middleware's cost per agent turn, in the same run as its baselines.

Run: python benchmarks/bench_sdk.py [--repeat N] [--turns N]   (needs the `sdk` extra)

An agent resends its whole history every turn. The history here is --turns
turns, each answered by a 1280x800 screenshot in a tool_result (every 6th
a 1280x9000 page: too tall; every 7th a PNG labelled image/jpeg; more
than 20 images in all, so the 2000 px rule is in force), on
claude-haiku-4-5 (standard tier), through the real SDK client over a mock
transport. Figures:

- first: the middleware on the whole history with an empty cache (every
  image prepared or checked);
- repeated: the same request again (every image seen): goal <= 0.10 of first;
- text-only: a 40-message conversation without images, the whole
  client.messages.create round trip, against the same client with a
  do-nothing middleware: goal <= 1.10.

Times are the best of --repeat runs.
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


def screenshot(width: int, height: int, seed: int, fmt: str) -> bytes:
    """A UI-like picture: flat panels, text-like stripes, a noisy banner."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.full((height, width, 3), 245, np.uint8)
    pixels[:, : width // 5] = (40, 44, 52)  # a side bar
    for y in range(20, height - 20, 22):
        length = int(rng.integers(width // 4, width - width // 5 - 40))
        pixels[y : y + 9, width // 5 + 20 : width // 5 + 20 + length] = rng.integers(0, 90, 3)
    pixels[: height // 8, width // 5 :] += rng.integers(
        0, 8, (height // 8, width - width // 5, 3), dtype=np.uint8
    )
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def history(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Fix the layout."}]
    for turn in range(turns):
        if turn % 6 == 5:
            data, media = screenshot(1280, 9000, turn, "PNG"), "image/png"
        elif turn % 7 == 3:
            data, media = screenshot(1280, 800, turn, "PNG"), "image/jpeg"
        else:
            data, media = screenshot(1280, 800, turn, "JPEG"), "image/jpeg"
        shot = {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": media,
                "data": base64.b64encode(data).decode(),
            },
        }
        messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": f"t{turn}", "name": "shot", "input": {}}],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"t{turn}", "content": [shot]}],
            }
        )
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()

    import anthropic
    import httpx2

    import preflight.sdk as psdk

    reply = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    }

    def client(*middleware: Any) -> Any:
        return anthropic.Anthropic(
            api_key="bench",
            base_url="http://api.test",
            max_retries=0,
            http_client=httpx2.Client(
                transport=httpx2.MockTransport(lambda request: httpx2.Response(200, json=reply))
            ),
            middleware=list(middleware),
        )

    class Nothing(anthropic.Middleware):
        def handle(self, request: Any, call_next: Any) -> Any:
            return call_next(request)

    messages = history(args.turns)
    images = sum(1 for m in messages if m["role"] == "user" and isinstance(m["content"], list))
    size = sum(len(str(m)) for m in messages)
    print(f"history: {args.turns} turns, {images} screenshots, about {size / 1e6:.1f} MB of JSON")

    # first and repeated: the middleware's own work on the request the SDK hands it
    captured: list[Any] = []

    class Capture(anthropic.Middleware):
        def handle(self, request: Any, call_next: Any) -> Any:
            captured.append(request)
            return call_next(request)

    client(Capture()).messages.create(model="claude-haiku-4-5", max_tokens=64, messages=messages)
    request = captured[0]

    def first() -> None:
        psdk.Preflight("fix").process(request)

    warm = psdk.Preflight("fix")
    warm.process(request)
    first_time = best_of(max(1, args.repeat // 2), first)
    repeated_time = best_of(args.repeat, lambda: warm.process(request))
    ratio = repeated_time / first_time
    print(f"first turn (every image new): {first_time * 1000:9.1f} ms")
    print(f"repeated turn (every image seen): {repeated_time * 1000:9.1f} ms")
    print(
        f"  repeated / first = {ratio:.3f} (goal <= 0.10: {'met' if ratio <= 0.10 else 'NOT met'})"
    )

    # text-only: the whole create() round trip, against a do-nothing middleware
    text = [
        {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n} " * 40}
        for n in range(40)
    ]
    text.append({"role": "user", "content": "and now?"})
    plain, guarded = client(Nothing()), client(psdk.Preflight("fix"))

    def calls(target: Any) -> Callable[[], None]:
        def run() -> None:
            for _ in range(50):
                target.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=text)

        return run

    calls(plain)()
    calls(guarded)()
    baseline = best_of(args.repeat * 2, calls(plain))
    ours = best_of(args.repeat * 2, calls(guarded))
    text_ratio = ours / baseline
    print(f"text-only call, do-nothing middleware: {baseline / 50 * 1e6:8.0f} us")
    print(f"text-only call, preflight middleware:  {ours / 50 * 1e6:8.0f} us")
    print(
        f"  preflight / do-nothing = {text_ratio:.3f} "
        f"(goal <= 1.10: {'met' if text_ratio <= 1.10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
