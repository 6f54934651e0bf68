from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES
from PIL import Image

from preflight.cli import main


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_prepare_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(FIXTURES)
    out = tmp_path / "out"
    code = main(
        [
            "prepare",
            str(FIXTURES / "samples"),
            str(FIXTURES / "hostile"),
            "--out",
            str(out),
            "--model",
            "claude-sonnet-4-5",
        ]
    )
    text = capsys.readouterr().out
    assert code == 1  # hostile inputs cannot be prepared
    assert digest(FIXTURES) == before  # inputs untouched
    manifest = json.loads((out / "preflight-manifest.json").read_text())
    by_source = {Path(e["source"]).name: e for e in manifest}
    wide = by_source["wide-2400x600.jpg"]
    assert (wide["width"], wide["height"]) == (1568, 392)
    assert wide["tokens_before"] == wide["tokens_after"]
    assert Path(wide["output"]) == out / "wide-2400x600.jpg"
    assert by_source["empty.png"]["status"] == "error"
    assert by_source["empty.png"]["error"]["code"] == "empty"
    # the extension follows the content: a PNG named .jpg comes out as .png
    assert Path(by_source["png-named.jpg"]["output"]).name == "png-named.png"
    assert by_source["orientation-6.jpg"]["width"] == 40
    for entry in manifest:
        if entry["status"] == "ok":
            written = Path(entry["output"])
            assert written.exists()
            with Image.open(written) as image:
                assert image.size == (entry["width"], entry["height"])
    assert "failed; bytes" in text.splitlines()[-1]


def test_prepare_json_and_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(FIXTURES / "samples" / "wide-2400x600.jpg", source / "wide.jpg")
    code = main(
        [
            "prepare",
            str(source),
            "--out",
            str(tmp_path / "o"),
            "--target",
            "tokens=200",
            "--image-format",
            "webp",
            "--format",
            "json",
            "--engine",
            "pillow",
        ]
    )
    assert code == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["media_type"] == "image/webp"
    assert entry["tokens_after"] <= 200
    assert entry["output"].endswith("wide.webp")


def test_prepare_refuses_to_overwrite_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "photo.jpg"
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", path)
    data = path.read_bytes()
    code = main(["prepare", str(path), "--out", str(tmp_path)])
    assert code == 1
    assert "refusing to overwrite" in capsys.readouterr().out
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    "argv",
    [
        ["prepare", "x.jpg"],
        ["prepare", "x.jpg", "--out", "o", "--target", "huge"],
        ["prepare", "x.jpg", "--out", "o", "--quality", "0"],
        ["prepare", "x.jpg", "--out", "o", "--engine", "magick"],
        ["prepare", "x.jpg", "--out", "o", "--model", "nope"],
    ],
)
def test_bad_usage(argv: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_prepare_never_writes_over_another_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (200, 3000, 3), dtype=np.uint8), "RGB")
    noisy.save(tmp_path / "a.png")  # too wide: becomes a.jpg ...
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", tmp_path / "a.jpg")  # ... an input
    before = digest(tmp_path)
    code = main(["prepare", str(tmp_path), "--out", str(tmp_path), "--format", "json"])
    assert code == 1
    entries = {Path(e["source"]).name: e for e in json.loads(capsys.readouterr().out)}
    assert "another input" in entries["a.png"]["error"]["message"]
    assert "the source image" in entries["a.jpg"]["error"]["message"]
    after = digest(tmp_path)
    del after["preflight-manifest.json"]
    assert after == before


def test_prepare_skips_its_own_output_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "samples" / "wide-2400x600.jpg", tmp_path / "wide.jpg")
    out = tmp_path / "out"
    for _ in range(2):  # the second run must not pick up the first run's outputs
        assert main(["prepare", str(tmp_path), "--out", str(out), "--format", "json"]) == 0
        entries = json.loads(capsys.readouterr().out)
        assert [Path(e["source"]).name for e in entries] == ["wide.jpg"]
