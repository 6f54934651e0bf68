# Hostile bytes: the parser only ever returns a Header or NeedMore, or raises
# one of preflight's HeaderError classes; NeedMore asks for more than it has
# and never more than the budget; a header read from a prefix is the header
# of the whole file; every walk ends quickly; probe never reads past the
# budget (plus the 64-byte tail); a decompression bomb costs no memory.

from __future__ import annotations

import contextlib
import io
import struct
import threading
import tracemalloc

import pytest
from helpers import FIXTURES, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import header_shaped_bytes

import preflight
from preflight._core.headers import READ_BUDGET, TAIL_READ, NeedMore, parse
from preflight._core.info import Header
from preflight.errors import CorruptHeaderError, HeaderError, HeaderTooLargeError

# Headers and probes only: no image engine is loaded (conftest checks), so
# tox's nopyvips env leaves this module to the py env.
pytestmark = pytest.mark.noengine

SEEDS = sorted(
    p for folder in ("samples", "unsupported", "hostile") for p in (FIXTURES / folder).iterdir()
)
SEED_BYTES = {f"{p.parent.name}/{p.name}": p.read_bytes()[:4096] for p in SEEDS}
ACCEPTED = ("jpeg", "png", "gif", "webp")


def parse_safely(data: bytes, complete: bool) -> Header | NeedMore | None:
    """parse(), checking its contract; None when it refused the data."""
    try:
        result = parse(data, complete=complete)
    except HeaderError:
        return None
    if isinstance(result, NeedMore):
        assert not complete
        assert len(data) < result.at_least <= READ_BUDGET
    else:
        assert isinstance(result, Header)
        if result.width is not None:
            assert result.width > 0
            assert result.height is not None
            assert result.height > 0
        assert 1 <= result.orientation <= 8
        assert result.frames is None or result.frames >= 1
    return result


@given(st.binary(max_size=2048), st.booleans())
def test_random_bytes(data: bytes, complete: bool) -> None:
    parse_safely(data, complete)


@given(header_shaped_bytes, st.booleans())
def test_random_bytes_shaped_like_headers(data: bytes, complete: bool) -> None:
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


@pytest.mark.parametrize("name", sorted(n for n in SEED_BYTES if n.startswith("samples/")))
def test_a_header_read_from_a_prefix_is_the_whole_files(name: str) -> None:
    # Whatever prefix the parser is given, it answers NeedMore or the header
    # it reads from the whole file: it never guesses from too little data.
    whole = (FIXTURES / name).read_bytes()
    expected = parse(whole, complete=True)
    assert isinstance(expected, Header)
    for end in range(0, min(len(whole), 4096), 7):
        result = parse_safely(whole[:end], complete=False)
        assert isinstance(result, NeedMore) or result == expected, end


