from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


# --- estimate --from: a cost plan of a file of sizes ----------------------------

SIZES = "width,height,count\n4032,3024,600\n1920,1080,300\n800,600,100\n9000,100,5\n"


@pytest.fixture
def sizes_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sizes.csv"
    path.write_text(SIZES)
    return path


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code, out, err = run(capsys, "estimate", *argv, "--format", "json")
    assert err == ""
    return code, json.loads(out)


def test_plan_text_has_a_histogram_per_model(
    capsys: pytest.CaptureFixture[str], sizes_csv: Path
) -> None:
    code, out, _ = run(
        capsys, "estimate", "--from", str(sizes_csv), "--model", "haiku-4.5", "--model", "opus-4.7"
    )
    assert code == 1  # 9000x100 is over 8000 px: rejected
    lines = out.splitlines()
    assert lines[0] == f"{sizes_csv}: 4 sizes, 1,005 images"
    headings = [line for line in lines if line.startswith("tokens per image on")]
    assert [h.split()[4] for h in headings] == ["claude-haiku-4-5", "claude-opus-4-7"]
    # Four distinct sizes: a bucket for the rejected images and one per value.
    opus = lines[lines.index(headings[1]) + 1 :]
    assert opus[0].split()[:3] == ["rejected", "5", "images"]
    assert len(opus) == 4


def test_plan_quiet_and_silent(capsys: pytest.CaptureFixture[str], sizes_csv: Path) -> None:
    code, out, _ = run(capsys, "estimate", "--from", str(sizes_csv), "-q", "--exit-zero")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3  # what was read, the table's header and its one model
    assert not any("tokens per image" in line for line in lines)
    code, out, _ = run(capsys, "estimate", "--from", str(sizes_csv), "-s")
    assert (code, out) == (1, "")


def test_plan_json_is_the_reporters_layout(
    capsys: pytest.CaptureFixture[str], sizes_csv: Path
) -> None:
    code, found = plan_json(
        capsys, "--from", str(sizes_csv), "--model", "claude-sonnet-4-6", "--model", "opus-4.7"
    )
    assert code == 1
    assert list(found) == [
        "schema_version",
        "tool",
        "command",
        "options",
        "source",
        "target",
        "results",
        "summary",
    ]
    assert found["schema_version"] == 2
    assert found["command"] == "estimate"
    assert found["options"]["model"] == "claude-sonnet-4-6"
    sonnet, opus = found["results"]
    assert sonnet["model"] == "claude-sonnet-4-6"
    assert opus["model"] == "claude-opus-4-7"
    assert sonnet["images"] == 1005
    assert sonnet["images_rejected"] == 5
    assert isinstance(sonnet["tokens"], int)
    assert isinstance(sonnet["cost_usd"], str)
    assert sum(b["images"] for b in sonnet["histogram"]) == 1005
    assert sum(b["tokens"] for b in sonnet["histogram"]) == sonnet["tokens"]
    rejected = sonnet["histogram"][0]
    assert rejected["rejected"] is True
    assert (rejected["min_tokens"], rejected["max_tokens"], rejected["tokens"]) == (0, 0, 0)
    assert isinstance(rejected["share_of_images"], float)
    assert found["summary"] == {
        "rows": 4,
        "images": 1005,
        "resized_by_target": 0,
        "models": 2,
        "exit_code": 1,
        "statistics": [],
    }


