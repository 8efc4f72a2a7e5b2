"""The read side of incremental runs: what the last good fetch of a URL left behind.

Given an open database, it reads through that connection in the thread that made the History
(the run's writer: it also sees what the open batch wrote); in any other thread, and given a
path, through a read-only connection of its own per thread (SQLite connections stay in the
thread that made them). WAL mode lets those read while the writer writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from records.outcomes import GOOD_FETCH

from .db import db_file
from .frontier import Known, known


@dataclass(frozen=True)
class LastFetch:
    fetched_at: str
    etag: str | None
    last_modified: str | None

    def age_hours(self, now: datetime | None = None) -> float:
        fetched = datetime.fromisoformat(self.fetched_at)
        return ((now or datetime.now(UTC)) - fetched).total_seconds() / 3600


class History:
    """`last_good_fetch(url)` for a database that the Store has created: its path, or an
    open sqlite_utils.Database (made in this thread; close() leaves it open)."""

    def __init__(self, db: sqlite_utils.Database | str | Path) -> None:
        self._shared: sqlite3.Connection | None = None
        self._owner = threading.get_ident()  # the thread that may use _shared
        if isinstance(db, sqlite_utils.Database):
            self.path: Path | None = db_file(db)  # (raises here if db is another thread's)
            self._shared = db.conn
        else:
            self.path = Path(db)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._shared is not None and threading.get_ident() == self._owner:
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path is None:
                raise ValueError("an in-memory database cannot be read from another thread")
            # check_same_thread=False only so that close() may close it from another thread.
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   check_same_thread=False)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def last_good_fetch(self, url: str,
                        outcomes: Sequence[str] = GOOD_FETCH) -> LastFetch | None:
        """The last fetch of `url` that came to one of `outcomes` (default: its article as
        stored; a site crawl asks for its listings' too)."""
        marks = ", ".join("?" * len(outcomes))
        row = self._conn().execute(
            f"SELECT fetched_at, etag, last_modified FROM fetches WHERE url = ? "
            f"AND outcome IN ({marks}) ORDER BY id DESC LIMIT 1", [url, *outcomes],
        ).fetchone()
        return LastFetch(*row) if row else None

    def frontier(self, source: str) -> dict[str, Known]:
        """Every URL the site crawls of `source` have found (store/frontier.py)."""
        return known(self._conn(), source)

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()
