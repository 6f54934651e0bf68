"""What preflight knows about an image file without decoding its pixels.

Rules:
- Header is what the pure parser (preflight._core.headers) reads from the first
  bytes of a file; ImageInfo adds what only the source can tell (its byte
  length, its path). Both are frozen: results, not state.
- `width`/`height` are as stored; `display_width`/`display_height` are after
  the EXIF orientation is applied, i.e. what the model sees once the rotation
  is in the pixels. For formats the API does not accept the sizes may be
  unknown (None); for the four accepted formats they are always known.
- Format names are the keys of the format registry (preflight._core.formats);
  `media_type` is the API's exact media type, or None for a format it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight._core.formats import FORMAT_LABELS, MEDIA_TYPES

# Kept for readers of 0.1: the registry (preflight._core.formats) is the source.
FORMAT_NAMES = FORMAT_LABELS


def base64_length(n_bytes: int) -> int:
    """Exact length of the base64 text (with padding) of n bytes: 4*ceil(n/3)."""
    return 4 * ((n_bytes + 2) // 3)


@dataclass(frozen=True, init=False)
class Header:
    format: str  # a key of FORMAT_NAMES
    width: int | None
    height: int | None
    orientation: int = 1  # EXIF orientation 1..8 (1 when absent or invalid)
    animated: bool = False
    frames: int | None = 1  # None when not known without reading further
    progressive: bool = False  # progressive JPEG
    interlaced: bool = False  # Adam7 PNG or interlaced GIF
    has_alpha: bool = False
    mode: str = "RGB"  # Pillow-style: 1, L, LA, P, RGB, RGBA, CMYK, YCCK, I;16 ...
    bit_depth: int = 8  # bits per sample
    color_components: int | None = None  # JPEG components (1 gray, 3 YCbCr, 4 CMYK)
    has_icc_profile: bool = False
    has_exif: bool = False
    # An animated GIF whose later frames grow the canvas: the canvas of the
    # first frame, what a decoder shows first (None: width x height).
    first_frame_size: tuple[int, int] | None = None
    # JPEG: bytes of DCT coefficients a decoder buffers for the whole image
    # before it can output a row (progressive or multi-scan files); 0 when it
    # decodes in one pass.
    coefficient_buffer_bytes: int = 0
    # Samples per pixel of the first frame as its decoders hold it before
    # preflight converts it (a palette expanded: 3, or 4 with transparency);
    # 0 when the parser does not know (the memory estimate then assumes 4).
    samples: int = 0
    # The least length a file can have and still hold the pixel data of the
    # whole first frame, from the format's best possible compression (zlib's
    # 1032:1, LZW's longest code, one Huffman bit per JPEG block); 0 when the
    # format has no such bound. A shorter file cannot fill its frame: what a
    # decoder shows for the rest would be invented.
    min_file_bytes: int = 0
    # Bytes a decoder buffers besides the frame itself, other than a JPEG's
    # coefficients: one tile of a tiled TIFF (a tile may be larger than the
    # image).
    tile_bytes: int = 0

    def __init__(
        self,
        format: str,
        width: int | None,
        height: int | None,
        orientation: int = 1,
        animated: bool = False,
        frames: int | None = 1,
        progressive: bool = False,
        interlaced: bool = False,
        has_alpha: bool = False,
        mode: str = "RGB",
        bit_depth: int = 8,
        color_components: int | None = None,
        has_icc_profile: bool = False,
        has_exif: bool = False,
        first_frame_size: tuple[int, int] | None = None,
        coefficient_buffer_bytes: int = 0,
        samples: int = 0,
        min_file_bytes: int = 0,
        tile_bytes: int = 0,
    ) -> None:
        # The constructor, and the only place fields are set: one dict update
        # instead of the generated __init__'s object.__setattr__ per field
        # (the parser makes one Header per probe, and probe is hot).
        self.__dict__.update(
            format=format,
            width=width,
            height=height,
            orientation=orientation,
            animated=animated,
            frames=frames,
            progressive=progressive,
            interlaced=interlaced,
            has_alpha=has_alpha,
            mode=mode,
            bit_depth=bit_depth,
            color_components=color_components,
            has_icc_profile=has_icc_profile,
            has_exif=has_exif,
            first_frame_size=first_frame_size,
            coefficient_buffer_bytes=coefficient_buffer_bytes,
            samples=samples,
            min_file_bytes=min_file_bytes,
            tile_bytes=tile_bytes,
        )

    @property
    def media_type(self) -> str | None:
        return MEDIA_TYPES.get(self.format)

    @property
    def supported(self) -> bool:
        return self.format in MEDIA_TYPES

    @property
    def transposed(self) -> bool:
        """EXIF orientations 5..8 swap width and height for display."""
        return self.orientation in (5, 6, 7, 8)

    @property
    def display_width(self) -> int | None:
        return self.height if self.transposed else self.width

    @property
    def display_height(self) -> int | None:
        return self.width if self.transposed else self.height

    @property
    def still_size(self) -> tuple[int, int] | None:
        """The displayed size of the first frame (after orientation): what
        taking the image as a still gives. None when the size is unknown."""
        if self.first_frame_size is not None:
            return self.first_frame_size  # GIF only: no orientation
        if self.display_width is None or self.display_height is None:
            return None
        return self.display_width, self.display_height


@dataclass(frozen=True)
class ImageInfo(Header):
    file_bytes: int = 0
    path: str | None = None
    truncated: bool = False  # certainly cut short (PNG without IEND, short WebP)
    missing_end_marker: bool = False  # JPEG without EOI / GIF without trailer at the end

    @classmethod
    def from_header(
        cls,
        header: Header,
        file_bytes: int,
        path: str | None,
        truncated: bool,
        missing_end_marker: bool,
    ) -> ImageInfo:
        """A constructor for probe's hot path: the header's fields are already
        validated by the parser, so they are copied in one step instead of
        through the generated __init__'s object.__setattr__ per field (a
        third of probe's time on small files). The new object is not shared
        before it is returned; nothing writes into it afterwards."""
        info = object.__new__(cls)
        info.__dict__.update(
            header.__dict__,
            file_bytes=file_bytes,
            path=path,
            truncated=truncated,
            missing_end_marker=missing_end_marker,
        )
        return info

    @property
    def base64_bytes(self) -> int:
        return base64_length(self.file_bytes)

    @property
    def format_label(self) -> str:
        return FORMAT_NAMES.get(self.format, self.format)
