# --respect-gitignore skips what git ignores when walking, but a directory
# named outright is what was asked for, even if git ignores it.

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import FIXTURES

from preflight.cli import main


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_an_ignored_folder_named_outright_is_walked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n")
    build = tmp_path / "build"
    build.mkdir()
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", build / "a.jpg")
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", tmp_path / "b.jpg")
    monkeypatch.chdir(tmp_path)
    main(["check", ".", "--format", "json"])
    results = json.loads(capsys.readouterr().out)["results"]
    walked = {Path(r["path"]).name for r in results}
    assert walked == {"b.jpg"}  # build/ is ignored when walking the tree
    main(["check", "build", "--format", "json"])
    results = json.loads(capsys.readouterr().out)["results"]
    named = {Path(r["path"]).name for r in results}
    assert named == {"a.jpg"}  # but not when it is the folder asked for
