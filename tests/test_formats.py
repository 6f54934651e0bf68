# The format registry is the one table every part reads: the parsers'
# signatures, check's media types and extensions, both engines, the walker.

from __future__ import annotations

import pytest
from helpers import FIXTURES

import preflight
from preflight._core.formats import (
    ACCEPTED_MEDIA_TYPES,
    FORMATS,
    IMAGE_EXTENSIONS,
    media_type_for_path,
)
from preflight._imaging.engines import get_engine
from preflight._imaging.engines.pillow import PillowEngine


def test_the_api_accepts_exactly_four_media_types() -> None:
    assert ACCEPTED_MEDIA_TYPES == ("image/jpeg", "image/png", "image/gif", "image/webp")
    assert {f.name for f in FORMATS.values() if f.accepted} == {"jpeg", "png", "gif", "webp"}


@pytest.mark.parametrize(
    "path",
    sorted(p for folder in ("samples", "unsupported") for p in (FIXTURES / folder).iterdir()),
    ids=lambda p: p.name,
)
def test_every_fixture_is_named_and_signed_as_its_registry_row_says(path: object) -> None:
    info = preflight.probe(path)  # type: ignore[arg-type]
    row = FORMATS[info.format]
    assert path.suffix.lower() in row.extensions  # type: ignore[attr-defined]
    head = path.read_bytes()[:16]  # type: ignore[attr-defined]
    assert any(head.startswith(s) or head[4:].startswith(s[4:]) for s in row.signatures) or (
        row.name in ("svg", "heic", "avif")  # text, or a brand among others at offset 8
    )
    assert info.media_type == (row.media_type if row.accepted else None)
    assert info.format_label == row.label


def test_extensions_and_media_types_come_from_the_registry() -> None:
    for row in FORMATS.values():
        for extension in row.extensions:
            assert extension in IMAGE_EXTENSIONS
            assert media_type_for_path("x" + extension.upper()) == (
                row.media_type if row.accepted else None
            )


def test_engines_decode_what_the_registry_says() -> None:
    pillow = PillowEngine()
    assert pillow.formats <= set(FORMATS)
    assert {"jpeg", "png", "gif", "webp", "tiff", "bmp", "ico", "psd"} <= pillow.formats
    try:
        vips = get_engine("vips")
    except preflight.EngineUnavailableError:
        return
    assert vips.formats == {f.name for f in FORMATS.values() if f.vips_decodes}
