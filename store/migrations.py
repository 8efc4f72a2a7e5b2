"""Schema migrations: ordered functions, each applied once and recorded in `_migrations`.

Add a migration by appending a function to MIGRATIONS; never edit one that has shipped.
Column names are the record field names (pipeline.records), so a row reads back as a record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def m001_articles_and_fetches(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "title": str,
            "description": str,
            "author": str,
            "date": str,
            "sitename": str,
            "language": str,
            "text": str,
            "word_count": int,
            "content_hash": str,
            "image_url": str,
            "image_caption": str,
            "repeated_paragraphs_removed": int,
            "fetched_at": str,
            "first_seen_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"url", "canonical_url"},
    )
    db["articles"].create_index(["canonical_url"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["fetches"].create(
        {
            "id": int,
            "url": str,
            "final_url": str,
            "status": int,
            "content_type": str,
            "error": str,
            "outcome": str,
            "fetched_at": str,
            "elapsed_ms": int,
            "bytes": int,
            "article_id": int,
        },
        pk="id",
        not_null={"url", "outcome"},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["fetches"].create_index(["url"])
    db["fetches"].create_index(["article_id"])


def m002_article_dates_and_tags(db: sqlite_utils.Database) -> None:
    """Article.date_modified (YYYY-MM-DD) and Article.tags (a JSON array of strings, as text)."""
    db["articles"].add_column("date_modified", str)
    db["articles"].add_column("tags", str)


def m003_fetch_validators_and_source(db: sqlite_utils.Database) -> None:
    """fetches.etag and fetches.last_modified (the response's validators, sent back on the next
    run), fetches.source (where the URL came from: "cli", "sitemap:<url>", ...)."""
    db["fetches"].add_column("etag", str)
    db["fetches"].add_column("last_modified", str)
    db["fetches"].add_column("source", str)
    db["fetches"].create_index(["url", "fetched_at"])


def m004_duplicates(db: sqlite_utils.Database) -> None:
    """Cross-document dedup: articles.duplicate_of (the cluster's canonical article; NULL for
    canonical ones), similarity, dup_method, canonical_link (the page's declared canonical,
    any site); `signatures` (one MinHash per article, by scheme, loaded at start instead of
    re-reading bodies); the view `unique_articles` (one row per story, with its copies)."""
    articles = db["articles"]
    articles.add_column("canonical_link", str)
    articles.add_column("duplicate_of", int, fk="articles", fk_col="id")
    articles.add_column("similarity", float)
    articles.add_column("dup_method", str)
    articles.create_index(["duplicate_of"])
    articles.create_index(["canonical_link"])
    # seq grows with every write (AUTOINCREMENT never reuses a value), so a writer catches up
    # with signatures other processes stored by reading seq > the last one it saw.
    db.execute("""
        CREATE TABLE signatures (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            article_id INTEGER NOT NULL UNIQUE REFERENCES articles(id) ON DELETE CASCADE,
            scheme TEXT NOT NULL,
            shingles INTEGER NOT NULL,
            minhash BLOB NOT NULL
        )""")
    db.execute("""
        CREATE VIEW unique_articles AS
        SELECT a.*, (SELECT count(*) FROM articles d WHERE d.duplicate_of = a.id) AS copies
        FROM articles a WHERE a.duplicate_of IS NULL""")


MIGRATIONS: list[Migration] = [m001_articles_and_fetches, m002_article_dates_and_tags,
                               m003_fetch_validators_and_source, m004_duplicates]


def applied(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [row["name"] for row in db["_migrations"].rows_where(order_by="id")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations this database has not seen, in order; return their names."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"id": int, "name": str, "applied_at": str}, pk="id")
    done = set(applied(db))
    ran = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        # Each migration and its record commit together, or not at all (SQLite's DDL is
        # transactional; the explicit BEGIN keeps Python's sqlite3 from autocommitting it).
        db.conn.execute("BEGIN")
        try:
            migration(db)
            db.conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(UTC).isoformat(timespec="seconds")],
            )
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.commit()
        ran.append(name)
    return ran
