# Hypothesis strategies shared by the test modules.

from __future__ import annotations

from hypothesis import strategies as st

MAX_SIDE = 100_000

# Sides from 1 to 100,000, weighted so that the interesting regions (tiny,
# around the tier limits, the 8000 px rejection, huge) all come up often.
sides = st.one_of(
    st.integers(1, 64),
    st.integers(1000, 3000),
    st.integers(7900, 8100),
    st.integers(1, MAX_SIDE),
)

sizes = st.tuples(sides, sides)

# Extreme aspect ratios: one side 1..8 px, the other up to 100,000 px.
extreme_sizes = st.one_of(
    st.tuples(st.integers(1, 8), st.integers(1, MAX_SIDE)),
    st.tuples(st.integers(1, MAX_SIDE), st.integers(1, 8)),
)

any_sizes = st.one_of(sizes, extreme_sizes)

tiers = st.sampled_from(["standard", "high-res"])
rules = st.sampled_from(["guide", "patches"])
token_budgets = st.integers(1, 6000)
boxes = st.tuples(st.integers(1, 5000), st.integers(1, 5000))

# Where a block sits in a request body: a message's content, or a tool
# result's content inside it (the keys from the body down to the block).
block_positions = st.tuples(
    st.integers(0, 500), st.integers(0, 500), st.none() | st.integers(0, 100)
).map(lambda t: ("messages", t[0], "content", t[1]) + (() if t[2] is None else ("content", t[2])))


# --- images, for the parser's differential tests -------------------------------

# (Pillow format, mode, save options): every format and mode Pillow writes.
HEADER_IMAGE_KINDS: list[tuple[str, str, dict[str, object]]] = [
    ("JPEG", "L", {}),
    ("JPEG", "L", {"progressive": True}),
    ("JPEG", "RGB", {}),
    ("JPEG", "RGB", {"progressive": True}),
    ("JPEG", "RGB", {"subsampling": 0, "quality": 95}),
    ("JPEG", "CMYK", {}),
    ("JPEG", "CMYK", {"progressive": True}),
    ("PNG", "1", {}),
    ("PNG", "L", {}),
    ("PNG", "LA", {}),
    ("PNG", "P", {}),
    ("PNG", "P", {"transparency": 0}),
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {}),
    ("PNG", "I;16", {}),
    ("GIF", "P", {}),
    ("GIF", "L", {}),
    ("GIF", "RGB", {"interlace": False}),
    ("WEBP", "RGB", {"quality": 60}),
    ("WEBP", "RGB", {"lossless": True}),
    ("WEBP", "RGBA", {"quality": 60}),
    ("WEBP", "RGBA", {"lossless": True}),
]
header_image_kinds = st.sampled_from(HEADER_IMAGE_KINDS)
header_sides = st.integers(1, 300)
header_orientations = st.integers(1, 8)


# --- bytes shaped like headers, for the parser's robustness tests -------------
# Random structure under a real signature, so the walks past the signature
# (segments, chunks, blocks, IFDs) meet hostile lengths and values.


def _length_prefixed(kind: bytes, body: bytes, length: int | None, size: int, order: str) -> bytes:
    declared = len(body) + (2 if size == 2 else 0) if length is None else length
    return kind + declared.to_bytes(size, order) + body  # type: ignore[arg-type]


