# The ordered process pool: order, identical results for any jobs, errors per
# item, crashes and Ctrl-C.

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import wait_until
from parallel_work import crash_on_13, fail_on_sevens, square_slowly

from preflight._runs.parallel import default_jobs, ordered_map, progress
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
