"""The catalogue is complete and true.

Every code the source can emit (found by tests/codescan.py, reading the
source, not running it) is catalogued and every catalogued code is emitted
or reserved; each entry's kind, API words and "fixed by" agree with what
the code does; every catalogued code works with `preflight rule`,
`--select`, `--ignore` and `per-file-ignores`; an unknown code or model
name is one usage line naming the closest known one; SARIF links rules to
docs/rules.md only with absolute URLs.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from codescan import Scan, scan_package, scan_sources
from PIL import Image

import preflight
import preflight.errors
from preflight._core import catalogue, findings, rules
from preflight._core.catalogue import FAILURE, FINDING, FIXERS, PREPARE, RULES, USAGE
from preflight._core.findings import SEVERITIES
from preflight._core.options import make_options
from preflight._core.selection import ALL, check_selectors
from preflight._imaging.inspection import inspect
from preflight.cli import main
from preflight.cli._reporters import sarif as sarif_format

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fixtures" / "samples"
SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text()
)

# Sites whose code is not written in the source: each rebuilds a finding
# from data that already carried a code made elsewhere. (path, function): why.
PASS_THROUGH = {
    ("preflight/cli/_prepare.py", "_result"): (
        "findings and failures read back from prepare's own manifest entries, whose codes "
        "came from prepare's findings and errors"
    ),
}


@pytest.fixture(scope="module")
def scan() -> Scan:
    return scan_package(ROOT, "preflight")


# --- the scanner itself ---------------------------------------------------------


def test_scanner_follows_constants_locals_parameters_and_imports() -> None:
    sources = {
        "pkg.codes": ("pkg/codes.py", 'ONE = "one"\n'),
        "pkg.use": (
            "pkg/use.py",
            "from pkg.codes import ONE as FIRST\n"
            "import pkg.codes as c\n"
            'LOCAL = "local"\n'
            "def direct():\n"
            "    Finding(FIRST, 'error', 'm')\n"
            "    Finding(code=c.ONE, severity='error', message='m')\n"
            "def unpacked(flag):\n"
            "    code, why = (LOCAL, 'x') if flag else ('y', 'z')\n"
            "    if flag:\n"
            "        code, why = 'two', 'because'\n"
            "    return Finding(code, 'error', why)\n"
            "def helper(message, code='three'):\n"
            "    return Finding(code, 'error', message)\n"
            "def callers():\n"
            "    helper('a')\n"
            "    helper('b', code='four')\n"
            "def opaque(data):\n"
            "    return Finding(data['code'], 'error', 'm')\n"
            "def loop():\n"
            "    for code in ('x',):\n"
            "        Finding(code, 'error', 'm')\n"
            "class Record:\n"
            "    pass\n"
            "def not_an_error():\n"
            "    return Record(code='not-emitted')\n"
            "class Boom(Exception):\n"
            "    code = 'boom'\n"
            "    codes = ('boom', 'bang')\n"
            "def raise_it():\n"
            "    raise Boom('m', code='bang')\n"
            "def act():\n"
            "    return Action('did-it', 'detail')\n",
        ),
    }
    found = scan_sources(sources)
    # "two" is one of the values of a site that also has an unresolvable one:
    # the site is reported, never half-resolved.
    assert set(found.findings) == {"one", "three", "four"}
    assert set(found.errors) == {"boom", "bang"}
    assert set(found.actions) == {"did-it"}
    unresolved = {(site.function, text) for site, text in found.unresolved}
    # The conditional tuple is not a literal tuple; the loop variable and
    # the subscript are not followed: all three are reported, not guessed.
    assert unresolved == {
        ("unpacked", "code"),
        ("opaque", "data['code']"),
        ("loop", "code"),
    }


def test_scanner_sees_every_kind_of_site_in_the_package(scan: Scan) -> None:
    # A literal (quality), a constant imported from findings (rules), a code
    # chosen in a tuple assignment (header_failure_finding), an error
    # class's codes, and an error raised with a finer code.
    assert "blurry" in scan.findings and "over-max-side" in scan.findings
    assert {"empty", "truncated", "not-an-image", "corrupt"} <= set(scan.findings)
    assert {"preflight-error", "usage", "data", "unknown-name"} <= set(scan.errors)
    assert "cannot-prepare" in scan.findings
    assert "passthrough" in scan.actions
    assert len(scan.findings) >= 35 and len(scan.errors) >= 15


# --- complete both ways -----------------------------------------------------------


def test_every_emitted_code_is_catalogued(scan: Scan) -> None:
    missing = {
        code: [
            f"{s.path}:{s.line}" for s in (scan.findings.get(code, []) + scan.errors.get(code, []))
        ]
        for code in sorted(scan.codes - set(RULES))
    }
    assert not missing, f"emitted but not in preflight/_core/catalogue.py: {missing}"


def test_every_catalogued_code_is_emitted_or_reserved(scan: Scan) -> None:
    for code, rule in RULES.items():
        if rule.reserved:
            assert code not in scan.codes, f"{code} is emitted now: drop its `reserved`"
        else:
            assert code in scan.codes, f"{code}: nothing emits it; mark it reserved, with why"


def test_no_code_is_made_where_the_scan_cannot_see_it(scan: Scan) -> None:
    seen = {(site.path, site.function) for site, _ in scan.unresolved}
    unexplained = [
        f"{site.path}:{site.line} {text}"
        for site, text in scan.unresolved
        if (site.path, site.function) not in PASS_THROUGH
    ]
    assert not unexplained, (
        "a code the scan cannot resolve: use a constant or literal, or name the site in "
        f"PASS_THROUGH with why: {unexplained}"
    )
    assert set(PASS_THROUGH) <= seen, "a PASS_THROUGH site no longer exists: drop it"


def test_codes_are_unique_and_mean_one_thing(scan: Scan) -> None:
    codes = [rule.code for rule in catalogue._RULES]
    assert len(codes) == len(set(codes)), "a code catalogued twice"
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code  # its own docs anchor too
    # A selector is a code, a severity or ALL: never two of these at once.
    assert not set(codes) & {*SEVERITIES, ALL, ALL.lower()}
    # prepare's action codes say what prepare did; a finding code never does.
    assert not set(scan.actions) & set(codes), set(scan.actions) & set(codes)


def test_kinds_agree_with_what_emits_the_code(scan: Scan) -> None:
    for code in scan.findings:
        if code in RULES:
            assert RULES[code].kind in (FINDING, FAILURE), code
    classes: list[type[preflight.errors.PreflightError]] = [preflight.errors.PreflightError]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    for cls in classes:
        for code in getattr(cls, "codes", (cls.code,)):
            if code in scan.findings or code not in RULES:
                continue  # a header code is also a finding; an uncatalogued one fails above
            expected = USAGE if issubclass(cls, preflight.errors.UsageError) else FAILURE
            assert RULES[code].kind == expected, (code, cls.__name__)


def test_fixed_by_names_known_fixers() -> None:
    for code, rule in RULES.items():
        assert set(rule.fixed_by) <= set(FIXERS), code
        assert len(rule.fixed_by) == len(set(rule.fixed_by)), code
        if rule.kind != FINDING:
            assert not rule.fixed_by, f"{code}: only findings are fixed"


# --- "fixed by prepare" is what prepare does ---------------------------------------


def _png(size: tuple[int, int], name: str = "x.png", fmt: str = "PNG") -> tuple[bytes, str]:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, fmt)
    return out.getvalue(), name


def _noise_png() -> bytes:
    import numpy as np

    pixels = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


# code -> (source, options keywords, declared media type of the source)
_CASES: dict[str, tuple[Any, dict[str, Any], str | None]] = {
    "over-max-side": (_png((9000, 10))[0], {}, None),
    "over-many-images-side": (
        SAMPLES / "wide-2400x600.jpg",
        {"tier": "high-res", "images_in_request": 30},
        None,
    ),
    "oversized": (SAMPLES / "wide-2400x600.jpg", {"tier": "standard", "oversized": "error"}, None),
    "will-resize": (SAMPLES / "wide-2400x600.jpg", {"tier": "standard"}, None),
    "over-byte-limit": (_noise_png(), {"max_bytes": 100_000}, None),
    "unsupported-format": (_png((300, 300), fmt="BMP")[0], {}, None),
    "media-type-mismatch": (ROOT / "fixtures" / "hostile" / "png-named.jpg", {}, None),
    "bad-media-type": (_png((300, 300))[0], {}, "image/bmp"),
    "missing-end-marker": (SAMPLES / "motion-photo.jpg", {}, None),
    "exif-rotation": (SAMPLES / "orientation-6.jpg", {}, None),
    "animated": (SAMPLES / "animated.gif", {}, None),
    "cmyk": (SAMPLES / "cmyk.jpg", {}, None),
    "progressive": (SAMPLES / "progressive.jpg", {}, None),
    "high-bit-depth": (SAMPLES / "rgb16.png", {}, None),
    "interlaced": (SAMPLES / "interlaced.png", {}, None),
    "alpha": (SAMPLES / "rgba.png", {}, None),
    "small-side": (SAMPLES / "photo-800x600.jpg", {"tier": "standard"}, None),
}


@pytest.mark.parametrize("code", sorted(_CASES))
def test_fixed_by_prepare_is_what_prepare_does(code: str) -> None:
    source, keywords, declared = _CASES[code]
    options = make_options(**keywords)
    if code == "small-side":
        source = _png((150, 100))[0]
    before = inspect(source, options, declared_media_type=declared)
    assert code in [f.code for f in before.findings], code
    ready = preflight.prepare(source, options)
    after = inspect(ready.data, options, declared_media_type=ready.media_type)
    fixed = code not in [f.code for f in after.findings]
    assert fixed == (PREPARE in RULES[code].fixed_by), (code, [a.code for a in ready.actions])


@pytest.mark.parametrize("name", ["cut-in-pixels.jpg", "cut-in-pixels.png", "cut.webp"])
def test_prepare_refuses_what_is_cut_short(name: str) -> None:
    # truncated is not "fixed by prepare": preflight never fills in pixels.
    source = ROOT / "fixtures" / "hostile" / name
    assert "truncated" in [f.code for f in inspect(source).findings]
    assert PREPARE not in RULES["truncated"].fixed_by
    with pytest.raises(preflight.errors.DataError):
        preflight.prepare(source)


# --- the API's words are the ones preflight's findings carry ------------------------


def _words_pattern(words: str) -> re.Pattern[str]:
    """The catalogue's words as a pattern: <N>, <W>, <type>... stand for a value."""
    parts = re.split(r"<[A-Za-z]+>", words)
    return re.compile(r"\S+?".join(re.escape(part) for part in parts) + r"\Z")


