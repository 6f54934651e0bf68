# The batch engine keeps what earlier runs made: an interrupted re-run still
# lists every complete output, a new input never claims an earlier output's
# name, nothing is written through a symbolic link out of the output folder,
# and naming the default engine does not redo a resumed run. Each of these
# failed on 0.2.

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from preflight._core.options import make_options
from preflight._core.settings import PrepareSettings
from preflight._imaging.engines import get_engine
from preflight._runs.batch import MANIFEST_NAME, Made, PrepareBatch, make, prepare_jobs
from preflight.cli import main

OPTIONS = make_options(model="claude-haiku-4-5")
SETTINGS = PrepareSettings()


def photo(path: Path, width: int = 300, height: int = 200, shade: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 120, 200)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def entries(out: Path) -> dict[str, dict[str, object]]:
    return {str(e["source"]): e for e in lines(out) if "source" in e}


def run(paths: list[str], out: Path, *, settings: PrepareSettings = SETTINGS) -> PrepareBatch:
    batch = PrepareBatch(prepare_jobs(paths, out=out), out, OPTIONS, settings)
    made = (make(job.source, OPTIONS, settings) for job in batch.fresh)
    for _ in batch.run(made):
        pass
    return batch


def test_an_interrupted_rerun_still_lists_every_earlier_output(tmp_path: Path) -> None:
    a, b = photo(tmp_path / "in" / "a.png"), photo(tmp_path / "in" / "b.png", shade=10)
    c = photo(tmp_path / "in" / "c.png", shade=200)
    out = tmp_path / "out"
    run([str(a), str(b)], out)
    # c comes first and the run is interrupted while c is being made.
    batch = PrepareBatch(prepare_jobs([str(c), str(a), str(b)], out=out), out, OPTIONS, SETTINGS)
    assert [job.source for job in batch.fresh] == [str(c)]

    def interrupted() -> Iterator[Made | BaseException]:
        raise KeyboardInterrupt
        yield  # a generator

    with pytest.raises(KeyboardInterrupt):
        for _ in batch.run(interrupted()):
            pass
    listed = entries(out)
    assert set(listed) == {str(a), str(b)}  # 0.2 listed nothing: the manifest began again
    assert all(entry["status"] == "ok" for entry in listed.values())
    # ... so the next run redoes only c.
    again = PrepareBatch(prepare_jobs([str(c), str(a), str(b)], out=out), out, OPTIONS, SETTINGS)
    assert [job.source for job in again.fresh] == [str(c)]


def test_a_new_input_never_claims_an_earlier_output(tmp_path: Path) -> None:
    first = photo(tmp_path / "one" / "x.png", shade=10)
    second = photo(tmp_path / "two" / "x.png", shade=240)  # another image, the same name
    out = tmp_path / "out"
    run([str(first)], out)
    (earlier,) = entries(out).values()
    kept = Path(str(earlier["output"])).read_bytes()
    run([str(second)], out)
    listed = entries(out)
    assert Path(str(listed[str(first)]["output"])).read_bytes() == kept  # not overwritten
    assert listed[str(second)]["output"] != listed[str(first)]["output"]
    outputs = [e["output"] for e in listed.values()]
    assert len(outputs) == len(set(outputs))  # one source per file


def test_a_symlinked_folder_inside_out_is_not_followed_outside(tmp_path: Path) -> None:
    source = tmp_path / "in"
    photo(source / "sub" / "p.png")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "sub")
    code = main(["prepare", str(source), "--out", str(out), "--no-progress", "-q"])
    assert code == 1
    assert list(elsewhere.iterdir()) == []
    (entry,) = entries(out).values()
    assert entry["status"] == "error"
    assert "points outside" in str(entry["error"])


def test_a_symlinked_manifest_is_replaced_not_written_through(tmp_path: Path) -> None:
    a = photo(tmp_path / "in" / "a.png")
    other = tmp_path / "other"
    run([str(a)], other)  # a real manifest elsewhere
    victim = other / MANIFEST_NAME
    before = victim.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / MANIFEST_NAME)
    run([str(a)], out)
    assert victim.read_bytes() == before
    assert not (out / MANIFEST_NAME).is_symlink()
    assert str(a) in entries(out)


def test_naming_the_default_engine_keeps_a_resumed_run(tmp_path: Path) -> None:
    a = photo(tmp_path / "in" / "a.png", 3000, 2000)
    out = tmp_path / "out"
    run([str(a)], out)
    named = PrepareSettings(engine=get_engine(None).name)
    batch = PrepareBatch(prepare_jobs([str(a)], out=out), out, OPTIONS, named)
    assert batch.fresh == []  # 0.2 redid everything
