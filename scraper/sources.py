"""Turning inputs into URLs to fetch: URL files, sitemaps and feeds (`discover`).

`discover` never touches the network itself: the caller hands in a
`read(url) -> Page` callable (scraper.Fetcher.fetch_document), and gets back, in one stream,
the FetchTasks found and the Page of every sitemap or feed read (good or failed: each read is
an attempt to record). Nothing raises on bad input. Reading one sitemap or feed:
scraper/listings.py; telling a sitemap, a feed and a page apart: scraper/kinds.py; lists of
URLs: scraper/url_lists.py.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from urllib.parse import urlsplit

from records import FetchTask, Page
from records.outcomes import FETCH_ERROR
from records.urls import WEB_SCHEMES, canonicalize, is_local, same_site, to_path

from .kinds import kind_by_name, kind_of, worth_fetching
from .listings import (
    MAX_SITEMAP_BYTES,
    URL_LIST_SUFFIXES,
    SitemapContent,
    parse_feed,
    parse_sitemap,
    web_url,
)
from .url_lists import MAX_URL_LINE, UrlLine, read_url_file

LOGGER = logging.getLogger(__name__)

__all__ = [
    "MAX_SITEMAP_BYTES",
    "MAX_URL_LINE",
    "SitemapContent",
    "UrlLine",
    "discover",
    "kind_of",
    "parse_feed",
    "parse_sitemap",
    "read_url_file",
]

# ---------------------------------------------------------------------------------------------
# Discovery

ReadDocument = Callable[[str], Page]
# Why a list's line naming a local file is refused (the command adds how to allow it).
LOCAL_FILE_REFUSED = "a local file named in a list of URLs, not read"
Found = FetchTask | Page  # a page to fetch, or the read of a sitemap or feed
_Document = tuple[bytes, str | None, str]  # body, content type, final URL


class _Discovery:
    """State of one `discover` call: what was fetched, and the sitemap budget."""

    def __init__(self, read: ReadDocument, max_sitemaps: int,
                 allow_local_files: bool = False) -> None:
        self.read = read
        self.max_sitemaps = max_sitemaps
        self.allow_local_files = allow_local_files
        self.sitemaps_fetched = 0
        self.scheduled: set[str] = set()  # canonical URLs fetched or queued (loops end here)
        self.lists: set[str] = set()  # lists read (one naming itself is read once)
        self.cap_logged = False

    def fetch(self, url: str) -> tuple[Page, _Document | None]:
        """The read's Page (to pass on), and the document when the read succeeded."""
        try:
            page = self.read(url)
        except Exception as exc:  # noqa: BLE001 - any failure of the caller's read: go on
            page = Page(url=url, fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        outcome=FETCH_ERROR, error=f"{type(exc).__name__}: {exc}")
        if page.error is not None:
            LOGGER.warning("discover: could not fetch %s: %s", url, page.error)
            return page, None
        final_url = page.final_url or url
        self.scheduled.add(canonicalize(final_url))  # a redirect target is not fetched again
        return page, (page.body, page.content_type, final_url)

    def budget_left(self) -> bool:
        if self.sitemaps_fetched < self.max_sitemaps:
            return True
        if not self.cap_logged:
            LOGGER.warning(
                "discover: max_sitemaps (%d) reached, not following more", self.max_sitemaps
            )
            self.cap_logged = True
        return False

    def expand(self, target: str, source: str = "cli") -> Iterator[Found]:
        if is_local(target):
            yield from self.expand_local(target, source)
            return
        if not (worth_fetching(target) and web_url(target, "") == target):
            yield FetchTask(url=target, source=source)
            return
        key = canonicalize(target)
        if key in self.scheduled:
            return  # already read as a sitemap or feed in this run
        if kind_by_name(target) == "sitemap" and not self.budget_left():
            return
        self.scheduled.add(key)
        page, fetched = self.fetch(target)
        yield page
        if fetched is None:
            return
        body, content_type, final_url = fetched
        kind = kind_of(body, content_type, final_url)
        if kind == "sitemap":
            if self.budget_left():
                self.sitemaps_fetched += 1
                yield from self.walk_sitemaps(target, body, content_type, final_url)
        elif kind == "feed":
            for url in parse_feed(body, final_url):
                yield FetchTask(url=url, source=f"feed:{target}")
        else:
            # Named like a sitemap or feed but is neither: it is a page after all.
            LOGGER.info("discover: %s is neither a sitemap nor a feed; taken as a page", target)
            yield FetchTask(url=target, source=source)

    def expand_local(self, target: str, source: str = "cli") -> Iterator[Found]:
        try:
            path = to_path(target)
        except ValueError:
            yield FetchTask(url=target, source=source)
            return
        try:
            is_list = path.name.lower().endswith(URL_LIST_SUFFIXES) and path.is_file()
        except OSError:  # no permission to look: let the fetcher report it
            is_list = False
        if not is_list:
            yield FetchTask(url=target, source=source)
            return
        yield from self.expand_list(path)

    def expand_list(self, path: str | os.PathLike[str]) -> Iterator[Found]:
        """The URLs of a URL file, each expanded like a target (a sitemap in it is read).

        A list's lines are data, not the user's choice of files: a local path or file://
        URL in it is a refused task unless `allow_local_files`, and so is any scheme but
        http(s), an overlong line and binary content (scraper.fetch records each as an
        "input.refused" fetch)."""
        source = f"file:{path}"
        key = os.path.realpath(path)
        if key in self.lists:
            LOGGER.warning("discover: %s is already being read; not again", path)
            return
        self.lists.add(key)
        try:
            for line in read_url_file(path):
                refused = line.refused or self.refusal(line.text)
                if refused is None:
                    yield from self.expand(line.text, source)
                else:
                    where = "" if line.refused else f" (line {line.number} of {path})"
                    yield FetchTask(url=line.text, source=source, refused=refused + where)
        except (OSError, EOFError, UnicodeError, zlib.error) as exc:  # recorded, not fatal
            yield FetchTask(url=str(path), source=source,
                            refused=f"cannot read the list of URLs {path}: {exc}")

    def refusal(self, url: str) -> str | None:
        """Why a list's line is not read (None: it is): only http(s) URLs, and local files
        when allowed."""
        if is_local(url):
            return None if self.allow_local_files else LOCAL_FILE_REFUSED
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme in WEB_SCHEMES:
            return None
        return f"not an http(s) URL (scheme {scheme!r}) in a list of URLs"

    def walk_sitemaps(self, url: str, body: bytes, content_type: str | None,
                      final_url: str) -> Iterator[Found]:
        """Pages of a sitemap and, breadth-first, of the sitemaps it lists (same site only),
        with the Page of each child sitemap read."""
        queue: deque[str] = deque()
        document: _Document | None = (body, content_type, final_url)
        while True:
            if document is not None:
                body, content_type, final_url = document
                if kind_of(body, content_type, final_url) == "feed":
                    content = SitemapContent(pages=parse_feed(body, final_url))
                else:
                    content = parse_sitemap(body, final_url)
                source = f"sitemap:{url}"
                for listed in content.pages:
                    yield FetchTask(url=listed, source=source)
                for child in content.sitemaps:
                    key = canonicalize(child)
                    if key in self.scheduled:
                        continue
                    # An index may not walk us into other sites' sitemap trees.
                    if not (same_site(child, url) or same_site(child, final_url)):
                        LOGGER.warning(
                            "discover: %s lists off-site sitemap %s; skipped", url, child
                        )
                        continue
                    self.scheduled.add(key)
                    queue.append(child)
            if not queue or not self.budget_left():
                return
            url = queue.popleft()
            self.sitemaps_fetched += 1
            read, document = self.fetch(url)
            yield read


