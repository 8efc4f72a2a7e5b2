"""Reading the store: full-text search, streaming export, and counts.

Every function takes an open database (store.open_db) and only reads. Column names are the
record's field names (pipeline/records.py), so an exported row builds an Article again.

Search uses `articles_fts` (FTS5 over title, description and text, kept current by triggers:
store/migrations.py m005). A query is FTS5 syntax when it parses as such (`"a phrase"`,
`OR`, `NOT`, `prefix*`, `title: word`, `NEAR(a b)`); when it does not (`l'été`, `covid-19`,
`"unbalanced`, a bare `-` or `AND`), every word is searched as a plain term instead, all of
them required: a user's query never fails on syntax.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from pipeline.records import Article

from .fts import try_index_pending

# bm25() weights of the indexed columns, in their order (title, description, text): a word in
# the headline counts ten times one in the body, one in the standfirst four times.
WEIGHTS = (10.0, 4.0, 1.0)
# What snippet() puts around each matched term, and where it cut the text.
MARKS = ("«", "»")
ELLIPSIS = "…"
SNIPPET_TOKENS = 16  # words around the match (FTS5's maximum is 64)

# The export's columns: the id, every Article field in declaration order, then the store's
# own timestamps (UTC, ISO 8601, seconds: "2026-01-01T12:00:00+00:00").
EXPORT_COLUMNS: tuple[str, ...] = (
    "id", *(f.name for f in dataclasses.fields(Article)), "first_seen_at", "updated_at")


class QueryError(ValueError):
    """A search that cannot be run at all (an empty query)."""


@dataclass(frozen=True)
class FtsQuery:
    """The MATCH expression a user's query becomes."""

    expression: str
    # Why the query was not used as written (SQLite's message), or None when it was.
    rewritten_because: str | None = None


@dataclass(frozen=True)
class Hit:
    """One search result, best first. `score` is -bm25: higher is better."""

    id: int
    url: str
    canonical_url: str
    title: str | None
    date: str | None
    sitename: str | None
    duplicate_of: int | None
    score: float
    snippet: str  # the best-matching passage, matched terms between MARKS


def plain_terms(query: str) -> str:
    """`query` as FTS5 string literals, one per whitespace-separated word (all required).

    Inside double quotes FTS5 has no operators: `"covid-19"` is the phrase covid 19, `"-"`
    and `"AND"` are ordinary tokens (a word with no letters or digits matches nothing and is
    ignored beside other words)."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def fts_query(db: sqlite_utils.Database, query: str) -> FtsQuery:
    """The MATCH expression for a user's query: the query itself when FTS5 accepts it, else
    its words as plain terms (plain_terms). Raises QueryError for an empty query."""
    if not query.strip():
        raise QueryError("the query is empty")
    try:
        # FTS5 parses the expression on the first step; LIMIT 1 keeps the check cheap.
        db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1",
                   [query]).fetchall()
    except sqlite3.OperationalError as exc:
        return FtsQuery(plain_terms(query), rewritten_because=str(exc))
    return FtsQuery(query)


def search(db: sqlite_utils.Database, query: str, limit: int = 20,
           unique: bool = False) -> Iterator[Hit]:
    """Articles matching `query`, best first (bm25 with WEIGHTS; ties by id), at most `limit`.

    `query` is FTS5 syntax or plain words (see fts_query). `unique` leaves out duplicates
    (rows with `duplicate_of` set): one hit per story, its canonical article, when that
    article matches. Snippets are computed for the returned hits only."""
    try_index_pending(db.conn)  # articles inserted other than through the Store
    expression = fts_query(db, query).expression
    weights = ", ".join(str(float(w)) for w in WEIGHTS)
    where = " AND a.duplicate_of IS NULL" if unique else ""
    # The inner query ranks every match cheaply and keeps the best `limit`; only those get
    # a snippet (snippet() on every match of a common word would read every body).
    sql = f"""
        SELECT a.id, a.url, a.canonical_url, a.title, a.date, a.sitename, a.duplicate_of,
               -top.rank AS score,
               snippet(articles_fts, -1, :open, :close, :ellipsis, :tokens) AS snippet
        FROM (SELECT articles_fts.rowid AS id, bm25(articles_fts, {weights}) AS rank
              FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
              WHERE articles_fts MATCH :match{where}
              ORDER BY rank, articles_fts.rowid LIMIT :limit) AS top
        JOIN articles_fts ON articles_fts.rowid = top.id AND articles_fts MATCH :match
        JOIN articles a ON a.id = top.id
        ORDER BY top.rank, top.id"""
    params = {"match": expression, "limit": limit, "open": MARKS[0], "close": MARKS[1],
              "ellipsis": ELLIPSIS, "tokens": SNIPPET_TOKENS}
    for row in db.execute(sql, params):
        yield Hit(*row)


def parse_since(text: str) -> str:
    """A `--since` value as the store writes timestamps, for comparing with `updated_at`.

    Takes a day (`2026-01-31`: midnight UTC) or an ISO 8601 date and time; a time without
    an offset is UTC, one with an offset (`+02:00`, `Z`) is converted. Fractions of a second
    are dropped (rounding down: never later than asked). Raises ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())  # a day alone is its midnight
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0).isoformat(timespec="seconds")
    except (ValueError, OverflowError):
        message = f"not a date (YYYY-MM-DD) or ISO 8601 date and time: {text!r}"
    raise ValueError(message)


