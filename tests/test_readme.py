# The README's and docs/' examples are tested: their Python examples as
# doctests, and each `$ preflight estimate|check|rule|explain ...` console example
# is run and its output compared, so the text cannot drift from the tool.

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from preflight.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHECKED_COMMANDS = ("estimate", "check", "rule", "explain")


def console_examples(page: Path) -> list[tuple[str, str]]:
    """(command line, expected output) for every checked console example."""
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(), flags=re.S):
        command: str | None = None
        output: list[str] = []
        for line in [*block.splitlines(), "$ "]:
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                words = line[2:].split()
                checked = len(words) > 1 and words[0] == "preflight"
                command = line[2:] if checked and words[1] in CHECKED_COMMANDS else None
                output = []
            else:
                output.append(line)
    return examples


EXAMPLES = [
    pytest.param(command, expected, id=f"{page.name}: {command}")
    for page in PAGES
    for command, expected in console_examples(page)
]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name fixtures by relative path
    # A code fence right after an example would be read as expected output.
    text = re.sub(r"^```.*$", "", page.read_text(), flags=re.M)
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


@pytest.mark.parametrize(("command", "expected"), EXAMPLES)
def test_console_examples(
    command: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    main(shlex.split(command)[1:])
    out = capsys.readouterr().out
    assert out.rstrip("\n") == expected.rstrip("\n")


def test_the_readme_is_short_and_has_examples() -> None:
    readme = PAGES[0].read_text()
    assert len(readme.splitlines()) < 260
    assert len(console_examples(PAGES[0])) >= 2
    assert ">>> " in readme


def test_no_page_points_outside_the_repository() -> None:
    outside = "../" + "shared"  # spelled in two parts so this file does not match itself
    for page in [*PAGES, *ROOT.glob("preflight/**/*.py"), *ROOT.glob("tests/*.py")]:
        assert outside not in page.read_text(), page
