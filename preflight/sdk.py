"""preflight inside the Anthropic SDK client: middleware that checks or fixes every request.

    client = preflight.sdk.wrap(anthropic.Anthropic())            # mode="fix"
    client = anthropic.Anthropic(middleware=[preflight.sdk.Preflight("check")])

Rules:
- a Messages call (`/v1/messages`, its count_tokens, and their beta forms)
  is looked at; any other call, and a call without images, is passed on as
  it is, after one walk of its content blocks;
- `fix`: prepare_request on the body; only changed image blocks are
  rewritten; one `logging` record per change (logger "preflight.sdk");
- `check`: when the API would refuse the request nothing is sent, and the
  SDK's own typed error is raised from the error body the API would send
  (for dimensions, ImageDimensionsTooLargeError with its error_code,
  max_side_length_pixels and paths), so code that handles the API's errors
  handles preflight's the same way;
- `warn`: the request is sent as it is; what the API would do is logged;
- agents resend their whole history every turn: an image block already
  seen, in the same context (model, surface, many-image rule), is not
  prepared again: its prepared block comes from a cache keyed by a hash of
  its content, bounded in bytes (DEFAULT_CACHE_BYTES, a documented size);
- the async client's CPU work runs off the event loop, in a bounded pool;
- the surface (Claude API, Bedrock, Vertex AI) is chosen from the client
  by `wrap`, or from the model id's form (`anthropic.…-v1:0` is Bedrock's,
  `…@20250929` Vertex's), or given.
This module needs the `sdk` extra (anthropic>=2.17); nothing else in
preflight imports it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from preflight._core.bodies import RequestReport, check_request
from preflight._core.budgets import SDK_CACHE_BYTES as DEFAULT_CACHE_BYTES
from preflight._core.explaining import Explanation
from preflight._core.explaining import explain as _explain
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._requests.fixing import PreparedRequest, prepare_request
from preflight.errors import MissingExtraError, UsageError

try:
    import anthropic
    from anthropic import Middleware
except ImportError:  # pragma: no cover - exercised by the no-SDK test environment
    raise MissingExtraError(
        "preflight.sdk needs the Anthropic SDK (2.17 or later): pip install 'preflight[sdk]'"
    ) from None

if TYPE_CHECKING:
    from anthropic._middleware import AsyncCallNext, CallNext
    from anthropic._request import APIRequest
    from anthropic._response import APIResponse, AsyncAPIResponse
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "MODES",
    "Preflight",
    "explain",
    "wrap",
]

logger = logging.getLogger("preflight.sdk")

Mode = Literal["fix", "check", "warn"]
MODES: tuple[Mode, ...] = ("fix", "check", "warn")


_MESSAGES_PATHS = frozenset(
    {
        "/v1/messages",
        "/v1/messages?beta=true",
        "/v1/messages/count_tokens",
        "/v1/messages/count_tokens?beta=true",
    }
)

ClientT = TypeVar("ClientT")


@dataclass(frozen=True)
class _Slot:
    """Where an image block stands in the body: its container and index."""

    container: list[Any]
    index: int
    block: dict[str, Any]


class _BlockCache:
    """Prepared image blocks by (content hash, context), least recently used
    first out, bounded by the base64 text they hold."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self._items: OrderedDict[tuple[str, str], tuple[dict[str, Any] | None, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[dict[str, Any] | None] | None:
        """(block,) where block is the prepared block or None for "keep the
        original"; None when the key was never seen."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return (found[0],)

    def put(self, key: tuple[str, str], block: dict[str, Any] | None) -> None:
        cost = 64 if block is None else 64 + len(_data_of(block) or "")
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.held -= old[1]
            self._items[key] = (block, cost)
            self.held += cost
            while self.held > self.max_bytes:
                _, (_, freed) = self._items.popitem(last=False)
                self.held -= freed

    def __len__(self) -> int:
        return len(self._items)


class Preflight(Middleware):
    """Checks or fixes every Messages request before the SDK sends it (module
    docstring). `options` (or the same keywords as preflight.make_options)
    say where requests go; the body's own model is used unless a model is
    given. `surface`: "api", "bedrock" or "vertex"; by default from the
    model id's form."""

    def __init__(
        self,
        mode: Mode = "fix",
        options: Options | None = None,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        max_workers: int | None = None,
        engine: str | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> None:
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, int) or cache_bytes < 0:
            raise UsageError(f"cache_bytes must be a whole number of bytes, got {cache_bytes!r}")
        self.mode: Mode = mode
        make_options(options, **keywords)  # validated now: a mistake shows at set-up
        self._options = options
        self._keywords = keywords
        self._engine = engine
        self.cache = _BlockCache(cache_bytes)
        workers = max_workers if max_workers is not None else min(4, os.cpu_count() or 1)
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # --- the SDK's two entry points -------------------------------------------------

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        return call_next(self.process(request))

    async def handle_async(
        self, request: APIRequest, call_next: AsyncCallNext
    ) -> AsyncAPIResponse[Any]:
        if _image_slots_of(request) is None:  # nothing to do: no thread hop
            return await call_next(request)
        loop = asyncio.get_running_loop()
        processed = await loop.run_in_executor(self._executor(), self.process, request)
        return await call_next(processed)

    # --- the work -----------------------------------------------------------------

    def process(self, request: APIRequest) -> APIRequest:
        """The request to send instead of `request` (itself when nothing
        changes); raises the SDK's typed error in `check` mode."""
        found = _image_slots_of(request)
        if found is None:
            return request
        body, slots = found
        keywords = self._request_keywords(body)
        if self.mode == "fix":
            return self._fix(request, body, slots, keywords)
        report = check_request(body, self._options, **keywords)
        if self.mode == "check":
            if report.rejected:
                raise _sdk_error(report, request)
            return request
        for finding in report.findings:
            logger.warning(
                "preflight: %s", finding.api_message, extra={"preflight_finding": finding.to_dict()}
            )
        return request

    def _request_keywords(self, body: dict[str, Any]) -> OptionKeywords:
        keywords: OptionKeywords = dict(self._keywords)  # type: ignore[assignment]
        model = body.get("model")
        if isinstance(model, str) and "model" not in keywords and self._options is None:
            base, surface = _model_and_surface(model)
            keywords["model"] = base
            if surface is not None and "surface" not in keywords:
                keywords["surface"] = surface
        return keywords

    def _fix(
        self,
        request: APIRequest,
        body: dict[str, Any],
        slots: list[_Slot],
        keywords: OptionKeywords,
    ) -> APIRequest:
        context = self._context(body, len(slots), keywords)
        keys = [(_content_key(slot.block), context) for slot in slots]
        cached = [self.cache.get(key) for key in keys]
        working = body
        if any(hit is not None and hit[0] is not None for hit in cached):
            working = _copy_structure(body)
            for (container, index, _), hit in zip(_slot_paths(working), cached, strict=True):
                if hit is not None and hit[0] is not None:
                    container[index] = hit[0]
        if all(hit is not None for hit in cached):
            # Every image seen before: their prepared blocks, and a check that
            # the whole (the count, the body limit) still holds.
            report = check_request(working, self._options, **keywords)
            if not report.rejected:
                return request if working is body else request.copy(body=working)
        prepared = prepare_request(working, self._options, engine=self._engine, **keywords)
        self._remember(keys, [hit is None for hit in cached], prepared)
        for change in prepared.changes:
            logger.info(
                "preflight: %s <- %s",
                change.path,
                change.reason,
                extra={"preflight_change": change.to_dict()},
            )
        for failure in prepared.unfixed:
            logger.warning(
                "preflight: cannot fix: %s",
                failure.api_message,
                extra={"preflight_finding": failure.to_dict()},
            )
        if prepared.body is body:
            return request
        return request.copy(body=prepared.body)

    def _remember(
        self, keys: list[tuple[str, str]], new: list[bool], prepared: PreparedRequest[Any]
    ) -> None:
        """Cache what became of each image block not seen before: its
        prepared block, or None for "sent as it is"."""
        if not isinstance(prepared.body, dict):
            return
        changed = {change.path for change in prepared.changes}
        after = list(_slot_paths(prepared.body))
        if len(after) != len(keys):  # the structure changed: nothing to learn by position
            return
        for key, unseen, (container, index, path) in zip(keys, new, after, strict=True):
            if unseen:
                self.cache.put(key, container[index] if path in changed else None)

    def _context(self, body: dict[str, Any], images: int, keywords: OptionKeywords) -> str:
        """What, besides its content, decides how an image is prepared."""
        options = make_options(self._options, **keywords)
        threshold = options.surface.many_images_threshold
        many = threshold is not None and images > threshold
        return json.dumps(
            [options.model.name, options.surface.name, options.tier.name, many, self._engine],
            separators=(",", ":"),
        )

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="preflight-sdk"
                )
            return self._pool

    def close(self) -> None:
        """Stop the async path's worker threads (they also end with the process)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None


def wrap(client: ClientT, mode: Mode = "fix", **settings: Any) -> ClientT:
    """`client` with preflight's middleware appended (a new client: the SDK's
    with_middleware). For Bedrock and Vertex clients the surface's limits
    are chosen from the client."""
    if "surface" not in settings:
        kind = type(client).__name__.lower()
        if "bedrock" in kind:
            settings["surface"] = "bedrock"
        elif "vertex" in kind:
            settings["surface"] = "vertex"
    add = getattr(client, "with_middleware", None)
    if add is None:
        raise UsageError(
            f"{type(client).__name__} takes no middleware: pass an anthropic client (SDK 2.17+)"
        )
    return add(Preflight(mode, **settings))  # type: ignore[no-any-return]


def explain(error: anthropic.APIError | object) -> Explanation:
    """What an SDK error means in preflight's terms: the finding it is, the
    blocks it names (preflight's paths and the SDK's `details.paths`), what
    it means and how to fix it. Takes the exception, typed
    (ImageDimensionsTooLargeError) or not, or its message or body, in any
    wording the API has used (preflight.explain)."""
    return _explain(error)


# --- reading a request ----------------------------------------------------------------


def _image_slots_of(request: APIRequest) -> tuple[dict[str, Any], list[_Slot]] | None:
    """The body and its image blocks, for a Messages call that has any."""
    if request.method.lower() != "post" or request.url not in _MESSAGES_PATHS:
        return None
    body = request.json
    if not isinstance(body, dict):
        return None
    slots = [_Slot(container, index, container[index]) for container, index, _ in _slot_paths(body)]
    return (body, slots) if slots else None


def _slot_paths(body: dict[str, Any]) -> Iterator[tuple[list[Any], int, str]]:
    """Every image block in the messages, tool_result contents included, in
    the order they are sent: its container, its index there, and preflight's
    path of it (messages.M.content.N.image)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for m, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            yield from _blocks(content, f"messages.{m}.content")


