# Start-up: `import preflight` loads the errors and the model table's module
# and nothing else of preflight's, and no heavy library; every public name
# still resolves (on first use). Measured in benchmarks/bench_startup.py.

from __future__ import annotations

import subprocess
import sys

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
