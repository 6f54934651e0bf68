# The command line at scale: --jobs gives the same output for any N,
# prepare resumes what an earlier run did, estimate --from prices a file of
# sizes, and --scheduler runs on a Dask cluster with the same answers.

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import FIXTURES
from PIL import Image

import preflight
from preflight._core.budgets import MAX_URLS_IN_FLIGHT
from preflight.cli import main

SOURCES = [str(FIXTURES / "samples"), str(FIXTURES / "hostile")]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--format", "json", "--no-progress"])
    return code, json.loads(capsys.readouterr().out)


def test_check_output_is_the_same_for_any_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    one = run_json(capsys, "check", *SOURCES, "--jobs", "1")
    two = run_json(capsys, "check", *SOURCES, "--jobs", "2")
    assert one == two
    assert one[1]["summary"]["files"] > 50


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(6):
        pixels = rng.integers(0, 256, (300, 2400 + 100 * index, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{index}.png")
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", folder / "small.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return folder


def manifest(out: Path) -> list[dict[str, Any]]:
    lines = (out / "preflight-manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:-1]]


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix != ".jsonl"}


@pytest.mark.slow
def test_prepare_output_is_the_same_for_any_jobs(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        code = main(["prepare", str(photos), "--out", str(out), "--jobs", jobs, "--no-progress"])
        capsys.readouterr()
        assert code == 1  # broken.png
        entries = [{k: v for k, v in e.items() if k != "output"} for e in manifest(out)]
        runs[jobs] = (entries, outputs(out))
    assert runs["1"] == runs["2"]


@pytest.mark.slow  # five runs over the folder of photos
def test_prepare_resumes_what_an_earlier_run_did(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["prepare", str(photos), "--out", str(out), "--no-progress"]
    main(argv)
    capsys.readouterr()
    first = manifest(out)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix != ".jsonl"}
    # A second run: everything that was done is kept, untouched.
    main(argv)
    text = capsys.readouterr().out
    again = manifest(out)
    done = [e for e in again if e.get("resumed")]
    assert len(done) == sum(e["status"] == "ok" for e in first) == 7
    assert "7 done by an earlier run" in text.splitlines()[-1]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix != ".jsonl"} == stamps
    # One source changes: only it is done again.
    changed = photos / "p2.png"
    Image.new("RGB", (2600, 300), "red").save(changed)
    main(argv)
    capsys.readouterr()
    redone = [e for e in manifest(out) if e["status"] == "ok" and not e.get("resumed")]
    assert [Path(e["source"]).name for e in redone] == ["p2.png"]
    # Other options, or --force: everything again.
    main([*argv, "--model", "claude-sonnet-4-6"])
    capsys.readouterr()
    assert not any(e.get("resumed") for e in manifest(out))
    main([*argv, "--model", "claude-sonnet-4-6", "--force"])
    capsys.readouterr()
    assert not any(e.get("resumed") for e in manifest(out))


def test_estimate_from_a_file_of_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    widths, heights = rng.integers(1, 9000, 5000), rng.integers(1, 9000, 5000)
    counts = rng.integers(0, 50, 5000)
    sizes = tmp_path / "sizes.csv"
    rows = "\n".join(f"{w},{h},{c}" for w, h, c in zip(widths, heights, counts, strict=True))
    sizes.write_text("width,height,count\n" + rows + "\n")
    code, found = run_json(
        capsys, "estimate", "--from", str(sizes), "--model", "haiku-4.5", "--model", "opus-4.7"
    )
    for row, model in zip(found["results"], ("claude-haiku-4-5", "claude-opus-4-7"), strict=True):
        expected = preflight.plan(widths, heights, counts, model=model)
        assert row["model"] == model
        assert row["tokens"] == expected.total_tokens
        assert Decimal(row["cost_usd"]) == expected.total_cost_usd
        assert row["images_rejected"] == expected.images_rejected
    assert code == (1 if any(r["images_rejected"] for r in found["results"]) else 0)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(sizes.read_bytes())))
    assert (
        run_json(capsys, "estimate", "--from", "-", "--model", "haiku-4.5")[1]["results"][0][
            "tokens"
        ]
        == found["results"][0]["tokens"]
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("width,height\n100,100\n-5,10\n")
    assert main(["estimate", "--from", str(bad)]) == 1
    assert "line 3" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    root = str(Path(preflight.__file__).resolve().parent.parent)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, before]))
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    try:
        yield str(local.scheduler_address)
    finally:
        local.close()
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


