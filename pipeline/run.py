"""Wiring: the steps of `scrape ingest` and `scrape batch`, from what a run reads to the rows.

    readers ------> revalidate -> fetch -> [page stages] -> clean -> hinted -> aliases -> store
    (tasks_for,     (skipped:     (or the executor's workers fetch and clean: a cluster)
     discovered,     Results)
     batch_items,
     a WARC's Pages)

One stream (pipeline/steps.py): readers yield tasks, Pages in hand and finished Results (a
sitemap read, a page skipped as fresh), and each step turns the items it is for into the next
kind. The stages are plain callables over iterators; this module holds the readers and the
run's own steps (revalidate, aliases), lists the steps and counts outcomes. It never looks
inside a stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import cast

import sqlite_utils

from cleaner import Cleaner
from cleaner.dedup import DedupConfig, LSHIndex
from records import FetchTask, Page, Result
from records.outcomes import ALIAS, ALWAYS_SHOWN, SKIPPED_FRESH, SOURCE_READ, SUCCEEDED
from records.urls import canonicalize, is_local, is_site_root, same_site
from scraper import Fetcher
from scraper.sources import discover
from store import History, Store

from .executors import CleanSteps, Executor, FetchingExecutor, InProcess
from .hints import hinted
from .steps import Item, Step, finished, only, run_steps

PageStage = Callable[[Iterable[Page]], Iterator[Page]]


@dataclass
class RunSummary:
    counts: Counter[str] = field(default_factory=Counter)  # inputs per outcome
    drops: Counter[str] = field(default_factory=Counter)  # what cleaning removed, by reason

    def add(self, result: Result) -> None:
        self.counts[result.outcome] += 1
        self.drops.update(result.drops)

    def merge(self, other: RunSummary) -> RunSummary:
        """This run's counts with those of `other` (another pass of the same run)."""
        self.counts.update(other.counts)
        self.drops.update(other.drops)
        return self

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def succeeded(self) -> int:
        return sum(self.counts[k] for k in SUCCEEDED)

    @property
    def failed(self) -> int:
        return self.total - self.succeeded

    @property
    def completed(self) -> bool:
        """At least one input stored or read: the run did its job (exit 0)."""
        return self.succeeded > 0

    def line(self) -> str:
        shown = [k for k in SUCCEEDED if k in ALWAYS_SHOWN or self.counts[k]]
        parts = [f"{self.total} input(s)"] + [f"{k} {self.counts[k]}" for k in shown]
        parts.append(f"failed {self.failed}")
        reasons = sorted(k for k in self.counts if k not in SUCCEEDED)
        if reasons:
            parts.append("(" + ", ".join(f"{k} {self.counts[k]}" for k in reasons) + ")")
        return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# Readers


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


def listing_read(page: Page, source: str | None = None) -> Result:
    """The Result of reading a sitemap or feed for its links: "source.read", or why it failed
    (`source` names it in its `fetches` row, when given)."""
    if source is not None:
        page.source = source
    return Result(page=page, outcome=SOURCE_READ if page.error is None else page.outcome,
                  error=page.error)


def as_items(found: Iterable[FetchTask | Page],
             source: str | None = None) -> Iterator[FetchTask | Result]:
    """scraper.sources.discover's stream for a run: each listing read as its Result."""
    for item in found:
        yield listing_read(item, source) if isinstance(item, Page) else item


def discovered(targets: Iterable[str], fetcher: Fetcher, url_files: Iterable[str] = (),
               source: str | None = None,
               allow_local_files: bool = False) -> Iterator[FetchTask | Result]:
    """Tasks for the targets, sitemaps and feeds expanded into their pages (each URL once),
    and the Result of every sitemap or feed read (an attempt like any other: it gets its
    `fetches` row). Local files named by the lines of lists are refused tasks unless
    `allow_local_files`."""
    return as_items(discover(targets, fetcher.fetch_document, url_files=url_files,
                             allow_local_files=allow_local_files), source)


def clean_results(tasks: Iterable[FetchTask], fetcher: Fetcher,
                  cleaner: Cleaner) -> Iterator[Result]:
    """Fetch and clean, without storing (`scrape clean`)."""
    return hinted(cleaner(fetcher(tasks)))


# ---------------------------------------------------------------------------------------------
# Steps


def revalidate(items: Iterable[Item], history: History, max_age_hours: float | None,
               rule: str = "--max-age") -> Iterator[Item]:
    """Each task with the validators of its URL's last good fetch (for a conditional request);
    a URL fetched less than `max_age_hours` ago is not fetched at all but becomes a
    "skipped.fresh" Result (its error names the `rule` that set the age)."""
    now = datetime.now(UTC)
    for task in items:
        if not isinstance(task, FetchTask):
            yield task
            continue
        local = is_local(task.url) or task.refused is not None  # (a refused one is not read)
        last = None if local else history.last_good_fetch(task.url)
        if last is None:
            yield task
        elif max_age_hours is not None and last.age_hours(now) < max_age_hours:
            page = Page(url=task.url, fetched_at=now.isoformat(timespec="seconds"),
                        outcome=SKIPPED_FRESH, source=task.source)
            yield Result(page=page, outcome=SKIPPED_FRESH,
                         error=f"fetched {last.age_hours(now):.1f} h ago "
                               f"({rule} {max_age_hours:g})")
        else:
            yield replace(task, etag=last.etag, last_modified=last.last_modified)


