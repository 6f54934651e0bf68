# Table-driven over fixtures/manifest.json: probing each committed fixture
# gives the recorded facts (or error code), and `inspect` gives exactly the
# recorded findings.

from __future__ import annotations

import pytest
from helpers import FIXTURES, MANIFEST, PROBE_FACTS

import preflight
from preflight.errors import HeaderError


def test_manifest_covers_every_fixture() -> None:
    on_disk = {
        str(p.relative_to(FIXTURES))
        for folder in ("samples", "unsupported", "hostile", "examples")
        for p in (FIXTURES / folder).iterdir()
    }
    assert on_disk == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_probe_matches_manifest(name: str) -> None:
    entry = MANIFEST[name]
    path = FIXTURES / name
    if "error" in entry:
        with pytest.raises(HeaderError) as caught:
            preflight.probe(path)
        assert caught.value.code == entry["error"]
        return
    info = preflight.probe(path)
    for fact in PROBE_FACTS:
        if fact in entry:
            assert getattr(info, fact) == entry[fact], fact
    assert info.file_bytes == path.stat().st_size
    assert preflight.probe(path.read_bytes()).width == info.width


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_inspect_findings_match_manifest(name: str) -> None:
    # The manifest's findings are for a standard-tier model (Sonnet 4.5).
    report = preflight.inspect(FIXTURES / name, model="claude-sonnet-4-5")
    assert sorted(f.code for f in report.findings) == sorted(MANIFEST[name]["findings"])


def test_samples_have_no_errors() -> None:
    for name in MANIFEST:
        if name.startswith("samples/"):
            assert not preflight.inspect(FIXTURES / name).rejected, name


def test_examples_are_the_quickstart_set() -> None:
    # The quickstart's six files, each showing one thing preflight is for:
    # a rejection (too large, a lying extension), a resize, a rotation the
    # model will not see, an animation, a tiny image. Small in bytes.
    examples = sorted(FIXTURES.glob("examples/*"))
    assert [p.name for p in examples] == [
        "animation.gif",
        "chart.jpg",
        "icon.png",
        "phone-photo.jpg",
        "scan.png",
        "screenshot.png",
    ]
    assert sum(p.stat().st_size for p in examples) < 1_000_000
    rejected = {p.name for p in examples if preflight.inspect(p).rejected}
    assert rejected == {"chart.jpg", "scan.png"}
    photo = preflight.probe(FIXTURES / "examples" / "phone-photo.jpg")
    assert (photo.display_width, photo.display_height) == (3024, 4032)
