"""Store and History given an open database (sqlite-utils style) instead of a path: they use
that connection, prepare it as open_db would, and leave it open for its owner."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlite_utils

from records import Article, Page, Result
from store import MIGRATIONS, History, Store, writer
from store.db import db_file
from store.runs import start_run

URL = "https://news.example.com/a"


def result(n: int = 0, etag: str | None = None) -> Result:
    url = f"{URL}{n or ''}"
    page = Page(url=url, final_url=url, status=200, content_type="text/html",
                body=b"<p>x</p>", bytes=8, fetched_at="2026-01-01T00:00:00+00:00",
                etag=etag, last_modified="Thu, 01 Jan 2026 00:00:00 GMT" if etag else None)
    article = Article(url=url, canonical_url=url, title="A title", text="A paragraph.",
                      word_count=2, content_hash=f"h{n}",
                      fetched_at="2026-01-01T00:00:00+00:00")
    return Result(page=page, article=article)


def committed(db: sqlite_utils.Database, table: str) -> int:
    """Rows of `table` that another connection to the same file sees: what is committed."""
    other = sqlite_utils.Database(db_file(db))
    try:
        return other[table].count
    finally:
        other.close()


def in_thread(call: Callable[[], Any]) -> Any:
    """call() in a new thread; its value, or what it raised."""
    out: list[Any] = []

    def target() -> None:
        try:
            out.append(call())
        except Exception as exc:  # handed back to the test
            out.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return out[0]


def test_a_store_writes_through_the_database_it_is_given_and_leaves_it_open(fresh_db):
    with Store(fresh_db, batch_rows=1000, batch_seconds=3600) as store:
        assert store.db is fresh_db and store.path == db_file(fresh_db)
        assert store.write(result()).outcome == "new"
        # The open batch is on the caller's connection: seen there, not yet anywhere else.
        assert fresh_db["articles"].count == 1 and fresh_db["fetches"].count == 1
        assert committed(fresh_db, "articles") == 0
    # Closing committed the batch and left the connection open, with no transaction.
    assert not fresh_db.conn.in_transaction
    assert committed(fresh_db, "articles") == 1 and committed(fresh_db, "fetches") == 1
    run_id = start_run(fresh_db, "ingest", {})  # the owner goes on writing through it
    assert committed(fresh_db, "runs") == 1 and run_id == 1


def test_a_store_prepares_a_plain_database_as_open_db_does(tmp_path):
    db = sqlite_utils.Database(tmp_path / "plain.db")
    try:
        with Store(db) as store:
            store.write(result())
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 60000
        assert [r["name"] for r in db["_migrations"].rows] == [m.__name__ for m in MIGRATIONS]
        # Again on the prepared database: no migration runs twice, the rows stay.
        with Store(db) as store:
            assert store.write(result()).outcome == "unchanged"
        assert db["_migrations"].count == len(MIGRATIONS)
        assert (db["articles"].count, db["fetches"].count) == (1, 2)
    finally:
        db.close()


def test_a_store_refuses_a_database_with_an_open_transaction(fresh_db):
    fresh_db.conn.execute("INSERT INTO runs (command, started_at, status) "
                          "VALUES ('ingest', '2026-01-01', 'running')")
    assert fresh_db.conn.in_transaction
    with pytest.raises(ValueError, match="open transaction"):
        Store(fresh_db)
    fresh_db.conn.rollback()
    assert fresh_db["runs"].count == 0


def test_a_batch_that_cannot_commit_leaves_nothing_on_the_callers_connection(fresh_db,
                                                                             monkeypatch):
    def full(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store = Store(fresh_db, batch_rows=1000, batch_seconds=3600)
    written = store.write(result())
    monkeypatch.setattr(writer, "index_pending", full)
    with pytest.raises(sqlite3.OperationalError):
        store.close()
    assert written.outcome == "store.error"
    assert not fresh_db.conn.in_transaction
    assert (fresh_db["articles"].count, fresh_db["fetches"].count) == (0, 0)
    fresh_db.execute("SELECT 1")  # still open: the caller closes it


def test_a_history_given_the_database_reads_through_it_in_its_thread(fresh_db):
    history = History(fresh_db)
    with Store(fresh_db, batch_rows=1000, batch_seconds=3600) as store:
        store.write(result(etag='"v1"'))
        # This thread reads through the writer's connection: the open batch is seen ...
        last = history.last_good_fetch(URL)
        assert last is not None and last.etag == '"v1"'
        assert last.last_modified == "Thu, 01 Jan 2026 00:00:00 GMT"
        # ... another thread, through a read-only connection of its own, sees what is
        # committed: nothing yet, then the batch once flushed.
        assert in_thread(lambda: history.last_good_fetch(URL)) is None
        store.flush()
        assert in_thread(lambda: history.last_good_fetch(URL)) == last
    assert history.last_good_fetch(f"{URL}/other") is None
    history.close()
    assert fresh_db["fetches"].count == 1  # closing the History left the database open


def test_a_history_needs_the_databases_own_thread_or_a_file(tmp_path):
    made = in_thread(lambda: sqlite_utils.Database(tmp_path / "other-thread.db"))
    with pytest.raises(sqlite3.ProgrammingError):  # SQLite connections stay in their thread
        History(made)
    memory = sqlite_utils.Database(memory=True)
    try:
        with Store(memory) as store:
            store.write(result(etag='"m"'))
        history = History(memory)
        assert history.path is None and history.last_good_fetch(URL).etag == '"m"'
        error = in_thread(lambda: history.last_good_fetch(URL))
        assert isinstance(error, ValueError) and "in-memory" in str(error)
        history.close()
    finally:
        memory.close()
