# Images in object storage (preflight._inputs.remote): probe, inspect and prepare on
# fsspec URLs. An HTTP server on 127.0.0.1, started here, honours
# `Range: bytes=a-b` and counts what it serves: nothing leaves loopback.
# Every answer is compared with the local path's answer for the same bytes.

from __future__ import annotations

import dataclasses
import io
import itertools
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

import preflight
from preflight._core.formats import IMAGE_EXTENSIONS
from preflight._core.info import ImageInfo
from preflight.errors import (
    HeaderError,
    InvalidArgumentError,
    MissingExtraError,
    OutputPathError,
    SourceError,
    UsageError,
)

fsspec = pytest.importorskip("fsspec", reason="the 'remote' extra (fsspec) is not installed")
pytest.importorskip("aiohttp", reason="the 'remote' extra (aiohttp) is not installed")

from preflight._core.headers import FIRST_READ, TAIL_READ  # noqa: E402
from preflight._imaging.inspection import inspect_url  # noqa: E402
from preflight._inputs import remote  # noqa: E402
from preflight._inputs.probing import probe_input  # noqa: E402
from preflight._inputs.sources import open_input  # noqa: E402

SAMPLES = sorted((FIXTURES / "samples").iterdir())
HOSTILE = sorted((FIXTURES / "hostile").iterdir())


class RangeServer(ThreadingHTTPServer):
    """Serves `files` (name -> bytes); counts body bytes and requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.served = 0
        self.requests: list[tuple[str, str, str | None]] = []
        self.release = threading.Event()  # lets a "silent/" handler go

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.served = 0
            self.requests = []


class _Handler(BaseHTTPRequestHandler):
    server: RangeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self, body: bool) -> None:
        name = self.path.lstrip("/")
        with self.server.lock:
            self.server.requests.append((self.command, name, self.headers.get("Range")))
        if name.startswith("forbidden/"):
            self._status(403)
            return
        if name.startswith("silent/"):
            # Accepts, reads the request, never answers (bounded: 20 s).
            self.server.release.wait(timeout=20)
            self.close_connection = True
            return
        data = self.server.files.get(name)
        if data is None:
            self._status(404)
            return
        start, end, status = 0, len(data), 200
        asked = self.headers.get("Range")
        if name.startswith(("norange/", "gzip/")):
            asked = None  # as `python -m http.server` does: the whole object, always
        if asked and body:
            first, _, last = asked.removeprefix("bytes=").partition("-")
            if first:
                start, end = int(first), min(len(data), int(last) + 1 if last else len(data))
            else:
                start, end = max(0, len(data) - int(last)), len(data)
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        if name.startswith("gzip/"):
            self.send_header("Content-Encoding", "gzip")  # unasked for
        self.end_headers()
        if body:
            # Counted before it is sent: a client that has read it all must
            # find it counted (counting after raced with the assertions).
            with self.server.lock:
                self.server.served += end - start
            try:
                for at in range(start, end, 1 << 16):
                    self.wfile.write(data[at : min(end, at + (1 << 16))])
            except OSError:  # the client closed the connection: it had enough
                self.close_connection = True

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)


@pytest.fixture(scope="module")
def server() -> Iterator[RangeServer]:
    running = RangeServer()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()
        thread.join(timeout=10)


@pytest.fixture
def http(server: RangeServer) -> RangeServer:
    server.reset()
    return server


@pytest.fixture
def memory() -> Iterator[object]:
    fs = fsspec.filesystem("memory")
    yield fs
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]


def _big_jpeg() -> bytes:
    """A JPEG of about 5 MB: noise at quality 100 (its header is small)."""
    from PIL import Image

    noise = random.Random(7).randbytes(1800 * 1500 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1800, 1500), noise).save(buffer, "JPEG", quality=100)
    return buffer.getvalue()


def _jpeg_with_big_exif(exif_bytes: int) -> bytes:
    """A JPEG whose APP1 segment (EXIF) pushes its frame header past the first read."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 90, 160)).save(buffer, "JPEG")
    plain = buffer.getvalue()
    payload = b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00\x00\x00" + b"\x00" * exif_bytes
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return plain[:2] + segment + plain[2:]


def _same(found: ImageInfo, expected: ImageInfo) -> None:
    assert dataclasses.replace(found, path=expected.path) == expected


def _outcome(call: object) -> ImageInfo | tuple[type, str]:
    try:
        return call()  # type: ignore[operator,no-any-return]
    except (HeaderError, SourceError) as error:
        return type(error), str(error)


# --- HTTP, counting the bytes served -----------------------------------------


