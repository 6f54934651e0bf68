# Start-up: `import preflight` loads the errors and the model table's module
# and nothing else of preflight's, and no heavy library; every public name
# still resolves (on first use). Measured in benchmarks/bench_startup.py.

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import preflight

HEAVY = (
    "PIL",
    "numpy",
    "pyvips",
    "fsspec",
    "aiohttp",
    "dask",
    "anthropic",
    "urllib.request",
    "http.client",
    "concurrent.futures",
    "multiprocessing",
    "argparse",
    "json",
    "hashlib",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_preflight_loads_only_what_it_needs() -> None:
    loaded = _modules_after("import preflight")
    ours = {m for m in loaded if m == "preflight" or m.startswith("preflight.")}
    assert ours == {
        "preflight",
        "preflight._core",
        "preflight._core.tables",
        "preflight._version",
        "preflight.errors",
    }
    assert not [m for m in HEAVY if m in loaded]


def test_a_public_name_loads_its_module_on_first_use() -> None:
    loaded = _modules_after("import preflight; preflight.api_size(1920, 1080)")
    assert "preflight._core.geometry" in loaded
    assert "preflight._imaging.preparation" not in loaded
    assert not [m for m in ("PIL", "numpy", "pyvips") if m in loaded]


def test_every_public_name_resolves() -> None:
    for name in preflight.__all__:
        assert getattr(preflight, name) is not None, name
    assert "prepare" in dir(preflight)


# The command line: building the parser (every command does, --version and
# --help too) loads the flag definitions and nothing heavy; each subcommand
# imports what it runs. Measured in benchmarks/bench_startup.py.
NOT_FOR_THE_PARSER = (
    *(m for m in HEAVY if m != "argparse"),
    "socket",
    "subprocess",
    "tempfile",
    "xml.etree.ElementTree",
)
# Below the command line, only the errors, the model table, plain constants
# and the signal handling the entry point installs.
PARSER_MODULES = {
    "preflight._core.budgets",
    "preflight._core.catalogue",
    "preflight._core.cost",
    "preflight._core.defaults",
    "preflight._core.findings",
    "preflight._core.tables",
    "preflight._imaging",
    "preflight._imaging.interrupts",
}


def test_building_the_parser_loads_no_heavy_module() -> None:
    loaded = _modules_after("import preflight.cli; preflight.cli.build_parser()")
    assert not [m for m in NOT_FOR_THE_PARSER if m in loaded]
    below = {
        m
        for m in loaded
        if m.startswith("preflight.") and not m.startswith(("preflight.cli", "preflight._version"))
    }
    assert below - {"preflight.errors", "preflight._core"} <= PARSER_MODULES


def test_version_and_help_load_no_subcommand_work() -> None:
    for flag in ("--version", "--help", "check --help", "prepare --help", "pack --help"):
        statement = (
            "import contextlib, io, preflight.cli\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            f"    preflight.cli.main({flag.split()!r})"
        )
        loaded = _modules_after(f"exec({statement!r})")
        assert not [m for m in NOT_FOR_THE_PARSER if m in loaded], flag
        assert not [m for m in loaded if m.startswith(("preflight._runs", "preflight._requests"))]


def test_checking_one_file_starts_no_pool_and_no_image_engine() -> None:
    """A small header-only check runs in this process: no process pool, no
    image library, no prepare machinery is even imported."""
    sample = Path(__file__).resolve().parent.parent / "fixtures" / "samples" / "rgb.png"
    statement = (
        "import contextlib, io, preflight.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = preflight.cli.main(['check', {str(sample)!r}, '--isolated'])\n"
        "assert code == 0, code"
    )
    loaded = _modules_after(f"exec({statement!r})")
    assert "preflight._imaging.inspection" in loaded  # it did check
    for name in (
        "concurrent.futures",
        "multiprocessing",
        "PIL",
        "pyvips",
        "numpy",
        "preflight._imaging.preparation",
        "preflight._imaging.tiling",
        "preflight._requests.packing",
        "preflight._runs.costplan",
        "preflight._runs.distributed",
    ):
        assert name not in loaded, name
