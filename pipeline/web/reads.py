"""What the reader's pages show, read from an open connection (Datasette's read-only one).

Each function takes a sqlite3 connection and only reads; the pages (pipeline/web/views.py)
run them in Datasette's thread pool. Search and the listing are store.query's, with its
bounds (terms, prefix terms, seconds in SQLite).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlite_utils

from records.outcomes import SUCCEEDED
from store.query import EXPORT_COLUMNS, Filters, Hit, QueryError, fts_query, latest, search
from store.snippets import CLOSE, OPEN

PAGE_SIZE = 20
MAX_PAGE = 500  # deeper pages cost a scan of every match before them: narrow the query instead
MAX_QUERY_CHARS = 1000
FACET_VALUES = 200  # values listed per filter (the most frequent)
HEALTH_RUNS = 30  # rows of the runs table
SOURCE_RUNS = 5  # runs shown per source
RECENT_SOURCES = 200  # sources shown: those of the most recent fetches first
FAILED_LISTED = 50  # failed URLs listed per source (of its last run)
# Outcomes that are not failures, as a SQL list (the rest: fetch.*, clean.*, store.error, ...).
_SUCCEEDED_SQL = ", ".join(f"'{outcome}'" for outcome in SUCCEEDED)


def database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils over Datasette's connection, without changing its settings."""
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


@dataclass
class SearchForm:
    """A /search request's parameters, checked; `notes` says what was ignored and why."""

    q: str = ""
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    all_copies: bool = False  # duplicates listed too (default: one hit per story)
    syntax: bool = False  # the query is FTS5 syntax (default: plain words)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, args: Any) -> SearchForm:
        """From the query string (a mapping with .get)."""
        form = cls()
        q = (args.get("q") or "").strip()
        if len(q) > MAX_QUERY_CHARS:
            form.notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
            q = q[:MAX_QUERY_CHARS]
        form.q = q
        values = {}
        for key in ("site", "source", "language"):
            value = (args.get(key) or "").strip()
            values[key] = value or None
        for key, label in (("from", "date_from"), ("to", "date_to")):
            value = (args.get(key) or "").strip()
            values[label] = None
            if value:
                try:
                    values[label] = date.fromisoformat(value).isoformat()
                except ValueError:
                    form.notes.append(f"{key!r} is not a date (YYYY-MM-DD): ignored")
        form.filters = Filters(**values)
        try:
            form.page = min(MAX_PAGE, max(1, int(args.get("page") or 1)))
        except ValueError:
            form.notes.append("'page' is not a number: page 1 shown")
        form.all_copies = args.get("copies") == "all"
        form.syntax = args.get("syntax") == "fts"
        return form

    def link(self, **changes: Any) -> dict[str, str]:
        """The query string of this search with `changes` (None drops a parameter)."""
        params = {"q": self.q, "site": self.filters.site, "source": self.filters.source,
                  "language": self.filters.language, "from": self.filters.date_from,
                  "to": self.filters.date_to, "page": str(self.page) if self.page > 1 else None,
                  "copies": "all" if self.all_copies else None,
                  "syntax": "fts" if self.syntax else None}
        params.update(changes)
        return {key: value for key, value in params.items() if value}


@dataclass
class SearchResults:
    hits: list[Hit]
    more: bool  # a next page exists
    sources: dict[int, str]  # article id: the source of its latest fetch
    error: str | None = None  # the query could not be run (shown instead of hits)
    rewritten: str | None = None  # why an FTS5 query was searched as plain words


def run_search(conn: sqlite3.Connection, form: SearchForm) -> SearchResults:
    """The page of hits `form` asks for; with no words, the latest stored articles."""
    db = database(conn)
    offset = (form.page - 1) * PAGE_SIZE
    rewritten = None
    try:
        if not form.q:
            hits = latest(db, PAGE_SIZE + 1, not form.all_copies, offset=offset,
                          filters=form.filters)
        else:
            if form.syntax:
                rewritten = fts_query(db, form.q).rewritten_because
            hits = list(search(db, form.q, PAGE_SIZE + 1, not form.all_copies, offset=offset,
                               filters=form.filters, syntax=form.syntax and not rewritten,
                               marks=(OPEN, CLOSE)))
    except QueryError as exc:
        return SearchResults([], False, {}, error=str(exc))
    page = hits[:PAGE_SIZE]
    return SearchResults(page, len(hits) > PAGE_SIZE, latest_sources(conn, [h.id for h in page]),
                         rewritten=rewritten)


