"""`scrape reclean`: clean the stored raw pages again, after the cleaner changed.

Reads the latest stored response of each URL (`pages`, on a read-only connection of its own,
so the writer's batches never disturb the reading), runs it through a run's cleaning steps
(CleanSteps without Pack: Cleaner -> Sign) and `Store.rewrites`, and counts what changed.
No page is fetched and no fetch attempt is recorded; an article is never deleted because the
new cleaner finds nothing in its page (that is counted as "lost" and the stored record stays).
A page of a batch source is cleaned with that source's content_selector/drop_selectors: as
the `sources` table keeps them from its last batch run, or as `--sources FILE` names them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from cleaner import CleanConfig, Cleaner, Selectors
from cleaner.dedup import DedupConfig, LSHIndex
from records import Page, Result
from records.charsets import text_codec
from records.outcomes import LOST, RECLEAN_CHANGED, RECLEAN_FAILED, RECLEANED, UNCHANGED
from scraper import detect_encoding
from store import Store
from store.db import db_file
from store.pages import unpack

from .cli_store import no_database
from .command import DEFAULT_DB, EXIT_USAGE
from .executors import CleanSteps, Executor, InProcess
from .options import add_executor_options, add_markdown_options, executor_for, markdown_flags
from .recorded import run_recorded
from .sources_file import sources_or_report
from .terminal import printable

log = logging.getLogger(__name__)


@dataclass
class RecleanSummary:
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def completed(self) -> bool:
        """Always, once every page was seen: a page without an article keeps its record."""
        return True

    @property
    def changed(self) -> int:
        return sum(self.counts[k] for k in RECLEAN_CHANGED)

    def line(self) -> str:
        total = sum(self.counts.values())
        parts = [f"{total} stored page(s)", f"changed {self.changed}"]
        parts += [f"{k} {self.counts[k]}" for k in RECLEANED if self.counts[k]]
        return ", ".join(parts)


def stored_pages(db_path: str | Path, since: str | None = None) -> Iterator[Page]:
    """The latest stored response of every URL (fetched at or after `since`), oldest first,
    as Pages: streamed from a read-only connection."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        sql = ("SELECT p.url, p.final_url, p.status, p.content_type, p.encoding, p.headers, "
               "p.body, p.bytes, p.fetched_at, p.origin_url, f.source "
               "FROM pages p JOIN fetches f ON f.id = p.fetch_id "
               "WHERE p.fetch_id IN (SELECT max(fetch_id) FROM pages GROUP BY url)")
        params: list[str] = []
        if since:
            sql += " AND p.fetched_at >= ?"
            params.append(since)
        for (url, final_url, status, content_type, encoding, headers, body, size, fetched_at,
             origin_url, source) in conn.execute(sql + " ORDER BY p.fetch_id", params):
            page = Page(url=url, final_url=final_url, status=status, content_type=content_type,
                        encoding=encoding, headers=json.loads(headers or "{}"),
                        body=unpack(body), bytes=size, fetched_at=fetched_at,
                        origin_url=origin_url, source=source or "cli")
            if text_codec(page.encoding) is None:  # stored before only WHATWG charsets counted
                page.encoding = detect_encoding(page.body, page.headers.get("content-type"))
            yield page
    finally:
        conn.close()