def test_a_5_mb_jpeg_is_probed_with_at_most_64_kib_fetched(http: RangeServer) -> None:
    data = _big_jpeg()
    assert len(data) > 4_500_000
    http.files["big.jpg"] = data
    url = f"{http.base}/big.jpg"
    info = preflight.probe(url)
    assert http.served <= 64 * 1024
    # The first read and the tail, nothing else: two ranged GETs, and no
    # metadata request (the first answer's Content-Range gives the size).
    assert http.served == FIRST_READ + TAIL_READ
    assert [method for method, _, _ in http.requests] == ["GET", "GET"]
    assert info.path == url
    _same(info, preflight.probe(data))


def test_the_size_from_a_listing_saves_the_info_request(http: RangeServer) -> None:
    data = _big_jpeg()
    http.files["listed.jpg"] = data
    info = preflight.probe(f"{http.base}/listed.jpg", size=len(data))
    assert [method for method, _, _ in http.requests] == ["GET", "GET"]
    _same(info, preflight.probe(data))


def test_a_header_past_the_first_read_fetches_only_the_missing_part(http: RangeServer) -> None:
    data = _jpeg_with_big_exif(40_000)
    http.files["exif.jpg"] = data
    info = preflight.probe(f"{http.base}/exif.jpg")
    _same(info, preflight.probe(data))
    ranges = [r for method, _, r in http.requests if method == "GET"]
    # First read, tail, then the rest of the prefix the parser asked for,
    # starting where the first read ended: no byte fetched twice.
    tail_start = len(data) - TAIL_READ
    first_two = sorted(r or "" for r in ranges[:2])
    assert first_two == [f"bytes=0-{FIRST_READ - 1}", f"bytes={tail_start}-{len(data) - 1}"]
    spans = [tuple(map(int, r.removeprefix("bytes=").split("-"))) for r in ranges[2:] if r]
    assert spans and spans[0][0] == FIRST_READ
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))  # contiguous
    assert spans[-1][1] < tail_start  # the tail, already held, is not fetched again
    # The bytes the ranges asked for (the server's own counter is updated
    # after it sends, so it may lag behind a client that has already read).
    asked = [tuple(map(int, r.removeprefix("bytes=").split("-"))) for r in ranges if r]
    assert sum(end - start + 1 for start, end in asked) == spans[-1][1] + 1 + TAIL_READ


def test_a_server_without_range_is_read_only_as_far_as_the_header(http: RangeServer) -> None:
    data = _big_jpeg()
    http.files["norange/big.jpg"] = data
    with open_input(f"{http.base}/norange/big.jpg") as opened:
        info = probe_input(opened)
        fetched = opened.fetched  # type: ignore[attr-defined]
    # One request, read no further than the header, then closed: never the
    # whole object, never twice, and no metadata request.
    assert [method for method, _, _ in http.requests] == ["GET"]
    assert fetched <= 64 * 1024
    expected = preflight.probe(data)
    assert (info.format, info.width, info.height, info.file_bytes) == (
        expected.format,
        expected.width,
        expected.height,
        len(data),  # from Content-Length
    )
    assert not info.truncated  # the end is not fetched, so not judged


def test_a_server_without_range_still_gives_whole_reads(http: RangeServer) -> None:
    data = (FIXTURES / "samples" / "baseline.jpg").read_bytes()
    http.files["norange/small.jpg"] = data
    with open_input(f"{http.base}/norange/small.jpg") as opened:
        assert opened.whole() == data
    report = preflight.inspect(f"{http.base}/norange/small.jpg", decode=True)
    assert not report.rejected, report.findings


def test_a_compressed_body_is_not_inflated(http: RangeServer) -> None:
    import gzip

    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MiB inflated
    http.files["gzip/bomb.png"] = bomb
    with open_input(f"{http.base}/gzip/bomb.png") as opened:
        with pytest.raises(HeaderError):
            probe_input(opened)
        assert opened.fetched <= len(bomb)  # type: ignore[attr-defined]
    report = preflight.inspect(f"{http.base}/gzip/bomb.png")
    assert [f.code for f in report.findings] == ["not-an-image"]


def test_a_silent_server_is_a_timeout_not_a_hang(http: RangeServer) -> None:
    http.release.clear()
    try:
        opened = open_input(f"{http.base}/silent/x.jpg", timeout=0.5)
        with opened, pytest.raises(SourceError, match="timed out"):
            probe_input(opened)
    finally:
        http.release.set()


