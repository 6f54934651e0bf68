from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def read_manifest(out: Path) -> list[dict[str, Any]]:
    """The per-file lines of a manifest, after checking its header and summary."""
    lines = [
        json.loads(line) for line in (out / "preflight-manifest.jsonl").read_text().splitlines()
    ]
    assert lines[0]["preflight_manifest"] == 1
    entries = lines[1:-1]
    summary = lines[-1]["summary"]
    assert summary["files"] == len(entries)
    assert summary["failed"] == sum(e["status"] == "error" for e in entries)
    return entries


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
    manifest = read_manifest(out)
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
    (entry,) = json.loads(capsys.readouterr().out)["results"]
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


@pytest.mark.slow  # a process per case
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
    entries = {Path(e["source"]).name: e for e in json.loads(capsys.readouterr().out)["results"]}
    assert "another input" in entries["a.png"]["error"]["message"]
    assert "the source image" in entries["a.jpg"]["error"]["message"]
    after = digest(tmp_path)
    del after["preflight-manifest.jsonl"]
    assert after == before


def test_prepare_skips_its_own_output_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "samples" / "wide-2400x600.jpg", tmp_path / "wide.jpg")
    out = tmp_path / "out"
    for _ in range(2):  # the second run must not pick up the first run's outputs
        assert main(["prepare", str(tmp_path), "--out", str(out), "--format", "json"]) == 0
        entries = json.loads(capsys.readouterr().out)["results"]
        assert [Path(e["source"]).name for e in entries] == ["wide.jpg"]


# --- hardening: nothing lost, nothing overwritten, no traceback ---------------


def test_same_names_from_different_folders_keep_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", tmp_path / folder / "a.jpg")
    noisy = Image.new("RGB", (3000, 200), "red")
    noisy.save(tmp_path / "d1" / "b.png")  # becomes b.jpg ...
    noisy.save(tmp_path / "d1" / "b.png.jpg")  # ... and so does this one: b.png.jpg
    out = tmp_path / "out"
    code = main(
        [
            "prepare",
            str(tmp_path / "d1" / "a.jpg"),
            str(tmp_path / "d2" / "a.jpg"),
            str(tmp_path / "d1" / "b.png"),
            str(tmp_path / "d1" / "b.png.jpg"),
            "--out",
            str(out),
            "--image-format",
            "jpeg",
        ]
    )
    assert code == 0, capsys.readouterr()
    entries = read_manifest(out)
    outputs = [e["output"] for e in entries]
    assert len(set(outputs)) == 4  # nothing overwritten
    for entry in entries:
        with Image.open(entry["output"]) as image:
            assert image.size == (entry["width"], entry["height"])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(Path(o).name for o in outputs), "preflight-manifest.jsonl"]
    )


def test_manifest_never_overwrites_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "preflight-manifest.jsonl").write_text('{"mine": true}\n')
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", tmp_path / "a.jpg")
    before = digest(tmp_path)
    code = main(["prepare", str(tmp_path), "--out", str(tmp_path), "--all"])
    assert code == 2
    assert "not a preflight manifest" in capsys.readouterr().err
    assert digest(tmp_path) == before


def test_a_pipe_is_read_once(tmp_path: Path) -> None:
    data = (FIXTURES / "samples" / "photo-800x600.jpg").read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "prepare", "/dev/stdin", "--out", str(tmp_path)],
        input=data,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "stdin.jpg").read_bytes() == data


def test_a_fifo_is_read_once_and_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    data = (FIXTURES / "samples" / "photo-800x600.jpg").read_bytes()
    command = [
        sys.executable,
        "-m",
        "preflight",
        "prepare",
        str(fifo),
        "--out",
        str(tmp_path / "o"),
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        fifo.write_bytes(data)  # the writer comes after the reader, as in a shell pipeline
        # A watchdog, not a timing assertion: reading the FIFO a second time
        # used to block forever, the writer being gone.
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (tmp_path / "o" / "pipe.jpg").read_bytes() == data


@pytest.mark.slow
def test_odd_names_and_deep_trees_give_no_traceback(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", root / "new\nline.jpg")
    bad = os.fsencode(root) + b"/caf\xe9.jpg"  # not valid UTF-8
    with open(bad, "wb") as handle:
        handle.write((FIXTURES / "samples" / "photo-800x600.jpg").read_bytes())
    os.symlink("self.jpg", root / "self.jpg")  # a link to itself
    deep = root
    for _ in range(1200):  # deeper than the interpreter's recursion limit
        deep = deep / "d"
        deep.mkdir()  # one by one: os.makedirs itself recurses
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", deep / "deep.jpg")
    try:
        _run_odd_names(root, tmp_path)
    finally:
        # Take the deep trees down without recursion (shutil.rmtree recurses
        # too), pass or fail: a tree left behind breaks pytest's own clean-up
        # of old temporary folders in later runs.
        for top in (root, tmp_path / "out"):
            if top.exists():
                remove_tree(top)


def _run_odd_names(root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict", "LC_ALL": "C"}
    for command in ("check", "prepare"):
        # check prints clean files with -v only
        extra = ["--out", str(tmp_path / "out")] if command == "prepare" else ["-v"]
        proc = subprocess.run(
            [sys.executable, "-m", "preflight", command, str(root), *extra],
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            env=env,
            timeout=300,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 1, proc.stderr  # the self-link is unreadable
        lines = proc.stdout.splitlines()
        assert any("new\\nline.jpg" in line for line in lines)  # escaped: one line
        assert not any(line.startswith("line.jpg") for line in lines)
        assert any("caf\\xe9.jpg" in line for line in lines)  # an undecodable byte as \xNN
        assert any("deep.jpg" in line for line in lines)
        assert any("self.jpg" in line and "unreadable" in line for line in lines)


def remove_tree(top: Path) -> None:
    folders, stack = [], [top]
    while stack:
        folder = stack.pop()
        folders.append(folder)
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                stack.append(child)
            else:
                child.unlink()
    for folder in reversed(folders):
        folder.rmdir()
