# File objects that cannot give an image's bytes: text mode, closed, not
# open for reading, unseekable and failing, or not file-like at all. probe
# raises one clear SourceError naming the problem, inspect reports an
# `unreadable` finding; never an unrelated exception (UnicodeDecodeError,
# ValueError, AttributeError...).

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, Pipe

import preflight
from preflight.errors import SourceError

JPEG = FIXTURES / "samples" / "baseline.jpg"


class FailingRead(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError("device error")


class BrokenSeekable:
    """A duck-typed file whose seekable() raises something odd."""

    def read(self, n: int = -1) -> bytes:
        return JPEG.read_bytes()[: n if n >= 0 else None]

    def seekable(self) -> bool:
        raise RuntimeError("seekable exploded")


class ReadOnlyMethod:
    """Has read() and nothing else; read() returns text."""

    def read(self, n: int = -1) -> str:
        return "not bytes"


class ExplodingRead:
    def read(self, n: int = -1) -> bytes:
        raise KeyError("inner bug")


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    handles: list[Any] = []

    def make(kind: str) -> Any:
        if kind == "text":
            handle: Any = open(JPEG, encoding="utf-8")  # noqa: SIM115
        elif kind == "text-latin1":  # decodes without error: still text
            handle = open(JPEG, encoding="latin-1")  # noqa: SIM115
        elif kind == "closed":
            handle = open(JPEG, "rb")  # noqa: SIM115
            handle.close()
        elif kind == "write-only":
            handle = open(tmp_path / "out.bin", "wb")  # noqa: SIM115
        elif kind == "string-io":
            handle = io.StringIO("hello")
        elif kind == "failing-read":
            handle = io.BufferedReader(FailingRead())
        elif kind == "broken-seekable":
            handle = BrokenSeekable()
        elif kind == "read-returns-text":
            handle = ReadOnlyMethod()
        else:
            handle = ExplodingRead()
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        if hasattr(handle, "close"):
            handle.close()


KINDS = [
    "text",
    "text-latin1",
    "closed",
    "write-only",
    "string-io",
    "failing-read",
    "broken-seekable",
    "read-returns-text",
    "exploding-read",
]
EXPECTED = {
    "text": "binary mode",
    "text-latin1": "binary mode",
    "closed": "closed",
    "write-only": "not open for reading",
    "string-io": "binary mode",
    "failing-read": "device error",
    "broken-seekable": "seekable exploded",
    "read-returns-text": "binary mode",
    "exploding-read": "inner bug",
}


@pytest.mark.parametrize("kind", KINDS)
def test_probe_raises_one_clear_source_error(kind: str, opened: Callable[[str], Any]) -> None:
    with pytest.raises(SourceError, match=EXPECTED[kind]):
        preflight.probe(opened(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_reports_unreadable(kind: str, opened: Callable[[str], Any]) -> None:
    report = preflight.inspect(opened(kind))
    assert [finding.code for finding in report.findings] == ["unreadable"]
    assert EXPECTED[kind] in report.findings[0].message


def test_good_streams_still_work() -> None:
    data = JPEG.read_bytes()
    with open(JPEG, "rb") as handle:
        assert preflight.probe(handle).width == 96
    assert preflight.probe(Pipe(data)).width == 96
    assert preflight.probe(io.BufferedReader(Pipe(data))).width == 96
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert preflight.probe(pipe).file_bytes == len(data)
