# Ctrl-C and SIGTERM stop `preflight prepare` with either engine: exit 130
# (143 for SIGTERM) within a watchdog's time, no temporary files left, and a
# manifest that lists exactly the complete outputs there are. The signal is
# sent at several moments: the process is real, the timing is not asserted.

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_prepare import ENGINES

WATCHDOG = 60  # seconds: a hang guard, not a timing assertion


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large noisy photos: each takes the engines a noticeable time."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (750, 1000, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((4000, 3000))
    for index in range(12):
        image.save(folder / f"photo-{index:02d}.png", compress_level=1)
    return folder


def wait_for_lines(manifest: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WATCHDOG
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("signum", "code", "after_lines"),
    [
        (signal.SIGINT, 130, 1),  # during the first image
        (signal.SIGINT, 130, 3),  # after two images are done
        (signal.SIGTERM, 143, 2),
    ],
)
def test_an_interrupted_prepare_leaves_a_consistent_output(
    inputs: Path, tmp_path: Path, engine: str, signum: int, code: int, after_lines: int
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "preflight",
            "prepare",
            str(inputs),
            "--out",
            str(out),
            "--engine",
            engine,
            "--model",
            "claude-sonnet-4-6",
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
