# The API's answers, word for word: every row of docs/errors.md's table of
# messages, each with a request body built as the API would see it, checked
# for the exact text the API prints (path included, or none where it prints
# none) and for the whole error response `check_request(...).api_error`
# (status, type, message, details). Then which failure the API reports
# first when several fail, documents and PDFs, models by their lifecycle
# on an injected day, and property tests of the count and the oversized
# rule.

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import io
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import block_positions, sizes

import preflight
from preflight._core.bodies import Refusal, block_path, count_pdf_pages
from preflight._core.findings import Finding
from preflight._core.tables import MB, MODELS

PNG, JPEG = "image/png", "image/jpeg"
HAIKU = "claude-haiku-4-5"  # 200K context: 100 images, standard tier
SONNET_46 = "claude-sonnet-4-6"  # 1M context: 600 images, standard tier
BEFORE_RETIREMENT = date(2026, 11, 1)  # Sonnet 4.5 deprecated, retiring on 2026-11-30
MEDIA_WORDS = "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
DIMENSIONS = "At least one of the image dimensions exceed max allowed size"


@cache
def encoded(width: int, height: int, fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, fmt)
    return out.getvalue()


def text_of(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image(data: bytes | str, media_type: str = PNG, **extra: Any) -> dict[str, Any]:
    text = data if isinstance(data, str) else text_of(data)
    source = {"type": "base64", "media_type": media_type, "data": text}
    return {"type": "image", "source": source, **extra}


def small() -> dict[str, Any]:
    return image(encoded(64, 64))


def body(*turns: list[Any], model: str = SONNET_46, **extra: Any) -> dict[str, Any]:
    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": turn} for i, turn in enumerate(turns)]
    return {"model": model, "max_tokens": 64, "messages": messages, **extra}


# PDFs are built with pypdf itself (the pdf extra); without it those tests skip.
needs_pypdf = pytest.mark.skipif(
    importlib.util.find_spec("pypdf") is None, reason="pypdf (the pdf extra) is not installed"
)
# A PDF's first bytes, for the tests that need no page count.
PDF_START = b"%PDF-1.4\n1 0 obj <<>> endobj\n"


@cache
def pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def document(data: bytes) -> dict[str, Any]:
    source = {"type": "base64", "media_type": "application/pdf", "data": text_of(data)}
    return {"type": "document", "source": source}


def text_document() -> dict[str, Any]:
    source = {"type": "text", "media_type": "text/plain", "data": "notes"}
    return {"type": "document", "source": source}


def one_error(report: preflight.RequestReport) -> Finding:
    (error,) = report.errors
    return error


# --- each row of the table: the words, the path, the error body ----------------------

BYTES_OVER = 13_588_412  # a reported 10 MB rejection: base64 text of this length


def padded_png(base64_length: int) -> bytes:
    """A valid PNG whose base64 text is exactly `base64_length` long: a
    private ancillary chunk of zeros before IEND (decoders skip it)."""
    import struct
    import zlib

    png = encoded(64, 64)
    head, end = png[:-12], png[-12:]
    size = base64_length // 4 * 3 - len(png) - 12
    chunk = b"prVt" + bytes(size)
    data = head + struct.pack(">I", size) + chunk + struct.pack(">I", zlib.crc32(chunk)) + end
    assert len(text_of(data)) == base64_length
    return data


def over_the_byte_limit() -> dict[str, Any]:
    return body([image(padded_png(BYTES_OVER))])


def tool_result_over_the_byte_limit() -> dict[str, Any]:
    """The byte error inside a tool_result, on Bedrock's 5 MB."""
    data = padded_png(5_649_924)
    use = {"type": "tool_use", "id": "t1", "name": "screenshot", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "t1", "content": [small(), image(data)]}
    return body([{"type": "text", "text": "look"}], [use], [result])


def many_images() -> dict[str, Any]:
    content = [small() for _ in range(20)]
    content.insert(3, image(encoded(2100, 40)))
    return body(content)


def count_over_the_cap() -> dict[str, Any]:
    return body([small() for _ in range(104)] + [text_document()], model=HAIKU)


def pdf_over_the_page_limit() -> dict[str, Any]:
    turns: list[list[Any]] = [[{"type": "text", "text": f"turn {i}"}] for i in range(4)]
    return body(*turns, [document(pdf(101))])


def body_over_32_mb() -> dict[str, Any]:
    return body([{"type": "text", "text": "A" * (32 * MB)}, small()])


def url(address: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "url", "url": address}}


