from __future__ import annotations

import json
import subprocess
import sys

import pytest

from preflight.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_guide_table_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "estimate",
        "200x200",
        "1000x1000",
        "1092x1092",
        "1920x1080",
        "--model",
        "claude-sonnet-4-6",
        "--token-rule",
        "guide",
    )
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["size", "processed", "resized", "tokens", "cost/image", "cost/1000"]
    assert lines[1].split() == ["200x200", "200x200", "no", "54", "$0.00016", "$0.16"]
    assert lines[2].split() == ["1000x1000", "1000x1000", "no", "1334", "$0.004", "$4.00"]
    assert lines[3].split() == ["1092x1092", "1092x1092", "no", "1590", "$0.0048", "$4.77"]
    assert lines[4].split() == ["1920x1080", "1456x819", "yes", "1590", "$0.0048", "$4.77"]
    assert lines[5].startswith("total: 4 images (0 rejected), 4568 tokens")
    assert "exact $0.013704" in lines[5]


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        "1920x1080",
        "--format",
        "json",
        "--model",
        "opus-4.7",
        "--rule",
        "patches",
    )
    assert code == 0
    (row,) = json.loads(out)["results"]
    assert row["processed_width"] == 1920
    assert row["processed_height"] == 1080
    assert row["resized"] is False
    assert row["tokens"] == 2691
    assert row["cost_usd"] == "0.013455"


def test_rejected_size_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "9000x100", "100x100")
    assert code == 1
    assert "REJECTED" in out
    assert "At least one of the image dimensions exceed max allowed size: 8000 pixels" in out
    code, out, _ = run(capsys, "estimate", "3000x100", "--images-per-request", "21")
    assert code == 1
    assert "many-image requests: 2000 pixels" in out


@pytest.mark.slow  # a process per case
@pytest.mark.parametrize(
    "argv",
    [
        ["estimate", "12x"],
        ["estimate", "0x5"],
        ["estimate", "axb"],
        ["estimate", "10x10", "--model", "gpt-4"],
        ["estimate", "10x10", "--surface", "mars"],
        ["estimate", "10x10", "--price", "abc"],
        ["estimate", "10x10", "--images-per-request", "0"],
        ["estimate", "10x10", "--rule", "pixels"],
        ["estimate"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_custom_price_and_batch(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        "1000x1000",
        "--model",
        "mine",
        "--price",
        "2",
        "--batch",
        "--format",
        "json",
    )
    assert code == 0
    (row,) = json.loads(out)["results"]
    assert row["cost_usd"] == "0.001296"  # 36 x 36 = 1296 patch tokens x $2/M x 50%
    assert row["model"] == "mine"
    assert row["batch"] is True
