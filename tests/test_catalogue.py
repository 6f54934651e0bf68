# The catalogue of codes is complete (every finding code, every error
# class's code), each entry is filled in and names a docs page that exists,
# and docs/rules.md is exactly `preflight rule --all`.

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import preflight._imaging.engines
import preflight.cli
import preflight.errors
from preflight._core import findings
from preflight._core.catalogue import FINDING, KINDS, RULES
from preflight._core.findings import SEVERITIES
from preflight.cli import main

ROOT = Path(__file__).resolve().parent.parent


def finding_codes() -> set[str]:
    return {
        value
        for name, value in vars(findings).items()
        if name.isupper() and isinstance(value, str) and value not in SEVERITIES
    }


def error_classes(root: type) -> set[type]:
    found = {root}
    for sub in root.__subclasses__():
        found |= error_classes(sub)
    return found


def test_every_finding_code_is_catalogued() -> None:
    codes = finding_codes()
    assert len(codes) >= 24
    missing = codes - set(RULES)
    assert not missing
    for code in codes:
        assert RULES[code].kind == FINDING


def test_every_error_code_is_catalogued() -> None:
    # Every code an error can carry: each class's own and the finer ones
    # its instances may name (HeaderError's "truncated", ...).
    assert preflight.cli and preflight._imaging.engines  # loaded: any subclass counts too
    classes = error_classes(preflight.errors.PreflightError)
    codes = {code for cls in classes for code in cls.codes}
    assert len(codes) >= 26
    missing = codes - set(RULES)
    assert not missing


def test_entries_are_filled_and_name_real_pages() -> None:
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.severity in SEVERITIES
        assert rule.kind in KINDS
        for text in (rule.summary, rule.meaning, rule.fix, rule.source):
            assert text.strip() and "\n" not in text, code
        pages = [word for word in rule.source.replace(",", " ").split() if word.startswith("docs/")]
        assert pages, f"{code}: no docs page in {rule.source!r}"
        for page in pages:
            assert (ROOT / page).is_file(), f"{code}: {page} does not exist"


def test_finding_severities_agree_with_what_check_reports() -> None:
    # The catalogue's severity is the one the findings carry.
    assert RULES["over-max-side"].severity == "error"
    assert RULES["will-resize"].severity == "warning"
    assert RULES["interlaced"].severity == "info"


def test_docs_rules_md_is_rule_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "--all"]) == 0
    out = capsys.readouterr().out
    assert (ROOT / "docs" / "rules.md").read_text() == out, (
        "docs/rules.md is out of date: python -m preflight rule --all > docs/rules.md"
    )
    for code in RULES:
        assert f"### {code}\n" in out


def test_rule_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "over-max-side"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# over-max-side\n")
    assert "## How to fix it" in out and "docs/limits.md" in out
    assert main(["rule", "will-resize", "alpha", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in rows] == ["will-resize", "alpha"]
    assert set(rows[0]) == {
        *("code", "severity", "kind", "summary", "meaning", "fix", "source"),
        *("api_words", "fixed_by"),
    }
    assert rows[0]["fixed_by"] == ["prepare", "request --fix"] and rows[1]["api_words"] is None


@pytest.mark.slow  # a process per case
@pytest.mark.parametrize("argv", [["rule", "nope"], ["rule"], ["rule", "alpha", "--all"]])
def test_rule_bad_usage(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
