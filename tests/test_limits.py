from __future__ import annotations

import pytest
from helpers import FIXTURES

import preflight
from preflight.core.rules import byte_findings, dimension_findings, image_count_findings
from preflight.core.tables import get_surface

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


@pytest.mark.parametrize(
    ("size", "model", "codes"),
    [
        ((1920, 1080), "claude-sonnet-4-5", ["oversized"]),  # resized on standard
        ((1920, 1080), "claude-opus-4-7", []),  # kept on high-res: nothing to refuse
        ((1092, 1092), "claude-sonnet-4-5", []),  # the guide's largest 1:1 size
        ((9000, 100), "claude-sonnet-4-5", ["over-max-side"]),  # refused as that, once
    ],
)
def test_oversized_error_refuses_what_the_api_would_resize(
    size: tuple[int, int], model: str, codes: list[str]
) -> None:
    refused = preflight.estimate(*size, model=model, oversized="error")
    assert [r.code for r in refused.reasons] == codes
    assert refused.rejected == bool(codes)
    assert refused.tokens == (0 if codes else preflight.estimate(*size, model=model).tokens)
    default = preflight.estimate(*size, model=model)
    assert default.oversized == "resize" and refused.oversized == "error"
    assert (refused.processed_width, refused.processed_height) == (
        default.processed_width,
        default.processed_height,
    )


def test_oversized_error_message_and_unknown_policy() -> None:
    (reason,) = preflight.estimate(1920, 1080, oversized="error").reasons
    assert reason.severity == "error"
    assert "1456x819" in reason.message and "oversized_image" in reason.message
    assert "1456x819" in reason.fix
    with pytest.raises(preflight.UnknownNameError, match="known: error, resize"):
        preflight.estimate(10, 10, oversized="reject")


def test_oversized_error_in_check_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from preflight.cli import main

    info = preflight.probe(FIXTURES / "samples" / "wide-2400x600.jpg")
    assert [f.code for f in preflight.check(info, oversized="error")][:1] == ["oversized"]
    assert "will-resize" in [f.code for f in preflight.check(info)]
    assert main(["estimate", "1920x1080", "--oversized", "error", "--format", "json"]) == 1
    assert '"oversized": "error"' in capsys.readouterr().out
    assert main(["estimate", "1092x1092", "--oversized", "error"]) == 0