@pytest.mark.slow
def test_scheduler_gives_the_same_answers(
    cluster: str, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_json(capsys, "check", *SOURCES, "--scheduler", cluster) == run_json(
        capsys, "check", *SOURCES, "--jobs", "1"
    )
    local, remote = tmp_path / "local", tmp_path / "remote"
    main(["prepare", str(photos), "--out", str(local), "--jobs", "1", "--no-progress"])
    main(["prepare", str(photos), "--out", str(remote), "--scheduler", cluster, "--no-progress"])
    capsys.readouterr()
    assert outputs(local) == outputs(remote)


# --- URLs: read on threads, a bounded number in flight; bytes fetched -------------


class CountingServer(ThreadingHTTPServer):
    """Serves `files` by range; counts the body bytes sent and the most
    requests it was answering at once."""

    daemon_threads = True
    request_queue_size = 64  # the default 5 drops connections sent together

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _CountingHandler)
        self.files = files
        self.lock = threading.Lock()
        self.sent = 0
        self.now = 0
        self.most = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CountingHandler(BaseHTTPRequestHandler):
    server: CountingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.now += 1
            self.server.most = max(self.server.most, self.server.now)
        time.sleep(0.02)  # a server a little away: requests overlap when sent together
        data = self.server.files[self.path.lstrip("/")]
        first, _, last = self.headers["Range"].removeprefix("bytes=").partition("-")
        start, end = int(first), min(len(data), int(last) + 1)
        body = data[start:end]
        self.send_response(206)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        # Counted before the body goes: the client cannot send its next
        # request before it has it, so `now` never exceeds what it has open.
        with self.server.lock:
            self.server.sent += len(body)
            self.server.now -= 1
        self.wfile.write(body)


@pytest.fixture
def served() -> Iterator[CountingServer]:
    images = [p for p in sorted((FIXTURES / "samples").iterdir()) if p.suffix in (".png", ".jpg")]
    files = {f"{n:03d}-{p.name}": p.read_bytes() for n in range(4) for p in images}
    server = CountingServer(files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.slow  # a deliberately distant server, over and over
@pytest.mark.parametrize("jobs", [[], ["--jobs", "1"], ["--jobs", "2"]])
def test_urls_are_read_concurrently_whatever_jobs_says(
    served: CountingServer, jobs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [f"{served.base}/{name}" for name in sorted(served.files)]
    assert len(urls) > 2 * MAX_URLS_IN_FLIGHT
    _, data = run_json(capsys, "check", *urls, *jobs, "--isolated")
    assert [r["path"] for r in data["results"]] == urls  # in input order
    assert 1 < served.most <= MAX_URLS_IN_FLIGHT
    # Every byte the server sent is counted, and nothing else.
    assert data["summary"]["fetched_bytes"] == served.sent > 0


def test_bytes_fetched_are_in_the_text_summary(
    served: CountingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [f"{served.base}/{name}" for name in sorted(served.files)[:3]]
    main(["check", *urls, "--isolated", "--no-progress"])
    summary = capsys.readouterr().out.splitlines()[-1]
    assert f"; {served.sent:,} bytes fetched" in summary
    main(["check", str(FIXTURES / "samples" / "rgb.png"), "--isolated"])
    assert "fetched" not in capsys.readouterr().out  # local files: nothing to say


def test_object_storage_reads_are_counted_too() -> None:
    fsspec = pytest.importorskip("fsspec")
    data = (FIXTURES / "samples" / "photo-800x600.jpg").read_bytes()
    with fsspec.open("memory://fetched/photo.jpg", "wb") as out:
        out.write(data)
    report = preflight.inspect("memory://fetched/photo.jpg")
    assert 0 < report.fetched_bytes <= len(data)
    # How it was read is not what it is: equal to the report without the count.
    assert report == dataclasses.replace(report, fetched_bytes=0)


# --- a cluster that is not there fails fast ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow  # a process per case, each starting a Dask client
@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("localhost", "did you mean tcp://localhost:8786?"),
        (f"tcp://127.0.0.1:{_free_port()}", "cannot reach a Dask scheduler"),
        ("http://127.0.0.1:8786", "not a scheduler address"),
    ],
    # Fixed names: the free port differs between collections, and
    # pytest-xdist's workers must collect the same test ids.
    ids=["no-scheme", "nothing-listening", "http"],
)
def test_an_unreachable_scheduler_is_one_line_and_exit_2(address: str, said: str) -> None:
    """In a process of its own: a Client whose start failed used to hold
    the exit for a minute and print a traceback."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    sample = str(FIXTURES / "samples" / "rgb.png")
    done = subprocess.run(
        [sys.executable, "-m", "preflight", "check", sample, "--scheduler", address, "--isolated"],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard, not a measure
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
    assert done.stderr.startswith(f"preflight check: error: {address}: ")
