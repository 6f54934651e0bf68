"""Cost planning over millions of sizes, vectorized with numpy.

Rules:
- the same answers as the scalar core (api_size, tokens, estimate), bit for
  bit: the resize search does the same float division and the same
  round-half-to-even (numpy.rint), and the tests compare the two;
- numpy is imported here only, so `import preflight` stays light;
- money is still exact: token totals are integers, priced once as Decimal;
- a size is searched once per plan: files of sizes repeat a few sizes
  millions of times, so plan keeps each size's answer in a memo (a hash
  table of arrays, _Memo) and answers a repeat with a lookup; the misses
  of many chunks are searched together, and the memo switches itself off
  on sizes that hardly repeat. The memo only ever returns the answer
  computed for that very size (the size is stored and compared), and the
  property tests run plan with it forced on, colliding and switching off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from preflight._core.geometry import (
    MAX_SIDE,
    TOKEN_COUNTERS,
    Size,
    Target,
    _tier_guess,
    array_math,
    fits_tier,
    guide_tokens,
    policy_predicate,
    resolve_target,
    search_long_edge,
)
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.rules import image_cap_exceeded, size_rejected
from preflight._core.tables import DEFAULT_OVERSIZED, DEFAULT_TOKEN_RULE, Tier, get_rule, get_tier
from preflight.errors import InvalidArgumentError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Unpack

    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Plan:
    """Per-size arrays and exact totals. `counts[i]` images share size i."""

    processed_width: IntArray
    processed_height: IntArray
    tokens: IntArray  # per image; 0 for a rejected image (it is not billed)
    resized: BoolArray
    rejected: BoolArray
    counts: IntArray
    images: int  # sum of counts
    images_resized: int
    images_rejected: int
    total_tokens: int
    total_cost_usd: Decimal | None  # None: the model has no published price
    model: str
    tier: str
    rule: str
    surface: str
    batch: bool
    oversized: str = DEFAULT_OVERSIZED
    price_note: str = ""


def _as_sizes(values: ArrayLike, name: str, minimum: int = 1) -> IntArray:
    """A one-dimensional int64 array of whole numbers in minimum..MAX_SIDE
    (the scalar core's bounds: check_size), or InvalidArgumentError (code invalid-size)."""
    return _sizes_and_largest(values, name, minimum)[0]


def _sizes_and_largest(values: ArrayLike, name: str, minimum: int = 1) -> tuple[IntArray, int]:
    """_as_sizes, and the largest value (0 for none): the check computes it anyway."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidArgumentError(f"{name} must be a one-dimensional array", code="invalid-size")
    if array.size == 0:
        return array.astype(np.int64), 0
    kind = array.dtype.kind
    if kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.rint(array)):
        if float(np.max(np.abs(array))) > MAX_SIDE:
            raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
        array = array.astype(np.int64)
    elif kind == "O":
        # Python ints (maybe past 64 bits): checked one by one, as the scalar core does.
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in array):
            raise InvalidArgumentError(f"{name} must hold whole numbers", code="invalid-size")
        if any(v > MAX_SIDE for v in array):
            raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
        array = array.astype(np.int64)
    elif kind not in "iu":
        raise InvalidArgumentError(f"{name} must hold whole numbers", code="invalid-size")
    largest = int(array.max())
    if largest > MAX_SIDE:
        raise InvalidArgumentError(f"every {name} must be at most 2**62", code="invalid-size")
    array = array.astype(np.int64, copy=False)
    if int(array.min()) < minimum:
        raise InvalidArgumentError(f"every {name} must be at least {minimum}", code="invalid-size")
    return array, largest


def api_sizes(
    widths: ArrayLike, heights: ArrayLike, tier: str | Tier = "standard"
) -> tuple[IntArray, IntArray]:
    """Vectorized api_size: the published resize algorithm over arrays."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    return _api_sizes(width, height, get_tier(tier))


def _api_sizes(width: IntArray, height: IntArray, tier: Tier) -> tuple[IntArray, IntArray]:
    import numpy as np

    out_w, out_h = np.empty_like(width), np.empty_like(height)
    for start in range(0, width.size, _CHUNK):
        stop = start + _CHUNK
        out_w[start:stop], out_h[start:stop], _ = _api_chunk(
            width[start:stop], height[start:stop], tier
        )
    return out_w, out_h


def _api_chunk(width: IntArray, height: IntArray, tier: Tier) -> tuple[Any, Any, BoolArray]:
    """api_size over one chunk: (processed width, height, resized). In
    chunks, the temporaries stay in the CPU caches instead of being fresh
    pages of hundreds of MB each; only the sizes that do not fit are searched."""
    import numpy as np

    resized = ~fits_tier(width, height, tier)
    todo = np.flatnonzero(resized)
    if todo.size == 0:
        return width, height, resized
    w, h = width[todo], height[todo]
    portrait = h > w
    long_side = np.where(portrait, h, w)
    short_side = np.where(portrait, w, h)
    m = array_math()
    aspect = long_side / short_side  # float, as the published algorithm divides
    guess = _tier_guess(long_side, aspect, tier, m)
    found_w, found_h = search_long_edge(
        long_side,
        short_side,
        portrait,
        lambda a, b: fits_tier(a, b, tier),
        tier.max_edge,
        m,
        guess,
        symmetric=True,
        aspect=aspect,
    )
    out_w, out_h = width.copy(), height.copy()
    out_w[todo], out_h[todo] = found_w, found_h
    return out_w, out_h, resized


_CHUNK = 1 << 14


def target_sizes(
    widths: ArrayLike,
    heights: ArrayLike,
    policy: str | Target = "api",
    *,
    tier: str | Tier = "standard",
    max_tokens: int | None = None,
    rule: str = "guide",
    box: Size | None = None,
) -> tuple[IntArray, IntArray]:
    """Vectorized target_size: the same policy predicate and the same search
    (geometry.search_long_edge), over arrays."""
    import numpy as np

    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    target = resolve_target(policy, max_tokens=max_tokens, rule=rule, box=box)
    resolved = get_tier(tier)
    if target.policy == "api":
        return _api_sizes(width, height, resolved)
    fits = policy_predicate(target, resolved)
    m = array_math()
    out_w, out_h = width.copy(), height.copy()
    for start in range(0, width.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        w, h = width[part], height[part]
        todo = np.flatnonzero(~fits(w, h))
        if todo.size == 0:
            continue
        w, h = w[todo], h[todo]
        portrait = h > w
        found_w, found_h = search_long_edge(
            np.where(portrait, h, w), np.where(portrait, w, h), portrait, fits, resolved.max_edge, m
        )
        out_w[start + todo], out_h[start + todo] = found_w, found_h
    return out_w, out_h


def token_counts(widths: ArrayLike, heights: ArrayLike, rule: str = DEFAULT_TOKEN_RULE) -> IntArray:
    """Vectorized tokens() on the given sizes (no resizing)."""
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    result: IntArray = TOKEN_COUNTERS[get_rule(rule)](width, height)
    return result


def plan(
    widths: ArrayLike,
    heights: ArrayLike,
    counts: ArrayLike | None = None,
    options: Options | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Plan:
    """estimate() for every (width, height) at once, with exact totals."""
    import numpy as np

    width, widest = _sizes_and_largest(widths, "widths")
    height, tallest = _sizes_and_largest(heights, "heights")
    if width.shape != height.shape:
        raise InvalidArgumentError(
            "widths and heights must have the same length", code="invalid-size"
        )
    if counts is None:
        # Read-only ones, allocated lazily by nobody: one image per size.
        count: IntArray = np.broadcast_to(np.int64(1), width.shape)
    else:
        count = _as_sizes(counts, "counts", minimum=0)
        if count.shape != width.shape:
            raise InvalidArgumentError("counts must be as long as widths", code="invalid-size")
    chosen = make_options(options, **keywords)
    tier = chosen.tier
    answer = _Answers(chosen)
    out_w, out_h = np.empty_like(width), np.empty_like(height)
    per_image: IntArray = np.empty_like(width)
    resized: BoolArray = np.empty(width.shape, dtype=bool)
    rejected: BoolArray = np.empty(width.shape, dtype=bool)
    # int64 per chunk is exact while count x tokens x chunk cannot reach 2**63.
    # (A processed size fits the tier, so it costs at most max_tokens.)
    max_tokens = max(tier.max_patch_tokens, guide_tokens(tier.max_edge, tier.max_edge))
    most = max(_CHUNK, _MEMO_CHUNK)  # sizes summed at once
    wide = bool(count.size) and int(count.max()) >= 2**63 // (max_tokens * most)
    memo = _Memo.for_plan(width.size, max(widest, tallest), max_tokens)
    totals = _Totals(wide)
    images = 0  # the sum of counts

    def settle(index: Any) -> None:
        """Answer the sizes at `index` (the memo's misses) and put them in place."""
        assert memo is not None
        for start in range(0, index.size, _CHUNK):
            at = index[start : start + _CHUNK]
            found = answer(width[at], height[at])
            out_w[at], out_h[at], per_image[at], resized[at], rejected[at] = found
            totals.add(found[2], found[3], found[4], None if counts is None else count[at])
            memo.store(width[at], height[at], found)

    # One pass, chunk by chunk: every temporary stays in the CPU caches.
    # (The memo's lookups take larger chunks: fewer, longer array operations.)
    start = 0
    while start < width.size:
        looking = memo is not None and memo.on
        stop = start + (_MEMO_CHUNK if looking else _CHUNK)
        part = slice(start, stop)
        w, h = width[part], height[part]
        if memo is not None and looking:
            found, missed = memo.lookup(w, h)  # a miss reads as zeros, settled later
            if missed.size:
                memo.pending.append(start + missed)
        else:
            found = answer(w, h)
        out_w[part], out_h[part], per_image[part], resized[part], rejected[part] = found
        c = None if counts is None else count[part]
        totals.add(per_image[part], resized[part], rejected[part], c)
        images += int(w.size) if c is None else int(c.sum())
        if memo is not None and memo.due(final=stop >= width.size):
            # The misses of many chunks at once: the search's hundred-odd
            # array operations then run on a full chunk, not a few sizes.
            settle(memo.take_pending())
        start = stop
    return Plan(
        processed_width=out_w,
        processed_height=out_h,
        tokens=per_image,
        resized=resized,
        rejected=rejected,
        counts=count,
        images=images,
        images_resized=totals.resized,
        images_rejected=totals.rejected,
        total_tokens=totals.tokens,
        total_cost_usd=chosen.cost(totals.tokens),
        model=chosen.model.name,
        tier=tier.name,
        rule=chosen.rule,
        surface=chosen.surface.name,
        batch=chosen.batch,
        oversized=chosen.oversized,
        price_note=chosen.price_note,
    )


Answers = tuple[Any, Any, Any, Any, Any]  # processed width, height, tokens, resized, rejected


class _Answers:
    """estimate() over one chunk of sizes, for one set of options: the
    processed size (the published resize search), the tokens billed (0 for
    a rejected image), resized, rejected."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tier = options.tier
        self.counter = TOKEN_COUNTERS[options.rule]
        self.all_rejected = image_cap_exceeded(options.images_in_request, options)

    def __call__(self, w: IntArray, h: IntArray) -> Answers:
        import numpy as np

        new_w, new_h, was_resized = _api_chunk(w, h, self.tier)
        refused = size_rejected(np.maximum(w, h), was_resized, self.options) | self.all_rejected
        refused = np.broadcast_to(refused, w.shape)
        billed = self.counter(new_w, new_h)
        np.putmask(billed, refused, 0)
        return new_w, new_h, billed, was_resized, refused


class _Memo:
    """The answers of sizes already seen, so a size that repeats is searched
    once: files of sizes repeat a few thousand sizes millions of times (a
    phone's photos are all 4032x3024). A direct-mapped table, by a
    multiplicative hash of the size: a lookup is a few array operations
    over the chunk instead of the resize search; a slot holds the last size
    that landed there, and the size is compared, so a collision is a miss,
    never a wrong answer. A memo that has not paid for itself after
    _MEMO_TRIAL sizes (sizes that hardly repeat) is switched off."""

    def __init__(self, bits: int) -> None:
        import numpy as np

        # key = width << 16 | height; 0 is no size (sides are at least 1).
        self.records: Any = np.zeros(1 << bits, dtype=_memo_record())
        self.shift = np.uint64(64 - bits)
        self.looked = self.hits = 0
        self.on = True
        self.pending: list[Any] = []  # positions of misses not yet answered

    @classmethod
    def for_plan(cls, sizes: int, largest_side: int, max_tokens: int) -> _Memo | None:
        """A memo for this many sizes, or None: too few to pay, or a side
        or a token count that does not pack into a record."""
        if sizes < _MEMO_FROM or largest_side >= _MEMO_SIDE or max_tokens >= 1 << 16:
            return None
        return cls(max(1, min(_MEMO_BITS, sizes.bit_length() + 1)))  # at most half full

    def slots(self, w: IntArray, h: IntArray) -> tuple[Any, Any]:
        import numpy as np

        key = (w << 16) | h
        # Fibonacci hashing: the top bits of key * 2**64/phi (wrapping);
        # under 2**bits, so the int64 view is the same number.
        return key, ((key * _GOLDEN).view(np.uint64) >> self.shift).view(np.int64)

    def lookup(self, w: IntArray, h: IntArray) -> tuple[Answers, Any]:
        """The answers held for these sizes, and where none is held (those
        read as zeros: processed 0x0, 0 tokens, neither resized nor rejected)."""
        import numpy as np

        key, slot = self.slots(w, h)
        found = self.records.take(slot)
        missed = np.flatnonzero(found["key"] != key)
        if missed.size:
            found[missed] = 0
        self.looked += key.size
        self.hits += key.size - missed.size
        if self.looked >= _MEMO_TRIAL and self.hits < self.looked * _MEMO_MIN_HIT_RATE:
            self.on = False  # sizes that hardly repeat: the plain pass is faster
        answers = (found["width"], found["height"], found["tokens"])
        return (*answers, found["resized"], found["rejected"]), missed

    def store(self, w: IntArray, h: IntArray, found: Answers) -> None:
        import numpy as np

        key, slot = self.slots(w, h)
        fresh = np.empty(key.size, dtype=self.records.dtype)
        fresh["key"] = key
        fresh["width"], fresh["height"], fresh["tokens"], fresh["resized"], fresh["rejected"] = (
            found
        )
        self.records[slot] = fresh  # of two sizes in one slot, one stays

    def due(self, final: bool) -> bool:
        """Whether to settle the misses now: a chunk's worth, or the end."""
        waiting = sum(p.size for p in self.pending)
        return bool(waiting) and (final or waiting >= _CHUNK or not self.on)

    def take_pending(self) -> Any:
        import numpy as np

        index = np.concatenate(self.pending)
        self.pending = []
        return index


class _Totals:
    """Exact totals, added up chunk by chunk (int64 within a chunk while
    count x tokens x chunk cannot reach 2**63; Python ints past that)."""

    def __init__(self, wide: bool) -> None:
        self.wide = wide
        self.tokens = self.resized = self.rejected = 0

    def add(self, billed: Any, resized: Any, rejected: Any, counts: Any) -> None:
        import numpy as np

        if counts is None:
            self.tokens += int(billed.sum())
            self.resized += int(np.count_nonzero(resized))
            self.rejected += int(np.count_nonzero(rejected))
            return
        if self.wide:  # exact Python ints, slower
            counts = counts.astype(object)
            billed = billed.astype(object)
            self.tokens += int((billed * counts).sum())
            self.resized += int(counts[resized].sum())
            self.rejected += int(counts[rejected].sum())
            return
        # int64 throughout (the caller keeps it exact): no temporary arrays.
        self.tokens += int(np.dot(billed, counts))
        self.resized += int(counts.sum(where=resized))
        self.rejected += int(counts.sum(where=rejected))


def _memo_record() -> Any:
    import numpy as np

    # 16 bytes: key and answer share a cache line. Sides under 2**16, tokens
    # under 2**16 (for_plan checks both).
    return np.dtype(
        [
            ("key", np.int64),
            ("width", np.uint16),
            ("height", np.uint16),
            ("tokens", np.uint16),
            ("resized", np.bool_),
            ("rejected", np.bool_),
        ]
    )


_MEMO_FROM = 1 << 19  # fewer sizes: too few repeats to pay for the misses (bench_core)
_MEMO_CHUNK = 1 << 16
_MEMO_BITS = 20  # 2**20 slots of 16 bytes: 16 MiB, touched only where used
_MEMO_SIDE = 1 << 16
_MEMO_TRIAL = 1 << 20
_MEMO_MIN_HIT_RATE = 0.25
_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 (2**64 / phi) as an int64
