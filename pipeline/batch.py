"""`scrape batch`: the sources in a TOML file, one locked, recorded run.

    scrape batch [--sources data/sources.toml] [--db PATH] [--max-age HOURS] [--log-json]
                 [--check] [fetch options]

The sources file is a list of `[[source]]` tables (data/sources.toml is a documented example;
pipeline/sources_file.py reads and checks it):

    [[source]]
    name = "bbc-world"            # required; letters, digits, ".", "_", "-"; fetches.source
    kind = "feed"                 # required: "feed" (RSS/Atom/JSON Feed), "sitemap" (index
                                  # or not, .gz too), "urls" (a local file of URLs, one a
                                  # line) or "page" (one page)
    url = "https://feeds.bbci.co.uk/news/world/rss.xml"   # feed, sitemap, page: http(s)
    # path = "lists/extra.urls"   # urls, page: a local file, relative to this file's folder
    max_pages = 50                # optional: at most 50 of its pages fetched per run
                                  # (1 to 10**9)
    max_age_hours = 12            # optional: skip its pages fetched less than 12 h ago
                                  # (default: --max-age; as `scrape ingest --max-age`;
                                  # 0 to 876600, 100 years)
    enabled = true                # optional; false keeps the entry but does not read it
    # content_selector = "div.article-body"   # optional: CSS of the article's container;
                                  # its pages are cleaned from what it matches (the whole
                                  # page when it matches nothing: drops "selector.no_match")
    # drop_selectors = [".related", ".newsletter"]   # optional: CSS of boxes removed first
                                  # (cleaner/selectors.py; at most 50, 1000 characters each)
    # allow_local_files = true    # urls only: its list may name local paths and file://
                                  # URLs (refused by default: a list's lines are data)

A source of kind "site" is crawled from its url (a home or section page: pipeline/crawl.py
has its fields, max_depth, allow, deny and domain). The site sources are crawled first, one
after the other, each page cleaned as it comes; then the other sources are read.

One run reads every enabled source, taking pages from the sources in turn (one from each,
round-robin: their sites are paced side by side). A page is fetched once per run even when
several sources list it: it belongs to the first source that reached it. A source's
`max_pages` counts the pages it sends to be fetched; pages skipped as fresh (`max_age_hours`)
do not count, so a large sitemap read with both is worked through over successive runs.
Sitemaps and feeds are read whatever their URL looks like (the declared kind decides when
the content does not); a sitemap index is followed on its own site. Every attempt is a
`fetches` row with source = the source's name and run_id = this run; the `sources` table
keeps each source's kind, location, max_pages, entry (config, JSON) and last run.

A sources file is read only up to 16 MiB, and its numbers have the bounds of the command
line's options (pipeline/bounds.py BOUNDS): `--check` refuses what a run could not do.

The run itself (pipeline/recorded.py, shared with `scrape ingest` and `reclean`): the
database's run lock (store/lock.py: a second run on the same database exits at once), a `runs`
row (store/runs.py: running, then completed/failed/interrupted; killed runs found still
"running" are marked interrupted), the output of pipeline/progress.py, and these exit
statuses:

    0   the run completed: at least one input stored or read (some may have failed)
    1   every input failed (or there was none)
    2   bad usage, or a bad sources file (its errors printed with file:line and field), or
        the Dask scheduler of --scheduler cannot be reached (or was lost during the run)
    3   another run holds the database's run lock; nothing was done
    4   the database cannot be used (not a database, no permission, a database error)
    130 interrupted (Ctrl-C), 143 stopped (SIGTERM): the run is recorded as interrupted
"""

from __future__ import annotations

import argparse
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import sqlite_utils

from cleaner import Cleaner
from records import FetchTask, Page, Result
from records.outcomes import FETCH_NOT_FOUND
from records.urls import canonicalize, same_site
from scraper import Fetcher
from scraper.sources import ReadDocument, discover, kind_of, parse_feed, parse_sitemap
from store import History
from store.runs import (
    upsert_sources,
)

from .bounds import bounded
from .command import DEFAULT_DB, EXIT_OK, EXIT_USAGE
from .crawl import crawl
from .options import (
    add_dedup_options,
    add_executor_options,
    add_fetch_options,
    add_markdown_options,
    dedup_config,
    executor_for,
    fetch_config,
    markdown_flags,
)
from .progress import Output
from .recorded import run_recorded
from .run import RunSummary, as_items, discovered, ingest, revalidate
from .sources_file import (
    DEFAULT_SOURCES,
    Source,
    source_cleaner,
    sources_or_report,
)
from .terminal import printable

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Reading the sources


