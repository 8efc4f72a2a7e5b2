"""Opening the database: pragmas and migrations in one place."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from .migrations import migrate

PAGE_SIZE = 16384


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database at `path`, migrated to the current schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    # 16 KiB pages (SQLite's default is 4 KiB), for a new database only (an existing one keeps
    # its size): a compressed raw page (~30 KB) spans 2 overflow pages, not 8, and the FTS
    # index's segments fewer; bench/store.py measured the pages rows ~40% cheaper.
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    db.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()  # readers (Datasette, exports) never block the writer
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits
    # (a crash of the process loses nothing committed). FULL would fsync on every commit.
    db.execute("PRAGMA synchronous = NORMAL")
    # A writer holds the lock for one batch (store/writer.py): others wait, not fail.
    db.execute("PRAGMA busy_timeout = 60000")
    # A batch of writes touches the FTS index, the other indexes and new rows all over: a
    # 64 MiB page cache (the default is 2 MiB) holds them (memory is taken as pages are read,
    # per connection), and a checkpoint every 10,000 pages of WAL (~40 MB; the default is
    # 1,000) copies a page changed by several batches to the database once, not after each.
    # bench/store.py: +17% articles/s without pages; the WAL file grows to ~40 MB.
    db.execute("PRAGMA cache_size = -65536")
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    migrate(db)
    return db
