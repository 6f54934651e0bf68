"""pack_images(): many images and a prompt in, the fewest Messages request bodies out.

Each body passes check_request.

Rules:
- images stay in order; with several in a request each is introduced by
  an "Image N:" text block and the prompt comes last (the vision guide's
  layout, docs/limits.md);
- two ways to send images larger than 2000 px when there are more than
  20: up to 20 per request at full size, or every image downscaled to
  2000 px a side and requests filled to the model's cap. Both are sized
  by the pure core before anything is decoded, compared by image tokens
  and by requests, and chosen by `prefer` ("tokens", the default;
  "requests"; or "detail", full size); the reason says which and why;
- requests are filled in order, next-fit, under the count limit and the
  body limit (compact JSON, as sent): for items that must stay in order
  this gives the fewest requests;
- an image that cannot be read or prepared is reported with its index,
  never silently dropped;
- what counts as the images (_sources_of): a `str` or path naming a
  local directory is walked (image extensions, sorted, as `preflight pack
  DIR` walks it); any other `str` or path, bytes, a file object or an
  Input is one image; anything else iterable is the list of images. A
  `str` is never read as a sequence of one-letter paths;
- one image at a time: each is prepared when its turn comes, and each
  request is handed over (PackRun.requests, a generator) as soon as it is
  full, so a caller that writes each body and lets it go (`preflight pack`)
  holds one request's images at most; pack_images() collects them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from preflight._core.blocks import ImageBlock, MessagesBody, TextBlock, text_block
from preflight._core.bodies import RequestReport, check_request, serialized_size
from preflight._core.catalogue import CANNOT_PREPARE
from preflight._core.cost import exact_cost
from preflight._core.defaults import DEFAULT_MAX_TOKENS as DEFAULT_MAX_TOKENS
from preflight._core.defaults import PREFERENCES as PREFERENCES
from preflight._core.findings import ERROR, Finding
from preflight._core.geometry import TOKEN_COUNTERS, Target, target_size
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._imaging.inspection import failure_finding
from preflight._imaging.preparation import prepare
from preflight._inputs.probing import probe
from preflight._inputs.sources import Source, open_input
from preflight.errors import DataError, DecodeError, HeaderError, InvalidArgumentError, SourceError

if TYPE_CHECKING:
    from typing_extensions import Unpack

FULL_SIZE = "full-size"
DOWNSCALED = "downscaled"


@dataclass(frozen=True)
class PackedRequest:
    body: MessagesBody
    images: tuple[int, ...]  # indexes into the sources, in order
    tokens: int  # image tokens
    body_bytes: int
    report: RequestReport

    def to_dict(self) -> dict[str, object]:
        return {
            "images": list(self.images),
            "tokens": self.tokens,
            "body_bytes": self.body_bytes,
            "rejected": self.report.rejected,
        }

    def without_images(self) -> PackedRequest:
        """A copy whose body holds no messages (its counts, size and report
        kept): what a caller keeps once it has written the body out."""
        body: MessagesBody = {**self.body, "messages": []}
        return dataclasses.replace(self, body=body)


@dataclass(frozen=True)
class PackFailure:
    index: int
    source: str
    finding: Finding

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "source": self.source, **self.finding.to_dict()}


@dataclass(frozen=True)
class PackPlan:
    """One way to send the images: its name, requests (at least) and image tokens."""

    name: str
    per_request: int
    requests: int
    tokens: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Pack:
    requests: tuple[PackedRequest, ...]
    failures: tuple[PackFailure, ...]
    plan: str  # the chosen plan's name
    reason: str
    plans: tuple[PackPlan, ...]  # every plan compared (one when there was no choice)
    images: int  # images packed
    tokens: int
    cost_usd: Decimal | None
    batch_cost_usd: Decimal | None
    options: Options

    @property
    def total_requests(self) -> int:
        return len(self.requests)

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "reason": self.reason,
            "plans": [p.to_dict() for p in self.plans],
            "requests": [r.to_dict() for r in self.requests],
            "failures": [f.to_dict() for f in self.failures],
            "total_requests": self.total_requests,
            "images": self.images,
            "tokens": self.tokens,
            "cost_usd": exact_cost(self.cost_usd),
            "batch_cost_usd": exact_cost(self.batch_cost_usd),
            "model": self.options.model.name,
            "price_note": self.options.price_note,
        }


def pack_images(
    sources: Source | Iterable[Source],
    *,
    prompt: str | None = None,
    options: Options | None = None,
    prefer: str = "tokens",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Pack:
    """The fewest request bodies that carry every image (see the module
    comment). `max_tokens` is written into each body (the Messages API
    requires it); `engine` is prepare()'s."""
    run = start_pack(
        sources,
        prompt=prompt,
        options=options,
        prefer=prefer,
        max_tokens=max_tokens,
        engine=engine,
        **keywords,
    )
    return run.result(list(run.requests()))


