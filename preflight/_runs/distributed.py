"""check, prepare and estimate-from-sizes on an existing Dask distributed cluster.

See docs/remote.md.

Rules:
- dask is an optional extra (`dask`), imported inside the functions here;
  nothing of it loads at `import preflight`;
- partitions of sources (paths or URLs) go to the workers, which run the
  same inspect / prepare / plan as one process does: every answer equals
  the single-process one, and comes back in input order (a bag keeps its
  partitions' order; futures are gathered in the order submitted);
- totals are exact: ints and Decimals, summed per partition on the
  workers and across partitions here, never as floats;
- a bad file is a finding (check) or an error entry (prepare), made on the
  worker: no task fails for the data; the caller's mistakes (bad options)
  raise here, before anything is sent;
- what crosses the wire pickles: frozen dataclasses, dicts, ints,
  Decimals, numpy arrays, and module-level functions by reference;
- prepare names its outputs here, in input order (the workers hold the
  encoded bytes meanwhile), so names never depend on which worker ends first.
"""

from __future__ import annotations

import os
import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight._core.cost import exact_cost, total_cost
from preflight._core.findings import WARNING
from preflight._core.geometry import Target, parse_target
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._imaging.inspection import Report, inspect
from preflight._imaging.preparation import DEFAULT_PIXEL_CAP, PreparedImage, prepare
from preflight._inputs.remote import RemoteFile, is_url, walk_url
from preflight.errors import (
    DataError,
    EngineError,
    InvalidArgumentError,
    MissingExtraError,
    PreflightError,
)

# dask's own annotations are partial: its objects are Any here.
Bag = Any  # dask.bag.Bag
DataFrame = Any  # dask.dataframe.DataFrame
Client = Any  # distributed.Client

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from typing_extensions import Unpack

    from preflight._core.planning import Plan

# Files per partition: inspect takes tens of microseconds a file, so a
# partition must be large for the task overhead (about a millisecond) not to
# dominate; prepare takes milliseconds to seconds a file.
CHECK_PARTITION = 512
PREPARE_PARTITION = 8
PLAN_PARTITION = 1 << 20
# How long connect() tries to reach a scheduler.
CONNECT_TIMEOUT = "30s"
# The manifest the CLI writes under --out: never an output's name.
MANIFEST_NAME = "preflight-manifest.jsonl"

Item = str | RemoteFile


def _dask() -> Any:
    try:
        import dask.bag  # noqa: F401  (the bags need it)
        import distributed
    except ImportError:
        raise MissingExtraError(
            "running on a Dask cluster needs dask: pip install 'preflight[dask]'"
        ) from None
    return distributed


def _dask_bag() -> Any:
    _dask()
    import dask.bag

    return dask.bag


@contextmanager
def connect(scheduler: str | Client) -> Iterator[Client]:
    """A Client for `scheduler`: an address (tcp://host:8786) or a Client
    (used as it is, and left open). A client made here is closed after.
    The workers must run this preflight: a worker that cannot is an
    EngineError (code cluster-failed)."""
    distributed = _dask()
    if isinstance(scheduler, distributed.Client):
        _check_workers(scheduler)
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidArgumentError(
            f"scheduler must be an address (tcp://host:8786) or a Client, got {scheduler!r}"
        )
    try:
        client = distributed.Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise EngineError(
            f"{scheduler}: cannot reach the Dask scheduler ({error})", code="cluster-failed"
        ) from None
    try:
        _check_workers(client)
        yield client
    finally:
        client.close()


def _worker_version() -> str:
    from preflight._version import __version__

    return __version__