def export_rows(db: sqlite_utils.Database, since: str | None = None, unique: bool = False,
                decode_tags: bool = True) -> Iterator[dict[str, Any]]:
    """Stored articles as dicts keyed by EXPORT_COLUMNS, in id order, one row at a time.

    Reads from one cursor (one consistent snapshot; nothing is held but the current row).
    `since` keeps the articles whose `updated_at` (the last time their content was stored
    new or changed, or their place among copies changed) is at or after it (parse_since's form, or any string in the store's
    format); `unique` keeps canonical articles only (`duplicate_of IS NULL`). `tags` is a
    list as in the record, or the stored JSON text with `decode_tags=False`; a NULL stays
    None, and text that is not JSON is passed on as it is."""
    clauses, params = [], []
    if since is not None:
        clauses.append("updated_at >= ?")
        params.append(since)
    if unique:
        clauses.append("duplicate_of IS NULL")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    cursor = db.execute(f"SELECT {', '.join(EXPORT_COLUMNS)} FROM articles{where} ORDER BY id",
                        params)
    try:
        for values in cursor:
            row = dict(zip(EXPORT_COLUMNS, values, strict=True))
            if decode_tags and row["tags"] is not None:
                try:
                    row["tags"] = json.loads(row["tags"])
                except ValueError:
                    pass
            yield row
    finally:
        with suppress(sqlite3.ProgrammingError):  # the database was closed first
            cursor.close()  # an abandoned export ends its read at once


def database_path(db: sqlite_utils.Database) -> str:
    """The main database file's path ("" for a database in memory)."""
    return next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")


def database_files(db: sqlite_utils.Database) -> dict[str, int]:
    """Bytes on disk of the main database file and its write-ahead log (0 when absent)."""
    path = database_path(db)
    sizes = {}
    for name, file in (("main", path), ("wal", f"{path}-wal")):
        try:
            sizes[name] = os.path.getsize(file) if path else 0
        except OSError:
            sizes[name] = 0
    return sizes


def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """What the database holds, as a JSON-ready dict:

    path, size {main, wal, total} in bytes; articles {total, unique, duplicates};
    fetches {total, by_source: [{source, outcome, count}] (source then outcome; the source
    may be None)}; last_run: the `runs` row with the highest id ({id, command, started_at,
    finished_at, status, counts} with counts decoded from JSON, None until the run ends) or
    None when no run is recorded."""
    path = database_path(db)
    size = database_files(db)
    total, duplicates = db.execute(
        "SELECT count(*), count(duplicate_of) FROM articles").fetchone()
    by_source = [
        {"source": source, "outcome": outcome, "count": count}
        for source, outcome, count in db.execute(
            "SELECT source, outcome, count(*) FROM fetches GROUP BY source, outcome "
            "ORDER BY source IS NULL, source, outcome")]
    run = db.execute("SELECT id, command, started_at, finished_at, status, counts FROM runs "
                     "ORDER BY id DESC LIMIT 1").fetchone()
    last_run = None
    if run is not None:
        last_run = dict(zip(("id", "command", "started_at", "finished_at", "status", "counts"),
                            run, strict=True))
        if last_run["counts"] is not None:  # None while the run is running
            with suppress(ValueError):  # else shown as stored
                last_run["counts"] = json.loads(last_run["counts"])
    return {
        "path": path,
        "size": {**size, "total": size["main"] + size["wal"]},
        "articles": {"total": total, "unique": total - duplicates, "duplicates": duplicates},
        "fetches": {"total": sum(r["count"] for r in by_source), "by_source": by_source},
        "last_run": last_run,
    }