def work_steps(executor: Executor, fetcher: Fetcher | None, steps: CleanSteps,
               page_stages: Sequence[PageStage] = ()) -> list[Step]:
    """Fetch, the page stages, clean: where the executor runs them. Without a fetcher the
    run has Pages in hand (a web archive) and nothing to fetch."""
    clean = only(Page, partial(executor.map, steps))
    if fetcher is None:
        return [*(only(Page, stage) for stage in page_stages), clean]
    if executor.fetches:  # its workers fetch and clean: the pages never come here
        if page_stages:
            raise ValueError("page stages need the pages here: not with an executor whose "
                             "workers fetch")
        fetching = cast(FetchingExecutor, executor)
        return [only(FetchTask, partial(fetching.fetch_and_clean, config=fetcher.config,
                                        steps=steps))]
    return [only(FetchTask, fetcher), *(only(Page, stage) for stage in page_stages), clean]


def aliases(results: Iterable[Result], store: Store) -> Iterator[Result]:
    """A Result whose article's canonical link names another stored article of its site (an
    AMP, print or tracking-parameter copy) becomes an "alias" of it: the page is kept, no
    article is stored. A link to the site's home page is ignored (a common
    misconfiguration), and so is a page whose link names itself."""
    for result in results:
        article = result.article
        page = result.page
        known = (stored_alias(page.origin_url or page.final_url or page.url,
                              article.canonical_link, store) if article is not None else None)
        if known is None:
            yield result
        else:
            yield replace(result, article=None, outcome=ALIAS, article_id=known[0],
                          error=f"canonical link names the stored article {known[1]}",
                          drops={})


def stored_alias(own: str, link: str | None, store: Store) -> tuple[int, str] | None:
    """(id, canonical URL) of the stored article that the page at `own` names by its
    canonical `link`, by `aliases`' rules."""
    if link is None or not own.startswith(("http://", "https://")):
        return None
    target = canonicalize(link)
    if target == canonicalize(own) or is_site_root(target) or not same_site(own, target):
        return None
    article_id = store.article_id(target)
    return (article_id, target) if article_id is not None else None


def ingest(items: Iterable[Item], db: sqlite_utils.Database | str | Path,
           fetcher: Fetcher | None,
           cleaner: Cleaner,
           on_result: Callable[[Result], None] | None = None,
           max_age_hours: float | None = None,
           dedup: DedupConfig | None = None,
           run_id: int | None = None,
           revalidated: bool = False,
           executor: Executor | None = None,
           page_stages: Sequence[PageStage] = (),
           cleaned: bool = False) -> RunSummary:
    """Fetch, clean, dedupe and store every item in `db` (an open database, the run's one
    writing connection, left open; or a path); every input leaves a `fetches` row (with
    `run_id`, the `runs` row of this run, when given). The steps, in order:

    - `revalidate`: pages fetched before are asked for only if changed (ETag /
      Last-Modified); with `max_age_hours`, pages fetched more recently than that are skipped
      (and say so). `revalidated`: the readers have done it already (pipeline/batch.py does
      it per source, before its page limits).
    - `work_steps`: fetch (`fetcher`; None when the items are Pages in hand, as from a web
      archive), `page_stages` (e.g. one writing each Page to a WARC file), clean, sign and
      pack: where `executor` runs them (pipeline/executors.py; default: in this process).
    - `hinted` (pipeline/hints.py): a refusal's error names the option that lifts it.
    - `aliases`: a page whose canonical link names a stored article of its site.
    - the store (store/writer.py): each article placed among the stored ones
      (store/dedup.py: exact and near copies are stored as duplicates of their story's
      canonical article), written by this process only.

    `cleaned`: every item is a finished Result (a site crawl fetches and cleans its own
    pages, pipeline/crawl.py): no revalidation, fetch or clean step, so that each result
    reaches the store as it comes (a step that reads ahead would hold them all).

    `on_result` and the summary see each result once the transaction holding it has
    committed; when a commit fails, the results of that batch come as "store.error" and the
    database error is raised.
    """
    summary = RunSummary()
    config = dedup or DedupConfig()
    executor = executor or InProcess()
    steps = CleanSteps(clean=cleaner.config, dedup=config,
                       release_body=not executor.in_process)
    with Store(db, index=LSHIndex(config)) as store, ExitStack() as stack:
        store.run_id = run_id
        plan: list[Step] = []
        if not (revalidated or cleaned):  # (else the readers have: batch does it per source)
            history = stack.enter_context(closing(History(db)))
            plan.append(partial(revalidate, history=history, max_age_hours=max_age_hours))
        if not cleaned:
            plan += work_steps(executor, fetcher, steps, page_stages)
        results = aliases(hinted(finished(run_steps(items, plan))), store)
        # Reported (printed, counted) once committed: a line saying "new" is a stored row.
        for result in store(results):
            summary.add(result)
            if on_result is not None:
                on_result(result)
    return summary
