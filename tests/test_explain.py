# preflight.explain and `preflight explain`: every wording of the API's
# image errors (current and older, as docs/errors.md lists them) read back
# into its finding code, the blocks it names in both path forms, and the
# numbers in it; in every form a user has it (the message, the SDK's
# printed error, the JSON body, an SDK exception); what check_request says
# the API would answer reads back to the same code; nothing raises.

from __future__ import annotations

import base64
import dataclasses
import io
import json
from functools import cache
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

import preflight
from preflight._core.catalogue import RULES
from preflight._core.explaining import (
    CURRENT,
    MAX_EXPLAIN_CHARS,
    OLDER,
    OTHER_ERROR_CODES,
    WORDINGS,
    Explanation,
    explain,
)
from preflight.cli import main

OVERSIZED_WORDS = (
    "image dimensions 1593x2324 exceed the maximum image size of a model named on this request "
    "and would be downsized to 902x1316; scale the image to at most 902x1316 or set the "
    'image\'s oversized_image setting to "downsize"'
)


class Row(NamedTuple):
    """An error as the API prints it, and what explain() must read from it."""

    message: str
    code: str
    wording: str = CURRENT
    path: str | None = None
    blocks: tuple[str, ...] = ()
    block_paths: tuple[str, ...] = ()
    numbers: dict[str, int] = {}  # noqa: RUF012 (never mutated)
    media_types: dict[str, str] = {}  # noqa: RUF012


def at(path: str, block: str, sdk: str) -> dict[str, Any]:
    return {"path": path, "blocks": (block,), "block_paths": (sdk,)}


