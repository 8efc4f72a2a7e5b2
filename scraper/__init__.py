"""Fetching: FetchTasks in, Pages out.

The contract is exception-free: `Fetcher.fetch` (and iterating `Fetcher(tasks)`) never
raises because of a bad URL, an unreachable host, an error status, a slow or oversized
response, or a missing local file. Every input yields exactly one Page; a failed one has
`error` set to a human-readable sentence ("HTTP 404 Not Found") and `outcome` to a short
key ("fetch.http_404", "fetch.timeout", "fetch.connect_error", "fetch.content_type",
"fetch.too_large", "fetch.too_many_redirects", "fetch.bad_url", "fetch.not_found", "fetch.binary",
"fetch.error"); a good one has outcome "fetched", the body as bytes and the `encoding`
to decode it with. The URL helpers (`canonicalize`, `same_site`) never raise either.

    with Fetcher(FetchConfig(total_timeout=10)) as fetch:
        for page in fetch([FetchTask("https://example.com/"), FetchTask("page.html.gz")]):
            ...
"""

from pipeline.urls import canonicalize, same_site

from .charset import detect_encoding
from .fetch import FetchConfig, Fetcher

__all__ = ["FetchConfig", "Fetcher", "canonicalize", "detect_encoding", "same_site"]
