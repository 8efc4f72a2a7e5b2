"""Wiring: turn CLI targets into tasks and push them through fetch -> clean -> store.

The stages are plain callables over iterators; this module only chains them (the in-process
executor) and counts outcomes. It never looks inside a stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cleaner import Cleaner
from scraper import Fetcher
from store import Store

from .records import FetchTask, Result

STORED = ("new", "updated", "unchanged")


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
        parts = [f"{self.total} input(s)"] + [f"{k} {self.counts[k]}" for k in STORED]
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


def ingest(tasks: Iterable[FetchTask], db_path: str | Path, fetcher: Fetcher, cleaner: Cleaner,
           on_result: Callable[[Result], None] | None = None) -> RunSummary:
    """Fetch, clean and store every task; every attempt leaves a `fetches` row."""
    summary = RunSummary()
    with Store(db_path) as store:
        for result in store(clean_results(tasks, fetcher, cleaner)):
            summary.add(result)
            if on_result is not None:
                on_result(result)
    return summary
