# preflight.sdk in the real Anthropic SDK (2.17): the sync and async clients
# over a mock transport, in front of a fake API that applies the rules itself
# (Pillow decodes every image: an oracle independent of preflight's parser),
# replaying an agent loop of many turns with tool_result screenshots (some
# too tall, some mislabelled, more than 20 images in all).

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import math
from typing import Any

import pytest

anthropic = pytest.importorskip(
    "anthropic", reason="the Anthropic SDK is not installed (pip install 'preflight[sdk]')"
)
http = pytest.importorskip("httpx2", reason="SDK 2.x sends through httpx2")
if not hasattr(anthropic, "Middleware"):  # pragma: no cover - SDKs before 2.17
    pytest.skip("the SDK has no client middleware (2.17+)", allow_module_level=True)

from PIL import Image  # noqa: E402

import preflight.sdk as psdk  # noqa: E402

MODEL = "claude-haiku-4-5"  # standard tier, 200k context: 100 images at most
MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def screenshot(width: int, height: int, fmt: str = "PNG", seed: int = 0) -> bytes:
    image = Image.new("RGB", (width, height), (240, 240, 240))
    for y in range(seed % 40, height, 40):  # some structure; each turn's its own
        image.paste((20, 20, 20), (10, y, min(width, 10 + width // 2), min(height, y + 6)))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def image_block(data: bytes, media: str) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media, "data": base64.b64encode(data).decode()},
    }


class FakeAPI:
    """Answers as the API would, from the rules applied here (not preflight's)."""

    def __init__(self) -> None:
        self.calls = 0
        self.errors: list[str] = []
        self.resized = 0
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        body = json.loads(request.content)
        self.bodies.append(body)
        images = list(_images(body))
        problem = _first_problem(images)
        if problem is not None:
            self.errors.append(problem)
            return http.Response(
                400,
                json={
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": problem},
                },
            )
        for _, image in images:
            width, height = image.size
            fits = (
                math.ceil(width / 28) * 28 <= 1568
                and math.ceil(height / 28) * 28 <= 1568
                and math.ceil(width / 28) * math.ceil(height / 28) <= 1568
            )
            self.resized += not fits
        if request.url.path.endswith("/count_tokens"):
            return http.Response(200, json={"input_tokens": 10})
        return http.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "from-the-url"),  # Bedrock, Vertex: in the URL
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        )


def _images(body: dict[str, Any]) -> Any:
    def blocks(content: list[Any], at: str) -> Any:
        for index, block in enumerate(content):
            if block.get("type") == "image":
                yield f"{at}.{index}.image", block
            elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                yield from blocks(block["content"], f"{at}.{index}.tool_result.content")

    for m, message in enumerate(body["messages"]):
        if isinstance(message["content"], list):
            for path, block in blocks(message["content"], f"messages.{m}.content"):
                data = base64.b64decode(block["source"]["data"])
                image = Image.open(io.BytesIO(data))
                yield (path, block), image


def _first_problem(images: list[Any]) -> str | None:
    if len(images) > 100:
        return f"too many images and documents: {len(images)} + 0 > 100"
    for (path, block), image in images:
        actual = MEDIA.get(image.format or "")
        declared = block["source"]["media_type"]
        if actual != declared:
            return (
                f"{path}.source.base64: The image was specified using the {declared} media "
                f"type, but the image appears to be a {actual} image"
            )
        if max(image.size) > 8000:
            return (
                f"{path}.source.base64.data: At least one of the image dimensions exceed "
                "max allowed size: 8000 pixels"
            )
        if len(images) > 20 and max(image.size) > 2000:
            return (
                f"{path}.source.base64.data: At least one of the image dimensions exceed "
                "max allowed size for many-image requests: 2000 pixels"
            )
    return None


def agent_turns(count: int = 26) -> list[list[dict[str, Any]]]:
    """The messages of each turn of an agent loop: a tool call answered by a
    screenshot; every 5th too tall, every 7th a PNG labelled JPEG, and wide
    ones that fail once the request holds more than 20 images."""
    history: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "Fix the layout bug."}]}
    ]
    turns = []
    for turn in range(count):
        if turn % 5 == 4:
            shot = image_block(screenshot(300, 8100, seed=turn), "image/png")
        elif turn % 7 == 3:  # a PNG, mislabelled
            shot = image_block(screenshot(640, 400, seed=turn), "image/jpeg")
        elif turn % 3 == 0:
            shot = image_block(screenshot(2200, 300, seed=turn), "image/png")
        else:
            shot = image_block(screenshot(800, 500, "JPEG", seed=turn), "image/jpeg")
        history = [
            *history,
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": f"t{turn}", "name": "shot", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"t{turn}", "content": [shot]}],
            },
        ]
        turns.append(history)
    return turns


def sync_client(api: FakeAPI, *middleware: Any) -> Any:
    return anthropic.Anthropic(
        api_key="test",
        base_url="http://api.test",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(api)),
        middleware=list(middleware),
    )


