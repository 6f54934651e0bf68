"""check, prepare and estimate-from-sizes on an existing Dask distributed cluster.

See docs/remote.md.

Rules:
- dask is an optional extra (`dask`), imported inside the functions here;
  nothing of it loads at `import preflight`;
- partitions of sources (paths or URLs) go to the workers, which run the
  batch engine's units of work (preflight._runs.batch: check_one, make,
  write_made) and plan, as one process does: every answer equals the
  single-process one, and comes back in input order (a bag keeps its
  partitions' order; futures are gathered in the order submitted);
- the Options and the settings (CheckSettings, PrepareSettings) are
  validated here, once, and travel to the workers whole;
- totals are exact: ints and Decimals, summed per partition on the
  workers and across partitions here, never as floats;
- a bad file is a finding (check) or an error entry (prepare), made on the
  worker: no task fails for the data; the caller's mistakes (bad options)
  raise here, before anything is sent;
- what crosses the wire pickles: frozen dataclasses, dicts, ints,
  Decimals, numpy arrays, and module-level functions by reference;
- prepare names its outputs here, in input order, with the batch engine's
  OutputNames (the workers hold the encoded bytes meanwhile), so names
  never depend on which worker ends first;
- an address that leads to no scheduler fails fast, before a Client is
  made: one InvalidArgumentError (the caller's to fix; exit 2 on the
  command line) within about CONNECT_PROBE_SECONDS, for a malformed
  address, a missing port, a host that does not resolve, a port nothing
  listens on or one that does not answer. (A Client given an address
  without a scheduler retries for its whole timeout, and one whose start
  failed took a minute more to close at exit, printing a traceback.)
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from preflight._core.findings import ERROR, Finding
from preflight._core.options import OptionKeywords, Options, make_options
from preflight._core.settings import CheckSettings, PrepareSettings, check_call, prepare_call
from preflight._imaging.inspection import Report
from preflight._imaging.preparation import PreparedImage
from preflight._inputs.remote import RemoteFile
from preflight._runs.batch import (
    FAILED,
    Made,
    check_one,
    error_entry,
    image_entry,
    make,
    write_made,
)
from preflight._runs.batch import CheckTotals as CheckTotals
from preflight._runs.batch import Item as Item
from preflight._runs.batch import OutputNames as OutputNames
from preflight._runs.batch import PrepareJob as PrepareJob
from preflight._runs.batch import PrepareTotals as PrepareTotals
from preflight._runs.batch import check_many as check_many
from preflight._runs.batch import prepare_jobs as prepare_jobs
from preflight._runs.batch import sum_check_totals as sum_check_totals
from preflight._runs.resume import MANIFEST_NAME as MANIFEST_NAME
from preflight.errors import (
    EngineError,
    InvalidArgumentError,
    MissingExtraError,
    PreflightError,
)

# The code of a source whose cluster worker died under it (an EngineError's).
WORKER_CRASHED = "worker-crashed"

# dask's own annotations are partial: its objects are Any here.
Bag = Any  # dask.bag.Bag
DataFrame = Any  # dask.dataframe.DataFrame
Client = Any  # distributed.Client

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from typing_extensions import Unpack

    from preflight._core.planning import Plan
    from preflight._imaging.inspection import InspectKeywords
    from preflight._imaging.preparation import PrepareCallKeywords

# Files per partition: inspect takes tens of microseconds a file, so a
# partition must be large for the task overhead (about a millisecond) not to
# dominate; prepare takes milliseconds to seconds a file.
CHECK_PARTITION = 512
PREPARE_PARTITION = 8
PLAN_PARTITION = 1 << 20
# How long connect() tries to reach a scheduler: first a plain TCP
# connection to its host and port (nothing listening, a firewall that drops
# packets: an error within this many seconds), then Dask's own handshake.
CONNECT_PROBE_SECONDS = 3.0
CONNECT_TIMEOUT = "30s"
# A Dask scheduler's default port (what `dask scheduler` listens on).
DEFAULT_SCHEDULER_PORT = 8786


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
    An address that leads to no scheduler is an InvalidArgumentError, within
    about CONNECT_PROBE_SECONDS (module docstring). The workers must run
    this preflight: a worker that cannot is an EngineError (code
    cluster-failed)."""
    distributed = _dask()
    if isinstance(scheduler, distributed.Client):
        _check_workers(scheduler)
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidArgumentError(
            f"scheduler must be an address (tcp://host:8786) or a Client, got {scheduler!r}"
        )
    _probe(scheduler.strip())
    # Made in two steps so that a start that fails can be closed here: left
    # to the garbage collector, its close waited a minute at exit.
    client = distributed.Client.__new__(distributed.Client)
    try:
        client.__init__(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        with suppress(Exception):
            client.close(timeout=1)
        raise InvalidArgumentError(
            f"{scheduler}: no Dask scheduler answered there ({error})"
        ) from None
    try:
        _check_workers(client)
        yield client
    finally:
        client.close()


def _probe(address: str) -> None:
    """Fail fast when `address` leads to no scheduler (module docstring):
    its form, then a TCP connection to its host and port, bounded by
    CONNECT_PROBE_SECONDS. Addresses that are not host and port (inproc://,
    ucx://) are left to Dask."""
    from distributed.comm.addressing import get_address_host_port, parse_address

    try:
        scheme, location = parse_address(address)
    except ValueError as error:
        raise InvalidArgumentError(f"{address}: not a scheduler address ({error})") from None
    if scheme not in ("tcp", "tls", "ws", "wss"):
        if scheme in ("inproc", "ucx"):
            return
        raise InvalidArgumentError(
            f"{address}: not a scheduler address (scheme {scheme}://; a Dask scheduler is at "
            f"tcp://HOST:{DEFAULT_SCHEDULER_PORT})"
        )
    try:
        host, port = get_address_host_port(address)
    except ValueError:
        raise InvalidArgumentError(
            f"{address}: no port in the scheduler address; a Dask scheduler listens on "
            f"{DEFAULT_SCHEDULER_PORT} unless told otherwise: did you mean "
            f"{scheme}://{location}:{DEFAULT_SCHEDULER_PORT}?"
        ) from None
    try:
        with socket.create_connection((host, port), timeout=CONNECT_PROBE_SECONDS) as probe:
            # A Dask scheduler speaks first: it sends its handshake as it
            # accepts (distributed.comm.core). Something else on the port (a
            # web server, a silent listener) says nothing, and a Client would
            # wait on it forever (its handshake read has no timeout). Over
            # TLS or websockets the client speaks first: not asked there.
            if scheme == "tcp" and not probe.recv(1):
                raise ConnectionResetError("closed at once")
    except socket.gaierror as error:
        raise InvalidArgumentError(
            f"{address}: cannot reach a Dask scheduler: host {host!r} is not known "
            f"({error.strerror or error})"
        ) from None
    except TimeoutError:
        raise InvalidArgumentError(
            f"{address}: cannot reach a Dask scheduler: no answer from {host} port {port} in "
            f"{CONNECT_PROBE_SECONDS:g} s (nothing there, or something that is not a Dask "
            "scheduler)"
        ) from None
    except OSError as error:
        raise InvalidArgumentError(
            f"{address}: cannot reach a Dask scheduler: {error.strerror or error} "
            f"({host} port {port}; is the scheduler running?)"
        ) from None


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
class CheckResult:
    reports: tuple[Report, ...]  # in input order
    totals: CheckTotals


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
    settings: CheckSettings | None = None,
    declared_media_type: str | None = None,
    partition_size: int = CHECK_PARTITION,
    **keywords: Unpack[InspectKeywords],
) -> Bag:
    """A dask bag of inspect() Reports, one per source, in order: for users
    who go on in Dask (computed by their default scheduler or Client).
    `sources`: local paths (readable by the workers), URLs, or the
    RemoteFiles of remote.walk_url (their listed sizes save a request each).
    `settings` (a CheckSettings, or the same keywords: decode,
    measure_quality...) as inspect() takes them."""
    db = _dask_bag()
    chosen, check = check_call(options, settings, dict(keywords), where="reports_bag", stacklevel=2)
    return _bag(db, sources, chosen, check, declared_media_type, partition_size)