def _check_workers(client: Client) -> None:
    from preflight._version import __version__

    try:
        found: dict[str, str] = client.run(_worker_version)
    except Exception as error:  # unpickling on the worker: preflight missing there
        raise EngineError(
            f"the Dask workers cannot run preflight ({type(error).__name__}: {error}): "
            "install this preflight on every worker",
            code="cluster-failed",
        ) from None
    if not found:
        raise EngineError("the Dask cluster has no workers", code="cluster-failed")
    other = {worker: v for worker, v in found.items() if v != __version__}
    if other:
        worker, version = sorted(other.items())[0]
        raise EngineError(
            f"worker {worker} runs preflight {version}, this is {__version__}: "
            "install the same version everywhere",
            code="cluster-failed",
        )


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _partition_size(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be a whole number of at least 1, got {value!r}")
    return value


# --- check ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckTotals:
    """check's summary, exactly: the accepted images' tokens and cost."""

    files: int = 0
    rejected: int = 0
    warned: int = 0  # accepted, with a warning
    tokens: int = 0  # of the accepted images
    cost_usd: Decimal | None = Decimal(0)  # None when a model has no price

    @property
    def clean(self) -> int:
        return self.files - self.rejected - self.warned

    def __add__(self, other: CheckTotals) -> CheckTotals:
        return CheckTotals(
            self.files + other.files,
            self.rejected + other.rejected,
            self.warned + other.warned,
            self.tokens + other.tokens,
            total_cost([self.cost_usd, other.cost_usd]),
        )

    @classmethod
    def of(cls, reports: Iterable[Report]) -> CheckTotals:
        files = rejected = warned = tokens = 0
        costs: list[Decimal | None] = []
        for report in reports:
            files += 1
            if report.rejected:
                rejected += 1
                continue
            warned += any(f.severity == WARNING for f in report.findings)
            if report.estimate is not None:
                tokens += report.estimate.tokens
                costs.append(report.estimate.cost_usd)
        return cls(files, rejected, warned, tokens, total_cost(costs))

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "rejected": self.rejected,
            "warned": self.warned,
            "clean": self.clean,
            "tokens": self.tokens,
            "cost_usd": exact_cost(self.cost_usd),
        }


def _sum_totals(parts: Iterable[CheckTotals]) -> CheckTotals:
    total = CheckTotals()
    for part in parts:
        total = total + part
    return total


@dataclass(frozen=True)
class CheckResult:
    reports: tuple[Report, ...]  # in input order
    totals: CheckTotals


def _inspect_partition(
    items: Iterable[Item], options: Options, declared_media_type: str | None, decode: bool
) -> list[Report]:
    from preflight._imaging.inspection import inspect_url

    reports = []
    for item in items:
        if isinstance(item, RemoteFile):
            reports.append(
                inspect_url(
                    item.url,
                    options,
                    size=item.size,
                    declared_media_type=declared_media_type,
                    decode=decode,
                )
            )
        else:
            reports.append(
                inspect(item, options, declared_media_type=declared_media_type, decode=decode)
            )
    return reports


def _items(sources: Iterable[Item]) -> list[Item]:
    items = list(sources)
    for item in items:
        if not isinstance(item, (str, RemoteFile)):
            raise InvalidArgumentError(
                f"sources must be paths, URLs or RemoteFiles, got {type(item).__name__}"
            )
    return items


def reports_bag(
    sources: Iterable[Item],
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    decode: bool = False,
    partition_size: int = CHECK_PARTITION,
    **keywords: Unpack[OptionKeywords],
) -> Bag:
    """A dask bag of inspect() Reports, one per source, in order: for users
    who go on in Dask (computed by their default scheduler or Client).
    `sources`: local paths (readable by the workers), URLs, or the
    RemoteFiles of remote.walk_url (their listed sizes save a request each)."""
    db = _dask_bag()
    chosen = make_options(options, **keywords)
    if not isinstance(decode, bool):
        raise InvalidArgumentError(f"decode must be True or False, got {decode!r}")
    items = _items(sources)
    size = _partition_size(partition_size, "partition_size")
    bag = (
        db.from_sequence(items, partition_size=size)
        if items
        else db.from_sequence([], npartitions=1)
    )
    return bag.map_partitions(_inspect_partition, chosen, declared_media_type, decode)


def totals_of(bag: Bag) -> Any:
    """A dask Item: the exact CheckTotals of a bag of Reports, summed per
    partition on the workers."""
    return bag.reduction(CheckTotals.of, _sum_totals)


# The report rows of reports_frame, and their dtypes (nullable integers:
# a file that cannot be read has no size).
FRAME_COLUMNS = {
    "path": "string",
    "format": "string",
    "width": "Int64",
    "height": "Int64",
    "processed_width": "Int64",
    "processed_height": "Int64",
    "tokens": "Int64",
    "cost_usd": "string",  # exact decimal text: a float would round it
    "rejected": "bool",
    "findings": "string",  # the finding codes, comma separated
}


