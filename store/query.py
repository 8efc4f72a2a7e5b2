"""Reading the store: full-text search, streaming export, and counts.

Every function takes an open database (store.open_db) and only reads. Column names are the
record's field names (records/__init__.py), so an exported row builds an Article again.

Search uses `articles_fts` (FTS5 over title, description and text, kept current by triggers:
store/migrations.py m005). A query is FTS5 syntax when it parses as such (`"a phrase"`,
`OR`, `NOT`, `prefix*`, `title: word`, `NEAR(a b)`); when it does not (`l'été`, `covid-19`,
`"unbalanced`, a bare `-` or `AND`), every word is searched as a plain term instead, all of
them required: a user's query never fails on syntax.

A search's cost is bounded: by the terms of a query (MAX_TERMS, MAX_PREFIX_TERMS: each prefix
term may expand to a great many words), by its time in SQLite (SEARCH_SECONDS, a progress
handler), and by building snippets from highlight() (store/snippets.py, linear in a hit's
text) rather than FTS5's snippet(), whose cost grows with the square of a hit's matches (a
query of a few `a*` on a few long articles kept SQLite busy for minutes, inside one step no
handler can stop). A query over the bounds, or one that runs out of time, raises QueryError.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from records import Article

from .fts import try_index_pending
from .site_stats import sites
from .snippets import CLOSE, OPEN, best_snippet

# bm25() weights of the indexed columns, in their order (title, description, text): a word in
# the headline counts ten times one in the body, one in the standfirst four times.
WEIGHTS = (10.0, 4.0, 1.0)
# What a snippet puts around each matched term, and where it cut the text.
MARKS = ("«", "»")
ELLIPSIS = "…"
SNIPPET_TOKENS = 16  # words in a snippet

# A search's bounds: words of the query (operators aside, a phrase's words each count), terms
# ending in `*` (each may match a great many words), and seconds spent in SQLite. The time
# is checked between SQLite's steps (every PROGRESS_STEPS instructions).
MAX_TERMS = 64
MAX_PREFIX_TERMS = 8
SEARCH_SECONDS = 10.0
PROGRESS_STEPS = 1000

# The export's columns: the id, every Article field in declaration order, then the store's
# own timestamps (UTC, ISO 8601, seconds: "2026-01-01T12:00:00+00:00").
EXPORT_COLUMNS: tuple[str, ...] = (
    "id", *(f.name for f in dataclasses.fields(Article)), "first_seen_at", "updated_at")


class QueryError(ValueError):
    """A search that cannot be run: an empty query, too many terms, out of time."""


_OPERATORS = {"AND", "OR", "NOT", "NEAR"}  # FTS5's, in capitals only
_TOKEN = re.compile(r'"(?:[^"]|"")*"?\*?|[^\s"()]+')


def query_terms(query: str) -> tuple[int, int]:
    """(terms, prefix terms) of an FTS5 query or of plain words, as MAX_TERMS and
    MAX_PREFIX_TERMS count them: every word but the operators is a term, each word of a
    quoted phrase too; a prefix term is a word or a phrase followed by `*` (a `*` inside
    quotes is no operator)."""
    terms = prefixes = 0
    for token in _TOKEN.findall(query):
        if token.startswith('"'):
            closed = len(token) > 1 and token.rstrip("*").endswith('"')
            terms += max(1, len(token.strip('"*').replace('""', '"').split()))
            prefixes += closed and token.endswith("*")
        elif token not in _OPERATORS:
            terms += 1
            prefixes += token.endswith("*")
    return terms, prefixes


def check_size(query: str) -> None:
    """Raise QueryError when `query` is over MAX_TERMS or MAX_PREFIX_TERMS."""
    terms, prefixes = query_terms(query)
    if terms > MAX_TERMS:
        raise QueryError(f"the query has {terms} terms; at most {MAX_TERMS} are searched: "
                         "narrow the query")
    if prefixes > MAX_PREFIX_TERMS:
        raise QueryError(f"the query has {prefixes} prefix terms (word*); at most "
                         f"{MAX_PREFIX_TERMS} are searched: narrow the query")


def timed_rows(conn: sqlite3.Connection, run: Callable[[], sqlite3.Cursor],
               seconds: float) -> Iterator[tuple[Any, ...]]:
    """The rows of the query `run()` starts, interrupted once it has spent `seconds` in
    SQLite (QueryError). The clock stops while the caller holds a row (printing to a pager
    that waits is not the search's time); the progress handler is removed meanwhile, so the
    caller may use the connection."""
    spent = 0.0
    started = time.monotonic()

    def over() -> bool:
        return spent + time.monotonic() - started > seconds

    try:
        conn.set_progress_handler(over, PROGRESS_STEPS)
        cursor = run()
        while (row := cursor.fetchone()) is not None:
            conn.set_progress_handler(None, 0)
            spent += time.monotonic() - started
            yield row
            started = time.monotonic()
            conn.set_progress_handler(over, PROGRESS_STEPS)
    except sqlite3.OperationalError as exc:
        if str(exc) != "interrupted":
            raise
        raise QueryError(f"the search took more than {seconds:g} s: narrow the query") from None
    finally:
        conn.set_progress_handler(None, 0)


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
    snippet: str  # the best-matching passage, matched terms between the search's marks
    language: str | None = None
    copies: int = 0  # the stored duplicates of this article (rows whose duplicate_of is its id)


@dataclass(frozen=True)
class Filters:
    """What a search or a listing keeps besides its words, each None for no condition:
    the article's `sitename` and `language`, a `fetches.source` that stored it, and its
    publication `date` within date_from..date_to (YYYY-MM-DD, both included; an article
    without a date is left out of any range)."""

    site: str | None = None
    source: str | None = None
    language: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def where(self, rowid: str, unique: bool = False,
              drive: bool = False) -> tuple[list[str], dict[str, Any]]:
        """SQL conditions on the article id `rowid` (with `unique`: not a duplicate), and
        their named parameters.

        Each condition is `rowid IN (ids from an index)` (migration m009's indexes on site,
        language, date and fetches' source; the index on duplicate_of), so no condition reads
        an article's row: its body makes each row span pages, and a search for a frequent word
        would read them all. `drive=False` writes `+rowid`, so that the index of the outer
        query (FTS5's MATCH) keeps driving it instead of one lookup per id."""
        column = rowid if drive else f"+{rowid}"
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for field, sql in (("site", "sitename = :f_site"), ("language", "language = :f_language")):
            if getattr(self, field) is not None:
                clauses.append(f"{column} IN (SELECT id FROM articles WHERE {sql})")
                params[f"f_{field}"] = getattr(self, field)
        if self.date_from is not None or self.date_to is not None:
            bounds = []
            for field, op in (("date_from", ">="), ("date_to", "<=")):
                if getattr(self, field) is not None:
                    bounds.append(f"date {op} :f_{field}")
                    params[f"f_{field}"] = getattr(self, field)
            clauses.append(f"{column} IN (SELECT id FROM articles WHERE {' AND '.join(bounds)})")
        if self.source is not None:
            clauses.append(f"{column} IN (SELECT article_id FROM fetches WHERE source = :f_source)")
            params["f_source"] = self.source
        if unique:
            clauses.append(f"{rowid} NOT IN "
                           "(SELECT id FROM articles WHERE duplicate_of IS NOT NULL)")
        return clauses, params


def plain_terms(query: str) -> str:
    """`query` as FTS5 string literals, one per whitespace-separated word (all required).

    Inside double quotes FTS5 has no operators: `"covid-19"` is the phrase covid 19, `"-"`
    and `"AND"` are ordinary tokens (a word with no letters or digits matches nothing and is
    ignored beside other words)."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def fts_query(db: sqlite_utils.Database, query: str,
              seconds: float | None = None) -> FtsQuery:
    """The MATCH expression for a user's query: the query itself when FTS5 accepts it, else
    its words as plain terms (plain_terms). Raises QueryError for an empty query, one over
    the bounds (check_size), or one whose check takes more than `seconds` (default:
    SEARCH_SECONDS)."""
    if not query.strip():
        raise QueryError("the query is empty")
    check_size(query)
    try:
        # FTS5 parses the expression on the first step; LIMIT 1 keeps the check cheap.
        list(timed_rows(db.conn, lambda: db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", [query]),
            SEARCH_SECONDS if seconds is None else seconds))
    except sqlite3.OperationalError as exc:
        return FtsQuery(plain_terms(query), rewritten_because=str(exc))
    return FtsQuery(query)


def search_statement(expression: str, limit: int, unique: bool = False, offset: int = 0,
                     filters: Filters | None = None) -> tuple[str, dict[str, Any]]:
    """The SQL of search() and its parameters, for the MATCH `expression` (fts_query's)."""
    weights = ", ".join(str(float(w)) for w in WEIGHTS)
    clauses, params = (filters or Filters()).where("articles_fts.rowid", unique)
    where = "".join(f" AND {clause}" for clause in clauses)
    # The inner query ranks every match from the index alone and keeps the best `limit`; only
    # those are read from `articles` and highlighted for a snippet (store/snippets.py: FTS5's
    # snippet() is quadratic in a hit's matches). CROSS JOIN keeps that order: the planner
    # would otherwise walk every match again and read each one's row.
    sql = f"""
        SELECT a.id, a.url, a.canonical_url, a.title, a.date, a.sitename, a.duplicate_of,
               -top.rank AS score, a.language,
               (SELECT count(*) FROM articles d WHERE d.duplicate_of = a.id),
               highlight(articles_fts, 0, :open, :close),
               highlight(articles_fts, 1, :open, :close),
               highlight(articles_fts, 2, :open, :close)
        FROM (SELECT articles_fts.rowid AS id, bm25(articles_fts, {weights}) AS rank
              FROM articles_fts
              WHERE articles_fts MATCH :match{where}
              ORDER BY rank, articles_fts.rowid LIMIT :limit OFFSET :offset) AS top
        CROSS JOIN articles_fts ON articles_fts.rowid = top.id AND articles_fts MATCH :match
        CROSS JOIN articles a ON a.id = top.id
        ORDER BY top.rank, top.id"""
    params.update({"match": expression, "limit": limit, "offset": max(0, offset),
                   "open": OPEN, "close": CLOSE})
    return sql, params


def search(db: sqlite_utils.Database, query: str, limit: int = 20,
           unique: bool = False, seconds: float | None = None, *, offset: int = 0,
           filters: Filters | None = None, syntax: bool = True,
           marks: tuple[str, str] = MARKS) -> Iterator[Hit]:
    """Articles matching `query`, best first (bm25 with WEIGHTS; ties by id): at most
    `limit` of them, after skipping the first `offset`.

    `query` is FTS5 syntax or plain words (see fts_query); with `syntax=False` its words
    are always plain terms (plain_terms). `unique` leaves out duplicates (rows with
    `duplicate_of` set): one hit per story, its canonical article, when that article
    matches. `filters` narrows the matches (Filters). Snippets are computed for the
    returned hits only, the matched terms between `marks`. Raises QueryError for a query
    over the bounds or once the search has spent `seconds` in SQLite (default:
    SEARCH_SECONDS)."""
    try_index_pending(db.conn)  # articles inserted other than through the Store
    if syntax:
        expression = fts_query(db, query, seconds).expression
    else:
        if not query.strip():
            raise QueryError("the query is empty")
        check_size(query)
        expression = plain_terms(query)
    sql, params = search_statement(expression, limit, unique, offset, filters)
    budget = SEARCH_SECONDS if seconds is None else seconds
    for row in timed_rows(db.conn, lambda: db.execute(sql, params), budget):
        snippet = best_snippet(row[10:], SNIPPET_TOKENS, marks, ELLIPSIS)
        yield Hit(*row[:8], snippet=snippet, language=row[8], copies=row[9])  # type: ignore[misc]


def latest(db: sqlite_utils.Database, limit: int = 20, unique: bool = False, *,
           offset: int = 0, filters: Filters | None = None) -> list[Hit]:
    """The most recently stored articles (highest id first) that pass `filters`, as Hits
    with a score of 0 and the start of the standfirst or body as snippet: a listing
    without a query."""
    clauses, params = (filters or Filters()).where("a.id", unique, drive=True)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(
        f"""SELECT a.id, a.url, a.canonical_url, a.title, a.date, a.sitename, a.duplicate_of,
                   a.language, (SELECT count(*) FROM articles d WHERE d.duplicate_of = a.id),
                   coalesce(nullif(a.description, ''), substr(a.text, 1, 400))
            FROM articles a {where} ORDER BY a.id DESC LIMIT :limit OFFSET :offset""",
        {**params, "limit": limit, "offset": max(0, offset)}).fetchall()
    return [Hit(*row[:7], score=0.0,  # type: ignore[misc]
                snippet=best_snippet([row[9]], SNIPPET_TOKENS, MARKS, ELLIPSIS),
                language=row[7], copies=row[8]) for row in rows]


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
    new or changed, or their place among copies changed) is at or after it (parse_since's
    form, or any string in the store's format); `unique` keeps canonical articles only
    (`duplicate_of IS NULL`). `tags` is a list as in the record, or the stored JSON text
    with `decode_tags=False`; a NULL stays None, and text that is not JSON is passed on as
    it is."""
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


# Articles of which the cleaner removed more than CUT_SHARE of the words the extractor
# returned: worth a look (a repeated body is a good reason, a cut article a bad one).
CUT_SHARE = 0.2
CUT_LISTED = 20
_CUT_WHERE = "removed_words > ? * (removed_words + word_count)"
_MUCH_CUT = (f"SELECT id, url, word_count, removed_words, repeated_paragraphs_removed "
             f"FROM articles WHERE {_CUT_WHERE} "
             f"ORDER BY removed_words * 1.0 / (removed_words + word_count) DESC, id LIMIT ?")
_MUCH_CUT_COUNT = f"SELECT count(*) FROM articles WHERE {_CUT_WHERE}"


def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """What the database holds, as a JSON-ready dict:

    path, size {main, wal, total} in bytes; articles {total, unique, duplicates};
    much_cut {share, total, articles: [{id, url, word_count, removed_words,
    repeated_paragraphs_removed}]}: the articles of which cleaning removed more than `share`
    of the extracted words, the CUT_LISTED with the largest share first;
    fetches {total, by_source: [{source, outcome, count}] (source then outcome; the source
    may be None)}; last_run: the `runs` row with the highest id ({id, command, started_at,
    finished_at, status, counts} with counts decoded from JSON, None until the run ends) or
    None when no run is recorded; sites: store/site_stats.py's `sites`."""
    path = database_path(db)
    size = database_files(db)
    total, duplicates = db.execute(
        "SELECT count(*), count(duplicate_of) FROM articles").fetchone()
    by_source = [
        {"source": source, "outcome": outcome, "count": count}
        for source, outcome, count in db.execute(
            "SELECT source, outcome, count(*) FROM fetches GROUP BY source, outcome "
            "ORDER BY source IS NULL, source, outcome")]
    much_cut = [dict(zip(("id", "url", "word_count", "removed_words",
                          "repeated_paragraphs_removed"), row, strict=True))
                 for row in db.execute(_MUCH_CUT, [CUT_SHARE, CUT_LISTED])]
    (cut_total,) = db.execute(_MUCH_CUT_COUNT, [CUT_SHARE]).fetchone()
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
        "much_cut": {"share": CUT_SHARE, "total": cut_total, "articles": much_cut},
        "fetches": {"total": sum(r["count"] for r in by_source), "by_source": by_source},
        "last_run": last_run,
        "sites": sites(db),
    }
