from __future__ import annotations

import typing
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import preflight
from preflight._core.options import make_options
from preflight._core.tables import (
    BUILTIN_MODELS,
    MODELS,
    RETIRED,
    get_rule,
    normalize_model_name,
)
from preflight.errors import InvalidArgumentError, PreflightError, UnknownNameError, UsageError

ROOT = Path(__file__).resolve().parent.parent


def resolve_model(model: str, **keywords: Any) -> preflight.Model:
    return make_options(model=model, **keywords).model


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("sonnet-4.5", "claude-sonnet-4-5"),
        ("Claude Sonnet 4.5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("haiku-3.5", "claude-3-5-haiku"),
        ("opus-4.7", "claude-opus-4-7"),
        ("claude-opus-4-0", "claude-opus-4"),
        ("opus-4", "claude-opus-4"),
        ("sonnet-5.5", "claude-sonnet-5-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("Opus 4.8", "claude-opus-4-8"),
        ("claude-mythos-preview", "claude-mythos-preview"),
    ],
)
def test_model_aliases(alias: str, name: str) -> None:
    assert preflight.get_model(alias).name == name
    assert normalize_model_name(alias) == name


def test_unknown_model_lists_names_and_says_what_to_do() -> None:
    with pytest.raises(UnknownNameError) as caught:
        preflight.get_model("gpt-4o")
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, PreflightError)
    assert isinstance(error, UsageError)
    assert error.code == "unknown-name"
    assert "claude-sonnet-4-5" in str(error)
    assert "price_per_mtok" in str(error)


def test_custom_price_and_tier_without_editing_the_table() -> None:
    custom = resolve_model("my-finetune", price_per_mtok="2.5", tier="high-res")
    assert custom == preflight.Model("my-finetune", Decimal("2.5"), "high-res")
    assert custom.max_images == 100  # an unknown context window: the smaller cap
    result = preflight.estimate(
        3000, 2000, model="my-finetune", price_per_mtok="2.5", tier="high-res"
    )
    assert result.processed_width == preflight.api_size(3000, 2000, "high-res")[0]
    assert result.cost_usd == result.tokens * Decimal("2.5") / 1_000_000
    # a known model with a new price keeps its tier
    assert resolve_model("opus-4.7", price_per_mtok=4).tier == "high-res"
    # a Model object passes straight through
    own = preflight.Model("x", Decimal(1), "standard")
    assert preflight.estimate(10, 10, model=own).model == "x"


@pytest.mark.parametrize("price", ["-1", "abc", "nan", "inf", "1e40", 0.5, True, "", "١٢"])
def test_bad_custom_price(price: str) -> None:
    with pytest.raises(InvalidArgumentError):
        resolve_model("x", price_per_mtok=price)


def test_tier_surface_rule_lookups() -> None:
    assert preflight.get_tier("high-resolution").name == "high-res"
    assert preflight.get_surface("Claude.AI").name == "claude.ai"
    assert get_rule("patch") == "patches"
    for bad in (
        lambda: preflight.get_tier("ultra"),
        lambda: preflight.get_surface("mars"),
        lambda: get_rule("x"),
    ):
        with pytest.raises(UnknownNameError):
            bad()


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        (argument, value)
        for argument in ("model", "token_rule", "surface", "oversized", "tier")
        for value in (None, 3, b"guide")
        if (argument, value) != ("tier", None)  # tier=None: the model's own tier
    ],
)
def test_a_name_that_is_not_a_string_is_an_unknown_name(argument: str, value: object) -> None:
    with pytest.raises(UnknownNameError, match=r"(?i)known: "):
        preflight.estimate(1000, 1000, **{argument: value})


