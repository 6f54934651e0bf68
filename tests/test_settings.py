# [tool.preflight] settings (preflight/config), code selection and globs
# (core/selection), and which files a run looks at (cli/paths): found from
# the paths upward, flags win, --config and --isolated, unknown keys and bad
# values exit 2 in one line; exclude, per-file-ignores, .gitignore, paths
# from stdin.

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preflight._core.catalogue import RULES
from preflight._core.selection import Layer, Selection, glob_matches
from preflight._inputs.config import SETTINGS_KEYS, load_models, load_settings
from preflight.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def builtin_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PREFLIGHT_MODELS", raising=False)
    yield
    load_models(None, environment=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project: pyproject.toml (written by each test), images in sub/."""
    sub = tmp_path / "proj" / "sub"
    sub.mkdir(parents=True)
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", sub / "good.jpg")
    shutil.copy(FIXTURES / "hostile" / "bomb-100000x100000.png", sub / "bomb.png")
    shutil.copy(FIXTURES / "samples" / "interlaced.png", sub / "small.png")
    return tmp_path / "proj"


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["check", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def codes_of(data: dict[str, object]) -> dict[str, set[str]]:
    results = data["results"]
    assert isinstance(results, list)
    return {Path(r["path"]).name: {f["code"] for f in r["findings"]} for r in results}


def cli(
    *argv: str, cwd: Path | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *argv],
        input=stdin.decode("latin-1"),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def test_settings_found_from_the_paths_and_flags_win(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.preflight]\nmodel = "claude-opus-4-7"\nrule = "patches"\n'
        'ignore = ["info"]\n'
    )
    code, data = check_json(capsys, str(project / "sub"))
    assert code == 1  # bomb.png
    options = data["options"]
    assert isinstance(options, dict)
    assert (options["model"], options["rule"]) == ("claude-opus-4-7", "patches")
    assert "interlaced" not in codes_of(data)["small.png"]
    _, data = check_json(capsys, str(project / "sub"), "--rule", "guide", "--select", "ALL")
    options = data["options"]
    assert isinstance(options, dict)
    assert (options["model"], options["rule"]) == ("claude-opus-4-7", "guide")
    assert "interlaced" in codes_of(data)["small.png"]


def test_preflight_toml_config_and_isolated(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "preflight.toml").write_text('output-format = "jsonl"\nstrict = true\n')
    assert main(["check", str(project / "sub" / "good.jpg")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert json.loads(first)["type"] == "header"
    # strict from the file: small.png's warning fails; --no-strict wins
    assert main(["check", str(project / "sub" / "small.png"), "-s"]) == 1
    assert main(["check", str(project / "sub" / "small.png"), "-s", "--no-strict"]) == 0
    other = tmp_path / "other.toml"
    other.write_text('[tool.preflight]\nmodel = "nope"\n')  # not a pyproject: top level
    proc = cli("check", str(project / "sub"), "--config", str(other))
    assert proc.returncode == 2
    assert "unknown key 'tool'" in proc.stderr
    (project / "preflight.toml").write_text("mdoel = 1\n")
    assert cli("check", str(project / "sub")).returncode == 2
    proc = cli("check", str(project / "sub" / "good.jpg"), "--isolated")
    assert proc.returncode == 0, proc.stderr
    assert cli("check", ".", "--isolated", "--config", str(other)).returncode == 2


@pytest.mark.slow  # a process per case
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images_per_request = 3", "unknown key 'images_per_request' (did you mean"),
        ("colour = true", "unknown key 'colour'"),
        ('images-per-request = "3"', "images-per-request: must be a whole number"),
        ("strict = 1", "strict: must be true or false"),
        ('model = "gpt-4"', "model: unknown model 'gpt-4'"),
        ('surface = "mars"', "surface: unknown surface"),
        ('output-format = "xml"', "output-format: must be one of"),
        ('ignore = "info"', "ignore: must be a list of strings"),
        ('ignore = ["intrelaced"]', "ignore: unknown code 'intrelaced'"),
        ('per-file-ignores = {"*.png" = ["nope"]}', "per-file-ignores: unknown code 'nope'"),
        ("price = 2.5", 'price: must be a string such as "2.50"'),
        ("[tool.preflight", "not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_exit_2(project: Path, text: str, message: str) -> None:
    body = text if text.startswith("[") else f"[tool.preflight]\n{text}\n"
    (project / "pyproject.toml").write_text(body)
    if text.startswith("["):
        (project / "pyproject.toml").write_text(f"[project]\n{text}\n")
    proc = cli("check", str(project / "sub"))
    assert proc.returncode == 2, proc.stdout
    (line,) = proc.stderr.strip().splitlines()
    assert message in line
    assert "Traceback" not in proc.stderr


def test_exclude_per_file_ignores_and_force_exclude(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.preflight]\nexclude = ["bomb.png"]\n\n'
        '[tool.preflight.per-file-ignores]\n"sub/*.png" = ["small-side", "interlaced"]\n'
    )
    code, data = check_json(capsys, str(project / "sub"))
    assert code == 0
    assert codes_of(data) == {"good.jpg": set(), "small.png": set()}
    # Named outright, an excluded file is still checked, unless --force-exclude.
    code, data = check_json(capsys, str(project / "sub" / "bomb.png"))
    assert code == 1
    code, data = check_json(capsys, str(project / "sub" / "bomb.png"), "--force-exclude")
    assert (code, codes_of(data)) == (0, {})


def test_gitignore_is_respected_inside_a_work_tree(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True, timeout=60)
    (project / ".gitignore").write_text("bomb.png\n")
    code, data = check_json(capsys, str(project / "sub"), "--isolated")
    assert (code, set(codes_of(data))) == (0, {"good.jpg", "small.png"})
    code, data = check_json(capsys, str(project / "sub"), "--isolated", "--no-respect-gitignore")
    assert code == 1 and "bomb.png" in codes_of(data)
    (project / "pyproject.toml").write_text("[tool.preflight]\nrespect-gitignore = false\n")
    code, data = check_json(capsys, str(project / "sub"))
    assert "bomb.png" in codes_of(data)


def test_paths_from_stdin(project: Path) -> None:
    sub = project / "sub"
    proc = cli(
        "check", "-", "--isolated", stdin=f"{sub / 'good.jpg'}\n{sub / 'bomb.png'}\n".encode()
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("2 files: 1 would be rejected")
    odd = sub / "new\nline.jpg"
    shutil.copy(sub / "good.jpg", odd)
    proc = cli(
        "check", "-0", "-", "--isolated", "-v", stdin=f"{odd}\0{sub / 'good.jpg'}\0".encode()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("2 files: 0 would be rejected")
    assert "new\\nline.jpg: ok" in proc.stdout
    proc = cli(
        "prepare", "-", "--out", str(project / "out"), "--isolated",
        stdin=f"{sub / 'good.jpg'}\n".encode(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (project / "out" / "good.jpg").is_file()


def test_docs_example_configuration_loads(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "ci.md").read_text()
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[tool.preflight]" in b]
    path = tmp_path / "pyproject.toml"
    path.write_text(block)
    load_models(file=path, environment=False)
    settings = load_settings(path)
    assert settings.get("model") == "claude-opus-4-7"
    assert settings.get("per-file-ignores") == {"icons/**": ("small-side",), "*.gif": ("animated",)}
    first_cells = re.findall(r"^\| ([^|]*) \|", text, re.M)
    documented = {key for cell in first_cells for key in re.findall(r"`([a-z-]+)`", cell)}
    assert set(SETTINGS_KEYS) <= documented


CODES = sorted(RULES)
SELECTORS = st.sampled_from([*CODES, "error", "warning", "info", "ALL"])


@given(
    st.lists(SELECTORS, max_size=4),
    st.lists(SELECTORS, max_size=4),
    st.sampled_from(CODES),
)
def test_a_code_named_outright_beats_severities(
    select: list[str], ignore: list[str], code: str
) -> None:
    # Naming a code in select keeps it against any severity or ALL ignored;
    # naming it in ignore drops it whatever select says.
    keep = Layer(select=(*select, code), ignore=tuple(s for s in ignore if s != code))
    assert Selection((keep,)).selected(code)
    drop = Layer(select=(*select, code), ignore=(*ignore, code))
    assert not Selection((drop,)).selected(code)


def test_layers_apply_in_order() -> None:
    configured = Layer(ignore=("info",))
    assert not Selection((configured,)).selected("interlaced")
    assert Selection((configured, Layer(extend_select=("interlaced",)))).selected("interlaced")
    assert Selection((configured, Layer(select=("ALL",)))).selected("alpha")
    only = Selection((Layer(select=("error",)), Layer(ignore=("over-max-side",))))
    assert only.selected("empty") and not only.selected("over-max-side")
    assert not only.selected("will-resize")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.png", "a/b/c.png", True),
        ("*.png", "a/b/c.jpg", False),
        ("build", "build/x.png", True),
        ("build", "a/build/x.png", True),
        ("build", "a/builder/x.png", False),
        ("a/*.png", "a/c.png", True),
        ("a/*.png", "a/b/c.png", False),
        ("a/**/*.png", "a/b/c/d.png", True),
        ("a/**/*.png", "a/d.png", True),
        ("icons/**", "icons/x/y.png", True),
        ("b/*.png", "a/b/c.png", False),
        ("c[0-9].png", "x/c5.png", True),
        ("c[!0-9].png", "x/c5.png", False),
        ("./a/*.png", "a/c.png", True),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) == matches
