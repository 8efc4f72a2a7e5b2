"""The full-text index's upkeep: articles queued by their insert trigger (`fts_pending`,
migration 006) are indexed in one statement per batch."""

from __future__ import annotations

import sqlite3

_INDEX = ("INSERT INTO articles_fts (rowid, title, description, text) "
          "SELECT a.id, a.title, a.description, a.text "
          "FROM fts_pending p JOIN articles a ON a.id = p.id ORDER BY p.id")


def index_pending(conn: sqlite3.Connection) -> int:
    """Index the queued articles and empty the queue, in the caller's transaction (or in one
    of its own); returns how many were indexed. The writer calls it before each commit, so
    what it commits is searchable; rows inserted by other means are indexed at the next
    write, or by the next search that may write (store.query.search)."""
    if conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is None:
        return 0
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_INDEX)
        indexed = conn.execute("DELETE FROM fts_pending").rowcount
    except BaseException:
        if own:
            conn.rollback()
        raise
    if own:
        conn.commit()
    return indexed


def try_index_pending(conn: sqlite3.Connection) -> None:
    """index_pending when it can be done at once: not on a read-only connection, and not
    waiting for another writer (whose commit will index them anyway)."""
    if conn.in_transaction:
        return
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        index_pending(conn)
    except sqlite3.OperationalError:  # read-only, or locked: search what is indexed
        pass
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
