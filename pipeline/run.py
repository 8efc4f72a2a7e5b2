"""Wiring: turn CLI targets into tasks and push them through fetch -> clean -> store.

The stages are plain callables over iterators; this module only chains them (the in-process
executor) and counts outcomes. It never looks inside a stage.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from cleaner import Cleaner
from cleaner.dedup import DedupConfig, LSHIndex
from cleaner.extract import canonical_link
from records import FetchTask, Page, Result
from records.charsets import decode_text
from records.urls import canonicalize, is_local, is_site_root, same_site
from scraper import Fetcher
from scraper.sources import FetchBytes, discover
from store import History, Store

from .executors import CleanSteps, Executor, FetchingExecutor, InProcess

PageStage = Callable[[Iterable[Page]], Iterator[Page]]

HEAD_BYTES = 256 * 1024  # enough for any <head>; the canonical link is read from there

# Outcomes of an input that ends with its article stored (or still as stored), or that was
# read as intended (a sitemap or feed read for its links).
STORED = ("new", "duplicate", "updated", "unchanged", "not_modified", "alias", "skipped.fresh",
          "source.read")
ALWAYS_SHOWN = ("new", "duplicate", "updated", "unchanged")


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
               skipped: deque[Result], rule: str = "--max-age") -> Iterator[FetchTask]:
    """Tasks with the validators of their URL's last good fetch (for a conditional request);
    a URL fetched less than `max_age_hours` ago is not fetched at all but put in `skipped`
    (its error names the `rule` that set the age)."""
    now = datetime.now(UTC)
    for task in tasks:
        local = is_local(task.url) or task.refused is not None  # (a refused one is not read)
        last = None if local else history.last_good_fetch(task.url)
        if last is None:
            yield task
        elif max_age_hours is not None and last.age_hours(now) < max_age_hours:
            page = Page(url=task.url, fetched_at=now.isoformat(timespec="seconds"),
                        outcome="skipped.fresh", source=task.source)
            skipped.append(Result(page=page, outcome="skipped.fresh",
                                  error=f"fetched {last.age_hours(now):.1f} h ago "
                                        f"({rule} {max_age_hours:g})"))
        else:
            yield replace(task, etag=last.etag, last_modified=last.last_modified)


def document_reader(fetcher: Fetcher, side: deque[Result],
                    source: str | None = None) -> FetchBytes:
    """`fetch_bytes(url) -> (body, content_type, final_url)` for scraper.sources: fetches a
    sitemap or feed, and puts its Page into `side` for the run to record as a `fetches` row
    (outcome "source.read", or why it failed; `source` names it there, when given)."""
    def fetch_bytes(url: str) -> tuple[bytes, str | None, str]:
        page = fetcher.fetch_document(url)
        if source is not None:
            page.source = source
        side.append(Result(page=page, outcome="source.read" if page.error is None
                           else page.outcome, error=page.error))
        if page.error is not None:
            raise OSError(page.error)
        return page.body, page.content_type, page.final_url or url

    return fetch_bytes


def discovered(targets: Iterable[str], fetcher: Fetcher, side: deque[Result],
               url_files: Iterable[str] = (), source: str | None = None,
               allow_local_files: bool = False) -> Iterator[FetchTask]:
    """Tasks for the targets, sitemaps and feeds expanded into their pages (each URL once).

    Every sitemap or feed read is an attempt like any other: its Page goes into `side`, for
    the run to record as a `fetches` row (outcome "source.read" or why it failed). Local
    files named by the lines of lists are refused tasks unless `allow_local_files`.
    """
    return discover(targets, document_reader(fetcher, side, source), url_files=url_files,
                    allow_local_files=allow_local_files)


def alias_of(page: Page, store: Store) -> tuple[int, str] | None:
    """(id, canonical URL) of the stored article that `page` names as its canonical link,
    when that is another page of the same site (an AMP, print or tracking-parameter copy):
    such a page is recognised before cleaning. A link to the site's home page is ignored
    (a common misconfiguration), and so is a page whose link names itself."""
    if not page.ok or page.content_type == "text/plain":
        return None
    own = page.origin_url or page.final_url or page.url
    if not own.startswith(("http://", "https://")):
        return None
    head = decode_text(page.body[:HEAD_BYTES], page.encoding)
    return stored_alias(own, canonical_link(head, base_url=own), store)


def stored_alias(own: str, link: str | None, store: Store) -> tuple[int, str] | None:
    """(id, canonical URL) of the stored article that the page at `own` names by its
    canonical `link`, by alias_of's rules."""
    if link is None or not own.startswith(("http://", "https://")):
        return None
    target = canonicalize(link)
    if target == canonicalize(own) or is_site_root(target) or not same_site(own, target):
        return None
    article_id = store.article_id(target)
    return (article_id, target) if article_id is not None else None