def report_row(report: Report) -> dict[str, object]:
    """One row of reports_frame: Report.to_dict()'s columns, the findings as
    their codes."""
    row = report.to_dict()
    row["findings"] = ",".join(f.code for f in report.findings)
    return {column: row[column] for column in FRAME_COLUMNS}


def reports_frame(
    sources: Iterable[Item],
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    decode: bool = False,
    partition_size: int = CHECK_PARTITION,
    **keywords: Unpack[OptionKeywords],
) -> DataFrame:
    """A dask dataframe of report rows (FRAME_COLUMNS), one per source, in order."""
    import pandas as pd

    bag = reports_bag(
        sources,
        options,
        declared_media_type=declared_media_type,
        decode=decode,
        partition_size=partition_size,
        **keywords,
    )
    meta = pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in FRAME_COLUMNS.items()})
    return bag.map(report_row).to_dataframe(meta=meta)


def check_on_cluster(
    sources: Iterable[Item],
    scheduler: str | Client,
    options: Options | None = None,
    *,
    declared_media_type: str | None = None,
    decode: bool = False,
    partition_size: int = CHECK_PARTITION,
    **keywords: Unpack[OptionKeywords],
) -> CheckResult:
    """inspect() every source on the cluster at `scheduler` (an address or a
    Client): the Reports in input order, and their exact totals."""
    bag = reports_bag(
        sources,
        options,
        declared_media_type=declared_media_type,
        decode=decode,
        partition_size=partition_size,
        **keywords,
    )
    with connect(scheduler) as client:
        # One graph: the totals are summed from the same partitions' reports.
        reports, totals = client.gather(client.compute([bag, totals_of(bag)]))
    return CheckResult(tuple(reports), totals)


# --- prepare ----------------------------------------------------------------------


@dataclass(frozen=True)
class PrepareJob:
    """One source and its path under the output root (where its output goes,
    before the extension is set)."""

    source: str  # a local path or a URL
    relative: str  # '/'-separated
    size: int | None = None  # from a listing


def prepare_jobs(
    paths: Iterable[str], *, every_file: bool = False, out: str | None = None
) -> list[PrepareJob]:
    """The jobs for `paths`, as the CLI's prepare takes them: each directory
    or URL prefix walked (its files relative to it), each file on its own
    (its name); the output root `out` is left out of the walk when inside."""
    from preflight._inputs.walking import file_id, walk_files

    jobs: list[PrepareJob] = []
    local_out = None if out is None or is_url(out) else file_id(out)
    url_out = out.rstrip("/") + "/" if out is not None and is_url(out) else None
    for text in paths:
        if is_url(text):
            for found in walk_url(text, every_file=every_file):
                if url_out is None or not found.url.startswith(url_out):
                    jobs.append(PrepareJob(found.url, found.relative, found.size))
        elif os.path.isdir(text):
            root = Path(text)
            for path in walk_files(root, every_file, local_out):
                jobs.append(PrepareJob(str(path), path.relative_to(root).as_posix()))
        else:
            jobs.append(PrepareJob(text, Path(text).name or "stdin"))
    return jobs


@dataclass(frozen=True)
class PrepareTotals:
    """prepare's summary, exactly (the CLI's manifest summary)."""

    files: int = 0
    prepared: int = 0
    unchanged: int = 0
    failed: int = 0
    priced: int = 0  # prepared images the API accepted as they were
    bytes_before: int = 0
    bytes_after: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    cost_before: Decimal | None = Decimal(0)
    cost_after: Decimal | None = Decimal(0)

    def __add__(self, other: PrepareTotals) -> PrepareTotals:
        return PrepareTotals(
            self.files + other.files,
            self.prepared + other.prepared,
            self.unchanged + other.unchanged,
            self.failed + other.failed,
            self.priced + other.priced,
            self.bytes_before + other.bytes_before,
            self.bytes_after + other.bytes_after,
            self.tokens_before + other.tokens_before,
            self.tokens_after + other.tokens_after,
            total_cost([self.cost_before, other.cost_before]),
            total_cost([self.cost_after, other.cost_after]),
        )

    @classmethod
    def of(cls, result: PreparedImage) -> PrepareTotals:
        """One prepared image's share (the CLI's Totals.add)."""
        before = result.source_estimate
        return cls(
            files=1,
            prepared=1,
            unchanged=int(result.passed_through),
            priced=int(before is not None),
            bytes_before=result.source.file_bytes,
            bytes_after=len(result.data),
            tokens_before=before.tokens if before else 0,
            tokens_after=result.tokens if before else 0,
            cost_before=before.cost_usd if before else Decimal(0),
            cost_after=result.cost_usd if before else Decimal(0),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "prepared": self.prepared,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "cost_before_usd": exact_cost(self.cost_before),
            "cost_after_usd": exact_cost(self.cost_after),
        }


