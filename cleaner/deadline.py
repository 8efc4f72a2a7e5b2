"""A per-page time bound for cleaning.

SIGALRM interrupts Python code (a runaway loop, a regex on a hostile page) when the time is up;
C code (parsing) is interrupted when it returns to Python. Signals only reach the main thread,
so elsewhere the bound is not enforced: the pipeline cleans in the main thread of its own
process or of each pool worker, but a Dask worker runs its tasks in threads, unbounded.
The previous handler and timer are restored on exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class CleanTimeout(Exception):
    """Cleaning one page took longer than its time bound."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise CleanTimeout inside the block once `seconds` have passed (None or 0: no bound)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CleanTimeout(f"cleaning took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
