# Table-driven over fixtures/manifest.json, at the parser's level: parse()
# on each committed fixture gives the recorded facts or error code, whether
# it gets the whole file at once or is fed the prefixes it asks for, and
# probe() gives the same from a path, bytes, a seekable file object and a
# pipe-like stream. (tests/test_fixtures.py checks probe's end-of-file flags
# and the findings `preflight check` reports for the same files.)

from __future__ import annotations

import io

import pytest
from helpers import FIXTURES, HEADER_FACTS, MANIFEST, Pipe

import preflight
from preflight._core.headers import NeedMore, parse
from preflight._core.info import FORMAT_NAMES, Header
from preflight.errors import HeaderError

NAMES = sorted(MANIFEST)


def parse_whole(data: bytes) -> Header | str:
    """The header of the whole file, or the code of the error parse raises."""
    try:
        result = parse(data, complete=True)
    except HeaderError as error:
        return error.code
    assert isinstance(result, Header)
    return result


def parse_fed(data: bytes) -> Header | str:
    """As parse_whole, but feeding parse() the prefixes it asks for, the way
    probe reads a file: complete only once the data runs out."""
    held = b""
    while True:
        complete = len(held) >= len(data)
        try:
            result = parse(held, complete=complete)
        except HeaderError as error:
            return error.code
        if isinstance(result, Header):
            return result
        assert isinstance(result, NeedMore)
        assert result.at_least > len(held)
        held = data[: result.at_least]


def test_manifest_names_only_known_error_codes_and_formats() -> None:
    codes = set(HeaderError.codes) - {HeaderError.code}  # the parser's finer codes
    for name, entry in MANIFEST.items():
        assert name.split("/")[0] in ("samples", "unsupported", "hostile", "examples"), name
        if "error" in entry:
            assert entry["error"] in codes, name
        else:
            assert entry["format"] in FORMAT_NAMES, name


@pytest.mark.parametrize("name", NAMES)
def test_parse_gives_the_recorded_facts(name: str) -> None:
    entry = MANIFEST[name]
    found = parse_whole((FIXTURES / name).read_bytes())
    if "error" in entry:
        assert found == entry["error"]
        return
    assert isinstance(found, Header), found
    for fact in HEADER_FACTS:
        if fact in entry:
            assert getattr(found, fact) == entry[fact], fact


@pytest.mark.parametrize("name", NAMES)
def test_fed_prefixes_give_the_same_answer(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert parse_fed(data) == parse_whole(data)


@pytest.mark.parametrize("name", NAMES)
def test_every_source_kind_gives_the_same_answer(name: str) -> None:
    path = FIXTURES / name
    data = path.read_bytes()
    answers = []
    for source in (
        path,
        str(path),
        data,
        bytearray(data),
        io.BytesIO(data),
        Pipe(data, chunk=1000),
    ):
        try:
            info = preflight.probe(source)  # type: ignore[arg-type]
        except HeaderError as error:
            answers.append(error.code)
            continue
        assert info.file_bytes == len(data)
        answers.append(tuple(getattr(info, fact) for fact in HEADER_FACTS))
    assert len(set(answers)) == 1, answers


def test_samples_are_the_accepted_formats_and_unsupported_are_not() -> None:
    for name, entry in MANIFEST.items():
        folder = name.split("/")[0]
        if folder == "samples":
            assert entry["format"] in ("jpeg", "png", "gif", "webp"), name
        elif folder == "unsupported":
            assert entry["format"] not in ("jpeg", "png", "gif", "webp"), name


def test_every_eight_orientations_and_the_display_size() -> None:
    for orientation in range(1, 9):
        info = preflight.probe(FIXTURES / "samples" / f"orientation-{orientation}.jpg")
        assert (info.width, info.height, info.orientation) == (80, 40, orientation)
        transposed = orientation >= 5
        assert (info.display_width, info.display_height) == ((40, 80) if transposed else (80, 40))
