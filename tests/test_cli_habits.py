"""ruff's habits on the command line: -o/--output-file on every command that
prints a report (whole or not at all, the exit code unchanged), `.` as
check's default path, --show-settings. (pack_images' reading of its sources:
tests/test_pack_sources.py.)"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from preflight.cli import main

PHOTO = FIXTURES / "samples" / "photo-800x600.jpg"
SMALL = FIXTURES / "samples" / "rgb.png"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder: a clean photo and a PNG named .jpg (rejected)."""
    shutil.copy(PHOTO, tmp_path / "photo.jpg")
    shutil.copy(SMALL, tmp_path / "chart.jpg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def leftovers(where: Path) -> list[str]:
    """Temporary files a write left behind."""
    return [p.name for p in where.iterdir() if ".preflight-" in p.name]


def body_file(where: Path) -> Path:
    data = base64.b64encode(PHOTO.read_bytes()).decode()
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": data},
    }
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [image, {"type": "text", "text": "hi"}]}],
    }
    path = where / "body.json"
    path.write_text(json.dumps(body))
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["check", ".", "--isolated"],
        ["check", ".", "--isolated", "--format", "json"],
        ["estimate", "100x100", "9000x10", "--isolated"],
        ["prepare", "photo.jpg", "--out", "prepared", "--isolated"],
        ["request", "body.json", "--isolated"],
        ["pack", "photo.jpg", "--out", "packed"],
        ["explain", "image exceeds 5 MB maximum: 5649924 bytes > 5242880 bytes"],
        ["rule", "small-side"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_output_file_holds_what_stdout_would(
    argv: list[str], folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body_file(folder)
    code = main(argv)
    printed = capsys.readouterr().out
    for made in ("prepared", "packed"):
        shutil.rmtree(folder / made, ignore_errors=True)
    assert printed  # every one of these prints a report
    report = folder / "reports" / "out.txt"  # its folder is made
    assert main([*argv, "-o", str(report)]) == code
    assert capsys.readouterr().out == ""
    assert report.read_text(encoding="utf-8") == printed
    assert leftovers(report.parent) == []


def test_output_file_with_a_rejection_keeps_exit_1(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--isolated", "--output-file", "report.txt"]) == 1
    assert "chart.jpg: media-type-mismatch " in (folder / "report.txt").read_text()


def test_output_file_is_not_written_when_the_run_fails(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "report.txt").write_text("the last run's report\n")
    assert main(["check", "--isolated", "--select", "nope", "-o", "report.txt"]) == 2
    assert (folder / "report.txt").read_text() == "the last run's report\n"  # untouched
    assert leftovers(folder) == []
    assert "unknown code 'nope'" in capsys.readouterr().err


def test_output_file_that_is_a_folder_is_a_usage_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "out").mkdir()
    assert main(["check", "--isolated", "-o", "out"]) == 2
    assert "--output-file 'out': expected a file name" in capsys.readouterr().err


def test_check_defaults_to_the_current_folder(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--isolated"]) == 1
    default = capsys.readouterr().out
    assert main(["check", ".", "--isolated"]) == 1
    assert default == capsys.readouterr().out
    assert default.splitlines()[-1].startswith("2 files: 1 would be rejected")


def test_prepare_still_asks_for_its_paths(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # It writes files: a default would copy whatever tree it was started in.
    with pytest.raises(SystemExit) as exited:
        main(["prepare", "--out", "o"])
    assert exited.value.code == 2
    assert "PATH" in capsys.readouterr().err


def test_show_settings_names_the_file_and_what_it_resolves(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "pyproject.toml").write_text(
        '[tool.preflight]\nmodel = "claude-haiku-4-5"\nignore = ["small-side"]\n'
    )
    assert main(["check", "--show-settings", "--batch"]) == 0
    text = capsys.readouterr().out
    assert f"settings file: {folder / 'pyproject.toml'}" in text.splitlines()
    assert 'model = "claude-haiku-4-5"' in text.splitlines()  # the file's, and the option
    assert "batch = true" in text.splitlines()  # the flag wins over the default
    assert main(["check", "--show-settings", "--format", "json", "--select", "error"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings_file"] == str(folder / "pyproject.toml")
    assert data["file_settings"] == {"model": "claude-haiku-4-5", "ignore": ["small-side"]}
    assert data["options"]["model"] == "claude-haiku-4-5"
    assert "over-max-side" in data["selected"] and "will-resize" in data["not_selected"]
    assert data["flags"]["paths"] == ["."]
    # It reads no image: a folder of none shows the same.
    assert main(["check", "--show-settings", "--isolated"]) == 0
    assert capsys.readouterr().out.startswith("settings file: none (built-in defaults)\n")


def test_show_settings_for_each_configurable_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["estimate", "--show-settings", "--isolated"],
        ["prepare", "x.jpg", "--out", "o", "--show-settings", "--isolated"],
        ["request", "body.json", "--show-settings", "--isolated", "--format", "json"],
    ):
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert out.count("settings file: none") == 2 and '"settings_file": null' in out
