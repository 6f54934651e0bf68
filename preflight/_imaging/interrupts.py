"""Ctrl-C and SIGTERM that always stop a run.

Rules:
- Python runs a signal handler between bytecodes; while libvips works in C
  and calls back into Python (its log handler is a cffi callback), the
  KeyboardInterrupt the handler raises is raised inside that callback,
  where cffi prints "Exception ignored" and drops it, and the run went on.
  So the handlers installed here *remember* the signal; inside a libvips
  call (in_c_call()) they raise nothing (nothing would be printed or
  lost) and the call's end raises it (checkpoint()); elsewhere they raise
  at once. An interrupt costs at most one libvips operation;
- SIGTERM is raised as Terminated, a KeyboardInterrupt, so that every
  cleanup path (temporary files, the manifest) runs for both;
- nothing changes until install() is called (the command line does; a
  library caller keeps its own handlers), and only in the main thread.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup path runs."""


_received: list[int] = []
_in_c_calls = [0]  # depth of in_c_call() sections


def _handler(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if not _in_c_calls[0]:
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


@contextmanager
def in_c_call() -> Iterator[None]:
    """A call into a C library that may call back into Python: an interrupt
    is held until it returns, then raised."""
    _in_c_calls[0] += 1
    try:
        yield
    finally:
        _in_c_calls[0] -= 1
    checkpoint()


def checkpoint() -> None:
    """Raise a remembered interrupt that a C callback swallowed."""
    if _received:
        signum = _received[-1]
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


@contextmanager
def installed() -> Iterator[None]:
    """SIGINT and SIGTERM handled as above for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for wanted in (signal.SIGINT, signal.SIGTERM):
        previous[wanted] = signal.signal(wanted, _handler)
    _received.clear()
    try:
        yield
    finally:
        for restored, handler in previous.items():
            signal.signal(restored, handler)
        _received.clear()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a step that must not be cut in two runs
    (an output renamed into place and its manifest line): they arrive right
    after it. With our handlers installed, they raise nothing while held (a
    thread mask would not do: a process with other threads, a worker pool's,
    takes the signal on one of them, and Python runs the handler in the main
    thread anyway; and a signal held by the mask arrives twice). Without
    them, the thread's signal mask holds the signals."""
    mask = getattr(signal, "pthread_sigmask", None)
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is _handler:
        mask = None
    if mask is not None:
        mask(signal.SIG_BLOCK, held)
    _in_c_calls[0] += 1
    try:
        yield
    finally:
        _in_c_calls[0] -= 1
        if mask is not None:
            mask(signal.SIG_UNBLOCK, held)
    checkpoint()
