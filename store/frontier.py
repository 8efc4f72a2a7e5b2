"""A site crawl's frontier (migration m010): the URLs each source's crawl has found, written by
the Store in the transaction of the fetch that found them, read back when a crawl starts.

A crawled page's Result carries a records.Crawled: the Store marks the page's own row
fetched, with its judgement and depth, adds the links it leads to (a URL already known keeps
its first sighting, and the smallest depth it was found at) and adds the links it did not follow to the run's
`frontier_skips` counts. What a crawl did after the last commit is not in the frontier, so a
killed crawl fetches those pages again, and never a page it committed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from records import Crawled
from records.urls import canonicalize

_MARK = ("INSERT INTO frontier (source, url, depth, judgement, first_seen_at, last_fetched_at) "
         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, url) DO UPDATE SET "
         "judgement = excluded.judgement, last_fetched_at = excluded.last_fetched_at, "
         "depth = min(depth, excluded.depth)")
_ADD = ("INSERT INTO frontier (source, url, depth, first_seen_at, found_on) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, url) DO UPDATE SET "
        "depth = min(depth, excluded.depth)")
_SKIPS = ("INSERT INTO frontier_skips (source, run_id, reason, links) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (source, run_id, reason) DO UPDATE SET links = links + excluded.links")


def record(conn: sqlite3.Connection, source: str, url: str, crawled: Crawled, fetched_at: str,
           run_id: int | None) -> None:
    """Write one crawled page's frontier rows in the caller's transaction."""
    page = canonicalize(url)
    conn.execute(_MARK, [source, page, crawled.depth, crawled.judgement, fetched_at,
                         fetched_at])
    conn.executemany(_ADD, [(source, link, depth, fetched_at, page)
                            for link, depth in crawled.links])
    conn.executemany(_SKIPS, [(source, run_id, reason, links)
                              for reason, links in crawled.skipped if links])


@dataclass(frozen=True)
class Known:
    """A frontier row."""

    url: str
    depth: int
    judgement: str | None  # None: found, not fetched yet
    last_fetched_at: str | None


def known(conn: sqlite3.Connection, source: str) -> dict[str, Known]:
    """Every URL the source's crawls have found, by canonical URL."""
    return {row[0]: Known(*row) for row in conn.execute(
        "SELECT url, depth, judgement, last_fetched_at FROM frontier WHERE source = ?",
        [source])}


def skipped(conn: sqlite3.Connection, source: str, run_id: int) -> dict[str, int]:
    """The links the source's crawl did not follow in run `run_id`, by reason."""
    return dict(conn.execute("SELECT reason, links FROM frontier_skips WHERE source = ? AND "
                             "run_id = ? ORDER BY reason", [source, run_id]).fetchall())
