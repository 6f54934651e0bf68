# The parser against Pillow, the reference: on every fixture and on
# hypothesis-made images of every format and mode Pillow writes, the format,
# size (and mode, orientation, animation where both report them) agree with
# what Pillow reports after fully loading the image; or both refuse it.
#
# Deliberate differences, each tested below:
# - GIF size: decoders draw every frame, so preflight reports the logical
#   screen grown to hold every frame. Pillow grows its size the same way but
#   only as it seeks to each frame, so the reference for GIFs is Pillow's
#   size after visiting every frame (after open() alone it is the screen and
#   the first frame).
# - data cut inside the pixels of a GIF: Pillow refuses to load it; the
#   parser reads its header and probe flags `missing_end_marker` (a
#   warning), since data appended after the image looks the same from the
#   end of the file. (A JPEG without its end marker at the end is read whole
#   by probe: cut inside its pixels, it is `truncated`, refused as Pillow
#   does; with data after its end marker, as in motion photos, it is read.)
# - a PNG eXIf chunk after the image data: Pillow reads it once the pixels
#   are decoded; the parser stops at the first IDAT and never reads pixels.
# - a 12-bit JPEG: Pillow refuses it, libjpeg-turbo 3 decodes it; the parser
#   reports it with bit_depth 12.
# - orientation: see test_orientation_differential.py (XMP and PNG text
#   are read as Pillow reads them; a PNG eXIf or text chunk after the image
#   data is not, since the parser never reads past the first IDAT).
# - formats the API does not accept are only named: their sizes are checked
#   where Pillow opens them, but "refuse" differs (Pillow decodes TIFF/BMP).
#   HEIF/AVIF turns and mirrors are reported as an orientation over the
#   stored size, as Pillow's AVIF reader does (pillow-heif applies them).

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import Any

import pytest
from helpers import FIXTURES, MANIFEST
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from strategies import header_image_kinds, header_orientations, header_sides

from preflight._core.headers import NeedMore, parse
from preflight._core.info import Header
from preflight._inputs.probing import probe
from preflight.errors import HeaderError

PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def pillow_facts(data: bytes) -> dict[str, Any] | None:
    """What Pillow reports after loading the image fully; None if it refuses.
    For a GIF the size is taken after visiting every frame (see above)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            facts = {
                "format": PILLOW_FORMATS.get(image.format or "", image.format),
                "size": image.size,
                "mode": image.mode,
                "orientation": image.getexif().get(0x0112, 1),
                "frames": getattr(image, "n_frames", 1),
                "first_size": image.size,  # the still: the first frame's canvas
            }
            if image.format == "GIF":
                for frame in range(1, facts["frames"]):
                    image.seek(frame)
                facts["size"] = image.size
            return facts
    except Exception:  # Pillow's refusals are of many types
        return None


def parsed(data: bytes) -> Header | None:
    """The parser's header, or None when preflight refuses the data: the
    parser raises, or probe finds the file certainly cut short."""
    try:
        result = parse(data, complete=True)
    except HeaderError:
        return None
    assert not isinstance(result, NeedMore)
    return None if probe(data).truncated else result


def assert_agree(data: bytes, *, modes: bool = True) -> None:
    pil, ours = pillow_facts(data), parsed(data)
    if pil is None or ours is None:
        assert pil is None and ours is None, (pil, ours)
        return
    assert ours.format == pil["format"]
    assert (ours.width, ours.height) == pil["size"]
    assert ours.orientation == (pil["orientation"] if 1 <= pil["orientation"] <= 8 else 1)
    assert (ours.frames or pil["frames"]) == pil["frames"]
    assert ours.animated == (pil["frames"] > 1)
    if ours.orientation == 1:
        assert ours.still_size == pil["first_size"]
    if modes:
        assert ours.mode == pil["mode"]


def make(kind: tuple[str, str, dict[str, Any]], size: tuple[int, int], orientation: int) -> bytes:
    fmt, mode, options = kind
    image = Image.new("RGB", size, (200, 120, 40))
    ImageDraw.Draw(image).line((0, 0, size[0], size[1]), fill=(10, 200, 90), width=3)
    if mode in ("RGBA", "LA"):
        image.putalpha(Image.linear_gradient("L").resize(size))
    image = image.convert(mode) if mode != "I;16" else image.convert("I").convert("I;16")
    params = dict(options)
    if orientation != 1 and fmt != "GIF":
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


@given(header_image_kinds, header_sides, header_sides, header_orientations)
def test_agrees_with_pillow_on_generated_images(
    kind: tuple[str, str, dict[str, Any]], width: int, height: int, orientation: int
) -> None:
    assert_agree(make(kind, (width, height), orientation))


@given(header_sides, header_sides, st.integers(2, 4), st.sampled_from(["GIF", "WEBP", "PNG"]))
def test_agrees_with_pillow_on_animations(width: int, height: int, count: int, fmt: str) -> None:
    frames = [Image.new("RGB", (width, height), (60 * i, 255 - 60 * i, 90)) for i in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=50)
    # Pillow turns later GIF frames into RGB(A), and its mode follows the frame
    # it is on: modes are compared on stills only.
    assert_agree(buffer.getvalue(), modes=False)


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, e in MANIFEST.items()
        if not n.startswith("unsupported/")
        and not e.get("missing_end_marker")  # cut in the pixels: see the tests below
        and max(e.get("width", 0), e.get("height", 0)) <= 8000  # bombs: see below
    ),
)
def test_agrees_with_pillow_on_fixtures(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert_agree(data, modes=not (name.endswith(".gif") and MANIFEST[name].get("animated")))


def test_gif_size_is_pillows_after_every_frame_not_after_open() -> None:
    data = (FIXTURES / "samples" / "animated-frame-outgrows-screen.gif").read_bytes()
    header = parsed(data)
    assert header is not None
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (40, 30)  # the screen and the first frame
        image.seek(1)
        assert image.size == (header.width, header.height) == (56, 40)
    assert header.first_frame_size == header.still_size == (40, 30)


def test_jpeg_cut_in_pixel_data_is_refused_as_pillow_does() -> None:
    data = (FIXTURES / "hostile" / "cut-in-pixels.jpg").read_bytes()
    assert pillow_facts(data) is None  # Pillow refuses it, and so does probe:
    info = probe(data)
    assert info.truncated and not info.missing_end_marker
    assert (info.width, info.height) == (64, 48)  # its header is still read


def test_jpeg_with_data_after_its_end_is_read_as_pillow_does() -> None:
    data = (FIXTURES / "samples" / "motion-photo.jpg").read_bytes()
    assert pillow_facts(data) is not None
    assert_agree(data)
    info = probe(data)
    assert info.missing_end_marker and not info.truncated


def test_gif_cut_in_pixel_data_is_flagged_not_refused() -> None:
    data = (FIXTURES / "hostile" / "cut-in-pixels.gif").read_bytes()
    assert pillow_facts(data) is None  # Pillow refuses it ...
    header = parsed(data)  # ... we read its header, and probe flags the missing end
    assert header is not None
    assert (header.width, header.height) == (64, 48)
    assert probe(data).missing_end_marker


@pytest.mark.parametrize("name", ["bomb-100000x100000.png", "declares-65000x65000.jpg"])
def test_bombs_report_the_declared_size_pillow_refuses_to_tell(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (FIXTURES / "hostile" / name).read_bytes()
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))  # Pillow's guard raises before it gives the size
    header = parse(data, complete=True)  # (probe also finds it too short to fill: truncated)
    assert isinstance(header, Header)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # this test only: ask for the size
    with Image.open(io.BytesIO(data)) as image:
        assert (header.width, header.height) == image.size


@pytest.mark.parametrize(
    "name",
    [
        "image.tiff",
        "bigtiff.tiff",
        "image.bmp",
        "image.ico",
        "image.avif",
        "image.heic",
        "image.psd",
        "image.jp2",
    ],
)
def test_unsupported_sizes_agree_with_pillow(name: str) -> None:
    try:
        import pillow_heif  # type: ignore[import-not-found,unused-ignore]

        pillow_heif.register_heif_opener()
    except ImportError:
        if name.endswith(".heic"):
            pytest.skip("pillow-heif is not installed")
    data = (FIXTURES / "unsupported" / name).read_bytes()
    header = parsed(data)
    assert header is not None
    with Image.open(io.BytesIO(data)) as image:
        assert (header.width, header.height) == image.size


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_heif_turns_and_mirrors_are_orientations(fmt: str, orientation: int) -> None:
    # Encoders store an EXIF orientation as 'irot'/'imir' boxes. Pillow's AVIF
    # reader gives the stored size and the orientation back; pillow-heif
    # applies them and gives the displayed size. The parser reports the
    # stored size and the orientation, so its display size is pillow-heif's.
    if fmt == "HEIF":
        pillow_heif = pytest.importorskip("pillow_heif")
        pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40)).save(buffer, fmt, exif=exif.tobytes(), quality=50)
    header = parsed(buffer.getvalue())
    assert header is not None
    assert header.orientation == orientation
    with Image.open(buffer) as image:
        if fmt == "AVIF":
            assert (header.width, header.height) == image.size
            assert image.getexif().get(0x0112, 1) == orientation
        else:
            assert (header.display_width, header.display_height) == image.size


# --- hand-made files for rules Pillow cannot be asked to write ---------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(
    depth: int, color_type: int, size: tuple[int, int], chunks: bytes = b"", after: bytes = b""
) -> bytes:
    """A PNG of zero samples; `chunks` go before IDAT, `after` after it."""
    width, height = size
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    row = 1 + (width * channels * depth + 7) // 8
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))
    if color_type == 3:
        chunks = png_chunk(b"PLTE", bytes(3 * 2**depth)) + chunks
    idat = png_chunk(b"IDAT", zlib.compress(bytes(row * height)))
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunks + idat + after + png_chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("depth", "color_type"),
    [(d, 0) for d in (1, 2, 4, 8, 16)]
    + [(d, 3) for d in (1, 2, 4, 8)]
    + [(8, 2), (16, 2), (8, 4), (16, 4), (8, 6), (16, 6)],
)
def test_every_png_depth_and_colour_type_has_pillows_mode(depth: int, color_type: int) -> None:
    # 16-bit gray + alpha is "RGBA" in Pillow 13, 16-bit gray "I;16".
    assert_agree(png(depth, color_type, (7, 5)))


def exif_block(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def test_png_exif_before_the_pixels_agrees() -> None:
    assert_agree(png(8, 2, (9, 4), chunks=png_chunk(b"eXIf", exif_block(6))))


def test_png_exif_after_the_pixels_is_not_read() -> None:
    data = png(8, 2, (9, 4), after=png_chunk(b"eXIf", exif_block(6)))
    pil = pillow_facts(data)
    assert pil is not None
    assert pil["orientation"] == 6  # Pillow, having decoded the pixels, read it
    header = parsed(data)
    assert header is not None
    assert header.orientation == 1  # the parser stops at the first IDAT


def test_png_with_damaged_ihdr_is_refused_by_both() -> None:
    data = bytearray(png(8, 2, (9, 4)))
    data[29] ^= 0xFF  # IHDR's CRC
    assert_agree(bytes(data))
    assert parsed(bytes(data)) is None


@pytest.mark.parametrize(
    ("frames_field", "idat_is_first_frame", "expected"),
    [(3, True, 3), (3, False, 4), (1, True, 1), (1, False, 2), (0, True, 1), (2**31 + 1, True, 1)],
)
def test_apng_frame_count_as_pillow_reads_actl(
    frames_field: int, idat_is_first_frame: bool, expected: int
) -> None:
    # Pillow counts acTL's frames, plus the IDAT image when no fcTL makes it
    # the first frame of the animation (a "default image").
    chunks = png_chunk(b"acTL", struct.pack(">II", frames_field, 0))
    if idat_is_first_frame:
        chunks += png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 4, 4, 0, 0, 1, 10, 0, 0))
    data = png(8, 2, (4, 4), chunks=chunks)
    header = parsed(data)
    assert header is not None
    assert (header.frames, header.animated) == (expected, expected > 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns of an invalid APNG
        with Image.open(io.BytesIO(data)) as image:
            assert getattr(image, "n_frames", 1) == expected


def test_a_second_actl_voids_the_first_as_in_pillow() -> None:
    actl = png_chunk(b"acTL", struct.pack(">II", 3, 0))
    data = png(8, 2, (4, 4), chunks=actl + actl)
    header = parsed(data)
    assert header is not None
    assert (header.frames, header.animated) == (1, False)
    with pytest.warns(UserWarning, match="Invalid APNG"), Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 1


def jpeg_bytes(mode: str = "RGB", size: tuple[int, int] = (24, 16), **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 90).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def test_jpeg_exif_after_the_frame_header_is_read_as_pillow_does() -> None:
    data = jpeg_bytes()
    sof = data.index(b"\xff\xc0")
    app1 = b"Exif\x00\x00" + exif_block(8)
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    sof_end = sof + 2 + struct.unpack(">H", data[sof + 2 : sof + 4])[0]
    moved = data[:sof_end] + segment + data[sof_end:]
    assert_agree(moved)
    header = parsed(moved)
    assert header is not None
    assert header.orientation == 8


def test_jpeg_junk_between_segments_is_skipped_as_libjpeg_does() -> None:
    data = jpeg_bytes()
    sof = data.index(b"\xff\xc0")
    junky = data[:sof] + b"\x00\x13\x37\xff\x00junk" + data[sof:]
    assert_agree(junky)
    assert parsed(junky) is not None


@pytest.mark.parametrize("marker", [0xC8, 0xD8, 0xDE, 0xDF, 0xF0, 0xFD, 0x02, 0xBF])
def test_jpeg_markers_libjpeg_refuses_are_refused_by_both(marker: int) -> None:
    data = jpeg_bytes()
    sof = data.index(b"\xff\xc0")
    assert_agree(data[:sof] + bytes([0xFF, marker]) + b"\x00\x04\x00\x00" + data[sof:])


def test_jpeg_frame_length_must_match_its_components() -> None:
    data = bytearray(jpeg_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 3] += 3  # one component more in the length than in the count
    assert_agree(bytes(data))
    assert parsed(bytes(data)) is None


def test_twelve_bit_jpeg_is_read_though_pillow_refuses_it() -> None:
    data = bytearray(jpeg_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 1], data[sof + 4] = 0xC1, 12  # extended sequential, 12-bit samples
    assert pillow_facts(bytes(data)) is None
    header = parsed(bytes(data))
    assert header is not None
    assert (header.width, header.height, header.bit_depth) == (24, 16, 12)


def gif_with_table(table: bytes) -> bytes:
    """A 2x2 GIF by Pillow, its 4-entry global colour table replaced."""
    image = Image.new("P", (2, 2), 0)
    image.putpalette([0, 0, 0, 1, 1, 1])
    buffer = io.BytesIO()
    image.save(buffer, "GIF")
    data = buffer.getvalue()
    assert data[10] & 0x87 == 0x81  # a global table of 4 entries follows
    return data[:13] + table + data[25:]


@pytest.mark.parametrize(
    "table",
    [bytes(v for i in range(4) for v in (i, i, i)), b"\x00\x00\x00\xff\x00\x00" + bytes(6)],
    ids=["gray-ramp", "red"],
)
def test_gif_mode_follows_pillows_palette_rule(table: bytes) -> None:
    # Pillow drops an identity gray-ramp table and reads the image as "L".
    assert_agree(gif_with_table(table))