B64 = "image.source.base64"
ROWS = [
    Row(
        f"messages.3.content.1.{B64}.media_type: Input should be 'image/jpeg', 'image/png', "
        "'image/gif' or 'image/webp'",
        "bad-media-type",
        **at(
            f"messages.3.content.1.{B64}.media_type",
            "messages.3.content.1.image",
            "messages.3.content.1",
        ),
    ),
    Row(
        f"messages.0.content.0.{B64}: image cannot be empty",
        "empty",
        **at(f"messages.0.content.0.{B64}", "messages.0.content.0.image", "messages.0.content.0"),
    ),
    Row(
        f"messages.0.content.2.{B64}: invalid base64 data",
        "bad-base64",
        **at(f"messages.0.content.2.{B64}", "messages.0.content.2.image", "messages.0.content.2"),
    ),
    Row(
        f"messages.0.content.21.{B64}: The image was specified using the image/png media type, "
        "but the image appears to be a image/jpeg image",
        "media-type-mismatch",
        media_types={"declared": "image/png", "actual": "image/jpeg"},
        **at(
            f"messages.0.content.21.{B64}", "messages.0.content.21.image", "messages.0.content.21"
        ),
    ),
    Row(
        f"messages.1.content.0.{B64}.data: Image format image/png not supported",
        "unsupported-format",
        media_types={"declared": "image/png"},
        **at(
            f"messages.1.content.0.{B64}.data", "messages.1.content.0.image", "messages.1.content.0"
        ),
    ),
    Row("Could not process image", "not-an-image"),
    Row(
        f"messages.7.content.2.{B64}.data: At least one of the image dimensions exceed max "
        "allowed size: 8000 pixels",
        "over-max-side",
        numbers={"max_side_px": 8000},
        **at(
            f"messages.7.content.2.{B64}.data", "messages.7.content.2.image", "messages.7.content.2"
        ),
    ),
    Row(
        f"messages.39.content.38.{B64}.data: At least one of the image dimensions exceed max "
        "allowed size for many-image requests: 2000 pixels",
        "over-many-images-side",
        numbers={"max_side_px": 2000},
        **at(
            f"messages.39.content.38.{B64}.data",
            "messages.39.content.38.image",
            "messages.39.content.38",
        ),
    ),
    Row(
        f"messages.1.content.2.{B64}: image exceeds 10 MB maximum: 13588412 bytes > 10485760 bytes",
        "over-byte-limit",
        numbers={"limit_mb": 10, "image_bytes": 13588412, "limit_bytes": 10485760},
        **at(f"messages.1.content.2.{B64}", "messages.1.content.2.image", "messages.1.content.2"),
    ),
    Row(
        f"messages.168.content.0.tool_result.content.1.{B64}: image exceeds 5 MB maximum: "
        "5649924 bytes > 5242880 bytes",
        "over-byte-limit",
        numbers={"limit_mb": 5, "image_bytes": 5649924, "limit_bytes": 5242880},
        **at(
            f"messages.168.content.0.tool_result.content.1.{B64}",
            "messages.168.content.0.tool_result.content.1.image",
            "messages.168.content.0.content.1",
        ),
    ),
    Row(
        f"messages.0.content.0: {OVERSIZED_WORDS}",
        "oversized",
        numbers={"width": 1593, "height": 2324, "target_width": 902, "target_height": 1316},
        **at("messages.0.content.0", "messages.0.content.0.image", "messages.0.content.0"),
    ),
    Row(
        "too many images and documents: 104 + 1 > 100",
        "too-many-images",
        numbers={"images": 104, "documents": 1, "cap": 100},
    ),
    Row(
        "too many images and documents: 601 + 0 > 600",
        "too-many-images",
        numbers={"images": 601, "documents": 0, "cap": 600},
    ),
    Row(
        "messages.4.content.0.pdf.source.base64.data: A maximum of 100 PDF pages may be provided.",
        "too-many-pdf-pages",
        numbers={"max_pages": 100},
        **at(
            "messages.4.content.0.pdf.source.base64.data",
            "messages.4.content.0.pdf",
            "messages.4.content.0",
        ),
    ),
    Row("Request exceeds the maximum size", "request-too-large"),
    Row("This URL is disallowed by the website's robots.txt file.", "url-disallowed"),
    Row("Unable to download the file", "url-unreachable"),
    # Older wordings, seen in logs.
    Row(
        "Too much media: 0 document pages + 103 images > 100",
        "too-many-images",
        OLDER,
        numbers={"document_pages": 0, "images": 103, "cap": 100},
    ),
    Row(
        f"messages.0.content.4.{B64}.data: Image does not match the provided media type image/webp",
        "media-type-mismatch",
        OLDER,
        media_types={"declared": "image/webp"},
        **at(
            f"messages.0.content.4.{B64}.data", "messages.0.content.4.image", "messages.0.content.4"
        ),
    ),
    Row(
        f"messages.2.content.30.{B64}.data: At least one of the image dimensions exceeds max "
        "allowed size for many-images requests: 2000 pixels",
        "over-many-images-side",
        OLDER,
        numbers={"max_side_px": 2000},
        **at(
            f"messages.2.content.30.{B64}.data",
            "messages.2.content.30.image",
            "messages.2.content.30",
        ),
    ),
]


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{row.code}-{row.wording}-{i}" for i, row in enumerate(ROWS)]
)
def test_every_wording_is_read_back(row: Row) -> None:
    e = preflight.explain(row.message)
    assert (e.code, e.wording, e.path) == (row.code, row.wording, row.path)
    assert (e.blocks, e.block_paths) == (row.blocks, row.block_paths)
    assert dict(e.numbers) == row.numbers and dict(e.media_types) == row.media_types
    assert e.message == row.message
    rule = RULES[row.code]
    assert (e.meaning, e.fix, e.summary, e.severity) == (
        rule.meaning,
        rule.fix,
        rule.summary,
        rule.severity,
    )
    assert e.recognised and e.source


def test_the_rows_cover_every_wording() -> None:
    # Each regex of WORDINGS is exercised by a row above, so none is dead.
    covered = {(row.code, row.wording) for row in ROWS}
    assert {(w.code, w.wording) for w in WORDINGS} <= covered
    assert all(w.source for w in WORDINGS)
    assert all(w.seen for w in WORDINGS if w.wording == OLDER)


@pytest.mark.parametrize("code", sorted({w.code for w in WORDINGS}))
def test_every_code_is_one_preflight_rule_knows(
    code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rule", code]) == 0
    assert capsys.readouterr().out.startswith(f"# {code}\n")


def test_could_not_process_image_names_the_codes_with_the_same_words() -> None:
    e = preflight.explain("Could not process image")
    assert e.code == "not-an-image"
    assert set(e.same_words) == {"truncated", "corrupt", "undecodable"}


# --- the forms a user has the error in --------------------------------------------

BYTES_MESSAGE = (
    "messages.1.content.2.image.source.base64: image exceeds 5 MB maximum: 6275800 bytes > "
    "5242880 bytes"
)
BODY: dict[str, Any] = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": BYTES_MESSAGE},
}
DIMENSIONS_BODY: dict[str, Any] = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": f"messages.0.content.0: {OVERSIZED_WORDS}",
        "details": {
            "error_code": "image_dimensions_too_large",
            "max_side_length_pixels": 1568,
            "paths": ["messages.0.content.0", "messages.2.content.1.content.0"],
        },
    },
}


