"""Attacks on what preflight reads and writes besides images: configuration
files and request bodies read within a bound, --fix that writes only a
valid body, prepare_request that reports instead of raising, pack that
streams and never leaves or clobbers stale bodies, names that cannot forge
output, temporaries of killed runs swept.

Each runs in bounded time and memory: endless input comes from /dev/zero
or a generator behind a pipe, and is cut off at preflight's own bounds.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import preflight
from preflight._inputs import config
from preflight._inputs.config import load_models
from preflight._inputs.writing import sweep_stale_temporaries, write_atomically
from preflight._requests import fixing
from preflight._requests.fixing import MIN_IMAGE_BUDGET, prepare_request
from preflight.cli import main
from preflight.cli._reporters import clean_data, display_text

MODEL = "claude-haiku-4-5"


@pytest.fixture(autouse=True)
def builtin_models(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("PREFLIGHT_MODELS", raising=False)
    yield
    load_models(None, environment=False)


def png(width: int, height: int, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (10, 200, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def image_block(data: bytes) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(data).decode(),
        },
    }


def body(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": [*blocks, {"type": "text", "text": "hi"}]}],
        **extra,
    }


def run_cli(*argv: str, cwd: Path, stdin: Any = None, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=stdin,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def one_line_error(proc: Any, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "warning" not in line]
    assert len(lines) == 1, proc.stderr
    return str(lines[0])


# --- configuration: bounded, and no silent re-pointing of built-in models ----------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "more than 1,048,576 bytes"),  # /dev/zero
        ("a = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ('[models."x"]\nprice = "1"\n' + "# padding\n" * 120_000, "more than 1,048,576 bytes"),
        ("\xff\xfe not text", "not UTF-8"),
    ],
    ids=["dev-zero", "deep", "huge", "not-utf8"],
)
def test_a_bad_models_file_is_one_line_at_first_use(
    tmp_path: Path, text: str | None, message: str
) -> None:
    path = Path("/dev/zero")
    if text is not None:
        path = tmp_path / "models.toml"
        path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    env = {"PREFLIGHT_MODELS": str(path)}
    line = one_line_error(run_cli("estimate", "100x100", cwd=tmp_path, env=env), 2)
    assert "PREFLIGHT_MODELS" in line and message in line
    # The library: importing is fine, the first lookup is the one error.
    code = "import preflight\ntry:\n    preflight.estimate(100, 100)\nexcept preflight.ConfigError as e:\n    print('ConfigError', e)\n"  # noqa: E501
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("ConfigError PREFLIGHT_MODELS"), proc


def test_a_deep_project_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "preflight.toml").write_text("x = " + "{a=" * 3000 + "1" + "}" * 3000)
    with pytest.raises(preflight.ConfigError, match="nested too deeply"):
        load_models(tmp_path)


BUILTIN_REPOINTS = [
    '[tool.preflight.models."claude-haiku-4-5"]\nprice = "0.01"\n',
    '[tool.preflight.models."claude-haiku-4.5"]\nprice = "0.01"\n',  # a spelling of it
    '[tool.preflight.models."cheap"]\nprice = "0.01"\naliases = ["claude-haiku-4-5"]\n',
]


@pytest.mark.parametrize("text", BUILTIN_REPOINTS, ids=["id", "spelling", "alias"])
def test_a_found_project_file_cannot_repoint_a_builtin_model(tmp_path: Path, text: str) -> None:
    scanned = tmp_path / "downloads"
    scanned.mkdir()
    (scanned / "pyproject.toml").write_text(text)
    (scanned / "a.png").write_bytes(png(40, 30))
    line = one_line_error(run_cli("check", "downloads", "--model", MODEL, cwd=tmp_path), 2)
    assert "re-points the built-in model 'claude-haiku-4-5'" in line
    assert "override = true" in line
    with pytest.raises(preflight.ConfigError, match="re-points"):
        load_models(scanned)
    # Opted in, or named outright: the user's choice.
    (scanned / "pyproject.toml").write_text(text + "override = true\n")
    load_models(scanned)
    (scanned / "pyproject.toml").write_text(text)
    proc = run_cli("check", "downloads", "--config", "downloads/pyproject.toml", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr


def test_a_found_project_file_may_still_add_models(tmp_path: Path) -> None:
    (tmp_path / "preflight.toml").write_text('[models."in-house"]\nprice = "3"\n')
    load_models(tmp_path)
    assert str(preflight.get_model("in-house").input_usd_per_mtok) == "3"
    assert "override" in config.MODEL_KEYS


# --- request bodies ------------------------------------------------------------------


def test_endless_standard_input_is_cut_off(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zeros:
        proc = run_cli("request", "-", cwd=tmp_path, stdin=zeros)
    line = one_line_error(proc, 1)
    assert "more than" in line and "not read further" in line


def test_a_device_named_as_the_body_is_cut_off(tmp_path: Path) -> None:
    line = one_line_error(run_cli("request", "/dev/zero", cwd=tmp_path), 1)
    assert "/dev/zero: more than" in line


def test_the_body_bound_applies_to_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from preflight.cli import _request

    path = tmp_path / "body.json"
    path.write_text(json.dumps(body()))
    assert _request._read(str(path), limit=10_000) == path.read_bytes()
    with pytest.raises(preflight.SourceError, match="more than 10 bytes"):
        _request._read(str(path), limit=10)


def test_a_byte_order_mark_is_read_past_and_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "body.json"
    data = json.dumps(body(image_block(png(9000, 100)))).encode()
    source.write_bytes(b"\xef\xbb\xbf" + data)
    assert main(["request", str(source), "--fix", str(source)]) == 0
    captured = capsys.readouterr()
    assert "byte-order mark" in captured.err
    fixed = source.read_bytes()
    assert not fixed.startswith(b"\xef\xbb\xbf")
    assert json.loads(fixed)["messages"][0]["content"][0]["type"] == "image"
    assert not preflight.check_request(fixed).rejected


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "[1, 2, 3]",
        "null",
        '{"model": "claude-haiku-4-5", "max_tokens": NaN, "messages": []}',
        '{"model": "claude-haiku-4-5", "max_tokens": Infinity, "messages": []}',
        '{"model": "claude-haiku-4-5", "max_tokens": 1, "messages": [], "x": "\\ud800"}',
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=["text", "list", "null", "nan", "infinity", "surrogate", "deep"],
)
def test_fix_never_writes_over_a_body_it_cannot_send(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    source = tmp_path / "body.json"
    source.write_text(text)
    before = source.read_bytes()
    other = tmp_path / "out.json"
    assert main(["request", str(source), "--fix", str(source)]) == 1
    assert main(["request", str(source), "--fix", str(other)]) == 1
    out = capsys.readouterr().out
    assert source.read_bytes() == before
    assert not other.exists()
    assert "nothing written" in out
    assert "malformed-request" in out


def test_a_nan_beside_an_image_to_fix_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "body.json"
    source.write_text(json.dumps(body(image_block(png(9000, 100)), temperature=math.nan)))
    before = source.read_bytes()
    assert main(["request", str(source), "--fix", str(source)]) == 1
    assert source.read_bytes() == before
    assert "cannot be sent as JSON" in capsys.readouterr().out


def test_nothing_to_fix_leaves_the_input_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "body.json"
    source.write_text(json.dumps(body(image_block(png(64, 48))), indent=4))  # not compact
    before, stamp = source.read_bytes(), source.stat().st_mtime_ns
    time.sleep(0.01)
    assert main(["request", str(source), "--fix", str(source)]) == 0
    assert source.read_bytes() == before and source.stat().st_mtime_ns == stamp
    assert "nothing to fix" in capsys.readouterr().out
    other = tmp_path / "copy.json"
    assert main(["request", str(source), "--fix", str(other)]) == 0
    assert other.read_bytes() == before  # the input's bytes, as they are


def test_request_ignores_the_one_image_settings_of_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.preflight]\nimages-per-request = 5\noversized = "error"\n'
    )
    (tmp_path / "body.json").write_text(json.dumps(body(image_block(png(64, 48)))))
    monkeypatch.chdir(tmp_path)
    assert main(["request", "body.json"]) == 0
    assert "images: 1" in capsys.readouterr().out


# --- prepare_request: report, never raise ---------------------------------------------

HOSTILE_VALUES = {
    "nan": math.nan,
    "infinity": math.inf,
    "bytes": b"x",
    "surrogate": "\ud800",
    "set": {1, 2},
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_VALUES))
@pytest.mark.parametrize("as_json", [False, True])
def test_prepare_request_reports_what_check_request_reports(kind: str, as_json: bool) -> None:
    value = body(image_block(png(9000, 100)), metadata={"x": HOSTILE_VALUES[kind]})
    given: Any = value
    if as_json:
        if kind in ("bytes", "set"):
            pytest.skip("not expressible in JSON")
        given = json.dumps(value)
    result = prepare_request(given)
    assert result.changes == ()
    assert "malformed-request" in [f.code for f in result.report.findings]
    assert result.report.rejected


def test_prepare_request_reports_a_cycle_and_deep_nesting() -> None:
    cyclic = body(image_block(png(9000, 100)))
    cyclic["metadata"] = {"self": cyclic}
    deep: dict[str, Any] = {}
    for _ in range(50_000):
        deep = {"a": deep}
    for value in (cyclic, body(image_block(png(9000, 100)), metadata=deep)):
        result = prepare_request(value)
        assert result.changes == ()
        assert "malformed-request" in [f.code for f in result.report.findings]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=8)
    | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(extra=json_values, where=st.sampled_from(["top", "message", "block"]))
def test_prepare_request_never_raises_on_odd_values(extra: Any, where: str) -> None:
    value = body(image_block(png(64, 48)))
    if where == "top":
        value["metadata"] = extra
    elif where == "message":
        value["messages"][0]["extra"] = extra
    else:
        value["messages"][0]["content"][0]["extra"] = extra
    result = prepare_request(value)
    check = preflight.check_request(value)
    assert [f.code for f in result.before.findings] == [f.code for f in check.findings]


def _tight(limit: int) -> preflight.Options:
    import dataclasses

    options = preflight.make_options(model=MODEL)
    return dataclasses.replace(
        options, surface=dataclasses.replace(options.surface, max_request_bytes=limit)
    )


def test_far_over_the_body_limit_prepares_nothing_in_vain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The 600 images, scaled down: 40 images that no budget fits.
    calls: list[int | None] = []
    original = fixing.prepare

    def counting(*args: Any, **keywords: Any) -> Any:
        calls.append(keywords.get("max_bytes"))
        return original(*args, **keywords)

    monkeypatch.setattr(fixing, "prepare", counting)
    blocks = [image_block(png(48, 48, noise=True)) for _ in range(40)]
    options = _tight(60_000)  # under 40 x MIN_IMAGE_BUDGET
    result = prepare_request(body(*blocks), options)
    assert calls == []
    assert result.changes == ()
    failure = [f for f in result.failures if f.code == "cannot-prepare"]
    assert failure and "split the request" in failure[0].fix


def test_over_the_body_limit_shrinks_no_image_under_the_floor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budgets: list[int] = []
    original = fixing.prepare

    def recording(*args: Any, **keywords: Any) -> Any:
        budgets.append(keywords["max_bytes"])
        return original(*args, **keywords)

    monkeypatch.setattr(fixing, "prepare", recording)
    blocks = [image_block(png(150, 150, noise=True)) for _ in range(6)]
    options = _tight(200_000)  # each image is about 90 KB of base64: 540 KB in all
    result = prepare_request(body(*blocks), options)
    assert budgets and min(budgets) >= MIN_IMAGE_BUDGET
    assert not result.report.rejected, [f.code for f in result.report.findings]
    assert result.report.body_bytes is not None and result.report.body_bytes <= 200_000


# --- pack: streamed, and never beside (or over) stale bodies -----------------------


def pack_folder(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "images"
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"{i:02d}.png").write_bytes(png(80 + i, 60))
    return folder


def test_pack_writes_each_body_before_preparing_the_next_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from preflight._requests import packing

    pack_folder(tmp_path, 6)
    out = tmp_path / "out"
    seen: list[list[str]] = []
    original = packing.prepare

    def watching(*args: Any, **keywords: Any) -> Any:
        seen.append(sorted(p.name for p in out.glob("request-*.json")))
        return original(*args, **keywords)

    monkeypatch.setattr(packing, "prepare", watching)
    # 2 images a request: claude.ai takes 20 per message; force 2 with a model cap.
    (tmp_path / "preflight.toml").write_text('[models."tiny-cap"]\nprice = "1"\nimage_cap = 2\n')
    monkeypatch.chdir(tmp_path)
    assert main(["pack", "images", "--out", "out", "--model", "tiny-cap"]) == 0
    assert sorted(p.name for p in out.glob("request-*.json")) == [
        "request-001.json",
        "request-002.json",
        "request-003.json",
    ]
    # The third image was prepared once request 1 was on disk, the fifth after request 2.
    assert seen[2] == ["request-001.json"] and seen[4] == ["request-001.json", "request-002.json"]
    assert (out / ".preflight-pack").read_text().split() == [
        "request-001.json",
        "request-002.json",
        "request-003.json",
    ]
    capsys.readouterr()


def test_pack_removes_its_own_earlier_bodies_and_refuses_strangers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "preflight.toml").write_text('[models."tiny-cap"]\nprice = "1"\nimage_cap = 2\n')
    monkeypatch.chdir(tmp_path)
    pack_folder(tmp_path, 6)
    assert main(["pack", "images", "--out", "out", "--model", "tiny-cap"]) == 0
    assert len(list(Path("out").glob("request-*.json"))) == 3
    # A smaller second run: the earlier third body does not linger beside it.
    assert main(["pack", "images/00.png", "--out", "out", "--model", "tiny-cap"]) == 0
    assert sorted(p.name for p in Path("out").glob("request-*.json")) == ["request-001.json"]
    # A body no pack wrote: refused, untouched.
    stranger = Path("out") / "request-007.json"
    stranger.write_text('{"mine": true}')
    assert main(["pack", "images", "--out", "out", "--model", "tiny-cap"]) == 2
    assert "request-007.json, which no pack wrote there" in capsys.readouterr().err
    assert stranger.read_text() == '{"mine": true}'
    assert (Path("out") / "request-001.json").exists()  # nothing removed either


def test_pack_escapes_names_in_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("::error::x.png").write_bytes(b"not an image at all")
    assert main(["pack", "::error::x.png", "--out", "out"]) == 1
    out = capsys.readouterr().out
    assert not any(line.lstrip().startswith("::") for line in out.splitlines())
    assert "\\x3a:error::x.png: not packed" in out


# --- names in every output format --------------------------------------------------------

ODD_NAMES = [b"caf\xe9.png", b"::error::forged.png", b"two\nlines.png", b"tab\there.png"]


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "github", "sarif", "junit"])
def test_odd_names_cannot_break_or_forge_any_output(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ODD_NAMES:
        Path(os.fsdecode(os.path.join(os.fsencode(folder), name))).write_bytes(png(40, 30))
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "check", "imgs", "--format", fmt, "--isolated"],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    text = proc.stdout.decode("utf-8")  # valid UTF-8 whatever the names
    assert "\\ud" not in text.lower() or fmt == "text"  # no surrogate escapes in data
    commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
    if fmt == "github":
        assert all(line.startswith(("::warning ", "::notice ", "::error ")) for line in commands)
        assert all("forged" not in line.split("::", 2)[1] or "%3A" in line for line in commands)
    else:
        assert commands == []
    if fmt in ("json", "sarif"):
        json.loads(text)
    if fmt == "jsonl":
        for line in text.splitlines():
            json.loads(line)
    if fmt == "sarif":
        uris = [
            loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(text)["runs"][0]["results"]
            for loc in result.get("locations", [])
        ]
        assert "imgs/caf%E9.png" in uris  # the name's own byte, percent-encoded
    if fmt in ("json", "jsonl"):
        assert "caf\\\\xe9.png" in text  # os.fsencode's byte, backslash-escaped


def test_display_and_clean_text_rules() -> None:
    assert display_text("::error::x") == "\\x3a:error::x"
    assert display_text("  ::notice::x") == "  \\x3a:notice::x"
    assert display_text("a::b") == "a::b"
    assert display_text("caf\udce9\n") == "caf\\xe9\\n"
    assert clean_data({"k\udce9": ["\ud800", 1, None]}) == {"k\\xe9": ["\\ud800", 1, None]}


# --- paths and temporaries -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "pack", "prepare"])
def test_an_empty_path_is_a_usage_error(tmp_path: Path, command: str) -> None:
    (tmp_path / "a.png").write_bytes(png(40, 30))
    extra = ["--out", "out"] if command != "check" else []
    line = one_line_error(run_cli(command, "a.png", "", *extra, cwd=tmp_path), 2)
    assert "path 2 is empty" in line
    assert not (tmp_path / "out").exists()


def test_paths_on_standard_input_are_bounded(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zeros:
        proc = run_cli("check", "-", "-0", cwd=tmp_path, stdin=zeros)
    assert "reads no more" in one_line_error(proc, 2)


def test_a_killed_runs_temporaries_are_swept_once_old(tmp_path: Path) -> None:
    old = tmp_path / ".out.png.preflight-abcd1234"
    young = tmp_path / ".out.png.preflight-zz99zz99"
    other = tmp_path / ".notes.draft-12345678"  # not ours: never touched
    for path in (old, young, other):
        path.write_bytes(b"half")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    assert sweep_stale_temporaries(tmp_path) == [old.name]
    assert young.exists() and other.exists() and not old.exists()
    # write_atomically sweeps a folder the first time it writes there.
    folder = tmp_path / "fresh"
    folder.mkdir()
    stale = folder / ".a.json.preflight-00000000"
    stale.write_bytes(b"")
    os.utime(stale, (hours_ago, hours_ago))
    write_atomically(folder / "a.json", b"{}")
    assert not stale.exists() and (folder / "a.json").read_bytes() == b"{}"
    assert [p.name for p in folder.iterdir()] == ["a.json"]  # no temporary left


# --- files of sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("width,height\n" + "1" * 300_000 + ",5\n", "line 2: not a CSV of whole numbers"),
        ('width,height\n"' + "x" * 300_000 + '",5\n', "line 2: not a CSV of whole numbers"),
    ],
    ids=["long-number", "long-quoted"],
)
def test_a_huge_csv_field_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "sizes.csv"
    path.write_text(text)
    assert main(["estimate", "--from", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_sizes_file_is_read_within_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from preflight._inputs import sizes

    monkeypatch.setattr(sizes, "MAX_SIZES_FILE_BYTES", 1 << 20)
    with pytest.raises(preflight.DataError, match="more than 1,048,576 bytes"):
        sizes.read_sizes("/dev/zero")
    with open("/dev/zero", "rb") as zeros, pytest.raises(preflight.DataError, match="more than"):
        sizes.read_sizes(zeros)
    small = tmp_path / "ok.csv"
    small.write_text("width,height\n100,200\n")
    assert len(sizes.read_sizes(small)) == 1