def discover(
    targets: Iterable[str],
    read: ReadDocument,
    max_sitemaps: int = 1000,
    max_urls: int | None = None,
    url_files: Iterable[str | os.PathLike[str]] = (),
    allow_local_files: bool = False,
) -> Iterator[Found]:
    """FetchTasks for the pages that `targets` name, then those of `url_files`, lazily,
    each URL once; and, where it was read, the Page of each sitemap or feed.

    A local .urls(.gz) file, and every file of `url_files` whatever its name, gives its URLs
    (source "file:<path>"), each expanded like a target; a URL named like a
    sitemap or feed (or any .xml) is read with `read(url) -> Page` and gives the pages it
    lists (source "sitemap:<url of the listing sitemap>" or
    "feed:<url>"), sitemap indexes followed breadth-first on the same site, at most
    `max_sitemaps` sitemaps fetched in all; anything else is a page itself (source "cli").
    A failed read (a Page with `error`, or `read` raising: then a "fetch.error" Page) is
    logged, passed on and skipped. URLs are deduplicated on their canonical form; iteration
    stops after `max_urls` tasks. Nothing is fetched before it is needed.
    The targets are the user's own; the lines of the lists are data: only their http(s)
    URLs are read, and their local files with `allow_local_files`; the others come as
    refused tasks (FetchTask.refused, see `_Discovery.expand_list`).
    """
    if max_urls is not None and max_urls <= 0:
        return
    state = _Discovery(read, max_sitemaps, allow_local_files)
    seen: set[str] = set()
    emitted = 0
    expansions = chain((state.expand(t.strip()) for t in targets if t.strip()),
                       (state.expand_list(path) for path in url_files))
    for expansion in expansions:
        for task in expansion:
            if isinstance(task, Page):  # a read, passed on as it happened
                yield task
                continue
            key = canonicalize(task.url)
            if key in seen:
                continue
            seen.add(key)
            yield task
            emitted += 1
            if max_urls is not None and emitted >= max_urls:
                return
