# check_request(fetch=True) and `preflight request --fetch`: url image
# sources read by range (their headers and last bytes only) from a local
# HTTP server on 127.0.0.1, with and without Range support, and checked like
# base64 images; every fetching failure is a finding at ...image.source.url.

from __future__ import annotations

import io
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import preflight
from preflight._core.bodies import Refusal
from preflight._core.info import ImageInfo
from preflight._requests.fetching import url_resolver
from preflight.cli import main
from preflight.errors import HeaderError, SourceError


class Server(ThreadingHTTPServer):
    """Serves `files` (name -> bytes): "norange/..." ignores Range, as
    `python -m http.server` does; "silent/..." never answers; anything else
    missing is a 404. Counts the body bytes it sends and the requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.sent = 0
        self.requests: list[str] = []
        self.release = threading.Event()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def asked(self, name: str) -> int:
        with self.lock:
            return self.requests.count(name)


class _Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.lstrip("/")
        with self.server.lock:
            self.server.requests.append(name)
        if name.startswith("silent/"):
            self.server.release.wait(timeout=20)
            self.close_connection = True
            return
        data = self.server.files.get(name)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end, status = 0, len(data), 200
        asked = None if name.startswith("norange/") else self.headers.get("Range")
        if asked:
            first, _, last = asked.removeprefix("bytes=").partition("-")
            if first:
                start, end = int(first), min(len(data), int(last) + 1 if last else len(data))
            else:
                start = max(0, len(data) - int(last))
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        try:
            for at in range(start, end, 1 << 16):
                chunk = data[at : min(end, at + (1 << 16))]
                with self.server.lock:
                    self.server.sent += len(chunk)
                self.wfile.write(chunk)
        except OSError:  # the client had enough and closed
            self.close_connection = True


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.release.set()
        running.shutdown()
        running.server_close()
        thread.join(timeout=10)


@cache
def png(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG; `padding` bytes of a private chunk before IEND make it large
    without making it slow to build."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 30, 160)).save(out, "PNG")
    data = out.getvalue()
    if not padding:
        return data
    chunk = b"prVt" + bytes(padding)
    extra = struct.pack(">I", padding) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return data[:-12] + extra + data[-12:]


def url_image(url: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "url", "url": url}}


def body(*blocks: dict[str, Any], model: str = "claude-haiku-4-5") -> dict[str, Any]:
    content = [*blocks, {"type": "text", "text": "What is this?"}]
    return {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": content}]}


AT = "messages.0.content.{}.image.source.url"


def codes(report: preflight.RequestReport) -> list[tuple[str, str | None]]:
    return [(f.code, f.path) for f in report.findings]


# --- measured like base64 images ----------------------------------------------------


def test_without_fetch_a_url_image_is_counted_not_checked(server: Server) -> None:
    server.files["plain.png"] = png(300, 200)
    before = server.asked("plain.png")
    report = preflight.check_request(body(url_image(server.url("plain.png"))))
    assert codes(report) == [("not-checked-offline", AT.format(0))]
    assert report.unchecked == 1 and report.image_tokens == 0
    assert server.asked("plain.png") == before  # nothing read


@pytest.mark.parametrize("prefix", ["", "norange/"])
def test_fetched_images_are_checked_like_base64_ones(server: Server, prefix: str) -> None:
    server.files[f"{prefix}shot.png"] = png(1920, 1080)
    server.files[f"{prefix}huge.png"] = png(9000, 10)
    report = preflight.check_request(
        body(
            url_image(server.url(f"{prefix}shot.png")), url_image(server.url(f"{prefix}huge.png"))
        ),
        fetch=True,
    )
    shot, _huge = report.images
    assert shot.checked and (shot.width, shot.height, shot.format) == (1920, 1080, "png")
    assert (shot.processed_width, shot.processed_height) == (1456, 819)  # standard tier
    assert shot.tokens > 0 and shot.base64_bytes == 4 * -(-len(png(1920, 1080)) // 3)
    assert report.unchecked == 0
    assert ("will-resize", AT.format(0)) in codes(report)
    (error,) = report.errors
    assert (error.code, error.path) == ("over-max-side", AT.format(1))
    assert report.api_error is not None and report.api_error.finding.code == "over-max-side"


def test_only_the_header_and_the_end_are_read(server: Server) -> None:
    # 6 MiB of PNG: 8 MiB of base64, under the 10 MB limit; its size comes
    # from Content-Range, not from reading it.
    data = png(640, 480, padding=6 << 20)
    server.files["big.png"] = data
    with server.lock:
        server.sent = 0
    report = preflight.check_request(body(url_image(server.url("big.png"))), fetch=True)
    (image,) = report.images
    assert image.checked and image.base64_bytes == 4 * -(-len(data) // 3)
    assert not report.rejected
    with server.lock:
        assert server.sent < 64 << 10 < len(data)


@pytest.mark.parametrize("prefix", ["", "norange/"])
def test_the_byte_limit_uses_the_size_the_server_gives(server: Server, prefix: str) -> None:
    data = png(64, 64, padding=8 << 20)  # 8 MiB: over 10 MB as base64
    server.files[f"{prefix}heavy.png"] = data
    report = preflight.check_request(body(url_image(server.url(f"{prefix}heavy.png"))), fetch=True)
    (error,) = report.errors
    assert (error.code, error.path) == ("over-byte-limit", AT.format(0))
    assert f"{4 * -(-len(data) // 3)} bytes > 10485760 bytes" in error.api_message


def test_many_url_images_count_and_each_is_read_once(server: Server) -> None:
    server.files["wide.png"] = png(2100, 100)
    server.files["small.png"] = png(100, 100)
    blocks = [url_image(server.url("small.png")) for _ in range(20)]
    blocks.append(url_image(server.url("wide.png")))
    before = (server.asked("small.png"), server.asked("wide.png"))
    report = preflight.check_request(body(*blocks, model="claude-sonnet-4-6"), fetch=True)
    assert [(f.code, f.path) for f in report.errors] == [("over-many-images-side", AT.format(20))]
    assert report.distinct_images == 2
    # One probe each: the first read (the whole of a small object) and the tail.
    assert server.asked("small.png") - before[0] <= 2
    assert server.asked("wide.png") - before[1] <= 2


def test_prepare_request_reads_each_url_once_over_its_checks(server: Server) -> None:
    server.files["once.png"] = png(9000, 10)
    resolver = url_resolver()
    before = server.asked("once.png")
    prepared = preflight.prepare_request(body(url_image(server.url("once.png"))), resolver=resolver)
    assert [f.code for f in prepared.report.errors] == ["over-max-side"]  # a url it cannot fix
    assert server.asked("once.png") - before <= 2


# --- failures are findings at the url ---------------------------------------------------


def test_a_missing_object_is_one_the_api_cannot_download(server: Server) -> None:
    report = preflight.check_request(body(url_image(server.url("gone.png"))), fetch=True)
    (error,) = report.errors
    assert (error.code, error.path) == ("url-unreachable", AT.format(0))
    assert error.api_message == "Unable to download the file"  # the API prints no path
    assert "HTTP 404" in error.message


def test_data_that_is_no_image(server: Server) -> None:
    server.files["page.png"] = b"<!doctype html><html><body>Not found</body></html>"
    report = preflight.check_request(body(url_image(server.url("page.png"))), fetch=True)
    (error,) = report.errors
    assert (error.code, error.path) == ("not-an-image", AT.format(0))
    assert error.api_message == "Could not process image"


def test_a_timeout_is_a_warning_not_an_exception(server: Server) -> None:
    report = preflight.check_request(
        body(url_image(server.url("silent/slow.png"))), fetch=True, timeout=0.3
    )
    assert not report.rejected
    (finding,) = report.findings
    assert (finding.code, finding.severity, finding.path) == (
        "not-checked-offline",
        "warning",
        AT.format(0),
    )
    assert "timed out" in finding.message


def test_a_refused_connection_and_other_schemes_are_warnings() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = preflight.check_request(
        body(url_image(f"http://127.0.0.1:{port}/x.png"), url_image("s3://bucket/x.png")),
        fetch=True,
    )
    assert not report.rejected
    assert [(f.code, f.severity, f.path) for f in report.findings] == [
        ("not-checked-offline", "warning", AT.format(0)),
        ("not-checked-offline", "warning", AT.format(1)),
    ]
    assert "only http(s) URLs are fetched" in report.findings[1].message


def test_file_sources_stay_unchecked_and_the_callers_resolver_comes_first(server: Server) -> None:
    server.files["mine.png"] = png(10, 10)
    asked: list[tuple[str, str]] = []

    def mine(kind: str, reference: str) -> bytes | None:
        asked.append((kind, reference))
        return png(9000, 300) if reference.endswith("mine.png") else None

    file_block = {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
    before = server.asked("mine.png")
    report = preflight.check_request(
        body(url_image(server.url("mine.png")), file_block), fetch=True, resolver=mine
    )
    assert server.asked("mine.png") == before  # the caller's answer was taken
    assert [(f.code, f.path) for f in report.findings] == [
        ("over-max-side", AT.format(0)),
        ("not-checked-offline", "messages.0.content.1.image.source.file"),
    ]
    assert asked == [("url", server.url("mine.png")), ("file", "file_1")]


def test_json_text_and_bytes_and_bad_json(server: Server) -> None:
    server.files["t.png"] = png(9000, 10)
    value = body(url_image(server.url("t.png")))
    for given in (json.dumps(value), json.dumps(value).encode()):
        report = preflight.check_request(given, fetch=True)
        assert [f.code for f in report.errors] == ["over-max-side"]
    report = preflight.check_request(b"{not json", fetch=True)
    assert [f.code for f in report.errors] == ["malformed-request"]
    utf16 = json.dumps(value).encode("utf-16")  # JSON, but not UTF-8: as without fetch
    assert codes(preflight.check_request(utf16, fetch=True)) == codes(
        preflight.check_request(utf16)
    )


def test_the_resolver_protocol(server: Server) -> None:
    server.files["r.png"] = png(30, 20)
    server.files["r.txt"] = b"plain text, not an image"
    resolve = url_resolver(timeout=5)
    info = resolve("url", server.url("r.png"))
    assert isinstance(info, ImageInfo) and (info.width, info.height) == (30, 20)
    assert resolve("file", "file_1") is None
    assert resolve("url", server.url("nothing.png")) == Refusal("download", "HTTP 404")
    for _ in range(2):  # raised again from the cache, a fresh exception each time
        with pytest.raises(HeaderError):
            resolve("url", server.url("r.txt"))
    with pytest.raises(SourceError):
        resolve("url", "ftp://example.com/x.png")


# --- the command line ------------------------------------------------------------------


def test_cli_request_fetch(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["cli.png"] = png(9000, 10)
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body(url_image(server.url("cli.png")))))
    assert main(["request", str(path)]) == 0
    assert "1 not checked offline" in capsys.readouterr().out
    assert main(["request", str(path), "--fetch"]) == 1
    out = capsys.readouterr().out
    assert f"{AT.format(0)}: At least one of the image dimensions exceed" in out
    assert "0 not checked offline" in out
    fixed = tmp_path / "fixed.json"
    assert main(["request", str(path), "--fetch", "--fix", str(fixed)]) == 1  # a url: not fixed
    assert json.loads(fixed.read_text()) == json.loads(path.read_text())
