# check() is pure: ImageInfo in, findings out. These tests build ImageInfo by
# hand; tests/test_inspect.py runs the same rules on real files.

from __future__ import annotations

from typing import Any

import pytest

import preflight
from preflight._core.assessment import assess, media_type_for_path
from preflight._core.info import ImageInfo

# The vision guide's examples price at $3/MTok on the standard tier: Sonnet 4.5.
GUIDE_MODEL = "claude-sonnet-4-5"


def info(**fields: Any) -> ImageInfo:
    base: dict[str, Any] = {
        "format": "jpeg",
        "width": 800,
        "height": 600,
        "file_bytes": 50_000,
        "path": None,
    }
    base.update(fields)
    return ImageInfo(**base)


def codes(found: list[preflight.Finding]) -> list[str]:
    return [f.code for f in found]


def test_clean_image_has_no_findings() -> None:
    assert preflight.check(info(), model=GUIDE_MODEL) == []


def test_unsupported_format_names_it_in_the_api_words() -> None:
    (finding,) = preflight.check(
        info(format="heic", width=4032, height=3024, file_bytes=1000), model=GUIDE_MODEL
    )[:1]
    assert finding.code == "unsupported-format"
    assert finding.severity == "error"
    assert finding.message.startswith("HEIC/HEIF is not accepted: Input should be 'image/jpeg'")


def test_unsupported_format_with_unknown_size() -> None:
    found = preflight.check(info(format="svg", width=None, height=None), model=GUIDE_MODEL)
    assert codes(found) == ["unsupported-format"]


@pytest.mark.parametrize(
    ("path", "declared", "expected"),
    [
        ("a.png", None, ["media-type-mismatch"]),
        ("a.JPG", None, []),
        ("a.jpeg", None, []),
        ("a.bin", None, []),
        ("a", None, []),
        (None, "image/png", ["media-type-mismatch"]),
        (None, "image/jpeg", []),
        ("a.png", "image/jpeg", []),  # the caller's declaration wins over the extension
        (None, "image/heic", ["bad-media-type"]),
    ],
)
def test_declared_media_type(path: str | None, declared: str | None, expected: list[str]) -> None:
    found = preflight.check(info(path=path), declared_media_type=declared, model=GUIDE_MODEL)
    assert codes(found) == expected


def test_mismatch_message_is_the_api_message() -> None:
    (finding,) = preflight.check(info(path="photo.png"), model=GUIDE_MODEL)
    assert finding.message == (
        "The image was specified using the image/png media type, but the image appears "
        "to be a image/jpeg image"
    )


def test_extension_lookup() -> None:
    assert media_type_for_path("x/y.WebP") == "image/webp"
    assert media_type_for_path("dir.png/file") is None
    assert media_type_for_path("noext") is None


def test_dimension_and_count_rejections() -> None:
    assert codes(preflight.check(info(width=8001, height=10), model=GUIDE_MODEL)) == [
        "over-max-side",
        "small-side",
    ]
    assert "over-many-images-side" in codes(
        preflight.check(info(width=2500, height=1000), images_in_request=21, model=GUIDE_MODEL)
    )
    assert "too-many-images" in codes(
        preflight.check(info(), images_in_request=101, model=GUIDE_MODEL)
    )


def test_byte_limit_on_base64_per_surface() -> None:
    big = info(file_bytes=4_706_850)
    five_mb = preflight.check(big, model=GUIDE_MODEL, surface="vision-guide")
    (finding,) = [f for f in five_mb if f.severity == "error"]
    assert finding.message == "image exceeds 5 MB maximum: 6275800 bytes > 5242880 bytes"
    assert not [
        f for f in preflight.check(big, surface="api", model=GUIDE_MODEL) if f.severity == "error"
    ]
    assert codes(preflight.check(info(file_bytes=1000), max_bytes=1000, model=GUIDE_MODEL)) == [
        "over-byte-limit"
    ]


def test_resize_warning_says_size_and_tokens() -> None:
    (finding,) = preflight.check(
        info(width=4000, height=3000, file_bytes=3_000_000), model=GUIDE_MODEL
    )
    assert finding.code == "will-resize"
    assert finding.severity == "warning"
    assert "4000x3000 to 1270x952" in finding.message
    assert "15444 -> 1564 tokens" in finding.message
    high_res = preflight.check(info(width=4000, height=3000), model="claude-opus-4-7")
    assert "to 2212x1659" in high_res[0].message  # token-bound, not edge-bound


def test_resize_uses_stored_pixels_not_exif() -> None:
    estimate, _ = assess(info(width=4000, height=3000, orientation=6), model=GUIDE_MODEL)
    assert estimate is not None
    assert (estimate.processed_width, estimate.processed_height) == (1270, 952)


@pytest.mark.parametrize(
    ("fields", "code", "severity"),
    [
        ({"width": 150, "height": 600}, "small-side", "warning"),
        ({"orientation": 6}, "exif-rotation", "warning"),
        ({"format": "gif", "animated": True, "frames": 12, "mode": "P"}, "animated", "warning"),
        ({"progressive": True}, "progressive", "info"),
        ({"mode": "CMYK", "color_components": 4}, "cmyk", "info"),
        ({"format": "png", "bit_depth": 16, "mode": "I;16"}, "high-bit-depth", "info"),
        ({"format": "png", "interlaced": True}, "interlaced", "info"),
        ({"format": "png", "has_alpha": True, "mode": "RGBA"}, "alpha", "info"),
    ],
)
def test_warnings_and_info(fields: dict[str, Any], code: str, severity: str) -> None:
    found = preflight.check(info(**fields), model=GUIDE_MODEL)
    assert [(f.code, f.severity) for f in found] == [(code, severity)]


def test_small_side_uses_display_size() -> None:
    found = preflight.check(info(width=600, height=150, orientation=6), model=GUIDE_MODEL)
    assert "600x150" not in found[0].message
    assert "150x600" in next(f for f in found if f.code == "small-side").message


def test_errors_come_first() -> None:
    found = preflight.check(
        info(width=9000, height=100, progressive=True, path="a.png"), model=GUIDE_MODEL
    )
    severities = [f.severity for f in found]
    assert severities == sorted(severities, key=("error", "warning", "info").index)
    assert severities[0] == "error"