def batch_items(sources: Iterable[Source], fetcher: Fetcher, history: History,
                max_age_hours: float | None = None,
                allow_local_files: bool = False) -> Iterator[FetchTask | Result]:
    """The pages of every enabled source, one from each in turn, each URL once in all, each
    source within its max_pages and max_age_hours (else `max_age_hours`); revalidated
    (pipeline.run.revalidate: fresh pages come as "skipped.fresh" Results, the others carry
    the validators of their last fetch). The sitemaps and feeds read come as Results too. The
    lists of "urls" sources may name local files with `allow_local_files` (or their own
    field). Site sources are crawled apart (crawled)."""
    seen: set[str] = set()
    return interleave([source_items(s, fetcher, history, seen, max_age_hours,
                                    allow_local_files)
                       for s in sources if s.enabled and s.kind != "site"])


def crawled(sources: Iterable[Source], fetcher: Fetcher, cleaner: Cleaner,
            history: History) -> Iterator[Result]:
    """The Results of the enabled site sources' crawls (pipeline/crawl.py), one source
    after the other: each crawl fetches one page at a time, paced per host."""
    for source in sources:
        if source.enabled:
            for result in crawl(source, fetcher, cleaner, history):
                result.page.source = source.name
                yield result


def source_items(source: Source, fetcher: Fetcher, history: History, seen: set[str],
                 max_age_hours: float | None = None,
                 allow_local_files: bool = False) -> Iterator[FetchTask | Result]:
    items = claim(expand(source, fetcher, allow_local_files), source.name, seen)
    if source.max_age_hours is not None:
        max_age_hours, rule = source.max_age_hours, f"max_age_hours of {source.name}"
    else:
        rule = "--max-age"
    planned = cast(Iterator[FetchTask | Result],
                   revalidate(items, history, max_age_hours, rule=rule))
    return up_to(planned, source.max_pages) if source.max_pages else planned


def up_to(items: Iterator[FetchTask | Result], tasks: int) -> Iterator[FetchTask | Result]:
    """`items` until the `tasks`-th FetchTask (the Results between them do not count)."""
    if tasks <= 0:
        return
    for item in items:
        yield item
        if isinstance(item, FetchTask):
            tasks -= 1
            if tasks == 0:
                return


def claim(items: Iterable[FetchTask | Result], name: str,
          seen: set[str]) -> Iterator[FetchTask | Result]:
    """The items of source `name`, named after it; a task only if no source has claimed its
    URL yet in this run."""
    for item in items:
        if isinstance(item, Result):
            item.page.source = name
            yield item
            continue
        key = canonicalize(item.url)
        if key in seen:
            continue
        seen.add(key)
        yield replace(item, source=name)


def interleave(iterators: Iterable[Iterator[FetchTask | Result]]
               ) -> Iterator[FetchTask | Result]:
    """From each iterator in turn, its items up to its next task, until all are exhausted."""
    active = deque(iterators)
    while active:
        items = active.popleft()
        for item in items:
            yield item
            if isinstance(item, FetchTask):
                active.append(items)
                break


def expand(source: Source, fetcher: Fetcher,
           allow_local_files: bool = False) -> Iterator[FetchTask | Result]:
    """The pages one source names, and the Results of the sitemaps and feeds read (the
    items' source is set by `claim`). A list's local files are refused tasks unless
    `allow_local_files` or the source's own field allows them."""
    if source.kind == "page":
        yield FetchTask(url=source.location, source=source.name)
    elif source.kind == "urls":
        if not Path(source.location).is_file():
            page = Page(url=source.location, source=source.name, outcome=FETCH_NOT_FOUND,
                        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        error=f"no such file of URLs: {source.location}")
            yield Result(page=page, outcome=page.outcome, error=page.error)
            return
        yield from discovered([], fetcher, url_files=[source.location], source=source.name,
                              allow_local_files=allow_local_files or source.allow_local_files)
    else:
        yield from as_items(read_listing(source, fetcher.fetch_document), source.name)


def read_listing(source: Source, read: ReadDocument) -> Iterator[FetchTask | Page]:
    """The pages of a feed or sitemap source, its sitemap index followed on its own site,
    and the Page of each listing read (as scraper.sources.discover gives them).

    Read as the content says, else as the source's declared kind: a feed at a URL that does
    not look like one ("/news?output=rss") is still read as a feed. Child sitemaps go
    through scraper.sources.discover (the budget, loops, nested indexes), which takes a URL
    for a sitemap by its name (sitemap*.xml, any .xml/.xml.gz); others are skipped.
    """
    page = read(source.location)
    yield page
    if page.error is not None:
        return  # recorded as this source's failed read
    body, content_type = page.body, page.content_type
    final_url = page.final_url or source.location
    kind = kind_of(body, content_type, final_url)
    if kind == "page":
        kind = source.kind
    if kind == "feed":
        pages, children = parse_feed(body, final_url), []
    else:
        content = parse_sitemap(body, final_url)
        pages, children = content.pages, content.sitemaps
    if not pages and not children:
        log.warning("source %s: no links found in %s (read as a %s)", source.name,
                    source.location, kind)
    for url in pages:
        yield FetchTask(url=url, source=source.name)
    follow = []
    for child in children:
        if not (same_site(child, source.location) or same_site(child, final_url)):
            log.warning("source %s: %s lists off-site sitemap %s; skipped", source.name,
                        source.location, child)
        elif not _named_like_sitemap(child):
            log.warning("source %s: %s lists %s, which is not named like a sitemap; skipped",
                        source.name, source.location, child)
        else:
            follow.append(child)
    if follow:
        yield from discover(follow, read)


