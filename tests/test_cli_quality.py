# The quality flags on the command line: check --quality, prepare
# --check-quality, --target effective and --tile.

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from preflight.cli import main


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sharp = Image.fromarray(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
    sharp.save(folder / "sharp.png")
    small = Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    small.resize((800, 600), Image.Resampling.BICUBIC).save(folder / "enlarged.png")
    Image.new("RGB", (1200, 6000), "white").save(folder / "long.png")
    return folder


def test_check_quality_reports_the_enlarged_image_only(
    images: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(images / "sharp.png"), str(images / "enlarged.png")]) == 0
    assert "upscaled" not in capsys.readouterr().out  # headers only: no quality findings
    code = main(["check", "--quality", str(images / "sharp.png"), str(images / "enlarged.png")])
    out = capsys.readouterr().out
    assert code == 0  # warnings do not fail the check (--strict would)
    assert f"{images / 'enlarged.png'}: upscaled " in out
    assert f"{images / 'sharp.png'}:" not in out


def test_prepare_effective_and_check_quality(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "prepare",
            str(images / "enlarged.png"),
            "--out",
            str(out),
            "--target",
            "effective",
            "--check-quality",
            "--format",
            "json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    (entry,) = [r.get("data", r) for r in report["results"]]
    assert entry["width"] < 800  # sent at the size that carries its detail
    assert "effective-size" in [a["code"] for a in entry["actions"]]
    assert "upscaled" in [f["code"] for f in entry["findings"]]


def test_prepare_tile_writes_overview_and_tiles_in_order(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiles"
    assert main(["prepare", str(images / "long.png"), "--out", str(out), "--tile"]) == 0
    text = capsys.readouterr().out
    lines = (out / "preflight-manifest.jsonl").read_text().splitlines()
    (entry,) = [json.loads(line) for line in lines[1:-1]]
    outputs = entry["outputs"]
    assert [o["label"] for o in outputs] == [f"Image {n}:" for n in range(1, len(outputs) + 1)]
    assert outputs[0]["role"] == "overview" and len(outputs) >= 3
    for output in outputs:
        with Image.open(output["output"]) as image:
            assert image.size == (output["width"], output["height"])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(Path(o["output"]).name for o in outputs), "preflight-manifest.jsonl"]
    )
    assert "Image 1: overview" in text
