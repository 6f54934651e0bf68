"""prepare_request(): a Messages request body in, one the API accepts out.

The shell around check_request (core/bodies) and prepare().

Rules:
- the input is never mutated: the new body shares every part that did not
  change and copies only the containers on the way to a changed block;
- an image is prepared only when the API would reject or resize it; every
  other image stays byte for byte (and its block unchanged);
- each image is prepared from its own bytes with images_in_request set to
  the request's image count, so the many-image side limit applies to
  every image when the request holds more than 20 (history and tool
  results included); prepare() fits each image's byte budget;
- then the body limit: when the serialized body is still too large, the
  largest images shrink first (water-filling: every image above one common
  budget is prepared again under it) until the body fits;
- idempotent: a body this returns needs nothing more, so preparing it
  again returns it unchanged;
- it reports, never raises, on a body it cannot work on: one that is not
  a JSON object, or cannot be sent as JSON (NaN or Infinity, bytes, a
  cycle, nesting too deep, an unpaired surrogate) is returned with
  check_request's malformed-request finding and no change;
- the body limit is met only where it can be: no image is squeezed under
  MIN_IMAGE_BUDGET; when even that would leave the body over its limit,
  one cannot-prepare finding says so and no image is prepared in vain;
- memory does not grow with copies of the images: an image's original
  base64 text is kept by reference and decoded when it is prepared.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from preflight._core.bodies import (
    RequestImage,
    RequestReport,
    Resolver,
    check_request,
    serialized_size,
)
from preflight._core.catalogue import CANNOT_PREPARE
from preflight._core.cost import exact_cost
from preflight._core.findings import (
    BAD_BASE64,
    BAD_MEDIA_TYPE,
    ERROR,
    MEDIA_TYPE_MISMATCH,
    OVER_BYTE_LIMIT,
    OVER_MANY_IMAGES_SIDE,
    OVER_MAX_SIDE,
    OVERSIZED,
    TRUNCATED,
    UNSUPPORTED_FORMAT,
    Finding,
)
from preflight._core.options import OptionKeywords, Options
from preflight._imaging.preparation import Action, PreparedImage, prepare
from preflight.errors import DataError

if TYPE_CHECKING:
    from typing_extensions import Unpack

# What prepare() fixes: a size, byte or media-type rejection, or data it
# can re-encode. (Malformed fields and undecodable data it cannot fix.)
FIXABLE = frozenset(
    {
        OVER_MAX_SIDE,
        OVER_MANY_IMAGES_SIDE,
        OVERSIZED,
        OVER_BYTE_LIMIT,
        MEDIA_TYPE_MISMATCH,
        BAD_MEDIA_TYPE,
        UNSUPPORTED_FORMAT,
        TRUNCATED,
    }
)
_FILL_MARGIN = 0.98  # aim the common budget a little under what the body needs
_FILL_ROUNDS = 6
# preflight's own floor on the base64 bytes one image may be squeezed to
# when the body is over its limit: 4 KiB is a JPEG of some 100 x 100 px,
# about the least that still shows the model something. Under it an image
# is no longer worth sending, and preparing hundreds of them at a few bytes
# each only fails slowly (the 600 images: 555 s and 14 GB for no
# change); the body must be split instead.
MIN_IMAGE_BUDGET = 4096


@dataclass(frozen=True)
class RequestChange:
    """One image block that changed, and why."""

    path: str
    reason: str
    actions: tuple[Action, ...]
    before: RequestImage
    after: RequestImage | None = None

    def to_dict(self) -> dict[str, object]:
        after = self.after
        return {
            "path": self.path,
            "reason": self.reason,
            "actions": [a.to_dict() for a in self.actions],
            "before": _summary(self.before),
            "after": None if after is None else _summary(after),
        }


# The body's type: a caller's typed body (the SDK's MessageCreateParams, a
# TypedDict of its own) comes back typed the same; JSON text comes back a dict.
BodyT = TypeVar("BodyT")
MappingT = TypeVar("MappingT", bound=Mapping[str, object])


@dataclass(frozen=True)
class PreparedRequest(Generic[BodyT]):
    body: BodyT  # the new body (the input's own object when nothing changed and it was a dict)
    changes: tuple[RequestChange, ...]
    failures: tuple[Finding, ...]  # images that could not be prepared
    before: RequestReport
    report: RequestReport  # check_request of the new body
    options: Options = field(repr=False, default_factory=Options)

    @property
    def passes(self) -> bool:
        return not self.report.rejected

    @property
    def unfixed(self) -> tuple[Finding, ...]:
        """The errors left in the new body: what prepare_request cannot fix
        (each finding's `fix` says what to do instead)."""
        return self.report.errors

    @property
    def tokens_before(self) -> int:
        return self.before.image_tokens

    @property
    def tokens_after(self) -> int:
        return self.report.image_tokens

    @property
    def cost_before(self) -> Decimal | None:
        return self.before.cost_usd

    @property
    def cost_after(self) -> Decimal | None:
        return self.report.cost_usd

    def to_dict(self) -> dict[str, object]:
        return {
            "passes": self.passes,
            "changes": [c.to_dict() for c in self.changes],
            "failures": [f.to_dict() for f in self.failures],
            "unfixed": [f.to_dict() for f in self.unfixed],
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "cost_before_usd": exact_cost(self.cost_before),
            "cost_after_usd": exact_cost(self.cost_after),
            "body_bytes_before": self.before.body_bytes,
            "body_bytes_after": self.report.body_bytes,
            "report": self.report.to_dict(),
        }


def _summary(image: RequestImage) -> dict[str, object]:
    return {
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "base64_bytes": image.base64_bytes,
        "tokens": image.tokens,
    }


@overload
def prepare_request(
    body: str | bytes | bytearray,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PreparedRequest[dict[str, Any]]: ...


@overload
def prepare_request(
    body: MappingT,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PreparedRequest[MappingT]: ...


@overload
def prepare_request(
    body: object,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PreparedRequest[Any]: ...


def prepare_request(
    body: object,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PreparedRequest[Any]:
    """A new body in which every base64 image the API would reject or
    resize is prepared, and the body fits its limit (see the module
    comment). `options`, `resolver` and the keywords are check_request's;
    `engine` is prepare()'s."""
    before = check_request(body, options, resolver=resolver, **keywords)
    value = _as_data(body)
    chosen = before.options
    if not isinstance(value, dict) or not before.images or before.body_bytes is None:
        # Nothing to work on: no images, or a body that is not a JSON object
        # or cannot be sent as JSON (check_request said malformed-request).
        return PreparedRequest(value, (), (), before, before, chosen)
    counted = len(before.images) + (
        before.documents if chosen.surface.documents_count_as_images else 0
    )
    editor = _Editor(value)
    changes: dict[str, RequestChange] = {}
    failures: list[Finding] = []
    originals: dict[str, str] = {}
    current: dict[str, int] = {}  # base64 length of every base64 image as it now stands
    working = before
    if _clean_base64(editor, before, changes):
        working = check_request(editor.body, options, resolver=resolver, **keywords)
    for image in working.images:
        if image.source_kind != "base64" or image.base64_bytes is None or not image.checked:
            continue
        current[image.path] = image.base64_bytes
        reason = _reason(image)
        if reason is None:
            continue
        raw = _raw(editor, image, originals)
        if raw is None:
            continue
        made = _prepare(raw, chosen, counted, None, engine, image, failures)
        if made is not None:
            editor.replace_source(image, made)
            current[image.path] = len(made.base64())
            earlier = changes.get(image.path)  # its base64 cleaned first
            if earlier is not None:
                reason = f"{earlier.reason}; {reason}"
            first = earlier.before if earlier is not None else image
            changes[image.path] = RequestChange(image.path, reason, made.actions, first)
    _fit_body(editor, working, chosen, counted, engine, originals, current, changes, failures)
    new_body = editor.body if changes else value
    after = check_request(new_body, options, resolver=resolver, **keywords)
    by_path = {image.path: image for image in after.images}
    done = tuple(
        dataclasses.replace(change, after=by_path.get(change.path)) for change in changes.values()
    )
    return PreparedRequest(new_body, done, tuple(failures), before, after, chosen)


def _as_data(body: object) -> object:
    """The body as data, never the caller's object changed: JSON is parsed
    afresh; a dict is edited by copying (_Editor)."""
    import json

    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None
    return body


def _reason(image: RequestImage) -> str | None:
    """Why the image must be prepared, or None when the API keeps it as it is
    (or when its data cannot be read: prepare could not read it either)."""
    if not image.checked:
        return None
    fixable = [f.code for f in image.findings if f.severity == ERROR and f.code in FIXABLE]
    if fixable:
        return "rejected: " + ", ".join(dict.fromkeys(fixable))
    if image.checked and not image.rejected and image.resized:
        return (
            f"the API would resize {image.width}x{image.height} to "
            f"{image.processed_width}x{image.processed_height}"
        )
    return None


def _raw(editor: _Editor, image: RequestImage, originals: dict[str, str]) -> bytes | None:
    """The image's bytes as they were before prepare() touched them: its
    base64 text is noted (by reference, no copy) before its first
    replacement, after any base64 cleaning, and decoded each time."""
    if image.path not in originals:
        originals[image.path] = editor.current_block(image)["source"]["data"]
    return base64.b64decode(originals[image.path])


def clean_base64(text: str) -> str | None:
    """The base64 text inside `text` when it is not base64 only because of a
    `data:<type>;base64,` prefix or ASCII whitespace (line breaks of MIME
    base64); None when cleaning would not make it base64."""
    cleaned = text
    if cleaned.startswith("data:"):
        head, comma, rest = cleaned.partition(",")
        if not comma or not head.endswith(";base64"):
            return None
        cleaned = rest
    cleaned = "".join(cleaned.split())
    if not cleaned or cleaned == text:
        return None
    try:
        base64.b64decode(cleaned, validate=True)
    except ValueError:
        return None
    return cleaned if len(cleaned) % 4 == 0 else None


def _clean_base64(
    editor: _Editor, report: RequestReport, changes: dict[str, RequestChange]
) -> bool:
    """Put the cleaned text in place of every base64 image whose data is not
    base64 only because of a prefix or line breaks. True when any changed."""
    changed = False
    for image in report.images:
        if not any(f.code == BAD_BASE64 for f in image.findings):
            continue
        source = editor.current_block(image).get("source")
        data = source.get("data") if isinstance(source, dict) else None
        if not isinstance(data, str) or not isinstance(source, dict):
            continue
        cleaned = clean_base64(data)
        if cleaned is None:
            continue
        editor.set_source(image, {**source, "data": cleaned})
        what = "a data: URL prefix" if data.startswith("data:") else "line breaks"
        changes[image.path] = RequestChange(
            image.path, f"invalid base64 data: removed {what}", (), image
        )
        changed = True
    return changed


def _prepare(
    raw: bytes,
    options: Options,
    counted: int,
    budget: int | None,
    engine: str | None,
    image: RequestImage,
    failures: list[Finding],
) -> PreparedImage | None:
    limit = options.max_image_bytes if budget is None else min(budget, options.max_image_bytes)
    try:
        return prepare(raw, options, engine=engine, images_in_request=counted, max_bytes=limit)
    except DataError as error:
        failures.append(
            Finding(
                CANNOT_PREPARE,
                ERROR,
                f"could not prepare this image: {error}",
                "replace or remove the image",
                path=image.path,
            )
        )
        return None


def _fit_body(
    editor: _Editor,
    before: RequestReport,
    options: Options,
    counted: int,
    engine: str | None,
    originals: dict[str, str],
    current: dict[str, int],
    changes: dict[str, RequestChange],
    failures: list[Finding],
) -> None:
    """Shrink the largest images first until the serialized body fits."""
    limit = options.max_request_bytes
    if limit is None or not current:
        return
    images = {image.path: image for image in before.images}
    for _ in range(_FILL_ROUNDS):
        size = serialized_size(editor.body)
        if size <= limit:
            return
        rest = size - sum(current.values())  # everything but the base64 images' data
        least = rest + MIN_IMAGE_BUDGET * len(current)
        if least > limit:
            failures.append(
                Finding(
                    CANNOT_PREPARE,
                    ERROR,
                    f"the body is {size:,} bytes, over its limit of {limit:,}, and shrinking "
                    f"images cannot fit it: even at {MIN_IMAGE_BUDGET:,} bytes each, "
                    f"{len(current)} images and the rest of the body make {least:,} bytes",
                    "split the request: send fewer images per request",
                )
            )
            return
        budget = max(MIN_IMAGE_BUDGET, _common_budget(list(current.values()), size - limit))
        shrunk = False
        for path, length in sorted(current.items(), key=lambda item: -item[1]):
            if length <= budget:
                break
            image = images[path]
            raw = _raw(editor, image, originals)
            if raw is None:
                continue
            made = _prepare(raw, options, counted, budget, engine, image, failures)
            if made is None:
                continue
            editor.replace_source(image, made)
            current[path] = len(made.base64())
            shrunk = True
            earlier = changes.get(path)
            reason = "the body is over its limit: shrunk with the largest images"
            if earlier is not None:
                reason = f"{earlier.reason}; {reason}"
            changes[path] = RequestChange(
                path, reason, made.actions, earlier.before if earlier else image
            )
        if not shrunk:
            return


def _common_budget(lengths: list[int], excess: int) -> int:
    """The largest per-image budget B such that cutting every image down to
    B saves at least `excess` bytes (aimed a little lower, with margin)."""
    need = excess / _FILL_MARGIN
    low, high = 4, max(lengths)
    while low < high:
        middle = (low + high + 1) // 2
        saved = sum(max(0, n - middle) for n in lengths)
        if saved >= need:
            low = middle
        else:
            high = middle - 1
    return max(4, low - low % 4)


class _Editor:
    """A copy-on-write view of the body: containers on the way to a changed
    block are copied once; everything else is shared with the input."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.original = body
        self.body: dict[str, Any] = dict(body)
        self._copied: set[int] = {id(self.body)}

    def original_block(self, image: RequestImage) -> Any:
        node: Any = self.original
        for key in image.location:
            node = node[key]
        return node

    def current_block(self, image: RequestImage) -> Any:
        node: Any = self.body
        for key in image.location:
            node = node[key]
        return node

    def replace_source(self, image: RequestImage, made: PreparedImage) -> None:
        self.set_source(image, dict(made.to_block()["source"]))

    def set_source(self, image: RequestImage, source: dict[str, Any]) -> None:
        node: Any = self.body
        for key in image.location[:-1]:
            child = node[key]
            if id(child) not in self._copied:
                child = dict(child) if isinstance(child, dict) else list(child)
                self._copied.add(id(child))
                node[key] = child
            node = child
        last = image.location[-1]
        block = dict(node[last])
        block["source"] = source
        node[last] = block
        self._copied.add(id(block))