def refusing(kind: str) -> Callable[[str, str], Refusal]:
    return lambda _kind, _reference: Refusal(kind)


AT = "messages.0.content.0.image.source.base64"
INVALID = (400, "invalid_request_error")

# name: (body, check_request keywords, code, the API's message, (status, type))
ROWS: dict[str, tuple[Callable[[], Any], dict[str, Any], str, str, tuple[int, str]]] = {
    "media type outside the four": (
        lambda: body([image(encoded(64, 64), "image/jpg")]),
        {},
        "bad-media-type",
        f"{AT}.media_type: {MEDIA_WORDS}",
        INVALID,
    ),
    "a PDF declared with its own type": (
        lambda: body([image(PDF_START, "application/pdf")]),
        {},
        "bad-media-type",
        f"{AT}.media_type: {MEDIA_WORDS}",
        INVALID,
    ),
    "an AVIF declared with its own type": (
        lambda: body([image(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "image/avif")]),
        {},
        "bad-media-type",
        f"{AT}.media_type: {MEDIA_WORDS}",
        INVALID,
    ),
    "empty data": (
        lambda: body([image("")]),
        {},
        "empty",
        f"{AT}: image cannot be empty",
        INVALID,
    ),
    "a kept data: URL prefix": (
        lambda: body([image("data:image/png;base64," + text_of(encoded(64, 64)))]),
        {},
        "bad-base64",
        f"{AT}: invalid base64 data",
        INVALID,
    ),
    "declared png, the data is jpeg": (
        lambda: body([image(encoded(64, 64, "JPEG"))]),
        {},
        "media-type-mismatch",
        f"{AT}: The image was specified using the image/png media type, but the image "
        "appears to be a image/jpeg image",
        INVALID,
    ),
    "an ICO declared image/png": (
        lambda: body([image(encoded(32, 32, "ICO"))]),
        {},
        "unsupported-format",
        f"{AT}.data: Image format image/png not supported",
        INVALID,
    ),
    "JSON saved as .png": (
        lambda: body([image(b'{"error": "not found"}')]),
        {},
        "not-an-image",
        "Could not process image",
        INVALID,
    ),
    "a side over 8000 px": (
        lambda: body([small(), image(encoded(9000, 40))]),
        {},
        "over-max-side",
        f"messages.0.content.1.image.source.base64.data: {DIMENSIONS}: 8000 pixels",
        INVALID,
    ),
    "over 20 images and a side over 2000 px": (
        many_images,
        {},
        "over-many-images-side",
        f"messages.0.content.3.image.source.base64.data: {DIMENSIONS} for many-image "
        "requests: 2000 pixels",
        INVALID,
    ),
    "base64 text over 10 MB": (
        over_the_byte_limit,
        {},
        "over-byte-limit",
        f"{AT}: image exceeds 10 MB maximum: 13588412 bytes > 10485760 bytes",
        INVALID,
    ),
    "over 5 MB on Bedrock, inside a tool_result": (
        tool_result_over_the_byte_limit,
        {"surface": "bedrock"},
        "over-byte-limit",
        "messages.2.content.0.tool_result.content.1.image.source.base64: image exceeds 5 MB "
        "maximum: 5649924 bytes > 5242880 bytes",
        INVALID,
    ),
    "oversized_image: error": (
        lambda: body(
            [image(encoded(1593, 2324), transformations={"oversized_image": "error"})],
            model=HAIKU,
        ),
        {},
        "oversized",
        "messages.0.content.0: image dimensions 1593x2324 exceed the maximum image size of a "
        "model named on this request and would be downsized to 902x1316; scale the image to "
        'at most 902x1316 or set the image\'s oversized_image setting to "downsize"',
        INVALID,
    ),
    "more images and documents than the cap": (
        count_over_the_cap,
        {},
        "too-many-images",
        "too many images and documents: 104 + 1 > 100",
        INVALID,
    ),
    "over 600 on Bedrock": (
        lambda: body([small() for _ in range(601)]),
        {"surface": "bedrock"},
        "too-many-images",
        "too many images and documents: 601 + 0 > 600",
        INVALID,
    ),
    "a PDF over 100 pages": (
        pdf_over_the_page_limit,
        {},
        "too-many-pdf-pages",
        "messages.4.content.0.pdf.source.base64.data: A maximum of 100 PDF pages may be provided.",
        INVALID,
    ),
    "a body over 32 MB": (
        body_over_32_mb,
        {},
        "request-too-large",
        "Request exceeds the maximum size",
        (413, "request_too_large"),
    ),
    "a url the site's robots.txt disallows": (
        lambda: body([url("https://example.com/a.png")]),
        {"resolver": refusing("robots")},
        "url-disallowed",
        "This URL is disallowed by the website's robots.txt file.",
        INVALID,
    ),
    "a url that cannot be downloaded": (
        lambda: body([url("https://example.com/gone.png")]),
        {"resolver": refusing("download")},
        "url-unreachable",
        "Unable to download the file",
        INVALID,
    ),
}