def _blocks(content: list[Any], at: str) -> Iterator[tuple[list[Any], int, str]]:
    for index, block in enumerate(content):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "image":
            yield content, index, f"{at}.{index}.image"
        elif kind == "tool_result" and isinstance(block.get("content"), list):
            yield from _blocks(block["content"], f"{at}.{index}.tool_result.content")


def _copy_structure(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of the body's dicts and lists (the strings are shared): blocks
    can be replaced without touching the caller's."""
    copied: dict[str, Any] = _copy(body)
    return copied


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _data_of(block: dict[str, Any]) -> str | None:
    source = block.get("source")
    if isinstance(source, dict):
        data = source.get("data")
        if isinstance(data, str):
            return data
    return None


def _content_key(block: dict[str, Any]) -> str:
    """A hash of everything in the block that decides its fate: the source
    (data, media type, URL or file id) and the block's other fields."""
    digest = hashlib.blake2b(digest_size=20)
    data = _data_of(block)
    rest = {key: value for key, value in block.items() if key != "source"}
    source = block.get("source")
    if isinstance(source, dict):
        rest["source"] = {key: value for key, value in source.items() if key != "data"}
    digest.update(json.dumps(rest, sort_keys=True, default=repr).encode())
    if data is not None:
        digest.update(b"\0")
        digest.update(data.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# Cloud model ids: Bedrock's `anthropic.claude-sonnet-4-5-20250929-v1:0`
# (with an optional region prefix such as `us.` or `global.`), Vertex AI's
# `claude-sonnet-4-5@20250929`.
_BEDROCK_ID = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.(?P<model>.+?)(?:-v\d+(?::\d+)?)?$")
_VERTEX_ID = re.compile(r"^(?P<model>claude-[^@]+)@(?P<date>\d{8}|latest)$")


def _model_and_surface(model: str) -> tuple[str, str | None]:
    """The model's name in preflight's table, and the surface its id's form
    names (None: the Claude API's own ids)."""
    found = _BEDROCK_ID.match(model)
    if found is not None:
        return found.group("model"), "bedrock"
    found = _VERTEX_ID.match(model)
    if found is not None:
        date = found.group("date")
        name = found.group("model")
        return (name if date == "latest" else f"{name}-{date}"), "vertex"
    return model, None


def _sdk_error(report: RequestReport, request: APIRequest) -> anthropic.APIStatusError:
    """The SDK's own typed error for the answer the API would give."""
    import httpx2
    from anthropic._error_classes import make_status_error

    error = report.api_error
    assert error is not None  # called for a rejected request
    status, body = error.status, error.body
    response = httpx2.Response(
        status,
        json=body,
        request=httpx2.Request(request.method.upper(), f"https://api.anthropic.com{request.url}"),
        headers={"request-id": "preflight-check"},
    )
    return make_status_error(f"Error code: {status} - {body}", body=body, response=response)