def test_models_follow_the_docs_table() -> None:
    """docs/models.md and the built-in rows say the same, row by row."""
    rows = []
    for line in (ROOT / "docs" / "models.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("claude-"):
            rows.append(cells)
    assert [r[0] for r in rows] == [m.name for m in BUILTIN_MODELS]
    for (name, aliases, price, context, cap, tier, status), model in zip(
        rows, BUILTIN_MODELS, strict=True
    ):
        dated = sorted(a for a in model.aliases if a[-8:].isdigit())
        assert sorted(a for a in aliases.split(", ") if a != "-") == dated, name
        rates = [model.input_usd_per_mtok, model.long_prompt_usd_per_mtok]
        written = " / ".join(str(r) for r in rates if r is not None) or "-"
        assert price == written, name
        expected_context = {200_000: "200K", 1_000_000: "1M", None: "-"}[model.context_tokens]
        assert context == expected_context, name
        assert cap.split()[0] in (str(model.max_images), "-"), name
        assert tier.split()[0] in (model.tier, "-"), name
        assert status.startswith(model.status), name


def test_image_cap_follows_the_context_window() -> None:
    for model in BUILTIN_MODELS:
        if model.context_tokens == 1_000_000:
            assert model.max_images == 600, model.name
        else:
            assert model.max_images == 100, model.name


def test_default_model_is_current() -> None:
    model = preflight.get_model(preflight.DEFAULT_MODEL)
    assert model.status in ("latest", "current")
    assert model.input_usd_per_mtok is not None
    assert preflight.estimate(10, 10).model == model.name


def sdk_model_ids() -> list[str]:
    """The model ids of the installed Anthropic SDK (`anthropic.types.Model`,
    a Literal of ids or a plain string)."""
    anthropic_types = pytest.importorskip(
        "anthropic.types", reason="the anthropic SDK is not installed"
    )
    literals = [
        arg for arg in typing.get_args(anthropic_types.Model) if typing.get_origin(arg) is not None
    ]
    ids = [value for literal in literals for value in typing.get_args(literal)]
    assert ids, "the SDK's Model holds no literal ids"
    return ids


# Table models that are not retired and still not in the SDK's list, with
# the reason (docs/models.md). None today.
NOT_IN_SDK: dict[str, str] = {}
# The day SDK 2.17 was checked against: its list has no retired model on it.
SDK_DAY = date(2026, 12, 4)


def test_the_table_and_the_sdk_model_list_agree() -> None:
    """Every id of the installed SDK is in the table and not retired; every
    model of the table that is not retired is in the SDK's list."""
    ids = sdk_model_ids()
    names = {normalize_model_name(i) for i in ids}
    unknown = sorted(i for i in ids if normalize_model_name(i) not in MODELS)
    assert unknown == []
    retired = sorted(n for n in names if MODELS[n].lifecycle_on(SDK_DAY) == RETIRED)
    assert retired == []
    live = {m.name for m in BUILTIN_MODELS if m.lifecycle_on(SDK_DAY) != RETIRED}
    assert sorted(live - names - set(NOT_IN_SDK)) == []
    assert sorted(set(NOT_IN_SDK) - live) == []  # an exception that no longer is one


def test_the_sdk_test_can_fail() -> None:
    """The SDK check above is not vacuous: a retired model on the list, or a
    live model missing from it, is caught."""
    ids = sdk_model_ids()
    assert "claude-sonnet-4-5" not in ids  # retired on 2026-11-30: gone from SDK 2.17
    assert MODELS["claude-sonnet-4-5"].lifecycle_on(SDK_DAY) == RETIRED
    assert MODELS["claude-sonnet-4-5"].lifecycle_on(date(2026, 11, 29)) != RETIRED


def test_two_rate_price_depends_on_the_prompt_length() -> None:
    short = make_options(model="claude-haiku-5-5", prompt_tokens=100_000)
    long = make_options(model="claude-haiku-5-5", prompt_tokens=100_001)
    assert short.cost(1_000_000) == Decimal("0.10")
    assert long.cost(1_000_000) == Decimal("0.50")
    unknown = make_options(model="claude-haiku-5-5")
    assert unknown.cost(1_000_000) == Decimal("0.10")
    assert "prompt length is unknown" in unknown.price_note
    result = preflight.estimate(1000, 1000, model="claude-haiku-5-5")
    assert result.price_note == unknown.price_note
    assert preflight.estimate(1000, 1000, model="claude-sonnet-5-5").price_note == ""


def test_a_model_without_a_price_resolves_but_asks_for_one() -> None:
    result = preflight.estimate(3000, 2000, model="claude-mythos-5-2")
    assert result.tier == "high-res"
    assert result.cost_usd is None
    assert "price_per_mtok" in result.price_note
    assert make_options(model="claude-mythos-5-2").max_images == 600
    priced = preflight.estimate(3000, 2000, model="claude-mythos-5-2", price_per_mtok="7")
    assert priced.cost_usd == priced.tokens * Decimal(7) / 1_000_000
    plan = preflight.plan([3000], [2000], model="claude-mythos-5-2")
    assert plan.total_cost_usd is None