@pytest.mark.parametrize(
    "row",
    [pytest.param(row, marks=needs_pypdf) if "PDF over" in row else row for row in ROWS],
)
def test_each_row_in_the_apis_words(row: str) -> None:
    make, keywords, code, message, (status, kind) = ROWS[row]
    report = preflight.check_request(make(), **keywords)
    error = one_error(report)
    assert (error.code, error.api_message) == (code, message)
    # preflight's own explanation stays alongside, and it says more.
    assert error.message != "" and error.fix != ""
    answer = report.api_error
    assert answer is not None
    assert (answer.status, answer.error_type, answer.message) == (status, kind, message)
    assert answer.body["type"] == "error"
    assert answer.body["error"] == {"type": kind, "message": message} | (
        {} if answer.details is None else {"details": answer.details.to_dict()}
    )


def test_pathless_messages_still_say_where_for_preflights_reports() -> None:
    report = preflight.check_request(ROWS["JSON saved as .png"][0]())
    error = one_error(report)
    assert error.path == f"{AT}.data" and error.api_path is None
    assert error.api_message == "Could not process image"
    assert error.to_dict()["path"] == f"{AT}.data"
    assert error.message.startswith("Could not process image: ")


def test_an_accepted_request_has_no_error_body() -> None:
    report = preflight.check_request(body([small()]))
    assert not report.rejected and report.api_error is None
    assert report.to_dict()["api_error"] is None


# --- the error body of dimension errors (SDK 2.17's details) ------------------------


def test_dimension_details_list_every_image_over_the_limit_in_order() -> None:
    error = {"transformations": {"oversized_image": "error"}}
    use = {"type": "tool_use", "id": "t", "name": "look", "input": {}}
    nested = image(encoded(1920, 1080), **error)
    result = {"type": "tool_result", "tool_use_id": "t", "content": [small(), nested]}
    report = preflight.check_request(
        body(
            [small(), image(encoded(1920, 1080), **error)],
            [use],
            [result, image(encoded(1456, 819), **error)],  # fits: kept
            model=HAIKU,
        )
    )
    answer = report.api_error
    assert answer is not None and answer.details is not None
    assert answer.body["error"]["details"] == {  # type: ignore[index]
        "error_code": "image_dimensions_too_large",
        "max_side_length_pixels": 1568,
        "paths": ["messages.0.content.1", "messages.2.content.0.content.1"],
    }
    assert answer.message.startswith("messages.0.content.1: image dimensions 1920x1080")
    assert [e.path for e in report.errors] == [
        "messages.0.content.1",
        "messages.2.content.0.content.1",
    ]


def test_8000_px_details_name_the_limit_and_every_image() -> None:
    report = preflight.check_request(
        body([image(encoded(9000, 30)), small(), image(encoded(30, 8001))])
    )
    answer = report.api_error
    assert answer is not None and answer.details is not None
    assert answer.details.max_side_length_pixels == 8000
    assert answer.details.paths == ("messages.0.content.0", "messages.0.content.2")


def test_the_many_image_details() -> None:
    content = [small() for _ in range(19)] + [image(encoded(2001, 20)), image(encoded(20, 2500))]
    answer = preflight.check_request(body(content)).api_error
    assert answer is not None and answer.details is not None
    assert answer.details.max_side_length_pixels == 2000
    assert answer.details.paths == ("messages.0.content.19", "messages.0.content.20")


