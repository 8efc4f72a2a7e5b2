"""Turn FetchTasks into Pages: HTTP(S) through httpx, local files from disk.

`AsyncFetcher` is the engine (httpx.AsyncClient, scraper/client.py): many hosts at once, each
paced and asked only for what its robots.txt allows, retries with backoff, private addresses
refused. `Fetcher` (scraper/sync.py) is the synchronous facade the pipeline uses. Neither
raises for a bad URL or page: the failure is recorded on the Page (`error`: a sentence for
people, `outcome`: a key for counters; scraper/errors.py translates what went wrong).

How hosts take turns: scraper/hosts.py. robots.txt: scraper/robots.py. Reading a body:
scraper/body.py. The address guard: scraper/transports.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from records import FetchTask, Page
from records.outcomes import (
    FETCH_BAD_URL,
    FETCH_CONTENT_TYPE,
    FETCH_ERROR,
    FETCH_TIMEOUT,
    FETCH_TOO_MANY_REDIRECTS,
    FETCHED,
    INPUT_REFUSED,
    NOT_MODIFIED,
)
from records.urls import WEB_SCHEMES, is_local

from .addresses import check_host
from .body import Budget, aiter_of, read_document, read_page, read_robots
from .charset import detect_encoding
from .client import Client
from .config import FetchConfig
from .content import (
    ACCEPTED_TYPES,
    media_type,
)
from .errors import FetchFailure, check_status, refuse_binary, translate, with_attempts
from .hosts import Scheduler, backoff, origin_of
from .local import local_path, read_file
from .robots import RobotsCache, Verdict, agent_token, verdict_for
from .transports import network_transport

log = logging.getLogger(__name__)

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
# Encodings scraper/content.py decodes in bounded steps (it also takes zstd, but refuses
# br); httpx's decoders inflate a whole network read at once, which lets a gzip bomb
# balloon before the size check sees it.
_ACCEPT_ENCODING = "gzip, deflate"
_ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2

T = TypeVar("T")


class AsyncFetcher:
    """Fetches many pages at once, politely. Use as an async context manager.

    `transport` replaces the network transport (an httpx.AsyncBaseTransport; tests pass an
    httpx.MockTransport with an async handler). IP-literal hosts ("10.0.0.1", "127.1",
    "[fec0::1]") are refused by the fetcher itself at every hop, whatever the transport;
    DNS names are checked where the network transport resolves them, so with an injected
    transport, which decides where requests go, only the IP-literal check applies.
    Use one AsyncFetcher on one event loop.
    """

    def __init__(
        self, config: FetchConfig | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config or FetchConfig()
        self._token = agent_token(self.config.user_agent)
        self._client = Client(
            transport=transport if transport is not None else network_transport(self.config),
            follow_redirects=False,  # followed by hand: robots, deadline and turns at every hop
            event_hooks={"response": [_refuse_odd_redirect]},
            headers={
                "User-Agent": self.config.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
        )
        self._scheduler = Scheduler(self.config)
        # The body readers, each with this fetcher's config (scraper/body.py).
        self._read_page = partial(read_page, config=self.config)
        self._read_document = partial(read_document, config=self.config)
        self._read_robots = partial(read_robots, config=self.config)
        self.robots = RobotsCache(self._load_robots)  # one read per origin, shared

    async def __aenter__(self) -> AsyncFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def ready_at(self, origin: str) -> float | None:
        """Loop time from which `origin` may be asked again (None: not asked yet)."""
        return self._scheduler.ready_at(origin)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run(
        self, tasks: Iterable[FetchTask] | AsyncIterable[FetchTask]
    ) -> AsyncIterator[Page]:
        """One Page per task, yielded as each completes (not in the order of the tasks).

        At most 2 * concurrency tasks are taken from `tasks` ahead of the pages yielded, so a
        huge or endless iterable is fine (but a window full of one slow host's tasks waits
        for that host: interleave hosts in a long input). A failed task never stops the
        others. To stop early, iterate inside `contextlib.aclosing(fetcher.run(tasks))`:
        closing the generator cancels the fetches still running.
        """
        window = 2 * max(1, self.config.concurrency)
        source = aiter_of(tasks)
        running: set[asyncio.Task[Page]] = set()
        more = True
        try:
            while True:
                while more and len(running) < window:
                    try:
                        task = await anext(source)
                    except StopAsyncIteration:
                        more = False
                        break
                    running.add(asyncio.ensure_future(self.fetch(task)))
                if not running:
                    return
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    yield finished.result()
        finally:
            for unfinished in running:
                unfinished.cancel()

    async def fetch(self, task: FetchTask) -> Page:
        """Fetch one task. Never raises: failures come back as a Page with `error` set.

        Takes turns with every other fetch of this fetcher (per host and in all), so
        calling it concurrently is as polite as `run`.
        """
        return await self._fetch(task, self._read_page)

    async def fetch_document(self, url: str) -> Page:
        """A sitemap or a feed: fetched like a page (same turns, robots.txt, limits, safety)
        but whatever its content type (XML, JSON, gzip), and without a charset."""
        return await self._fetch(FetchTask(url=url, source="discover"), self._read_document)

    async def _fetch(self, task: FetchTask,
                     read: Callable[[httpx.Response, Page, Budget], Awaitable[None]]) -> Page:
        loop = asyncio.get_running_loop()
        started = loop.time()
        page = Page(
            url=task.url,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            origin_url=task.origin_url,
            source=task.source,
        )
        attempt = _Attempt(page, validators=_validators(task))
        try:
            if task.refused is not None:  # decided where the input was read: no I/O at all
                raise FetchFailure(INPUT_REFUSED, task.refused)
            target = task.url.strip()
            if not target:
                raise FetchFailure(FETCH_BAD_URL, "empty URL")
            if is_local(target):
                await asyncio.to_thread(self._fetch_file, target, page)
            else:
                await self._fetch_http(target, attempt, read)
        except FetchFailure as failure:
            page.error, page.outcome = failure.message, failure.outcome
        except Exception as exc:  # the contract: a bad page must not stop the run
            page.error = f"unexpected error fetching {task.url}: {type(exc).__name__}: {exc}"
            page.outcome = FETCH_ERROR
        if page.error is not None:
            page.body, page.encoding = b"", None
        else:
            page.outcome = NOT_MODIFIED if attempt.not_modified else FETCHED
        # Time spent fetching, retry waits included; not the wait for a turn at a busy host.
        page.elapsed_ms = max(0, round((loop.time() - started - attempt.waited) * 1000))
        return page

    # -- local files ---------------------------------------------------------------------

    def _fetch_file(self, target: str, page: Page) -> None:
        path = local_path(target)
        page.final_url = path.as_uri()
        body, content_type = read_file(path, self.config.max_bytes)
        page.content_type, page.bytes = content_type, len(body)
        if content_type not in ACCEPTED_TYPES:
            raise FetchFailure(FETCH_CONTENT_TYPE, f"unsupported content type {content_type}")
        refuse_binary(body)
        page.body, page.encoding = body, detect_encoding(body, None)

    # -- HTTP ----------------------------------------------------------------------------

    async def _fetch_http(
        self,
        url: str,
        attempt: _Attempt,
        read: Callable[[httpx.Response, Page, Budget], Awaitable[None]],
    ) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in WEB_SCHEMES:
            raise FetchFailure(
                FETCH_BAD_URL,
                f"unsupported URL scheme {scheme!r} in {url} (only http, https and file)",
            )
        request = self._build(url, attempt.validators)
        await self._chain(request, attempt, read, self.config.max_redirects,
                          obey_robots=self.config.obey_robots)

    def _build(self, url: str, headers: dict[str, str] | None = None) -> httpx.Request:
        try:
            request = self._client.get_request(url, headers)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchFailure(FETCH_BAD_URL, f"invalid URL {url}: {exc}") from None
        if not request.url.host:
            raise FetchFailure(FETCH_BAD_URL, f"invalid URL {url}: no host")
        return request

    async def _chain(
        self,
        request: httpx.Request,
        attempt: _Attempt,
        read: Callable[[httpx.Response, Page, Budget], Awaitable[None]],
        max_redirects: int,
        obey_robots: bool,
    ) -> None:
        """Follow `request` through its redirects to a response `read` accepts, retrying
        what is worth retrying. Raises FetchFailure; `attempt.page` records the last try."""
        loop = asyncio.get_running_loop()
        cfg = self.config
        page = attempt.page
        redirects = 0
        tries = 1
        while True:
            budget = Budget(cfg.total_timeout, loop.time() + cfg.total_timeout, loop.time)
            page.final_url = page.status = page.content_type = None
            page.bytes = 0
            try:
                while True:
                    # An IP-literal host, checked here whatever the transport (a DNS name is
                    # checked where the network transport resolves it).
                    check_host(request.url.host, cfg.allow_private)
                    if obey_robots:  # reading robots.txt is not the page's time
                        asked = loop.time()
                        verdict = await self.robots.verdict(origin_of(request.url))
                        budget.deadline += loop.time() - asked
                        verdict.check(request.url, self._token)
                    next_request = await self._hop(request, attempt, budget, read)
                    if next_request is None:
                        return
                    redirects += 1
                    if redirects > max_redirects:
                        raise FetchFailure(
                            FETCH_TOO_MANY_REDIRECTS,
                            f"more than {max_redirects} redirects"
                            f" (the last one pointed to {next_request.url})",
                        )
                    request = next_request
            except FetchFailure as failure:
                if not failure.retryable or tries >= cfg.max_attempts:
                    raise with_attempts(failure, tries) from None
                if failure.retry_after is not None:
                    if failure.retry_after > cfg.max_retry_wait:
                        raise FetchFailure(
                            failure.outcome,
                            f"{failure.message} (the server asked to retry after "
                            f"{failure.retry_after:g} s, more than max_retry_wait "
                            f"{cfg.max_retry_wait:g} s: not retried"
                            f"{'' if tries == 1 else f'; {tries} attempts'})",
                        ) from None
                    wait = failure.retry_after
                    self._scheduler.hold(origin_of(request.url), loop.time() + wait)
                else:
                    wait = backoff(tries, cfg.retry_backoff, cfg.max_retry_wait)
                log.info("retrying %s in %.2f s (attempt %d of %d): %s", request.url, wait,
                         tries + 1, cfg.max_attempts, failure.message)
                await asyncio.sleep(wait)
                tries += 1

    async def _hop(
        self,
        request: httpx.Request,
        attempt: _Attempt,
        budget: Budget,
        read: Callable[[httpx.Response, Page, Budget], Awaitable[None]],
    ) -> httpx.Request | None:
        """One request, in a turn at its host: the redirect to follow, or None when `read`
        took the page. Raises FetchFailure."""
        loop = asyncio.get_running_loop()
        page = attempt.page
        asked = loop.time()
        async with self._scheduler.turn(origin_of(request.url)):
            waited = loop.time() - asked
            budget.deadline += waited  # the total timeout counts from our turn
            attempt.waited += waited
            remaining = budget.remaining("before sending the request")
            cfg = self.config
            timeout = {  # httpx.Timeout.as_dict(): each phase gets at most what is left
                "connect": min(cfg.connect_timeout, remaining),
                "read": min(cfg.read_timeout, remaining),
                "write": min(cfg.read_timeout, remaining),
                "pool": min(cfg.connect_timeout, remaining),
            }
            request.extensions = {**request.extensions, "timeout": timeout}
            phase = "waiting for the response"
            try:
                async with asyncio.timeout_at(budget.deadline):
                    try:
                        response = await self._client.send(request, stream=True)
                    except httpx.HTTPError as exc:
                        raise translate(exc, request, self.config) from None
                    except _BadRedirect as bad:
                        _seen(page, bad.response)
                        raise
                    try:
                        phase = "reading the response"
                        _seen(page, response)
                        if response.next_request is not None:
                            return response.next_request
                        page.etag = page.headers.get("etag")
                        page.last_modified = page.headers.get("last-modified")
                        if response.status_code == 304 and attempt.validators:
                            attempt.not_modified = True  # unchanged since the last good fetch
                            return None
                        check_status(response)
                        await read(response, page, budget)
                        return None
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise FetchFailure(
                    FETCH_TIMEOUT,
                    f"timed out after {cfg.total_timeout} s in total ({phase})",
                    retryable=True,
                ) from None

    # -- robots.txt ----------------------------------------------------------------------

    async def _load_robots(self, origin: str) -> Verdict:
        """Fetch and judge robots.txt of `origin` (scraper/robots.py has the rules)."""
        page = Page(url=f"{origin}/robots.txt")
        failure = None
        try:
            await self._chain(self._build(page.url), _Attempt(page), self._read_robots,
                              _ROBOTS_MAX_REDIRECTS, obey_robots=False)
        except FetchFailure as exc:
            failure = exc
        except Exception as exc:  # never let one host's robots.txt break the run
            failure = FetchFailure(FETCH_ERROR, f"{type(exc).__name__}: {exc}")
        verdict = verdict_for(origin, page.body, failure)
        delay = verdict.crawl_delay(self._token)
        if delay:
            self._scheduler.host(origin).crawl_delay = delay
        log.info("robots.txt of %s: %s", origin,
                 failure.message if failure else f"{page.bytes} bytes, crawl delay {delay:g} s")
        return verdict


@dataclass
class _Attempt:
    """One fetch in progress: its Page, the time it spent waiting for turns, and the
    validators of the last good fetch (sent for a conditional request)."""

    page: Page
    waited: float = 0.0
    validators: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False


def _validators(task: FetchTask) -> dict[str, str]:
    """Conditional-request headers from the last good fetch's ETag and Last-Modified."""
    headers = {}
    if task.etag:
        headers["If-None-Match"] = task.etag
    if task.last_modified:
        headers["If-Modified-Since"] = task.last_modified
    return headers


