# The pyvips engine: the default when pyvips imports and libvips loads.
# Rules:
# - one call does the decode: thumbnail (from the file, or from the buffer)
#   with shrink-on-load, first page only, CMYK and ICC to sRGB, and an exact
#   target size (size="force": the core already kept the aspect ratio and
#   never upscales);
# - the orientation applied is the header parser's (info.orientation), not
#   libvips' own EXIF reading, so geometry and pixels agree with the core
#   and with the Pillow engine even when a damaged EXIF block reads
#   differently (thumbnail's auto-rotation is off);
# - hardened for untrusted input, once, when the engine is made: libvips'
#   operation cache off, the operations libvips marks untrusted blocked, and
#   loads that fail on truncated data instead of filling it with grey;
# - pyvips is untyped: it stays in this module, behind the Engine interface.

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.engines.base import FLAT_SAMPLE_SIDE, Engine, Pixels, SourceData
from preflight.errors import DecodeError, EngineError
from preflight.info import ImageInfo

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

# What the libvips of `pyvips[binary]` decodes: its HEIF loader has AV1 (AVIF)
# but no HEVC, so no HEIC; no BMP, ICO, PSD, JPEG 2000 or JPEG XL either. The
# Pillow engine covers what it can of the rest (HEIC with pillow-heif).
_FORMATS = frozenset({"jpeg", "png", "gif", "webp", "tiff", "avif"})

# The libvips loader of each format preflight names: used to tell "libvips
# has no loader for it" from "libvips has one but marks it untrusted".
_LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "gif": "gifload",
    "webp": "webpload",
    "tiff": "tiffload",
    "avif": "heifload",
    "heic": "heifload",
    "svg": "svgload",
    "pdf": "pdfload",
    "jxl": "jxlload",
    "jp2": "jp2kload",
    "bmp": "magickload",
    "ico": "magickload",
    "psd": "magickload",
}
_UNTRUSTED_FLAG = 16  # VIPS_OPERATION_UNTRUSTED

# The header parser reads ICC presence for these; for the rest assume a
# profile may be there (colour management is skipped when there is none, but
# costs time even then, so it is asked for only when it may matter).
_ICC_KNOWN = frozenset({"jpeg", "png", "gif", "webp"})
_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L"})


def _import_pyvips() -> Any:
    try:
        import pyvips
    except (ImportError, OSError) as error:
        raise EngineError(
            f'the vips engine needs pyvips and libvips: pip install "preflight[vips]" ({error})'
        ) from None
    return pyvips


