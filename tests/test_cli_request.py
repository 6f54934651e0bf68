# `preflight request` and `preflight pack`, run through main() as a user
# would: exit codes, the API's messages in the text output, the fixed body,
# stdin, and one JSON body per packed request.

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

import preflight
from preflight.cli import main

MANY = (
    "messages.0.content.20.image.source.base64.data: At least one of the image dimensions "
    "exceed max allowed size for many-image requests: 2000 pixels"
)


def png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 90)).save(out, "PNG")
    return out.getvalue()


def request_body(model: str = "claude-haiku-4-5") -> dict[str, Any]:
    blocks = [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(png(2500 if i == 20 else 64, 64)).decode(),
            },
        }
        for i in range(21)
    ]
    return {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": blocks}]}


def test_request_rejected_then_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "body.json"
    source.write_text(json.dumps(request_body()))
    assert main(["request", str(source)]) == 1
    out = capsys.readouterr().out
    assert f"{source}: over-many-images-side {MANY}" in out
    assert "REJECTED: claude-haiku-4-5" in out
    fixed = tmp_path / "fixed.json"
    assert main(["request", str(source), "--fix", str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "messages.0.content.20.image: fixed (rejected: over-many-images-side)" in out
    assert not preflight.check_request(fixed.read_bytes()).rejected
    assert main(["request", str(fixed), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema_version"] == 1
    assert report["results"][0]["rejected"] is False
    # The CI formats too: a GitHub annotation on the body file.
    assert main(["request", str(source), "--format", "github"]) == 1
    assert f"::error file={source},title=preflight over-many-images-side::" in (
        capsys.readouterr().out
    )


def test_request_reads_stdin_and_the_model_flag_wins(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    many = request_body()
    many["messages"][0]["content"] = many["messages"][0]["content"][:1] * 101
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(many).encode())))
    assert main(["request", "-"]) == 1
    assert "too many images and documents: 101 + 0 > 100" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(many).encode())))
    assert main(["request", "-", "--model", "claude-sonnet-4-6"]) == 0


def test_request_on_a_missing_file_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", "/nonexistent/body.json"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_pack_writes_one_body_per_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(25):
        (folder / f"{i:02d}.png").write_bytes(png(2600 if i % 5 == 0 else 80, 60 + i))
    out = tmp_path / "out"
    code = main(
        ["pack", str(folder), "--prompt", "Which differ?", "--out", str(out), "--prefer", "detail",
         "--model", "claude-opus-4-7"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert text.startswith("plan: full size, as asked (prefer='detail')")
    files = sorted(out.glob("request-*.json"))
    assert [f.name for f in files] == ["request-001.json", "request-002.json"]
    bodies = [json.loads(f.read_text()) for f in files]
    assert [len(b["messages"][0]["content"]) for b in bodies] == [41, 11]
    assert bodies[0]["messages"][0]["content"][-1] == {"type": "text", "text": "Which differ?"}
    assert all(not preflight.check_request(b).rejected for b in bodies)
