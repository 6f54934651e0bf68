# Models and prices from configuration files, without a release: the nearest
# pyproject.toml's [tool.preflight.models] (or preflight.toml's [models]) and
# the file named by PREFLIGHT_MODELS; every key validated.

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import preflight
from preflight._inputs.config import load_models
from preflight.cli import main


@pytest.fixture(autouse=True)
def builtin_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PREFLIGHT_MODELS", raising=False)
    yield
    load_models(None, environment=False)  # back to the built-in rows


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_pyproject_adds_and_overrides_models(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "x"

[tool.preflight.models."acme-vision-1"]
price = "2.5"
tier = "high-res"
context = 1000000
aliases = ["acme"]

[tool.preflight.models."claude-sonnet-5-5"]
price = "1.5"
override = true
""",
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert load_models(deep) == [str(tmp_path / "pyproject.toml")]
    acme = preflight.get_model("acme")
    assert (acme.name, acme.input_usd_per_mtok, acme.tier, acme.max_images) == (
        "acme-vision-1",
        Decimal("2.5"),
        "high-res",
        600,
    )
    # Only the keys given change on a known model; the default follows it.
    sonnet = preflight.get_model("claude-sonnet-5-5")
    assert (sonnet.input_usd_per_mtok, sonnet.tier, sonnet.max_images) == (
        Decimal("1.5"),
        "high-res",
        600,
    )
    assert preflight.estimate(1000, 1000).cost_usd == Decimal(1296) * Decimal("1.5") / 10**6
    load_models(None, environment=False)
    assert preflight.get_model("claude-sonnet-5-5").input_usd_per_mtok == Decimal(2)
    with pytest.raises(preflight.UnknownNameError):
        preflight.get_model("acme")


def test_environment_file_wins_over_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "preflight.toml",
        '[models."claude-haiku-4-5"]\nprice = "0.9"\noverride = true\n',
    )
    models = write(tmp_path / "models.toml", '[models."claude-haiku-4-5"]\nprice = "0.7"\n')
    monkeypatch.setenv("PREFLIGHT_MODELS", str(models))
    load_models(tmp_path)
    assert preflight.get_model("claude-haiku-4-5").input_usd_per_mtok == Decimal("0.7")


def test_environment_file_applies_on_import(tmp_path: Path) -> None:
    models = write(tmp_path / "m.toml", '["my-model"]\nprice = "4"\ncontext = 200000\n')
    code = (
        "import preflight; m = preflight.get_model('my-model');"
        "print(m.input_usd_per_mtok, m.max_images, m.tier)"
    )
    env = {"PREFLIGHT_MODELS": str(models), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["4", "100", "standard"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('price = "2"\ncolour = "red"', "unknown key 'colour'"),
        ('tier = "high-res"', "a new model needs a price"),
        ('price = "-1"', "non-negative"),
        ("price = 2.5", "must be a number given as a string"),
        ('price = "2"\ntier = "ultra"', "unknown tier"),
        ('price = "2"\ncontext = 0', "context must be a whole number"),
        ('price = "2"\naliases = "x"', "aliases must be a list"),
        ('price = "2"\nlong_prompt_price = "1"', "go together"),
    ],
)
def test_bad_rows_are_config_errors(tmp_path: Path, row: str, message: str) -> None:
    write(tmp_path / "preflight.toml", f'[models."new-model"]\n{row}\n')
    with pytest.raises(preflight.ConfigError, match=message) as caught:
        load_models(tmp_path)
    assert "preflight.toml" in str(caught.value)
    assert isinstance(caught.value, preflight.UsageError)


def test_cli_reports_a_bad_config_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.preflight.models\nbroken")
    monkeypatch.chdir(tmp_path)
    assert main(["estimate", "100x100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid TOML" in err


def test_cli_prices_a_configured_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.preflight.models."in-house"]\nprice = "10"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["estimate", "1000x1000", "--model", "in-house", "--format", "json"]) == 0
    assert '"cost_usd": "0.01296"' in capsys.readouterr().out  # 36 x 36 patches at $10/MTok
