"""Opening the database: pragmas and migrations in one place."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from .migrations import migrate


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database at `path`, migrated to the current schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()  # readers (Datasette, exports) never block the writer
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits
    # (a crash of the process loses nothing committed). FULL would fsync on every commit.
    db.execute("PRAGMA synchronous = NORMAL")
    # A writer holds the lock for one batch (store/writer.py): others wait, not fail.
    db.execute("PRAGMA busy_timeout = 60000")
    migrate(db)
    return db
