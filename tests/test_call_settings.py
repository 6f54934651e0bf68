# The per-call settings (preflight/_core/settings.py): CheckSettings and
# PrepareSettings are validated once, hold canonical values, pickle, read
# back from their manifest form, and hash stably; every public entry takes
# them as an object or as keywords with the same result; the 0.2 keyword
# names still work for one release, with a DeprecationWarning pointing at
# the caller; memory:// sources are measured as local bytes are.

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from test_quality import png, scene
from test_quality_wiring import blurry, enlarged

import preflight
from preflight._core.geometry import Target
from preflight._core.options import make_options
from preflight._core.settings import (
    CHECK_KEYWORDS,
    ENGINE_ALIASES,
    ENGINE_NAMES,
    PREPARE_KEYWORDS,
    CheckSettings,
    PrepareSettings,
    Thresholds,
    make_check_settings,
    make_prepare_settings,
    target_from_spec,
    target_spec,
)
from preflight._core.tables import TOKEN_RULES
from preflight._imaging.quality import BLURRY, UPSCALED
from preflight._runs.resume import options_digest
from preflight.cli import main
from preflight.errors import InvalidArgumentError

HERE = Path(__file__).name


# --- the objects --------------------------------------------------------------------


def test_defaults_and_canonical_values() -> None:
    assert CheckSettings() == make_check_settings()
    assert PrepareSettings() == make_prepare_settings()
    made = make_prepare_settings(target="tokens=800", image_format=" JPG ", engine="PyVips")
    assert made.target == Target("tokens", max_tokens=800)
    assert (made.image_format, made.engine) == ("jpeg", "vips")
    assert CheckSettings(engine="PIL").engine == "pillow"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.tile = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"target": "huge"}, "bad target"),
        ({"image_format": "tiff"}, "unknown output format"),
        ({"encoder_quality": 0}, "encoder_quality"),
        ({"encoder_quality": True}, "encoder_quality"),
        ({"engine": "magick"}, "unknown engine"),
        ({"pixel_cap": 0}, "pixel_cap"),
        ({"measure_quality": 1}, "measure_quality"),
        ({"overlap": -1}, "overlap"),
        ({"overview": "yes"}, "overview"),
        ({"tile": True, "image_format": "webp"}, "tiles are written as"),
        ({"tile": True, "target": "guide"}, "a target"),
        ({"tile": True, "measure_quality": True}, "not measured on tiles"),
        ({"thresholds": {"blur": 0.5}}, "preflight.Thresholds"),
        ({"colour": "red"}, "unknown .*'colour'"),
    ],
)
def test_bad_prepare_settings_are_the_callers_mistake(
    keywords: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        make_prepare_settings(**keywords)
    with pytest.raises(preflight.UsageError, match=message.split(" ")[0]):
        preflight.prepare(png(scene(64, 48)), **keywords)


@pytest.mark.parametrize(
    "keywords",
    [{"decode": "yes"}, {"measure_quality": None}, {"pixel_cap": 2.5}, {"engine": 3}],
)
def test_bad_check_settings_are_the_callers_mistake(keywords: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        make_check_settings(**keywords)
    with pytest.raises(preflight.UsageError):
        preflight.inspect(png(scene(64, 48)), **keywords)


def test_thresholds_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match=r"thresholds\.blur"):
        Thresholds(blur=float("nan"))
    with pytest.raises(InvalidArgumentError, match=r"thresholds\.blank"):
        Thresholds(blank=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"thresholds\.text_px"):
        Thresholds(text_px=-1)


def test_the_engine_names_are_the_engine_registrys() -> None:
    from preflight._imaging import engines

    assert set(ENGINE_NAMES) == set(engines.ENGINE_NAMES)
    for alias, name in ENGINE_ALIASES.items():
        assert make_prepare_settings(engine=alias).engine == name


prepare_settings = st.builds(
    PrepareSettings,
    target=st.sampled_from(
        [
            Target(),
            Target("guide"),
            Target("effective"),
            Target("tokens", max_tokens=800),
            Target("tokens", max_tokens=5, rule="patches"),
            Target("tokens", max_tokens=5, rule="guide"),  # one of them has no text spelling
            Target("box", box=(640, 480)),
        ]
    ),
    image_format=st.sampled_from(["auto", "jpeg", "png", "webp"]),
    encoder_quality=st.none() | st.integers(1, 100),
    engine=st.sampled_from([None, "vips", "pillow"]),
    pixel_cap=st.integers(1, 2**40),
    measure_quality=st.booleans(),
    thresholds=st.builds(Thresholds, blur=st.floats(0, 1), blank=st.integers(0, 255)),
    tile=st.just(False),
    overlap=st.integers(0, 500),
    overview=st.booleans(),
)
check_settings = st.builds(
    CheckSettings,
    decode=st.booleans(),
    measure_quality=st.booleans(),
    thresholds=st.builds(Thresholds, text_px=st.floats(0, 40)),
    engine=st.sampled_from([None, "vips", "pillow"]),
    pixel_cap=st.integers(1, 2**40),
)


@given(prepare_settings)
def test_prepare_settings_travel_whole(settings: PrepareSettings) -> None:
    # Through a manifest (JSON), through a pool or a cluster (pickle).
    text = json.dumps(settings.to_dict())
    assert PrepareSettings.from_dict(json.loads(text)) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert settings.digest() == PrepareSettings.from_dict(json.loads(text)).digest()


@given(check_settings)
def test_check_settings_travel_whole(settings: CheckSettings) -> None:
    assert CheckSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings


def test_the_digest_changes_with_every_field() -> None:
    base = PrepareSettings()
    changed = [
        dataclasses.replace(base, target=Target("guide")),
        dataclasses.replace(base, image_format="png"),
        dataclasses.replace(base, encoder_quality=70),
        dataclasses.replace(base, engine="pillow"),
        dataclasses.replace(base, pixel_cap=1000),
        dataclasses.replace(base, measure_quality=True),
        dataclasses.replace(base, thresholds=Thresholds(blur=0.4)),
        dataclasses.replace(base, tile=True),
        dataclasses.replace(base, overlap=10),
        dataclasses.replace(base, overview=False),
    ]
    assert len(changed) == len(dataclasses.fields(PrepareSettings))
    digests = {options_digest(make_options(), s) for s in [base, *changed]}
    assert len(digests) == len(changed) + 1
    # Stable: a known value, the same in any process (a resume compares it).
    assert base.digest() == PrepareSettings().digest()
    assert base.digest().startswith("blake2b-256:")
    assert options_digest(make_options(), base) == options_digest(make_options(), base.to_dict())


def test_targets_read_back() -> None:
    for spec in ("api", "guide", "effective", "tokens=800", "box=640x480"):
        assert target_spec(target_from_spec(spec)) == spec
    other_rule = next(r for r in TOKEN_RULES if r != Target().rule)
    odd = Target("tokens", max_tokens=5, rule=other_rule)
    assert isinstance(target_spec(odd), dict)
    assert target_from_spec(target_spec(odd)) == odd
    with pytest.raises(InvalidArgumentError):
        target_from_spec({"policy": "box", "box": 3})
    with pytest.raises(InvalidArgumentError, match="unknown prepare settings key"):
        PrepareSettings.from_dict({"quality": 3})


def test_keyword_sets_match_the_fields() -> None:
    assert {f.name for f in dataclasses.fields(CheckSettings)} == CHECK_KEYWORDS
    assert {f.name for f in dataclasses.fields(PrepareSettings)} == PREPARE_KEYWORDS


# --- the entries take the object or the keywords ------------------------------------


def test_inspect_takes_settings_or_keywords() -> None:
    data = blurry()
    by_keywords = preflight.inspect(data, measure_quality=True, decode=True)
    by_object = preflight.inspect(data, settings=CheckSettings(decode=True, measure_quality=True))
    assert by_keywords == by_object
    assert BLURRY in [f.code for f in by_object.findings]
    # Keywords given with an object win over it.
    off = preflight.inspect(data, settings=by_object_settings(), measure_quality=False)
    assert off.findings == ()
    # A strict threshold set makes the same image pass: the thresholds travel.
    lenient = CheckSettings(measure_quality=True, thresholds=Thresholds(blur=0.99))
    assert BLURRY not in [f.code for f in preflight.inspect(data, settings=lenient).findings]


def by_object_settings() -> CheckSettings:
    return CheckSettings(measure_quality=True)


def test_analyze_quality_takes_the_check_settings() -> None:
    data = enlarged()
    plain = preflight.analyze_quality(data)
    assert UPSCALED in [f.code for f in plain.findings]
    lenient = CheckSettings(thresholds=Thresholds(upscaled=0.0, periodicity=1e9))
    assert UPSCALED not in [
        f.code for f in preflight.analyze_quality(data, settings=lenient).findings
    ]
    assert preflight.analyze_quality(data, settings=lenient) == preflight.analyze_quality(
        data, thresholds=lenient.thresholds
    )
    with pytest.raises(preflight.UsageError, match="pixel_cap"):
        preflight.analyze_quality(data, pixel_cap=0)


def test_prepare_takes_settings_or_keywords() -> None:
    data = png(scene(1200, 900))
    settings = PrepareSettings(
        target=Target("box", box=(400, 400)), image_format="webp", encoder_quality=60
    )
    by_object = preflight.prepare(data, settings=settings)
    by_keywords = preflight.prepare(
        data, target="box=400x400", image_format="webp", encoder_quality=60
    )
    assert by_object == by_keywords
    assert (by_object.media_type, by_object.width) == ("image/webp", 400)
    assert "quality 60" in by_object.actions[-2].detail
    # Keywords win over the object.
    assert preflight.prepare(data, settings=settings, image_format="png").media_type == (
        "image/png"
    )
    with pytest.raises(preflight.UsageError, match="tile"):
        preflight.prepare(data, settings=PrepareSettings(tile=True))


def test_measured_quality_follows_its_thresholds_in_prepare() -> None:
    data = blurry()
    found = preflight.prepare(data, measure_quality=True).findings
    assert BLURRY in [f.code for f in found]
    lenient = preflight.prepare(data, measure_quality=True, thresholds=Thresholds(blur=0.99))
    assert BLURRY not in [f.code for f in lenient.findings]


def test_tile_takes_settings_and_honours_the_encoder_quality() -> None:
    data = png(scene(700, 1700))
    plain = preflight.tile(data, tier="standard", image_format="jpeg")
    settings = PrepareSettings(image_format="jpeg", encoder_quality=30, overlap=0)
    low = preflight.tile(data, tier="standard", settings=settings)
    assert sum(len(i.data) for i in low.images) < sum(len(i.data) for i in plain.images)
    assert low.layout == preflight.tile(data, tier="standard", overlap=0).layout
    assert preflight.tile(data, tier="standard", overview=False).overview is None
    for refused in ({"target": "guide"}, {"measure_quality": True}, {"image_format": "webp"}):
        with pytest.raises(preflight.UsageError):
            preflight.tile(data, **refused)  # type: ignore[arg-type]


def test_unknown_keywords_name_both_kinds() -> None:
    with pytest.raises(preflight.UsageError, match=r"settings: .*options: "):
        preflight.inspect(b"", modle="x")  # type: ignore[call-arg]
    with pytest.raises(preflight.UsageError, match=r"settings must be a preflight\.CheckSettings"):
        preflight.inspect(b"", settings=PrepareSettings())  # type: ignore[arg-type]


# --- the 0.2 names ------------------------------------------------------------------


def _warned(call: Any) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, DeprecationWarning)]