@pytest.mark.parametrize(
    ("data", "error"),
    [
        # A backtracking SVG pattern took exponential time on these comments.
        (b"<!---->" * 580 + b"<p/>", None),
        (b'<?xml version="1.0"?>' + b"<!--" + b"-->" * 1300, None),
        # Fill bytes: one step each, but bounded by the data.
        (b"\xff\xd8" + b"\xff" * (READ_BUDGET - 2), HeaderTooLargeError),
        # Junk: skipped to the next 0xFF in one search.
        (b"\xff\xd8\xff\xe0\x00\x04\x00\x00" + bytes(READ_BUDGET), HeaderTooLargeError),
        # A GIF frame whose data is a megabyte of full sub-blocks: strided walk.
        (
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02"
            + (b"\xff" + bytes(255)) * 4000
            + b"\x00;",
            None,
        ),
        # Unknown GIF bytes before any frame: skipped as Pillow does, to the end.
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00" + b"\x01" * READ_BUDGET, HeaderTooLargeError),
    ],
    ids=["svg-comments", "svg-closers", "jpeg-fill", "jpeg-junk", "gif-blocks", "gif-junk"],
)
def test_pathological_walks_end_quickly(data: bytes, error: type[HeaderError] | None) -> None:
    # Not a timing assertion (no test has one): a watchdog far above the few
    # milliseconds these take, for walks that would otherwise never end (the
    # backtracking SVG pattern took hours).
    results: list[type[HeaderError] | None] = []

    def walk() -> None:
        results.append(outcome(data, complete=False))
        results.append(outcome(data, complete=True))

    worker = threading.Thread(target=walk, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the walk did not end"
    assert len(results) == 2
    assert error is None or results[0] is error


def outcome(data: bytes, *, complete: bool) -> type[HeaderError] | None:
    """The class of HeaderError parse raises, or None if it answers."""
    try:
        parse(data, complete=complete)
    except HeaderError as raised:
        return type(raised)
    return None


def test_many_tiny_gif_frames_are_counted() -> None:
    frame = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x4c\x01\x00"
    data = b"GIF89a\x01\x00\x01\x00\x00\x00\x00" + frame * 20000 + b";"
    header = parse(data, complete=True)
    assert isinstance(header, Header)
    assert (header.frames, header.animated) == (20000, True)


def test_gif_frames_past_the_budget_are_unknown_not_an_error() -> None:
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    blocks = READ_BUDGET // 256 + 1  # one frame alone is over the budget
    frame = b",\x00\x00\x00\x00\x02\x00\x03\x00\x00\x02" + (b"\xff" + bytes(255)) * blocks + b"\x00"
    data = b"GIF89a\x02\x00\x03\x00\x00\x00\x00" + loop + frame * 2 + b";"
    assert len(data) > READ_BUDGET
    header = parse(data[:READ_BUDGET], complete=False)
    assert isinstance(header, Header)
    assert (header.width, header.height, header.frames, header.animated) == (2, 3, None, True)
    assert preflight.probe(data).frames == 2  # bytes in memory: the whole walk


def test_jpeg_scan_past_the_budget_still_gives_the_frame() -> None:
    sof = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x20\x03" + bytes(9)
    comment = b"\xff\xfe\xff\xff" + bytes(0xFFFF - 2)
    comments = READ_BUDGET // len(comment) + 1
    data = b"\xff\xd8" + sof + comment * comments + b"\xff\xda"
    assert len(data) > READ_BUDGET
    header = parse(data[:READ_BUDGET], complete=False)
    assert isinstance(header, Header)
    assert (header.width, header.height) == (32, 16)
    # ... but before the frame header, the same walk is too large a header.
    with pytest.raises(HeaderTooLargeError):
        parse((b"\xff\xd8" + comment * comments + sof)[:READ_BUDGET], complete=False)


def test_exif_offsets_outside_the_block_are_ignored() -> None:
    # IFD offset pointing past the APP1 segment, into the frame header.
    tiff = b"MM\x00*" + struct.pack(">I", 400)
    app1 = b"Exif\x00\x00" + tiff
    data = (
        b"\xff\xd8\xff\xe1"
        + struct.pack(">H", len(app1) + 2)
        + app1
        + b"\xff\xc0\x00\x11\x08\x00\x10\x00\x20\x03"
        + bytes(9)
        + b"\xff\xda"
    )
    header = parse(data, complete=True)
    assert isinstance(header, Header)
    assert (header.orientation, header.has_exif) == (1, True)


def test_png_chunk_lengths_over_the_spec_limit_are_corrupt() -> None:
    data = (FIXTURES / "samples" / "rgb.png").read_bytes()
    broken = data[:33] + struct.pack(">I", 2**31) + data[37:]
    with pytest.raises(CorruptHeaderError):
        parse(broken, complete=True)


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


# Every example probes seven files of up to 16 MB: a third of the
# profile's examples (100 in CI).
@settings(max_examples=examples(1 / 3))
@given(st.binary(max_size=64), st.integers(0, 3 * READ_BUDGET))
def test_probe_never_reads_past_the_budget(start: bytes, padding: int) -> None:
    for signature in (
        b"",
        b"\xff\xd8\xff\xe1\xff\xff",
        b"\xff\xd8\xff\xe0\x00\x10",
        b"GIF89a\x10\x00\x10\x00\x00\x00\x00",
        b"GIF89a\x10\x00\x10\x00\x00\x00\x00,\x00\x00\x00\x00\x10\x00\x10\x00\x00\x02\xff",
        b"RIFF\xff\xff\xff\xffWEBPVP8X\x0a\x00\x00\x00\x08",
        b"\x89PNG\r\n\x1a\n",
    ):
        data = signature + start + bytes(padding % (2 * READ_BUDGET))
        source = CountingReader(data)
        with contextlib.suppress(HeaderError):
            preflight.probe(source)  # type: ignore[arg-type]
        assert source.bytes_read <= READ_BUDGET + TAIL_READ


def test_huge_jpeg_segments_hit_the_budget_not_memory() -> None:
    # APPn segments of 65 KB each, more than the budget before any frame header.
    segment = b"\xff\xe2\xff\xff" + bytes(0xFFFF - 2)
    frame = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03" + bytes(9)
    data = b"\xff\xd8" + segment * (READ_BUDGET // len(segment) + 1) + frame
    with pytest.raises(preflight.HeaderTooLargeError):
        preflight.probe(CountingReader(data))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["bomb-100000x100000.png", "declares-65000x65000.jpg"])
def test_bomb_is_reported_without_memory(name: str) -> None:
    path = FIXTURES / "hostile" / name
    tracemalloc.start()
    try:
        info = preflight.probe(path)
        _, probe_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        report = preflight.inspect(path)
        _, inspect_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert probe_peak < 64 * 1024
    assert inspect_peak < 256 * 1024
    assert max(info.width or 0, info.height or 0) >= 65_000
    assert report.info is not None
    # Tens of bytes cannot hold the pixels of such a frame: cut short too.
    assert [f.code for f in report.findings] == ["truncated", "over-max-side"]


def test_budget_covers_every_file_a_surface_accepts() -> None:
    largest_file = max(s.max_image_base64_bytes for s in preflight.SURFACES.values()) * 3 // 4
    assert largest_file <= READ_BUDGET


def test_megabytes_of_metadata_before_the_frame_are_read() -> None:
    # Photoshop's XMP can grow to megabytes ("DocumentAncestors"), all in APP1
    # segments before the frame header; decoders read such files, and so
    # must probe (from a path, from a stream, from bytes).
    sample = (FIXTURES / "samples" / "baseline.jpg").read_bytes()
    xmp = b"\xff\xe1\xff\xff" + b"http://ns.adobe.com/xap/1.0/\x00" + bytes(0xFFFF - 2 - 29)
    data = sample[:2] + xmp * 50 + sample[2:]  # 3.2 MB before the frame header
    expected = preflight.probe(sample)
    for source in (data, io.BytesIO(data), CountingReader(data)):
        info = preflight.probe(source)  # type: ignore[arg-type]
        assert (info.width, info.height, info.format) == (expected.width, expected.height, "jpeg")
        assert info.file_bytes == len(data)