def _expect_bytes(e: Explanation, status: int | None = 400) -> None:
    assert e.code == "over-byte-limit" and e.message == BYTES_MESSAGE
    assert e.status == status and e.blocks == ("messages.1.content.2.image",)
    assert e.numbers["image_bytes"] == 6275800


def test_a_body_as_dict_as_json_and_as_the_error_object() -> None:
    _expect_bytes(explain(BODY), status=None)
    _expect_bytes(explain(json.dumps(BODY)), status=None)
    _expect_bytes(explain(BODY["error"]), status=None)
    _expect_bytes(explain({"status": 400, "body": BODY, "code": "over-byte-limit"}))
    assert explain(BODY).error_type == "invalid_request_error"


def test_older_sdks_print_the_body_as_a_python_dict() -> None:
    printed = f"Error code: 400 - {BODY!r}"
    _expect_bytes(explain(printed))
    # Inside a traceback's last line, too.
    _expect_bytes(explain(f"Traceback ...\nanthropic.BadRequestError: {printed}\n"))
    # A quote inside the message makes repr switch to double quotes.
    media = {"type": "error", "error": {"type": "invalid_request_error", "message": (
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
        "'image/png', 'image/gif' or 'image/webp'")}}  # fmt: skip
    e = explain(f"Error code: 400 - {media!r}")
    assert e.code == "bad-media-type" and e.status == 400
    assert e.path == "messages.0.content.0.image.source.base64.media_type"


def test_sdk_2_17_prints_the_message_then_a_trailer_then_the_details() -> None:
    printed = (
        f"400 messages.0.content.0: {OVERSIZED_WORDS} (error_code: image_dimensions_too_large, "
        "path: /v1/messages, type: invalid_request_error)\n\n"
        + json.dumps(DIMENSIONS_BODY["error"]["details"], indent=2)
    )
    e = explain(printed)
    assert (e.code, e.status, e.error_type, e.error_code) == (
        "oversized", 400, "invalid_request_error", "image_dimensions_too_large",
    )  # fmt: skip
    assert e.message == f"messages.0.content.0: {OVERSIZED_WORDS}"
    assert e.block_paths == ("messages.0.content.0", "messages.2.content.1.content.0")
    assert e.blocks == (
        "messages.0.content.0.image",
        "messages.2.content.1.tool_result.content.0.image",
    )
    assert e.numbers["max_side_length_pixels"] == 1568 and e.numbers["target_width"] == 902


def test_other_clients_print_the_status_then_the_json() -> None:
    e = explain(f"400 {json.dumps(BODY)}")
    _expect_bytes(e)


def test_sdk_exceptions_are_read_by_duck_typing() -> None:
    class Fake(Exception):
        status_code = 400
        body = BODY
        message = "ignored when there is a body"

    _expect_bytes(explain(Fake()))

    class NoBody(Exception):
        status_code = 413
        body = "<html>too big</html>"
        message = "413 <html>too big</html> (path: /v1/messages)"

    e = explain(NoBody())
    assert e.code == "request-too-large" and e.status == 413


def test_real_sdk_exceptions() -> None:
    anthropic = pytest.importorskip("anthropic")
    http = pytest.importorskip("httpx2")
    request = http.Request("POST", "https://api.anthropic.com/v1/messages")

    def raised(status: int, body: dict[str, Any]) -> Exception:
        client = anthropic.Anthropic(api_key="test")
        response = http.Response(status, json=body, request=request)
        error: Exception = client._make_status_error_from_response(response)
        return error

    error = raised(400, DIMENSIONS_BODY)
    assert isinstance(error, anthropic.types.ImageDimensionsTooLargeError)
    e = explain(error)
    assert (e.code, e.status, e.error_code) == ("oversized", 400, "image_dimensions_too_large")
    assert e.block_paths == ("messages.0.content.0", "messages.2.content.1.content.0")
    # Its printed form reads the same.
    assert explain(str(error)).block_paths == e.block_paths
    _expect_bytes(explain(raised(400, BODY)))
    words = {"type": "request_too_large", "message": "Request exceeds the maximum size"}
    too_large = raised(413, {"type": "error", "error": words})
    e = explain(too_large)
    assert (e.code, e.status, e.error_type, e.wording) == (
        "request-too-large", 413, "request_too_large", CURRENT,
    )  # fmt: skip