def test_plan_json_lines(capsys: pytest.CaptureFixture[str], sizes_csv: Path) -> None:
    code, out, _ = run(
        capsys, "estimate", "--from", str(sizes_csv), "--format", "jsonl", "--exit-zero"
    )
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["header", "result", "summary"]
    assert lines[1]["tokens"] > 0
    assert lines[2]["exit_code"] == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--jobs", "2"], "estimate --from does not take --jobs"),
        (["-j", "2"], "estimate --from does not take --jobs"),
        (["-v"], "does not take -v"),
        (["--statistics"], "does not take --statistics"),
        (["--show-fixes"], "does not take --show-fixes"),
        (["--select", "oversized"], "does not take --select"),
        (["--ignore", "ALL"], "does not take --ignore"),
        (["--format", "sarif"], "prints text, json or jsonl, not sarif"),
        (["--format", "github"], "not github"),
        (["--format", "junit"], "not junit"),
    ],
)
def test_plan_refuses_flags_it_cannot_use(
    capsys: pytest.CaptureFixture[str], sizes_csv: Path, argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, "estimate", "--from", str(sizes_csv), *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert words in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--jobs", "2"], "estimate does not take --jobs"),
        (["--scheduler", "tcp://localhost:8786"], "--scheduler: it goes with --from FILE"),
        (["--separator", ";"], "--separator: it goes with --from FILE"),
        (["--columns", "width=w,height=h"], "--columns: it goes with --from FILE"),
    ],
)
def test_sizes_refuse_flags_of_the_plan(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, "estimate", "1920x1080", *argv)
    assert code == 2
    assert out == ""
    assert words in err


def test_no_progress_is_accepted_everywhere(
    capsys: pytest.CaptureFixture[str], sizes_csv: Path
) -> None:
    # estimate draws no progress bar: what --no-progress asks for always holds.
    assert run(capsys, "estimate", "--from", str(sizes_csv), "--no-progress")[0] == 1
    assert run(capsys, "estimate", "100x100", "--no-progress")[0] == 0


@pytest.mark.parametrize(
    ("data", "extra"),
    [
        (b"\xef\xbb\xbfwidth,height,count\r\n1920,1080,3\r\n", []),  # Excel's "CSV UTF-8"
        (b"width;height;count\n1920;1080;3\n", []),
        (b"width\theight\tcount\n1920\t1080\t3\n", []),
        (b"width|height|count\n1920|1080|3\n", ["--separator", "pipe"]),
        (b"W;H;N;file\n1920;1080;3;a.png\n", ["--columns", "width=W,height=H,count=N"]),
        (
            b"Breite,Hoehe,Anzahl\n1920,1080,3\n",
            ["--columns", "count=anzahl,width=breite,height=hoehe"],
        ),
    ],
)
def test_plan_reads_spreadsheet_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, extra: list[str]
) -> None:
    path = tmp_path / "sizes.csv"
    path.write_bytes(data)
    code, found = plan_json(capsys, "--from", str(path), "--model", "claude-sonnet-4-6", *extra)
    assert code == 0
    (model,) = found["results"]
    assert model["images"] == 3
    assert model["tokens"] == 3 * 1560  # 1456x819: 52 x 30 patches


def test_a_missing_column_names_the_columns_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "sizes.csv"
    path.write_bytes(b"\xef\xbb\xbfW;H\n1920;1080\n")
    code, out, err = run(capsys, "estimate", "--from", str(path))
    assert code == 1  # bad data, not bad usage
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "no column 'width' or 'height'; the header has 'w', 'h' (split at each semicolon)" in err
    assert "--columns width=W,height=H" in err


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--columns", "width=W"], 1, "no column 'w'"),  # the file has width, not W
        (["--columns", "depth=D"], 2, "unknown column 'depth'"),
        (["--columns", "width"], 2, "expected width=W,height=H[,count=N]"),
        (["--columns", "width=a,width=b"], 2, "column 'width' named twice"),
        (["--separator", ":"], 2, "expected comma, semicolon, tab or pipe"),
    ],
)
def test_bad_columns_and_separators(
    capsys: pytest.CaptureFixture[str], sizes_csv: Path, argv: list[str], code: int, words: str
) -> None:
    try:
        found = main(["estimate", "--from", str(sizes_csv), *argv])
    except SystemExit as stop:  # argparse's own usage errors
        found = int(str(stop.code))
    err = capsys.readouterr().err
    assert found == code
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_plan_from_parquet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "sizes.parquet"
    pq.write_table(pa.table({"W": [1920, 4032], "H": [1080, 3024], "N": [3, 1]}), path)
    code, found = plan_json(
        capsys,
        "--from",
        str(path),
        "--model",
        "claude-sonnet-4-6",
        "--columns",
        "width=W,height=H,count=N",
    )
    assert code == 0
    assert found["results"][0]["images"] == 4
