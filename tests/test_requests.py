# check_request, prepare_request and pack_images on hand-built bodies: each
# rule with the exact text the API would answer (docs/errors.md), malformed
# bodies, and property tests of the packer and of prepare_request. Images
# are small and generated with Pillow; sizes the API cares about (2500 px,
# 9000 px) are solid-colour PNGs, which compress to a few kilobytes.

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import json
from functools import cache
from typing import Any

import pytest
from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import preflight
from preflight._core.bodies import serialized_size
from preflight._core.tables import MB, Surface, get_surface

PNG, JPEG = "image/png", "image/jpeg"
HAIKU = "claude-haiku-4-5"  # 200K context: 100 images, standard tier
SONNET_46 = "claude-sonnet-4-6"  # 1M context: 600 images, standard tier
MANY = "At least one of the image dimensions exceed max allowed size for many-image requests"


@cache
def image_bytes(width: int, height: int, fmt: str = "PNG", shade: int = 90) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 140, 200)).save(out, fmt)
    return out.getvalue()


def b64(width: int, height: int, fmt: str = "PNG", shade: int = 90) -> str:
    return base64.b64encode(image_bytes(width, height, fmt, shade)).decode()


def image(
    width: int = 64, height: int = 64, media: str = PNG, fmt: str = "PNG", **extra: Any
) -> dict[str, Any]:
    source = {"type": "base64", "media_type": media, "data": b64(width, height, fmt)}
    return {"type": "image", "source": source, **extra}


def body(*turns: list[Any], model: str = SONNET_46, **extra: Any) -> dict[str, Any]:
    roles = ["user", "assistant"]
    messages = [{"role": roles[i % 2], "content": content} for i, content in enumerate(turns)]
    return {"model": model, "max_tokens": 64, "messages": messages, **extra}


def smaller_surface(limit: int) -> Surface:
    """The Claude API with a smaller body limit, to make the body limit bind."""
    return dataclasses.replace(get_surface("api"), name="small", max_request_bytes=limit)


def api_messages(report: preflight.RequestReport) -> list[str]:
    return [f.api_message for f in report.errors]


# --- the rules, with the API's words -----------------------------------------------


def test_21_images_with_one_2500px_image_at_its_path() -> None:
    content = [image() for _ in range(20)]
    content.insert(7, image(2500, 400))
    report = preflight.check_request(body(content))
    assert api_messages(report) == [
        f"messages.0.content.7.image.source.base64.data: {MANY}: 2000 pixels"
    ]
    assert report.rejected and len(report.images) == 21
    # 20 images and the same big one: the rule is not in force.
    assert not preflight.check_request(body(content[:20])).rejected


def test_a_tool_result_image_two_turns_back_counts_toward_the_20() -> None:
    tool_use = {"type": "tool_use", "id": "t1", "name": "fetch", "input": {}}
    result = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "here"}, image(2100, 300)],
    }
    turns = [
        [{"type": "text", "text": "go"}],
        [tool_use],
        [result],
        [{"type": "text", "text": "seen"}],
        [image() for _ in range(20)],
    ]
    report = preflight.check_request(body(*turns))
    assert api_messages(report) == [
        f"messages.2.content.0.tool_result.content.1.image.source.base64.data: {MANY}: 2000 pixels"
    ]
    assert report.tokens_per_turn[0][0] == 2
    assert sum(t for _, t in report.tokens_per_turn) == report.image_tokens


@pytest.mark.parametrize(
    ("model", "cap", "rejected"), [(HAIKU, 100, True), (SONNET_46, 600, False)]
)
def test_101_images(model: str, cap: int, rejected: bool) -> None:
    report = preflight.check_request(body([image() for _ in range(101)], model=model))
    assert report.rejected is rejected
    if rejected:
        assert api_messages(report) == [f"too many images and documents: 101 + 0 > {cap}"]


def test_601_images_on_a_1m_model() -> None:
    report = preflight.check_request(body([image() for _ in range(601)], model=SONNET_46))
    assert api_messages(report) == ["too many images and documents: 601 + 0 > 600"]
    assert report.distinct_images == 1 and report.images[1].duplicate_of == report.images[0].path


def test_a_png_declared_as_jpeg() -> None:
    report = preflight.check_request(body([{"type": "text", "text": "a"}, image(media=JPEG)]))
    assert api_messages(report) == [
        "messages.0.content.1.image.source.base64: The image was specified using "
        "the image/jpeg media type, but the image appears to be a image/png image"
    ]