def test_structured_details_alone_name_the_oversized_error() -> None:
    details = DIMENSIONS_BODY["error"]["details"]
    body = {"type": "error", "error": {"type": "x", "message": "new words", "details": details}}
    e = explain(body)
    assert e.code == "oversized" and e.wording is None
    assert e.block_paths == ("messages.0.content.0", "messages.2.content.1.content.0")
    assert "SDK 2.17" in e.source


def test_a_413_with_any_words_is_the_body_limit() -> None:
    assert explain({"status": 413, "body": {"error": {"message": "?"}}}).code == "request-too-large"
    assert explain({"error": {"type": "request_too_large", "message": ""}}).code == (
        "request-too-large"
    )


@pytest.mark.parametrize("error_code", sorted(OTHER_ERROR_CODES))
def test_other_error_codes_are_explained_without_a_finding(error_code: str) -> None:
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "m",
                                        "details": {"error_code": error_code}}}  # fmt: skip
    e = explain(body)
    assert e.code is None and not e.recognised
    assert e.error_code == error_code and e.meaning and e.fix


def test_a_path_found_in_a_log_line_starts_the_message() -> None:
    line = (
        "2026-03-01 12:00:00 ERROR request failed: messages.7.content.2.image.source.base64.data: "
        "At least one of the image dimensions exceed max allowed size: 8000 pixels; retrying"
    )
    e = explain(line)
    assert e.code == "over-max-side"
    assert e.message.startswith("messages.7.content.2.image.source.base64.data: At least")
    assert e.message.endswith("8000 pixels; retrying")


def test_the_first_error_in_the_text_is_the_one_explained() -> None:
    text = "invalid base64 data\nCould not process image"
    assert explain(text).code == "bad-base64"
    assert explain("Could not process image\ninvalid base64 data").code == "not-an-image"


# --- what is not an image error -----------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        "",
        "overloaded_error: Overloaded",
        "{",
        "Error code: 400 - {'unbalanced': ",
        "{" * 10_000 + "}" * 10_000,
        "Error code: 400 - " + "[" * 5000 + "]" * 5000 + "{}",
        {"error": "text"},
        {"error": {"message": 42}},
        {},
        None,
        42,
        b"\xff\xfe not utf-8",
    ],
)
def test_unknown_input_is_an_explanation_without_a_code(error: object) -> None:
    e = explain(error)
    assert e.code is None and not e.recognised and e.meaning == ""


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_explain_never_raises_on_text(text: str | bytes) -> None:
    assert isinstance(explain(text), Explanation)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_explain_never_raises_on_data(value: object) -> None:
    for shaped in (
        value,
        {"error": value},
        {"error": {"message": "invalid base64 data", "details": value}},
    ):
        assert isinstance(explain(shaped), Explanation)


def test_only_the_first_mib_is_read() -> None:
    far = "x" * MAX_EXPLAIN_CHARS + "invalid base64 data"
    assert explain(far).code is None
    assert explain("x" * (MAX_EXPLAIN_CHARS - 100) + "invalid base64 data").code == "bad-base64"


def test_the_explanation_is_frozen_and_serializable() -> None:
    e = explain(DIMENSIONS_BODY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.code = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        e.numbers["width"] = 1  # type: ignore[index]
    data = json.loads(json.dumps(e.to_dict()))
    assert (
        data["code"] == "oversized" and data["block_paths"][1] == "messages.2.content.1.content.0"
    )
    assert data["recognised"] is True and data["numbers"]["width"] == 1593


# --- what check_request says the API would answer reads back ------------------------


@cache
def _png(width: int, height: int) -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def _image(data: str, media_type: str = "image/png", **extra: Any) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": data},
        **extra,
    }


