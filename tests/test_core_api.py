from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

import preflight
from preflight._core.cost import format_usd, plain_decimal
from preflight.errors import InvalidArgumentError

# The vision guide's examples price at $3/MTok on the standard tier: Sonnet 4.5.
GUIDE_MODEL = "claude-sonnet-4-6"  # $3/MTok, standard tier, as in the guide


@pytest.mark.parametrize(
    ("width", "height"),
    [(0, 5), (5, 0), (-1, 3), (1.5, 2), ("10", 10), (True, 10), (None, 1)],
)
def test_bad_sizes_raise_a_value_error(width: object, height: object) -> None:
    for call in (
        lambda: preflight.tokens(width, height),  # type: ignore[arg-type]
        lambda: preflight.api_size(width, height),  # type: ignore[arg-type]
        lambda: preflight.estimate(width, height, model=GUIDE_MODEL),  # type: ignore[arg-type]
        lambda: preflight.target_size(width, height),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            call()
        assert isinstance(caught.value, ValueError)
        assert caught.value.code == "invalid-size"


def test_bad_images_in_request() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        preflight.estimate(10, 10, images_in_request=0, model=GUIDE_MODEL)
    assert caught.value.code == "invalid-size"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("api", preflight.Target("api")),
        ("guide", preflight.Target("guide")),
        ("tokens=800", preflight.Target("tokens", max_tokens=800)),
        ("tokens:800", preflight.Target("tokens", max_tokens=800)),
        ("box=1024x768", preflight.Target("box", box=(1024, 768))),
    ],
)
def test_parse_target(spec: str, expected: preflight.Target) -> None:
    assert preflight.parse_target(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "tokens", "tokens=0", "tokens=-3", "box=10", "box=0x10", "huge"]
)
def test_bad_targets(spec: str) -> None:
    with pytest.raises(InvalidArgumentError):
        preflight.parse_target(spec)


def test_target_size_examples() -> None:
    standard = preflight.api_size(4000, 3000, "standard")
    assert preflight.target_size(4000, 3000, tier="standard") == (1270, 952) == standard
    assert preflight.target_size(4000, 3000) == preflight.api_size(4000, 3000) == (2212, 1659)
    assert preflight.target_size(4000, 3000, "guide") == (1238, 928)
    assert preflight.target_size(4000, 3000, "tokens=500") == (710, 532)  # 26 x 19 patches
    assert preflight.target_size(4000, 3000, "box=800x800") == (800, 600)
    assert preflight.target_size(640, 480, "guide") == (640, 480)  # never upscales


@pytest.mark.parametrize(
    "size", [(1920, 1080), (4000, 3000), (3000, 4000), (7900, 10), (1, 1), (2576, 2576)]
)
def test_sizing_helpers_answer_as_estimate_does(size: tuple[int, int]) -> None:
    # One default for one question: the default model's tier and rule.
    e = preflight.estimate(*size)
    assert preflight.api_size(*size) == (e.processed_width, e.processed_height)
    assert preflight.tokens(e.processed_width, e.processed_height) == e.tokens
    assert preflight.target_size(*size) == (e.processed_width, e.processed_height)
    # options= gives the tier and rule of the options' model, like estimate's.
    standard = preflight.make_options(model=GUIDE_MODEL, token_rule="patches")
    s = preflight.estimate(*size, standard)
    assert preflight.api_size(*size, options=standard) == (s.processed_width, s.processed_height)
    assert preflight.target_size(*size, options=standard) == preflight.api_size(
        *size, options=standard
    )
    assert preflight.tokens(s.processed_width, s.processed_height, options=standard) == s.tokens


def test_sizing_helpers_defaults_and_overrides() -> None:
    assert preflight.api_size(1920, 1080) == (1920, 1080)  # the default model is high-res
    assert preflight.api_size(1920, 1080, "standard") == (1456, 819)
    standard = preflight.make_options(model=GUIDE_MODEL)
    assert preflight.api_size(1920, 1080, options=standard) == (1456, 819)
    # A tier given outright wins over the options', as keywords win elsewhere.
    assert preflight.api_size(1920, 1080, "high-res", options=standard) == (1920, 1080)
    assert preflight.target_size(4000, 3000, tier="high-res", options=standard) == (2212, 1659)
    assert preflight.tokens(1456, 819, options=standard) == preflight.tokens(
        1456, 819, standard.rule
    )
    patches = preflight.make_options(token_rule="patches")
    assert preflight.tokens(1456, 819, options=patches) == 1560
    assert preflight.tokens(1456, 819, "guide", options=patches) == 1590
    # max_tokens is counted in the options' rule unless rule= says otherwise.
    by_patches = preflight.target_size(4000, 3000, "tokens", max_tokens=500, options=patches)
    assert preflight.tokens(*by_patches, "patches") <= 500 < preflight.tokens(*by_patches, "guide")
    for bad in ("claude-sonnet-4-6", {"model": "x"}):
        with pytest.raises(InvalidArgumentError, match=r"options must be a preflight\.Options"):
            preflight.api_size(10, 10, options=bad)  # type: ignore[arg-type]


def test_cost_text() -> None:
    assert format_usd(Decimal("0.000162")) == "$0.00016"
    assert format_usd(Decimal("0.004002")) == "$0.004"
    assert format_usd(Decimal("0.10")) == "$0.10"
    assert format_usd(Decimal("4.002")) == "$4.00"
    assert format_usd(Decimal("1234567.891")) == "$1,234,567.89"
    assert format_usd(Decimal(0)) == "$0"
    assert plain_decimal(Decimal("8E-7")) == "0.0000008"
    assert plain_decimal(Decimal("4.7700")) == "4.77"
    assert plain_decimal(Decimal("300")) == "300"


def test_estimate_to_dict_is_json_ready() -> None:
    data = preflight.estimate(1920, 1080, model=GUIDE_MODEL).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["cost_usd"] == "0.00468"  # 1456x819: 1560 patch tokens at $3/MTok


def test_import_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, preflight, preflight._core.geometry, preflight._core.estimation, "
        "preflight._core.cost, preflight._core.tables, preflight._core.rules, "
        "preflight._core.findings, preflight.cli, preflight._inputs.probing, "
        "preflight._imaging.inspection, "
        "preflight._imaging.preparation, preflight._core.planning, preflight._imaging.engines;"
        "preflight.estimate(4000, 3000);"
        "heavy = [m for m in ('PIL', 'pyvips', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_functions_stay_functions_after_submodule_imports() -> None:
    # No module is named like a public function: importing every submodule
    # leaves every public name what it was.
    import importlib
    import pkgutil

    before = {name: getattr(preflight, name) for name in preflight.__all__}
    packages = pkgutil.walk_packages(preflight.__path__, "preflight.")
    modules = [m.name for m in packages if not m.name.endswith("__main__")]
    for module in modules:
        try:
            importlib.import_module(module)
        except preflight.errors.MissingExtraError:
            assert module == "preflight.sdk"  # the one module that needs an extra at import
    # Only the package's own children can rebind its attributes.
    children = {m.split(".")[1] for m in modules}
    clashes = children & set(preflight.__all__)
    assert clashes == set()
    assert {name: getattr(preflight, name) for name in preflight.__all__} == before
