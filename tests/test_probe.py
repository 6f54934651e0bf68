# probe(), the I/O shell: every kind of source gives the same answer and the
# exact byte count; unreadable sources are a SourceError (an OSError) with a
# stable code and the path; only the bytes the parser asks for are read.

from __future__ import annotations

import importlib
import io
import os
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, Pipe

import preflight
from preflight._core.headers import FIRST_READ
from preflight._core.info import base64_length
from preflight.errors import SourceError

SAMPLE = FIXTURES / "samples" / "photo-800x600.jpg"


def test_sources_agree() -> None:
    data = SAMPLE.read_bytes()
    from_path = preflight.probe(SAMPLE)
    from_str = preflight.probe(str(SAMPLE))
    from_bytes = preflight.probe(data)
    from_view = preflight.probe(memoryview(data))
    with open(SAMPLE, "rb") as handle:
        from_file = preflight.probe(handle)
    for info in (from_str, from_bytes, from_view, from_file):
        assert (info.format, info.width, info.height, info.file_bytes) == (
            from_path.format,
            from_path.width,
            from_path.height,
            from_path.file_bytes,
        )
    assert from_path.path == str(SAMPLE)
    assert from_bytes.path is None
    assert from_file.path == str(SAMPLE)


def test_byte_counts_are_exact() -> None:
    data = SAMPLE.read_bytes()
    info = preflight.probe(SAMPLE)
    assert info.file_bytes == len(data)
    assert info.base64_bytes == len(__import__("base64").b64encode(data))
    for n in range(10):
        assert base64_length(n) == len(__import__("base64").b64encode(bytes(n)))


def test_file_object_position_is_kept() -> None:
    data = b"junk" + SAMPLE.read_bytes()
    stream = io.BytesIO(data)
    stream.seek(4)
    info = preflight.probe(stream)
    assert info.file_bytes == len(data) - 4
    assert stream.tell() == 4


def test_non_seekable_stream() -> None:
    data = SAMPLE.read_bytes()
    info = preflight.probe(Pipe(data))  # type: ignore[arg-type]
    assert (info.width, info.height, info.file_bytes) == (800, 600, len(data))
    assert not info.missing_end_marker


def test_fifo(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    import threading

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    data = SAMPLE.read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(data))
    writer.start()
    info = preflight.probe(fifo)
    writer.join()
    assert (info.width, info.file_bytes, info.path) == (800, len(data), str(fifo))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: d / "missing.jpg", "no such file"),
        (lambda d: d, "is a directory"),
    ],
)
def test_unreadable_paths(tmp_path: Path, make: object, words: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(SourceError) as caught:
        preflight.probe(path)
    assert isinstance(caught.value, OSError)
    assert caught.value.code == "unreadable"
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_path_with_a_nul_character_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not a valid path") as caught:
        preflight.probe("photo\x00.jpg")
    assert caught.value.code == "unreadable"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    path.write_bytes(SAMPLE.read_bytes())
    path.chmod(0)
    with pytest.raises(SourceError, match="permission denied"):
        preflight.probe(path)


def test_text_mode_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(SAMPLE.read_bytes()[:100])
    with open(path, encoding="latin-1") as handle, pytest.raises(SourceError, match="binary"):
        preflight.probe(handle)  # type: ignore[arg-type]


def test_not_a_source() -> None:
    with pytest.raises(SourceError):
        preflight.probe(12)  # type: ignore[arg-type]


def test_large_file_reads_only_its_head(tmp_path: Path) -> None:
    # 8000x8000 JPEG header followed by megabytes: only the head and tail are read.
    path = tmp_path / "big.jpg"
    head = SAMPLE.read_bytes()
    path.write_bytes(head[:-2] + bytes(30_000_000) + b"\xff\xd9")
    info = preflight.probe(path)
    assert info.file_bytes == len(head) + 30_000_000
    assert not info.missing_end_marker


def test_permission_denied_as_any_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads anything, so the refusal is simulated where the OS would raise it.
    def refuse(path: str, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(SourceError, match="permission denied"):
        preflight.probe(tmp_path / "x.jpg")
    report = preflight.inspect(tmp_path / "x.jpg")
    assert [f.code for f in report.findings] == ["unreadable"]


def test_reads_without_pread_as_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    # the module, not the function of the same name
    probe_module = importlib.import_module("preflight._inputs.input")
    expected = preflight.probe(SAMPLE)
    monkeypatch.setattr(probe_module, "_pread", probe_module._pread_by_seek)
    assert preflight.probe(SAMPLE) == expected


@pytest.mark.parametrize("extra", [-1, 0, 1, 5000])
def test_sizes_around_the_whole_file_read(tmp_path: Path, extra: int) -> None:
    # Files just under, at and over the first read: the size, the end-of-file
    # check and the header are the same however the file is read.
    head = (FIXTURES / "samples" / "baseline.jpg").read_bytes()[:-2]
    data = head + bytes(FIRST_READ + extra - len(head) - 2) + b"\xff\xd9"
    path = tmp_path / "sized.jpg"
    path.write_bytes(data)
    for source in (path, data, io.BytesIO(data), Pipe(data)):
        info = preflight.probe(source)  # type: ignore[arg-type]
        assert (info.width, info.height, info.file_bytes) == (96, 64, len(data))
        assert not info.missing_end_marker
        assert info.base64_bytes == len(__import__("base64").b64encode(data))


def test_each_byte_is_read_once(tmp_path: Path) -> None:
    # A frame header behind 200 KB of metadata: probe asks several times, and
    # reads only the new bytes each time (plus the 64-byte tail).
    source = SAMPLE.read_bytes()
    comment = b"\xff\xfe\xff\xff" + bytes(0xFFFF - 2)
    data = source[:2] + comment * 3 + source[2:]
    reads: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            reads.append(len(chunk))
            return chunk

    info = preflight.probe(Counting(data))
    assert (info.width, info.height) == (800, 600)
    assert len(reads) > 2
    assert sum(reads) <= data.index(b"\xff\xda") + 64 * 1024 + 64


@pytest.mark.parametrize("kind", ["path", "bytes", "seekable", "pipe"])
def test_jpeg_cut_short_or_with_data_after_its_end(tmp_path: Path, kind: str) -> None:
    # Neither ends with the end marker: the one cut inside its pixel data is
    # truncated; the one with a video after its end marker is whole.
    whole = (FIXTURES / "samples" / "baseline.jpg").read_bytes()
    cases = {
        "cut": (whole[: len(whole) * 3 // 4], (True, False)),
        "motion": (whole + b"\x00\x00\x00\x18ftypmp42" + bytes(9000), (False, True)),
        "whole": (whole, (False, False)),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(data)
        source = {
            "path": path,
            "bytes": data,
            "seekable": io.BytesIO(data),
            "pipe": Pipe(data),
        }[kind]
        info = preflight.probe(source)  # type: ignore[arg-type]
        assert (info.truncated, info.missing_end_marker) == expected, name
        assert (info.width, info.height, info.file_bytes) == (96, 64, len(data))
