# inspect() and `preflight check` on real files made here with Pillow.

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

import preflight
from preflight.cli import main

# The vision guide's examples price at $3/MTok on the standard tier: Sonnet 4.5.
GUIDE_MODEL = "claude-sonnet-4-5"


def save(path: Path, size: tuple[int, int], fmt: str, mode: str = "RGB", **params: object) -> Path:
    Image.new(mode, size, "red" if mode != "L" else 128).save(path, fmt, **params)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    save(tmp_path / "ok.jpg", (800, 600), "JPEG")
    save(tmp_path / "big.png", (4000, 3000), "PNG")
    save(tmp_path / "lying.png", (300, 300), "JPEG")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    sub = tmp_path / "sub"
    sub.mkdir()
    save(sub / "tiny.gif", (50, 40), "GIF", mode="P")
    data = (tmp_path / "ok.jpg").read_bytes()
    (sub / "cut.jpg").write_bytes(data[:300])
    return tmp_path


def test_inspect_clean_file(tree: Path) -> None:
    report = preflight.inspect(tree / "ok.jpg", model=GUIDE_MODEL)
    assert report.findings == ()
    assert report.info is not None
    assert report.info.format == "jpeg"
    assert report.estimate is not None
    assert report.estimate.tokens == 638  # 29 x 22 patches
    assert not report.rejected


def test_inspect_never_raises_for_bad_files(tree: Path) -> None:
    cases = {
        tree / "empty.jpg": "empty",
        tree / "sub" / "cut.jpg": "truncated",
        tree / "notes.txt": "not-an-image",
        tree / "missing.png": "unreadable",
        tree / "sub": "unreadable",
    }
    for path, code in cases.items():
        report = preflight.inspect(path, model=GUIDE_MODEL)
        assert [f.code for f in report.findings] == [code], path
        assert report.rejected
        assert report.info is None


def test_inspect_bytes_and_file_objects(tree: Path) -> None:
    data = (tree / "ok.jpg").read_bytes()
    from_bytes, from_path = (
        preflight.inspect(data, model=GUIDE_MODEL),
        preflight.inspect(tree / "ok.jpg", model=GUIDE_MODEL),
    )
    assert from_bytes.info is not None
    assert from_path.info is not None
    assert (from_bytes.info.width, from_bytes.info.height) == (800, 600)
    assert from_bytes.info.file_bytes == from_path.info.file_bytes == len(data)
    assert from_bytes.path is None
    with open(tree / "lying.png", "rb") as handle:
        report = preflight.inspect(handle, model=GUIDE_MODEL)
    assert [f.code for f in report.findings] == ["media-type-mismatch"]
    report = preflight.inspect(b"garbage", model=GUIDE_MODEL)
    assert [f.code for f in report.findings] == ["not-an-image"]


def test_inspect_findings(tree: Path) -> None:
    big = preflight.inspect(tree / "big.png", model=GUIDE_MODEL)
    assert [f.code for f in big.findings] == ["will-resize"]
    assert big.estimate is not None
    assert (big.estimate.processed_width, big.estimate.processed_height) == (1270, 952)
    lying = preflight.inspect(tree / "lying.png", model=GUIDE_MODEL)
    assert lying.findings[0].message.startswith(
        "The image was specified using the image/png media type"
    )
    many = preflight.inspect(tree / "big.png", images_in_request=21, model=GUIDE_MODEL)
    assert "over-many-images-side" in [f.code for f in many.findings]


def test_inspect_bad_arguments_still_raise(tree: Path) -> None:
    with pytest.raises(preflight.UnknownNameError):
        preflight.inspect(tree / "ok.jpg", model="gpt-4")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_cli_check_text(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(tree), "--model", GUIDE_MODEL)
    assert code == 1
    lines = out.splitlines()
    # Problems only by default (as ruff); -v shows clean files too.
    assert not any("ok.jpg" in line for line in lines)
    code, verbose = run(capsys, "check", str(tree), "--model", GUIDE_MODEL, "-v")
    assert f"{tree / 'ok.jpg'}: ok (JPEG 800x600, 638 tokens, $0.0019)" in verbose.splitlines()
    assert any(line.startswith(f"{tree / 'big.png'}: will-resize ") for line in lines)
    assert any(line.startswith(f"{tree / 'empty.jpg'}: empty ") for line in lines)
    assert not any("notes.txt" in line for line in lines)  # not image-like
    assert lines[-1].startswith("6 files: 3 would be rejected, 2 accepted with warnings, 1 clean")


