# The header parser's orientation against Pillow's ImageOps.exif_transpose,
# the reference (the engines turn by the parser's orientation, so check and
# prepare show what Pillow shows): EXIF orientation stored with every TIFF
# type and count, duplicated, or out of the block; orientation only in XMP
# (JPEG APP1, PNG iTXt/tEXt, WebP XMP chunk); PNG's eXIf with its "Exif"
# prefix and ImageMagick's "Raw profile type exif" text chunk. Each case
# compares pixels: Pillow's transposed image against the stored image turned
# by the parser's orientation. Where libvips' autorot disagrees with Pillow
# the difference is recorded (docs/hostile-input.md lists them).
# Not covered, deliberately: metadata after a PNG's first IDAT (the parser
# never reads past it; libvips ignores it too, Pillow reads it on load).

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from crafted import chunk
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps
from test_prepare import ENGINES

import preflight
from preflight._imaging.engines.pillow import _transposes

_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_CODES = {3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I", 16: "Q"}


def value_bytes(kind: int, value: int, little: bool) -> bytes:
    order = "<" if little else ">"
    if kind in (5, 10):
        return struct.pack(order + ("II" if kind == 5 else "ii"), value, 1)
    if kind in _CODES:
        code = {"b": "B", "h": "H", "i": "I"}.get(_CODES[kind], _CODES[kind])  # signed: same bits
        if code in "BHI":
            value %= 1 << (8 * struct.calcsize(code))
        return struct.pack(order + code, value)
    return bytes([value % 256])


def exif_block(entries: list[tuple[int, int, int]], little: bool = True, value: int = 6) -> bytes:
    """A TIFF header and IFD0 holding orientation entries (type, count,
    where: 0 in the entry or after the IFD, 1 past the end of the block)."""
    order = "<" if little else ">"
    head = (b"II*\x00" if little else b"MM\x00*") + struct.pack(order + "I", 8)
    table = struct.pack(order + "H", len(entries))
    after = 8 + 2 + 12 * len(entries) + 4
    extra = b""
    for kind, count, where in entries:
        data = value_bytes(kind, value, little) * count
        size = _SIZES.get(kind, 1) * count
        if size <= 4:
            field = (data + bytes(4))[:4]
        else:
            offset = after + len(extra) if where == 0 else 10_000
            field = struct.pack(order + "I", offset)
            if where == 0:
                extra += (data + bytes(size))[:size]
        table += struct.pack(order + "HHI", 0x0112, kind, count) + field
    return head + table + bytes(4) + extra


def xmp_packet(orientation: int, element: bool = False) -> bytes:
    tag = (
        f"<tiff:Orientation>{orientation}</tiff:Orientation>"
        if element
        else f'tiff:Orientation="{orientation}"'
    )
    inner = f"<rdf:Description>{tag}</rdf:Description>" if element else f"<rdf:Description {tag}/>"
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>{inner}</rdf:RDF></x:xmpmeta>'.encode()


def stored(fmt: str) -> bytes:
    image = Image.new("RGB", (12, 6), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, 3, 2))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buffer.getvalue()


def jpeg(app1: list[bytes]) -> bytes:
    data = stored("JPEG")
    segments = b"".join(b"\xff\xe1" + struct.pack(">H", len(s) + 2) + s for s in app1)
    return data[:2] + segments + data[2:]


def png(chunks: list[bytes]) -> bytes:
    data = stored("PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def webp(exif: bytes | None, xmp: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"lossless": True}
    if exif is not None:
        options["exif"] = exif
    if xmp is not None:
        options["xmp"] = xmp
    Image.open(io.BytesIO(stored("PNG"))).save(buffer, "WEBP", **options)
    return buffer.getvalue()


def raw_profile(block: bytes) -> bytes:
    hexed = (b"Exif\x00\x00" + block).hex()
    return f"\nexif\n{len(block) + 6:8d}\n{hexed}\n".encode()


def assert_parser_turns_as_pillow(data: bytes) -> int:
    orientation = preflight.probe(data).orientation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            shown = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
            plain = image.convert("RGB")
    turn = _transposes().get(orientation)
    ours = np.asarray(plain.transpose(turn) if turn is not None else plain)
    assert ours.shape == shown.shape
    assert np.array_equal(ours, shown)
    return orientation


TYPES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 0, 14, 99]


@given(
    entries=st.lists(
        st.tuples(st.sampled_from(TYPES), st.integers(0, 3), st.integers(0, 1)),
        min_size=1,
        max_size=3,
    ),
    little=st.booleans(),
    value=st.sampled_from([0, 1, 2, 3, 5, 6, 8, 9, 256 + 6, 65535]),
)
def test_exif_orientation_of_any_type_and_count_follows_pillow(
    entries: list[tuple[int, int, int]], little: bool, value: int
) -> None:
    assert_parser_turns_as_pillow(jpeg([b"Exif\x00\x00" + exif_block(entries, little, value)]))


@pytest.mark.parametrize(
    ("name", "entries", "expected"),
    [
        ("SHORT", [(3, 1, 0)], 6),
        ("SSHORT", [(8, 1, 0)], 6),
        ("LONG", [(4, 1, 0)], 6),
        ("SLONG", [(9, 1, 0)], 6),
        ("RATIONAL", [(5, 1, 0)], 6),
        ("FLOAT", [(11, 1, 0)], 6),
        ("DOUBLE", [(12, 1, 0)], 6),
        ("BYTE: present, never turns", [(1, 1, 0)], 1),
        ("UNDEFINED", [(7, 1, 0)], 1),
        ("count 0: absent", [(3, 0, 0)], 1),
        ("count 2: the first value", [(3, 2, 0)], 6),
        ("unknown type skipped, the next entry counts", [(99, 1, 0), (8, 1, 0)], 6),
        ("a value cut short ends the directory", [(3, 3, 1), (4, 1, 0)], 1),
        ("a value larger than the block is skipped", [(3, 1000, 1), (4, 1, 0)], 6),
        ("the first readable entry wins", [(3, 1, 0), (1, 1, 0)], 6),
    ],
)
def test_exif_orientation_types(
    name: str, entries: list[tuple[int, int, int]], expected: int
) -> None:
    assert assert_parser_turns_as_pillow(jpeg([b"Exif\x00\x00" + exif_block(entries)])) == expected


XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"


@pytest.mark.parametrize("element", [False, True])
@pytest.mark.parametrize("orientation", [1, 3, 6, 8, 0, 9])
def test_xmp_only_orientation_follows_pillow(orientation: int, element: bool) -> None:
    packet = xmp_packet(orientation, element)
    cases = [
        jpeg([XMP_ID + packet]),
        png([chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)]),
        png([chunk(b"tEXt", b"XML:com.adobe.xmp\x00" + packet)]),
        webp(None, packet),
    ]
    for data in cases:
        assert assert_parser_turns_as_pillow(data) == (orientation if 1 <= orientation <= 8 else 1)


def test_exif_orientation_beats_xmp_and_xmp_fills_a_missing_tag() -> None:
    exif_1 = b"Exif\x00\x00" + exif_block([(3, 1, 0)], value=1)
    no_tag = b"Exif\x00\x00" + exif_block([(3, 0, 0)])
    assert assert_parser_turns_as_pillow(jpeg([exif_1, XMP_ID + xmp_packet(6)])) == 1
    assert assert_parser_turns_as_pillow(jpeg([no_tag, XMP_ID + xmp_packet(6)])) == 6
    # the last XMP packet wins
    assert (
        assert_parser_turns_as_pillow(jpeg([XMP_ID + xmp_packet(3), XMP_ID + xmp_packet(8)])) == 8
    )


@pytest.mark.parametrize("compressed", [False, True])
def test_png_raw_profile_text_follows_pillow(compressed: bool) -> None:
    text = raw_profile(exif_block([(3, 1, 0)], value=8))
    if compressed:
        body = chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(text))
    else:
        body = chunk(b"tEXt", b"Raw profile type exif\x00" + text)
    assert assert_parser_turns_as_pillow(png([body])) == 8
    # an eXIf chunk takes precedence over the text, as in Pillow
    exif = chunk(b"eXIf", exif_block([(3, 1, 0)], value=3))
    assert assert_parser_turns_as_pillow(png([body, exif])) == 3


@given(value=st.sampled_from([1, 3, 6]), prefixed=st.booleans(), kind=st.sampled_from([3, 8, 4]))
def test_png_exif_chunk_follows_pillow(value: int, prefixed: bool, kind: int) -> None:
    block = exif_block([(kind, 1, 0)], value=value)
    assert_parser_turns_as_pillow(
        png([chunk(b"eXIf", (b"Exif\x00\x00" if prefixed else b"") + block)])
    )


@given(kind=st.sampled_from([3, 8, 9, 1, 7]), xmp=st.booleans())
def test_webp_orientation_follows_pillow(kind: int, xmp: bool) -> None:
    block = b"Exif\x00\x00" + exif_block([(kind, 1, 0)], value=6)
    assert_parser_turns_as_pillow(webp(block, xmp_packet(3) if xmp else None))


# --- where libvips disagrees with Pillow (preflight follows Pillow) -----------


def vips_turns(data: bytes) -> bool:
    pyvips = pytest.importorskip("pyvips")
    image = pyvips.Image.new_from_buffer(data, "")
    return bool(image.autorot().width != image.width)


@pytest.mark.parametrize(
    ("name", "data", "pillow_turns"),
    [
        ("EXIF BYTE", jpeg([b"Exif\x00\x00" + exif_block([(1, 1, 0)])]), False),
        ("EXIF DOUBLE", jpeg([b"Exif\x00\x00" + exif_block([(12, 1, 0)])]), True),
        ("XMP only", jpeg([XMP_ID + xmp_packet(6)]), True),
        (
            "PNG raw profile",
            png(
                [
                    chunk(
                        b"tEXt", b"Raw profile type exif\x00" + raw_profile(exif_block([(3, 1, 0)]))
                    )
                ]
            ),
            True,
        ),
    ],
)
def test_libvips_differences_are_known(name: str, data: bytes, pillow_turns: bool) -> None:
    assert vips_turns(data) is not pillow_turns  # the documented difference
    assert preflight.probe(data).transposed is pillow_turns  # preflight follows Pillow


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_show_the_xmp_orientation(engine: str) -> None:
    data = jpeg([XMP_ID + xmp_packet(6)])
    result = preflight.prepare(data, engine=engine, image_format="png")
    assert (result.width, result.height) == (6, 12)
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (6, 12)
        red = np.asarray(image.convert("RGB"))[0, -1]  # orientation 6: top-left goes top-right
    assert red[0] > 200 and red[1] < 60


@pytest.mark.parametrize("engine", ENGINES)
def test_tiff_orientation_is_turned_once(engine: str) -> None:
    from crafted import tiff

    data = tiff(12, 6, extra=[(0x0112, 3, 6)])
    if engine == "vips":
        pytest.importorskip("pyvips")
    result = preflight.prepare(data, engine=engine, image_format="png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as image:
            expected = np.asarray(ImageOps.exif_transpose(image).convert("L"))
    with Image.open(io.BytesIO(result.data)) as image:
        assert np.array_equal(np.asarray(image.convert("L")), expected)
