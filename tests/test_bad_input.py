# Bad input is one clear line (exit 2) on the command line and a UsageError
# in Python: never a traceback, an OverflowError or a decimal.InvalidOperation.

from __future__ import annotations

import subprocess
import sys

import pytest

import preflight

HUGE = "9" * 400


@pytest.mark.slow  # a process per case
@pytest.mark.parametrize(
    "argv",
    [
        ["estimate", f"{HUGE}x10"],
        ["estimate", "10x10", "--price", "1e40"],
        ["estimate", "10x10", "--price", "nan"],
        ["estimate", "10x10", "--images-per-request", HUGE],
        ["estimate", "10x10", "--images-per-request", "²"],
        ["estimate", "١٠x10"],  # digits of another script
        ["prepare", "x.jpg", "--out", "o", "--target", "tokens=²"],
        ["prepare", "x.jpg", "--out", "o", "--target", f"box={HUGE}x10"],
        ["prepare", "x.jpg", "--out", "o", "--quality", "٥٠"],
        ["check", "x.jpg", "--max-bytes", HUGE],
        ["estimate", "10x10", "--model", "gpt-4o"],
        ["rule", "no-such-code"],
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(argv: list[str], tmp_path: object) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize(
    "call",
    [
        lambda: preflight.api_size(10**400, 1),
        lambda: preflight.api_size(1, 2**63),
        lambda: preflight.tokens(10**400, 10),
        lambda: preflight.estimate(10**400, 10),
        lambda: preflight.plan([10**400], [10]),
        lambda: preflight.estimate(10, 10, price_per_mtok="1e40"),
        lambda: preflight.target_size(100, 100, "tokens=²"),
        lambda: preflight.make_options(images_in_request=10**400),
    ],
)
def test_huge_and_odd_numbers_are_usage_errors_in_python(call: object) -> None:
    with pytest.raises(preflight.UsageError):
        call()  # type: ignore[operator]