def _bag(
    db: Any,
    sources: Iterable[Item],
    options: Options,
    settings: CheckSettings,
    declared_media_type: str | None,
    partition_size: int,
) -> Bag:
    items = _items(sources)
    size = _partition_size(partition_size, "partition_size")
    bag = (
        db.from_sequence(items, partition_size=size)
        if items
        else db.from_sequence([], npartitions=1)
    )
    return bag.map_partitions(check_many, options, settings, declared_media_type)


def totals_of(bag: Bag) -> Any:
    """A dask Item: the exact CheckTotals of a bag of Reports, summed per
    partition on the workers."""
    return bag.reduction(CheckTotals.of, sum_check_totals)


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
    settings: CheckSettings | None = None,
    declared_media_type: str | None = None,
    partition_size: int = CHECK_PARTITION,
    **keywords: Unpack[InspectKeywords],
) -> DataFrame:
    """A dask dataframe of report rows (FRAME_COLUMNS), one per source, in order."""
    import pandas as pd

    db = _dask_bag()
    chosen, check = check_call(
        options, settings, dict(keywords), where="reports_frame", stacklevel=2
    )
    bag = _bag(db, sources, chosen, check, declared_media_type, partition_size)
    meta = pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in FRAME_COLUMNS.items()})
    return bag.map(report_row).to_dataframe(meta=meta)