def _named_like_sitemap(url: str) -> bool:
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    return kind_of(b"", None, url) != "page" or path.endswith((".xml", ".xml.gz"))


# ---------------------------------------------------------------------------------------------
# The command




def cmd_batch(args: argparse.Namespace) -> int:
    sources = sources_or_report(args.sources, "batch")
    if sources is None:
        return EXIT_USAGE
    if args.check:
        for s in sources:
            limits = ", ".join(filter(None, [
                f"max_pages {s.max_pages}" if s.max_pages else "",
                f"max_age_hours {s.max_age_hours:g}" if s.max_age_hours is not None else "",
                f"max_depth {s.max_depth}" if s.kind == "site" else "",
                f"allow {len(s.scope.allow)}" if s.scope and s.scope.allow else "",
                f"deny {len(s.scope.deny)}" if s.scope and s.scope.deny else "",
                "domain" if s.scope and s.scope.domain else "",
                "allow_local_files" if s.allow_local_files else "",
                "content_selector" if s.selectors and s.selectors.content else "",
                f"drop_selectors {len(s.selectors.drop)}" if s.selectors and s.selectors.drop
                else "",
                "" if s.enabled else "disabled"]))
            print(printable(f"{s.name:<20} {s.kind:<8} {s.location}"
                            + (f"  ({limits})" if limits else "")))
        print(f"{len(sources)} source(s), {sum(s.enabled for s in sources)} enabled: "
              f"{args.sources} is valid")
        return EXIT_OK

    def work(db: sqlite_utils.Database, run_id: int, output: Output) -> RunSummary:
        upsert_sources(db, [s.row() for s in sources if s.enabled], run_id)
        history = History(db)
        try:
            with Fetcher(fetch_config(args)) as fetcher:
                cleaner = source_cleaner(sources, **markdown_flags(args))
                sites = [s for s in sources if s.kind == "site"]
                others = [s for s in sources if s.kind != "site"]
                summary = RunSummary()
                if sites:  # first: each page cleaned as it is crawled (pipeline/crawl.py)
                    summary = ingest(crawled(sites, fetcher, cleaner, history), db, fetcher,
                                     cleaner, on_result=output.result, run_id=run_id,
                                     dedup=dedup_config(args), cleaned=True)
                if others or not sites:
                    items = batch_items(others, fetcher, history, args.max_age,
                                        args.allow_local_files)
                    summary.merge(ingest(items, db, fetcher, cleaner,
                                         on_result=output.result, run_id=run_id,
                                         revalidated=True, dedup=dedup_config(args),
                                         executor=executor_for(args)))
                return summary
        finally:
            history.close()

    return run_recorded("batch", args, work, Output(json_lines=args.log_json, show_source=True,
                                                      label="batch"))




def add_allow_local_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-local-files", action="store_true",
                   help="read the local paths and file:// URLs that lists of URLs name (a "
                        ".urls file, --urls, a source of kind urls); refused by default: a "
                        "list's lines are data, not the files you chose")


def add_log_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-json", action="store_true",
                   help="print one JSON object per input and a final summary object, "
                        "instead of text lines")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
    p = sub.add_parser(
        "batch", help="read the sources of a TOML file (feeds, sitemaps, URL lists, pages) "
                      "in one locked, recorded run",
        description="Fetch, clean and store the pages of every source in a TOML file, "
                    "one run at a time per database. Exit status: 0 completed, 1 every "
                    "input failed, 2 bad usage or sources file, 3 another run holds the "
                    "database's lock, 4 database unusable.")
    p.add_argument("--sources", default=DEFAULT_SOURCES, metavar="FILE",
                   help=f"the sources file (default: {DEFAULT_SOURCES})")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.add_argument("--max-age", type=bounded("max_age_hours"), default=None,
                   metavar="HOURS",
                   help="skip pages fetched less than HOURS ago, for sources without their "
                        "own max_age_hours")
    p.add_argument("--check", action="store_true",
                   help="only check the sources file and list its sources")
    add_allow_local_files(p)
    add_log_json(p)
    add_dedup_options(p)
    add_markdown_options(p)
    add_fetch_options(p)
    add_executor_options(p)
    p.set_defaults(func=cmd_batch)
