"""What every `scrape` command shares, light enough for the reading commands to start fast:
the default database, the exit statuses (pipeline/batch.py's docstring lists them), and
SIGTERM turned into an exception so that a run or an export ends in order."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .terminal import PrintableFilter

DEFAULT_DB = "data/scrape.db"
EXIT_OK, EXIT_ALL_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_DATABASE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Stopped(BaseException):
    """SIGTERM arrived (systemd stopping the unit, `kill`): end the run as interrupted."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises Stopped inside (so the run, or an export's cleanup, ends in order);
    the previous handler is put back after. Only the main thread can set handlers:
    elsewhere, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def run_command(args: argparse.Namespace, verbose: bool = False) -> int:
    """Run a parsed `scrape` command: its log on stderr, one line each and free of control
    characters; a reader that closes the pipe early (`scrape export | head`) ends it quietly."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PrintableFilter) for f in handler.filters):
            handler.addFilter(PrintableFilter())
    try:
        return int(args.func(args))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
