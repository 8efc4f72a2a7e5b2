"""Recording runs (`runs`) and the sources a batch reads (`sources`); schema in migrations m005.

A run is one `scrape ingest`, `scrape batch` or `scrape reclean` (command), with its options
as JSON (arguments), started_at/finished_at (UTC, ISO 8601), pid and host, and at its end the
number of inputs per outcome (counts, JSON {"new": 3, "fetch.http_404": 1, ...}).
Every `fetches` row of the run has its id in fetches.run_id (a reclean records no fetches).

Its status:

- "running": from its start until it ends;
- "completed": it ended and at least one input gave an article or was read as intended
  (exit status 0; some inputs may have failed); a reclean, once it has seen every page;
- "failed": it ended without any such input (every input failed, or there was none), or it
  stopped on a database error;
- "interrupted": it was stopped before its end. A run stopped by Ctrl-C or SIGTERM marks
  itself. A run that was killed (kill -9, a crash, a power cut) cannot: the next run that
  takes the database's run lock (store/lock.py) finds its row still "running" and marks it,
  since holding the lock proves its process is gone. Its counts and finished_at are then
  what it had committed: the outcomes of its `fetches` rows and the time of the last.
  What it fetched after its last commit is not in the database, and the next run does
  those pages again.

Only the commands that take the run lock (LOCKED_COMMANDS) are ever marked by another run:
a command that records runs without the lock could be running still.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

LOCKED_COMMANDS = ("ingest", "batch", "reclean")
STATUSES = ("running", "completed", "failed", "interrupted")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def start_run(db: sqlite_utils.Database, command: str, arguments: Mapping[str, Any]) -> int:
    """Insert a "running" row for this process's run and commit it; return its id."""
    with db.conn:
        cursor = db.conn.execute(
            "INSERT INTO runs (command, arguments, started_at, status, pid, host) "
            "VALUES (?, ?, ?, 'running', ?, ?)",
            [command, json.dumps(dict(arguments), ensure_ascii=False, default=str), now(),
             os.getpid(), os.uname().nodename])
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_run(db: sqlite_utils.Database, run_id: int, status: str,
               counts: Mapping[str, int]) -> None:
    """Record the end of a run: finished_at, status and the inputs per outcome."""
    if status not in STATUSES[1:]:
        raise ValueError(f"not a final run status: {status!r}")
    with db.conn:
        db.conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
            [now(), status, json.dumps(dict(sorted(counts.items()))), run_id])


def mark_interrupted(db: sqlite_utils.Database,
                     commands: Iterable[str] = LOCKED_COMMANDS) -> list[dict[str, Any]]:
    """Mark "interrupted" the runs of `commands` still "running"; call it holding the run
    lock, before starting a run. Their counts and finished_at come from the fetches they
    committed. Returns the rows as they now are."""
    commands = list(commands)
    marks = ", ".join("?" * len(commands))
    with db.conn:
        ids = [row[0] for row in db.conn.execute(
            f"SELECT id FROM runs WHERE status = 'running' AND command IN ({marks}) "
            f"ORDER BY id", commands)]
        for run_id in ids:
            counts = committed_counts(db, run_id)
            last = db.conn.execute("SELECT max(fetched_at) FROM fetches WHERE run_id = ?",
                                   [run_id]).fetchone()[0]
            db.conn.execute(
                "UPDATE runs SET status = 'interrupted', counts = ?, "
                "finished_at = coalesce(?, started_at) WHERE id = ?",
                [json.dumps(counts), last, run_id])
    return [dict(db["runs"].get(run_id)) for run_id in ids]


def committed_counts(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    """The run's inputs per outcome, as its committed `fetches` rows say."""
    return dict(db.conn.execute(
        "SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY outcome "
        "ORDER BY outcome", [run_id]).fetchall())


def upsert_sources(db: sqlite_utils.Database, sources: Iterable[Mapping[str, Any]],
                   run_id: int | None) -> None:
    """Insert or update the `sources` rows (name, kind, location, max_pages, config) and set
    their last_run_id; added_at stays that of the first run that read the source. Sources
    no longer in the file keep their rows (their fetches still name them)."""
    with db.conn:
        for source in sources:
            db.conn.execute(
                "INSERT INTO sources (name, kind, location, max_pages, config, added_at, "
                "last_run_id) VALUES (:name, :kind, :location, :max_pages, :config, :added_at, "
                ":last_run_id) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                "location = excluded.location, max_pages = excluded.max_pages, "
                "config = excluded.config, last_run_id = excluded.last_run_id",
                {"name": source["name"], "kind": source["kind"],
                 "location": source["location"], "max_pages": source.get("max_pages"),
                 "config": json.dumps(source.get("config", {}), ensure_ascii=False,
                                      default=str),
                 "added_at": now(), "last_run_id": run_id})
