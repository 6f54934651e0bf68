"""The public surface: at most 50 names on preflight, the rest in documented
namespaces that only re-export; the names 0.2 had still reachable, with a
warning naming their new home; nothing read from the environment at import."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

import preflight

ROOT = Path(__file__).resolve().parent.parent
NAMESPACES = ("preflight.errors", "preflight.tables", "preflight.quality", "preflight.types")

# preflight.__all__ in 0.2: every one of them must still resolve.
NAMES_0_2 = [
    "DEFAULT_MODEL",
    "FORMATS",
    "MODELS",
    "QUALITY_CODES",
    "SURFACES",
    "TIERS",
    "Action",
    "ByteBudgetError",
    "ClusterError",
    "ConfigError",
    "CorruptHeaderError",
    "DataError",
    "DecodeError",
    "EmptyInputError",
    "EngineError",
    "EngineUnavailableError",
    "Estimate",
    "Finding",
    "Format",
    "Header",
    "HeaderError",
    "HeaderTooLargeError",
    "ImageInfo",
    "InvalidArgumentError",
    "InvalidSizeError",
    "MissingExtraError",
    "Model",
    "NotAnImageError",
    "Options",
    "OutputPathError",
    "Pack",
    "PackFailure",
    "PackPlan",
    "PackedRequest",
    "Plan",
    "PreflightError",
    "PreparedImage",
    "PreparedRequest",
    "QualityMeasures",
    "QualityReport",
    "Report",
    "RequestChange",
    "RequestImage",
    "RequestReport",
    "SizesFileError",
    "SourceError",
    "Surface",
    "Target",
    "Thresholds",
    "Tier",
    "TileImage",
    "Tiling",
    "TruncatedError",
    "UnknownNameError",
    "UnsafeImageError",
    "UnsupportedFormatError",
    "UsageError",
    "WorkerCrashError",
    "WriteError",
    "__version__",
    "analyze_quality",
    "api_size",
    "check",
    "check_request",
    "effective_size",
    "estimate",
    "format_usd",
    "get_model",
    "get_surface",
    "get_tier",
    "image_cost",
    "inspect",
    "make_options",
    "pack_images",
    "parse_target",
    "plain_decimal",
    "plan",
    "prepare",
    "prepare_request",
    "probe",
    "quality_findings",
    "request_findings",
    "target_size",
    "tile",
    "tile_layout",
    "tokens",
]


def test_at_most_fifty_top_level_names_all_resolving_without_warnings() -> None:
    assert len(preflight.__all__) <= 50
    assert len(set(preflight.__all__)) == len(preflight.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in preflight.__all__:
            assert getattr(preflight, name) is not None, name
    assert set(preflight.__all__) <= set(dir(preflight))


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_namespace_name_resolves_without_warnings(namespace: str) -> None:
    module = importlib.import_module(namespace)
    assert module.__doc__ and len(module.__all__) == len(set(module.__all__))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{namespace}.{name}"


@pytest.mark.parametrize("namespace", ["preflight.quality", "preflight.types"])
def test_namespaces_only_re_export(namespace: str) -> None:
    module = importlib.import_module(namespace)
    for name in module.__all__:
        value = getattr(module, name)
        home = getattr(value, "__module__", None)
        if home in (None, "typing"):  # a type alias (MediaType) has no home of its own
            continue
        assert home.startswith("preflight._"), f"{namespace}.{name} is defined in {home}"


def test_a_top_level_name_is_the_object_its_namespace_holds() -> None:
    import preflight.errors
    import preflight.quality
    import preflight.tables
    import preflight.types

    for name in preflight.__all__:
        for namespace in (preflight.errors, preflight.tables, preflight.quality, preflight.types):
            if name in namespace.__all__ and name != "MODELS":
                assert getattr(namespace, name) is getattr(preflight, name), name
    assert preflight.MODELS is preflight.tables.MODELS is preflight.tables.models()


def test_every_name_of_0_2_is_still_reachable() -> None:
    missing = set(NAMES_0_2) - set(preflight.__all__) - set(preflight.MOVED)
    assert not missing
    for name in set(NAMES_0_2) - set(preflight.__all__):
        with pytest.warns(DeprecationWarning, match=rf"preflight\.{name} is deprecated"):
            getattr(preflight, name)


@pytest.mark.parametrize("name", sorted(preflight.MOVED))
def test_a_moved_name_warns_and_names_its_new_home(name: str) -> None:
    home = importlib.import_module(preflight.MOVED[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = getattr(home, name)  # for a merged error class, the class it joined
    with pytest.warns(
        DeprecationWarning, match=rf"preflight\.{name} is deprecated.*use {home.__name__}\."
    ):
        assert getattr(preflight, name) is expected
    assert name not in preflight.__all__


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        preflight.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_docs_python_md_lists_every_namespace_and_its_names() -> None:
    text = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    for namespace in NAMESPACES:
        assert f"`{namespace}`" in text, namespace
        module = importlib.import_module(namespace)
        for name in module.__all__:
            assert f"`{name}" in text, f"{namespace}.{name} is not in docs/python.md"


def run(code: str, models: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_MODELS"}
    if models is not None:
        env["PREFLIGHT_MODELS"] = models
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )


@pytest.mark.parametrize("models", ["/nonexistent/models.toml", "{directory}", "{broken}"])
def test_nothing_is_read_from_the_environment_at_import(tmp_path: Path, models: str) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[models\n")
    named = models.format(directory=tmp_path, broken=broken)
    imported = run(
        "import preflight, preflight.cli, preflight.tables; print('ok')", named, tmp_path
    )
    assert imported.returncode == 0 and imported.stdout == "ok\n", imported.stderr
    # The first use reports it, in one line that names the variable; every
    # later use again (the built-in rows are never used in its place).
    code = (
        "import preflight\n"
        "for use in (lambda: preflight.estimate(10, 10), lambda: preflight.MODELS,\n"
        "            lambda: preflight.get_model('sonnet-4.6'), preflight.make_options):\n"
        "    try:\n"
        "        use()\n"
        "    except preflight.errors.ConfigError as error:\n"
        "        print(error.code, str(error).count(chr(10)), str(error).split(':')[0])\n"
    )
    used = run(code, named, tmp_path)
    assert used.returncode == 0, used.stderr
    assert used.stdout.splitlines() == ["bad-config 0 PREFLIGHT_MODELS"] * 4
    command = subprocess.run(
        [sys.executable, "-m", "preflight", "estimate", "10x10"],
        capture_output=True,
        text=True,
        env={**os.environ, "PREFLIGHT_MODELS": named},
        cwd=tmp_path,
        check=False,
    )
    assert command.returncode == 2 and command.stderr.count("\n") == 1, command.stderr


def test_a_good_models_file_applies_at_first_use(tmp_path: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text(
        '[models."claude-sonnet-5-5"]\nprice = "7"\n\n'
        '[models."acme-1"]\nprice = "4"\naliases = ["acme"]\n'
    )
    code = (
        "import preflight\n"
        "e = preflight.estimate(1000, 1000)\n"  # the defaults, no name given
        "print(e.cost_usd * 10**6 / e.tokens)\n"  # USD per million tokens
        "print(preflight.get_model('acme').input_usd_per_mtok, 'acme-1' in preflight.MODELS)\n"
    )
    out = run(code, str(models), tmp_path)
    assert out.returncode == 0, out.stderr
    assert [Decimal(word) for word in out.stdout.split()[:2]] == [7, 4]  # the file's prices
    assert out.stdout.split()[2] == "True"
