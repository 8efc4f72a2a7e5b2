"""Taking turns: how many requests run at once, per host and in all, and how often a host
is asked; and how long to wait before a retry.

A *host* is an origin: scheme, host name and port ("https://news.example.test:443"). It is
the unit robots.txt applies to (RFC 9309), so pacing uses the same key; "127.0.0.1" and
"localhost" are two hosts, and so are two ports of one machine.

Every HTTP request (a page, each redirect hop, each retry, robots.txt) first takes a *turn*
at its host: one of the host's `per_host` slots, then the moment `delay` seconds after the
previous request to that host started (or later, if the host sent Retry-After), and only
then one of the `concurrency` global slots. Waiting for a busy or slow host therefore never
holds a global slot: other hosts go on. A turn lasts for one request and its response body;
it is released before the next hop, so a redirect to another host cannot deadlock.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from .config import FetchConfig


def origin_of(url: httpx.URL) -> str:
    """The host key of a URL: "scheme://host:port", the port always written out."""
    port = url.port or (443 if url.scheme == "https" else 80)
    host = url.host if ":" not in url.host else f"[{url.host}]"
    return f"{url.scheme}://{host}:{port}"


class Host:
    """What the scheduler knows about one origin."""

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(max(1, per_host))
        self.last_start = -math.inf  # loop time of the last request start
        self.not_before = -math.inf  # loop time before which nothing starts (Retry-After)
        self.crawl_delay = 0.0  # from robots.txt, once read


class Scheduler:
    """Hands out turns (see the module docstring). One per fetcher, on one event loop.

    `concurrency` and `per_host` are read when the scheduler (and each Host) is made;
    `delay` is read at every turn.
    """

    def __init__(self, config: FetchConfig) -> None:
        self._config = config
        self._global = asyncio.Semaphore(max(1, config.concurrency))
        self._hosts: dict[str, Host] = {}

    def host(self, origin: str) -> Host:
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = Host(self._config.per_host)
        return host

    def hold(self, origin: str, until: float) -> None:
        """Start nothing at `origin` before loop time `until` (the host said Retry-After)."""
        host = self.host(origin)
        host.not_before = max(host.not_before, until)

    def ready_at(self, origin: str) -> float | None:
        """Loop time (time.monotonic) from which `origin` may be asked again; None for a
        host not asked yet."""
        host = self._hosts.get(origin)
        return None if host is None else self._ready_at(host)

    def _ready_at(self, host: Host) -> float:
        delay = max(self._config.delay, host.crawl_delay)
        return max(host.last_start + delay, host.not_before)

    @asynccontextmanager
    async def turn(self, origin: str) -> AsyncIterator[None]:
        """Wait for a turn at `origin`; the request runs inside the `async with`."""
        host = self.host(origin)
        loop = asyncio.get_running_loop()
        async with host.slots:
            while True:
                wait = self._ready_at(host) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                await self._global.acquire()
                if loop.time() >= self._ready_at(host):
                    break
                # Another request to this host started while we waited for a global slot.
                self._global.release()
            host.last_start = loop.time()
            try:
                yield
            finally:
                self._global.release()


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): exponential
    backoff with full jitter, uniform in [0, min(cap, base * 2 ** (attempt - 1))]."""
    return random.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date; None if
    absent or unreadable. A date in the past means 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
