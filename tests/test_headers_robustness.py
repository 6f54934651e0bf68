# Hostile bytes: the parser only ever returns a Header or NeedMore, or raises
# one of preflight's HeaderError classes; NeedMore asks for more than it has
# and never more than the budget; probe never reads past the budget (plus the
# 64-byte tail); a decompression bomb costs no memory.

from __future__ import annotations

import contextlib
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import preflight
from preflight.errors import HeaderError
from preflight.headers import READ_BUDGET, TAIL_READ, NeedMore, parse
from preflight.info import Header

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted(p for p in (FIXTURES / "samples").iterdir())
SEED_BYTES = {p.name: p.read_bytes()[:4096] for p in SEEDS}


def parse_safely(data: bytes, complete: bool) -> None:
    try:
        result = parse(data, complete=complete)
    except HeaderError:
        return
    if isinstance(result, NeedMore):
        assert not complete
        assert len(data) < result.at_least <= READ_BUDGET
    else:
        assert isinstance(result, Header)
        if result.width is not None:
            assert result.width > 0
            assert result.height is not None
            assert result.height > 0


@given(st.binary(max_size=2048), st.booleans())
def test_random_bytes(data: bytes, complete: bool) -> None:
    parse_safely(data, complete)


@given(
    st.sampled_from(sorted(SEED_BYTES)),
    st.lists(
        st.tuples(st.integers(0, 4095), st.integers(0, 255), st.sampled_from("fid")), max_size=8
    ),
    st.booleans(),
)
def test_mutated_headers(name: str, edits: list[tuple[int, int, str]], complete: bool) -> None:
    data = bytearray(SEED_BYTES[name])
    for position, value, how in edits:
        at = position % (len(data) + 1)
        if how == "f" and at < len(data):
            data[at] = value
        elif how == "i":
            data.insert(at, value)
        elif how == "d" and at < len(data):
            del data[at]
    parse_safely(bytes(data), complete)


@pytest.mark.parametrize("name", sorted(SEED_BYTES))
def test_every_prefix(name: str) -> None:
    data = SEED_BYTES[name]
    for end in range(min(len(data), 700)):
        parse_safely(data[:end], complete=True)
        parse_safely(data[:end], complete=False)


class CountingReader(io.RawIOBase):
    """A file object that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


@given(st.binary(max_size=64), st.integers(0, 3 * READ_BUDGET))
def test_probe_never_reads_past_the_budget(start: bytes, padding: int) -> None:
    for signature in (
        b"",
        b"\xff\xd8\xff\xe1\xff\xff",
        b"GIF89a\x10\x00\x10\x00\x00\x00\x00",
        b"RIFF",
    ):
        data = signature + start + bytes(padding % (2 * READ_BUDGET))
        source = CountingReader(data)
        with contextlib.suppress(HeaderError):
            preflight.probe(source)  # type: ignore[arg-type]
        assert source.bytes_read <= READ_BUDGET + TAIL_READ


def test_huge_jpeg_segments_hit_the_budget_not_memory() -> None:
    # APPn segments of 65 KB each, more than the budget before any frame header.
    segment = b"\xff\xe2\xff\xff" + bytes(0xFFFF - 2)
    data = b"\xff\xd8" + segment * 20 + b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03" + bytes(9)
    with pytest.raises(preflight.HeaderTooLargeError):
        preflight.probe(CountingReader(data))  # type: ignore[arg-type]


def test_bomb_is_reported_without_memory() -> None:
    path = FIXTURES / "hostile" / "bomb-100000x100000.png"
    tracemalloc.start()
    try:
        report = preflight.inspect(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024
    assert report.info is not None
    assert (report.info.width, report.info.height) == (100_000, 100_000)
    assert [f.code for f in report.findings] == ["over-max-side"]
