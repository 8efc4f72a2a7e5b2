"""The fetcher's settings, in a module of their own: the engine (fetch.py), the scheduler
(hosts.py) and the transports (transports.py) all read them, and none imports another for
them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FetchConfig:
    """How to fetch: frozen; a variant is `dataclasses.replace(config, delay=2.0)`.

    A host is an origin: scheme, host name and port (see scraper/hosts.py).
    """

    connect_timeout: float = 10.0  # seconds to open the TCP (and TLS) connection
    read_timeout: float = 20.0  # seconds any single read may wait for data
    # Seconds for one attempt at a page: its redirects, headers and body. Waiting for a turn
    # at a busy host does not count; a retry starts a new attempt.
    total_timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024  # body size cap (decompressed), enforced while reading
    max_redirects: int = 10
    # Say who you are: replace the placeholder with your contact URL. robots.txt groups are
    # matched against its first word ("scrape-clean").
    user_agent: str = "scrape-clean/0.1 (+https://example.org/scrape-clean)"
    concurrency: int = 16  # requests in flight at once, all hosts together
    per_host: int = 2  # requests in flight at once to one host
    delay: float = 1.0  # seconds between the starts of two requests to one host
    obey_robots: bool = True  # robots.txt read once per host; Crawl-delay raises `delay`
    max_attempts: int = 3  # per page, on connection errors, timeouts, 429, 500, 502-504
    retry_backoff: float = 0.5  # seconds: backoff after the first failure; doubles each time
    # The longest wait before a retry. A Retry-After longer than this is not waited for:
    # the page fails at once (retrying earlier than asked is what the server asked us not to).
    max_retry_wait: float = 60.0
    # Fetch from loopback, private, link-local, ... addresses (checked after DNS, at every
    # connection). Off by default, so a public page cannot point us at the local network.
    allow_private: bool = False
    # The network transport under httpx (scraper/transports.py), fixed when the fetcher is
    # created: "aiohttp" (httpx_aiohttp, the faster) or "httpcore" (httpx's own).
    transport: str = "aiohttp"
