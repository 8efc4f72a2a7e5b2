"""Every outcome an input can come to, and the groups of outcomes the code asks about.

An outcome is a short key: `Page.outcome` after fetching, `Result.outcome` after cleaning
and storing, the `outcome` column of `fetches`, a key of `runs.counts`, the first word of a
run's line per input. The values are stored and shown: never change one. A failure's key
names the stage that failed ("fetch.", "clean.", "store.", ...); `http_status(404)` builds
the one family of keys that is not listed here ("fetch.http_404").
"""

from __future__ import annotations

# The fetcher's (scraper/): Page.outcome.
FETCHED = "fetched"  # a good page (a 2xx, or a file read), not yet cleaned
NOT_MODIFIED = "not_modified"  # a 304 to a conditional request: the stored article stands
FETCH_TIMEOUT = "fetch.timeout"  # no whole response in time (connect, read or in total)
FETCH_CONNECT_ERROR = "fetch.connect_error"  # could not connect (DNS, refused, reset)
FETCH_CONTENT_TYPE = "fetch.content_type"  # neither HTML nor text (or untyped, not HTML-like)
FETCH_TOO_LARGE = "fetch.too_large"  # the body, a decoded layer of it or a file: over the limit
FETCH_TOO_MANY_REDIRECTS = "fetch.too_many_redirects"  # more redirects than allowed
FETCH_BAD_URL = "fetch.bad_url"  # nothing that can be fetched: no host, bad scheme or redirect
FETCH_BAD_ENCODING = "fetch.bad_encoding"  # a content coding or charset that cannot be undone
FETCH_NOT_FOUND = "fetch.not_found"  # no such local file (a path, a file:// URL, a list)
FETCH_BINARY = "fetch.binary"  # the body is binary data, not text or HTML
FETCH_ROBOTS = "fetch.robots"  # robots.txt disallows it (or could not be read: 429, 5xx)
FETCH_PRIVATE_ADDRESS = "fetch.private_address"  # a non-public address, refused before sending
FETCH_ERROR = "fetch.error"  # any other failed fetch or read (network, invalid response, I/O)
INPUT_REFUSED = "input.refused"  # refused where its input was read (a list line, binary data)
WARC_ERROR = "warc.error"  # a truncated or corrupt WARC file (names the file and byte offset)

_HTTP_PREFIX = "fetch.http_"


def http_status(code: int) -> str:
    """The outcome of a non-2xx answer (a 304 aside): `http_status(404)` is "fetch.http_404"."""
    return f"{_HTTP_PREFIX}{code}"


def http_code(outcome: str) -> int | None:
    """The status of an `http_status` outcome ("fetch.http_404": 404); None for any other."""
    if outcome.startswith(_HTTP_PREFIX) and outcome[len(_HTTP_PREFIX):].isdigit():
        return int(outcome[len(_HTTP_PREFIX):])
    return None


# The cleaner's (cleaner/, and the executors that run it): Result.outcome.
CLEANED = "cleaned"  # an article, not yet stored (the store names what became of it)
CLEAN_TIMEOUT = "clean.timeout"  # cleaning took longer than its time limit
CLEAN_ERROR = "clean.error"  # the cleaner raised (or a worker could not return the result)
CLEAN_NO_CONTENT = "clean.no_content"  # no article text found (or fewer words than the minimum)
CLEAN_CRASHED = "clean.crashed"  # the worker process cleaning it died, and again when retried
CLUSTER_ERROR = "cluster.error"  # its chunk failed on the Dask cluster
CLUSTER_CRASHED = "cluster.crashed"  # it killed every cluster worker that handled it

# The store's (store/): what became of a cleaned article.
NEW = "new"  # a new article row
DUPLICATE = "duplicate"  # a new row that is another copy of a stored story (duplicate_of)
UPDATED = "updated"  # the row of its canonical URL, changed
UNCHANGED = "unchanged"  # the row of its canonical URL, as stored
STORE_ERROR = "store.error"  # the database refused the article, or its batch never committed

# The run's (pipeline/): inputs that are not cleaned.
ALIAS = "alias"  # its canonical link names another stored article of its site: none stored
SKIPPED_FRESH = "skipped.fresh"  # fetched recently enough (the run's maximum age): not requested
SOURCE_READ = "source.read"  # a sitemap or feed, read for its links
# A site crawl's pages that are no article (cleaner.judge), recorded and not stored.
CRAWL_LISTING = "crawl.listing"  # a home, section, tag, author or archive page: links followed
CRAWL_NOT_ARTICLE = "crawl.not_article"  # about, contact, login, search, legal pages

# `scrape reclean`'s, for a stored page in which the new cleaner finds no article.
LOST = "lost"  # an article was stored from this URL: it stays as it was
RECLEAN_FAILED = "failed"  # none was

# The groups. Tuples where the order is that of a display; a tuple's order is kept.

# The input's article is stored: a new row, or its row changed or as stored. A run's summary
# names these even at 0 (ALWAYS_SHOWN).
STORED = (NEW, DUPLICATE, UPDATED, UNCHANGED)
ALWAYS_SHOWN = STORED
# The URL's article is as stored after this fetch: the validators (ETag, Last-Modified) and
# the time of the last such fetch are what a later run revalidates with (store/history.py).
GOOD_FETCH = (*STORED, NOT_MODIFIED)
# Stored or read as intended: what a run counts as not failed, in the order of its summary.
SUCCEEDED = (*GOOD_FETCH, ALIAS, SKIPPED_FRESH, SOURCE_READ, CRAWL_LISTING, CRAWL_NOT_ARTICLE)
# No article in the Result, but the URL's stored article still stands: its fetches row names it.
STORED_ARTICLE_STANDS = (NOT_MODIFIED, ALIAS)

# Before the store: never a fetches row's outcome.
IN_FLIGHT = frozenset({FETCHED, CLEANED})
# Failures, by the stage that failed (a fetch's also include every `http_status(code)`).
FETCH_FAILURES = frozenset({
    FETCH_TIMEOUT, FETCH_CONNECT_ERROR, FETCH_CONTENT_TYPE, FETCH_TOO_LARGE,
    FETCH_TOO_MANY_REDIRECTS, FETCH_BAD_URL, FETCH_BAD_ENCODING, FETCH_NOT_FOUND, FETCH_BINARY,
    FETCH_ROBOTS, FETCH_PRIVATE_ADDRESS, FETCH_ERROR, INPUT_REFUSED, WARC_ERROR})
CLEAN_FAILURES = frozenset({CLEAN_TIMEOUT, CLEAN_ERROR, CLEAN_NO_CONTENT, CLEAN_CRASHED,
                            CLUSTER_ERROR, CLUSTER_CRASHED})
FAILURES = FETCH_FAILURES | CLEAN_FAILURES | {STORE_ERROR}

# `scrape reclean`: what a re-cleaned page can come to, in the order its summary prints them,
# and those that changed the stored articles.
RECLEANED = (UPDATED, UNCHANGED, NEW, DUPLICATE, LOST, RECLEAN_FAILED, STORE_ERROR)
RECLEAN_CHANGED = (UPDATED, NEW, DUPLICATE)

# Every named outcome (the http_status family aside).
ALL = frozenset({*IN_FLIGHT, *SUCCEEDED, *FAILURES, *RECLEANED})
