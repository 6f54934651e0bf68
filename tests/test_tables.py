from __future__ import annotations

from decimal import Decimal

import pytest

import preflight
from preflight.core.tables import get_rule, normalize_model_name, resolve_model
from preflight.errors import InvalidArgumentError, PreflightError, UnknownNameError


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
    assert error.code == "unknown-name"
    assert "claude-sonnet-4-5" in str(error)
    assert "price_per_mtok" in str(error)


def test_custom_price_and_tier_without_editing_the_table() -> None:
    custom = resolve_model("my-finetune", price_per_mtok="2.5", tier="high-res")
    assert custom == preflight.Model("my-finetune", Decimal("2.5"), "high-res")
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


@pytest.mark.parametrize("price", ["-1", "abc", "nan", "inf"])
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
        for argument in ("model", "rule", "surface", "oversized", "tier")
        for value in (None, 3, b"guide")
        if (argument, value) != ("tier", None)  # tier=None: the model's own tier
    ],
)
def test_a_name_that_is_not_a_string_is_an_unknown_name(argument: str, value: object) -> None:
    with pytest.raises(preflight.UnknownNameError, match="known: "):
        preflight.estimate(1000, 1000, **{argument: value})