def test_image_jpg_is_not_a_media_type() -> None:
    report = preflight.check_request(body([image(media="image/jpg")]))
    assert api_messages(report) == [
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
        "'image/png', 'image/gif' or 'image/webp'"
    ]


def test_over_8000_px() -> None:
    report = preflight.check_request(body([image(9000, 100)]))
    assert api_messages(report) == [
        "messages.0.content.0.image.source.base64.data: At least one of the image dimensions "
        "exceed max allowed size: 8000 pixels"
    ]


def test_an_image_over_the_byte_limit_points_at_the_source() -> None:
    data = b64(64, 64)
    padded = {"type": "image", "source": {"type": "base64", "media_type": PNG, "data": data}}
    report = preflight.check_request(body([padded]), max_bytes=len(data) - 4)
    limit = len(data) - 4
    assert api_messages(report) == [
        f"messages.0.content.0.image.source.base64: image exceeds {limit} bytes maximum: "
        f"{len(data)} bytes > {limit} bytes"
    ]
    bedrock = preflight.check_request(body([padded]), surface="bedrock")
    assert not bedrock.rejected


def test_a_body_over_32_mb() -> None:
    blob = "A" * (33 * MB)  # cheap: a long text block, not an image
    big = body([{"type": "text", "text": blob}, image()])
    report = preflight.check_request(big)
    size = serialized_size(big)
    assert report.body_bytes == size > 32 * MB
    assert [f.code for f in report.errors] == ["request-too-large"]
    assert api_messages(report) == ["Request exceeds the maximum size"]
    assert not preflight.check_request(big, batch=True).rejected  # 256 MB on Message Batches
    assert preflight.check_request(body([image()]), surface="bedrock").body_bytes == (
        serialized_size(body([image()]))
    )


def test_url_and_file_sources_are_counted_not_checked() -> None:
    url = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    file = {"type": "image", "source": {"type": "file", "file_id": "file_abc123"}}
    report = preflight.check_request(body([url, file] + [image() for _ in range(19)]))
    assert not report.rejected and report.unchecked == 2 and len(report.images) == 21
    assert [f.path for f in report.findings if f.code == "not-checked-offline"] == [
        "messages.0.content.0.image.source.url",
        "messages.0.content.1.image.source.file",
    ]
    # A resolver returns their bytes: then they are checked like any image.
    seen: list[tuple[str, str]] = []

    def resolver(kind: str, reference: str) -> bytes:
        seen.append((kind, reference))
        return image_bytes(2400, 100)

    resolved = preflight.check_request(
        body([url, file] + [image() for _ in range(19)]), resolver=resolver
    )
    assert seen == [("url", "https://example.com/a.png"), ("file", "file_abc123")]
    assert resolved.unchecked == 0
    assert api_messages(resolved) == [
        f"messages.0.content.0.image.source.url: {MANY}: 2000 pixels",
        f"messages.0.content.1.image.source.file: {MANY}: 2000 pixels",
    ]
    # Bedrock takes base64 only.
    on_bedrock = preflight.check_request(body([url]), surface="bedrock")
    assert [f.code for f in on_bedrock.errors] == ["source-not-accepted"]


def test_oversized_error_on_an_image_that_needs_resizing() -> None:
    error = {"transformations": {"oversized_image": "error"}}
    report = preflight.check_request(body([image(1920, 1080, **error)], model=HAIKU))
    assert api_messages(report) == [
        "messages.0.content.0: image dimensions 1920x1080 exceed the maximum image size of a "
        "model named on this request and would be downsized to 1456x819; scale the image to at "
        'most 1456x819 or set the image\'s oversized_image setting to "downsize"'
    ]
    fine = preflight.check_request(body([image(1456, 819, **error)], model=HAIKU))
    assert not fine.rejected
    assert not preflight.check_request(body([image(1920, 1080)], model=HAIKU)).rejected


def test_computer_use_screenshots_are_refused_when_oversized() -> None:
    tools = [{"type": "computer_20250124", "name": "computer", "display_width_px": 1920}]
    use = {"type": "tool_use", "id": "c1", "name": "computer", "input": {"action": "screenshot"}}
    result = {"type": "tool_result", "tool_use_id": "c1", "content": [image(1920, 1080)]}
    report = preflight.check_request(
        body([{"type": "text", "text": "hi"}], [use], [result], model=HAIKU, tools=tools)
    )
    assert [f.code for f in report.errors] == ["oversized"]
    assert report.images[0].computer_use
    # The block itself, as SDK 2.17's details name blocks (no block types).
    assert report.errors[0].path == "messages.2.content.0.content.0"
    # The same image answering another tool is resized, not refused.
    other = copy.deepcopy(body([{"type": "text", "text": "hi"}], [use], [result], model=HAIKU))
    other["messages"][1]["content"][0]["name"] = "fetch"
    assert not preflight.check_request(other).rejected


