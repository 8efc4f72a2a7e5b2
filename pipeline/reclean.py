"""`scrape reclean`: clean the stored raw pages again, after the cleaner changed.

Reads the latest stored response of each URL (`pages`, on a read-only connection of its own,
so the writer's batches never disturb the reading), runs it through the same stages as a
fetch would (Cleaner -> Sign -> the store), and counts what changed. No page is fetched and
no fetch attempt is recorded; an article is never deleted because the new cleaner finds
nothing in its page (that is counted as "lost" and the stored record stays).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cleaner import Cleaner
from cleaner.dedup import DedupConfig, LSHIndex
from store import Store, open_db
from store.pages import unpack
from store.lock import LockHeld, RunLock
from store.runs import finish_run, mark_interrupted, start_run

from .batch import EXIT_LOCKED
from .executors import CleanSteps, Executor, InProcess
from .options import DEFAULT_DB, add_executor_options, executor_for
from .progress import printable
from .records import Page, Result

# What a re-cleaned page can come to, in the order the summary prints them.
OUTCOMES = ("updated", "unchanged", "new", "duplicate", "lost", "failed")


@dataclass
class RecleanSummary:
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return self.counts["updated"] + self.counts["new"] + self.counts["duplicate"]

    def line(self) -> str:
        total = sum(self.counts.values())
        parts = [f"{total} stored page(s)", f"changed {self.changed}"]
        parts += [f"{k} {self.counts[k]}" for k in OUTCOMES if self.counts[k]]
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
            yield Page(url=url, final_url=final_url, status=status, content_type=content_type,
                       encoding=encoding, headers=json.loads(headers or "{}"),
                       body=unpack(body), bytes=size, fetched_at=fetched_at,
                       origin_url=origin_url, source=source or "cli")
    finally:
        conn.close()


def reclean(db_path: str | Path, since: str | None = None, cleaner: Cleaner | None = None,
            dedup: DedupConfig | None = None,
            on_result: Callable[[Result], None] | None = None,
            executor: Executor | None = None) -> RecleanSummary:
    """Clean every stored page again (with `executor`: pipeline/executors.py; default: in
    this process) and store what comes out; count the outcomes."""
    summary = RecleanSummary()
    config = dedup or DedupConfig()
    cleaner = cleaner or Cleaner()
    executor = executor or InProcess()
    steps = CleanSteps(clean=cleaner.config, dedup=config, pack=False,
                       release_body=not isinstance(executor, InProcess))
    with Store(db_path, index=LSHIndex(config)) as store:
        for result in executor.map(steps, stored_pages(db_path, since)):
            if result.article is None:  # the stored article (if any) stays as it was
                known = store.db.execute(
                    "SELECT 1 FROM fetches WHERE url = ? AND article_id IS NOT NULL LIMIT 1",
                    [result.page.url]).fetchone()
                result.outcome = "lost" if known is not None else "failed"
            else:
                store.rewrite(result)
            summary.counts[result.outcome] += 1
            if on_result is not None:
                on_result(result)
    return summary


def cmd_reclean(args: argparse.Namespace) -> int:
    """Exit 0 when done, 1 without a database, 3 when a run holds the lock (it writes too)."""
    if not Path(args.db).exists():
        print(f"scrape reclean: no database at {args.db}", file=sys.stderr)
        return 1

    def show(result: Result) -> None:
        if args.verbose or result.outcome not in ("unchanged",):
            print(printable(f"{result.outcome:<10} {result.page.url}"), flush=True)

    try:
        lock = RunLock(args.db).acquire("scrape reclean")
    except LockHeld as exc:
        print(printable(f"scrape reclean: {exc}; not started"), file=sys.stderr)
        return EXIT_LOCKED
    try:
        db = open_db(args.db)
        mark_interrupted(db)
        run_id = start_run(db, "reclean", {"since": args.since, "db": str(args.db)})
        status, summary = "failed", RecleanSummary()
        try:
            summary = reclean(args.db, since=args.since, on_result=show,
                              executor=executor_for(args))
            status = "completed"
        finally:
            finish_run(db, run_id, status, summary.counts)
            db.close()
    finally:
        lock.release()
    print(summary.line())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `scrape reclean` to the `scrape` parser."""
    p = sub.add_parser("reclean", help="clean the stored raw pages again (after the cleaner "
                                       "changed) and report what changed")
    p.add_argument("--since", default=None, metavar="DATE",
                   help="only pages fetched at or after DATE (YYYY-MM-DD or ISO 8601, UTC)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    add_executor_options(p, cluster=False)
    p.set_defaults(func=cmd_reclean)  # `scrape -v reclean` also lists unchanged pages