_lengths = st.one_of(st.none(), st.integers(0, 0xFFFF))
_exif = st.tuples(st.sampled_from([b"II*\x00", b"MM\x00*"]), st.binary(max_size=60)).map(
    lambda parts: b"Exif\x00\x00" + parts[0] + parts[1]
)
_jpeg_segment = st.tuples(
    st.integers(0x00, 0xFF), st.one_of(st.binary(max_size=24), _exif), _lengths
).map(lambda s: _length_prefixed(bytes([0xFF, s[0]]), s[1], s[2], 2, "big"))
_jpeg = st.lists(st.one_of(_jpeg_segment, st.binary(max_size=3)), max_size=8).map(
    lambda parts: b"\xff\xd8" + b"".join(parts)
)
_png_chunk = st.tuples(
    st.sampled_from([b"IHDR", b"acTL", b"fcTL", b"tRNS", b"iCCP", b"eXIf", b"IDAT", b"IEND"]),
    st.one_of(st.binary(max_size=30), _exif.map(lambda e: e[6:])),
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),
).map(lambda c: _length_prefixed(b"", c[0] + c[1], c[2], 4, "big") + b"\x00" * 4)
_png = st.lists(_png_chunk, max_size=6).map(lambda cs: b"\x89PNG\r\n\x1a\n" + b"".join(cs))
_gif_block = st.one_of(
    st.tuples(st.sampled_from([b"!\xf9", b"!\xff", b"!\xfe"]), st.binary(max_size=20)).map(
        lambda b: b[0] + bytes([len(b[1])]) + b[1] + b"\x00"
    ),
    st.binary(min_size=9, max_size=9).map(lambda d: b"," + d + b"\x02\x02\x4c\x01\x00"),
    st.binary(max_size=4),
)
_gif = st.tuples(st.binary(min_size=7, max_size=7), st.lists(_gif_block, max_size=6)).map(
    lambda g: b"GIF89a" + g[0] + b"".join(g[1])
)
_riff_chunk = st.tuples(
    st.sampled_from([b"VP8 ", b"VP8L", b"VP8X", b"ANMF", b"EXIF", b"ALPH", b"ICCP"]),
    st.one_of(st.binary(max_size=24), _exif.map(lambda e: e[6:])),
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),
).map(lambda c: c[0] + _length_prefixed(b"", c[1], c[2], 4, "little"))
_webp = st.tuples(st.integers(0, 2**32 - 1), st.lists(_riff_chunk, max_size=5)).map(
    lambda w: b"RIFF" + w[0].to_bytes(4, "little") + b"WEBP" + b"".join(w[1])
)
_other = st.tuples(
    st.sampled_from(
        [
            b"II*\x00",
            b"MM\x00*",
            b"II+\x00\x08\x00\x00\x00",
            b"MM\x00+\x00\x08\x00\x00",
            b"BM",
            b"\x00\x00\x01\x00",
            b"8BPS",
            b"\x00\x00\x00\x18ftypheic",
            b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00avif",
            b"\xff\x4f\xff\x51",
            b"\x00\x00\x00\x0cjP  \r\n\x87\n",
            b'<?xml version="1.0"?><!-- -->',
        ]
    ),
    st.binary(max_size=80),
).map(lambda o: o[0] + o[1])


def _box(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    return (len(body) + 8 if size is None else size).to_bytes(4, "big") + kind + body


def _heif_file(parts: tuple[list[tuple[bytes, bytes]], bytes, bytes, int | None]) -> bytes:
    properties, ipma, pitm, odd_size = parts
    ipco = _box(b"ipco", b"".join(_box(kind, body) for kind, body in properties), odd_size)
    iprp = _box(b"iprp", ipco + _box(b"ipma", ipma))
    meta = _box(b"meta", bytes(4) + _box(b"pitm", pitm) + iprp)
    return _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta


_heif = st.tuples(
    st.lists(
        st.tuples(
            st.sampled_from([b"ispe", b"clap", b"irot", b"imir", b"pixi"]),
            st.binary(max_size=36),
        ),
        max_size=5,
    ),
    st.one_of(
        st.binary(max_size=30),
        st.just(b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x03\x01\x02\x03"),
    ),
    st.sampled_from([b"\x00\x00\x00\x00\x00\x01", b"\x01\x00\x00\x00\x00\x00\x00\x01", b""]),
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),
).map(_heif_file)

header_shaped_bytes = st.one_of(_jpeg, _png, _gif, _webp, _heif, _other)