def _base64_body(data: str, media_type: str) -> dict[str, Any]:
    source = {"type": "base64", "media_type": media_type, "data": data}
    block = {"type": "image", "source": source}
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": [block]}],
    }


def _api_findings() -> list[findings.Finding]:
    """Findings from every way preflight words the API's answers: the rule
    functions, every fixture inspected, and request bodies."""
    import base64

    options = make_options()
    made: list[findings.Finding] = []
    # Each of rules' finding makers, with arguments that trigger it. A maker
    # not in this module (yet) is skipped: the coverage check below still
    # fails for words the catalogue has and nothing here produced.
    for name, arguments in [
        ("max_side_finding", (9000, 10, options)),
        ("many_images_side_finding", (3000, 10, make_options(images_in_request=30))),
        ("image_cap_finding", (101, options)),
        ("image_bytes_finding", (10**9, options)),
        ("request_bytes_finding", (10**10, options)),
        ("oversized_finding", ((1920, 1080), (1456, 819), options)),
        ("bad_media_type_finding", ("image/bmp", None)),
        ("media_type_mismatch_finding", ("image/png", "image/jpeg")),
        ("undecodable_finding", ("PNG", "broken")),
        ("pdf_pages_finding", (101,)),
        ("url_disallowed_finding", ("https://example.org/a.png",)),
        ("url_unreachable_finding", ("https://example.org/a.png",)),
    ]:
        maker = getattr(rules, name, None)
        if maker is not None:
            made.append(maker(*arguments))
    for folder in ("hostile", "samples"):
        for path in sorted((ROOT / "fixtures" / folder).iterdir()):
            made += inspect(path, options, decode=True).findings
    bmp = base64.b64encode(_png((20, 20), fmt="BMP")[0]).decode()
    for data, media_type in [
        (bmp, "image/png"),
        ("", "image/png"),
        ("data:image/png;base64,AAAA", "image/png"),
    ]:
        made += preflight.check_request(_base64_body(data, media_type)).findings
    return made


