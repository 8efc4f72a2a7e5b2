"""A locked, recorded run, shared by `scrape ingest`, `scrape batch` and `scrape reclean`:
the database's run lock (store/lock.py), a `runs` row (store/runs.py: running, then
completed, failed or interrupted), the run's output (`RunOutput`: pipeline/progress.py's
Output, or reclean's lines), SIGTERM ending it in order, and the exit statuses
(pipeline/batch.py's docstring lists them)."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlite_utils

from store import open_db
from store.lock import LockHeld, RunLock, lock_path
from store.runs import (
    committed_counts,
    finish_run,
    mark_interrupted,
    start_run,
)

from .cluster import ClusterUnavailable
from .command import (
    EXIT_ALL_FAILED,
    EXIT_DATABASE,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Stopped,
    sigterm_raises,
)
from .run import RunSummary
from .terminal import printable

log = logging.getLogger(__name__)


class Summary(Protocol):
    """What a run counts: inputs per outcome, and whether the run did its job."""

    counts: Counter[str]

    @property
    def completed(self) -> bool: ...


class RunOutput(Protocol):
    """How a run shows itself (pipeline/progress.py's Output for ingest and batch)."""

    def live(self) -> AbstractContextManager[Any]: ...

    def finish(self, run_id: int, status: str, summary: Any, db: str, command: str,
               drops: bool = False) -> None: ...


Work = Callable[[sqlite_utils.Database, int, Any], Summary]


def arguments_of(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a run, for runs.arguments (JSON)."""
    return {k: v for k, v in sorted(vars(args).items())
            if k != "func" and (v is None or isinstance(v, (str, int, float, bool, list)))}


def run_recorded(command: str, args: argparse.Namespace, work: Work, output: RunOutput) -> int:
    """Run `work(db, run_id, output)` holding the database's run lock, recorded in `runs`,
    `db` the run's one writing connection; print its end through `output`; return the exit
    status (see the module docstring)."""
    try:
        lock = RunLock(args.db).acquire(
            f"scrape {command} since {datetime.now(UTC).isoformat(timespec='seconds')}")
    except LockHeld as exc:
        print(printable(f"scrape {command}: {exc}; not started (exit {EXIT_LOCKED})"),
              file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:
        print(printable(f"scrape {command}: cannot create the lock file "
                        f"{lock_path(args.db)}: {exc}"), file=sys.stderr)
        return EXIT_DATABASE
    try:
        with sigterm_raises():
            return _locked(command, args, work, output)
    finally:
        lock.release()


def _locked(command: str, args: argparse.Namespace, work: Work, output: RunOutput) -> int:
    db: sqlite_utils.Database | None = None
    try:
        db = open_db(args.db)
        interrupted = mark_interrupted(db)
        run_id = start_run(db, command, arguments_of(args))
    except (sqlite3.Error, OSError) as exc:
        print(printable(f"scrape {command}: cannot use the database {args.db}: "
                        f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        if db is not None:
            db.close()
        return EXIT_DATABASE
    for row in interrupted:
        log.warning("run %d (%s, started %s, pid %s on %s) ended without finishing: marked "
                    "interrupted", row["id"], row["command"], row["started_at"], row["pid"],
                    row["host"])
    summary: Summary | None = None
    status, code = "failed", EXIT_DATABASE
    try:
        with output.live():
            summary = work(db, run_id, output)
        status = "completed" if summary.completed else "failed"
        code = EXIT_OK if summary.completed else EXIT_ALL_FAILED
    except KeyboardInterrupt:
        status, code = "interrupted", EXIT_INTERRUPTED
        print(f"scrape {command}: interrupted", file=sys.stderr)
    except Stopped:
        status, code = "interrupted", EXIT_TERMINATED
        print(f"scrape {command}: stopped (SIGTERM)", file=sys.stderr)
    except BrokenPipeError:  # `scrape batch | head`: command.run_command ends it quietly
        status = "interrupted"
        raise
    except ClusterUnavailable as exc:  # --scheduler: not reachable, or lost mid-run
        code = EXIT_USAGE
        print(printable(f"scrape {command}: {exc}"), file=sys.stderr)
    except sqlite3.Error as exc:
        print(printable(f"scrape {command}: database error: {type(exc).__name__}: {exc}"),
              file=sys.stderr)
    finally:
        # Also when an unexpected error propagates: the run is then recorded as failed.
        try:
            if summary is None:  # what it committed before it stopped
                summary = RunSummary(counts=Counter(committed_counts(db, run_id)))
            finish_run(db, run_id, status, summary.counts)
        except sqlite3.Error as exc:
            log.error("could not record the end of run %d: %s", run_id, exc)
            summary = summary or RunSummary()
        finally:
            db.close()
    output.finish(run_id, status, summary, str(args.db), command,
                  drops=getattr(args, "verbose", False))
    return code
