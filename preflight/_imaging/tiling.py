"""tile(): the vision guide's remedy for fine detail in a large image.

A long screenshot, a document page or a wide chart is sent as overlapping
crops that the API keeps at full resolution, plus one downscaled overview so
no context is cropped away.

Rules:
- the layout is pure (tile_layout: sizes in, boxes out): every tile fits
  the tier unresized (api_size(w, h, tier) == (w, h)), neighbours overlap
  by at least `overlap` pixels, the tiles cover the whole image, and the
  layout uses the fewest tiles, then the fewest tokens;
- one full-resolution decode, then crops, and one resize for the overview;
- the images come overview first, then the tiles in reading order (rows top
  to bottom, each left to right), labelled "Image 1:", "Image 2:", ... as
  the vision guide asks for several images in one request;
- the tokens are counted against sending the whole image once (at the size
  the API would process it);
- tile() takes `options=` or the same keywords, like every public function:
  the tier, rule, image cap and byte limit come from the Options.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight._core.blocks import (
    CacheControl,
    ImageBlock,
    ImageTransformations,
    TextBlock,
    image_block,
    media_type,
    text_block,
)
from preflight._core.geometry import Size, api_size, check_size, patches, tokens
from preflight._core.info import base64_length
from preflight._core.options import OptionKeywords, Options
from preflight._core.settings import (
    DEFAULT_ENCODER_QUALITY,
    PrepareKeywords,
    PrepareSettings,
    prepare_call,
)
from preflight._core.settings import DEFAULT_OVERLAP as DEFAULT_OVERLAP
from preflight._core.tables import DEFAULT_TOKEN_RULE, PATCH_PX, Tier, get_tier
from preflight._imaging.engines.base import Engine, Pixels, looks_flat
from preflight._imaging.opening import open_source
from preflight._inputs.sources import Source
from preflight.errors import ByteBudgetError, InvalidArgumentError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    class TileKeywords(OptionKeywords, PrepareKeywords, total=False):
        """tile()'s keywords: the Options' and the PrepareSettings' (and, for
        one release, the 0.2 names format= and quality=)."""

        format: str
        quality: int


# JPEG quality for photo-like tiles: prepare's default (the facts say
# nothing about encoder quality; DEFAULT_OVERLAP is preflight's own too).
DEFAULT_QUALITY = DEFAULT_ENCODER_QUALITY
_MAX_COLUMNS = 256

Box = tuple[int, int, int, int]  # (left, top, right, bottom), source pixels


@dataclass(frozen=True)
class Layout:
    """Where the tiles go: `boxes` in reading order, `columns` a row."""

    width: int
    height: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    boxes: tuple[Box, ...]


def _positions(length: int, tile: int, count: int) -> list[int]:
    if count == 1:
        return [0]
    step = (length - tile) / (count - 1)
    return [round(i * step) for i in range(count)]


def _fit_rows(height: int, tile_width: int, tier: Tier, overlap: int) -> tuple[int, int] | None:
    """(rows, tile height) for one column width, or None if none fits."""
    across = patches(tile_width)
    if across * PATCH_PX > tier.max_edge:
        return None
    most_rows_of_patches = min(tier.max_edge // PATCH_PX, tier.max_patch_tokens // across)
    tallest = min(height, most_rows_of_patches * PATCH_PX)
    if tallest < 1:
        return None
    if height <= tallest:
        return 1, height
    if tallest <= overlap:
        return None
    rows = -(-(height - overlap) // (tallest - overlap))
    return rows, -(-(height + (rows - 1) * overlap) // rows)


def tile_layout(
    width: int,
    height: int,
    tier: str | Tier = "standard",
    *,
    overlap: int = DEFAULT_OVERLAP,
    rule: str = DEFAULT_TOKEN_RULE,
) -> Layout:
    """The fewest tiles (then the fewest tokens) that cover width x height,
    each kept unresized by the tier, neighbours overlapping by >= overlap px."""
    width, height = check_size(width, height)
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
        raise InvalidArgumentError(
            f"overlap must be a whole number of pixels >= 0, got {overlap!r}"
        )
    resolved = get_tier(tier)
    if api_size(width, height, resolved) == (width, height):
        return Layout(width, height, 1, 1, width, height, ((0, 0, width, height),))
    best: tuple[tuple[int, int], Layout] | None = None
    for columns in range(1, _MAX_COLUMNS + 1):
        tile_width = -(-(width + (columns - 1) * overlap) // columns)
        if columns > 1 and tile_width <= overlap:
            break
        if tile_width > width:
            break
        fitted = _fit_rows(height, tile_width, resolved, overlap)
        if fitted is None:
            continue
        rows, tile_height = fitted
        cost = (columns * rows, columns * rows * tokens(tile_width, tile_height, rule))
        if best is not None and cost >= best[0]:
            continue
        boxes = tuple(
            (left, top, left + tile_width, top + tile_height)
            for top in _positions(height, tile_height, rows)
            for left in _positions(width, tile_width, columns)
        )
        best = (cost, Layout(width, height, columns, rows, tile_width, tile_height, boxes))
    if best is None:
        raise InvalidArgumentError(
            f"no tiling of {width}x{height} with overlap {overlap} px fits the "
            f"{resolved.name} tier: lower the overlap"
        )
    return best[1]


@dataclass(frozen=True)
class TileImage:
    """One image of a tiling, encoded, with where it comes from."""

    label: str  # "Image 1:", "Image 2:", ...
    role: str  # "overview" or "tile"
    box: Box  # the source pixels it shows (the whole image for the overview)
    width: int  # as sent
    height: int
    data: bytes
    media_type: str
    tokens: int

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def to_block(
        self,
        *,
        cache_control: CacheControl | None = None,
        transformations: ImageTransformations | None = None,
    ) -> ImageBlock:
        """A Messages API image content block carrying these bytes, typed like
        the SDK's ImageBlockParam (preflight._core.blocks), as PreparedImage's."""
        return image_block(
            self.base64(),
            media_type(self.media_type),
            cache_control=cache_control,
            transformations=transformations,
        )


@dataclass(frozen=True)
class Tiling:
    images: tuple[TileImage, ...]  # overview first (when there is one), then reading order
    layout: Layout
    tier: str
    rule: str
    tokens: int  # all the images together
    whole_tokens: int  # the whole image sent once, at the size the API processes
    whole_size: Size  # that size
    source_bytes: int = 0  # the source file's length

    @property
    def tiles(self) -> tuple[TileImage, ...]:
        return tuple(image for image in self.images if image.role == "tile")

    @property
    def overview(self) -> TileImage | None:
        return next((image for image in self.images if image.role == "overview"), None)

    def to_content(self) -> list[ImageBlock | TextBlock]:
        """Content blocks for a request: each label as a text block, then its
        image (the vision guide's "Image 1:", "Image 2:", ... form). Put the
        question after them: the model works best with images first."""
        blocks: list[ImageBlock | TextBlock] = []
        for image in self.images:
            blocks.append(text_block(image.label))
            blocks.append(image.to_block())
        return blocks


def tile(
    source: Source,
    options: Options | None = None,
    *,
    settings: PrepareSettings | None = None,
    **keywords: Unpack[TileKeywords],
) -> Tiling:
    """Split `source` into overlapping tiles the tier keeps unresized, plus
    (with overview=True, and only when there is more than one tile) the whole
    image at the size the API would process it. An image the tier already
    keeps unresized comes back as one tile. `options` (or the same keywords)
    as everywhere: the tier, the token rule, the surface's image cap and the
    per-image byte limit (or max_bytes) come from it. `settings` (or the same
    keywords: overlap, overview, image_format auto/png/jpeg, encoder_quality,
    engine, pixel_cap) as prepare() takes them; a target or measure_quality,
    which tiles cannot honour, is refused."""
    chosen, wanted = prepare_call(options, settings, dict(keywords), where="tile", stacklevel=2)
    wanted.check_tileable()
    overlap, overview, format = wanted.overlap, wanted.overview, wanted.image_format
    quality = wanted.encoder_quality or DEFAULT_QUALITY
    engine, pixel_cap = wanted.engine, wanted.pixel_cap
    resolved, rule = chosen.tier, chosen.rule
    limit = chosen.max_image_bytes
    opened = open_source(source, engine=engine, pixel_cap=pixel_cap)
    layout = tile_layout(opened.width, opened.height, resolved, overlap=overlap, rule=rule)
    count = len(layout.boxes) + (1 if overview and len(layout.boxes) > 1 else 0)
    cap = chosen.max_images
    if cap is not None and count > cap:
        raise InvalidArgumentError(
            f"{opened.width}x{opened.height} needs {count} images, over the {cap} a request "
            f"takes ({chosen.model.name} on {chosen.surface.name}): use the high-res tier or "
            "a lower overlap"
        )
    runner = opened.engine
    pixels = runner.load(opened.data, opened.info, opened.width, opened.height, pixel_cap=pixel_cap)
    fmt = format
    if fmt == "auto":
        transparent = runner.has_transparency(pixels)
        fmt = "png" if transparent or looks_flat(*runner.sample(pixels)) else "jpeg"
    if fmt == "jpeg":
        pixels = runner.without_alpha(pixels)

    def encoded(image: Pixels) -> tuple[bytes, str]:
        return _encode(runner, image, fmt, quality, limit)

    whole = api_size(opened.width, opened.height, resolved)
    images: list[TileImage] = []
    if overview and len(layout.boxes) > 1:
        data, media_type = encoded(runner.resize(pixels, *whole))
        images.append(
            TileImage(
                "Image 1:",
                "overview",
                (0, 0, opened.width, opened.height),
                whole[0],
                whole[1],
                data,
                media_type,
                tokens(*whole, rule),
            )
        )
    for left, top, right, bottom in layout.boxes:
        crop = runner.crop(pixels, left, top, right - left, bottom - top)
        data, media_type = encoded(crop)
        size = (right - left, bottom - top)
        images.append(
            TileImage(
                f"Image {len(images) + 1}:",
                "tile",
                (left, top, right, bottom),
                *size,
                data,
                media_type,
                tokens(*size, rule),
            )
        )
    return Tiling(
        images=tuple(images),
        layout=layout,
        tier=resolved.name,
        rule=rule,
        tokens=sum(image.tokens for image in images),
        whole_tokens=tokens(*whole, rule),
        whole_size=whole,
        source_bytes=opened.info.file_bytes,
    )


def _encode(runner: Engine, image: Pixels, fmt: str, quality: int, limit: int) -> tuple[bytes, str]:
    """Encoded bytes within the surface's byte limit: a PNG over it becomes a
    JPEG (flattened onto white); a JPEG over it is an error."""
    data = runner.encode(image, fmt, quality)
    if fmt == "png" and base64_length(len(data)) > limit:
        fmt = "jpeg"
        data = runner.encode(runner.without_alpha(image), fmt, quality)
    if base64_length(len(data)) > limit:
        raise ByteBudgetError(
            f"a tile is {base64_length(len(data)):,} bytes as base64, over the limit of "
            f"{limit:,}: lower the quality"
        )
    return data, f"image/{fmt}"