@given(block_positions)
def test_block_paths_are_indexes_only(location: tuple[str | int, ...]) -> None:
    path = block_path(location)
    parts = path.split(".")
    assert parts[0] == "messages" and parts[1].isdigit()
    assert all(p == "content" for p in parts[2::2]) and all(p.isdigit() for p in parts[1::2])
    assert len(parts) == len(location)


# --- which failure the API reports first -----------------------------------------------


def first_code(value: Any, **keywords: Any) -> str:
    answer = preflight.check_request(value, **keywords).api_error
    assert answer is not None
    return answer.finding.code


def test_the_body_limit_comes_before_everything() -> None:
    value = body_over_32_mb()
    value["messages"][0]["content"].append(image(encoded(64, 64), "image/jpg"))
    assert first_code(value) == "request-too-large"
    assert preflight.check_request(value).api_error.status == 413  # type: ignore[union-attr]


def test_the_media_type_literal_comes_before_any_data() -> None:
    # The data of the first image is wrong; the second declares a bad type.
    value = body([image(encoded(64, 64, "JPEG")), image(encoded(64, 64), "image/heic")])
    assert first_code(value) == "bad-media-type"


def test_a_retired_model_comes_after_the_schema_and_before_the_images() -> None:
    retired = body([image(encoded(9000, 20))], model="claude-3-5-haiku")
    answer = preflight.check_request(retired).api_error
    assert answer is not None
    assert (answer.status, answer.error_type, answer.finding.code) == (
        404,
        "not_found_error",
        "retired-model",
    )
    literal = body([image(encoded(64, 64), "image/jpg")], model="claude-3-5-haiku")
    assert first_code(literal) == "bad-media-type"


def test_the_count_comes_before_the_data_and_the_data_before_dimensions() -> None:
    content = [image(encoded(9000, 20)), image("")] + [small() for _ in range(100)]
    assert first_code(body(content, model=HAIKU)) == "too-many-images"
    assert first_code(body(content[:2])) == "empty"  # the 8000 px image is first in the body
    assert first_code(body(content[:1])) == "over-max-side"


def test_dimension_rules_in_their_order() -> None:
    error = {"transformations": {"oversized_image": "error"}}
    content = [image(encoded(1920, 1080), **error), image(encoded(2100, 30))]
    content += [small() for _ in range(19)] + [image(encoded(8100, 30))]
    assert first_code(body(content)) == "over-max-side"
    assert first_code(body(content[:-1])) == "over-many-images-side"
    assert first_code(body(content[:1])) == "oversized"


def test_every_finding_is_still_reported_when_only_one_is_answered() -> None:
    value = body([image(encoded(9000, 20), "image/jpg")])
    codes = [f.code for f in preflight.check_request(value).errors]
    assert codes == ["bad-media-type", "over-max-side"]


# --- the data, in the API's order ---------------------------------------------------------


def test_a_literal_outside_the_four_hides_what_the_data_is() -> None:
    # An ICO declared image/x-icon: the literal alone (not also "Image format").
    report = preflight.check_request(body([image(encoded(32, 32, "ICO"), "image/x-icon")]))
    error = one_error(report)
    assert error.code == "bad-media-type" and "ICO" in error.message
    # The data was still read, for the report and for prepare_request.
    assert report.images[0].checked and report.images[0].format == "ico"


def test_invalid_base64_over_the_limit_reports_both() -> None:
    value = body([image("@" * 16)])
    codes = [f.code for f in preflight.check_request(value, max_bytes=8).errors]
    assert codes == ["bad-base64", "over-byte-limit"]


def test_cut_short_data_is_could_not_process_image() -> None:
    data = encoded(300, 300)[:200]
    error = one_error(preflight.check_request(body([image(data)])))
    assert (error.code, error.api_message) == ("truncated", "Could not process image")


# --- documents and PDFs ------------------------------------------------------------------


@needs_pypdf
@pytest.mark.parametrize(("pages", "rejected"), [(100, False), (101, True)])
def test_the_page_limit(pages: int, rejected: bool) -> None:
    report = preflight.check_request(body([document(pdf(pages))]))
    assert report.rejected is rejected
    assert report.documents == 1 and report.images == ()


@needs_pypdf
def test_count_pdf_pages() -> None:
    assert count_pdf_pages(pdf(3)) == 3
    assert isinstance(count_pdf_pages(b"%PDF-1.7\n%garbage"), str)