def test_the_old_keywords_still_work_and_warn_at_the_caller() -> None:
    data = blurry()
    cases = [
        (
            lambda: preflight.inspect(data, quality=True),
            lambda: preflight.inspect(data, measure_quality=True),
            "quality= is deprecated",
        ),
        (
            lambda: preflight.prepare(data, format="png", quality=40, check_quality=True),
            lambda: preflight.prepare(
                data, image_format="png", encoder_quality=40, measure_quality=True
            ),
            "use image_format=",
        ),
        (
            lambda: preflight.tile(data, format="jpeg", quality=50),
            lambda: preflight.tile(data, image_format="jpeg", encoder_quality=50),
            "use encoder_quality=",
        ),
        (
            lambda: make_prepare_settings(format="png"),  # type: ignore[call-arg]
            lambda: make_prepare_settings(image_format="png"),
            "make_prepare_settings: format=",
        ),
    ]
    for old, new, words in cases:
        result, caught = _warned(old)
        assert result == new()
        assert any(words in str(w.message) for w in caught), [str(w.message) for w in caught]
        assert {Path(w.filename).name for w in caught} == {HERE}  # the caller's line
    with pytest.raises(preflight.UsageError, match="old name"):
        preflight.prepare(data, quality=40, encoder_quality=40)  # type: ignore[call-arg]