def test_cli_check_all_json(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(tree), "--all", "--format", "json")
    assert code == 1
    rows = json.loads(out)["results"]
    by_name = {os.path.basename(r["path"]): r for r in rows}
    assert set(by_name) == {
        "ok.jpg",
        "big.png",
        "lying.png",
        "empty.jpg",
        "notes.txt",
        "tiny.gif",
        "cut.jpg",
    }
    assert by_name["ok.jpg"]["findings"] == []
    assert by_name["ok.jpg"]["format"] == "jpeg"
    assert (by_name["big.png"]["width"], by_name["big.png"]["height"]) == (4000, 3000)
    assert by_name["notes.txt"]["findings"][0]["code"] == "not-an-image"
    for row in rows:
        for finding in row["findings"]:
            assert set(finding) >= {"code", "severity", "message"}


def test_cli_check_exit_codes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", str(tree / "ok.jpg"))[0] == 0
    assert run(capsys, "check", str(tree / "big.png"))[0] == 0  # a warning is not a rejection
    assert run(capsys, "check", str(tree / "big.png"), "--strict")[0] == 1
    assert run(capsys, "check", str(tree / "empty.jpg"))[0] == 1


@pytest.mark.slow  # three processes
def test_cli_check_bad_usage() -> None:
    # `check` alone checks "." (as ruff does), so it is not bad usage.
    bad = (["check", "x", "--format", "yaml"], ["check", "x", "--model", "nope"])
    for argv in (*bad, ["check", "x", "--max-bytes", "-1"]):
        proc = subprocess.run(
            [sys.executable, "-m", "preflight", *argv], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["check", "prepare"])
def test_walks_skip_fifos_and_report_broken_links(
    tree: Path, tmp_path_factory: pytest.TempPathFactory, command: str
) -> None:
    # A FIFO named like an image would block a walk forever (nothing writes
    # to it); a broken link is reported. Run as a subprocess with a timeout,
    # so a regression fails instead of hanging the suite.
    os.mkfifo(tree / "pipe.jpg")
    (tree / "sub" / "loop").symlink_to("..")  # a link loop: not followed
    (tree / "dangling.png").symlink_to(tree / "gone.png")
    argv = [sys.executable, "-m", "preflight", command, str(tree)]
    if command == "prepare":
        argv += ["--out", str(tmp_path_factory.mktemp("out"))]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "pipe.jpg" not in proc.stdout + proc.stderr
    assert f"{tree / 'dangling.png'}: a broken symbolic link (to {tree / 'gone.png'})" in (
        proc.stdout + proc.stderr
    )
    assert "loop" not in proc.stdout


def padded_png(path: Path, extra_bytes: int) -> Path:
    """A valid 300x200 PNG with a private chunk of `extra_bytes` after its
    pixels (decoders skip it; probe never reads it)."""
    data = save(path, (300, 200), "PNG").read_bytes()
    chunk = struct.pack(">I", extra_bytes) + b"prVt" + bytes(extra_bytes)
    chunk += struct.pack(">I", zlib.crc32(chunk[4:]))
    path.write_bytes(data[:-12] + chunk + data[-12:])  # before IEND
    return path


def test_request_findings_counts_and_sizes() -> None:
    assert preflight.request_findings([1000] * 100, model=GUIDE_MODEL) == []
    (count,) = preflight.request_findings([1000] * 101, model=GUIDE_MODEL)
    assert count.code == "too-many-images"
    assert preflight.request_findings([1000] * 600, model="claude-sonnet-5-5") == []
    (size,) = preflight.request_findings([9 * 1_048_576] * 4, surface="api")
    assert size.code == "request-too-large" and size.severity == "error"
    assert "Request exceeds the maximum size" in size.message
    assert preflight.request_findings([8 * 1_048_576] * 4, surface="api") == []  # 32 MB
    # Bedrock's payload limit is 20 MB (AWS documentation).
    (bedrock,) = preflight.request_findings([4 * 1_048_576] * 6, surface="bedrock")
    assert bedrock.code == "request-too-large"
    # Message Batches take 256 MB on the Claude API.
    assert preflight.request_findings([9 * 1_048_576] * 4, batch=True) == []


def test_cli_one_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 21 images in one request: over 20, so the 2000 px side limit applies.
    for index in range(20):
        save(tmp_path / f"small-{index:02d}.png", (300, 200), "PNG")
    save(tmp_path / "wide.png", (2400, 600), "PNG")
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 0  # one image a request by default
    code, out = run(capsys, "check", str(tmp_path), "--one-request")
    assert code == 1
    assert f"{tmp_path / 'wide.png'}: over-many-images-side " in out
    # Four images of 7 MB: each within api-direct's 10 MB of base64, together
    # over the 32 MB request body.
    big = tmp_path / "big"
    big.mkdir()
    for index in range(4):
        padded_png(big / f"{index}.png", 7 * 1_048_576)
    code, out = run(capsys, "check", str(big), "--surface", "api-direct")
    assert code == 0
    code, out = run(capsys, "check", str(big), "--surface", "api-direct", "--one-request")
    assert code == 1
    assert out.count(": request-too-large Request exceeds the maximum size") == 4
