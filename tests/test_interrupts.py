# Ctrl-C and SIGTERM stop `preflight prepare` with either engine: exit 130
# (143 for SIGTERM) within a watchdog's time, no temporary files left, and a
# manifest that lists exactly the complete outputs there are. The signal is
# sent at several moments: the process is real, the timing is not asserted.
# The command run is the installed `preflight` script, the one users type
# (its entry point is the one that restores signals and leaves with 130/143),
# and `python -m preflight` once more.

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_prepare import ENGINES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

WATCHDOG = 60  # seconds: a hang guard, not a timing assertion
ROOT = Path(__file__).resolve().parent.parent
# The console script pip installed next to this interpreter.
INSTALLED = Path(sys.executable).parent / ("preflight.exe" if os.name == "nt" else "preflight")


def command(how: str) -> list[str]:
    """How to start preflight: the installed script, or `python -m preflight`."""
    if how == "installed":
        if not INSTALLED.is_file():
            pytest.skip(f"no installed preflight script at {INSTALLED} (pip install the package)")
        return [str(INSTALLED)]
    return [sys.executable, "-m", "preflight"]


def test_the_console_script_is_the_safe_entry_point() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert declared["preflight"] == "preflight.cli:entry_point"
    installed = entry_points(group="console_scripts", name="preflight")
    if not installed:
        pytest.skip("preflight is not installed (no console_scripts entry point)")
    # An older install keeps the old entry point until it is installed again.
    assert [e.value for e in installed] == ["preflight.cli:entry_point"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large noisy photos: each takes the engines a noticeable time."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (750, 1000, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((4000, 3000))
    # Twelve copies of one encoding: the same files as twelve saves, one encode.
    first = folder / "photo-00.png"
    image.save(first, compress_level=1)
    for index in range(1, 12):
        shutil.copyfile(first, folder / f"photo-{index:02d}.png")
    return folder


def wait_for_lines(manifest: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WATCHDOG
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("how", "signum", "code", "after_lines", "jobs"),
    [
        ("installed", signal.SIGINT, 130, 1, 1),  # during the first image
        ("installed", signal.SIGINT, 130, 3, 1),  # after two images are done
        ("installed", signal.SIGTERM, 143, 2, 1),
        ("installed", signal.SIGINT, 130, 2, 2),  # workers busy: leave without joining them
        ("module", signal.SIGINT, 130, 2, 1),
    ],
)
def test_an_interrupted_prepare_leaves_a_consistent_output(
    inputs: Path,
    tmp_path: Path,
    engine: str,
    how: str,
    signum: int,
    code: int,
    after_lines: int,
    jobs: int,
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            *command(how),
            "prepare",
            str(inputs),
            "--out",
            str(out),
            "--engine",
            engine,
            "--model",
            "claude-sonnet-4-6",
            "--jobs",
            str(jobs),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_for_lines(out / "preflight-manifest.jsonl", after_lines, proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=WATCHDOG)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert b"Traceback" not in err
    lines = [
        json.loads(line) for line in (out / "preflight-manifest.jsonl").read_text().splitlines()
    ]
    assert lines[0]["preflight_manifest"] == 1
    listed = {Path(e["output"]).name for e in lines[1:] if e.get("status") == "ok"}
    on_disk = {p.name for p in out.iterdir() if p.name != "preflight-manifest.jsonl"}
    assert on_disk == listed  # no temporary file, no unlisted output
    for name in listed:
        with Image.open(out / name) as image:
            image.load()  # every listed output is complete
