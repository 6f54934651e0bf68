from __future__ import annotations

import pytest
from helpers import FIXTURES

import preflight
from preflight._core.findings import Finding
from preflight._core.options import Options, make_options
from preflight._core.rules import byte_findings, image_count_findings, size_findings
from preflight._core.tables import get_surface

# The standard tier and the 100-image cap of a 200K-context model: the
# numbers of the vision guide's examples.
GUIDE = make_options(model="claude-sonnet-4-5", surface="vision-guide")


def dimension_findings(
    width: int, height: int, options: Options = GUIDE, images: int = 1
) -> list[Finding]:
    """The pixel-limit findings alone (the oversized policy left at downsize)."""
    chosen = make_options(options, images_in_request=images)
    processed = preflight.api_size(width, height, chosen.tier)
    return size_findings(width, height, processed, chosen)


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
    found = dimension_findings(*size, GUIDE, images)
    assert [f.code for f in found] == ([code] if code else [])
    assert all(f.severity == "error" for f in found)
    assert preflight.estimate(*size, images_in_request=images).rejected is (code is not None)
    # The same rule on every surface that has it, and in the vectorized planner.
    for surface in ("api", "bedrock", "vertex", "vision-guide"):
        chosen = make_options(surface=surface, images_in_request=images)
        assert bool(preflight.plan([size[0]], [size[1]], options=chosen).rejected[0]) is (
            code is not None
        )


def test_messages_use_the_api_wording() -> None:
    (over,) = dimension_findings(9000, 10)
    assert over.message.startswith(
        "At least one of the image dimensions exceed max allowed size: 8000 pixels"
    )
    (many,) = dimension_findings(3000, 10, GUIDE, 25)
    assert many.message.startswith(
        "At least one of the image dimensions exceed max allowed size for many-image "
        "requests: 2000 pixels"
    )
    (count,) = image_count_findings(103, GUIDE)
    assert count.message == "too many images and documents: 103 + 0 > 100"
    # The cap follows the model's context window ("Vision"): 600 on 1M models.
    big = make_options(model="claude-sonnet-5-5")
    assert image_count_findings(600, big) == []
    (over_600,) = image_count_findings(601, big)
    assert over_600.message == "too many images and documents: 601 + 0 > 600"
    assert image_count_findings(101, make_options(model="claude-haiku-4-5"))[0].message == (
        "too many images and documents: 101 + 0 > 100"
    )


def test_byte_limit_is_on_base64() -> None:
    # facts: a 4.7 MB JPEG is 6,275,800 bytes of base64 and is rejected
    file_bytes = 4_706_850
    for five_mb in ("bedrock", "vertex", "vision-guide"):
        (finding,) = byte_findings(file_bytes, make_options(surface=five_mb))
        assert finding.message == "image exceeds 5 MB maximum: 6275800 bytes > 5242880 bytes"
    bedrock = make_options(surface="bedrock")
    limit = 5 * 1_048_576
    largest_ok = limit // 4 * 3  # base64 of n bytes is 4*ceil(n/3)
    assert byte_findings(largest_ok, bedrock) == []
    assert byte_findings(largest_ok + 1, bedrock) != []
    # The Claude API takes 10 MB per image ("Vision").
    api = make_options(surface="api")
    assert byte_findings(file_bytes, api) == []
    assert byte_findings(10 * 1_048_576 // 4 * 3 + 1, api)[0].message.startswith(
        "image exceeds 10 MB maximum: "
    )


def test_claude_ai_has_no_documented_pixel_limit() -> None:
    claude_ai = make_options(surface="claude.ai")
    assert dimension_findings(20_000, 20_000, claude_ai, 20) == []
    assert image_count_findings(21, claude_ai)[0].code == "too-many-images"
    assert get_surface("claude.ai").max_side_px is None


def test_rejected_images_are_not_billed() -> None:
    result = preflight.estimate(9000, 9000)
    assert result.rejected
    assert result.tokens == 0
    assert result.cost_usd == 0
    assert [r.code for r in result.findings] == ["over-max-side"]
    too_many = preflight.estimate(100, 100, images_in_request=601)
    assert too_many.rejected
    assert [r.code for r in too_many.findings] == ["too-many-images"]


@pytest.mark.parametrize(
    ("size", "model", "codes"),
    [
        ((1920, 1080), "claude-sonnet-4-6", ["oversized"]),  # resized on standard
        ((1920, 1080), "claude-opus-4-7", []),  # kept on high-res: nothing to refuse
        ((1092, 1092), "claude-sonnet-4-6", []),  # the guide's largest 1:1 size
        ((9000, 100), "claude-sonnet-4-6", ["over-max-side"]),  # refused as that, once
    ],
)
def test_oversized_error_refuses_what_the_api_would_resize(
    size: tuple[int, int], model: str, codes: list[str]
) -> None:
    refused = preflight.estimate(*size, model=model, oversized="error")
    assert [r.code for r in refused.findings] == codes
    assert refused.rejected == bool(codes)
    assert refused.tokens == (0 if codes else preflight.estimate(*size, model=model).tokens)
    default = preflight.estimate(*size, model=model)
    assert default.oversized == "downsize" and refused.oversized == "error"
    assert preflight.estimate(*size, model=model, oversized="resize") == default
    assert (refused.processed_width, refused.processed_height) == (
        default.processed_width,
        default.processed_height,
    )


def test_oversized_error_message_and_unknown_policy() -> None:
    (reason,) = preflight.estimate(
        1920, 1080, model="claude-sonnet-4-6", oversized="error"
    ).findings
    assert reason.severity == "error"
    # The API's own words begin the message ("Vision coordinates").
    assert reason.message.startswith(
        "image dimensions 1920x1080 exceed the maximum image size of a model named on this "
        "request and would be downsized to 1456x819"
    )
    assert "1456x819" in reason.fix
    with pytest.raises(preflight.UnknownNameError, match="known: downsize, error"):
        preflight.estimate(10, 10, oversized="reject")


def test_oversized_error_in_check_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from preflight.cli import main

    info = preflight.probe(FIXTURES / "samples" / "wide-2400x600.jpg")
    standard = make_options(model="claude-sonnet-4-6")
    assert [f.code for f in preflight.check(info, standard, oversized="error")][:1] == ["oversized"]
    assert "will-resize" in [f.code for f in preflight.check(info, standard)]
    assert main(["estimate", "3000x2000", "--oversized", "error", "--format", "json"]) == 1
    assert '"oversized": "error"' in capsys.readouterr().out
    assert main(["estimate", "1092x1092", "--oversized", "error"]) == 0
