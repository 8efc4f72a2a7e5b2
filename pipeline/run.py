"""Wiring: turn CLI targets into tasks and push them through fetch -> clean -> store.

The stages are plain callables over iterators; this module only chains them (the in-process
executor) and counts outcomes. It never looks inside a stage.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from cleaner import Cleaner
from scraper import Fetcher
from scraper.sources import discover
from store import History, Store

from .records import FetchTask, Page, Result
from .urls import is_local

# Outcomes of an input that ends with its article stored (or still as stored), or that was
# read as intended (a sitemap or feed read for its links).
STORED = ("new", "updated", "unchanged", "not_modified", "skipped.fresh", "source.read")
ALWAYS_SHOWN = ("new", "updated", "unchanged")


@dataclass
class RunSummary:
    counts: Counter[str] = field(default_factory=Counter)  # inputs per outcome
    drops: Counter[str] = field(default_factory=Counter)  # what cleaning removed, by reason

    def add(self, result: Result) -> None:
        self.counts[result.outcome] += 1
        self.drops.update(result.drops)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def succeeded(self) -> int:
        return sum(self.counts[k] for k in STORED)

    @property
    def failed(self) -> int:
        return self.total - self.succeeded

    def line(self) -> str:
        shown = [k for k in STORED if k in ALWAYS_SHOWN or self.counts[k]]
        parts = [f"{self.total} input(s)"] + [f"{k} {self.counts[k]}" for k in shown]
        parts.append(f"failed {self.failed}")
        reasons = sorted(k for k in self.counts if k not in STORED)
        if reasons:
            parts.append("(" + ", ".join(f"{k} {self.counts[k]}" for k in reasons) + ")")
        return ", ".join(parts)


def tasks_for(targets: Iterable[str], source: str = "cli",
              origin_url: str | None = None) -> Iterator[FetchTask]:
    """One task per target (URL, file:// URL or path), each target once, in the order given."""
    seen: set[str] = set()
    for target in targets:
        target = target.strip()
        if not target or target in seen:
            continue
        seen.add(target)
        yield FetchTask(url=target, source=source, origin_url=origin_url)


def clean_results(tasks: Iterable[FetchTask], fetcher: Fetcher,
                  cleaner: Cleaner) -> Iterator[Result]:
    """Fetch and clean, without storing."""
    return cleaner(fetcher(tasks))


def revalidate(tasks: Iterable[FetchTask], history: History, max_age_hours: float | None,
               skipped: deque[Result]) -> Iterator[FetchTask]:
    """Tasks with the validators of their URL's last good fetch (for a conditional request);
    a URL fetched less than `max_age_hours` ago is not fetched at all but put in `skipped`."""
    now = datetime.now(UTC)
    for task in tasks:
        last = None if is_local(task.url) else history.last_good_fetch(task.url)
        if last is None:
            yield task
        elif max_age_hours is not None and last.age_hours(now) < max_age_hours:
            page = Page(url=task.url, fetched_at=now.isoformat(timespec="seconds"),
                        outcome="skipped.fresh", source=task.source)
            skipped.append(Result(page=page, outcome="skipped.fresh",
                                  error=f"fetched {last.age_hours(now):.1f} h ago "
                                        f"(--max-age {max_age_hours:g})"))
        else:
            yield replace(task, etag=last.etag, last_modified=last.last_modified)


def discovered(targets: Iterable[str], fetcher: Fetcher, side: deque[Result],
               url_files: Iterable[str] = ()) -> Iterator[FetchTask]:
    """Tasks for the targets, sitemaps and feeds expanded into their pages (each URL once).

    Every sitemap or feed read is an attempt like any other: its Page goes into `side`, for
    the run to record as a `fetches` row (outcome "source.read" or why it failed).
    """
    def fetch_bytes(url: str) -> tuple[bytes, str | None, str]:
        page = fetcher.fetch_document(url)
        side.append(Result(page=page, outcome="source.read" if page.error is None
                           else page.outcome, error=page.error))
        if page.error is not None:
            raise OSError(page.error)
        return page.body, page.content_type, page.final_url or url

    return discover(targets, fetch_bytes, url_files=url_files)


def ingest(tasks: Iterable[FetchTask], db_path: str | Path, fetcher: Fetcher, cleaner: Cleaner,
           on_result: Callable[[Result], None] | None = None,
           max_age_hours: float | None = None,
           side: deque[Result] | None = None) -> RunSummary:
    """Fetch, clean and store every task; every input leaves a `fetches` row.

    Pages fetched before are asked for only if changed (ETag / Last-Modified); with
    `max_age_hours`, pages fetched more recently than that are skipped (and say so).
    `side` takes Results made while the tasks are read (sitemaps and feeds read, pages
    skipped): they are recorded as they come.
    """
    summary = RunSummary()
    skipped: deque[Result] = side if side is not None else deque()

    def record(result: Result) -> None:
        summary.add(result)
        if on_result is not None:
            on_result(result)

    with Store(db_path) as store:
        history = History(db_path)
        try:
            planned = revalidate(tasks, history, max_age_hours, skipped)
            for result in store(clean_results(planned, fetcher, cleaner)):
                while skipped:
                    record(store.write(skipped.popleft()))
                record(result)
            while skipped:
                record(store.write(skipped.popleft()))
        finally:
            history.close()
    return summary
