"""robots.txt: what a host allows, read once per host (origin) per fetcher.

The rules are Google's (https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt)
and RFC 9309's:

- 2xx: the file is parsed (protego); only its first 500 KiB count.
- 4xx other than 429, or a redirect chain that goes nowhere: there are no rules, everything
  is allowed.
- 429, 5xx, or the host unreachable (connection error, timeout): everything is disallowed,
  because the site may be saying "not now". The pages of such a host are not requested.

Groups are matched against the product token of our User-Agent ("scrape-clean" for
"scrape-clean/0.1 (+https://...)"), then "*". A Crawl-delay for us raises the delay between
requests to that host (the larger of it and FetchConfig.delay).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from protego import Protego

from records.outcomes import (
    FETCH_BAD_URL,
    FETCH_PRIVATE_ADDRESS,
    FETCH_ROBOTS,
    FETCH_TOO_MANY_REDIRECTS,
    http_code,
)

from .errors import FetchFailure

MAX_ROBOTS_BYTES = 500 * 1024
_TOKEN = re.compile(r"[A-Za-z_-]+")


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against ("scrape-clean/0.1 (...)"
    -> "scrape-clean"); "*" when the User-Agent has none."""
    match = _TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else "*"


@dataclass
class Verdict:
    """What robots.txt says about one origin: rules, or "everything" allowed (rules None),
    or everything refused (`refusal`: the failure each page of the host gets)."""

    origin: str
    rules: Protego | None = None
    refusal: FetchFailure | None = None

    def check(self, url: httpx.URL, token: str) -> None:
        """Raise FetchFailure("fetch.robots") unless `token` may fetch `url`."""
        if self.refusal is not None:
            raise self.refusal
        if self.rules is not None and not self.rules.can_fetch(str(url), token):
            raise FetchFailure(
                FETCH_ROBOTS,
                f"robots.txt of {self.origin} disallows {url.raw_path.decode('ascii')} for "
                f"user agent {token!r}",
            )

    def crawl_delay(self, token: str) -> float:
        if self.rules is None:
            return 0.0
        try:
            return float(self.rules.crawl_delay(token) or 0.0)
        except (TypeError, ValueError):
            return 0.0


def verdict_for(origin: str, body: bytes | None, failure: FetchFailure | None) -> Verdict:
    """The verdict from a robots.txt fetch: its body (2xx) or its failure."""
    if failure is None:
        text = (body or b"")[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return Verdict(origin, rules=Protego.parse(text))
    outcome = failure.outcome
    status = http_code(outcome)
    if status is not None and 400 <= status < 500 and status != 429:
        return Verdict(origin)  # no robots.txt: everything allowed
    if outcome in (FETCH_TOO_MANY_REDIRECTS, FETCH_BAD_URL):
        return Verdict(origin)  # RFC 9309 2.3.1.2: a redirect chain that goes nowhere
    if outcome == FETCH_PRIVATE_ADDRESS:
        return Verdict(origin, refusal=failure)  # the page would be refused the same way
    if status is not None:  # 429 and 5xx
        message = (f"robots.txt of {origin} answered {failure.message}: the site is treated "
                   f"as disallowing everything for now")
        return Verdict(origin, refusal=FetchFailure(FETCH_ROBOTS, message))
    message = (f"robots.txt of {origin} could not be fetched ({failure.message}): the site "
               f"is treated as disallowing everything, the page was not requested")
    return Verdict(origin, refusal=FetchFailure(outcome, message))


class RobotsCache:
    """One robots.txt fetch per origin, shared by every request that needs it."""

    def __init__(self, load: Callable[[str], Awaitable[Verdict]]) -> None:
        self._load = load
        self._verdicts: dict[str, asyncio.Future[Verdict]] = {}

    async def verdict(self, origin: str) -> Verdict:
        future = self._verdicts.get(origin)
        if future is None:
            future = self._verdicts[origin] = asyncio.ensure_future(self._load(origin))
        # Shielded: one waiter being cancelled must not cancel the fetch the others await.
        return await asyncio.shield(future)

    async def sitemaps(self, origin: str) -> list[str]:
        """The sitemaps `origin`'s robots.txt names (its `Sitemap:` lines), from the same
        single read as every verdict."""
        verdict = await self.verdict(origin)
        return list(verdict.rules.sitemaps) if verdict.rules is not None else []
