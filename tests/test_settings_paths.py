# Settings reach every path: each command (check, prepare) with each of its
# settings, run on each path a batch can take (local files in this
# process, the same bytes as memory:// URLs, a pool of two processes with
# --jobs 2, a Dask LocalCluster with --scheduler), gives the plain local
# run's answer: the same findings, the same manifest lines, the same output
# bytes. 0.2 lost --quality on --scheduler and the quality of memory://
# sources; this is the test that would have said so.

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import installed_engines
from PIL import Image, ImageFilter
from test_quality import png, scene

import preflight
from preflight.cli import main

pytestmark = pytest.mark.slow

fsspec = pytest.importorskip("fsspec", reason="the object-storage extra is not installed")

BUCKET = "memory://settings-paths/in"

# Each setting alone, as the command line spells it.
CHECK_SETTINGS = {
    "plain": [],
    "decode": ["--decode"],
    "quality": ["--quality"],
    "both": ["--decode", "--quality"],
}
PREPARE_SETTINGS = {
    "plain": [],
    "target": ["--target", "guide"],
    "effective": ["--target", "effective"],
    "image-format": ["--image-format", "png"],
    "encoder-quality": ["--encoder-quality", "35", "--image-format", "webp"],
    "engine": ["--engine", "pillow"],
    "pixel-cap": ["--pixel-cap", "1100000"],  # long.png (1.19 MP) is over it
    "check-quality": ["--check-quality"],
    "tile": ["--tile", "--overlap", "24", "--tier", "standard"],
}


def _images(folder: Path) -> None:
    """A few small images, each of which some setting changes the answer for."""
    folder.mkdir()
    photo = scene(900, 700)
    (folder / "blurry.png").write_bytes(png(photo.filter(ImageFilter.GaussianBlur(4))))
    small = photo.resize((300, 233), Image.Resampling.LANCZOS)
    (folder / "enlarged.png").write_bytes(png(small.resize((900, 700), Image.Resampling.BICUBIC)))
    # over the high-resolution tier's 2576 px too: resized on every model, so the
    # engine that resizes it shows in the bytes; under the pixel-cap case's 1.1 MP
    photo.resize((2700, 400)).save(folder / "wide.jpg", quality=90)
    (folder / "long.png").write_bytes(png(scene(700, 1700, seed=3)))
    damaged = bytearray(png(scene(200, 150, seed=4)))
    damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = bytes(64)  # bad IDAT data
    (folder / "damaged.png").write_bytes(bytes(damaged))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("settings-paths") / "in"
    _images(folder)
    fs = fsspec.filesystem("memory")
    for path in folder.iterdir():
        fs.pipe(f"{BUCKET}/{path.name}", path.read_bytes())
    yield folder
    fs.rm(BUCKET.removeprefix("memory://"), recursive=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    root = str(Path(preflight.__file__).resolve().parent.parent)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, before]))
    local = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    try:
        yield str(local.scheduler_address)
    finally:
        local.close()
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def _paths(inputs: Path, cluster: str) -> dict[str, tuple[list[str], list[str]]]:
    """path name -> (sources, run flags)."""
    local = [str(inputs)]
    return {
        "memory-url": ([BUCKET], ["--jobs", "1"]),
        "jobs-2": (local, ["--jobs", "2"]),
        "dask": (local, ["--scheduler", cluster]),
    }


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    code = main([*argv, "--format", "json", "--no-progress"])
    return code, json.loads(capsys.readouterr().out)


def _check_view(found: Any) -> dict[str, Any]:
    """Each file's findings and estimate, by name (a URL and a path differ)."""
    return {
        Path(row["path"]).name: {k: v for k, v in row.items() if k != "path"}
        for row in found["results"]
    }


def _placeless(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without what depends on where the files were: the bytes
    fetched over the network (none for local files)."""
    return {k: v for k, v in summary.items() if k != "fetched_bytes"}


def test_check_settings_reach_every_path(
    inputs: Path, cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, flags in CHECK_SETTINGS.items():
        code, plain = _run(capsys, ["check", str(inputs), *flags, "--jobs", "1"])
        expected = _check_view(plain)
        assert len(expected) == 5
        for path, (sources, run) in _paths(inputs, cluster).items():
            got_code, found = _run(capsys, ["check", *sources, *flags, *run])
            assert (got_code, _check_view(found)) == (code, expected), (name, path)
            assert _placeless(found["summary"]) == _placeless(plain["summary"]), (name, path)
    # And the settings changed the answers (each run above could not pass by
    # ignoring them all alike).
    views = {
        name: _check_view(_run(capsys, ["check", str(inputs), *flags, "--jobs", "1"])[1])
        for name, flags in CHECK_SETTINGS.items()
    }
    codes = {
        name: {f["code"] for row in view.values() for f in row["findings"]}
        for name, view in views.items()
    }
    assert "blurry" in codes["quality"] and "blurry" not in codes["plain"]
    assert "undecodable" in codes["decode"] and "undecodable" not in codes["plain"]


def _prepare_view(out: Path) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The manifest lines without where things were (the source's name and
    facts, the output folder) and every output's bytes by name."""
    lines = [
        json.loads(line) for line in (out / "preflight-manifest.jsonl").read_text().splitlines()
    ]
    header, entries, summary = lines[0], lines[1:-1], lines[-1]
    assert "preflight_manifest" in header and "summary" in summary
    placeless = []
    for entry in entries:
        kept = {
            k: v
            for k, v in entry.items()
            if k not in ("source", "output", "source_size", "source_mtime_ns", "source_hash")
        }
        for output in kept.get("outputs", []):
            output["output"] = Path(output["output"]).name
        if "output" in entry:
            kept["output"] = Path(entry["output"]).name
        kept["source"] = Path(entry["source"]).name
        placeless.append(kept)
    written = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix != ".jsonl"}
    return [header["settings"], *placeless, summary], written


def test_prepare_settings_reach_every_path(
    inputs: Path, cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    views = {}
    for name, flags in PREPARE_SETTINGS.items():
        plain_out = tmp_path / name / "plain"
        code, _ = _run(capsys, ["prepare", str(inputs), "--out", str(plain_out), *flags])
        expected = _prepare_view(plain_out)
        views[name] = expected
        for path, (sources, run) in _paths(inputs, cluster).items():
            out = tmp_path / name / path
            got_code, _ = _run(capsys, ["prepare", *sources, "--out", str(out), *flags, *run])
            assert got_code == code, (name, path)
            assert _prepare_view(out) == expected, (name, path)
    # Each setting changed what was written or reported (the header's record
    # of the settings aside), so a path that dropped one was caught above.
    with_vips = "vips" in installed_engines()
    for name in PREPARE_SETTINGS:
        if name != "plain" and (name != "engine" or with_vips):
            assert views[name][0][1:] != views["plain"][0][1:] or (
                views[name][1] != views["plain"][1]
            ), name
    failed = {e["source"]: e["error"]["code"] for e in views["pixel-cap"][0][1:-1] if "error" in e}
    assert failed.get("long.png") == "over-pixel-cap"