def test_the_body_model_unless_the_caller_names_one() -> None:
    content = [image() for _ in range(101)]
    assert preflight.check_request(body(content, model=HAIKU)).rejected
    assert not preflight.check_request(body(content, model=HAIKU), model=SONNET_46).rejected
    options = preflight.make_options(model=SONNET_46)
    assert not preflight.check_request(body(content, model=HAIKU), options).rejected
    unknown = preflight.check_request(body([image()], model="acme-1"))
    assert [f.code for f in unknown.findings] == ["unknown-model", "small-side"]


def test_documents_count_as_images_on_bedrock() -> None:
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "x"},
    }
    content = [document] + [image() for _ in range(19)] + [image(2100, 100)]
    assert not preflight.check_request(body(content)).rejected
    assert preflight.check_request(body(content), surface="bedrock").rejected


def test_costs_and_duplicates() -> None:
    report = preflight.check_request(body([image(), image(), image(100, 100)], model=HAIKU))
    # 28 px patches: 64x64 is 3 x 3, 100x100 is 4 x 4
    assert report.image_tokens == 9 + 9 + 16
    assert report.distinct_images == 2 and report.distinct_image_tokens == 25
    assert report.cost_usd == preflight.make_options(model=HAIKU).cost(34)
    assert report.batch_cost_usd == report.cost_usd / 2  # type: ignore[operator]


# --- malformed bodies: findings, never exceptions -----------------------------------


def one(block: object, **extra: Any) -> dict[str, Any]:
    """A body of one user turn holding `block`."""
    return {"model": HAIKU, "messages": [{"role": "user", "content": [block]}], **extra}


def source(**fields: object) -> dict[str, Any]:
    return {"type": "image", "source": fields}


AT = "messages.0.content.0"
MALFORMED: list[tuple[object, list[str]]] = [
    (None, ["the request body must be a JSON object, not null"]),
    ([1], ["the request body must be a JSON object, not a list"]),
    ("{not json", ["the request body is not JSON: Expecting property name enclosed in"]),
    (b"\xff\xfe", ["the request body is not UTF-8 text: 'utf-8' codec can't decode byte 0xff"]),
    ({"model": HAIKU}, ["messages: the body has no messages"]),
    ({"messages": []}, ["model: the body has no model"]),
    (
        {"model": 5, "messages": {}},
        ["model: model must be text, not a number", "messages: messages must be a list"],
    ),
    (one({"text": "x"}), [f"{AT}: a content block without type"]),
    (one({"type": 3}), [f"{AT}.type: type must be text"]),
    (
        {"model": HAIKU, "messages": [{"role": "bot", "content": [7]}]},
        [
            "messages.0.role: role must be 'user' or 'assistant'",
            f"{AT}: a content block must be an object, not a number",
        ],
    ),
    (
        one(source(type="base64", media_type=PNG, data="@@@@")),
        [f"{AT}.image.source.base64: invalid base64 data"],
    ),
    (one(source(type="base64", media_type=PNG, data="AAAA")), ["Could not process image"]),
    (
        one(source(type="base64", media_type=3, data=4)),
        [
            f"{AT}.image.source.base64.media_type: the image media_type must be text",
            f"{AT}.image.source.base64.data: data must be base64 text",
        ],
    ),
    (
        one(source(type="s3")),
        [f"{AT}.image.source.type: source type must be base64, url or file"],
    ),
    (
        one(source(type="url", url=None)),
        [f"{AT}.image.source.url.url: a url source needs url as text"],
    ),
    (
        one({**image(), "transformations": {"oversized_image": "shrink"}}),
        [f"{AT}.image.transformations: transformations must be"],
    ),
    (
        one({**image(), "cache_control": {"type": "ephemeral", "ttl": "2h"}}),
        [f"{AT}.image.cache_control: cache_control must be"],
    ),
    (
        one({"type": "document", "source": {}, "transformations": {}}),
        [f"{AT}.document.transformations: document blocks do not accept transformations"],
    ),
    (
        {"model": HAIKU, "system": [{"type": "image"}], "messages": []},
        ["system.0: system takes text blocks only"],
    ),
    (
        one({"type": "tool_result", "content": 5}),
        [f"{AT}.tool_result.content: content must be text or a list of blocks"],
    ),
    (
        {"model": HAIKU, "messages": [{"role": "user", "content": "hi"}], "x": float("nan")},
        ["the body cannot be sent as JSON: Out of range float values are not JSON compliant"],
    ),
]


