# Output formats (cli/reporters) for check, estimate and prepare: the JSON
# shape is pinned, SARIF is validated against the official 2.1.0 schema
# (tests/schemas), GitHub workflow commands are escaped as the runner
# unescapes them, JUnit is one test case per file; and the flags that shape
# output (-q, -s, -v, --statistics in every format, --show-fixes,
# --exit-zero, colours, check's grouped text).

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from crafted import filled_bilevel_png
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from preflight._core.catalogue import RULES
from preflight.cli import main
from preflight.cli._reporters import colour_wanted
from preflight.cli._reporters.github import github_data, github_property

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text()
)

CHECK_RESULT_KEYS = {
    "path",
    "format",
    "media_type",
    "width",
    "height",
    "display_width",
    "display_height",
    "file_bytes",
    "base64_bytes",
    "processed_width",
    "processed_height",
    "resized",
    "tokens",
    "cost_usd",
    "rejected",
    "findings",
}
OPTIONS_KEYS = {
    "model",
    "price_per_mtok",
    "tier",
    "rule",
    "surface",
    "images_in_request",
    "oversized",
    "batch",
    "max_image_bytes",
    "prompt_tokens",
}


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (in the current one) of a clean JPEG, a rejected PNG, a JPEG
    the API resizes on every tier, and a small interlaced PNG (a warning and
    an info finding) named with a comma and a colon (escaped in GitHub
    properties)."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(FIXTURES / "samples" / "photo-800x600.jpg", folder / "good.jpg")
    # Over the side limit, with data enough to fill its frame (the fixture's
    # 69-byte bomb is also cut short: a second finding).
    (folder / "bomb.png").write_bytes(filled_bilevel_png(100000, 100000))
    Image.new("RGB", (3000, 600), "white").save(folder / "wide.jpg")
    shutil.copy(FIXTURES / "samples" / "interlaced.png", folder / "a,b:c.png")
    monkeypatch.chdir(tmp_path)
    return Path("imgs")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*argv, "--isolated"])
    return code, capsys.readouterr().out


def test_check_json_shape(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"schema_version", "tool", "command", "options", "results", "summary"}
    assert data["schema_version"] == 1
    assert data["tool"]["name"] == "preflight"
    assert data["command"] == "check"
    assert set(data["options"]) == OPTIONS_KEYS
    assert len(data["results"]) == 4
    for result in data["results"]:
        assert set(result) == CHECK_RESULT_KEYS
        for finding in result["findings"]:
            assert set(finding) == {"code", "severity", "message", "fix"}
    summary = data["summary"]
    assert set(summary) == {
        "files",
        "rejected",
        "warned",
        "clean",
        "tokens",
        "cost_usd",
        "fetched_bytes",
        "exit_code",
        "statistics",
    }
    assert (summary["files"], summary["rejected"], summary["exit_code"]) == (4, 1, 1)
    assert summary["fetched_bytes"] == 0  # local files: nothing over the network
    stats = {row["code"]: row for row in summary["statistics"]}
    assert stats["over-max-side"]["count"] == 1
    assert set(stats["over-max-side"]) == {
        "code",
        "severity",
        "count",
        "summary",
        "fixable",
        "fixed_by",
    }
    assert stats["over-max-side"]["fixable"] is True
    assert stats["over-max-side"]["fixed_by"] == list(RULES["over-max-side"].fixed_by)
    assert stats["interlaced"]["fixable"] is False
    assert "interlaced" in stats  # json carries info findings


