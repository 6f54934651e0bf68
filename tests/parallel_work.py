# Picklable work for the process pool tests (a module, so spawn can import it).

from __future__ import annotations

import os
import time
from pathlib import Path


def square_slowly(n: int) -> int:
    # Uneven work: later items are often quicker than earlier ones.
    time.sleep(((n * 7919) % 5) / 1000)
    return n * n


def fail_on_sevens(n: int) -> int:
    if n % 7 == 0:
        raise ValueError(f"no sevens: {n}")
    return n


def crash_on_13(n: int) -> int:
    if n == 13:
        os._exit(3)
    return n


def announce_then_sleep(folder: str, n: int) -> int:
    # An item that never ends: it leaves a file in `folder` when it has
    # started, so a test can wait for that instead of guessing how long
    # workers take to start.
    Path(folder, f"started-{n}").touch()
    time.sleep(3600)
    return n


def square_with_pid(n: int) -> tuple[int, int]:
    # Which process did the work: auto_map's tests tell a pool from this process.
    return n * n, os.getpid()


def square_with_pid_slowly(n: int) -> tuple[int, int]:
    # At least 10 ms an item: auto_map's estimate of the work is bounded below.
    time.sleep(0.01)
    return n * n, os.getpid()
