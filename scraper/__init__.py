"""Fetching: FetchTasks in, Pages out.

The contract is exception-free: `Fetcher.fetch` (and iterating `Fetcher(tasks)`) never
raises because of a bad URL, an unreachable host, an error status, a slow or oversized
response, or a missing local file. Every input yields exactly one Page; a failed one has
`error` set to a human-readable sentence ("HTTP 404 Not Found") and `outcome` to a short
key (records/outcomes.py: "fetch.http_404", "fetch.timeout", "fetch.connect_error",
"fetch.content_type", "fetch.too_large", "fetch.too_many_redirects", "fetch.bad_url",
"fetch.bad_encoding", "fetch.not_found", "fetch.binary", "fetch.robots",
"fetch.private_address", "fetch.error", "input.refused" for a task refused where its input
was read); a good one has outcome "fetched", the body as bytes and the `encoding` to decode
it with; a conditional request answered 304 gives "not_modified" and no body. The URL helpers
(`canonicalize`, `same_site`) never raise either.

Pages come back as they complete, many hosts at once; each host is paced (FetchConfig.delay,
per_host), robots.txt is obeyed, connection errors, timeouts, 429 and 5xx are retried, and
hosts that resolve to private addresses are refused unless FetchConfig.allow_private.

    with Fetcher(FetchConfig(total_timeout=10)) as fetch:
        for page in fetch([FetchTask("https://news.example.test/"), FetchTask("page.html.gz")]):
            ...

`AsyncFetcher` is the same engine for asyncio code (`await fetcher.fetch(task)`,
`async for page in fetcher.run(tasks)`).
"""

from records.urls import canonicalize, same_site

from .charset import detect_encoding
from .config import FetchConfig
from .fetch import AsyncFetcher
from .sync import Fetcher

__all__ = [
    "AsyncFetcher", "FetchConfig", "Fetcher", "canonicalize", "detect_encoding", "same_site",
]
