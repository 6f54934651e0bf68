# Resumable prepare: the decider over hand-written manifests.

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from preflight._core.options import make_options
from preflight._runs.resume import decide, file_digest, options_digest, read_manifest, source_fields

SETTINGS = {"target": "api", "image_format": "auto", "quality": None, "pixel_cap": 10**8}


def write_job(tmp_path: Path, *, summary: bool = True, cut: bool = False) -> tuple[Path, Path, str]:
    source = tmp_path / "in" / "a.jpg"
    source.parent.mkdir()
    source.write_bytes(b"\xff\xd8 pretend jpeg " * 10)
    output = tmp_path / "out" / "a.jpg"
    output.parent.mkdir()
    output.write_bytes(b"prepared bytes")
    digest = options_digest(make_options(), SETTINGS)
    lines = [
        {"preflight_manifest": 1, "options": make_options().to_dict(), "options_hash": digest},
        {
            "source": str(source),
            "status": "ok",
            "output": str(output),
            "bytes": output.stat().st_size,
            **source_fields(source),
        },
        {"source": str(tmp_path / "in" / "bad.png"), "status": "error", "error": {"code": "x"}},
    ]
    if summary:
        lines.append({"summary": {"files": 2}})
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if cut:
        text += '{"source": "half a li'
    manifest = tmp_path / "out" / "preflight-manifest.jsonl"
    manifest.write_text(text)
    return source, output, digest


@pytest.mark.parametrize(("summary", "cut"), [(True, False), (False, True)])
def test_an_unchanged_input_is_done(tmp_path: Path, summary: bool, cut: bool) -> None:
    source, _, digest = write_job(tmp_path, summary=summary, cut=cut)
    previous = read_manifest(tmp_path / "out" / "preflight-manifest.jsonl")
    assert previous is not None
    assert previous.finished is summary
    decision = decide(previous, source, digest)
    assert decision.done, decision.reason
    assert decision.source_hash == file_digest(source)
    assert not decide(previous, source, digest, force=True).done


def test_what_makes_an_input_redone(tmp_path: Path) -> None:
    source, output, digest = write_job(tmp_path)
    manifest = tmp_path / "out" / "preflight-manifest.jsonl"
    previous = read_manifest(manifest)
    assert decide(previous, source, "blake2b-256:other").reason == "options changed"
    assert decide(previous, tmp_path / "in" / "new.jpg", digest).reason.startswith("not in")
    assert decide(previous, tmp_path / "in" / "bad.png", digest).reason == "failed before"
    assert decide(None, source, digest).reason == "no previous manifest"

    stat = source.stat()
    # Same size and time, other content: only the hash tells.
    source.write_bytes(source.read_bytes().replace(b"pretend", b"PRETEND"))
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert decide(previous, source, digest).reason == "source changed (content)"
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert decide(previous, source, digest).reason == "source changed (size or time)"

    (tmp_path / "again").mkdir()
    source, output, digest = write_job(tmp_path / "again")
    previous = read_manifest(tmp_path / "again" / "out" / "preflight-manifest.jsonl")
    output.write_bytes(b"x")
    assert decide(previous, source, digest).reason == "output changed"
    output.unlink()
    assert decide(previous, source, digest).reason == "output missing"


def test_options_digest_covers_options_and_settings() -> None:
    base = options_digest(make_options(), SETTINGS)
    assert base == options_digest(make_options(), dict(SETTINGS))
    assert base != options_digest(make_options(batch=True), SETTINGS)
    assert base != options_digest(make_options(), {**SETTINGS, "quality": 80})


def test_not_a_manifest(tmp_path: Path) -> None:
    assert read_manifest(tmp_path / "missing.jsonl") is None
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    assert read_manifest(other) is None
    old = tmp_path / "old.jsonl"  # a manifest from before options_hash: nothing is done
    old.write_text('{"preflight_manifest": 1, "options": {}}\n')
    previous = read_manifest(old)
    assert previous is not None
    assert previous.options_hash is None
