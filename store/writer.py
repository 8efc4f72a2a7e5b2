"""The single writer: one fetches row for every attempt, one articles row per canonical URL."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from records import Article, Result
from records.outcomes import (
    DUPLICATE,
    NEW,
    STORE_ERROR,
    STORED_ARTICLE_STANDS,
    UNCHANGED,
    UPDATED,
)

from .db import db_file, open_db, prepare_db
from .dedup import Clusters, SimilarityIndex
from . import frontier
from .fts import index_pending
from .pages import kept, pack

log = logging.getLogger(__name__)

# The dedup fields are the deduper's (store/dedup.py); an upsert never overwrites them.
DEDUP_COLUMNS = ("duplicate_of", "similarity", "dup_method")
ARTICLE_COLUMNS = tuple(f.name for f in dataclasses.fields(Article)
                        if f.name not in DEDUP_COLUMNS)
FETCH_COLUMNS = ("url", "final_url", "status", "content_type", "error", "fetched_at",
                 "elapsed_ms", "bytes", "etag", "last_modified", "source")

# SQLite's primary result codes that are the database's failure, not a row's: out of
# memory, read-only, I/O error, corrupt, full, cannot open, not a database.
_FATAL_CODES = frozenset({sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
                          sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
                          sqlite3.SQLITE_NOTADB})

# Prepared once: the hot path writes plain SQL (sqlite-utils' insert() costs more per row in
# Python than SQLite does); the schema itself is sqlite-utils' (migrations.py).
_INSERT_FETCH = (f"INSERT INTO fetches ({', '.join(FETCH_COLUMNS)}, outcome, article_id, run_id) "
                 f"VALUES ({', '.join(':' + c for c in FETCH_COLUMNS)}, :outcome, :article_id, "
                 f":run_id)")
PAGE_COLUMNS = ("url", "final_url", "status", "content_type", "encoding", "bytes", "fetched_at",
                "origin_url")
_INSERT_PAGE = (f"INSERT INTO pages (fetch_id, headers, body, {', '.join(PAGE_COLUMNS)}) "
                f"VALUES (:fetch_id, :headers, :body, {', '.join(':' + c for c in PAGE_COLUMNS)})")
_NEW_COLUMNS = (*ARTICLE_COLUMNS, "first_seen_at", "updated_at")
_INSERT_ARTICLE = (f"INSERT INTO articles ({', '.join(_NEW_COLUMNS)}) "
                   f"VALUES ({', '.join(':' + c for c in _NEW_COLUMNS)})")
# A row's url: the latest page's, except that once the story was fetched at its canonical
# URL, a tracking variant (changed or not) does not replace it; so the row does not depend
# on which of the story's URLs completed first.
_ROW_URL = "CASE WHEN url = canonical_url AND :url != canonical_url THEN url ELSE :url END"
_UPDATE_ARTICLE = ("UPDATE articles SET "
                   + ", ".join(f"{c} = {_ROW_URL if c == 'url' else ':' + c}"
                               for c in (*ARTICLE_COLUMNS, "updated_at"))
                   + " WHERE id = :id")
_SEEN_AGAIN = f"UPDATE articles SET fetched_at = :fetched_at, url = {_ROW_URL} WHERE id = :id"


@dataclass
class _Outcome:
    error: str | None = None

    def __bool__(self) -> bool:
        return self.error is None


class Store:
    """Writes Results to SQLite. Use one Store per process: its connection is the writer.

    `db`: the path of a database, which the Store opens (store.db.open_db) and closes; or an
    open sqlite_utils.Database, which it prepares as open_db does (store.db.prepare_db) and
    writes through, leaving it open at close (the caller's: the Store's writes committed).

    `write` sets `result.outcome` to "new", "duplicate" (a new row that is another copy of a
    stored story), "updated" or "unchanged" when it stores an article, and leaves the
    cleaner's or fetcher's outcome otherwise; `result.article_id` to the article the input
    ended at. Exact copies are found by content_hash; near copies only with an `index`
    (cleaner.dedup.LSHIndex): see store/dedup.py.

    Writes commit in batches: at a write that makes `batch_rows` results or comes
    `batch_seconds` after the last commit (so a slow trickle commits each result at once, a
    fast stream every `batch_seconds`), and at `flush()` / `close()`. A crash loses at most
    the open batch, never a committed one, and never half a result. While a batch is open
    the database's write lock is held; another writer waits (busy timeout, store/db.py) and
    then sees all of it. A result that cannot be stored (a database error on its article) is
    recorded as a `store.error` fetch row and the batch goes on. A batch that cannot be
    committed (a full disk) is rolled back: its results become `store.error` and the error
    is raised.

    Iterating `store(results)` (or `store.rewrites(results)`) yields each result only once
    the transaction holding it has committed: what it says is what the database holds.
    """

    def __init__(self, db: sqlite_utils.Database | str | Path,
                 index: SimilarityIndex | None = None, batch_rows: int = 200,
                 batch_seconds: float = 2.0, keep_pages: bool = True) -> None:
        self.keep_pages = keep_pages  # raw responses into `pages`
        self.run_id: int | None = None  # set by whoever records the run (fetches.run_id)
        self._owns_db = not isinstance(db, sqlite_utils.Database)  # else the caller's
        if isinstance(db, sqlite_utils.Database):
            # Batches are the Store's transactions: one left open would be committed in them.
            if db.conn.in_transaction:
                raise ValueError("the database has an open transaction: commit or roll it "
                                 "back before a Store writes through it")
            self.db: sqlite_utils.Database = prepare_db(db)
            self.path: Path | None = db_file(db)
        else:
            self.path = Path(db)
            self.db = open_db(self.path)
        self.clusters = Clusters(self.db, index)
        self.batch_rows, self.batch_seconds = batch_rows, batch_seconds
        self._committed_at = time.monotonic()
        self._uncommitted: list[Result] = []  # written in the open batch
        self._ready: deque[Result] | None = None  # committed, not yet yielded (iterating)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit the open batch; close the database if the Store opened it."""
        try:
            self.flush()
        finally:
            if self._owns_db:
                self.db.close()  # what a failed flush left uncommitted is rolled back
            elif self.db.conn.in_transaction:  # the same for the caller's connection
                with suppress(sqlite3.Error):
                    self.db.conn.rollback()

    def flush(self) -> None:
        """Commit the open batch, its new articles indexed for search. When that fails, the
        batch is rolled back, its results marked `store.error`, and the error raised."""
        conn = self.db.conn
        if conn.in_transaction:
            try:
                index_pending(conn)
                conn.commit()
            except BaseException as exc:
                self._roll_back(exc)
                raise
        elif self._uncommitted:  # SQLite rolled the batch back itself: say so, not "new"
            self._roll_back(sqlite3.OperationalError("the transaction was rolled back"))
        self._committed_at = time.monotonic()
        if self._ready is not None:
            self._ready.extend(self._uncommitted)
        self._uncommitted.clear()

    def _roll_back(self, exc: BaseException) -> None:
        """Undo the open batch; its results (already written, never committed) now say so."""
        try:
            self.db.conn.rollback()
        except sqlite3.Error:  # SQLite may have rolled it back itself (SQLITE_FULL)
            pass
        self.clusters.rolled_back()
        if isinstance(exc, Exception):
            error = f"not stored: the database could not commit: {type(exc).__name__}: {exc}"
            for result in self._uncommitted:
                result.outcome, result.error, result.article_id = STORE_ERROR, error, None
            if self._ready is not None:
                self._ready.extend(self._uncommitted)
        self._uncommitted.clear()

    def write(self, result: Result) -> Result:
        """Write one result (its fetch attempt, its article) in the open batch."""
        return self._in_batch(result, self._write)

    def _in_batch(self, result: Result, write: Callable[[Result], None]) -> Result:
        """`write(result)` in the open batch (begun if none is); commit when it is due."""
        try:
            self._begin()
            write(result)
        except sqlite3.Error as exc:  # not its article: the batch itself (a full disk)
            self._uncommitted.append(result)
            self._roll_back(exc)
            raise
        self._done(result)
        return result

    def _write(self, result: Result) -> None:
        conn = self.db.conn
        if result.article is not None:
            with self._savepoint() as ok:
                result.article_id, result.outcome = self._upsert(result)
            if not ok:
                result.article_id, result.outcome = None, STORE_ERROR
                result.error = ok.error
        elif result.outcome in STORED_ARTICLE_STANDS:
            # A 304, or an alias of a stored page: the stored article still stands.
            result.article_id = result.article_id or self._last_article_id(result.page.url)
        page = result.page
        row = {name: getattr(page, name) for name in FETCH_COLUMNS}
        row.update(outcome=result.outcome, error=result.error or page.error,
                   article_id=result.article_id, run_id=self.run_id)
        fetch_id = conn.execute(_INSERT_FETCH, row).lastrowid
        if result.crawl is not None:
            frontier.record(conn, page.source, page.url, result.crawl, page.fetched_at,
                            self.run_id)
        if self.keep_pages and (result.stored_body is not None or kept(page)):
            # The response as received, so cleaning can be re-run without fetching again;
            # compressed by store.pages.Pack where cleaning ran, or here.
            conn.execute(_INSERT_PAGE, {
                **{name: getattr(page, name) for name in PAGE_COLUMNS}, "fetch_id": fetch_id,
                "headers": json.dumps(page.headers, ensure_ascii=False),
                "body": result.stored_body or pack(page.body)})

    def rewrite(self, result: Result) -> Result:
        """Store a re-cleaned article (`scrape reclean`): its row only, no fetch attempt.
        "unchanged" only when every field is as stored (fetched_at aside): a new title or
        date with the same body is "updated"."""
        assert result.article is not None
        return self._in_batch(result, self._rewrite)

    def _rewrite(self, result: Result) -> None:
        with self._savepoint() as ok:
            if self._as_stored(result):
                result.outcome = UNCHANGED
            else:
                result.article_id, result.outcome = self._upsert(result, force=True)
        if not ok:
            result.article_id, result.outcome, result.error = None, STORE_ERROR, ok.error

    def _as_stored(self, result: Result) -> bool:
        """True (and result.article_id, dup fields set) when the row holds this article."""
        article = result.article
        assert article is not None
        names = [n for n in ARTICLE_COLUMNS if n != "fetched_at"]
        cursor = self.db.conn.execute(
            f"SELECT id, duplicate_of, similarity, dup_method, {', '.join(names)} "
            f"FROM articles WHERE canonical_url = ?", [article.canonical_url])
        row = cursor.fetchone()
        if row is None:
            return False
        stored = dict(zip(names, row[4:], strict=True))
        stored["tags"] = json.loads(stored["tags"] or "[]")
        if any(stored[n] != getattr(article, n) for n in names):
            return False
        result.article_id = row[0]
        article.duplicate_of, article.similarity, article.dup_method = row[1:4]
        return True

    def _begin(self) -> None:
        if not self.db.conn.in_transaction:
            # IMMEDIATE: the write lock is taken before dedup reads the index's state, so a
            # concurrent writer's copy of a story is either fully seen or not yet begun.
            self.db.conn.execute("BEGIN IMMEDIATE")
            self.clusters.catch_up()

    def _done(self, result: Result) -> None:
        """One result written: commit when the batch is full or the last commit is old."""
        self._uncommitted.append(result)
        if (len(self._uncommitted) >= self.batch_rows
                or time.monotonic() - self._committed_at >= self.batch_seconds):
            self.flush()

    @contextmanager
    def _savepoint(self) -> Iterator[_Outcome]:
        """Undo one result's article writes (and the index's view of them) if they fail."""
        ok = _Outcome()
        mark = self.clusters.mark()
        self.db.conn.execute("SAVEPOINT result")
        try:
            yield ok
        except Exception as exc:  # this row, not the batch
            if _fatal(exc):  # the database itself (a full disk): the batch fails
                with suppress(sqlite3.Error):
                    self._undo(mark)
                raise
            self._undo(mark)
            log.exception("storing an article failed")
            ok.error = f"could not store the article: {type(exc).__name__}: {exc}"
        except BaseException:  # interrupted: the batch so far is whole, this result is not
            self._undo(mark)
            self.db.conn.execute("RELEASE result")
            raise
        self.db.conn.execute("RELEASE result")

    def _undo(self, mark: int) -> None:
        self.db.conn.execute("ROLLBACK TO result")
        self.clusters.restore(mark)

    def __call__(self, results: Iterable[Result]) -> Iterator[Result]:
        """Write each result; yield it once committed (see the class docstring)."""
        return self._committed(results, rewrite=False)

    def rewrites(self, results: Iterable[Result]) -> Iterator[Result]:
        """`rewrite` each result that has an article, yield it once committed; a result
        without one (nothing to store) is yielded as it comes."""
        return self._committed(results, rewrite=True)

    def _committed(self, results: Iterable[Result], rewrite: bool) -> Iterator[Result]:
        ready: deque[Result] = deque()
        self._ready = ready
        try:
            for result in results:
                if rewrite and result.article is None:
                    yield result
                    continue
                try:
                    self.rewrite(result) if rewrite else self.write(result)
                except sqlite3.Error:  # the batch failed: its results first, then the error
                    yield from _drain(ready)
                    raise
                yield from _drain(ready)
            self.flush()
        except GeneratorExit:
            raise
        except BaseException:
            # Interrupted (or failed) between two results: what is written commits now, as
            # close() would have, and is said; a failed commit says store.error.
            with suppress(sqlite3.Error):
                self.flush()
            yield from _drain(ready)
            raise
        finally:
            self._ready = None
        yield from _drain(ready)

    def _upsert(self, result: Result, force: bool = False) -> tuple[int, str]:
        article = result.article
        assert article is not None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        row = {name: getattr(article, name) for name in ARTICLE_COLUMNS}
        existing = self.db.execute(
            "SELECT id, content_hash, duplicate_of, similarity, dup_method FROM articles "
            "WHERE canonical_url = ?", [article.canonical_url]).fetchone()
        if existing is not None and existing[1] == article.content_hash and not force:
            article_id = existing[0]
            self.db.conn.execute(_SEEN_AGAIN, {"fetched_at": row["fetched_at"],
                                               "url": row["url"], "id": article_id})
            article.duplicate_of, article.similarity, article.dup_method = existing[2:]
            return article_id, UNCHANGED
        row["tags"] = json.dumps(row["tags"], ensure_ascii=False)  # as sqlite-utils stores lists
        if existing is None:
            article_id = self.db.conn.execute(
                _INSERT_ARTICLE, {**row, "first_seen_at": now, "updated_at": now}).lastrowid
            outcome = NEW
        else:
            article_id = existing[0]
            self.db.conn.execute(_UPDATE_ARTICLE, {**row, "updated_at": now, "id": article_id})
            outcome = UPDATED
        sig = result.signature  # signed where it was cleaned (cleaner.dedup.Sign) in a run;
        if sig is None and self.clusters.index is not None:  # a Result written directly
            sig = result.signature = self.clusters.index.sign(article.text)
        method = self.clusters.place(article_id, article, sig, fresh=outcome == NEW)
        if outcome == NEW and method is not None:
            # Another copy of a stored story (it may have become the story's canonical row).
            outcome = DUPLICATE
        return article_id, outcome

    def article_id(self, canonical_url: str) -> int | None:
        """The id of the stored article with this canonical URL, if any."""
        row = self.db.execute("SELECT id FROM articles WHERE canonical_url = ?",
                              [canonical_url]).fetchone()
        return row[0] if row else None

    def _last_article_id(self, url: str) -> int | None:
        row = self.db.execute(
            "SELECT article_id FROM fetches WHERE url = ? AND article_id IS NOT NULL "
            "ORDER BY id DESC LIMIT 1", [url]).fetchone()
        return row[0] if row else None

    def article(self, canonical_url: str) -> dict | None:
        rows = list(self.db["articles"].rows_where("canonical_url = ?", [canonical_url]))
        return rows[0] if rows else None


def _drain(ready: deque[Result]) -> Iterator[Result]:
    while ready:
        yield ready.popleft()


def _fatal(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _FATAL_CODES