def reclean(db: sqlite_utils.Database | str | Path, since: str | None = None,
            cleaner: Cleaner | None = None,
            dedup: DedupConfig | None = None,
            on_result: Callable[[Result], None] | None = None,
            executor: Executor | None = None) -> RecleanSummary:
    """Clean every stored page again (with `executor`: pipeline/executors.py; default: in
    this process) and store what comes out in `db` (an open database, the run's writing
    connection, left open; or a path); count the outcomes."""
    db_path = db_file(db) if isinstance(db, sqlite_utils.Database) else Path(db)
    if db_path is None:
        raise ValueError("reclean reads the stored pages from the database's file: not an "
                         "in-memory database")
    summary = RecleanSummary()
    config = dedup or DedupConfig()
    cleaner = cleaner or Cleaner()
    executor = executor or InProcess()
    steps = CleanSteps(clean=cleaner.config, dedup=config, pack=False,
                       release_body=not executor.in_process)
    with Store(db, index=LSHIndex(config)) as store:

        def judged(results: Iterator[Result]) -> Iterator[Result]:
            for result in results:
                if result.article is None:  # the stored article (if any) stays as it was
                    known = store.db.execute(
                        "SELECT 1 FROM fetches WHERE url = ? AND article_id IS NOT NULL "
                        "LIMIT 1", [result.page.url]).fetchone()
                    result.outcome = LOST if known is not None else RECLEAN_FAILED
                yield result

        # Counted and shown once committed (a failed commit: "store.error", then the error).
        for result in store.rewrites(judged(executor.map(steps, stored_pages(db_path, since)))):
            summary.counts[result.outcome] += 1
            if on_result is not None:
                on_result(result)
    return summary


def stored_selectors(db: sqlite_utils.Database) -> dict[str, Selectors]:
    """Each source's selectors as its last batch run read them (`sources.config`)."""
    found: dict[str, Selectors] = {}
    for name, config in db.execute("SELECT name, config FROM sources"):
        try:
            entry = json.loads(config or "{}")
            selectors = Selectors.of(entry) if isinstance(entry, dict) else None
        except ValueError as exc:  # not JSON, or a selector this version refuses
            log.warning("source %s: its stored selectors are not used: %s", name, exc)
            continue
        if selectors is not None:
            found[name] = selectors
    return found


def cmd_reclean(args: argparse.Namespace) -> int:
    """The recorded run of pipeline/recorded.py, as ingest and batch: exit 0 when done, 1
    without a database, 2 for a bad --sources file, 3 when a run holds the lock (it writes
    too), 4 when the database cannot be used (corrupt, read-only), 130/143 interrupted."""
    selectors = None  # from the database
    if args.sources is not None:
        sources = sources_or_report(args.sources, "reclean")
        if sources is None:
            return EXIT_USAGE
        selectors = {s.name: s.selectors for s in sources if s.selectors is not None}
    if no_database("reclean", args.db):
        return 1

    def work(db: sqlite_utils.Database, run_id: int, output: RecleanOutput) -> RecleanSummary:
        return reclean(db, since=args.since, on_result=output.result,
                       cleaner=Cleaner(CleanConfig(source_selectors=(
                           stored_selectors(db) if selectors is None else selectors),
                           **markdown_flags(args))),
                       executor=executor_for(args))

    return run_recorded("reclean", args, work, RecleanOutput(verbose=args.verbose))


class RecleanOutput:
    """reclean's lines: a page whose article changed (every page with -v), then the counts."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose

    @contextmanager
    def live(self) -> Iterator[RecleanOutput]:
        yield self

    def result(self, result: Result) -> None:
        if self.verbose or result.outcome != UNCHANGED:
            print(printable(f"{result.outcome:<10} {result.page.url}"), flush=True)

    def finish(self, run_id: int, status: str, summary: Any, db: str, command: str,
               drops: bool = False) -> None:
        if status == "completed" and isinstance(summary, RecleanSummary):
            print(summary.line())


def register(sub: argparse._SubParsersAction) -> None:
    """Add `scrape reclean` to the `scrape` parser."""
    p = sub.add_parser("reclean", help="clean the stored raw pages again (after the cleaner "
                                       "changed) and report what changed")
    p.add_argument("--since", default=None, metavar="DATE",
                   help="only pages fetched at or after DATE (YYYY-MM-DD or ISO 8601, UTC)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.add_argument("--sources", default=None, metavar="FILE",
                   help="clean each source's pages with the content_selector and "
                        "drop_selectors of this sources file (default: as its last batch "
                        "run read them)")
    add_markdown_options(p)
    add_executor_options(p, cluster=False)
    p.set_defaults(func=cmd_reclean)  # `scrape -v reclean` also lists unchanged pages