@needs_pypdf
@given(st.binary(max_size=300))
def test_any_pdf_bytes_give_a_count_or_a_reason(tail: bytes) -> None:
    counted = count_pdf_pages(b"%PDF-1.4\n" + tail)
    assert isinstance(counted, (int, str))


def test_an_unreadable_pdf_is_a_warning_never_a_traceback() -> None:
    report = preflight.check_request(body([document(PDF_START)]))
    (finding,) = report.findings
    assert (finding.code, finding.severity) == ("pdf-pages-unknown", "warning")
    assert finding.path == "messages.0.content.0.pdf.source.base64.data"
    assert not report.rejected


def test_without_pypdf_the_page_count_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)  # import pypdf raises ImportError
    report = preflight.check_request(body([document(PDF_START)]))
    (finding,) = report.findings
    assert finding.code == "pdf-pages-unknown" and "preflight[pdf]" in finding.fix


def test_documents_count_toward_the_cap_everywhere() -> None:
    content = [small() for _ in range(99)] + [text_document(), document(PDF_START)]
    report = preflight.check_request(body(content, model=HAIKU))
    assert one_error(report).api_message == "too many images and documents: 99 + 2 > 100"
    assert not preflight.check_request(body(content[:100], model=HAIKU)).rejected


@given(st.integers(0, 130), st.integers(0, 30), st.sampled_from([HAIKU, SONNET_46]))
def test_the_count_rule(images: int, documents: int, model: str) -> None:
    from preflight._core.rules import image_count_findings

    options = preflight.make_options(model=model)
    cap = options.max_images
    assert cap is not None
    found = image_count_findings(images, options, documents)
    assert bool(found) is (images + documents > cap)
    if found:
        assert (
            found[0].api_message == f"too many images and documents: {images} + {documents} > {cap}"
        )


# --- the oversized rule's words follow the resize rule ----------------------------------


@given(sizes, st.sampled_from(["standard", "high-res"]))
def test_the_oversized_message_names_the_size_the_api_would_make(
    size: tuple[int, int], tier: str
) -> None:
    width, height = size
    result = preflight.estimate(width, height, oversized="error", tier=tier)
    target = preflight.api_size(width, height, tier)
    codes = [f.code for f in result.findings]
    if max(size) > 8000 or target == size:
        assert "oversized" not in codes
        return
    (finding,) = (f for f in result.findings if f.code == "oversized")
    w, h = target
    assert finding.api_message == (
        f"image dimensions {width}x{height} exceed the maximum image size of a model named on "
        f"this request and would be downsized to {w}x{h}; scale the image to at most {w}x{h} "
        'or set the image\'s oversized_image setting to "downsize"'
    )


# --- models as they are --------------------------------------------------------------------


def test_a_retired_model_rejects_the_estimate() -> None:
    result = preflight.estimate(1000, 1000, model="claude-sonnet-4", today=BEFORE_RETIREMENT)
    assert result.rejected and result.tokens == 0 and result.cost_usd == 0
    assert [f.code for f in result.findings] == ["retired-model"]


@pytest.mark.parametrize(
    ("today", "codes"),
    [
        (date(2026, 10, 30), []),  # 31 days before
        (date(2026, 10, 31), ["model-retiring"]),  # 30 days before
        (date(2026, 11, 29), ["model-retiring"]),
        (date(2026, 11, 30), ["retired-model"]),  # the retirement date
        (date(2027, 1, 1), ["retired-model"]),
    ],
)
def test_sonnet_4_5_by_the_day(today: date, codes: list[str]) -> None:
    result = preflight.estimate(1000, 1000, model="claude-sonnet-4-5-20250929", today=today)
    assert [f.code for f in result.findings] == codes
    assert result.rejected is (codes == ["retired-model"])
    report = preflight.check_request(body([small()], model="claude-sonnet-4-5"), today=today)
    assert [f.code for f in report.findings if f.path == "model"] == codes


def test_the_real_date_is_used_unless_one_is_given() -> None:
    # Sonnet 4.5 retired on 2026-11-30; this suite runs after that day.
    assert date.today() >= date(2026, 11, 30)
    assert preflight.estimate(10, 10, model="claude-sonnet-4-5").rejected
    options = preflight.make_options(model="claude-sonnet-4-5", today=BEFORE_RETIREMENT)
    assert not preflight.estimate(10, 10, options).rejected
    assert options.to_dict()["today"] == "2026-11-01"