# --- every source alike ---------------------------------------------------------------


@pytest.fixture
def memory() -> Iterator[str]:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    yield "memory://call-settings"
    if fs.exists("/call-settings"):
        fs.rm("/call-settings", recursive=True)


def test_a_memory_url_is_measured_as_local_bytes_are(memory: str, tmp_path: Path) -> None:
    import fsspec

    local = tmp_path / "blurry.png"
    local.write_bytes(blurry())
    url = f"{memory}/blurry.png"
    with fsspec.open(url, "wb") as handle:
        handle.write(local.read_bytes())
    settings = CheckSettings(decode=True, measure_quality=True)
    from_disk = preflight.inspect(local, settings=settings)
    from_url = preflight.inspect(url, settings=settings)
    assert BLURRY in [f.code for f in from_disk.findings]
    assert from_url.findings == from_disk.findings
    assert from_url.estimate == from_disk.estimate
    prepared = preflight.prepare(url, measure_quality=True, image_format="png")
    assert prepared == dataclasses.replace(
        preflight.prepare(local, measure_quality=True, image_format="png"),
        source=prepared.source,
    )


# --- the command line ---------------------------------------------------------------


def test_prepare_quality_is_a_deprecated_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (2400, 600), "teal").save(source)
    argv = ["prepare", str(source), "--image-format", "jpeg", "--no-progress", "--format", "json"]
    assert main([*argv, "--out", str(tmp_path / "new"), "--encoder-quality", "30"]) == 0
    new = json.loads(capsys.readouterr().out)["results"][0]
    assert main([*argv, "--out", str(tmp_path / "old"), "--quality", "30"]) == 0
    captured = capsys.readouterr()
    old = json.loads(captured.out)["results"][0]
    assert "--quality is deprecated" in captured.err
    assert (tmp_path / "new" / "in.jpg").read_bytes() == (tmp_path / "old" / "in.jpg").read_bytes()
    assert new["actions"] == old["actions"]
    assert any("quality 30" in a["detail"] for a in new["actions"])


