"""The record types that cross stage boundaries.

One type per boundary, and the same field names everywhere: a record's attribute is the
database column and the JSON/CSV key. Stages import this package (these types, urls.py,
charsets.py, outcomes.py) and nothing of each other.

    FetchTask --fetch--> Page --clean--> Result(page, article | None, outcome) --store-->
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .outcomes import CLEANED, FETCHED


@dataclass(frozen=True)
class FetchTask:
    """What to fetch and why. `url` is an http(s) URL, a file:// URL or a local path."""

    url: str
    source: str = "cli"
    # Where a local file originally came from (`scrape clean --url`): keys and metadata use it.
    origin_url: str | None = None
    # Validators from the last good fetch of this URL: sent as If-None-Match and
    # If-Modified-Since, so an unchanged page comes back as a 304 and costs no cleaning.
    etag: str | None = None
    last_modified: str | None = None
    # Why this input is not to be read at all (a list's line naming a local file, an
    # overlong line, binary data): the fetcher records it as an "input.refused" failure
    # without any I/O.
    refused: str | None = None


@dataclass
class Page:
    """One fetch attempt, good or bad. A failed attempt is a Page with `error` set."""

    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    encoding: str | None = None
    fetched_at: str = ""  # ISO 8601, UTC
    elapsed_ms: int = 0
    bytes: int = 0  # size of the body as received (after transfer decoding)
    error: str | None = None
    # "fetched", "not_modified" (a 304), or the short reason for a failure ("fetch.http_404").
    outcome: str = FETCHED
    etag: str | None = None  # the response's ETag and Last-Modified headers, kept for the
    last_modified: str | None = None  # next run's conditional request
    origin_url: str | None = None
    source: str = "cli"
    # The final response's headers (lower-case names; repeated headers joined by ", "), kept
    # with the raw body in the store's `pages` table so cleaning can be re-run later.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """A body to clean: fetched, not failed and not a 304 "not modified"."""
        return self.error is None and self.outcome == FETCHED


@dataclass
class Article:
    """A clean article: metadata plus the body, paragraphs separated by single newlines."""

    url: str
    canonical_url: str
    title: str | None = None
    description: str | None = None
    author: str | None = None
    date: str | None = None  # publication day, ISO 8601 YYYY-MM-DD
    date_modified: str | None = None  # last-modified day, YYYY-MM-DD
    sitename: str | None = None
    language: str | None = None
    text: str = ""
    # The body as CommonMark (GFM tables): the headline as "# ", subheads, lists, quotes and
    # tables as the page marks them up; the same lines as `text`. None in a row stored
    # before this field existed, until `scrape reclean` fills it.
    markdown: str | None = None
    word_count: int = 0
    content_hash: str = ""
    image_url: str | None = None
    image_caption: str | None = None
    tags: list[str] = field(default_factory=list)  # a JSON array (text) in the database
    repeated_paragraphs_removed: int = 0
    # Words the cleaner took out of what the extractor returned (repeated copies, prompts,
    # the tail...): a page where this is a large share is worth a look (`scrape stats`).
    removed_words: int = 0
    fetched_at: str = ""
    # The page's own rel=canonical (or og:url) as declared, whatever site it names; a
    # syndicated copy names the original there. `canonical_url` is the key: the same link
    # when it is on the page's site, else the page's own URL.
    canonical_link: str | None = None
    # Set by the store's deduper: the id of the cluster's canonical article (None when this
    # row is canonical or unique), the similarity to the copy it matched, and how it matched
    # ("exact": same folded body; "near": Jaccard; "contained": a trimmed copy).
    duplicate_of: int | None = None
    similarity: float | None = None
    dup_method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field, in declaration order: the JSON form of the record."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Crawled:
    """A page fetched by a site crawl (Result.crawl): how deep it lies, what it was judged
    (cleaner.judge: "article", "listing", "other"), and for a listing the links it leads to.
    The store keeps them in the `frontier` table, in the same transaction as the fetch."""

    depth: int
    judgement: str
    # The links to follow: (canonical URL, depth), in the crawl's scope.
    links: tuple[tuple[str, int], ...] = ()
    # Links not followed, by reason ("off_site", "file", "denied", ...: scraper.links).
    skipped: tuple[tuple[str, int], ...] = ()


@dataclass
class Result:
    """What became of one input after cleaning: the attempt, and the article if there is one.

    `outcome` is the counter key for this input: the fetcher's reason when the fetch failed
    ("fetch.http_404"), the cleaner's when it found nothing ("clean.no_content"), "cleaned"
    otherwise; the store then records "new", "duplicate" (a new row, another copy of a stored
    story), "updated" or "unchanged"; "alias" is a page whose canonical link names another
    article already stored (its own article is not stored). `error` is the human-readable reason.
    """

    page: Page
    article: Article | None = None
    outcome: str = CLEANED
    error: str | None = None
    # What the cleaner removed from this page and why ("prune.link_run": 12, "post.prompt": 3).
    drops: dict[str, int] = field(default_factory=dict)
    # The body's MinHash signature (cleaner.dedup.Signature), computed where cleaning runs so
    # the single writer need not; None until then.
    signature: Any = None
    # The page body compressed as the `pages` table keeps it (store.pages.Pack, also run where
    # cleaning runs); None until then, and for responses the store does not keep.
    stored_body: bytes | None = None
    # The stored article this input ended at (the fetches.article_id column), set by the store.
    article_id: int | None = None
    # Set for a page a site crawl fetched: its depth, judgement and links (frontier table).
    crawl: Crawled | None = None