@pytest.mark.parametrize(("value", "expected"), MALFORMED)
def test_malformed_bodies_are_findings(value: object, expected: list[str]) -> None:
    report = preflight.check_request(value)
    assert report.rejected
    found = api_messages(report)
    # Python's own error texts may grow a detail between versions: a prefix.
    assert len(found) == len(expected)
    assert all(text.startswith(start) for text, start in zip(found, expected, strict=True))


KEYS = ["model", "messages", "role", "content", "type", "source", "data", "media_type", "system"]
json_shapes = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_shapes)
def test_any_json_shape_gives_findings_never_an_exception(value: object) -> None:
    report = preflight.check_request(value)
    assert isinstance(report.rejected, bool)
    if not isinstance(value, str):  # text is read as JSON text
        assert preflight.check_request(json.dumps(value)).findings == report.findings


# --- prepare_request ------------------------------------------------------------------


def conversation() -> dict[str, Any]:
    """Every kind of fix in one body: 21 images (so 2000 px a side), one
    9000 px, one tool-result image over 2000 px, a PNG declared as JPEG,
    one the API would resize, and images it keeps as they are."""
    use = {"type": "tool_use", "id": "t", "name": "fetch", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "t", "content": [image(2200, 300)]}
    first = [image(9000, 200), image(media=JPEG), image(1800, 1000)] + [image() for _ in range(16)]
    return body(first, [use], [result, image(64, 80)], model=HAIKU)


def test_prepare_request_fixes_every_rule_and_keeps_the_rest() -> None:
    original = conversation()
    kept = copy.deepcopy(original)
    assert preflight.check_request(original).rejected
    prepared = preflight.prepare_request(original)
    assert original == kept  # never mutated
    assert prepared.passes and not preflight.check_request(prepared.body).rejected
    assert [c.path for c in prepared.changes] == [
        "messages.0.content.0.image",
        "messages.0.content.1.image",
        "messages.0.content.2.image",
        "messages.2.content.0.tool_result.content.0.image",
    ]
    old, new = original["messages"][0]["content"], prepared.body["messages"][0]["content"]
    assert all(new[i] is old[i] for i in range(3, 19))  # kept as they are: the same objects
    assert prepared.body["messages"][1] is original["messages"][1]
    assert new[1]["source"]["data"] == old[1]["source"]["data"]  # a declaration fix only
    assert new[1]["source"]["media_type"] == PNG
    # Prepared to the size the API would process anyway (all within 2000 px
    # on the standard tier): the same tokens, and nothing left to resize.
    assert prepared.tokens_after == prepared.tokens_before
    assert not any(i.resized for i in prepared.report.images)


def test_prepare_request_shrinks_the_largest_images_to_fit_the_body() -> None:
    from PIL import Image

    def noisy(seed: int, side: int) -> str:
        import random

        rng = random.Random(seed)
        pixels = bytes(rng.getrandbits(8) for _ in range(side * side * 3))
        out = io.BytesIO()
        Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
        return base64.b64encode(out.getvalue()).decode()

    blocks = [
        {"type": "image", "source": {"type": "base64", "media_type": PNG, "data": noisy(i, side)}}
        for i, side in enumerate([300, 120, 120, 120])
    ]
    value = body(blocks, model=HAIKU)
    size = serialized_size(value)
    small = smaller_surface(size - 50_000)
    assert preflight.check_request(value, surface=small).rejected
    prepared = preflight.prepare_request(value, surface=small)
    assert prepared.passes, prepared.report.findings
    assert [c.path for c in prepared.changes] == ["messages.0.content.0.image"]


def test_prepare_request_reports_what_it_cannot_fix() -> None:
    broken = {"type": "image", "source": {"type": "base64", "media_type": PNG, "data": "@@@@"}}
    prepared = preflight.prepare_request(body([broken, image(9000, 10)]))
    assert not prepared.passes
    assert [c.path for c in prepared.changes] == ["messages.0.content.1.image"]
    assert api_messages(prepared.report) == [
        "messages.0.content.0.image.source.base64: invalid base64 data"
    ]