def _body(content: list[Any], model: str = "claude-sonnet-4-6") -> dict[str, Any]:
    return {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": content}]}


def _read_back_bodies() -> dict[str, dict[str, Any]]:
    small = _png(40, 30)
    nested = {"type": "tool_result", "tool_use_id": "t", "content": [_image(_png(9000, 10))]}
    return {
        "over-max-side": _body([_image(small), nested]),
        "media-type-mismatch": _body([_image(small, "image/jpeg")]),
        "bad-base64": _body([_image("data:image/png;base64," + small)]),
        "empty": _body([_image("")]),
        "bad-media-type": _body([_image(small, "image/tiff")]),
        "not-an-image": _body([_image(base64.b64encode(b"<html></html>").decode())]),
        "too-many-images": _body([_image(small) for _ in range(101)], model="claude-haiku-4-5"),
        "over-many-images-side": _body(
            [_image(small) for _ in range(20)] + [_image(_png(2100, 50))]
        ),
        "oversized": _body(
            [_image(_png(1920, 1080), transformations={"oversized_image": "error"})],
            model="claude-haiku-4-5",
        ),
    }


@pytest.mark.parametrize("code", sorted(_read_back_bodies()))
def test_check_requests_answer_reads_back_to_its_code(code: str) -> None:
    report = preflight.check_request(_read_back_bodies()[code])
    answer = report.api_error
    assert answer is not None and answer.finding.code == code
    for given_as in (answer.body, answer.to_dict(), json.dumps(answer.body), answer.message):
        e = explain(given_as)
        assert e.code == code, given_as
    e = explain(answer.to_dict())
    assert e.status == answer.status
    # Each finding's own words read back to it too, and the block it names is
    # the image check_request reports.
    paths = {image.path for image in report.images}
    for finding in report.errors:
        if finding.api_text is None:
            continue
        e = explain(finding.api_message)
        assert finding.code == e.code or finding.code in e.same_words, finding.api_message
        assert set(e.blocks) <= paths


def test_a_nested_image_is_named_in_both_forms() -> None:
    report = preflight.check_request(_read_back_bodies()["over-max-side"])
    (finding,) = report.errors
    e = explain(finding.api_message)
    assert e.blocks == ("messages.0.content.1.tool_result.content.0.image",)
    assert e.block_paths == ("messages.0.content.1.content.0",)
    assert e.blocks[0] == report.images[1].path


# --- the command line ---------------------------------------------------------------


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *ROWS[9].message.split(" ")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "over-byte-limit (error, current wording): The image's base64 text is over the surface's "
        "per-image limit."
    )
    block = "messages.168.content.0.tool_result.content.1.image"
    assert f"  block: {block} (SDK: messages.168.content.0.content.1)" in out
    assert "  numbers: limit_mb 5, image_bytes 5649924, limit_bytes 5242880" in out
    assert f"  fix: {RULES['over-byte-limit'].fix}" in out


def test_cli_older_wording_and_no_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "Too much media: 0 document pages + 103 images > 100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("too-many-images (error, older wording, seen 2025 to January 2026): ")
    assert "  block: none named (the API prints no path for it)\n" in out


def test_cli_json_and_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = f"Error code: 400 - {BODY!r}".encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(printed)))
    assert main(["explain", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["code"] == "over-byte-limit" and data["status"] == 400
    assert data["block_paths"] == ["messages.1.content.2"]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"invalid base64 data")))
    assert main(["explain", "-"]) == 0
    assert capsys.readouterr().out.startswith("bad-base64 ")


def test_cli_unknown_text_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "overloaded_error:", "Overloaded"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("not an image error preflight knows: overloaded_error: Overloaded\n")
    assert main(["explain", "--format", "json", "Overloaded"]) == 1
    assert json.loads(capsys.readouterr().out)["recognised"] is False


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (["explain", "-"], b"x" * (MAX_EXPLAIN_CHARS + 1), "over 1 MiB"),
        (["explain", "-"], b"  \n", "no error text"),
        (["explain", "a", "-"], b"", "cannot be mixed"),
        (["explain", "x" * (MAX_EXPLAIN_CHARS + 1)], b"", "over 1 MiB"),
    ],
)
def test_cli_bad_usage_is_one_line_and_exit_2(
    argv: list[str], stdin: bytes, words: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("preflight explain: error: ") and words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_no_argument_on_a_terminal_is_bad_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(io.BytesIO(b"")))
    assert main(["explain"]) == 2
    assert "give the error text" in capsys.readouterr().err
