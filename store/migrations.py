"""Schema migrations: ordered functions, each applied once and recorded in `_migrations`.

Add a migration by appending a function to MIGRATIONS; never edit one that has shipped.
Column names are the record field names (records), so a row reads back as a record.
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


def m005_runs_sources_pages_search(db: sqlite_utils.Database) -> None:
    """`runs` (one row per ingest or batch run: arguments, counts, status), `sources` (the
    batch sources, by name), `pages` (the raw response of every fetch that had a body:
    headers and the zlib-compressed body, for `scrape reclean`), fetches.run_id, and
    `articles_fts` (FTS5 over title, description and text, kept current by triggers)."""
    db["runs"].create({
        "id": int,
        "command": str,  # "ingest", "batch", "reclean"
        "arguments": str,  # JSON
        "started_at": str,
        "finished_at": str,
        "status": str,  # "running", "completed", "failed" (could not run, or all failed),
                        # "interrupted" (killed: found still "running" by a later run)
        "counts": str,  # JSON {outcome: inputs}
        "pid": int,
        "host": str,
    }, pk="id")
    db["sources"].create({
        "name": str,
        "kind": str,  # "urls", "sitemap", "feed", "page"
        "location": str,  # URL or path
        "max_pages": int,
        "config": str,  # the source's entry in sources.toml, as JSON
        "added_at": str,
        "last_run_id": int,
    }, pk="name", foreign_keys=[("last_run_id", "runs", "id")])
    db["fetches"].add_column("run_id", int, fk="runs", fk_col="id")
    db["fetches"].create_index(["run_id"])
    db["fetches"].create_index(["source"])
    db["pages"].create({
        "fetch_id": int,
        "url": str,
        "final_url": str,
        "status": int,
        "content_type": str,
        "encoding": str,
        "headers": str,  # JSON object
        "body": bytes,  # zlib-compressed
        "bytes": int,  # uncompressed size
        "fetched_at": str,
        "origin_url": str,
    }, pk="fetch_id", foreign_keys=[("fetch_id", "fetches", "id")])
    db["pages"].create_index(["url", "fetched_at"])
    # FTS5 over the articles table's own text (external content: nothing stored twice).
    # The update trigger fires only when the indexed columns change, not on dedup marks.
    db.execute("""
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, description, text, content='articles', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2')""")
    db.execute("""
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts (rowid, title, description, text)
            VALUES (new.id, new.title, new.description, new.text);
        END""")
    db.execute("""
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
            VALUES ('delete', old.id, old.title, old.description, old.text);
        END""")
    db.execute("""
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, description, text
        ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
            VALUES ('delete', old.id, old.title, old.description, old.text);
            INSERT INTO articles_fts (rowid, title, description, text)
            VALUES (new.id, new.title, new.description, new.text);
        END""")
    # Articles stored before this migration.
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")


def m006_fts_indexed_per_batch(db: sqlite_utils.Database) -> None:
    """New articles are queued for the full-text index by their trigger (`fts_pending`) and
    indexed a batch at a time, in the writer's transaction (store/fts.py), instead of one
    FTS5 insert per row: SQLite (3.40 here) flushes FTS5's pending terms into a new index
    segment at every statement savepoint, so a trigger fed row by row wrote one segment per
    article, then merged them (bench/store.py: more than the rest of a write). Deletes and
    updates still reach the index through triggers, and leave alone a row still in the
    queue (deleting terms never indexed would corrupt the index).
    Page bodies written from now on are zstd frames (store/pages.py tells them from zlib)."""
    db.execute("CREATE TABLE fts_pending (id INTEGER PRIMARY KEY)")
    for name in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER articles_fts_{name}")
    queued = "EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id)"
    db.execute("""
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO fts_pending (id) VALUES (new.id);
        END""")
    db.execute(f"""
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
            SELECT 'delete', old.id, old.title, old.description, old.text WHERE NOT {queued};
            DELETE FROM fts_pending WHERE id = old.id;
        END""")
    db.execute(f"""
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, description, text
        ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
            SELECT 'delete', old.id, old.title, old.description, old.text WHERE NOT {queued};
            INSERT OR IGNORE INTO fts_pending (id) VALUES (new.id);
        END""")


def m007_article_removed_words(db: sqlite_utils.Database) -> None:
    """Words the cleaner removed from what the extractor returned (Article.removed_words);
    NULL for articles stored before: not known."""
    db["articles"].add_column("removed_words", int)


def m008_article_markdown(db: sqlite_utils.Database) -> None:
    """The body as CommonMark (Article.markdown); NULL for articles stored before, until
    `scrape reclean` fills it from their kept page (exports render the text meanwhile).
    Not indexed for search: `text` holds the same words."""
    db["articles"].add_column("markdown", str)


def m009_reader_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for the reader (pipeline/web) and the search filters (store.query.Filters):
    articles.sitename, .language and .date, whose conditions then never read an article's
    row (its body spans pages); fetches(source, article_id) for the source filter and the
    sources' article counts; fetches(source, run_id, outcome) for a source's runs and
    outcomes. The last two replace the index on source alone."""
    for column in ("sitename", "language", "date"):
        db["articles"].create_index([column])
    db["fetches"].create_index(["source", "article_id"])
    db["fetches"].create_index(["source", "run_id", "outcome"])
    db.execute("DROP INDEX idx_fetches_source")


def m010_crawl_frontier(db: sqlite_utils.Database) -> None:
    """A site crawl's frontier (store/frontier.py): `frontier`, one row per URL a source's
    crawl has found on its site (its depth, its judgement once fetched: "article", "listing",
    "other", when first seen and last fetched, the page it was found on), so a killed crawl
    resumes and the next run starts from what is known; `frontier_skips`, the links each run
    did not follow, by source and reason (off-site, files, denied...)."""
    db.execute("""
        CREATE TABLE frontier (
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            depth INTEGER NOT NULL,
            judgement TEXT,
            first_seen_at TEXT NOT NULL,
            last_fetched_at TEXT,
            found_on TEXT,
            PRIMARY KEY (source, url)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE frontier_skips (
            source TEXT NOT NULL,
            run_id INTEGER REFERENCES runs(id),
            reason TEXT NOT NULL,
            links INTEGER NOT NULL,
            PRIMARY KEY (source, run_id, reason)
        )""")


MIGRATIONS: list[Migration] = [m001_articles_and_fetches, m002_article_dates_and_tags,
                               m003_fetch_validators_and_source, m004_duplicates,
                               m005_runs_sources_pages_search, m006_fts_indexed_per_batch,
                               m007_article_removed_words, m008_article_markdown,
                               m009_reader_indexes, m010_crawl_frontier]


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