class _BadRedirect(FetchFailure):
    """A redirect to something that is no http(s) URL, with the response that said so."""

    def __init__(self, response: httpx.Response, message: str) -> None:
        super().__init__(FETCH_BAD_URL, message)
        self.response = response


async def _refuse_odd_redirect(response: httpx.Response) -> None:
    """The client's response hook: a redirect to data:, javascript:, file:, ftp:, ... or to
    no URL at all is a bad URL. (httpx would raise InvalidURL building the next request,
    or make file:///x into file://host/x.)"""
    if not response.has_redirect_location:
        return
    location = response.headers["location"]
    shown = location if len(location) <= 200 else location[:199] + "…"
    try:
        scheme = httpx.URL(location).scheme
    except httpx.InvalidURL as exc:
        raise _BadRedirect(response, f"redirected to an invalid URL {shown!r}: {exc}") from None
    if scheme and scheme not in WEB_SCHEMES:
        raise _BadRedirect(response, f"redirected to an unsupported URL: {shown}")


def _seen(page: Page, response: httpx.Response) -> None:
    """What a page records of the last response it got."""
    page.final_url = str(response.url)
    page.status = response.status_code
    page.headers = headers_of(response)
    page.content_type = media_type(page.headers.get("content-type"))


def headers_of(response: httpx.Response) -> dict[str, str]:
    """The response's headers, names lower-cased, repeated ones joined by ", ": what
    dict(response.headers) gives, in one pass (httpx looks each name up in the whole list)."""
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out





