# Picklable work for the process pool tests (a module, so spawn can import it).

from __future__ import annotations

import os
import time


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


def sleep_forever(n: int) -> int:
    time.sleep(3600)
    return n
