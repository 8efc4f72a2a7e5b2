"""The single writer: one fetches row for every attempt, one articles row per canonical URL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from pipeline.records import Article, Result

from .db import open_db

ARTICLE_COLUMNS = tuple(f.name for f in dataclasses.fields(Article))
FETCH_COLUMNS = ("url", "final_url", "status", "content_type", "error", "fetched_at",
                 "elapsed_ms", "bytes", "etag", "last_modified", "source")



class Store:
    """Writes Results to SQLite. Holds the only connection; use one Store per process.

    `write` sets `result.outcome` to "new", "updated" or "unchanged" when it stores an article,
    and leaves the cleaner's or fetcher's outcome otherwise.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db: sqlite_utils.Database = open_db(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def write(self, result: Result) -> Result:
        with self.db.conn:  # the article and its fetch row commit together
            article_id = None
            if result.article is not None:
                article_id, result.outcome = self._upsert(result.article)
            elif result.outcome == "not_modified":  # a 304: the stored article still stands
                article_id = self._last_article_id(result.page.url)
            page = result.page
            row = {name: getattr(page, name) for name in FETCH_COLUMNS}
            row.update(outcome=result.outcome, error=result.error or page.error,
                       article_id=article_id)
            self.db["fetches"].insert(row)
        return result

    def __call__(self, results: Iterable[Result]) -> Iterator[Result]:
        for result in results:
            yield self.write(result)

    def _upsert(self, article: Article) -> tuple[int, str]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        row = {name: getattr(article, name) for name in ARTICLE_COLUMNS}
        existing = self.db.execute(
            "SELECT id, content_hash FROM articles WHERE canonical_url = ?",
            [article.canonical_url],
        ).fetchone()
        if existing is None:
            table = self.db["articles"].insert({**row, "first_seen_at": now, "updated_at": now})
            return table.last_pk, "new"
        article_id, old_hash = existing
        if old_hash == article.content_hash:
            self.db["articles"].update(article_id, {"fetched_at": row["fetched_at"]})
            return article_id, "unchanged"
        self.db["articles"].update(article_id, {**row, "updated_at": now})
        return article_id, "updated"

    def _last_article_id(self, url: str) -> int | None:
        row = self.db.execute(
            "SELECT article_id FROM fetches WHERE url = ? AND article_id IS NOT NULL "
            "ORDER BY id DESC LIMIT 1", [url]).fetchone()
        return row[0] if row else None

    def article(self, canonical_url: str) -> dict | None:
        rows = list(self.db["articles"].rows_where("canonical_url = ?", [canonical_url]))
        return rows[0] if rows else None