_FAILED = PrepareTotals(files=1, failed=1)


def manifest_entry(source: str, result: PreparedImage, destination: str) -> dict[str, object]:
    """A manifest line for a prepared image (the keys of the CLI's manifest)."""
    return {"source": source, **result.manifest_fields(destination)}


def error_entry(source: str, error: PreflightError) -> dict[str, object]:
    """A manifest line for a source that could not be prepared."""
    return {
        "source": source,
        "status": "error",
        "error": {"code": error.code, "message": str(error)},
    }


@dataclass(frozen=True)
class _Settings:
    options: Options
    target: Target
    format: str
    quality: int | None
    engine: str | None
    pixel_cap: int


def _prepare_partition(
    jobs: list[PrepareJob], settings: _Settings
) -> list[PreparedImage | dict[str, object]]:
    """Each job's PreparedImage (held on the worker until named), or its
    error entry."""
    held: list[PreparedImage | dict[str, object]] = []
    for job in jobs:
        try:
            held.append(
                prepare(
                    job.source,
                    settings.options,
                    target=settings.target,
                    format=settings.format,
                    quality=settings.quality,
                    engine=settings.engine,
                    pixel_cap=settings.pixel_cap,
                )
            )
        except PreflightError as error:
            held.append(error_entry(job.source, error))
    return held


def _extensions(held: list[PreparedImage | dict[str, object]]) -> list[str | None]:
    return [r.extension if isinstance(r, PreparedImage) else None for r in held]


def _save_partition(
    held: list[PreparedImage | dict[str, object]],
    jobs: list[PrepareJob],
    destinations: list[str | None],
) -> list[tuple[dict[str, object], PrepareTotals]]:
    done: list[tuple[dict[str, object], PrepareTotals]] = []
    for result, job, destination in zip(held, jobs, destinations, strict=True):
        if not isinstance(result, PreparedImage):
            done.append((result, _FAILED))
            continue
        assert destination is not None
        try:
            result.save(destination)
        except PreflightError as error:
            done.append((error_entry(job.source, error), _FAILED))
            continue
        done.append((manifest_entry(job.source, result, destination), PrepareTotals.of(result)))
    return done


class OutputNames:
    """Unique output names under `out` (a folder or a URL), claimed in input
    order: the source's relative path with the output's extension; then the
    whole name with the extension added; then name-2, name-3... Never the
    manifest's name, never an input's (case-folded: on a case-insensitive
    disk A.jpg and a.jpg are one file)."""

    def __init__(self, out: str, inputs: Iterable[str]) -> None:
        self.out = out
        self.remote = is_url(out)
        self.inputs = {self._key(source) for source in inputs}
        self.taken = {self._key(self._join(MANIFEST_NAME))}

    def _join(self, relative: str) -> str:
        if self.remote:
            return f"{self.out.rstrip('/')}/{relative}"
        return str(Path(self.out, *relative.split("/")))

    def _key(self, where: str) -> str:
        return (where if is_url(where) else os.path.abspath(where)).casefold()

    def claim(self, job: PrepareJob, extension: str) -> str:
        folder, name = posixpath.split(job.relative)
        stem, suffix = posixpath.splitext(name)
        stem = stem or name
        names = [stem + extension]
        if suffix.lower() != extension:
            names.append(name + extension)
        names += [f"{stem}-{n}{extension}" for n in range(2, 10_000)]
        for candidate in names:
            destination = self._join(posixpath.join(folder, candidate))
            key = self._key(destination)
            if key in self.taken:
                continue
            if key in self.inputs:
                which = "the source image" if key == self._key(job.source) else "another input"
                raise InvalidArgumentError(
                    f"{destination}: refusing to overwrite {which}", code="bad-output-path"
                )
            self.taken.add(key)
            return destination
        raise InvalidArgumentError(
            f"{self._join(job.relative)}: no free output name", code="bad-output-path"
        )


