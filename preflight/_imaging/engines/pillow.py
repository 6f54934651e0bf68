"""The Pillow engine: the fallback that is always installed.

Rules:
- JPEG shrink-on-load with draft() (DCT scaling to the smallest scale that
  is still at least the target), then a Lanczos resize with reducing_gap,
  cut into row strips resized on threads (Pillow releases the GIL there);
- only the plugin of the format the header parser named may open the data,
  so bytes that merely look like another format never reach other decoders;
- Pillow's decompression-bomb guard stays as it is, globally: preflight's
  own pixel cap is checked on the header before any decode, again on the
  size Pillow reads once it has opened the file (guard.check_decode_size;
  for ICO, whose open() decodes, on the embedded image's header first),
  and Pillow's refusal is reported as DecodeError (code over-pixel-cap);
- the file is opened once, and that one handle is read by Pillow;
- truncated data fails (Pillow's LOAD_TRUNCATED_IMAGES is left False);
- HEIC is read when pillow-heif is installed (registered on first use);
- the orientation applied is the header parser's, as in the vips engine;
  where Pillow turns the image itself as it loads it (TIFF; HEIC through
  pillow-heif) it is not turned twice.
"""

from __future__ import annotations

import io
import itertools
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO

from preflight._core.formats import FORMATS
from preflight._core.info import ImageInfo
from preflight._imaging.engines.base import (
    FLAT_SAMPLE_SIDE,
    VERIFY_SIDE,
    Engine,
    Pixels,
    SourceData,
)
from preflight._imaging.engines.guard import (
    check_coefficient_memory,
    check_decode_memory,
    check_decode_size,
)
from preflight.errors import DecodeError, PreflightError, SourceError

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

# Our format names -> the Pillow plugins allowed to open (and save) them: the
# format registry's (preflight._core.formats). JPEG's also opens MPO (phones'
# multi-picture JPEGs): the first picture is the photo.
# Formats whose plugin is always registered but whose codec may be missing.
_CODECS = {"webp": "webp", "avif": "avif", "jp2": "jpg_2000"}
_OPEN_FORMATS = {f.name: list(f.pillow_plugins) for f in FORMATS.values() if f.pillow_plugins}


@cache
def _transposes() -> dict[int, Any]:
    """EXIF orientation -> the transpose that shows it upright (as in Pillow's
    exif_transpose)."""
    from PIL import Image

    turn = Image.Transpose
    return {
        2: turn.FLIP_LEFT_RIGHT,
        3: turn.ROTATE_180,
        4: turn.FLIP_TOP_BOTTOM,
        5: turn.TRANSPOSE,
        6: turn.ROTATE_270,
        7: turn.TRANSVERSE,
        8: turn.ROTATE_90,
    }


# Resizes with fewer output pixels than this are not worth splitting.
_PARALLEL_MIN_PIXELS = 250_000
_MAX_STRIPS = 4


def _heif_available() -> bool:
    try:
        import pillow_heif  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


@cache
def _pool() -> ThreadPoolExecutor | None:
    strips = min(_MAX_STRIPS, os.cpu_count() or 1)
    return ThreadPoolExecutor(strips, thread_name_prefix="preflight-resize") if strips > 1 else None