def test_api_words_are_the_words_preflight_reports() -> None:
    checked: set[str] = set()
    for finding in _api_findings():
        if finding.api_text is None:
            continue
        words = RULES[finding.code].api_words
        assert words is not None, f"{finding.code} carries the API's words {finding.api_text!r}"
        assert _words_pattern(words).match(finding.api_text), (
            finding.code,
            words,
            finding.api_text,
        )
        checked.add(finding.code)
    with_words = {code for code, rule in RULES.items() if rule.api_words is not None}
    assert with_words <= checked, f"API words never produced here: {with_words - checked}"


# --- every catalogued code works on the command line -----------------------------------


def test_every_code_is_a_selector_and_has_a_rule_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_selectors(RULES) == tuple(RULES)
    for code in ("blurry", "upscaled", "small-text", "low-contrast", "blank", "borders"):
        assert main(["rule", code]) == 0
        assert capsys.readouterr().out.startswith(f"# {code}\n")
    assert main(["rule", "cannot-prepare", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["kind"] == "failure" and row["fixed_by"] == [] and row["api_words"] is None


def test_quality_codes_can_be_selected_and_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), "white").save(blank)

    def codes(*argv: str) -> set[str]:
        assert (
            main(["check", "--quality", str(blank), "--format", "json", "--isolated", *argv]) == 0
        )
        return {
            f["code"] for r in json.loads(capsys.readouterr().out)["results"] for f in r["findings"]
        }

    assert "blank" in codes()
    assert codes("--select", "blank") == {"blank"}
    assert "blank" not in codes("--ignore", "blank")
    config = tmp_path / "preflight.toml"
    config.write_text('[per-file-ignores]\n"*.png" = ["blank"]\n')
    assert (
        main(["check", "--quality", str(blank), "--format", "json", "--config", str(config)]) == 0
    )
    found = {
        f["code"] for r in json.loads(capsys.readouterr().out)["results"] for f in r["findings"]
    }
    assert "blank" not in found