def test_the_timeout_is_set_by_the_environment_for_every_reader(
    http: RangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    http.release.clear()
    monkeypatch.setenv("PREFLIGHT_TIMEOUT", "0.5")
    try:
        report = preflight.inspect(f"{http.base}/silent/y.jpg")
    finally:
        http.release.set()
    (finding,) = report.findings
    assert finding.code == "unreadable"
    assert "timed out (no answer within 0.5 s)" in finding.message
    monkeypatch.setenv("PREFLIGHT_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="PREFLIGHT_TIMEOUT"):
        preflight.inspect(f"{http.base}/silent/z.jpg")


def test_a_small_object_is_one_request_whole(http: RangeServer) -> None:
    data = (FIXTURES / "samples" / "still.gif").read_bytes()
    assert len(data) <= remote.WHOLE_READ
    http.files["small.gif"] = data
    info = preflight.probe(f"{http.base}/small.gif", size=len(data))
    assert [method for method, _, _ in http.requests] == ["GET"]
    assert http.served == len(data)
    _same(info, preflight.probe(data))


@pytest.mark.parametrize("path", SAMPLES + HOSTILE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_over_http_probes_as_the_local_file(http: RangeServer, path: Path) -> None:
    data = path.read_bytes()
    http.files[path.name] = data
    url = f"{http.base}/{path.name}"
    found, expected = (
        _outcome(lambda: preflight.probe(url)),
        _outcome(lambda: preflight.probe(path)),
    )
    if isinstance(expected, ImageInfo):
        assert isinstance(found, ImageInfo)
        _same(found, expected)
    else:
        assert isinstance(found, tuple)
        assert found[0] is expected[0]
        if not issubclass(expected[0], SourceError):  # those name the path
            assert found[1] == expected[1]
    report, local = preflight.inspect(url), preflight.inspect(path)
    assert report.path == url
    assert [f.code for f in report.findings] == [f.code for f in local.findings]
    assert report.estimate == local.estimate


def test_unreachable_objects_are_unreadable_findings(http: RangeServer) -> None:
    for url in (
        f"{http.base}/missing.jpg",
        f"{http.base}/forbidden/a.jpg",
        "http://127.0.0.1:9/closed-port.jpg",  # the discard port: nothing listens
    ):
        report = preflight.inspect(url)
        assert report.rejected
        assert [f.code for f in report.findings] == ["unreadable"]
        assert url in report.findings[0].message
        with pytest.raises(SourceError):
            preflight.probe(url)


def test_decode_reads_the_whole_object(http: RangeServer) -> None:
    for name in ("cut-in-pixels.jpg", "source.jpg"):
        path = FIXTURES / "hostile" / name
        http.files[name] = path.read_bytes()
        report = preflight.inspect(f"{http.base}/{name}", decode=True)
        local = preflight.inspect(path, decode=True)
        assert [f.code for f in report.findings] == [f.code for f in local.findings]
        assert report.info is not None and report.info.path == f"{http.base}/{name}"


# --- memory:// and file:// -------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_memory_and_file_urls_probe_as_the_local_file(memory: object, path: Path) -> None:
    fsspec.filesystem("memory").pipe_file(f"/samples/{path.name}", path.read_bytes())
    expected = preflight.probe(path)
    for url in (f"memory://samples/{path.name}", path.resolve().as_uri()):
        found = preflight.probe(url)
        assert found.path == url
        _same(found, expected)


@given(
    st.sampled_from([p for p in SAMPLES if p.stat().st_size < 200_000]),
    st.integers(min_value=0, max_value=1 << 16),
    st.binary(max_size=8),
)
def test_cut_or_damaged_objects_fail_as_the_bytes_do(path: Path, cut: int, garbage: bytes) -> None:
    data = path.read_bytes()
    data = data[: len(data) - cut % max(1, len(data))] + garbage
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/property/object", data)
    found = _outcome(lambda: preflight.probe("memory://property/object"))
    expected = _outcome(lambda: preflight.probe(data))
    if isinstance(expected, ImageInfo):
        assert isinstance(found, ImageInfo)
        _same(found, expected)
    else:
        assert found == expected


def test_a_prefix_is_walked_by_the_listing_sorted(memory: object) -> None:
    fs = fsspec.filesystem("memory")
    for name in ("b/z.png", "a.jpg", "b/a/deep.webp", "notes.txt", "c.GIF"):
        fs.pipe_file(f"/bucket/in/{name}", b"x" * (len(name) + 1))
    fs.pipe_file("/bucket/other.jpg", b"y")
    found = remote.walk_url("memory://bucket/in/")
    assert [f.relative for f in found] == ["a.jpg", "b/a/deep.webp", "b/z.png", "c.GIF"]
    assert found[0].url == "memory://bucket/in/a.jpg"
    assert [f.size for f in found] == [6, 14, 8, 6]
    every = remote.walk_url("memory://bucket/in", every_file=True)
    assert "notes.txt" in [f.relative for f in every]
    assert remote.walk_url("memory://bucket/in/a.jpg") == [
        remote.RemoteFile("memory://bucket/in/a.jpg", "a.jpg", 6)
    ]
    assert remote.walk_url("memory://bucket/nothing/x.jpg") == [
        remote.RemoteFile("memory://bucket/nothing/x.jpg", "x.jpg", None)
    ]
    expanded = list(remote.expand_sources(["memory://bucket/in", str(FIXTURES / "hostile")]))
    assert expanded[0] == found[0]
    assert expanded[4:] == [str(p) for p in HOSTILE if p.suffix.lower() in IMAGE_EXTENSIONS]
    # The listed size is used: the check over a walk makes no info request.
    reports = [inspect_url(f.url, size=f.size) for f in found]
    assert all([f.code for f in r.findings] == ["not-an-image"] for r in reports)


def test_prepare_from_and_to_memory(memory: object) -> None:
    fs = fsspec.filesystem("memory")
    for name in ("wide-2400x600.jpg", "rgba.png", "orientation-6.jpg"):
        data = (FIXTURES / "samples" / name).read_bytes()
        fs.pipe_file(f"/in/{name}", data)
        result = preflight.prepare(f"memory://in/{name}")
        local = preflight.prepare(data)
        assert result.data == local.data
        assert result.actions == local.actions
        assert result.source.path == f"memory://in/{name}"
        written = result.save(f"memory://out/sub/{name}.{result.extension}")
        assert written == f"memory://out/sub/{name}.{result.extension}"
        assert fs.cat_file(f"/out/sub/{name}.{result.extension}") == local.data
        with pytest.raises(OutputPathError):
            result.save(f"memory://in/{name}")


def test_write_url_is_atomic_where_it_can_be(tmp_path: Path, memory: object) -> None:
    target = tmp_path / "deep" / "out.bin"
    assert remote.write_url(target.as_uri(), b"abc") is True
    assert target.read_bytes() == b"abc"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]  # no temporary left
    assert remote.write_url("memory://o/x.bin", b"def") is True
    assert fsspec.filesystem("memory").cat_file("/o/x.bin") == b"def"


def test_whole_reads_are_bounded(memory: object) -> None:
    fsspec.filesystem("memory").pipe_file("/big/object", b"\0" * 2000)
    with pytest.raises(SourceError, match="over the"):
        open_input("memory://big/object").whole(1000)
    assert len(open_input("memory://big/object").whole(2000)) == 2000


# --- the caller's mistakes ---------------------------------------------------------


def test_a_missing_file_system_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"preflight\[s3\]") as caught:
            preflight.inspect("s3://bucket/key.jpg")
        assert isinstance(caught.value, UsageError) and isinstance(caught.value, ImportError)
    monkeypatch.setitem(sys.modules, "fsspec.core", None)  # `import fsspec.core` fails
    with pytest.raises(MissingExtraError, match=r"preflight\[remote\]"):
        preflight.probe("memory://x/y.jpg")


def test_an_unknown_protocol_is_a_usage_error() -> None:
    with pytest.raises(InvalidArgumentError, match="nosuchproto"):
        preflight.inspect("nosuchproto://x/y.jpg")


def test_urls_are_told_from_paths() -> None:
    assert remote.is_url("s3://b/k") and remote.is_url("memory://x")
    assert not remote.is_url("C://windows/path.jpg")  # a drive letter is no scheme
    assert not remote.is_url("dir/with://inside.jpg")
    assert not remote.is_url(Path("s3://b/k"))  # a Path is always local


def test_import_preflight_does_not_load_fsspec() -> None:
    code = (
        "import sys, preflight, preflight._inputs.remote, preflight._imaging.inspection;"
        "print(','.join(m for m in ('fsspec', 'aiohttp', 'dask', 'distributed')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_an_http_folder_listing_is_walked_and_its_images_read_without_range(
    tmp_path: Path,
) -> None:
    # `python -m http.server`: an HTML listing per folder, and no Range.
    import functools
    from http.server import SimpleHTTPRequestHandler

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.jpg").write_bytes((FIXTURES / "samples" / "baseline.jpg").read_bytes())
    (tmp_path / "sub" / "b.png").write_bytes((FIXTURES / "samples" / "rgb.png").read_bytes())
    (tmp_path / "notes.txt").write_text("not an image")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    served = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    served.daemon_threads = True
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{served.server_address[1]}/"
        found = remote.walk_url(base)
        assert [f.relative for f in found] == ["a.jpg", "sub/b.png"]
        reports = [preflight.inspect(f.url, size=f.size) for f in found]
        assert [(r.info.format if r.info else None) for r in reports] == ["jpeg", "png"]
        assert [r.info.path for r in reports if r.info] == [f.url for f in found]
        # One object named outright is one object, with no request to list it.
        assert remote.walk_url(base + "a.jpg") == [remote.RemoteFile(base + "a.jpg", "a.jpg", None)]
    finally:
        served.shutdown()
        served.server_close()
        thread.join(timeout=10)