def check_on_cluster(
    sources: Iterable[Item],
    scheduler: str | Client,
    options: Options | None = None,
    *,
    settings: CheckSettings | None = None,
    declared_media_type: str | None = None,
    partition_size: int = CHECK_PARTITION,
    progress: Callable[[int], object] | None = None,
    **keywords: Unpack[InspectKeywords],
) -> CheckResult:
    """inspect() every source on the cluster at `scheduler` (an address or a
    Client): the Reports in input order, and their exact totals (summed
    per partition on the workers). `progress(n)` is called as each
    partition of n sources comes back (the command line's progress bar)."""
    db = _dask_bag()
    chosen, check = check_call(
        options, settings, dict(keywords), where="check_on_cluster", stacklevel=2
    )
    items = _items(sources)
    bag = _bag(db, items, chosen, check, declared_media_type, partition_size)
    chunks = _chunks(items, _partition_size(partition_size, "partition_size"))
    with connect(scheduler) as client:
        # A future per partition, and each partition's totals summed on the
        # worker that holds its reports.
        parts = client.compute(bag.to_delayed())
        sums = [client.submit(CheckTotals.of, part, pure=False) for part in parts]
        if progress is not None:
            # Each partition's length, counted where it lies: only the
            # number crosses the wire as it finishes.
            counts = [client.submit(len, part, pure=False) for part in parts]
            for finished, chunk in zip(counts, chunks, strict=False):
                with suppress(Exception):  # a partition whose worker died: below
                    finished.result()
                progress(len(chunk))
        found: list[list[Report]] = []
        lost = False
        for part, chunk in zip(parts, chunks, strict=False):
            try:
                found.append(part.result())
            except PreflightError:
                raise
            except Exception:
                # Its worker died (a crash, the OOM killer): the partition's
                # sources one at a time, so only the one that kills a worker
                # is lost, as an error report; the run goes on.
                lost = True
                found.append(
                    [
                        _check_alone(client, item, chosen, check, declared_media_type)
                        for item in chunk
                    ]
                )
        reports = [report for part in found for report in part]
        totals = CheckTotals.of(reports) if lost else sum_check_totals(client.gather(sums))
    return CheckResult(tuple(reports), totals)


def _check_alone(
    client: Client,
    item: Item,
    options: Options,
    settings: CheckSettings,
    declared_media_type: str | None,
) -> Report:
    """check_one(item) as a task of its own; a Report of the crash when its
    worker dies under it."""
    task = client.submit(check_one, item, options, settings, declared_media_type, pure=False)
    try:
        report: Report = task.result()
    except PreflightError:
        raise
    except Exception as error:
        name = item.url if isinstance(item, RemoteFile) else item
        return Report(name, None, None, (_crash_finding(name, error),))
    return report


def _crash_finding(name: str, error: BaseException) -> Finding:
    return Finding(
        WORKER_CRASHED,
        ERROR,
        f"{name}: the cluster worker died working on it ({type(error).__name__})",
        "check this file on its own (preflight check FILE); a decoder that crashes or "
        "runs out of memory on it is a reason to leave it out",
    )


# --- prepare ----------------------------------------------------------------------


def manifest_entry(source: str, result: PreparedImage, destination: str) -> dict[str, object]:
    """A manifest line for a prepared image (the keys of the CLI's manifest,
    without the source facts resume adds)."""
    return image_entry(source, result, destination)


Held = Made | dict[str, object]  # what a worker made, or the job's error entry


def _prepare_partition(
    jobs: list[PrepareJob], options: Options, settings: PrepareSettings
) -> list[Held]:
    """Each job's Made (held on the worker until named), or its error entry."""
    held: list[Held] = []
    for job in jobs:
        try:
            held.append(make(job.source, options, settings))
        except PreflightError as error:
            held.append(error_entry(job.source, error))
    return held


def _extensions(held: list[Held]) -> list[list[str] | None]:
    return [made.extensions if isinstance(made, Made) else None for made in held]


