# The ordered process pool: order, identical results for any jobs, errors per
# item, crashes and Ctrl-C.

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_until
from parallel_work import (
    crash_on_13,
    fail_on_sevens,
    square_slowly,
    square_with_pid,
    square_with_pid_slowly,
)

from preflight._runs.parallel import (
    auto_map,
    choose_map,
    default_jobs,
    ordered_map,
    progress,
    thread_map,
)
from preflight.errors import DataError, EngineError

SPAWN = multiprocessing.get_context("spawn")


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_order_is_kept_with_uneven_work(jobs: int) -> None:
    items = list(range(300))
    got = list(ordered_map(square_slowly, iter(items), jobs=jobs, chunk_size=7))
    assert got == [n * n for n in items]


def test_one_and_two_jobs_agree_under_spawn() -> None:
    items = list(range(100))
    one = list(ordered_map(square_slowly, items, jobs=1))
    two = list(ordered_map(square_slowly, items, jobs=2, chunk_size=3, mp_context=SPAWN))
    assert one == two


@pytest.mark.parametrize("jobs", [1, 2])
def test_exceptions_come_back_per_item(jobs: int) -> None:
    got = list(ordered_map(fail_on_sevens, range(1, 30), jobs=jobs, return_exceptions=True))
    for n, result in zip(range(1, 30), got, strict=True):
        if n % 7 == 0:
            assert isinstance(result, ValueError)
            assert str(result) == f"no sevens: {n}"
        else:
            assert result == n
    with pytest.raises(ValueError, match="no sevens: 7"):
        list(ordered_map(fail_on_sevens, range(1, 30), jobs=jobs))


def test_a_worker_crash_is_a_data_error_for_its_item() -> None:
    got = list(ordered_map(crash_on_13, range(40), jobs=2, chunk_size=4, return_exceptions=True))
    assert isinstance(got[13], EngineError) and got[13].code == "worker-crashed"
    assert isinstance(got[13], DataError)
    assert got[:13] == list(range(13))
    assert got[14:] == list(range(14, 40))


def test_default_jobs() -> None:
    assert 1 <= default_jobs() <= (os.cpu_count() or 1)


def test_memory_stays_bounded_over_a_long_iterator() -> None:
    taken = 0

    def endless() -> object:
        nonlocal taken
        while True:
            taken += 1
            yield taken

    results = ordered_map(square_slowly, endless(), jobs=2, chunk_size=5)
    first = [next(results) for _ in range(20)]
    assert first == [n * n for n in range(1, 21)]
    assert taken <= 20 + 2 * 2 * 5 + 5  # at most the chunks in flight were read ahead
    results.close()  # type: ignore[attr-defined]


def test_progress_draws_nothing_off_a_terminal() -> None:
    with progress(10, enabled=True) as bar:
        for _ in range(10):
            bar.advance()
        assert not bar.active  # pytest captures stderr: not a terminal


def test_ctrl_c_cancels_and_exits_promptly(tmp_path: Path) -> None:
    started = tmp_path / "started"
    started.mkdir()
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path[:0] = [{str(Path(__file__).parent)!r}]
            from functools import partial
            from parallel_work import announce_then_sleep
            from preflight._runs.parallel import ordered_map
            if __name__ == "__main__":
                print("started", flush=True)
                try:
                    work = partial(announce_then_sleep, {str(started)!r})
                    for _ in ordered_map(work, range(100), jobs=2, chunk_size=1):
                        pass
                except KeyboardInterrupt:
                    print("interrupted", flush=True)
                    sys.exit(130)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    # Both workers are inside their endless items before the Ctrl-C.
    if not wait_until(lambda: len(list(started.iterdir())) >= 2):
        child.kill()
        pytest.fail("the workers never started their items")
    child.send_signal(signal.SIGINT)
    try:
        out, _ = child.communicate(timeout=60)  # a watchdog, not a timing assertion
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("Ctrl-C did not stop the pool")
    assert child.returncode == 130
    assert "interrupted" in out


# --- the command line's runners: auto_map, thread_map, choose_map ----------------


def test_auto_map_keeps_small_work_in_this_process() -> None:
    got = list(auto_map(square_with_pid, range(50), jobs=2, pool_after=3600.0, sample=0.0))
    assert [square for square, _ in got] == [n * n for n in range(50)]
    assert {pid for _, pid in got} == {os.getpid()}  # no pool was started


