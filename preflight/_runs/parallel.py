"""Every core of one machine: ordered maps over processes or threads, and a progress display.

Rules:
- results come back in input order whatever `jobs` is, so jobs=1 and
  jobs=N give identical output; jobs=1 runs in this process (no pool);
- the command line's default (no --jobs) is chosen by the work
  (choose_map, docs/scale.md): header-only work runs in this process
  (sending each report back from a worker costs about half of making it:
  a pool was slower at every size measured); decoding work starts here and
  moves to a pool of one process per CPU only once the items done say that
  what is left is worth starting it (auto_map), so a small run never pays
  for a pool; work that waits on the network (URLs) runs on threads, a
  bounded number in flight (thread_map), whatever --jobs says;
- items are fed in chunks with a bounded number of chunks in flight, so
  memory stays flat over any number of items (the input is an iterator,
  read as the work goes);
- the work must be picklable (a module-level function and plain data):
  workers start by forkserver (else spawn), never by a plain fork, which
  hangs a child forked while libvips' threads hold a lock (seen here);
- an exception of the function for an item comes back for that item (raised
  at its place in the output, or yielded with return_exceptions=True); a
  worker process that dies (a crash, the OOM killer) is an EngineError (code worker-crashed)
  (a DataError) for the item it was running, never a hang: the items of
  that chunk are re-run one at a time to find which;
- Ctrl-C: workers ignore SIGINT, the parent cancels what is pending,
  terminates the workers and re-raises KeyboardInterrupt at once;
- progress goes to stderr only when it is a terminal, only with rich
  installed (extra "progress"), only for runs over a second, and never
  when the caller disables it (machine formats, --no-progress).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from preflight._core.budgets import MAX_URLS_IN_FLIGHT
from preflight.errors import EngineError, InvalidArgumentError

if TYPE_CHECKING:
    # concurrent.futures and multiprocessing load when a pool starts: a run
    # in this process (and start-up) does without them.
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CHUNK_SIZE = 64

# When auto_map moves work to a pool: once what is left would take
# POOL_PAYS_AFTER seconds in this process, estimated from the items timed
# so far (at least SAMPLE_SECONDS of them, the first item left out: it pays
# for the imports). Measured here (2 CPUs, benchmarks/bench_scale.py): a
# pool of two costs about POOL_START_SECONDS of the run's time (the fork
# server, then each worker importing preflight and an image engine, on the
# same two cores), so it pays from about twice that much work left; 200
# small decodes (1 s) ran slower in a pool, 200 small prepares (2 s)
# faster. This process works on the next items while the pool starts.
POOL_PAYS_AFTER = 1.5
SAMPLE_SECONDS = 0.2
POOL_START_SECONDS = 0.5


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(function: Callable[[Any], Any], items: list[Any]) -> list[tuple[bool, Any]]:
    """In a worker: (True, result) or (False, exception) per item."""
    out: list[tuple[bool, Any]] = []
    for item in items:
        try:
            out.append((True, function(item)))
        except Exception as error:  # sent back for that item
            out.append((False, error))
    return out


def ordered_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    return_exceptions: bool = False,
    mp_context: Any = None,
) -> Iterator[R | BaseException]:
    """function(item) for every item, in input order, over `jobs` processes
    (default: default_jobs()). See the module comment."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1 or chunk_size < 1:
        raise InvalidArgumentError("jobs and chunk_size must be at least 1")
    if jobs == 1:
        yield from _in_process(function, items, return_exceptions)
        return
    yield from _in_pool(function, items, jobs, chunk_size, return_exceptions, mp_context)


def _in_process(
    function: Callable[[T], R], items: Iterable[T], return_exceptions: bool
) -> Iterator[R | BaseException]:
    for item in items:
        yield _call(function, item, return_exceptions)


def _call(function: Callable[[T], R], item: T, return_exceptions: bool) -> R | BaseException:
    try:
        return function(item)
    except Exception as error:
        if not return_exceptions:
            raise
        return error


