# The pre-commit hooks and the CI recipes of docs/ci.md, run for real:
# `pre-commit try-repo`, `pre-commit autoupdate` and `pre-commit run`
# against a scratch git repository of fixture images (for a repository
# hook pre-commit builds a virtualenv and pip-installs preflight from a
# copy of this repository: it needs PyPI and takes a while, so each call
# has a generous timeout and nothing is timed); the local hook of the
# README as written; and the GitHub Actions and generic steps run by a
# shell as written.

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflight._core.formats import FORMATS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CI_DOC = ROOT / "docs" / "ci.md"
# pre-commit builds an environment and installs preflight from PyPI's wheels.
INSTALL_TIMEOUT = 900


def recipe(name: str) -> str:
    """The code block that follows `<!-- recipe: NAME -->` in docs/ci.md."""
    match = re.search(
        rf"<!-- recipe: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", CI_DOC.read_text(), re.S
    )
    assert match is not None, f"no recipe {name!r} in docs/ci.md"
    return match.group(1)


def git(cwd: Path, *argv: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=preflight", "-c", "user.email=preflight@example.invalid", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return proc.stdout.strip()


def scratch_repository(path: Path) -> Path:
    """A git repository with a clean JPEG, an 8000 px-breaking PNG, a HEIC,
    and a text file, all staged."""
    path.mkdir()
    git(path, "init", "-q")
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", path / "good.jpg")
    shutil.copy(FIXTURES / "hostile" / "bomb-100000x100000.png", path / "bomb.png")
    shutil.copy(FIXTURES / "unsupported" / "image.heic", path / "photo.heic")
    (path / "notes.txt").write_text("not an image\n")
    git(path, "add", "-A")
    return path


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of what pre-commit installs from this repository
    (the working tree as it is, committed or not), and its commit."""
    shadow = tmp_path_factory.mktemp("hooks") / "preflight"
    shadow.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, shadow / name)
    shutil.copytree(
        ROOT / "preflight", shadow / "preflight", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(shadow, "init", "-q")
    git(shadow, "add", "-A")
    git(shadow, "commit", "-q", "-m", "preflight")
    return shadow, git(shadow, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Shared by the tests of this module: the hook environment is built once.
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_NO_INPUT": "1"}
    env.pop("PYTHONPATH", None)  # the hook runs the preflight pre-commit installed
    env["PRE_COMMIT_COLOR"] = "never"
    return env


def pre_commit(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,  # a watchdog: a hung install fails the test
        check=False,
    )


def sections(output: str) -> dict[str, str]:
    """pre-commit's output per hook id."""
    found: dict[str, str] = {}
    for part in re.split(
        r"\n(?=[^\n]*\.{3,}(?:Passed|Failed|\(no files to check\)Skipped))", output
    ):
        hook = re.search(r"- hook id: (\S+)", part)
        if hook:
            found[hook.group(1)] = part
    return found


def test_manifest_extensions_are_the_registry_s() -> None:
    (check, every) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert check["id"] == "preflight-check"
    assert set(check["types_or"]) == {"jpeg", "png", "gif", "webp"}
    assert {f.name for f in FORMATS.values() if f.accepted} == set(check["types_or"])
    pattern = re.compile(every["files"])
    for fmt in FORMATS.values():
        for extension in fmt.extensions:
            name = f"dir/picture{extension.upper()}"
            # Every image format's extension is caught, in any case; PDF is
            # a document, not an image, and is left to the user.
            assert bool(pattern.search(name)) == (fmt.name != "pdf"), name
    assert not pattern.search("picture.png.txt")
    for hook in (check, every):
        assert hook["language"] == "python"
        assert hook["entry"].startswith("preflight check")


# pre-commit builds its own environment from a copy of this tree: slow, and
# the same with or without pyvips here (noengine).
@pytest.mark.slow
@pytest.mark.noengine
def test_pre_commit_try_repo(
    tmp_path: Path, hook_repository: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    repo = scratch_repository(tmp_path / "project")
    shadow, _ = hook_repository
    proc = pre_commit(["try-repo", str(shadow), "--all-files"], repo, pre_commit_env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "InvalidManifestError" not in output
    hooks = sections(proc.stdout)
    assert set(hooks) == {"preflight-check", "preflight-check-all-images"}, output
    check, every = hooks["preflight-check"], hooks["preflight-check-all-images"]
    assert "Failed" in check and "Failed" in every
    bomb = "bomb.png: over-max-side At least one of the image dimensions exceed max allowed size"
    assert bomb in check and bomb in every
    # HEIC has no identify tag: only the second hook is given it.
    assert "photo.heic" not in check
    assert "photo.heic: unsupported-format HEIC/HEIF is not accepted" in every
    assert "good.jpg" not in check + every  # clean files are not listed
    assert "notes.txt" not in output
    assert "2 files: 1 would be rejected" in check
    assert "3 files: 2 would be rejected" in every


@pytest.mark.slow
def test_pre_commit_recipe_runs_as_written(
    tmp_path: Path, shell_env: dict[str, str], pre_commit_env: dict[str, str]
) -> None:
    # The local hook, byte for byte: it runs the `preflight` on PATH (here,
    # this working tree's), so nothing is installed.
    text = recipe("pre-commit")
    assert yaml.safe_load(text)["repos"][0]["repo"] == "local"
    repo = scratch_repository(tmp_path / "project")
    (repo / ".pre-commit-config.yaml").write_text(text)
    git(repo, "add", ".pre-commit-config.yaml")
    env = {**pre_commit_env, "PATH": shell_env["PATH"], "PYTHONPATH": shell_env["PYTHONPATH"]}
    proc = pre_commit(["run", "--all-files"], repo, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bomb.png: over-max-side" in proc.stdout
    assert "photo.heic" not in proc.stdout  # the types of the published hook
    (repo / "bomb.png").unlink()
    git(repo, "add", "-A")
    proc = pre_commit(["run", "--all-files"], repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_local_recipe_is_the_published_hook() -> None:
    """The local hook runs what `preflight-check` runs, on the same files."""
    (local,) = yaml.safe_load(recipe("pre-commit"))["repos"][0]["hooks"]
    published = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    for key in ("id", "name", "entry", "types_or"):
        assert local[key] == published[key], key


@pytest.mark.slow
@pytest.mark.noengine
def test_pre_commit_remote_recipe_pinned_by_autoupdate(
    tmp_path: Path, hook_repository: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    shadow, commit = hook_repository
    config = yaml.safe_load(recipe("pre-commit-remote"))
    (entry,) = config["repos"]
    assert entry["repo"].startswith("https://github.com/")
    assert re.fullmatch(r"[0-9a-f]{40}", entry["rev"])  # a commit, as pre-commit wants
    # The recipe as written, pointed at this repository's copy; then the
    # documented step: `pre-commit autoupdate` pins its newest commit (no tags).
    text = recipe("pre-commit-remote").replace(entry["repo"], str(shadow))
    repo = scratch_repository(tmp_path / "project")
    (repo / ".pre-commit-config.yaml").write_text(text)
    proc = pre_commit(["autoupdate"], repo, pre_commit_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pinned = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert pinned["rev"] == commit
    git(repo, "add", ".pre-commit-config.yaml")
    proc = pre_commit(["run", "--all-files"], repo, pre_commit_env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bomb.png: over-max-side" in proc.stdout
    (repo / "bomb.png").unlink()
    git(repo, "add", "-A")
    proc = pre_commit(["run", "--all-files"], repo, pre_commit_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """PATH with a `preflight` that runs this working tree's preflight."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "preflight"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m preflight "$@"\n')
    shim.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }


def run_shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_github_actions_recipe(tmp_path: Path, shell_env: dict[str, str]) -> None:
    (step,) = yaml.safe_load(recipe("github-actions"))
    repo = scratch_repository(tmp_path / "project")
    proc = run_shell(step["run"], repo, shell_env)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert (
        "::error file=bomb.png,title=preflight over-max-side::At least one of the image "
        "dimensions exceed max allowed size: 8000 pixels (100000x100000)"
    ) in lines
    assert any(
        line.startswith("::error file=photo.heic,title=preflight unsupported-format::")
        for line in lines
    )
    assert all(line.startswith("::") for line in lines)
    (repo / "bomb.png").unlink()
    (repo / "photo.heic").unlink()
    assert run_shell(step["run"], repo, shell_env).returncode == 0


@pytest.mark.slow
def test_generic_ci_recipe(tmp_path: Path, shell_env: dict[str, str]) -> None:
    import xml.etree.ElementTree as ET

    script = recipe("generic-ci")
    repo = scratch_repository(tmp_path / "project")
    proc = run_shell(script, repo, shell_env)
    assert proc.returncode == 1, proc.stderr  # the second line fails the job
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("bomb.png: ")  # cut short, and over the side limit
    assert any(line.startswith("bomb.png: over-max-side ") for line in lines)
    assert lines[1].startswith("  fix: ")
    assert lines[-1].startswith("3 files: 2 would be rejected")  # image extensions only
    suites = ET.parse(repo / "preflight-junit.xml").getroot()
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    assert set(cases) == {"good.jpg", "bomb.png", "photo.heic"}
    assert cases["good.jpg"].find("failure") is None
    failure = cases["bomb.png"].find("failure")
    assert failure is not None and "bomb.png: over-max-side" in (failure.text or "")
    (repo / "bomb.png").unlink()
    (repo / "photo.heic").unlink()
    proc = run_shell(script, repo, shell_env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["pre-commit", "github-actions", "generic-ci"])
def test_the_readme_shows_the_recipes_the_tests_run(name: str) -> None:
    """The README's CI recipes are copies of docs/ci.md's, which run above."""
    readme = (CI_DOC.parent.parent / "README.md").read_text()
    assert f"\n{recipe(name)}```" in readme
