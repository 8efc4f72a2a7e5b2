"""kind = "site": a crawl of a news site from its start page, incrementally.

    [[source]]
    name = "harbour-gazette"
    kind = "site"
    url = "https://gazette.example/"   # the start page
    max_depth = 3                       # links from the start page (a "next page" adds none)
    max_pages = 500                     # fetches per run
    allow = ["/news/"]                  # regular expressions a followed URL must match (any)
    deny = ["/video/", "\\?share="]     # and none of these
    domain = false                      # true: any host of the start page's registrable domain

The crawl reads its pages in breadth-first order, one at a time: robots.txt and the
per-host pacing hold as for every fetch. Each page is cleaned here and judged
(cleaner.judge): an article is stored as any article is; a listing (home, section, tag,
author, archive page) is recorded as "crawl.listing" and its links in scope are followed
(scraper.links: same site, no files, fragments or other schemes, the source's patterns);
anything else is recorded as "crawl.not_article". The sitemaps robots.txt names and the
feeds the start page declares are read first: their entries are fetched at depth 1.

Incremental (store/frontier.py): every URL found and every judgement is kept in the
database with the fetch that found it. A run starts from what is known: listing pages are
fetched again (with conditional requests), URLs found but not fetched yet are fetched, an
article already stored is fetched again only when the source's max_age_hours says it is old
(never without it), and pages judged other are not fetched again, nor those whose fetch
failed for good (a 4xx, robots.txt, not HTML: judgement "failed"; a timeout or a 5xx is
tried again by the next run).
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterator
from datetime import UTC, datetime

from cleaner import Cleaner
from cleaner.judge import ARTICLE, LISTING, judge, signals
from records import Crawled, FetchTask, Page, Result
from records.charsets import decode_text
from records.outcomes import (
    CRAWL_LISTING,
    CRAWL_NOT_ARTICLE,
    FETCH_BAD_URL,
    FETCH_BINARY,
    FETCH_CONTENT_TYPE,
    FETCH_PRIVATE_ADDRESS,
    FETCH_ROBOTS,
    FETCH_TOO_LARGE,
    FETCH_TOO_MANY_REDIRECTS,
    NOT_MODIFIED,
    http_code,
)
from records.urls import canonicalize
from scraper import Fetcher
from scraper.links import FILE, LinkScope, page_links
from scraper.sources import discover
from store import History

from .run import listing_read
from .sources_file import Source

log = logging.getLogger(__name__)

# The outcomes after which a listing's validators are sent back (a conditional request).
LISTING_FETCHES = (CRAWL_LISTING, NOT_MODIFIED)
# The frontier's judgement of a URL whose fetch failed for good (LASTING_FAILURES, a 4xx).
FAILED = "failed"
LASTING_FAILURES = frozenset({FETCH_ROBOTS, FETCH_CONTENT_TYPE, FETCH_BINARY, FETCH_TOO_LARGE,
                              FETCH_BAD_URL, FETCH_PRIVATE_ADDRESS, FETCH_TOO_MANY_REDIRECTS})
MAX_FEEDS = 3  # sitemaps of robots.txt, and feeds of the start page, read
# URLs one run holds to fetch; more stay in the frontier for the next runs, so a site of
# millions of links costs a bounded amount of memory.
MAX_QUEUED = 200_000


def crawl(source: Source, fetcher: Fetcher, cleaner: Cleaner,
          history: History) -> Iterator[Result]:
    """The Results of one run of a site source's crawl, in the order its pages are fetched."""
    scope = source.scope or LinkScope.build(source.location)
    known = history.frontier(source.name)
    now = datetime.now(UTC)
    start = canonicalize(source.location)
    queue: deque[str] = deque()
    # Each queued URL's depth: the smallest it was found at before it is fetched (page 3 of a
    # section is linked from page 1 before page 2's "next" reaches it at page 1's depth).
    queued: dict[str, int] = {}

    def due(url: str) -> bool:
        """Whether this run fetches a URL it finds: one not fetched yet, a listing, or an
        article old enough for the source's max_age_hours; never a page judged other."""
        row = known.get(url)
        if row is None or row.judgement is None or row.judgement == LISTING:
            return True  # (FAILED and OTHER are not fetched again)
        if row.judgement != ARTICLE or source.max_age_hours is None:
            return False
        last = history.last_good_fetch(url)
        return last is None or last.age_hours(now) >= source.max_age_hours

    def add(url: str, depth: int, first: bool = False, always: bool = False) -> None:
        if url in queued:
            queued[url] = min(queued[url], depth)
            return
        if depth > source.max_depth or not (always or due(url)):
            return
        if len(queued) >= MAX_QUEUED:  # kept in the frontier: a later run fetches it
            return
        queued[url] = depth
        (queue.appendleft if first else queue.append)(url)

    add(start, 0, always=True)  # whatever it was judged: the crawl starts there
    # Then what earlier runs found and did not fetch, before the listings they fetched: a
    # run bounded by max_pages or MAX_QUEUED works through the backlog instead of spending
    # every run on the same listings.
    for row in sorted(known.values(), key=lambda r: (r.judgement is not None, r.depth, r.url)):
        add(row.url, row.depth)
    budget = source.max_pages
    feeds_read = False
    while queue and (budget is None or budget > 0):
        url = queue.popleft()
        depth = queued[url]
        before = known.get(url)
        judged_before = before.judgement if before is not None else None
        if url == start:  # in full each run: its feeds are read from it
            last = None
        elif judged_before == LISTING:
            last = history.last_good_fetch(url, LISTING_FETCHES)
        else:
            last = history.last_good_fetch(url)
        task = FetchTask(url=url, source=source.name,
                         etag=last.etag if last else None,
                         last_modified=last.last_modified if last else None)
        page = fetcher.fetch(task)
        if budget is not None:
            budget -= 1
        result = _judged(page, depth, cleaner, scope, source, judged_before)
        if result.crawl is not None:
            # A listing's next page (no deeper than it) goes first: the rest of a section is
            # reached by its pagination before its numbered links are fetched one deeper.
            for link, link_depth in result.crawl.links:
                add(link, link_depth, first=link_depth == depth)
        yield result
        if not feeds_read and depth == 0 and page.ok:
            feeds_read = True
            entries, reads = _feed_entries(page, fetcher, scope)
            yield from (listing_read(read, source.name) for read in reads)
            for entry in reversed(entries):
                add(entry, 1, first=True)