class PillowEngine(Engine):
    name = "pillow"

    def __init__(self) -> None:
        from PIL import Image, features

        _heif_available()  # registers the HEIF plugin when pillow-heif is installed
        Image.init()
        # The registry's formats whose Pillow plugin is registered, less those
        # whose codec this Pillow was built without.
        readable = {
            f.name
            for f in FORMATS.values()
            if any(plugin in Image.OPEN for plugin in f.pillow_plugins)
            and (f.name not in _CODECS or features.check(_CODECS[f.name]))
        }
        self.formats = frozenset(readable)

    def load(
        self, source: SourceData, info: ImageInfo, width: int, height: int, *, pixel_cap: int
    ) -> Pixels:
        check_coefficient_memory(info)
        check_decode_memory(info, width, height)
        stream: BinaryIO
        if isinstance(source, bytes):
            stream = io.BytesIO(source)
        else:
            try:
                stream = open(source, "rb")  # noqa: SIM115 (closed below, after decoding)
            except OSError as error:
                raise SourceError(f"{source}: cannot read ({error.strerror or error})") from None
        try:
            with _pillow_errors(info), _quiet():
                try:
                    converted = self._decode(stream, info, width, height, pixel_cap)
                except PreflightError:
                    raise
                except ValueError:
                    if info.format != "png":
                        raise
                    # Pillow refuses text chunks that inflate past its limits
                    # (PngImagePlugin.MAX_TEXT_CHUNK, MAX_TEXT_MEMORY) where
                    # libvips reads on: the pixels are decoded without them,
                    # as libvips does (the metadata is dropped anyway).
                    stream.seek(0)
                    bare = io.BytesIO(_without_text_chunks(stream))
                    converted = self._decode(bare, info, width, height, pixel_cap)
        finally:
            stream.close()
        return self.resize(converted, width, height)

    def _decode(
        self, stream: BinaryIO, info: ImageInfo, width: int, height: int, pixel_cap: int
    ) -> Any:
        """Open, check what Pillow is about to decode, decode, orient and
        convert (Pillow's own exceptions pass through: the caller maps them)."""
        from PIL import Image

        if info.format == "ico":  # Image.open decodes the icon: check it first
            icon_w, icon_h = _icon_size(stream)
            check_decode_size(info, icon_w, icon_h, pixel_cap, library="Pillow")
            stream.seek(0)
        handle = Image.open(stream, formats=_OPEN_FORMATS.get(info.format))
        with handle as image:  # open leaves an animation on its first frame
            # What Pillow is about to decode: the header it read, not the probe's.
            opened_w, opened_h = image.size
            check_decode_size(
                info,
                opened_w,
                opened_h,
                pixel_cap,
                library="Pillow",
                oriented=info.format in _ORIENTED_BY_PILLOW,
            )
            if info.format == "jpeg":
                # draft works in stored orientation: ask for the stored size.
                stored = (height, width) if info.transposed else (width, height)
                image.draft(image.mode, stored)
            image.load()
            # The header parser's orientation, not Pillow's own EXIF
            # reading: the core chose the size from it, and the vips
            # engine turns by it too.
            turn = None if _turned_by_pillow(image, info) else info.orientation
            transpose = _transposes().get(turn) if turn is not None else None
            oriented = image.transpose(transpose) if transpose is not None else image
            return _to_8bit_srgb(oriented)

    def check_decode(self, data: bytes, info: ImageInfo, *, pixel_cap: int) -> bytes | None:
        """Pillow's verdict: every byte read (truncated data fails: Pillow's
        LOAD_TRUNCATED_IMAGES stays False), a JPEG at 1/8 scale, the size it
        reads the probe's; its refusals (text chunks over its limits
        included) stand. Nothing is converted. A JPEG's pixels are returned
        (engines.verification compares them with another decode)."""
        from PIL import Image

        check_coefficient_memory(info)
        check_decode_memory(info, 1, 1)
        with _pillow_errors(info), _quiet():
            stream = io.BytesIO(data)
            if info.format == "ico":
                icon_w, icon_h = _icon_size(stream)
                check_decode_size(info, icon_w, icon_h, pixel_cap, library="Pillow")
                stream.seek(0)
            with Image.open(stream, formats=_OPEN_FORMATS.get(info.format)) as image:
                opened_w, opened_h = image.size
                check_decode_size(
                    info,
                    opened_w,
                    opened_h,
                    pixel_cap,
                    library="Pillow",
                    oriented=info.format in _ORIENTED_BY_PILLOW,
                )
                if info.format != "jpeg":
                    image.load()
                    return None
                image.draft(image.mode, (VERIFY_SIDE, VERIFY_SIDE))
                image.load()
                pixels: bytes = image.tobytes()
                return pixels

    def size(self, image: Pixels) -> tuple[int, int]:
        width, height = image.size
        return int(width), int(height)

    def resize(self, image: Pixels, width: int, height: int) -> Pixels:
        from PIL import Image

        if image.size == (width, height):
            return image
        pool = _pool()
        strips = min(_MAX_STRIPS, height, os.cpu_count() or 1)
        if pool is None or width * height < _PARALLEL_MIN_PIXELS or strips < 2:
            return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        # Each strip of output rows is resized from its box of source rows;
        # Pillow reads the filter's support beyond the box, so the strips join
        # without seams (identical output when no reducing step applies).
        # Pillow resizes alpha premultiplied; do that conversion once, not per strip.
        premultiplied = {"RGBA": "RGBa", "LA": "La"}.get(image.mode)
        whole = image.convert(premultiplied) if premultiplied else image
        source_w, source_h = whole.size
        cuts = [round(i * height / strips) for i in range(strips + 1)]

        def strip(rows: tuple[int, int]) -> Any:
            top, bottom = rows
            box = (0, top * source_h / height, source_w, bottom * source_h / height)
            return whole.resize(
                (width, bottom - top), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0
            )

        result = Image.new(whole.mode, (width, height))
        for top, part in zip(cuts, pool.map(strip, itertools.pairwise(cuts)), strict=False):
            result.paste(part, (0, top))
        return result.convert(image.mode) if premultiplied else result

    def has_transparency(self, image: Pixels) -> bool:
        if image.mode not in ("LA", "RGBA"):
            return False
        low, _ = image.getchannel("A").getextrema()
        return bool(low < 255)

    def without_alpha(self, image: Pixels) -> Pixels:
        from PIL import Image

        if image.mode not in ("LA", "RGBA"):
            return image
        base = "L" if image.mode == "LA" else "RGB"
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert(base)

    def sample(self, image: Pixels) -> tuple[bytes, int]:
        from PIL import Image

        width, height = image.size
        scale = min(1.0, FLAT_SAMPLE_SIDE / max(width, height))
        small = image.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.NEAREST
        )
        return small.tobytes(), len(small.getbands())

    def encode(self, image: Pixels, fmt: str, quality: int, *, palette: bool = False) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        options: dict[str, Any] = {}
        if fmt == "jpeg":
            options = {"quality": quality, "optimize": True}
        elif fmt == "webp":
            options = {"quality": quality, "method": 4}
        elif palette:
            options = {"optimize": True}
            if image.mode in ("RGB", "RGBA"):
                method = Image.Quantize.FASTOCTREE if image.mode == "RGBA" else None
                image = image.quantize(256, method=method, dither=Image.Dither.NONE)
        else:
            options = {"optimize": False, "compress_level": 6}
        # Pillow's PNG writer falls back to the image's own info for the ICC
        # profile (and others may for more): emptied, nothing is carried over.
        image.info = {}
        image.save(buffer, FORMATS[fmt].pillow_plugins[0], **options)
        return buffer.getvalue()

    # Added for the quality analysis and tiling.

    def to_array(self, image: Pixels) -> NDArray[numpy.uint8]:
        import numpy

        array = numpy.asarray(image, dtype=numpy.uint8)
        return array.reshape(array.shape[0], array.shape[1], -1)

    def crop(self, image: Pixels, left: int, top: int, width: int, height: int) -> Pixels:
        return image.crop((left, top, left + width, top + height))


