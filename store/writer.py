"""The single writer: one fetches row for every attempt, one articles row per canonical URL."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from pipeline.records import Article, Result

from .db import open_db
from .dedup import Clusters, SimilarityIndex
from .fts import index_pending
from .pages import kept, pack

log = logging.getLogger(__name__)

# The dedup fields are the deduper's (store/dedup.py); an upsert never overwrites them.
DEDUP_COLUMNS = ("duplicate_of", "similarity", "dup_method")
ARTICLE_COLUMNS = tuple(f.name for f in dataclasses.fields(Article)
                        if f.name not in DEDUP_COLUMNS)
FETCH_COLUMNS = ("url", "final_url", "status", "content_type", "error", "fetched_at",
                 "elapsed_ms", "bytes", "etag", "last_modified", "source")

# Prepared once: the hot path writes plain SQL (sqlite-utils' insert() costs ~100 us a row in
# Python, more than SQLite does); the schema itself is sqlite-utils' (migrations.py).
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
    """Writes Results to SQLite. Holds the only connection; use one Store per process.

    `write` sets `result.outcome` to "new", "duplicate" (a new row that is another copy of a
    stored story), "updated" or "unchanged" when it stores an article, and leaves the
    cleaner's or fetcher's outcome otherwise; `result.article_id` to the article the input
    ended at. Exact copies are found by content_hash; near copies only with an `index`
    (cleaner.dedup.LSHIndex): see store/dedup.py.

    Writes commit in batches: every `batch_rows` results or `batch_seconds` (checked at each
    write), and at `flush()` / `close()`. A crash loses at most the open batch, never a
    committed one, and never half a result. While a batch is open the database's write lock
    is held; another writer waits (busy timeout, store/db.py) and then sees all of it.
    A result that cannot be stored (a database error on its article) is recorded as a
    `store.error` fetch row and the batch goes on.
    """

    def __init__(self, path: str | Path, index: SimilarityIndex | None = None,
                 batch_rows: int = 200, batch_seconds: float = 2.0,
                 keep_pages: bool = True) -> None:
        self.path = Path(path)
        self.keep_pages = keep_pages  # raw responses into `pages`
        self.run_id: int | None = None  # set by whoever records the run (fetches.run_id)
        self.db: sqlite_utils.Database = open_db(self.path)
        self.clusters = Clusters(self.db, index)
        self.batch_rows, self.batch_seconds = batch_rows, batch_seconds
        self._pending = 0
        self._began = 0.0

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()

    def flush(self) -> None:
        """Commit the open batch, its new articles indexed for search."""
        conn = self.db.conn
        if conn.in_transaction:
            try:
                index_pending(conn)
                conn.commit()
            except BaseException:
                conn.rollback()
                self.clusters.rolled_back()
                raise
        self._pending = 0

    def write(self, result: Result) -> Result:
        conn = self.db.conn
        self._begin()
        if result.article is not None:
            with self._savepoint() as ok:
                result.article_id, result.outcome = self._upsert(result)
            if not ok:
                result.article_id, result.outcome = None, "store.error"
                result.error = ok.error
        elif result.outcome in ("not_modified", "alias"):
            # A 304, or an alias of a stored page: the stored article still stands.
            result.article_id = result.article_id or self._last_article_id(result.page.url)
        page = result.page
        row = {name: getattr(page, name) for name in FETCH_COLUMNS}
        row.update(outcome=result.outcome, error=result.error or page.error,
                   article_id=result.article_id, run_id=self.run_id)
        fetch_id = conn.execute(_INSERT_FETCH, row).lastrowid
        if self.keep_pages and (result.stored_body is not None or kept(page)):
            # The response as received, so cleaning can be re-run without fetching again;
            # compressed by store.pages.Pack where cleaning ran, or here.
            conn.execute(_INSERT_PAGE, {
                **{name: getattr(page, name) for name in PAGE_COLUMNS}, "fetch_id": fetch_id,
                "headers": json.dumps(page.headers, ensure_ascii=False),
                "body": result.stored_body or pack(page.body)})
        self._done()
        return result

    def rewrite(self, result: Result) -> Result:
        """Store a re-cleaned article (`scrape reclean`): its row only, no fetch attempt.
        "unchanged" only when every field is as stored (fetched_at aside): a new title or
        date with the same body is "updated"."""
        assert result.article is not None
        self._begin()
        with self._savepoint() as ok:
            if self._as_stored(result):
                result.outcome = "unchanged"
            else:
                result.article_id, result.outcome = self._upsert(result, force=True)
        if not ok:
            result.article_id, result.outcome, result.error = None, "store.error", ok.error
        self._done()
        return result

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
            self._began = time.monotonic()
            self.clusters.catch_up()

    def _done(self) -> None:
        """One result written: close the batch when it is full or old enough."""
        self._pending += 1
        if (self._pending >= self.batch_rows
                or time.monotonic() - self._began >= self.batch_seconds):
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
        for result in results:
            yield self.write(result)

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
            return article_id, "unchanged"
        row["tags"] = json.dumps(row["tags"], ensure_ascii=False)  # as sqlite-utils stores lists
        if existing is None:
            article_id = self.db.conn.execute(
                _INSERT_ARTICLE, {**row, "first_seen_at": now, "updated_at": now}).lastrowid
            outcome = "new"
        else:
            article_id = existing[0]
            self.db.conn.execute(_UPDATE_ARTICLE, {**row, "updated_at": now, "id": article_id})
            outcome = "updated"
        sig = result.signature
        if sig is None and self.clusters.index is not None:
            sig = result.signature = self.clusters.index.sign(article.text)
        method = self.clusters.place(article_id, article, sig, fresh=outcome == "new")
        if outcome == "new" and method is not None:
            # Another copy of a stored story (it may have become the story's canonical row).
            outcome = "duplicate"
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

