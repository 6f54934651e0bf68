# One options object: every public function takes it or the same keywords,
# validates them the same way, and honours all of them.

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from helpers import FIXTURES
from hypothesis import given
from hypothesis import strategies as st
from strategies import sizes

import preflight
from preflight._core.options import KEYWORDS, Options, make_options

SAMPLE = FIXTURES / "samples" / "photo-800x600.jpg"
WIDE = FIXTURES / "samples" / "wide-2400x600.jpg"


def every_entry_point(**keywords: Any) -> list[Any]:
    """Call each public function with the same keywords."""
    info = preflight.probe(SAMPLE)
    return [
        lambda: preflight.estimate(800, 600, **keywords),
        lambda: preflight.plan([800], [600], **keywords),
        lambda: preflight.check(info, **keywords),
        lambda: preflight.inspect(SAMPLE, **keywords),
        lambda: preflight.prepare(SAMPLE, **keywords),
        lambda: preflight.request_findings([1000], **keywords),
    ]


@pytest.mark.parametrize(
    "keywords",
    [
        {"images_in_request": True},
        {"images_in_request": 20.5},
        {"images_in_request": 0},
        {"images_in_request": "21"},
        {"images_in_request": 10**400},
        {"batch": "yes"},
        {"batch": 1},
        {"max_bytes": 3},
        {"max_bytes": 2.5},
        {"price_per_mtok": "1e40"},
        {"price_per_mtok": float("nan")},
        {"prompt_tokens": -1},
        {"model": "gpt-4o"},
        {"surface": "mars"},
        {"token_rule": "words"},
        {"oversized": "reject"},
        {"tier": "ultra"},
        {"colour": "blue"},
    ],
)
def test_every_entry_point_refuses_the_same_bad_values(keywords: dict[str, Any]) -> None:
    for call in every_entry_point(**keywords):
        with pytest.raises(preflight.UsageError):
            call()


def test_keywords_and_options_give_the_same_answers() -> None:
    keywords: dict[str, Any] = {
        "model": "claude-opus-4-7",
        "surface": "bedrock",
        "images_in_request": 21,
        "oversized": "error",
        "batch": True,
        "token_rule": "guide",
    }
    options = make_options(**keywords)
    info = preflight.probe(WIDE)
    assert preflight.estimate(2400, 600, options) == preflight.estimate(2400, 600, **keywords)
    assert preflight.check(info, options) == preflight.check(info, **keywords)
    assert preflight.inspect(WIDE, options) == preflight.inspect(WIDE, **keywords)
    # keywords given with an Options win over it
    assert preflight.estimate(10, 10, options, batch=False).batch is False


def test_options_are_frozen_and_validated_when_built_directly() -> None:
    options = Options()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.batch = True  # type: ignore[misc]
    with pytest.raises(preflight.UsageError):
        Options(images_in_request=0)
    with pytest.raises(preflight.UsageError):
        Options(model="claude-sonnet-5-5")  # type: ignore[arg-type]
    assert set(KEYWORDS) >= {"model", "surface", "images_in_request", "oversized", "batch"}


@given(sizes, st.integers(1, 700), st.sampled_from(["claude-haiku-4-5", "claude-sonnet-5-5"]))
def test_options_flow_into_estimate(size: tuple[int, int], images: int, model: str) -> None:
    options = make_options(model=model, images_in_request=images)
    result = preflight.estimate(*size, options)
    assert result.model == options.model.name
    assert result.tier == options.tier.name
    cap = 100 if model == "claude-haiku-4-5" else 600
    assert ("too-many-images" in [f.code for f in result.findings]) is (images > cap)


@pytest.mark.parametrize("model", ["claude-opus-4-7", "claude-sonnet-5-5", "claude-sonnet-4-6"])
def test_prepare_honours_the_many_image_rule(model: str) -> None:
    big = FIXTURES / "samples" / "photo-800x600.jpg"
    # A 4000x2250 photo: the high-res tier keeps 2576x1449, over 2000 px.
    import io

    from PIL import Image

    buffer = io.BytesIO()
    with Image.open(big) as image:
        image.resize((4000, 2250)).save(buffer, "JPEG")
    data = buffer.getvalue()
    alone = preflight.prepare(data, model=model)
    crowded = preflight.prepare(data, model=model, images_in_request=21)
    assert max(crowded.width, crowded.height) <= 2000
    info = preflight.probe(crowded.data)
    errors = [f for f in preflight.check(info, model=model, images_in_request=21) if f.is_error]
    assert errors == []
    if max(alone.width, alone.height) <= 2000:
        assert (crowded.width, crowded.height) == (alone.width, alone.height)
    else:
        assert crowded.width < alone.width