def _cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["rule", "blury"], "unknown code 'blury'; did you mean 'blurry'?"),
        (["check", ".", "--isolated", "--select", "upscale"], "did you mean 'upscaled'?"),
        (["check", ".", "--isolated", "--ignore", "intrelaced"], "did you mean 'interlaced'?"),
        (["check", ".", "--isolated", "--ignore", "warnings"], "did you mean 'warning'?"),
        (["estimate", "10x10", "--model", "claude-sonet-4-6"], "did you mean 'claude-sonnet-4-6'?"),
    ],
)
def test_a_mistyped_name_is_one_line_with_a_suggestion(argv: list[str], expected: str) -> None:
    proc = _cli(*argv, cwd=ROOT)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert expected in line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('select = ["blury"]', "select: unknown code 'blury'; did you mean 'blurry'?"),
        ('ignore = ["smal-side"]', "ignore: unknown code 'smal-side'; did you mean 'small-side'?"),
        ('per-file-ignores = {"*.png" = ["bordres"]}', "did you mean 'borders'?"),
        ('model = "claude-sonet-4-6"', "did you mean 'claude-sonnet-4-6'?"),
    ],
)
def test_a_mistyped_setting_is_one_line_with_a_suggestion(
    tmp_path: Path, setting: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.preflight]\n{setting}\n")
    Image.new("RGB", (300, 300)).save(tmp_path / "a.png")
    proc = _cli("check", "a.png", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    (line,) = proc.stderr.strip().splitlines()
    assert expected in line


def test_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(preflight.errors.InvalidArgumentError) as caught:
        check_selectors(["qqqqq"])
    assert "did you mean" not in str(caught.value)
    assert catalogue.closest("qqqqq", RULES) is None
    assert (
        catalogue.unknown_code_message("Blurry") == "unknown code 'Blurry'; did you mean 'blurry'?"
    )


# --- SARIF links -------------------------------------------------------------------------


def _sarif(capsys: pytest.CaptureFixture[str], folder: Path) -> dict[str, Any]:
    main(["check", str(folder), "--format", "sarif", "--isolated"])
    log: dict[str, Any] = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    return log


def _absolute(uri: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@pytest.mark.parametrize(
    ("urls", "information", "rules_page"),
    [
        (
            {"repository": "https://github.com/example-org/preflight.git"},
            "https://github.com/example-org/preflight.git",
            "https://github.com/example-org/preflight/blob/HEAD/docs/rules.md",
        ),
        (
            {
                "homepage": "https://example.org/preflight",
                "documentation": "https://example.org/docs/",
            },
            "https://example.org/preflight",
            "https://example.org/docs/rules.md",
        ),
        ({"repository": "https://example.org/preflight"}, "https://example.org/preflight", None),
        ({"documentation": "docs/"}, None, None),  # not absolute: no link at all
        ({}, None, None),
    ],
)
def test_sarif_links_are_absolute_or_absent(
    urls: dict[str, str],
    information: str | None,
    rules_page: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sarif_format, "project_urls", lambda: urls)
    Image.new("RGB", (100, 100)).save(tmp_path / "small.png")
    log = _sarif(capsys, tmp_path)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver.get("informationUri") == information
    for rule in driver["rules"]:
        if rules_page is None:
            assert "helpUri" not in rule
        else:
            assert rule["helpUri"] == f"{rules_page}#{rule['id']}"
            assert _absolute(rule["helpUri"])
    if information is not None:
        assert _absolute(driver["informationUri"])


def test_the_installed_metadata_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Whatever the installed package declares, the log stays valid and every
    # link in it is absolute (today pyproject.toml declares no URL: none).
    declared = sarif_format.project_urls()
    links = sarif_format.DocsLinks.from_urls(declared)
    Image.new("RGB", (100, 100)).save(tmp_path / "small.png")
    log = _sarif(capsys, tmp_path)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver.get("informationUri") == links.information
    uris = [rule["helpUri"] for rule in driver["rules"] if "helpUri" in rule]
    assert all(_absolute(uri) for uri in uris)
    assert bool(uris) == (links.rules is not None)


def test_rule_anchors_exist_in_docs_rules_md() -> None:
    text = (ROOT / "docs" / "rules.md").read_text()
    for code in RULES:
        assert f"\n### {code}\n" in text  # GitHub's anchor for the heading is the code itself


def test_docs_say_whether_the_project_declares_urls() -> None:
    import tomllib

    declared = "urls" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    says_none = "declares none yet" in (ROOT / "docs" / "ci.md").read_text()
    assert says_none != declared, "docs/ci.md (SARIF links) no longer says what pyproject declares"


def test_rule_pages_show_the_api_words_and_the_fixers(capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    from preflight.cli._rule import rule_markdown

    assert main(["rule", "over-max-side", "blurry"]) == 0
    over, blurry = capsys.readouterr().out.split("# blurry\n")
    assert "## The API's words\n\n`At least one of the image dimensions exceed" in over
    assert "Fixed by `preflight prepare` (prepare()), `preflight request --fix`" in over
    assert "The API's words" not in blurry
    assert "preflight does not fix it by itself." in blurry
    reserved = dataclasses.replace(RULES["blurry"], reserved="kept for 0.2's scripts")
    assert "Reserved: nothing reports it yet (kept for 0.2's scripts)." in rule_markdown(reserved)
    assert reserved.to_dict()["reserved"] == "kept for 0.2's scripts"
    assert "reserved" not in RULES["blurry"].to_dict()