def test_check_jsonl(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--format", "jsonl")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["header"] + ["result"] * 4 + ["summary"]
    assert lines[0]["schema_version"] == 1 and lines[0]["command"] == "check"
    assert set(lines[1]) == CHECK_RESULT_KEYS | {"type"}
    assert lines[-1]["files"] == 4


def test_estimate_and_prepare_json_shape(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "estimate", "100x100", "9000x10", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["command"] == "estimate" and data["schema_version"] == 1
    assert [r["width"] for r in data["results"]] == [100, 9000]
    assert set(data["summary"]) >= {"images", "rejected", "tokens", "cost_usd", "exit_code"}
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code, out = run(
        capsys, "prepare", str(images / "good.jpg"), str(tmp_path / "bad.png"),
        "--out", str(tmp_path / "out"), "--format", "json",
    )  # fmt: skip
    assert code == 1
    data = json.loads(out)
    assert data["command"] == "prepare" and data["manifest"].endswith("preflight-manifest.jsonl")
    assert [r["status"] for r in data["results"]] == ["ok", "error"]
    assert data["summary"]["failed"] == 1 and data["summary"]["exit_code"] == 1


def sarif(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    _, out = run(capsys, *argv, "--format", "sarif")
    log: dict[str, Any] = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    return log


def test_sarif_is_valid_and_complete(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif(capsys, "check", str(images))
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert {code for code, r in RULES.items() if r.kind == "finding"} <= set(ids)
    over = rules[ids.index("over-max-side")]
    assert over["shortDescription"]["text"] == RULES["over-max-side"].summary
    assert over["defaultConfiguration"]["level"] == "error"
    assert RULES["over-max-side"].fix in over["help"]["text"]
    assert rules[ids.index("interlaced")]["defaultConfiguration"]["level"] == "note"
    by_rule = {r["ruleId"]: r for r in sarif_run["results"]}
    bomb = by_rule["over-max-side"]
    assert ids[bomb["ruleIndex"]] == "over-max-side"
    location = bomb["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "imgs/bomb.png", "uriBaseId": "%SRCROOT%"}
    assert by_rule["will-resize"]["level"] == "warning"
    odd = by_rule["interlaced"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert odd == "imgs/a%2Cb%3Ac.png"  # percent-encoded, still relative


def test_sarif_for_estimate_and_prepare(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sarif(capsys, "estimate", "9000x10")
    (result,) = log["runs"][0]["results"]
    assert "locations" not in result and result["message"]["text"].startswith("9000x10: ")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    log = sarif(capsys, "prepare", str(tmp_path / "bad.png"), "--out", str(tmp_path / "o"))
    (result,) = log["runs"][0]["results"]
    ids = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert ids[result["ruleIndex"]] == result["ruleId"]


def test_github_annotations(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert (
        "::error file=imgs/bomb.png,title=preflight over-max-side::At least one of the image "
        "dimensions exceed max allowed size: 8000 pixels (100000x100000)"
    ) in lines
    assert any(line.startswith("::warning file=imgs/wide.jpg,title=preflight will-resize::")
               for line in lines)  # fmt: skip
    assert not any("interlaced" in line for line in lines)  # info: with -v only
    _, out = run(capsys, "check", str(images), "--format", "github", "-v")
    (notice,) = [line for line in out.splitlines() if "interlaced" in line]
    assert notice.startswith("::notice file=imgs/a%2Cb%3Ac.png,title=preflight interlaced::")


def _unescape(text: str) -> str:
    # What the Actions runner does to a property value.
    for escaped, raw in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


@given(st.text())
def test_github_escaping_round_trips(text: str) -> None:
    prop = github_property(text)
    assert not any(ch in prop for ch in ",:\r\n")
    assert _unescape(prop) == text
    data = github_data(text)
    assert "\n" not in data and "\r" not in data
    assert _unescape(data) == text


def test_junit(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--format", "junit")
    assert code == 1
    suites = ET.fromstring(out)
    assert suites.tag == "testsuites"
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    assert set(cases) == {
        "imgs/good.jpg",
        "imgs/bomb.png",
        "imgs/wide.jpg",
        "imgs/a,b:c.png",
    }
    assert (suites.get("tests"), suites.get("failures")) == ("4", "1")
    failure = cases["imgs/bomb.png"].find("failure")
    assert failure is not None and failure.get("type") == "over-max-side"
    assert cases["imgs/wide.jpg"].find("failure") is None  # a warning does not fail...
    out_text = cases["imgs/wide.jpg"].findtext("system-out")
    assert out_text is not None and "will-resize" in out_text
    _, strict = run(capsys, "check", str(images), "--format", "junit", "--strict")
    assert ET.fromstring(strict).get("failures") == "3"  # ...unless --strict


def test_text_levels(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, default = run(capsys, "check", str(images))
    lines = default.splitlines()
    assert lines[0].startswith("imgs/bomb.png: over-max-side ")  # errors as they come
    assert lines[1].startswith("imgs/a,b:c.png: small-side ")  # then warnings, walk order
    assert lines[2].startswith("imgs/wide.jpg: will-resize ")
    assert not any("good.jpg" in line or ": interlaced " in line for line in lines)
    assert "note: 1 info finding not shown (-v shows them)" in lines
    assert lines[-1].startswith("4 files: 1 would be rejected, 2 accepted with warnings, 1 clean")
    _, quiet = run(capsys, "check", str(images), "-q")
    assert not any(line.startswith("note:") for line in quiet.splitlines())
    assert quiet.splitlines()[-1] == lines[-1]
    _, verbose = run(capsys, "check", str(images), "-v")
    assert any(line.startswith("imgs/good.jpg: ok (JPEG 800x600") for line in verbose.splitlines())
    assert any(": interlaced " in line for line in verbose.splitlines())
    code, silent = run(capsys, "check", str(images), "-s")
    assert (code, silent) == (1, "")


def test_statistics_show_fixes_exit_zero(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "check", str(images), "--statistics")
    lines = out.splitlines()
    assert any(line.split()[:3] == ["1", "over-max-side", "[error]"] for line in lines)
    assert any(line.split()[:3] == ["1", "interlaced", "[info]"] for line in lines)
    assert not any(line.startswith("imgs/") for line in lines)
    assert lines[-1].startswith("4 files:")
    _, out = run(capsys, "check", str(images / "bomb.png"), "--show-fixes")
    lines = out.splitlines()
    assert lines[0].startswith("imgs/bomb.png: over-max-side ")
    assert lines[1].startswith("  fix: ")
    code, _ = run(capsys, "check", str(images), "--exit-zero")
    assert code == 0
    code, _ = run(capsys, "estimate", "9000x10", "--exit-zero", "-q")
    assert code == 0


def test_statistics_in_every_format(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--statistics", "--format", "json")
    assert code == 1  # the exit code is the run's
    data = json.loads(out)
    assert set(data) == {"schema_version", "tool", "command", "options", "statistics", "summary"}
    counts = {row["code"]: row["count"] for row in data["statistics"]}
    assert counts == {"over-max-side": 1, "will-resize": 1, "small-side": 1, "interlaced": 1}
    assert data["statistics"] == data["summary"]["statistics"]
    assert all({"code", "count", "fixable", "summary"} <= set(r) for r in data["statistics"])
    _, out = run(capsys, "check", str(images), "--statistics", "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["header"] + ["statistic"] * 4 + ["summary"]
    assert {line["code"]: line["count"] for line in lines[1:-1]} == counts
    _, out = run(capsys, "check", str(images), "--statistics", "--format", "github")
    assert out.splitlines() == [
        "::error title=preflight over-max-side::1 finding: " + RULES["over-max-side"].summary,
        "::warning title=preflight small-side::1 finding: " + RULES["small-side"].summary,
        "::warning title=preflight will-resize::1 finding: " + RULES["will-resize"].summary,
    ]  # info only with -v, as for findings
    log = sarif(capsys, "check", str(images), "--statistics")
    (sarif_run,) = log["runs"]
    assert len(sarif_run["results"]) == 4  # a whole report still
    stats = {row["code"]: row["count"] for row in sarif_run["properties"]["statistics"]}
    assert stats == counts
    assert "statistics" not in sarif(capsys, "check", str(images))["runs"][0]["properties"]
    _, out = run(capsys, "check", str(images), "--statistics", "--format", "junit")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and len(suite.findall("testcase")) == 4
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {f"statistics.{c}": str(n) for c, n in counts.items()}
    code, out = run(capsys, "estimate", "1x1", "--statistics", "--format", "json")
    assert code == 0 and json.loads(out)["statistics"] == []


def many_small(folder: Path, count: int) -> None:
    """`count` small PNGs (a small-side warning each, sizes 60x40 upwards)."""
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (60 + i, 40), "white").save(folder / f"s{i:02}.png")


def test_text_groups_a_warning_repeated_on_many_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from preflight.cli._reporters.text import GROUP_AT

    monkeypatch.chdir(tmp_path)
    many_small(tmp_path / "many", GROUP_AT + 3)
    Image.new("RGB", (9000, 100), "white").save(tmp_path / "many" / "wide.png")
    code, out = run(capsys, "check", "many")
    assert code == 1
    lines = out.splitlines()
    # A rejected file is named with all it has, first; the group counts the others.
    assert lines[0].startswith("many/wide.png: over-max-side ")
    assert lines[1].startswith("many/wide.png: small-side 9000x100")
    assert lines[2] == (
        f"small-side: {GROUP_AT + 3} files (60x40, 61x40, 62x40, ...) -- a side under 200 px "
        "may degrade output quality; -v lists them"
    )
    assert not any(line.startswith("many/s") for line in lines)
    assert lines[-1].startswith(f"{GROUP_AT + 4} files: 1 would be rejected")
    _, verbose = run(capsys, "check", "many", "-v")
    listed = [line for line in verbose.splitlines() if ": small-side " in line]
    assert len(listed) == GROUP_AT + 4 and listed[0].startswith("many/s00.png: small-side 60x40")
    _, fixes = run(capsys, "check", "many", "--show-fixes", "--select", "small-side")
    fix_lines = [line for line in fixes.splitlines() if line.startswith("  fix: ")]
    assert len(fix_lines) == 1 and fixes.splitlines()[1] == fix_lines[0]  # once, under its line
    # --strict: the warnings fail the run, so each file is named.
    code, strict = run(capsys, "check", "many", "--strict")
    assert code == 1
    assert sum(": small-side " in line for line in strict.splitlines()) == GROUP_AT + 4


def test_text_lists_a_warning_on_fewer_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from preflight.cli._reporters.text import GROUP_AT

    monkeypatch.chdir(tmp_path)
    many_small(tmp_path / "few", GROUP_AT - 1)
    _, out = run(capsys, "check", "few")
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"few/s{i:02}.png" for i in range(GROUP_AT - 1)
    ]


def test_grouped_line_uses_the_summary_when_messages_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from preflight.cli._reporters.text import GROUP_AT

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "turned"
    folder.mkdir()
    for i in range(GROUP_AT):
        exif = Image.Exif()
        exif[0x0112] = 2 + i  # orientations 2, 3, ...: each message its own
        Image.new("RGB", (400, 300), "white").save(folder / f"t{i}.jpg", exif=exif.tobytes())
    _, out = run(capsys, "check", "turned")
    (line,) = [line for line in out.splitlines() if line.startswith("exif-rotation:")]
    summary = RULES["exif-rotation"].summary
    assert line == (
        f"exif-rotation: {GROUP_AT} files (EXIF orientation 2, EXIF orientation 3, "
        f"EXIF orientation 4, ...) -- {summary[0].lower()}{summary[1:-1]}; -v lists them"
    )


def test_estimate_quiet_keeps_reasons_and_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "estimate", "100x100", "9000x10", "-q")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("9000x10: over-max-side: ")
    assert lines[-1].startswith("total: 2 images (1 rejected)")
    assert len(lines) == 2


def test_select_and_ignore_flags(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(images), "--ignore", "over-max-side", "--format", "json")
    assert code == 0  # the only error ignored
    codes = {f["code"] for r in json.loads(out)["results"] for f in r["findings"]}
    assert "over-max-side" not in codes and "will-resize" in codes
    _, out = run(capsys, "check", str(images), "--select", "info", "--format", "json")
    codes = {f["code"] for r in json.loads(out)["results"] for f in r["findings"]}
    assert codes == {"interlaced"}
    _, out = run(
        capsys, "check", str(images), "--ignore", "warning,info", "--extend-select", "will-resize",
        "--format", "json",
    )  # fmt: skip
    codes = {f["code"] for r in json.loads(out)["results"] for f in r["findings"]}
    assert codes == {"over-max-side", "will-resize"}


def test_unknown_code_is_usage() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "check", ".", "--ignore", "nope", "--isolated"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown code 'nope'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert colour_wanted(_Stream(True), {})  # type: ignore[arg-type]
    assert not colour_wanted(_Stream(False), {})  # type: ignore[arg-type]
    assert not colour_wanted(_Stream(True), {"NO_COLOR": "1"})  # type: ignore[arg-type]
    assert colour_wanted(_Stream(True), {"NO_COLOR": ""})  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here")
@pytest.mark.parametrize("no_color", [None, "1"])
def test_colour_on_a_real_terminal(no_color: str | None) -> None:
    primary, secondary = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    if no_color is not None:
        env["NO_COLOR"] = no_color
    bomb = str(FIXTURES / "hostile" / "bomb-100000x100000.png")  # cut short and too large
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "check", bomb, "--isolated"],
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    out = b"".join(chunks).decode()
    assert proc.returncode == 1
    assert "over-max-side" in out
    assert ("\033[" in out) == (no_color is None)