def _save_partition(
    held: list[Held],
    jobs: list[PrepareJob],
    destinations: list[list[str] | None],
    options: Options,
) -> list[tuple[dict[str, object], PrepareTotals]]:
    done: list[tuple[dict[str, object], PrepareTotals]] = []
    for made, job, where in zip(held, jobs, destinations, strict=True):
        if not isinstance(made, Made):
            done.append((made, FAILED))
            continue
        assert where is not None
        try:
            done.append(write_made(job.source, made, where, options))
        except PreflightError as error:
            done.append((error_entry(job.source, error), FAILED))
    return done


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
    settings: PrepareSettings | None = None,
    partition_size: int = PREPARE_PARTITION,
    window: int | None = None,
    **keywords: Unpack[PrepareCallKeywords],
) -> Iterator[tuple[dict[str, object], PrepareTotals]]:
    """prepare() (or, with settings.tile, tile()) every job on the cluster,
    its outputs written under `out` (a folder the workers can write, or a
    URL) by the worker that made them: for each job in input order, its
    manifest entry and its share of the totals. `settings` (a
    PrepareSettings, or the same keywords) as prepare() takes them.
    `window` partitions are in flight at a time (default: 4 a worker): the
    workers hold their encoded outputs until the names are claimed."""
    # The caller's mistakes raise here, before anything is sent.
    chosen, wanted = prepare_call(
        options, settings, dict(keywords), where="iter_prepare_on_cluster", stacklevel=2
    )
    return _iter_prepare(jobs, out, scheduler, chosen, wanted, partition_size, window)


def _iter_prepare(
    jobs: Sequence[PrepareJob],
    out: str,
    scheduler: str | Client,
    options: Options,
    settings: PrepareSettings,
    partition_size: int,
    window: int | None,
) -> Iterator[tuple[dict[str, object], PrepareTotals]]:
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
            held = client.submit(
                _prepare_partition, partitions[index], options, settings, pure=False
            )
            return held, client.submit(_extensions, held, pure=False)

        # A pipeline, partition by partition in input order: up to `span`
        # partitions are being prepared while earlier ones are named and saved.
        flight = deque(launch(i) for i in range(min(span, len(partitions))))
        saving: deque[tuple[Any, list[PrepareJob]]] = deque()
        for index, part in enumerate(partitions):
            held, extensions = flight.popleft()
            if index + span < len(partitions):
                flight.append(launch(index + span))
            try:
                found = extensions.result()
            except PreflightError:
                raise
            except Exception:
                # Its worker died: what came before is committed first (input
                # order), then the partition's jobs one at a time, so only a
                # job that kills a worker is lost, as an error line.
                while saving:
                    yield from _saved(saving.popleft())
                for job in part:
                    yield _prepare_alone(client, job, names, options, settings)
                continue
            where = [
                None if made is None else names.claim_all(job, made, tiled=settings.tile)
                for job, made in zip(part, found, strict=True)
            ]
            task = client.submit(_save_partition, held, part, where, options, pure=False)
            saving.append((task, part))
            del held, extensions  # the workers drop the encoded outputs once saved
            while saving and (len(saving) > span or saving[0][0].done()):
                yield from _saved(saving.popleft())
        while saving:
            yield from _saved(saving.popleft())


def _saved(pending: tuple[Any, list[PrepareJob]]) -> list[tuple[dict[str, object], PrepareTotals]]:
    """A saving task's lines, or, when its worker died, an error line each."""
    task, part = pending
    try:
        done: list[tuple[dict[str, object], PrepareTotals]] = task.result()
    except PreflightError:
        raise
    except Exception as error:
        return [(error_entry(job.source, _crash(job.source, error)), FAILED) for job in part]
    return done


def _prepare_alone(
    client: Client,
    job: PrepareJob,
    names: OutputNames,
    options: Options,
    settings: PrepareSettings,
) -> tuple[dict[str, object], PrepareTotals]:
    """One job as tasks of its own: its line, or an error line when the
    worker dies under it."""
    held = client.submit(_prepare_partition, [job], options, settings, pure=False)
    try:
        (found,) = client.submit(_extensions, held, pure=False).result()
        where = [None if found is None else names.claim_all(job, found, tiled=settings.tile)]
        saved = client.submit(_save_partition, held, [job], where, options, pure=False)
        (line,) = saved.result()
    except PreflightError:
        raise
    except Exception as error:
        return error_entry(job.source, _crash(job.source, error)), FAILED
    return line  # type: ignore[no-any-return]


def _crash(name: str, error: BaseException) -> EngineError:
    return EngineError(
        f"{name}: the cluster worker died working on it ({type(error).__name__})",
        code=WORKER_CRASHED,
    )


def prepare_on_cluster(
    jobs: Sequence[PrepareJob],
    out: str,
    scheduler: str | Client,
    options: Options | None = None,
    *,
    settings: PrepareSettings | None = None,
    partition_size: int = PREPARE_PARTITION,
    window: int | None = None,
    **keywords: Unpack[PrepareCallKeywords],
) -> PrepareResult:
    """iter_prepare_on_cluster, collected: the entries in input order and
    the exact totals."""
    chosen, wanted = prepare_call(
        options, settings, dict(keywords), where="prepare_on_cluster", stacklevel=2
    )
    entries: list[dict[str, object]] = []
    totals = PrepareTotals()
    for entry, share in _iter_prepare(jobs, out, scheduler, chosen, wanted, partition_size, window):
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