def skip_aliases(pages: Iterable[Page], store: Store, side: deque[Result]) -> Iterator[Page]:
    """Pages to clean; an alias of a stored article goes to `side` as an "alias" Result."""
    for page in pages:
        known = alias_of(page, store)
        if known is None:
            yield page
        else:
            side.append(Result(page=page, outcome="alias", article_id=known[0],
                               error=f"canonical link names the stored article {known[1]}"))


def marked_aliases(results: Iterable[Result], store: Store) -> Iterator[Result]:
    """alias_of after cleaning, for executors whose workers fetch and clean (the writer never
    saw the page): a Result whose article's canonical link names a stored article of its
    site becomes an "alias" Result."""
    for result in results:
        page, article = result.page, result.article
        known = (stored_alias(page.origin_url or page.final_url or page.url,
                              article.canonical_link, store) if article is not None else None)
        if known is None:
            yield result
        else:
            yield Result(page=page, outcome="alias", article_id=known[0],
                         error=f"canonical link names the stored article {known[1]}")


def with_side(results: Iterable[Result], side: deque[Result]) -> Iterator[Result]:
    """`results`, each after the side Results queued while it was being made."""
    for result in results:
        while side:
            yield side.popleft()
        yield result
    while side:
        yield side.popleft()


def ingest(tasks: Iterable[FetchTask], db_path: str | Path, fetcher: Fetcher, cleaner: Cleaner,
           on_result: Callable[[Result], None] | None = None,
           max_age_hours: float | None = None,
           side: deque[Result] | None = None,
           dedup: DedupConfig | None = None,
           run_id: int | None = None,
           revalidated: bool = False,
           executor: Executor | None = None,
           pages: Iterable[Page] | None = None,
           page_stages: Sequence[PageStage] = ()) -> RunSummary:
    """Fetch, clean, dedupe and store every task; every input leaves a `fetches` row
    (with `run_id`, the `runs` row of this run, when given).

    Pages fetched before are asked for only if changed (ETag / Last-Modified); with
    `max_age_hours`, pages fetched more recently than that are skipped (and say so).
    `revalidated`: the caller has done both already (`revalidate`; pipeline/batch.py does
    it per source, before its page limits).
    A page whose canonical link names a stored article of its site is an "alias" (not even
    cleaned when cleaning runs in this process).
    Each article is placed among the stored ones (store/dedup.py): exact and near copies
    are stored as duplicates of their story's canonical article.
    `side` takes Results made while the tasks are read (sitemaps and feeds read, pages
    skipped): they are recorded as they come.
    `on_result` and the summary see each result once the transaction holding it has
    committed (store/writer.py); when a commit fails, the results of that batch come as
    "store.error" and the database error is raised.
    `executor` runs the cleaning (pipeline/executors.py; default: in this process); the
    Results it streams back are written here, by this process only.
    `pages`: Pages already in hand (a web archive: scraper/warc.py) to clean and store
    instead of fetching the tasks (pass no tasks then). `page_stages`: stages every Page goes
    through before cleaning (e.g. one writing them to a WARC file); not with an executor
    whose workers fetch.
    """
    summary = RunSummary()
    skipped: deque[Result] = side if side is not None else deque()

    def record(result: Result) -> None:
        summary.add(result)
        if on_result is not None:
            on_result(result)

    config = dedup or DedupConfig()
    executor = executor or InProcess()
    steps = CleanSteps(clean=cleaner.config, dedup=config,
                       release_body=not isinstance(executor, InProcess))
    with Store(db_path, index=LSHIndex(config)) as store:
        store.run_id = run_id
        history = History(db_path)
        try:
            planned = (tasks if revalidated
                       else revalidate(tasks, history, max_age_hours, skipped))
            if isinstance(executor, FetchingExecutor) and pages is None:  # workers fetch too
                if page_stages:
                    raise ValueError("page stages need the pages here: not with an executor "
                                     "whose workers fetch")
                results = marked_aliases(
                    executor.fetch_and_clean(planned, fetcher.config, steps), store)
            else:
                fetched = fetcher(planned) if pages is None else iter(pages)
                for stage in page_stages:
                    fetched = stage(fetched)
                if isinstance(executor, InProcess):  # an alias is not even cleaned
                    results = executor.map(steps, skip_aliases(fetched, store, skipped))
                else:  # parsing each head here would load the one process all pages pass
                    results = marked_aliases(executor.map(steps, fetched), store)
            # Reported (printed, counted) once committed: a line saying "new" is a stored row.
            for result in store(with_side(results, skipped)):
                record(result)
        finally:
            history.close()
    return summary
