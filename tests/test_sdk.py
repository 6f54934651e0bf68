# The real Anthropic SDK against preflight's bodies and types: bodies from
# prepare_request and pack_images go through client.messages.create and
# client.messages.count_tokens over a mock HTTP transport (no network), and
# the JSON the SDK puts on the wire must be the body preflight built, byte
# count included; and a typed pipeline passes mypy --strict with no cast.
# Skipped, saying why, when the SDK (the `sdk` extra) or mypy is missing.

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import preflight
from preflight._core.bodies import serialized_size

anthropic = pytest.importorskip(
    "anthropic", reason="the Anthropic SDK is not installed (pip install 'preflight[sdk]')"
)
# anthropic 2.x sends through httpx2 (its own fork of httpx); 1.x through httpx.
try:
    import httpx2 as http
except ImportError:  # pragma: no cover - older SDKs
    http = pytest.importorskip("httpx", reason="neither httpx2 nor httpx is installed")

MODEL = "claude-haiku-4-5"


def png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def block(width: int, height: int, media: str = "image/png") -> dict[str, Any]:
    data = base64.b64encode(png(width, height)).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}


class Wire:
    """A mock transport that records every request body and answers as the API would."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []

    def __call__(self, request: Any) -> Any:
        self.bodies.append(request.content)
        self.paths.append(request.url.path)
        if request.url.path.endswith("/count_tokens"):
            return http.Response(200, json={"input_tokens": 42})
        return http.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 42, "output_tokens": 1},
            },
        )


def client(wire: Wire) -> Any:
    return anthropic.Anthropic(
        api_key="test", http_client=http.Client(transport=http.MockTransport(wire)), max_retries=0
    )


def test_prepared_bodies_go_on_the_wire_as_built() -> None:
    history = [block(64, 64) for _ in range(20)] + [block(2400, 300), block(64, 64, "image/jpeg")]
    body = {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": history}]}
    prepared = preflight.prepare_request(body)
    assert prepared.passes and len(prepared.changes) == 2
    wire = Wire()
    sdk = client(wire)
    sdk.messages.create(**prepared.body)
    counted = {k: v for k, v in prepared.body.items() if k != "max_tokens"}
    assert sdk.messages.count_tokens(**counted).input_tokens == 42
    assert wire.paths == ["/v1/messages", "/v1/messages/count_tokens"]
    assert json.loads(wire.bodies[0]) == prepared.body
    assert json.loads(wire.bodies[1]) == counted
    # check_request measures the body as the SDK serializes it.
    assert len(wire.bodies[0]) == serialized_size(prepared.body) == prepared.report.body_bytes


def test_packed_bodies_go_on_the_wire_as_built() -> None:
    sources = [png(64 + i, 48) for i in range(23)]
    pack = preflight.pack_images(sources, prompt="What changes between them?", model=MODEL)
    assert pack.total_requests == 1
    wire = Wire()
    sdk = client(wire)
    for request in pack.requests:
        sdk.messages.create(**request.body)
        sdk.messages.count_tokens(model=request.body["model"], messages=request.body["messages"])
    for request, sent in zip(pack.requests, wire.bodies[::2], strict=True):
        assert json.loads(sent) == request.body
        assert len(sent) == request.body_bytes


SNIPPET = """
from anthropic import Anthropic
from anthropic.types import ImageBlockParam, TextBlockParam, UserMessageParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

import preflight
from preflight._core.blocks import MessagesBody


def send(client: Anthropic, path: str, bodies: list[MessagesBody]) -> None:
    prepared = preflight.prepare(path)
    block: ImageBlockParam = prepared.to_block(
        cache_control={"type": "ephemeral", "ttl": "1h"},
        transformations={"oversized_image": "error"},
    )
    text: TextBlockParam = {"type": "text", "text": "What is this?"}
    message: UserMessageParam = {"role": "user", "content": [prepared.to_block(), text]}
    client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[message])
    client.messages.count_tokens(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": [block]}]
    )
    for body in bodies:
        client.messages.create(**body)
    pack = preflight.pack_images([path], prompt="Describe it.")
    for request in pack.requests:
        client.messages.create(**request.body)
    shot: ImageBlockParam = preflight.image_block(path, cache_control={"type": "ephemeral"})
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": [shot]}]
    )


def fix(client: Anthropic, body: MessageCreateParamsNonStreaming) -> None:
    fixed = preflight.prepare_request(body)
    same: MessageCreateParamsNonStreaming = fixed.body  # typed as it came in
    client.messages.create(**same)
"""


@pytest.mark.slow
@pytest.mark.noengine
def test_a_typed_pipeline_passes_mypy_strict_with_no_cast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (pip install mypy)")
    # This preflight, not another installed copy: a source tree is named on
    # MYPYPATH; an installed one (tox's wheel, with its py.typed) is found
    # through --python-executable, and mypy refuses site-packages on MYPYPATH.
    home = Path(preflight.__file__).resolve().parent.parent
    if home.name not in ("site-packages", "dist-packages"):
        monkeypatch.setenv("MYPYPATH", str(home))
    source = tmp_path / "pipeline.py"
    source.write_text(SNIPPET)
    # One fresh cache for the three runs: the SDK and preflight are read once.
    cache = ["--cache-dir", str(tmp_path / ".mypy_cache")]
    common = ["--strict", *cache, "--python-executable", sys.executable]
    out, err, status = api.run([*common, str(source)])
    assert status == 0, out + err
    assert "cast" not in SNIPPET
    # The same snippet with a wrong media type must fail: the check can fail.
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from anthropic.types import ImageBlockParam\n"
        "from preflight._core.blocks import ImageBlock\n"
        "block: ImageBlock = {'type': 'image', 'source': "
        "{'type': 'base64', 'media_type': 'image/jpg', 'data': ''}}\n"
        "param: ImageBlockParam = block\n"
    )
    out, _, failed = api.run([*common, str(wrong)])
    assert failed != 0 and "image/jpg" in out
    # prepare_request's body keeps the input's type: not Any, so a misuse fails.
    misuse = tmp_path / "misuse.py"
    misuse.write_text(
        "import preflight\n"
        "from anthropic.types.message_create_params import MessageCreateParamsNonStreaming\n"
        "def f(body: MessageCreateParamsNonStreaming) -> None:\n"
        "    count: int = preflight.prepare_request(body).body\n"
    )
    out, _, failed = api.run([*common, str(misuse)])
    assert failed != 0 and "MessageCreateParamsNonStreaming" in out
