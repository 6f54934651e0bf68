"""The pyvips engine: the default when pyvips imports and libvips loads.

Rules:
- the file is opened once, as one libvips source: its header is read
  (new_from_source, lazy) and checked against the pixel cap and the probe
  (guard.check_decode_size) before one call does the decode from that same
  source: thumbnail_source with shrink-on-load, first page only, CMYK and
  ICC to sRGB, and an exact target size (size="force": the core already
  kept the aspect ratio and never upscales);
- the orientation applied is the header parser's (info.orientation), not
  libvips' own EXIF reading, so geometry and pixels agree with the core
  and with the Pillow engine even when a damaged EXIF block reads
  differently (thumbnail's auto-rotation is off);
- hardened for untrusted input, once, when the engine is made: libvips'
  operation cache off, the operations libvips marks untrusted blocked, and
  loads that fail on truncated data instead of filling it with grey;
- pyvips is untyped: it stays in this module, behind the Engine interface.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from preflight._core.formats import FORMATS
from preflight._core.info import ImageInfo
from preflight._imaging.engines.base import FLAT_SAMPLE_SIDE, Engine, Pixels, SourceData
from preflight._imaging.engines.guard import (
    check_coefficient_memory,
    check_decode_memory,
    check_decode_size,
)
from preflight._imaging.interrupts import in_c_call
from preflight.errors import DecodeError, EngineError, MissingExtraError, SourceError

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

# What the libvips of `pyvips[binary]` decodes, and the loader of each format
# preflight names (to tell "libvips has no loader for it" from "libvips has
# one but marks it untrusted"): the format registry's (preflight._core.formats).
# Its HEIF loader has AV1 (AVIF) but no HEVC, so no HEIC; no BMP, ICO, PSD,
# JPEG 2000 or JPEG XL either. The Pillow engine covers what it can of the rest.
_FORMATS = frozenset(f.name for f in FORMATS.values() if f.vips_decodes)
_LOADERS = {f.name: f.vips_loader for f in FORMATS.values() if f.vips_loader is not None}
_UNTRUSTED_FLAG = 16  # VIPS_OPERATION_UNTRUSTED

# The header parser reads ICC presence for the accepted formats; for the rest assume a
# profile may be there (colour management is skipped when there is none, but
# costs time even then, so it is asked for only when it may matter).
_ICC_KNOWN = frozenset(f.name for f in FORMATS.values() if f.accepted)
_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L"})


def _import_pyvips() -> Any:
    try:
        import pyvips
    except (ImportError, OSError) as error:
        raise MissingExtraError(
            f'the vips engine needs pyvips and libvips: pip install "preflight[vips]" ({error})',
            code="engine-unavailable",
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

    def load(
        self, source: SourceData, info: ImageInfo, width: int, height: int, *, pixel_cap: int
    ) -> Pixels:
        vips = self.vips
        check_coefficient_memory(info)
        check_decode_memory(info, width, height)
        try:
            with in_c_call(), self._source(source) as opened:
                # Lazy: the header only. What libvips is about to decode is checked
                # before any pixel is, and decoded from this same source.
                header = vips.Image.new_from_source(
                    opened, "", access="sequential", fail_on="truncated"
                )
                check_decode_size(info, header.width, header.height, pixel_cap, library="libvips")
                if info.mode in ("CMYK", "YCCK") and not info.has_icc_profile:
                    pixels = self._load_plain_cmyk(opened, info, width, height)
                else:
                    pixels = self._thumbnail(opened, info, width, height)
        except vips.Error as error:
            raise self._error(info, error) from None
        return pixels

    def check_decode(self, data: bytes, info: ImageInfo, *, pixel_cap: int) -> bytes | None:
        if info.format != "jpeg":
            return super().check_decode(data, info, pixel_cap=pixel_cap)
        # A JPEG: one decode of every byte at 1/8 scale that also fails on
        # libjpeg's warnings. libjpeg repairs a damaged scan with a warning
        # ("Corrupt JPEG data", "Premature end") and decodes; the API may
        # refuse such data, so a warning means: re-encode it. (Other
        # formats' warnings, such as libpng's about a known-incorrect sRGB
        # profile, are harmless: they get the plain decode above.)
        check_coefficient_memory(info)
        check_decode_memory(info, 1, 1)  # decoded at 1/8 scale
        try:
            with in_c_call():
                header = self.vips.Image.new_from_buffer(data, "", fail_on="warning")
                check_decode_size(info, header.width, header.height, pixel_cap, library="libvips")
                image = self.vips.Image.new_from_buffer(data, "", shrink=8, fail_on="warning")
                image.avg()
        except self.vips.Error as error:
            raise self._error(info, error) from None
        return None

    @contextmanager
    def _source(self, source: SourceData) -> Iterator[Any]:
        """A libvips source over the bytes, or over one descriptor of the file
        (libvips duplicates it): the header check and the decode read the
        same file even if the path is replaced in between."""
        if isinstance(source, bytes):
            yield self.vips.Source.new_from_memory(source)
            return
        try:
            descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as error:
            raise SourceError(f"{source}: cannot read ({error.strerror or error})") from None
        try:
            yield self.vips.Source.new_from_descriptor(descriptor)
        finally:
            os.close(descriptor)

    def _thumbnail(self, opened: Any, info: ImageInfo, width: int, height: int) -> Pixels:
        # The stored image is shrunk to the stored-orientation size, then turned.
        stored_w, stored_h = (height, width) if info.transposed else (width, height)
        options: dict[str, Any] = {
            "height": stored_h,
            "size": "force",
            "fail_on": "truncated",
            # thumbnail_source passes only its option string on to the
            # loader: without it a truncated file would load, filled with grey.
            "option_string": "fail_on=truncated",
            "no_rotate": True,
        }
        if info.mode not in _GREY_MODES and (info.has_icc_profile or info.format not in _ICC_KNOWN):
            # thumbnail keeps an embedded profile unless told to export:
            # convert to sRGB, with Pillow's default (perceptual) intent.
            options.update(export_profile="srgb", intent="perceptual")
        image = self.vips.Image.thumbnail_source(opened, stored_w, **options)
        image = _orient(_to_8bit(image), info.orientation)
        # Render once into memory: the loaders stream sequentially, and the
        # transparency test, the flatness sample and the encode each read it.
        return self.resize(image, width, height).copy_memory()

    def _load_plain_cmyk(self, opened: Any, info: ImageInfo, width: int, height: int) -> Pixels:
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
        image = self.vips.Image.new_from_source(opened, "", shrink=shrink, fail_on="truncated")
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
        with in_c_call():  # an interrupt waits for libvips (preflight._imaging.interrupts)
            return self._encode(image, fmt, quality, palette=palette)

    def _encode(self, image: Pixels, fmt: str, quality: int, *, palette: bool) -> bytes:
        try:
            if fmt == "jpeg":
                data = image.jpegsave_buffer(Q=quality, keep="none", optimize_coding=True)
            elif fmt == "webp":
                data = image.webpsave_buffer(Q=quality, keep="none")
            elif palette:
                # libimagequant's slowest search (effort 7, the default) took
                # 5.5 s on a 2000x1500 noisy image; effort 4 takes 1.2 s with
                # the file within 1% of the size. Below 4 it posterizes, so a
                # graphic with 256 colours or fewer would no longer be exact.
                # No dithering, as in the Pillow engine: it adds noise to the
                # flat graphics palettes suit.
                data = image.pngsave_buffer(
                    compression=9, palette=True, Q=100, effort=4, dither=0, keep="none"
                )
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
