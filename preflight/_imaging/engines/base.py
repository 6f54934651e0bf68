"""The one small interface both image engines implement.

Rules:
- the pure core decides every size; an engine only carries it out, and must
  produce exactly the (width, height) it is asked for;
- load() decodes with shrink-on-load, takes the first frame of an
  animation, applies the EXIF orientation to the pixels and returns 8-bit
  sRGB (or grey), with an alpha band only if the source has one;
- load() checks the size its library is about to decode against the pixel
  cap and against the probe (engines.guard) before any pixel is decoded;
- engines raise preflight errors only (DecodeError, EngineError, SourceError,
  with the code that says why), never their library's own
  exceptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from preflight._core.formats import OUTPUT_FORMATS as OUTPUT_FORMATS
from preflight._core.info import ImageInfo
from preflight._inputs.sources import SourceData as SourceData

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

Pixels = Any  # an engine's own image object, opaque to everything else

FLAT_SAMPLE_SIDE = 128  # the side of the sample used to tell flat graphics from photos
# The longest side of the decode that verifies data: JPEG then decodes at 1/8
# scale (shrink-on-load); other formats inflate every byte anyway.
VERIFY_SIDE = 64


class Engine(ABC):
    name: str
    formats: frozenset[str]  # input formats this engine decodes (FORMAT_NAMES keys)
    # Formats the engine's library could decode but that preflight refuses to
    # let it (libvips loaders marked untrusted): named in error messages.
    blocked: frozenset[str] = frozenset()

    @abstractmethod
    def load(
        self, source: SourceData, info: ImageInfo, width: int, height: int, *, pixel_cap: int
    ) -> Pixels:
        """Decode, orient, convert to 8-bit sRGB and resize to exactly width x height.
        Before decoding, the size the library read must be within `pixel_cap`
        and agree with `info` (guard.check_decode_size)."""

    def check_decode(self, data: bytes, info: ImageInfo, *, pixel_cap: int) -> bytes | None:
        """This engine's library's own verdict on `data` (DecodeError unless
        every byte decodes): a small, shrink-on-load decode by default; an
        engine whose library reports damage it repairs silently (libjpeg's
        warnings) is stricter. engines.verification asks every engine.
        Returns the pixels it decoded when the engine keeps them at hand
        for a later comparison by the same decoder (Pillow's JPEG at 1/8
        scale), else None."""
        width, height = info.width or 1, info.height or 1
        scale = max(width, height) / VERIFY_SIDE
        small = (max(1, round(width / scale)), max(1, round(height / scale)))
        if info.transposed:
            small = (small[1], small[0])
        self.load(data, info, *small, pixel_cap=pixel_cap)
        return None

    @abstractmethod
    def size(self, image: Pixels) -> tuple[int, int]: ...

    @abstractmethod
    def resize(self, image: Pixels, width: int, height: int) -> Pixels:
        """A high-quality resize to exactly width x height."""

    @abstractmethod
    def has_transparency(self, image: Pixels) -> bool:
        """True when some pixel is not fully opaque."""

    @abstractmethod
    def without_alpha(self, image: Pixels) -> Pixels:
        """The image flattened onto white (never black), alpha band dropped."""

    @abstractmethod
    def sample(self, image: Pixels) -> tuple[bytes, int]:
        """Raw 8-bit pixels of a nearest-neighbour sample at most
        FLAT_SAMPLE_SIDE a side, and the number of bytes per pixel."""

    @abstractmethod
    def encode(self, image: Pixels, fmt: str, quality: int, *, palette: bool = False) -> bytes:
        """Encode as fmt (one of OUTPUT_FORMATS), metadata stripped. `palette`
        (PNG only) quantizes to at most 256 colours: lossless for flat
        graphics that have no more, much smaller for the rest."""

    # Added for the quality analysis and tiling (_imaging.quality, _imaging.tiling).

    @abstractmethod
    def to_array(self, image: Pixels) -> NDArray[numpy.uint8]:
        """The pixels as a numpy array: uint8, height x width x bands (1 to 4)."""

    @abstractmethod
    def crop(self, image: Pixels, left: int, top: int, width: int, height: int) -> Pixels:
        """The width x height region whose top-left corner is (left, top);
        the region must lie inside the image."""


def looks_flat(sample: bytes, channels: int) -> bool:
    """Flat graphics (screenshots, diagrams, text) repeat a few colours; photos
    almost never repeat one exactly. Flat when under a quarter of the sampled
    pixels have a colour of their own."""
    pixels = len(sample) // channels if channels else 0
    if pixels == 0:
        return True
    colours = {sample[i : i + channels] for i in range(0, pixels * channels, channels)}
    return len(colours) <= pixels // 4