@pytest.mark.parametrize("bad", [datetime(2026, 11, 1, 12), "2026-11-01", 20261101])
def test_today_must_be_a_date(bad: object) -> None:
    with pytest.raises(preflight.UsageError, match=r"today must be a datetime\.date"):
        preflight.make_options(today=bad)  # type: ignore[arg-type]


def test_opus_4_is_retired_on_the_claude_api_only() -> None:
    on_api = preflight.estimate(1000, 1000, model="claude-opus-4")
    assert on_api.rejected and [f.code for f in on_api.findings] == ["retired-model"]
    on_bedrock = preflight.estimate(1000, 1000, model="claude-opus-4", surface="bedrock")
    assert not on_bedrock.rejected
    assert [f.code for f in on_bedrock.findings] == ["retired-on-claude-api"]


def test_current_and_legacy_models_have_no_model_finding() -> None:
    live = [m for m in MODELS.values() if m.lifecycle in ("current", "legacy")]
    assert len(live) >= 17
    for model in live:
        result = preflight.estimate(300, 300, model=model)
        assert result.findings == () and not result.rejected, model.name


def test_an_unknown_body_model_gets_the_cautious_limits() -> None:
    hundred_and_one = [small() for _ in range(101)]
    report = preflight.check_request(body(hundred_and_one, model="claude-nova-9"))
    assert [f.code for f in report.findings if f.code != "small-side"] == [
        "unknown-model",
        "too-many-images",
    ]
    assert report.options.model.max_images == 100
    assert report.options.tier.name == "standard"
    assert report.cost_usd is None and "price_per_mtok" in report.options.price_note
    # The default model (which it used to get) takes 600.
    assert not preflight.check_request(body(hundred_and_one)).rejected
    # A price for it prices it, still with the cautious limits.
    priced = preflight.check_request(body([small()], model="claude-nova-9"), price_per_mtok="2")
    assert priced.cost_usd is not None and priced.options.model.max_images == 100


def test_a_model_named_by_the_caller_is_not_unknown() -> None:
    custom = preflight.Model("my-finetune", None, "high-res", max_images=600)
    report = preflight.check_request(body([small()], model="my-finetune"), model=custom)
    assert [f.code for f in report.findings if f.path == "model"] == []
    assert report.options.model == custom


# --- prepare_request: what it fixes, what it names ----------------------------------------


def test_prepare_request_strips_a_data_url_prefix_and_line_breaks() -> None:
    text = text_of(encoded(2000, 100))
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    value = body([image("data:image/png;base64," + text), image(wrapped)], model=HAIKU)
    prepared = preflight.prepare_request(value)
    assert prepared.passes, prepared.report.findings
    reasons = [c.reason for c in prepared.changes]
    assert reasons[0].startswith("invalid base64 data: removed a data: URL prefix; the API")
    assert reasons[1].startswith("invalid base64 data: removed line breaks; the API")
    assert prepared.changes[0].before.findings[0].code == "bad-base64"
    again = preflight.prepare_request(prepared.body)
    assert again.changes == ()


def test_prepare_request_keeps_a_prefix_it_cannot_make_base64() -> None:
    value = body([image("data:image/png,not-base64")])
    prepared = preflight.prepare_request(value)
    assert prepared.changes == () and [f.code for f in prepared.unfixed] == ["bad-base64"]


@needs_pypdf
def test_prepare_request_names_what_it_cannot_fix() -> None:
    value = body(
        [image(""), image(encoded(9000, 20)), document(pdf(101))], model="claude-3-5-haiku"
    )
    prepared = preflight.prepare_request(value)
    assert [c.path for c in prepared.changes] == ["messages.0.content.1.image"]
    assert [f.code for f in prepared.unfixed] == ["empty", "too-many-pdf-pages", "retired-model"]
    assert prepared.to_dict()["unfixed"] == [f.to_dict() for f in prepared.unfixed]
    answer = prepared.report.api_error
    assert answer is not None and answer.status == 404


def test_a_refusal_names_a_known_reason() -> None:
    with pytest.raises(preflight.UsageError):
        Refusal("timeout")
    assert dataclasses.asdict(Refusal("robots")) == {"reason": "robots", "detail": ""}
