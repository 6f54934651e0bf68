"""Image content blocks from a path, bytes, a file or a URL, without hand work.

Rules:
- the media type always comes from the data (its header), never from a
  file name or a URL's ending: a PNG saved as .jpg is declared image/png;
- `prepared=True` (the default) sends what prepare() makes: accepted by the
  API as it is and not resized by it; `prepared=False` sends the bytes as
  they are, refused here (UnsupportedFormatError) when the API would refuse
  their format;
- an http(s) URL with `prepared=False` becomes a `url` block (the API
  fetches it); with `prepared=True` it is read (by range, then whole) and
  prepared like a file;
- `cache_control` and `transformations` are carried as given, typed like
  the SDK's.
"""

from __future__ import annotations

import base64

from preflight._core.blocks import (
    MEDIA_TYPES,
    CacheControl,
    ImageBlock,
    ImageTransformations,
    media_type,
)
from preflight._core.blocks import image_block as base64_block
from preflight._core.options import Options
from preflight._core.settings import PrepareSettings
from preflight._imaging.preparation import prepare
from preflight._inputs.http import is_http
from preflight._inputs.input import BytesInput
from preflight._inputs.probing import probe_input
from preflight._inputs.sources import Source, open_input
from preflight.errors import DecodeError


def image_block(
    source: Source,
    options: Options | None = None,
    *,
    prepared: bool = True,
    settings: PrepareSettings | None = None,
    cache_control: CacheControl | None = None,
    transformations: ImageTransformations | None = None,
) -> ImageBlock:
    """A typed image content block for `source` (module docstring), ready
    for `client.messages.create(messages=[{"role": "user", "content": [...]}])`."""
    if isinstance(source, str) and is_http(source) and not prepared:
        block: ImageBlock = {"type": "image", "source": {"type": "url", "url": source}}
        if cache_control is not None:
            block["cache_control"] = cache_control
        if transformations is not None:
            block["transformations"] = transformations
        return block
    if prepared:
        return prepare(source, options, settings=settings).to_block(
            cache_control=cache_control, transformations=transformations
        )
    opened = open_input(source)
    try:
        data = opened.whole()
    finally:
        if opened is not source:
            opened.close()
    info = probe_input(BytesInput(data, opened.name if opened.named else None))
    declared = info.media_type
    if declared not in MEDIA_TYPES:
        raise DecodeError(
            f"{opened.name}: {info.format_label} is not a format the API takes "
            "(JPEG, PNG, GIF, WebP): pass prepared=True to convert it",
            code="cannot-decode-format",
        )
    return base64_block(
        base64.b64encode(data).decode("ascii"),
        media_type(declared),
        cache_control=cache_control,
        transformations=transformations,
    )
