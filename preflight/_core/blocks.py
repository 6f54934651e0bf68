"""Typed content blocks and request bodies, shaped like the Anthropic Python SDK 2.14's.

See docs/sdk-types.md.

Rules:
- every block and body preflight builds is one of these TypedDicts, so a
  typed pipeline passes `mypy --strict` with no cast;
- the SDK's TypedDicts are mutable, and mypy requires a mutable key's type
  to match exactly, not merely to fit: each image type here is the SDK's,
  key for key, type for type. That is why a base64 source's `data` admits
  a file (the SDK's Base64FileInput) although preflight always writes text;
- types only: importing this module imports no SDK (and nothing heavy);
  optional keys come from a total=False subclass of the required ones
  (typing.Required is Python 3.11+ only).
"""

from __future__ import annotations

import os
from typing import IO, Any, Literal, TypeAlias, TypedDict

from preflight.errors import InvalidArgumentError

MediaType: TypeAlias = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
OversizedImage: TypeAlias = Literal["downsize", "error"]
CacheTTL: TypeAlias = Literal["5m", "1h"]


class Base64ImageSource(TypedDict):
    """The SDK's Base64ImageSourceParam."""

    data: str | IO[bytes] | os.PathLike[str]
    media_type: MediaType
    type: Literal["base64"]


class URLImageSource(TypedDict):
    """The SDK's URLImageSourceParam."""

    type: Literal["url"]
    url: str


class FileImageSource(TypedDict):
    """The SDK's FileImageSourceParam (a Files API id)."""

    file_id: str
    type: Literal["file"]


ImageSource: TypeAlias = Base64ImageSource | URLImageSource | FileImageSource


class _CacheControlRequired(TypedDict):
    type: Literal["ephemeral"]


class CacheControl(_CacheControlRequired, total=False):
    """The SDK's CacheControlEphemeralParam: {"type": "ephemeral", "ttl": "5m" | "1h"}."""

    ttl: CacheTTL


class ImageTransformations(TypedDict, total=False):
    """The SDK's ImageTransformationsParam: {"oversized_image": "downsize" | "error"}."""

    oversized_image: OversizedImage


class _ImageBlockRequired(TypedDict):
    source: ImageSource
    type: Literal["image"]


class ImageBlock(_ImageBlockRequired, total=False):
    """The SDK's ImageBlockParam."""

    cache_control: CacheControl | None
    transformations: ImageTransformations | None


class TextBlock(TypedDict):
    """A text content block ("Image 1:", the prompt)."""

    type: Literal["text"]
    text: str


class UserMessage(TypedDict):
    """A user turn of the blocks preflight builds."""

    role: Literal["user"]
    content: list[TextBlock | ImageBlock]


class MessagesBody(TypedDict):
    """A Messages request body as preflight builds it (pack_images): pass
    it as `client.messages.create(**body)`. Each message is a UserMessage;
    the list is typed loosely because no type written without the SDK
    matches its MessageParam exactly (its content union has dozens of block
    types), and `create(**body)` must type-check under mypy --strict."""

    model: str
    max_tokens: int
    messages: list[Any]


MEDIA_TYPES: tuple[MediaType, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")


def media_type(value: str) -> MediaType:
    """`value` as the literal type; InvalidArgumentError (a ValueError) for any other text."""
    for known in MEDIA_TYPES:
        if value == known:
            return known
    raise InvalidArgumentError(f"not a media type the API takes: {value!r}")


def image_block(
    data: str,
    media: MediaType,
    *,
    cache_control: CacheControl | None = None,
    transformations: ImageTransformations | None = None,
) -> ImageBlock:
    """A base64 image block; the optional fields only when given."""
    block: ImageBlock = {
        "type": "image",
        "source": {"type": "base64", "media_type": media, "data": data},
    }
    if cache_control is not None:
        block["cache_control"] = cache_control
    if transformations is not None:
        block["transformations"] = transformations
    return block


def text_block(text: str) -> TextBlock:
    return {"type": "text", "text": text}