def async_client(api: FakeAPI, *middleware: Any) -> Any:
    async def handler(request: Any) -> Any:
        return api(request)

    return anthropic.AsyncAnthropic(
        api_key="test",
        base_url="http://api.test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(handler)),
        middleware=list(middleware),
    )


@pytest.fixture(scope="module")
def turns() -> list[list[dict[str, Any]]]:
    return agent_turns()


def test_without_preflight_the_agent_loop_fails(turns: list[list[dict[str, Any]]]) -> None:
    api = FakeAPI()
    client = sync_client(api)
    failures = 0
    for messages in turns:
        try:
            client.messages.create(model=MODEL, max_tokens=64, messages=messages)
        except anthropic.BadRequestError:
            failures += 1
    assert failures >= len(turns) // 2  # a bad screenshot fails every later turn


@pytest.mark.slow
def test_fix_mode_sends_nothing_the_api_refuses_or_resizes(
    turns: list[list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeAPI()
    middleware = psdk.Preflight("fix")
    client = sync_client(api, middleware)
    with caplog.at_level(logging.INFO, logger="preflight.sdk"):
        for messages in turns:
            reply = client.messages.create(model=MODEL, max_tokens=64, messages=messages)
            assert reply.content[0].text == "ok"
            client.messages.count_tokens(model=MODEL, messages=messages)
    assert api.errors == []
    assert api.resized == 0
    assert api.calls == 2 * len(turns)
    changes = [r for r in caplog.records if hasattr(r, "preflight_change")]
    assert changes and all(r.preflight_change["path"].startswith("messages.") for r in changes)
    # The caller's history is never changed in place.
    assert turns[4][-1]["content"][0]["content"][0]["source"]["media_type"] == "image/png"


def test_a_repeated_turn_prepares_nothing_again(
    turns: list[list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeAPI()
    middleware = psdk.Preflight("fix")
    client = sync_client(api, middleware)
    messages = turns[8]
    client.messages.create(model=MODEL, max_tokens=64, messages=messages)
    first = api.bodies[-1]
    calls = []
    real = psdk.prepare_request
    monkeypatch.setattr(psdk, "prepare_request", lambda *a, **k: calls.append(1) or real(*a, **k))
    client.messages.create(model=MODEL, max_tokens=64, messages=messages)
    assert calls == []  # every image came from the cache
    assert api.bodies[-1] == first
    assert api.errors == []
    assert len(middleware.cache) == 9  # one entry per image block, each its own


def test_check_mode_sends_nothing_and_raises_the_sdks_typed_error() -> None:
    api = FakeAPI()
    client = sync_client(api, psdk.Preflight("check"))
    shot = image_block(screenshot(1920, 1080), "image/png")
    shot["transformations"] = {"oversized_image": "error"}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Look."}, shot]}]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=MODEL, max_tokens=64, messages=messages)
    assert api.calls == 0
    error = caught.value
    assert isinstance(error, anthropic.types.ImageDimensionsTooLargeError)
    assert error.error_code == "image_dimensions_too_large"
    assert error.details.paths == ["messages.0.content.1"]
    assert error.details.max_side_length_pixels == 1568
    assert error.status_code == 400
    assert "would be downsized to 1456x819" in str(error)


def test_check_mode_mislabelled_is_a_bad_request(turns: list[list[dict[str, Any]]]) -> None:
    api = FakeAPI()
    client = sync_client(api, psdk.Preflight("check"))
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=MODEL, max_tokens=64, messages=turns[3])
    assert api.calls == 0
    assert "appears to be a image/png image" in str(caught.value)
    # A good request goes through.
    client.messages.create(model=MODEL, max_tokens=64, messages=turns[1])
    assert api.calls == 1


def test_warn_mode_sends_as_is_and_logs(
    turns: list[list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeAPI()
    client = sync_client(api, psdk.Preflight("warn"))
    with (
        caplog.at_level(logging.WARNING, logger="preflight.sdk"),
        pytest.raises(anthropic.BadRequestError),
    ):
        client.messages.create(model=MODEL, max_tokens=64, messages=turns[3])
    assert api.calls == 1
    assert any("appears to be a image/png image" in r.getMessage() for r in caplog.records)


def test_a_call_without_images_is_passed_on_untouched() -> None:
    api = FakeAPI()
    middleware = psdk.Preflight("fix")
    client = sync_client(api, middleware)
    messages = [{"role": "user", "content": "Hello"}]
    client.messages.create(model=MODEL, max_tokens=64, messages=messages)
    assert api.bodies[-1]["messages"] == messages
    assert len(middleware.cache) == 0


@pytest.mark.slow
def test_the_async_client_fixes_without_blocking_the_loop(
    turns: list[list[dict[str, Any]]],
) -> None:
    api = FakeAPI()
    client = async_client(api, psdk.Preflight("fix", max_workers=2))

    async def run() -> int:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        for messages in turns[:12]:
            await client.messages.create(model=MODEL, max_tokens=64, messages=messages)
        stop.set()
        await task
        return ticks

    ticks = asyncio.run(run())
    assert api.errors == [] and api.resized == 0
    assert ticks > 12  # the loop kept running while the images were prepared


def test_async_check_mode_raises_the_typed_error() -> None:
    api = FakeAPI()
    client = async_client(api, psdk.Preflight("check"))
    shot = image_block(screenshot(300, 8100), "image/png")
    messages = [{"role": "user", "content": [shot]}]

    async def run() -> None:
        await client.messages.create(model=MODEL, max_tokens=64, messages=messages)

    with pytest.raises(anthropic.BadRequestError) as caught:
        asyncio.run(run())
    assert api.calls == 0
    assert "8000 pixels" in str(caught.value)


def test_wrap_adds_the_middleware_and_picks_the_surface() -> None:
    api = FakeAPI()
    client = psdk.wrap(sync_client(api), "check")
    assert isinstance(client._middleware[-1], psdk.Preflight)

    class FakeBedrockClient:
        def with_middleware(self, *middleware: Any) -> Any:
            return middleware

    (added,) = psdk.wrap(FakeBedrockClient())
    assert added._keywords["surface"] == "bedrock"
    with pytest.raises(preflight_usage_error()):
        psdk.wrap(object())
    with pytest.raises(preflight_usage_error()):
        psdk.Preflight("mend")  # type: ignore[arg-type]


def preflight_usage_error() -> type[Exception]:
    from preflight.errors import UsageError

    return UsageError


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-haiku-4-5", ("claude-haiku-4-5", None)),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", ("claude-sonnet-4-5-20250929", "bedrock")),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", ("claude-haiku-4-5-20251001", "bedrock")),
        ("claude-sonnet-4-5@20250929", ("claude-sonnet-4-5-20250929", "vertex")),
        ("claude-opus-4-7@latest", ("claude-opus-4-7", "vertex")),
    ],
)
def test_cloud_model_ids_name_the_model_and_surface(
    model: str, expected: tuple[str, str | None]
) -> None:
    assert psdk._model_and_surface(model) == expected


def test_the_cache_is_bounded_in_bytes() -> None:
    cache = psdk._BlockCache(1000)
    for n in range(50):
        cache.put((str(n), "c"), {"source": {"data": "x" * 100}})
    assert cache.held <= 1000
    assert cache.get(("49", "c")) is not None
    assert cache.get(("0", "c")) is None


def test_explain_turns_the_sdk_error_back_into_preflights_terms() -> None:
    api = FakeAPI()
    client = sync_client(api, psdk.Preflight("check"))
    shot = image_block(screenshot(1920, 1080), "image/png")
    shot["transformations"] = {"oversized_image": "error"}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Look."}, shot]}]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model=MODEL, max_tokens=64, messages=messages)
    explained = psdk.explain(caught.value)
    assert explained.code == "oversized"
    assert explained.block_paths == ("messages.0.content.1",)
    assert explained.blocks == ("messages.0.content.1.image",)
    assert explained.fix


def _big_png() -> bytes:
    """A PNG whose base64 is over 5 MB (Bedrock's and Vertex AI's limit) and
    under 10 MB (the Claude API's)."""
    import numpy as np

    pixels = np.random.default_rng(7).integers(0, 256, (1160, 1160, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "PNG", compress_level=1)
    data = out.getvalue()
    assert 5 * 2**20 < len(base64.b64encode(data)) < 10 * 2**20
    return data


@pytest.fixture(scope="module")
def big_messages() -> list[dict[str, Any]]:
    return [{"role": "user", "content": [image_block(_big_png(), "image/png")]}]


def test_the_claude_api_takes_what_bedrock_and_vertex_refuse(
    big_messages: list[dict[str, Any]],
) -> None:
    api = FakeAPI()
    psdk.wrap(sync_client(api), "check").messages.create(
        model=MODEL, max_tokens=64, messages=big_messages
    )
    assert api.calls == 1


def test_a_vertex_client_gets_vertex_limits(big_messages: list[dict[str, Any]]) -> None:
    api = FakeAPI()
    client = anthropic.AnthropicVertex(
        region="us-east5",
        project_id="project",
        access_token="token",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(api)),
    )
    client = psdk.wrap(client, "check")
    with pytest.raises(anthropic.BadRequestError, match="image exceeds 5 MB maximum"):
        client.messages.create(
            model="claude-haiku-4-5@20251001", max_tokens=64, messages=big_messages
        )
    assert api.calls == 0
    client.messages.create(
        model="claude-haiku-4-5@20251001",
        max_tokens=64,
        messages=[{"role": "user", "content": [image_block(screenshot(640, 400), "image/png")]}],
    )
    assert api.calls == 1


def test_a_bedrock_client_gets_bedrock_limits(big_messages: list[dict[str, Any]]) -> None:
    pytest.importorskip("botocore", reason="the Bedrock client signs with botocore")
    api = FakeAPI()
    client = anthropic.AnthropicBedrock(
        aws_access_key="AKIAEXAMPLE",
        aws_secret_key="secret",
        aws_region="us-east-1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(api)),
    )
    client = psdk.wrap(client, "check")
    with pytest.raises(anthropic.BadRequestError, match="image exceeds 5 MB maximum"):
        client.messages.create(
            model="anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens=64, messages=big_messages
        )
    assert api.calls == 0