def test_prepare_request_takes_json_text() -> None:
    text = json.dumps(conversation())
    prepared = preflight.prepare_request(text)
    assert prepared.passes and isinstance(prepared.body, dict)


sizes = st.tuples(st.integers(8, 2600), st.integers(8, 300))


# Every example encodes up to 24 images: a third of the profile's examples.
@settings(max_examples=examples(1 / 3))
@given(
    st.lists(st.tuples(sizes, st.sampled_from([PNG, JPEG, "image/jpg"])), min_size=1, max_size=24)
)
def test_prepare_request_is_idempotent_and_never_mutates(
    images: list[tuple[tuple[int, int], str]],
) -> None:
    value = body([image(w, h, media) for (w, h), media in images], model=HAIKU)
    kept = copy.deepcopy(value)
    once = preflight.prepare_request(value)
    assert value == kept
    assert once.passes
    twice = preflight.prepare_request(once.body)
    assert twice.changes == () and twice.body == once.body


# --- pack_images -------------------------------------------------------------------------


def test_pack_layout_and_totals() -> None:
    sources = [image_bytes(64, 64), image_bytes(80, 64), b"not an image"]
    pack = preflight.pack_images(sources, prompt="Compare them.", model=HAIKU)
    assert pack.total_requests == 1 and pack.images == 2
    assert [f.index for f in pack.failures] == [2]
    content = pack.requests[0].body["messages"][0]["content"]
    assert [b.get("text", b["type"]) for b in content] == [
        "Image 1:", "image", "Image 2:", "image", "Compare them."
    ]  # fmt: skip
    assert pack.tokens == 9 + 9  # 64x64 and 80x64: 3 x 3 patches each
    assert pack.cost_usd == preflight.make_options(model=HAIKU).cost(18)


def test_pack_compares_full_size_with_downscaled() -> None:
    sources = [image_bytes(2400, 1600) if i % 4 == 0 else image_bytes(64, 64) for i in range(30)]
    by_tokens = preflight.pack_images(sources, model="claude-opus-4-7")
    assert by_tokens.plan == "downscaled" and by_tokens.total_requests == 1
    assert "fewer image tokens" in by_tokens.reason
    full = preflight.pack_images(sources, model="claude-opus-4-7", prefer="detail")
    assert full.plan == "full-size" and full.total_requests == 2
    assert full.tokens > by_tokens.tokens
    for pack in (by_tokens, full):
        assert all(not r.report.rejected for r in pack.requests)


# Every example encodes up to 45 PNGs and packs them: a third of the
# profile's examples (100 in CI), and slow.
@pytest.mark.slow
@settings(max_examples=examples(1 / 3))
@given(
    st.lists(st.tuples(st.integers(8, 2600), st.integers(8, 2600)), min_size=0, max_size=45),
    st.sampled_from(["tokens", "requests", "detail"]),
    st.sampled_from([None, 150_000, 300_000]),
)
def test_pack_property(sides: list[tuple[int, int]], prefer: str, limit: int | None) -> None:
    sources = [image_bytes(w, h, shade=i % 7) for i, (w, h) in enumerate(sides)]
    surface = get_surface("api") if limit is None else smaller_surface(limit)
    pack = preflight.pack_images(
        sources, prompt="?", model="claude-opus-4-7", prefer=prefer, surface=surface
    )
    # Every request passes; no image lost, duplicated or reordered.
    assert all(not preflight.check_request(r.body, surface=surface).rejected for r in pack.requests)
    order = [i for r in pack.requests for i in r.images]
    assert order == list(range(len(sources))) and not pack.failures
    # At most one request more than the lower bound from the count limit (the
    # cap, or 20 at full size) and from the body limit: every image block's
    # bytes over the room a body leaves for them. (Next-fit keeps within one
    # of it while each image is a small part of the body, as here.)
    per_request = next(p.per_request for p in pack.plans if p.name == pack.plan)
    bound = -(-len(sources) // per_request)
    if limit is not None and sources:
        blocks = [b for r in pack.requests for b in r.body["messages"][0]["content"]]
        payload = sum(serialized_size(b) + 1 for b in blocks if b["type"] == "image")
        prompt_only = {"role": "user", "content": [{"type": "text", "text": "?"}]}
        room = limit - serialized_size({**pack.requests[0].body, "messages": [prompt_only]})
        bound = max(bound, -(-payload // room))
    assert pack.total_requests <= bound + 1