def start_pack(
    sources: Source | Iterable[Source],
    *,
    prompt: str | None = None,
    options: Options | None = None,
    prefer: str = "tokens",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    engine: str | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PackRun:
    """pack_images, a request at a time: every source is probed and the plan
    chosen now (nothing decoded); PackRun.requests() then prepares the
    images in order and yields each request as soon as it is full."""
    chosen = make_options(options, **keywords)
    if prefer not in PREFERENCES:
        raise InvalidArgumentError(f"prefer must be one of {PREFERENCES}, got {prefer!r}")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidArgumentError(f"max_tokens must be a whole number, got {max_tokens!r}")
    failures: list[PackFailure] = []
    readable: list[tuple[int, Source, tuple[int, int]]] = []
    for index, source in enumerate(_sources_of(sources)):
        data = _readable(index, source, failures)
        if data is not None:
            readable.append((index, data[0], data[1]))
    plans = _plans([size for _, _, size in readable], chosen)
    plan, reason = _choose(plans, prefer, chosen)
    return PackRun(
        plan, reason, tuple(plans), chosen, prompt, max_tokens, engine, readable, failures
    )


@dataclass
class PackRun:
    """A pack under way (start_pack): its plan, then its requests one by one."""

    plan: PackPlan
    reason: str
    plans: tuple[PackPlan, ...]
    options: Options
    prompt: str | None
    max_tokens: int
    engine: str | None
    readable: list[tuple[int, Source, tuple[int, int]]] = field(repr=False)
    failures: list[PackFailure]

    def requests(self) -> Iterator[PackedRequest]:
        """Each request as soon as it is full: images prepared in order,
        next-fit under the count and the body limit. Failures are added to
        `failures` as they happen."""
        chosen = self.options
        # prepare() applies the many-image side limit when the count is over 20.
        count = max(1, min(self.plan.per_request, len(self.readable)))
        filler = _Filler(self.plan.per_request, self.prompt, self.max_tokens, chosen)
        for index, source, _ in self.readable:
            try:
                made = prepare(source, chosen, engine=self.engine, images_in_request=count)
            except DataError as error:
                self.failures.append(_failure(index, source, error))
                continue
            yield from filler.add((index, made.to_block(), made.tokens))
        last = filler.close()
        if last is not None:
            yield last

    def result(self, requests: Sequence[PackedRequest]) -> Pack:
        """The Pack of these requests (the ones requests() yielded)."""
        chosen = self.options
        tokens = sum(r.tokens for r in requests)
        batch = dataclasses.replace(chosen, batch=True)
        return Pack(
            requests=tuple(requests),
            failures=tuple(sorted(self.failures, key=lambda f: f.index)),
            plan=self.plan.name,
            reason=self.reason,
            plans=self.plans,
            images=sum(len(r.images) for r in requests),
            tokens=tokens,
            cost_usd=chosen.cost(tokens),
            batch_cost_usd=batch.cost(tokens),
            options=chosen,
        )


def _sources_of(sources: Source | Iterable[Source]) -> list[Source]:
    """The images `sources` stands for (see the module docstring): a local
    directory walked, one image as a list of one, an iterable as its items."""
    from preflight._inputs.input import Input

    if isinstance(sources, (str, os.PathLike)):
        path = os.fspath(sources)
        if os.path.isdir(path):
            from pathlib import Path

            from preflight._inputs.walking import walk_files

            return [str(found) for found in walk_files(Path(path), every_file=False)]
        return [sources]
    if isinstance(sources, (bytes, bytearray, memoryview, Input)) or hasattr(sources, "read"):
        return [sources]  # type: ignore[list-item]  # a file object is a BinaryIO
    return list(sources)


def _name(index: int, source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else f"#{index}"


def _failure(index: int, source: Source, error: Exception) -> PackFailure:
    if isinstance(error, (HeaderError, SourceError)):
        finding = failure_finding(error)
    else:
        finding = Finding(CANNOT_PREPARE, ERROR, str(error), "replace or convert the image")
    return PackFailure(index, _name(index, source), finding)


def _readable(
    index: int, source: Source, failures: list[PackFailure]
) -> tuple[Source, tuple[int, int]] | None:
    """The source (a stream read into bytes, so it can be read twice) and
    its displayed size, or None with a failure recorded."""
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        try:
            source = open_input(source).whole()  # a stream, held: it is read twice
        except SourceError as error:
            failures.append(_failure(index, source, error))
            return None
    try:
        info = probe(source)
    except DataError as error:
        failures.append(_failure(index, source, error))
        return None
    size = info.still_size
    if size is None:
        failure = DecodeError(
            f"{info.format_label}: no size in its header", code="cannot-decode-format"
        )
        failures.append(_failure(index, source, failure))
        return None
    return source, size


def _plans(sizes: list[tuple[int, int]], options: Options) -> list[PackPlan]:
    """The plans worth comparing, sized by the pure core (one when there is
    no choice to make)."""
    tier, count = options.tier, TOKEN_COUNTERS[options.rule]
    n = len(sizes)
    cap = options.max_images or max(1, n)
    threshold = options.surface.many_images_threshold
    side = options.surface.many_images_max_side_px
    full = [target_size(w, h, "api", tier=tier) for w, h in sizes]
    full_tokens = sum(count(w, h) for w, h in full)
    only = [PackPlan(FULL_SIZE, cap, -(-n // cap), full_tokens)]
    if threshold is None or side is None or cap <= threshold or n <= threshold:
        return only
    boxed = [
        target_size(w, h, Target("box", box=(side, side)), tier=tier) if max(w, h) > side
        else (w, h)
        for w, h in full
    ]  # fmt: skip
    if boxed == full:
        return only
    return [
        PackPlan(FULL_SIZE, threshold, -(-n // threshold), full_tokens),
        PackPlan(DOWNSCALED, cap, -(-n // cap), sum(count(w, h) for w, h in boxed)),
    ]


def _choose(plans: list[PackPlan], prefer: str, options: Options) -> tuple[PackPlan, str]:
    threshold = options.surface.many_images_threshold
    side = options.surface.many_images_max_side_px
    if len(plans) == 1:
        plan = plans[0]
        return plan, (
            f"{plan.name}, up to {plan.per_request} a request: no choice to make (no image "
            "is over the many-image side limit at the size the API keeps, or the images "
            f"never make a request of more than {threshold}); {plan.tokens} image tokens"
        )
    full, down = plans
    facts = (
        f"full size: {full.requests} requests of up to {full.per_request}, {full.tokens} image "
        f"tokens; downscaled to {side} px: {down.requests} requests of up to {down.per_request}, "
        f"{down.tokens} image tokens"
    )
    if prefer == "detail":
        return full, f"full size, as asked (prefer='detail'): {facts}"
    if prefer == "requests":
        key = (down.requests, down.tokens) <= (full.requests, full.tokens)
        pick = down if key else full
        return pick, f"{pick.name}: fewer requests (prefer='requests'); {facts}"
    pick = down if (down.tokens, down.requests) <= (full.tokens, full.requests) else full
    return pick, (
        f"{pick.name}: fewer image tokens (prefer='tokens'; prefer='detail' keeps full "
        f"size); {facts}"
    )


def _json_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _body(model: str, max_tokens: int, content: list[TextBlock | ImageBlock]) -> MessagesBody:
    return {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": content}],
    }


def _content(blocks: list[ImageBlock], prompt: str | None) -> list[TextBlock | ImageBlock]:
    content: list[TextBlock | ImageBlock] = []
    for number, block in enumerate(blocks, start=1):
        if len(blocks) > 1:
            content.append(text_block(f"Image {number}:"))
        content.append(block)
    if prompt is not None:
        content.append(text_block(prompt))
    return content


class _Filler:
    """Next-fit, in order, under the count and the body limit. The size of
    a body grows by each block's compact JSON and a comma, so it is summed
    rather than serialized again for every image."""

    def __init__(
        self, per_request: int, prompt: str | None, max_tokens: int, options: Options
    ) -> None:
        self.per_request = per_request
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.options = options
        self.limit = options.max_request_bytes
        self.model = options.model.name
        self.empty = _json_size(_body(self.model, max_tokens, _content([], prompt)))
        self.current: list[tuple[int, ImageBlock, int]] = []
        self.size = self.empty

    def add(self, item: tuple[int, ImageBlock, int]) -> list[PackedRequest]:
        """Add one image; the requests now full: the one it did not fit in,
        and its own once it holds as many images as a request may."""
        number = len(self.current) + 1
        # label, image, and their commas (the label counted even for one image).
        grow = _json_size(text_block(f"Image {number}:")) + _json_size(item[1]) + 2
        closed = []
        over = self.limit is not None and self.size + grow > self.limit
        if self.current and (len(self.current) >= self.per_request or over):
            closed.append(self.close())
            grow = _json_size(text_block("Image 1:")) + _json_size(item[1]) + 2
        self.current.append(item)
        self.size += grow
        if len(self.current) >= self.per_request:  # full: no need to wait for the next
            closed.append(self.close())
        return [request for request in closed if request is not None]

    def close(self) -> PackedRequest | None:
        """The request being filled, if it holds any image; a new one begins."""
        group, self.current, self.size = self.current, [], self.empty
        if not group:
            return None
        content = _content([block for _, block, _ in group], self.prompt)
        body = _body(self.model, self.max_tokens, content)
        return PackedRequest(
            body=body,
            images=tuple(index for index, _, _ in group),
            tokens=sum(tokens for _, _, tokens in group),
            body_bytes=serialized_size(body),
            report=check_request(body, self.options),
        )
