from __future__ import annotations

import pytest

import preflight
from preflight.limits import byte_findings, dimension_findings, image_count_findings
from preflight.tables import get_surface

API = get_surface("api")


@pytest.mark.parametrize(
    ("size", "images", "code"),
    [
        ((8000, 8000), 1, None),
        ((8001, 10), 1, "over-max-side"),
        ((10, 8001), 1, "over-max-side"),
        ((2000, 2000), 21, None),
        ((2001, 100), 20, None),
        ((2001, 100), 21, "over-many-images-side"),
        ((100, 2001), 21, "over-many-images-side"),
        ((8001, 100), 21, "over-max-side"),
    ],
)
def test_dimension_rejections(size: tuple[int, int], images: int, code: str | None) -> None:
    found = dimension_findings(*size, API, images)
    assert [f.code for f in found] == ([code] if code else [])
    assert all(f.severity == "error" for f in found)
    assert preflight.estimate(*size, images_in_request=images).rejected is (code is not None)


def test_messages_use_the_api_wording() -> None:
    (over,) = dimension_findings(9000, 10, API)
    assert over.message.startswith(
        "At least one of the image dimensions exceed max allowed size: 8000 pixels"
    )
    (many,) = dimension_findings(3000, 10, API, 25)
    assert many.message.startswith(
        "At least one of the image dimensions exceed max allowed size for many-image "
        "requests: 2000 pixels"
    )
    (count,) = image_count_findings(103, API)
    assert count.message == "Too much media: 0 document pages + 103 images > 100"


def test_byte_limit_is_on_base64() -> None:
    # facts: a 4.7 MB JPEG is 6,275,800 bytes of base64 and is rejected
    file_bytes = 4_706_850
    (finding,) = byte_findings(file_bytes, API)
    assert finding.message == "image exceeds 5 MB maximum: 6275800 bytes > 5242880 bytes"
    limit = 5 * 1_048_576
    largest_ok = limit // 4 * 3  # base64 of n bytes is 4*ceil(n/3)
    assert byte_findings(largest_ok, API) == []
    assert byte_findings(largest_ok + 1, API) != []
    assert byte_findings(largest_ok + 1, get_surface("api-direct")) == []


def test_claude_ai_has_no_documented_pixel_limit() -> None:
    assert dimension_findings(20_000, 20_000, get_surface("claude.ai"), 20) == []
    assert image_count_findings(21, get_surface("claude.ai"))[0].code == "too-many-images"


def test_rejected_images_are_not_billed() -> None:
    result = preflight.estimate(9000, 9000)
    assert result.rejected
    assert result.tokens == 0
    assert result.cost_usd == 0
    assert [r.code for r in result.reasons] == ["over-max-side"]
    too_many = preflight.estimate(100, 100, images_in_request=101)
    assert too_many.rejected
    assert [r.code for r in too_many.reasons] == ["too-many-images"]
