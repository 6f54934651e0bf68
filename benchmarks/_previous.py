"""Import an earlier commit's preflight under another name, to time the
current code against it in the same run (machines here are noisy: only
ratios measured side by side mean anything).

    old = previous("HEAD~3")   # the package as it was, named preflight_at_<rev>
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def previous(rev: str) -> ModuleType:
    name = "preflight_at_" + re.sub(r"\W", "_", rev)
    if name in sys.modules:
        return sys.modules[name]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "preflight"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="preflight-previous-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "preflight").rename(folder / name)
    for path in (folder / name).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\bpreflight\.", name + ".", text)
        text = re.sub(r"(from|import) preflight\b", rf"\1 {name}", text)
        path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)