# Formats Pillow turns upright as it reads them (its size is the displayed
# one): TIFF (TiffImagePlugin applies exif_transpose on load), HEIC
# (pillow-heif applies the 'irot'/'imir' transforms).
_ORIENTED_BY_PILLOW = frozenset({"tiff", "heic"})


def _turned_by_pillow(image: Any, info: ImageInfo) -> bool:
    """Whether Pillow has already turned the loaded image by its orientation."""
    if info.orientation == 1 or info.format not in _ORIENTED_BY_PILLOW:
        return False
    if info.format == "tiff":  # Pillow drops the tag once it has applied it
        return 0x0112 not in getattr(image, "tag_v2", {0x0112: 1})
    return True


def _icon_size(stream: Any) -> tuple[int, int]:
    """The size of the image in an ICO that Pillow will decode (its largest
    entry), from that image's own header: Pillow's open() decodes it at once,
    so this is read, without decoding, before Image.open is called."""
    from PIL import BmpImagePlugin, IcoImagePlugin, PngImagePlugin

    icons = IcoImagePlugin.IcoFile(stream)
    if not icons.entry:
        raise DecodeError("ICO: no images in its directory")
    stream.seek(icons.entry[0].offset)
    if stream.read(8) == PngImagePlugin._MAGIC:
        stream.seek(icons.entry[0].offset)
        width, height = PngImagePlugin.PngImageFile(stream).size
        return width, height
    stream.seek(icons.entry[0].offset)
    width, height = BmpImagePlugin.DibImageFile(stream).size
    return width, height // 2  # the XOR image; the AND mask is the other half


def _to_8bit_srgb(image: Any) -> Any:
    """8-bit sRGB (or grey), alpha kept if present; CMYK and ICC profiles converted."""
    from PIL import ImageCms

    icc = image.info.get("icc_profile")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(image, source_profile, srgb, outputMode=out_mode)
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    if image.mode == "CMYK":
        image = image.convert("RGB")
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image


@contextmanager
def _quiet() -> Iterator[None]:
    """Pillow's warnings silenced for one decode."""
    from PIL import Image

    with warnings.catch_warnings():
        # Between Pillow's warning and error thresholds: our own cap has
        # already been checked on the header.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow warns about damaged EXIF as it reads it; preflight takes the
        # orientation from its own parser, and a library call should not print.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


@contextmanager
def _pillow_errors(info: ImageInfo) -> Iterator[None]:
    """Pillow's exceptions as preflight's (its own pass through)."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except PreflightError:
        raise  # preflight's own checks
    except Image.DecompressionBombError as error:
        raise DecodeError(f"Pillow refuses to decode it: {error}", code="over-pixel-cap") from None
    except UnidentifiedImageError:
        raise DecodeError(
            f"Pillow cannot read this {info.format_label}", code="cannot-decode-format"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise DecodeError(f"{info.format_label} data could not be decoded: {error}") from None


_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


def _without_text_chunks(stream: BinaryIO) -> bytes:
    """The PNG in `stream` without its text chunks, walked chunk by chunk
    (their data is skipped, never read or inflated)."""
    parts = [stream.read(8)]
    while True:
        head = stream.read(8)
        if len(head) < 8:
            parts.append(head)
            break
        length, kind = int.from_bytes(head[:4], "big"), head[4:]
        if kind in _TEXT_CHUNKS:
            stream.seek(length + 4, io.SEEK_CUR)
            continue
        parts.append(head + stream.read(length + 4))
        if kind == b"IEND":
            break
    return b"".join(parts)