@pytest.mark.parametrize(
    "extra",
    [
        ["--tile", "--target", "guide"],
        ["--tile", "--check-quality"],
        ["--tile", "--image-format", "webp"],
    ],
)
def test_settings_tiles_cannot_honour_are_bad_usage(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (64, 64)).save(source)
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), *extra]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_the_manifest_records_the_settings_and_tiles_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "long.png").write_bytes(png(scene(700, 1700)))
    shutil.copy(folder / "long.png", folder / "copy.png")
    out = tmp_path / "out"
    argv = ["prepare", str(folder), "--out", str(out), "--tile", "--tier", "standard"]
    argv += ["--overlap", "40", "--image-format", "jpeg", "--no-progress", "--format", "json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    lines = [
        json.loads(line) for line in (out / "preflight-manifest.jsonl").read_text().splitlines()
    ]
    header = lines[0]
    assert PrepareSettings.from_dict(header["settings"]) == make_prepare_settings(
        tile=True, overlap=40, image_format="jpeg"
    )
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix != ".jsonl"}
    assert len(stamps) >= 6  # the overview and the tiles of each
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["summary"]["resumed"] == 2
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix != ".jsonl"} == stamps
    # The totals of a resumed tiling are the totals it had when it was made.
    ignore = ("resumed",)
    assert {k: v for k, v in again["summary"].items() if k not in ignore} == {
        k: v for k, v in first["summary"].items() if k not in ignore
    }
    # Another overlap is another output: done again.
    assert main([*argv, "--overlap", "50"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["resumed"] == 0


def test_prepare_refuses_a_url_as_its_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.png"
    Image.new("RGB", (64, 64)).save(source)
    assert main(["prepare", str(source), "--out", "memory://bucket/out/"]) == 2
    assert "local folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # no "memory:" folder