class VipsEngine(Engine):
    name = "vips"
    formats = _FORMATS

    def __init__(self) -> None:
        self.vips = _import_pyvips()
        self.vips.cache_set_max(0)
        self.vips.block_untrusted_set(True)
        self.blocked = frozenset(
            fmt
            for fmt, loader in _LOADERS.items()
            if fmt not in _FORMATS and self._untrusted(loader)
        )

    def _untrusted(self, loader: str) -> bool:
        if not self.vips.type_find("VipsOperation", loader):
            return False  # not in this libvips at all
        return bool(self.vips.Introspect.get(loader).flags & _UNTRUSTED_FLAG)

    def _error(self, info: ImageInfo, error: Exception) -> Exception:
        text = str(error).strip().splitlines()
        detail = "; ".join(line.strip() for line in text if line.strip())[:300]
        return DecodeError(f"{info.format_label} data could not be decoded: {detail}")

    def load(self, source: SourceData, info: ImageInfo, width: int, height: int) -> Pixels:
        vips = self.vips
        try:
            if info.mode in ("CMYK", "YCCK") and not info.has_icc_profile:
                return self._load_plain_cmyk(source, info, width, height)
            # The stored image is shrunk to the stored-orientation size, then turned.
            stored_w, stored_h = (height, width) if info.transposed else (width, height)
            options: dict[str, Any] = {
                "height": stored_h,
                "size": "force",
                "fail_on": "truncated",
                "no_rotate": True,
            }
            if info.mode not in _GREY_MODES and (
                info.has_icc_profile or info.format not in _ICC_KNOWN
            ):
                # thumbnail keeps an embedded profile unless told to export:
                # convert to sRGB, with Pillow's default (perceptual) intent.
                options.update(export_profile="srgb", intent="perceptual")
            if isinstance(source, Path):
                image = vips.Image.thumbnail(str(source), stored_w, **options)
            else:
                image = vips.Image.thumbnail_buffer(source, stored_w, **options)
            image = _orient(_to_8bit(image), info.orientation)
            # Render once into memory: the loaders stream sequentially, and the
            # transparency test, the flatness sample and the encode each read it.
            return self.resize(image, width, height).copy_memory()
        except vips.Error as error:
            raise self._error(info, error) from None

    def _load_plain_cmyk(
        self, source: SourceData, info: ImageInfo, width: int, height: int
    ) -> Pixels:
        """CMYK with no embedded profile has no defined colours; thumbnail would
        assume a print profile. Convert as Pillow does, (255-C)(255-K)/255 and
        so on, so both engines give the same colours."""
        stored_w = info.width or width
        stored_h = info.height or height
        want_w, want_h = (height, width) if info.transposed else (width, height)
        shrink = 1
        while (
            shrink < 8 and stored_w // (shrink * 2) >= want_w and stored_h // (shrink * 2) >= want_h
        ):
            shrink *= 2
        options = {"shrink": shrink, "fail_on": "truncated"}
        if isinstance(source, Path):
            image = self.vips.Image.new_from_file(str(source), **options)
        else:
            image = self.vips.Image.new_from_buffer(source, "", **options)
        image = _orient(image, info.orientation)
        ink = 255 - image[3]
        rgb = (ink - image[0] * ink / 255).bandjoin(
            [ink - image[1] * ink / 255, ink - image[2] * ink / 255]
        )
        rgb = rgb.cast("uchar").copy(interpretation="srgb")
        return self.resize(rgb, width, height).copy_memory()

    def size(self, image: Pixels) -> tuple[int, int]:
        return int(image.width), int(image.height)

    def resize(self, image: Pixels, width: int, height: int) -> Pixels:
        if (image.width, image.height) == (width, height):
            return image
        try:
            return image.thumbnail_image(width, height=height, size="force")
        except self.vips.Error as error:
            raise EngineError(f"libvips could not resize to {width}x{height}: {error}") from None

    def has_transparency(self, image: Pixels) -> bool:
        if not image.hasalpha():
            return False
        return bool(image[image.bands - 1].min() < 255)

    def without_alpha(self, image: Pixels) -> Pixels:
        if not image.hasalpha():
            return image
        return image.flatten(background=[255] * (image.bands - 1)).cast("uchar")

    def sample(self, image: Pixels) -> tuple[bytes, int]:
        scale = min(1.0, FLAT_SAMPLE_SIDE / max(image.width, image.height))
        small = image.resize(scale, kernel="nearest") if scale < 1 else image
        return bytes(small.write_to_memory()), int(small.bands)

    def encode(self, image: Pixels, fmt: str, quality: int, *, palette: bool = False) -> bytes:
        try:
            if fmt == "jpeg":
                data = image.jpegsave_buffer(Q=quality, keep="none", optimize_coding=True)
            elif fmt == "webp":
                data = image.webpsave_buffer(Q=quality, keep="none")
            elif palette:
                data = image.pngsave_buffer(compression=9, palette=True, Q=100, keep="none")
            else:
                data = image.pngsave_buffer(compression=6, keep="none")
        except self.vips.Error as error:
            raise EngineError(f"libvips could not encode {fmt}: {error}") from None
        return bytes(data)

    # Added for the quality analysis and tiling.

    def to_array(self, image: Pixels) -> NDArray[numpy.uint8]:
        import numpy

        if image.format != "uchar":
            image = image.cast("uchar")
        try:
            data = image.write_to_memory()
        except self.vips.Error as error:
            raise EngineError(f"libvips could not render the pixels: {error}") from None
        array = numpy.frombuffer(data, dtype=numpy.uint8)
        return array.reshape(int(image.height), int(image.width), int(image.bands))

    def crop(self, image: Pixels, left: int, top: int, width: int, height: int) -> Pixels:
        try:
            return image.crop(left, top, width, height)
        except self.vips.Error as error:
            raise EngineError(f"libvips could not crop: {error}") from None


# EXIF orientation -> the libvips operations that show the image upright (the
# same pixels as Pillow's exif_transpose; tests/test_engines checks all eight).
_ORIENT: dict[int, tuple[str, ...]] = {
    2: ("fliphor",),
    3: ("rot180",),
    4: ("flipver",),
    5: ("rot90", "fliphor"),
    6: ("rot90",),
    7: ("rot270", "fliphor"),
    8: ("rot270",),
}


def _orient(image: Any, orientation: int) -> Any:
    operations = _ORIENT.get(orientation, ())
    if operations:
        # A turn reads the pixels out of order, which a sequential load
        # cannot do; the image is already at its small target size here.
        image = image.copy_memory()
    for operation in operations:
        image = getattr(image, operation)()
    return image


def _to_8bit(image: Any) -> Any:
    """8-bit sRGB or grey: 16-bit inputs scaled down, not clipped."""
    if image.format == "uchar":
        return image
    grey = image.interpretation in ("b-w", "grey16")
    return image.colourspace("b-w" if grey else "srgb").cast("uchar")