def auto_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    return_exceptions: bool = False,
    mp_context: Any = None,
    total: int | None = None,
    pool_after: float = POOL_PAYS_AFTER,
    sample: float = SAMPLE_SECONDS,
    start: float = POOL_START_SECONDS,
) -> Iterator[R | BaseException]:
    """ordered_map with the processes chosen by the work: it starts in this
    process and moves what is left to a pool of `jobs` processes (default:
    default_jobs()) once the items timed so far say that what is left
    would take `pool_after` seconds here. `total`: how many items there
    are (default: len(items) when it has one); unknown, the pool starts
    once `pool_after` seconds have been spent. While the pool starts, this
    process works on the items it does in `start` seconds. Work too small
    to pay for a pool never starts one; the results are the same either
    way."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1 or chunk_size < 1:
        raise InvalidArgumentError("jobs and chunk_size must be at least 1")
    if total is None and isinstance(items, Sized):
        total = len(items)
    source = iter(items)
    if jobs == 1:
        yield from _in_process(function, source, return_exceptions)
        return
    done = timed = 0
    timed_from: float | None = None
    for item in source:
        yield _call(function, item, return_exceptions)
        done += 1
        now = time.monotonic()
        if timed_from is None:
            timed_from = now  # the first item pays for the imports: not timed
            continue
        timed += 1
        spent = now - timed_from
        if spent < sample:
            continue
        left = None if total is None else total - done
        if (left is None and spent >= pool_after) or (
            left is not None and left > 0 and left * spent / timed >= pool_after
        ):
            # This process keeps working on the next items while the pool
            # starts, as many as it does in POOL_START_SECONDS: the start is
            # hidden, not waited for.
            per_item = max(spent / timed, 1e-9)
            head = list(islice(source, math.ceil(start / per_item)))
            yield from _in_pool(
                function, source, jobs, chunk_size, return_exceptions, mp_context, head
            )
            return


def thread_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    threads: int,
    return_exceptions: bool = False,
) -> Iterator[R | BaseException]:
    """function(item) for every item, in input order, on `threads` threads:
    at most `threads` items run at once (for work that waits on the
    network, such as reading URLs: the GIL is free while it waits). Items
    are read ahead by twice `threads`, no more. An item's exception is
    raised at its place, or yielded with return_exceptions=True. On an
    early stop (Ctrl-C, an exception, the consumer closing), what is
    queued is cancelled and the running items are left to end on their
    own (each network read has its timeout)."""
    from concurrent.futures import ThreadPoolExecutor

    if threads < 1:
        raise InvalidArgumentError("threads must be at least 1")
    source = iter(items)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="preflight-io")
    pending: deque[Future[R]] = deque()
    try:
        while True:
            for item in islice(source, 2 * threads - len(pending)):
                pending.append(pool.submit(function, item))
            if not pending:
                return
            future = pending.popleft()
            try:
                result: R | BaseException = future.result()
            except Exception as error:
                if not return_exceptions:
                    raise
                result = error
            yield result
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def choose_map(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int | None,
    decodes: bool,
    network: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    return_exceptions: bool = False,
    threads: int = MAX_URLS_IN_FLIGHT,
) -> Iterator[R | BaseException]:
    """The command line's runner (see the module docstring): threads for
    `network` work, whatever `jobs` says (`threads` of them; for decoding
    work, which holds each object whole, no more than the CPUs, at least
    two); `jobs` processes when given; else header-only work here, and
    decoding work (`decodes`) by auto_map."""
    if network:
        if decodes:
            threads = min(threads, max(2, default_jobs()))
        return thread_map(function, items, threads=threads, return_exceptions=return_exceptions)
    if jobs is not None:
        return ordered_map(
            function, items, jobs=jobs, chunk_size=chunk_size, return_exceptions=return_exceptions
        )
    if not decodes:
        return _in_process(function, items, return_exceptions)
    return auto_map(function, items, chunk_size=chunk_size, return_exceptions=return_exceptions)


def _in_pool(
    function: Callable[[T], R],
    items: Iterable[T],
    jobs: int,
    chunk_size: int,
    return_exceptions: bool,
    mp_context: Any,
    head: Iterable[T] = (),
) -> Iterator[R | BaseException]:
    """The pool's ordered map; `head`, items that come before `items`, runs
    in this process while the pool starts (auto_map hides the start so)."""
    from concurrent.futures.process import BrokenProcessPool

    source = iter(items)
    in_flight = 2 * jobs  # chunks queued: every worker busy, one more each waiting
    pool = _pool(jobs, mp_context)
    pending: deque[tuple[list[T], Future[list[tuple[bool, Any]]]]] = deque()
    try:
        while len(pending) < in_flight:
            chunk = list(islice(source, chunk_size))
            if not chunk:
                break
            pending.append((chunk, _submit(pool, function, chunk)))
        for item in head:
            yield _call(function, item, return_exceptions)
        while True:
            while len(pending) < in_flight:
                chunk = list(islice(source, chunk_size))
                if not chunk:
                    break
                pending.append((chunk, _submit(pool, function, chunk)))
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                outcomes = future.result()
            except BrokenProcessPool:
                # A worker died: find the item, then go on with a fresh pool.
                _stop(pool)
                outcomes = [_isolated(function, item, mp_context) for item in chunk]
                requeue = [c for c, _ in pending]
                pending.clear()
                pool = _pool(jobs, mp_context)
                for again in requeue:
                    pending.append((again, _submit(pool, function, again)))
            for ok, value in outcomes:
                if ok or return_exceptions:
                    yield value
                else:
                    raise value
    except BaseException:
        # Ctrl-C, an item's exception, or the consumer stopped early.
        _stop(pool)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _submit(
    pool: ProcessPoolExecutor, function: Callable[[Any], Any], chunk: list[Any]
) -> Future[list[tuple[bool, Any]]]:
    """pool.submit, or, when a worker has just died and the pool refuses new
    work, a future that says so: the chunk then goes the broken-pool way."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pool.submit(_run_chunk, function, chunk)
    except BrokenProcessPool as error:
        refused: Future[list[tuple[bool, Any]]] = Future()
        refused.set_exception(error)
        return refused