@pytest.mark.parametrize("sized", [True, False])
def test_auto_map_moves_what_is_left_to_a_pool(sized: bool) -> None:
    """Work that the items timed say is worth a pool moves to one, the
    results in order and the same as in this process."""
    items = list(range(40))
    source = items if sized else iter(items)
    got = list(
        auto_map(
            square_with_pid, source, jobs=2, chunk_size=3, pool_after=0.0, sample=0.0, start=0.0
        )
    )
    assert [square for square, _ in got] == [n * n for n in items]
    pids = [pid for _, pid in got]
    assert pids[:2] == [os.getpid()] * 2  # the first item, then one timed, here
    assert os.getpid() not in pids[2:]  # the rest in the pool


def test_auto_map_works_here_while_the_pool_starts() -> None:
    """The items this process does while the pool starts come first, in
    order, then the pool's: with items of at least 10 ms and 10 ms of
    start, exactly one after the two it timed."""
    got = list(
        auto_map(square_with_pid_slowly, range(12), jobs=2, pool_after=0.0, sample=0.0, start=0.01)
    )
    assert [square for square, _ in got] == [n * n for n in range(12)]
    pids = [pid for _, pid in got]
    assert pids[:3] == [os.getpid()] * 3
    assert os.getpid() not in pids[3:]


def test_auto_map_errors_come_back_per_item_either_way() -> None:
    for pool_after in (0.0, 3600.0):
        got = list(
            auto_map(
                fail_on_sevens,
                range(1, 30),
                jobs=2,
                return_exceptions=True,
                pool_after=pool_after,
                sample=0.0,
            )
        )
        assert [isinstance(r, ValueError) for r in got] == [n % 7 == 0 for n in range(1, 30)]


def test_thread_map_keeps_order_and_bounds_what_runs() -> None:
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(((n * 7919) % 5) / 1000)  # uneven: later items often end first
        with lock:
            running[0] -= 1
        return n * n

    got = list(thread_map(work, range(200), threads=4))
    assert got == [n * n for n in range(200)]
    assert 1 < running[1] <= 4


def test_thread_map_reads_ahead_a_bounded_number_of_items() -> None:
    taken = 0

    def endless() -> Iterator[int]:
        nonlocal taken
        while True:
            taken += 1
            yield taken

    results = thread_map(lambda n: n, endless(), threads=3)
    assert [next(results) for _ in range(10)] == list(range(1, 11))
    assert taken <= 10 + 2 * 3
    results.close()  # type: ignore[attr-defined]


def test_thread_map_errors_come_back_per_item() -> None:
    got = list(thread_map(fail_on_sevens, range(1, 30), threads=3, return_exceptions=True))
    assert [isinstance(r, ValueError) for r in got] == [n % 7 == 0 for n in range(1, 30)]
    with pytest.raises(ValueError, match="no sevens: 7"):
        list(thread_map(fail_on_sevens, range(1, 30), threads=3))


def _where(n: int) -> tuple[int, int, str]:
    return n, os.getpid(), threading.current_thread().name


def test_choose_map_runs_each_kind_of_work_where_it_belongs() -> None:
    here = (os.getpid(), threading.current_thread().name)
    items = list(range(20))
    # Header-only work, no --jobs: this process, this thread.
    header = list(choose_map(_where, items, jobs=None, decodes=False))
    assert {(pid, name) for _, pid, name in header} == {here}
    # The network: threads, whatever --jobs says.
    for jobs in (None, 1, 2):
        fetched = list(choose_map(_where, items, jobs=jobs, decodes=False, network=True))
        assert [n for n, _, _ in fetched] == items
        assert {pid for _, pid, _ in fetched} == {os.getpid()}
        assert all(name.startswith("preflight-io") for _, _, name in fetched)
    # Decoding work over the network holds whole objects: as many threads as CPUs, at least 2.
    lock = threading.Lock()
    running = [0, 0]

    def decode(n: int) -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.005)
        with lock:
            running[0] -= 1
        return n

    assert list(choose_map(decode, items, jobs=None, decodes=True, network=True)) == items
    assert 1 <= running[1] <= max(2, default_jobs())
    # --jobs N: processes.
    pooled = list(choose_map(square_with_pid, items, jobs=2, decodes=False))
    assert [square for square, _ in pooled] == [n * n for n in items]
    assert os.getpid() not in {pid for _, pid in pooled}