def latest_sources(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    """For each article id, the source of its most recent fetch."""
    found = {}
    for article_id in ids:
        row = conn.execute("SELECT source FROM fetches WHERE article_id = ? ORDER BY id DESC "
                           "LIMIT 1", [article_id]).fetchone()
        if row is not None and row[0] is not None:
            found[article_id] = row[0]
    return found


def facets(conn: sqlite3.Connection) -> dict[str, list[tuple[str, int]]]:
    """The values each filter can take with their number of articles, the most frequent
    first: sites and languages (from their indexes, migration m009), sources (from
    fetches that stored an article)."""
    found = {}
    for key, column in (("site", "sitename"), ("language", "language")):
        found[key] = [tuple(row) for row in conn.execute(
            f"SELECT {column}, count(*) AS n FROM articles WHERE {column} IS NOT NULL "
            f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT ?", [FACET_VALUES])]
    found["source"] = [tuple(row) for row in conn.execute(
        "SELECT source, count(DISTINCT article_id) AS n FROM fetches WHERE source IS NOT NULL "
        "AND article_id IS NOT NULL GROUP BY source ORDER BY n DESC, source LIMIT ?",
        [FACET_VALUES])]
    return found  # type: ignore[return-value]


def article(conn: sqlite3.Connection, article_id: int) -> dict[str, Any] | None:
    """The stored article (EXPORT_COLUMNS, tags decoded) with `copies` (the other stored
    copies of its story, canonical first) and `sources` (its fetches by source)."""
    row = conn.execute(f"SELECT {', '.join(EXPORT_COLUMNS)}, duplicate_of, similarity, "
                       "dup_method FROM articles WHERE id = ?", [article_id]).fetchone()
    if row is None:
        return None
    found = dict(zip((*EXPORT_COLUMNS, "duplicate_of", "similarity", "dup_method"), row,
                     strict=True))
    try:
        tags = json.loads(found["tags"]) if found["tags"] else []
        found["tags"] = [str(tag) for tag in tags] if isinstance(tags, list) else []
    except ValueError:
        found["tags"] = []
    canonical = found["duplicate_of"] or article_id
    found["copies"] = [dict(zip(("id", "url", "sitename", "date", "similarity", "dup_method",
                                 "canonical"), copy, strict=True))
                       for copy in conn.execute(
        "SELECT id, url, sitename, date, similarity, dup_method, duplicate_of IS NULL "
        "FROM articles WHERE (id = :c OR duplicate_of = :c) AND id != :id "
        "ORDER BY duplicate_of IS NOT NULL, id LIMIT 200", {"c": canonical, "id": article_id})]
    found["sources"] = [dict(zip(("source", "fetches", "last"), r, strict=True))
                        for r in conn.execute(
        "SELECT source, count(*), max(fetched_at) FROM fetches WHERE article_id = ? "
        "GROUP BY source ORDER BY max(fetched_at) DESC", [article_id])]
    return found


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def _counts(text: str | None) -> dict[str, int]:
    try:
        counts = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): v for k, v in counts.items() if isinstance(v, int)} \
        if isinstance(counts, dict) else {}


def runs(conn: sqlite3.Connection, limit: int = HEALTH_RUNS) -> list[dict[str, Any]]:
    """The last `limit` runs, newest first, with their duration and counts decoded."""
    found = []
    for row in conn.execute("SELECT id, command, started_at, finished_at, status, counts "
                            "FROM runs ORDER BY id DESC LIMIT ?", [limit]):
        run = dict(zip(("id", "command", "started_at", "finished_at", "status", "counts"), row,
                       strict=True))
        run["counts"] = _counts(run["counts"])
        run["seconds"] = _seconds(run["started_at"], run["finished_at"])
        run["failed"] = {k: v for k, v in run["counts"].items() if k not in SUCCEEDED}
        found.append(run)
    return found


def health(conn: sqlite3.Connection) -> dict[str, Any]:
    """Per source (those fetched most recently first): its last SOURCE_RUNS runs (the run's
    status and duration; the source's fetches, new, updated and failures by outcome in it)
    and the URLs that failed in its last run with their reasons; and the runs table."""
    names = [row[0] for row in conn.execute(
        "SELECT source FROM fetches WHERE source IS NOT NULL AND run_id IS NOT NULL "
        "GROUP BY source ORDER BY max(run_id) DESC, source LIMIT ?", [RECENT_SOURCES])]
    sources = []
    for name in names:
        run_ids = [row[0] for row in conn.execute(
            "SELECT DISTINCT run_id FROM fetches WHERE source = ? AND run_id IS NOT NULL "
            "ORDER BY run_id DESC LIMIT ?", [name, SOURCE_RUNS])]
        source_runs = []
        for run_id in run_ids:
            run = conn.execute("SELECT command, started_at, finished_at, status FROM runs "
                               "WHERE id = ?", [run_id]).fetchone() or (None,) * 4
            counts = dict(conn.execute(
                "SELECT outcome, count(*) FROM fetches WHERE source = ? AND run_id = ? "
                "GROUP BY outcome ORDER BY outcome", [name, run_id]).fetchall())
            source_runs.append({
                "id": run_id, "command": run[0], "started_at": run[1], "status": run[3],
                "seconds": _seconds(run[1], run[2]), "fetched": sum(counts.values()),
                "new": counts.get("new", 0), "updated": counts.get("updated", 0),
                "failed": {k: v for k, v in counts.items() if k not in SUCCEEDED}})
        failures = [dict(zip(("url", "outcome", "status", "error", "fetched_at"), r,
                             strict=True)) for r in conn.execute(
            f"SELECT url, outcome, status, error, fetched_at FROM fetches WHERE source = ? "
            f"AND run_id = ? AND outcome NOT IN ({_SUCCEEDED_SQL}) ORDER BY +id LIMIT ?",
            [name, run_ids[0], FAILED_LISTED])] if run_ids else []
        sources.append({"name": name, "runs": source_runs, "failures": failures,
                        "failed_total": sum(source_runs[0]["failed"].values())
                        if source_runs else 0})
    return {"sources": sources, "runs": runs(conn)}