def test_prepare_uses_the_surface_for_its_budget_and_its_estimate() -> None:
    on_claude_ai = preflight.prepare(SAMPLE, surface="claude.ai")
    inspected = preflight.inspect(SAMPLE, surface="claude.ai")
    assert on_claude_ai.source_estimate == inspected.estimate
    # A 5 MB surface gets a 5 MB budget: a noisy PNG of ~6 MB of base64 shrinks.
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    data = buffer.getvalue()
    assert 5 * 2**20 < len(data) * 4 // 3 < 10 * 2**20
    for surface, limit in (("bedrock", 5 * 2**20), ("api", 10 * 2**20)):
        result = preflight.prepare(data, surface=surface, model="claude-sonnet-4-5")
        assert len(result.base64()) <= limit


def test_price_per_mtok_prices_an_unknown_model_everywhere() -> None:
    options = make_options(model="my-model", price_per_mtok="2", tier="high-res")
    assert options.model.input_usd_per_mtok == Decimal(2)
    # 1000x1000 is 36 x 36 patches (the default token rule)
    assert preflight.estimate(1000, 1000, options).cost_usd == Decimal(1296 * 2) / 1_000_000
    assert preflight.plan([1000], [1000], options=options).total_cost_usd == (
        Decimal(1296 * 2) / 1_000_000
    )


# --- the token rule: token_rule=, and 0.2's rule= for one release -----------------------


def test_the_token_rule_defaults_to_patches_and_guide_is_there() -> None:
    assert Options().token_rule == "patches" == Options().rule
    assert make_options(token_rule="guide").token_rule == "guide"
    assert make_options(token_rule="patch").token_rule == "patches"  # an alias
    assert make_options(token_rule="guide").to_dict()["rule"] == "guide"
    guide = preflight.estimate(1000, 1000, token_rule="guide", model="claude-sonnet-4-6")
    patches = preflight.estimate(1000, 1000, model="claude-sonnet-4-6")
    assert (guide.tokens, guide.rule, patches.tokens, patches.rule) == (
        1334,
        "guide",
        1296,
        "patches",
    )


def test_rule_is_a_deprecated_alias_of_token_rule() -> None:
    with pytest.warns(DeprecationWarning, match="token_rule="):
        old = preflight.estimate(1000, 1000, rule="guide")
    assert old == preflight.estimate(1000, 1000, token_rule="guide")
    renamed = "rule= is deprecated"
    with pytest.warns(DeprecationWarning, match=renamed):  # every call warns, cached or not
        assert make_options(rule="guide").token_rule == "guide"
    with pytest.warns(DeprecationWarning, match=renamed):
        assert make_options(rule="guide", token_rule="guide").token_rule == "guide"
    with (
        pytest.warns(DeprecationWarning, match=renamed),
        pytest.raises(preflight.UsageError, match="disagree"),
    ):
        make_options(rule="guide", token_rule="patches")
    with (
        pytest.warns(DeprecationWarning, match=renamed),
        pytest.raises(preflight.errors.UnknownNameError),
    ):
        make_options(rule="words")


def test_every_output_names_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from preflight.cli import main

    assert preflight.estimate(800, 600).to_dict()["rule"] == "patches"
    assert main(["estimate", "800x600"]) == 0
    assert "patches rule" in capsys.readouterr().out
    assert main(["estimate", "800x600", "--token-rule", "guide", "--format", "json"]) == 0
    assert '"rule": "guide"' in capsys.readouterr().out
    assert main(["estimate", "800x600", "--rule", "guide"]) == 0  # the 0.2 flag
    assert "guide rule" in capsys.readouterr().out
    report = preflight.inspect(WIDE)
    assert report.estimate is not None and report.estimate.rule == "patches"
    found = preflight.check(preflight.probe(WIDE), model="claude-sonnet-4-6")
    (resize,) = (f for f in found if f.code == "will-resize")
    assert "(patches rule)" in resize.message
