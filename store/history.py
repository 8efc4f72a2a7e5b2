"""The read side of incremental runs: what the last good fetch of a URL left behind.

Reads through its own connection, opened in the thread that first asks (the fetcher may consume
tasks in a thread of its own; SQLite connections stay in the thread that made them). WAL mode
lets it read while the writer writes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Outcomes after which a URL's article is as stored.
GOOD = ("new", "duplicate", "updated", "unchanged", "not_modified")


@dataclass(frozen=True)
class LastFetch:
    fetched_at: str
    etag: str | None
    last_modified: str | None

    def age_hours(self, now: datetime | None = None) -> float:
        fetched = datetime.fromisoformat(self.fetched_at)
        return ((now or datetime.now(UTC)) - fetched).total_seconds() / 3600


class History:
    """`last_good_fetch(url)` for a database that the Store has created."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so that close() may close it from another thread.
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   check_same_thread=False)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def last_good_fetch(self, url: str) -> LastFetch | None:
        marks = ", ".join("?" * len(GOOD))
        row = self._conn().execute(
            f"SELECT fetched_at, etag, last_modified FROM fetches WHERE url = ? "
            f"AND outcome IN ({marks}) ORDER BY id DESC LIMIT 1", [url, *GOOD],
        ).fetchone()
        return LastFetch(*row) if row else None

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()