@dataclass(frozen=True)
class PrepareResult:
    entries: tuple[dict[str, object], ...]  # manifest entries, in input order
    totals: PrepareTotals = field(default_factory=PrepareTotals)


def iter_prepare_on_cluster(
    jobs: Sequence[PrepareJob],
    out: str,
    scheduler: str | Client,
    options: Options | None = None,
    *,
    target: str | Target = "api",
    format: str = "auto",
    quality: int | None = None,
    engine: str | None = None,
    pixel_cap: int = DEFAULT_PIXEL_CAP,
    partition_size: int = PREPARE_PARTITION,
    window: int | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Iterator[tuple[dict[str, object], PrepareTotals]]:
    """prepare() every job on the cluster, its output written under `out` (a
    folder the workers can write, or a URL) by the worker that made it: for
    each job in input order, its manifest entry and its share of the totals.
    `window` partitions are in flight at a time (default: 4 a worker): the
    workers hold their encoded outputs until the names are claimed."""
    chosen = make_options(options, **keywords)
    settings = _Settings(chosen, parse_target(target), format, quality, engine, pixel_cap)
    # The caller's mistakes raise here, before anything is sent: prepare()
    # checks every argument (a UsageError) before it reads its source, so an
    # empty source checks them with prepare's own rules, then fails as data.
    with suppress(DataError):
        prepare(
            b"",
            chosen,
            target=settings.target,
            format=format,
            quality=quality,
            engine=engine,
            pixel_cap=pixel_cap,
        )
    if not isinstance(out, str):
        raise InvalidArgumentError(f"out must be a folder or a URL, got {out!r}")
    todo = list(jobs)
    for job in todo:
        if not isinstance(job, PrepareJob):
            raise InvalidArgumentError(f"jobs must be PrepareJobs, got {type(job).__name__}")
    size = _partition_size(partition_size, "partition_size")
    names = OutputNames(out, (job.source for job in todo))
    partitions = _chunks(todo, size)
    with connect(scheduler) as client:
        span = window or 4 * max(1, len(client.scheduler_info().get("workers", {})))
        _partition_size(span, "window")

        def launch(index: int) -> tuple[Any, Any]:
            held = client.submit(_prepare_partition, partitions[index], settings, pure=False)
            return held, client.submit(_extensions, held, pure=False)

        # A pipeline, partition by partition in input order: up to `span`
        # partitions are being prepared while earlier ones are named and saved.
        flight = deque(launch(i) for i in range(min(span, len(partitions))))
        saving: deque[Any] = deque()
        for index, part in enumerate(partitions):
            held, extensions = flight.popleft()
            where = [
                None if ext is None else names.claim(job, ext)
                for job, ext in zip(part, extensions.result(), strict=True)
            ]
            saving.append(client.submit(_save_partition, held, part, where, pure=False))
            del held, extensions  # the workers drop the encoded outputs once saved
            if index + span < len(partitions):
                flight.append(launch(index + span))
            while saving and (len(saving) > span or saving[0].done()):
                yield from saving.popleft().result()
        while saving:
            yield from saving.popleft().result()


def prepare_on_cluster(
    jobs: Sequence[PrepareJob],
    out: str,
    scheduler: str | Client,
    options: Options | None = None,
    *,
    target: str | Target = "api",
    format: str = "auto",
    quality: int | None = None,
    engine: str | None = None,
    pixel_cap: int = DEFAULT_PIXEL_CAP,
    partition_size: int = PREPARE_PARTITION,
    window: int | None = None,
    **keywords: Unpack[OptionKeywords],
) -> PrepareResult:
    """iter_prepare_on_cluster, collected: the entries in input order and
    the exact totals."""
    entries: list[dict[str, object]] = []
    totals = PrepareTotals()
    for entry, share in iter_prepare_on_cluster(
        jobs,
        out,
        scheduler,
        options,
        target=target,
        format=format,
        quality=quality,
        engine=engine,
        pixel_cap=pixel_cap,
        partition_size=partition_size,
        window=window,
        **keywords,
    ):
        entries.append(entry)
        totals = totals + share
    return PrepareResult(tuple(entries), totals)


# --- estimate from sizes --------------------------------------------------------


def _plan_partition(widths: Any, heights: Any, counts: Any, options: Options) -> Plan:
    from preflight._core.planning import plan

    return plan(widths, heights, counts, options)


def plan_on_cluster(
    widths: ArrayLike,
    heights: ArrayLike,
    counts: ArrayLike | None = None,
    *,
    scheduler: str | Client,
    options: Options | None = None,
    partition_size: int = PLAN_PARTITION,
    **keywords: Unpack[OptionKeywords],
) -> Plan:
    """plan() over partitions of the arrays on the cluster: the same Plan,
    with its arrays in order and its totals summed exactly (the cost priced
    once, from the total tokens, as plan() does)."""
    import numpy as np

    from preflight._core.planning import Plan, _as_sizes, plan

    chosen = make_options(options, **keywords)
    width = _as_sizes(widths, "widths")
    height = _as_sizes(heights, "heights")
    count = np.ones_like(width) if counts is None else _as_sizes(counts, "counts", minimum=0)
    if width.shape != height.shape or count.shape != width.shape:
        plan(width, height, count, chosen)  # raises, with plan's own words
    size = _partition_size(partition_size, "partition_size")
    if width.size == 0:
        return plan(width, height, count, chosen)
    with connect(scheduler) as client:
        parts = [
            # hash=False: the same arrays scattered by an earlier call get the
            # same key, which the scheduler may still be releasing ("lost
            # dependencies" on the second of two identical plans).
            client.scatter(
                (width[s : s + size], height[s : s + size], count[s : s + size]), hash=False
            )
            for s in range(0, width.size, size)
        ]
        futures = [client.submit(_plan_from, part, chosen, pure=False) for part in parts]
        plans: list[Plan] = client.gather(futures)
    first = plans[0]
    total_tokens = sum(p.total_tokens for p in plans)
    return Plan(
        processed_width=np.concatenate([p.processed_width for p in plans]),
        processed_height=np.concatenate([p.processed_height for p in plans]),
        tokens=np.concatenate([p.tokens for p in plans]),
        resized=np.concatenate([p.resized for p in plans]),
        rejected=np.concatenate([p.rejected for p in plans]),
        counts=np.concatenate([p.counts for p in plans]),
        images=sum(p.images for p in plans),
        images_resized=sum(p.images_resized for p in plans),
        images_rejected=sum(p.images_rejected for p in plans),
        total_tokens=total_tokens,
        total_cost_usd=chosen.cost(total_tokens),
        model=first.model,
        tier=first.tier,
        rule=first.rule,
        surface=first.surface,
        batch=first.batch,
        oversized=first.oversized,
        price_note=first.price_note,
    )


def _plan_from(part: tuple[Any, Any, Any], options: Options) -> Plan:
    return _plan_partition(part[0], part[1], part[2], options)


def ordered_map_on_cluster(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    scheduler: str | Client,
    *,
    window: int = 64,
) -> Iterator[Any]:
    """function(item) for every item on the cluster, yielded in input order
    as they finish, with at most `window` items in flight (the command
    line's --scheduler for work with no runner of its own, such as prepare's
    tiles or quality checks). An exception in a task is returned as the
    item's result, as parallel.ordered_map(return_exceptions=True) does."""
    from collections import deque

    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InvalidArgumentError(f"window must be a whole number of at least 1, got {window!r}")
    with connect(scheduler) as client:
        pending: deque[Any] = deque()
        it = iter(items)
        for item in it:
            pending.append(client.submit(_returning_errors, function, item, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _returning_errors(function: Callable[[Any], Any], item: Any) -> Any:
    try:
        return function(item)
    except Exception as error:
        return error