def _pool(jobs: int, mp_context: Any) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        jobs, mp_context=mp_context or default_context(), initializer=_ignore_sigint
    )


def default_context() -> Any:
    """forkserver where there is one, else spawn; never a plain fork: a fork
    of a process whose image engine (libvips) has threads running can leave
    the child stuck on a lock forever."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Preload preflight, not the caller's __main__ (the default): a script
    # without an `if __name__ == "__main__"` guard would run again in the
    # fork server and fail to start workers. The work is preflight's.
    context.set_forkserver_preload(["preflight"])
    _start_forkserver_quietly()
    return context


def _start_forkserver_quietly() -> None:
    """Start the fork server with its standard error on /dev/null: a worker
    that is still starting when Ctrl-C ends the run finds the semaphores it
    unpickles gone and prints a traceback; workers report their errors as
    results, never on stderr."""
    from multiprocessing import forkserver

    if getattr(forkserver._forkserver, "_forkserver_pid", None) is not None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 2)
        forkserver.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the workers now (they may be mid-item).
    Then wait for the pool to wind down: a worker still starting (an early
    Ctrl-C) must not outlive this process's semaphores, or it prints a
    traceback as it unpickles them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True, cancel_futures=True)
    for process in (getattr(pool, "_processes", None) or {}).values():
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


def _isolated(function: Callable[[Any], Any], item: Any, mp_context: Any) -> tuple[bool, Any]:
    """One item in a pool of its own: its result, or the crash it causes."""
    from concurrent.futures.process import BrokenProcessPool

    pool = _pool(1, mp_context)
    try:
        return pool.submit(_run_chunk, function, [item]).result()[0]
    except BrokenProcessPool:
        return False, EngineError(
            f"{item!r}: the worker process died working on it", code="worker-crashed"
        )
    finally:
        _stop(pool)


# --- progress ---------------------------------------------------------------------


class Progress:
    """advance(n) as items finish; draws nothing unless enabled, stderr is a
    terminal, rich is installed and the run has lasted a second."""

    def __init__(self, total: int | None, enabled: bool, description: str = "") -> None:
        self.total = total
        self.description = description
        self.active = enabled and _is_terminal() and _has_rich()
        self.started = time.monotonic()
        self.done = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.active:
            return
        if self._bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            self._start()
        self._bar.update(self._task, completed=self.done, rate=f"{self.rate():,.0f}/s")

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._bar.add_task(self.description, total=self.total, rate="")
        self._bar.start()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


def progress(total: int | None, enabled: bool = True, description: str = "") -> Progress:
    """A progress display for `total` items (None: unknown); see Progress."""
    return Progress(total, enabled, description)


def _is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _has_rich() -> bool:
    import importlib.util

    return importlib.util.find_spec("rich") is not None