def _judged(page: Page, depth: int, cleaner: Cleaner, scope: LinkScope, source: Source,
            judged_before: str | None) -> Result:
    """The Result of one fetched page: its article, or its judgement and links."""
    if page.outcome == NOT_MODIFIED:  # as it was: a listing's links are known already
        return Result(page=page, outcome=page.outcome,
                      crawl=Crawled(depth, judged_before or LISTING))
    if not page.ok:
        # A failure that will not change (a 404, robots.txt, not HTML) is marked, and not
        # asked for again; another (a timeout, a 503) is left for the next run to try.
        lasting = page.outcome in LASTING_FAILURES or (
            (code := http_code(page.outcome)) is not None and 400 <= code < 500
            and code not in (408, 425, 429))
        return Result(page=page, outcome=page.outcome, error=page.error,
                      crawl=Crawled(depth, FAILED) if lasting else None)
    html = _text(page)
    url = page.final_url or page.url
    result = cleaner.clean(page)
    text = result.article.text if result.article is not None else ""
    judgement = judge(signals(html, url, text))
    if judgement.kind == ARTICLE:
        result.crawl = Crawled(depth, ARTICLE)
        return result
    if judgement.kind != LISTING:
        return Result(page=page, outcome=CRAWL_NOT_ARTICLE, error=judgement.counter,
                      crawl=Crawled(depth, judgement.kind))
    found = page_links(html, url, scope)
    links = []
    for link in found.links:
        link_depth = depth if link.next_page else depth + 1
        if link_depth <= source.max_depth:
            links.append((link.url, link_depth))
        else:
            found.skipped["too_deep"] += 1
    skipped: Counter[str] = found.skipped
    return Result(page=page, outcome=CRAWL_LISTING, error=judgement.counter,
                  crawl=Crawled(depth, LISTING, links=tuple(links),
                                skipped=tuple(sorted(skipped.items()))))


def _text(page: Page) -> str:
    """The page as text, decoded as the cleaner decodes it."""
    return decode_text(page.body, page.encoding)


def _feed_entries(page: Page, fetcher: Fetcher,
                  scope: LinkScope) -> tuple[list[str], list[Page]]:
    """The pages the site lists for crawlers, read before its links: the sitemaps its
    robots.txt names (`Sitemap:` lines) and the feeds the start page declares (at most
    MAX_FEEDS of each, on its site). Returns their in-scope entries and the Page of each
    sitemap and feed read (robots.txt is the fetcher's own read)."""
    url = page.final_url or page.url
    html = _text(page)
    reads: list[Page] = []
    sitemaps = [s for s in fetcher.sitemaps(url) if scope.refusal(s) in (None, FILE)][:MAX_FEEDS]
    feeds = [f for f in page_links(html, url, scope).feeds
             if scope.refusal(f) in (None, FILE)][:MAX_FEEDS]  # a feed on another site: not read
    entries: list[str] = []
    for found in discover([*sitemaps, *feeds], fetcher.fetch_document, max_sitemaps=MAX_FEEDS):
        if isinstance(found, Page):
            reads.append(found)
        elif scope.refusal(found.url) is None:
            entries.append(canonicalize(found.url))
    return entries, reads
