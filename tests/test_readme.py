# The README's examples are tested: its Python examples as doctests, and each
# `$ preflight estimate|check ...` console example is run and its output
# compared, so the README cannot drift from what the tool does.

from __future__ import annotations

import doctest
import os
import re
import shlex
from pathlib import Path

import pytest

from preflight.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CHECKED_COMMANDS = ("estimate", "check")


def console_examples() -> list[tuple[str, str]]:
    """(command line, expected output) for every checked console example."""
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S):
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


def test_readme_python_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name fixtures by relative path
    # A code fence right after an example would be read as expected output.
    text = re.sub(r"^```.*$", "", README.read_text(), flags=re.M)
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.tries > 0
    assert runner.failures == 0


@pytest.mark.parametrize(("command", "expected"), console_examples())
def test_readme_console_examples(
    command: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    main(shlex.split(command)[1:])
    out = capsys.readouterr().out
    assert out.rstrip("\n") == expected.rstrip("\n")


def test_readme_has_console_examples() -> None:
    assert len(console_examples()) >= 4
    assert os.path.exists(README)
