"""Turn FetchTasks into Pages: HTTP(S) through httpx, local files from disk.

`AsyncFetcher` is the engine (httpx.AsyncClient): many hosts at once, each paced and asked
only for what its robots.txt allows, retries with backoff, private addresses refused.
`Fetcher` is the synchronous facade the pipeline uses: it runs an AsyncFetcher on an event
loop in a background thread. Neither raises for a bad URL or page: the failure is recorded
on the Page (`error`: a sentence for people, `outcome`: a key for counters).

How hosts take turns: scraper/hosts.py. robots.txt: scraper/robots.py. The address guard:
scraper/transports.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from records import FetchTask, Page
from records.urls import WEB_SCHEMES, is_local

from .addresses import check_host
from .charset import detect_encoding
from .config import FetchConfig
from .content import (
    ACCEPTED_TYPES,
    HTML,
    BadEncoding,
    ContentDecoder,
    LayerTooLarge,
    looks_binary,
    looks_like_html,
    media_type,
)
from .errors import FetchFailure
from .hosts import Scheduler, backoff, origin_of, parse_retry_after
from .local import local_path, read_file
from .robots import MAX_ROBOTS_BYTES, RobotsCache, Verdict, agent_token, verdict_for
from .transports import ThreadedTransport, network_transport

log = logging.getLogger(__name__)

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
# Encodings scraper/content.py decodes in bounded steps (it also takes zstd, but refuses
# br); httpx's decoders inflate a whole network read at once, which lets a gzip bomb
# balloon before the size check sees it.
_ACCEPT_ENCODING = "gzip, deflate"
# httpx timeout -> (key in httpx's timeout dict, what we were doing)
_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], tuple[str, str]] = {
    httpx.ConnectTimeout: ("connect", "connecting"),
    httpx.ReadTimeout: ("read", "reading the response"),
    httpx.WriteTimeout: ("write", "sending the request"),
    httpx.PoolTimeout: ("pool", "waiting for a free connection"),
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2
# Bodies bigger than this have their charset detected in a worker thread.
_DETECT_INLINE_BYTES = 256 * 1024

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
        self._client = _Client(
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
        self._robots = RobotsCache(self._load_robots)

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
        source = _aiter(tasks)
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
                     read: Callable[[httpx.Response, Page, _Budget], Awaitable[None]]) -> Page:
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
                raise FetchFailure("input.refused", task.refused)
            target = task.url.strip()
            if not target:
                raise FetchFailure("fetch.bad_url", "empty URL")
            if is_local(target):
                await asyncio.to_thread(self._fetch_file, target, page)
            else:
                await self._fetch_http(target, attempt, read)
        except FetchFailure as failure:
            page.error, page.outcome = failure.message, failure.outcome
        except Exception as exc:  # the contract: a bad page must not stop the run
            page.error = f"unexpected error fetching {task.url}: {type(exc).__name__}: {exc}"
            page.outcome = "fetch.error"
        if page.error is not None:
            page.body, page.encoding = b"", None
        else:
            page.outcome = "not_modified" if attempt.not_modified else "fetched"
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
            raise FetchFailure("fetch.content_type", f"unsupported content type {content_type}")
        refuse_binary(body)
        page.body, page.encoding = body, detect_encoding(body, None)

    # -- HTTP ----------------------------------------------------------------------------

    async def _fetch_http(
        self,
        url: str,
        attempt: _Attempt,
        read: Callable[[httpx.Response, Page, _Budget], Awaitable[None]],
    ) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in WEB_SCHEMES:
            raise FetchFailure(
                "fetch.bad_url",
                f"unsupported URL scheme {scheme!r} in {url} (only http, https and file)",
            )
        request = self._build(url, attempt.validators)
        await self._chain(request, attempt, read, self.config.max_redirects,
                          obey_robots=self.config.obey_robots)

    def _build(self, url: str, headers: dict[str, str] | None = None) -> httpx.Request:
        try:
            request = self._client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchFailure("fetch.bad_url", f"invalid URL {url}: {exc}") from None
        if not request.url.host:
            raise FetchFailure("fetch.bad_url", f"invalid URL {url}: no host")
        return request

    async def _chain(
        self,
        request: httpx.Request,
        attempt: _Attempt,
        read: Callable[[httpx.Response, Page, _Budget], Awaitable[None]],
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
            budget = _Budget(cfg.total_timeout, loop.time() + cfg.total_timeout)
            page.final_url = page.status = page.content_type = None
            page.bytes = 0
            try:
                while True:
                    # An IP-literal host, checked here whatever the transport (a DNS name is
                    # checked where the network transport resolves it).
                    check_host(request.url.host, cfg.allow_private)
                    if obey_robots:  # reading robots.txt is not the page's time
                        asked = loop.time()
                        verdict = await self._robots.verdict(origin_of(request.url))
                        budget.deadline += loop.time() - asked
                        verdict.check(request.url, self._token)
                    next_request = await self._hop(request, attempt, budget, read)
                    if next_request is None:
                        return
                    redirects += 1
                    if redirects > max_redirects:
                        raise FetchFailure(
                            "fetch.too_many_redirects",
                            f"more than {max_redirects} redirects"
                            f" (the last one pointed to {next_request.url})",
                        )
                    request = next_request
            except FetchFailure as failure:
                if not failure.retryable or tries >= cfg.max_attempts:
                    raise _after(failure, tries) from None
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
        budget: _Budget,
        read: Callable[[httpx.Response, Page, _Budget], Awaitable[None]],
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
            timeout = httpx.Timeout(  # every phase gets at most what is left of the budget
                connect=min(cfg.connect_timeout, remaining),
                read=min(cfg.read_timeout, remaining),
                write=min(cfg.read_timeout, remaining),
                pool=min(cfg.connect_timeout, remaining),
            )
            request.extensions = {**request.extensions, "timeout": timeout.as_dict()}
            phase = "waiting for the response"
            try:
                async with asyncio.timeout_at(budget.deadline):
                    try:
                        response = await self._client.send(request, stream=True)
                    except httpx.HTTPError as exc:
                        raise self._failure(exc, request) from None
                    except _BadRedirect as bad:
                        _seen(page, bad.response)
                        raise
                    try:
                        phase = "reading the response"
                        _seen(page, response)
                        if response.next_request is not None:
                            return response.next_request
                        page.etag = response.headers.get("etag")
                        page.last_modified = response.headers.get("last-modified")
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
                    "fetch.timeout",
                    f"timed out after {cfg.total_timeout} s in total ({phase})",
                    retryable=True,
                ) from None

    async def _read_page(self, response: httpx.Response, page: Page, budget: _Budget) -> None:
        if page.content_type is not None and page.content_type not in ACCEPTED_TYPES:
            raise FetchFailure(
                "fetch.content_type", f"unsupported content type {page.content_type}"
            )
        max_bytes = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchFailure(
                "fetch.too_large",
                f"response larger than {max_bytes} bytes (Content-Length: {declared})",
            )
        body, received = await self._body(response, budget, max_bytes)
        page.bytes = received
        if body is None:
            raise FetchFailure("fetch.too_large", f"response larger than {max_bytes} bytes")

        if page.content_type is None:
            if not looks_like_html(body):
                raise FetchFailure(
                    "fetch.content_type", "no content type, and the body does not look like HTML"
                )
            page.content_type = HTML
        refuse_binary(body)
        page.body = body
        header = response.headers.get("content-type")
        if len(body) > _DETECT_INLINE_BYTES:  # charset detection can take a while: not here
            page.encoding = await asyncio.to_thread(detect_encoding, body, header)
        else:
            page.encoding = detect_encoding(body, header)

    async def _read_document(self, response: httpx.Response, page: Page,
                             budget: _Budget) -> None:
        body, received = await self._body(response, budget, self.config.max_bytes)
        page.bytes = received
        if body is None:
            raise FetchFailure("fetch.too_large",
                               f"response larger than {self.config.max_bytes} bytes")
        page.body = body

    async def _read_robots(self, response: httpx.Response, page: Page, budget: _Budget) -> None:
        body, received = await self._body(response, budget, MAX_ROBOTS_BYTES, truncate=True)
        page.body, page.bytes = body or b"", received

    async def _body(
        self, response: httpx.Response, budget: _Budget, limit: int, truncate: bool = False
    ) -> tuple[bytes | None, int]:
        """(body, bytes received), reading and decompressing no further than `limit`.

        Past the limit the body is None, or with `truncate` its first `limit` bytes.
        """
        consumed = response.is_stream_consumed  # a MockTransport response of bytes: httpx
        # decoded it when the transport built it
        try:
            decoder = ContentDecoder(
                None if consumed else response.headers.get("content-encoding"), limit)
        except BadEncoding as exc:
            raise FetchFailure("fetch.bad_encoding", str(exc)) from None
        chunks = _aiter([response.content]) if consumed else response.aiter_raw()
        parts: list[bytes] = []
        received = 0
        try:
            async for chunk in chunks:
                for part in decoder.feed(chunk) if decoder.codings else (chunk,):
                    received += len(part)
                    if received > limit:  # stop right here: nothing more read or decoded
                        if not truncate:
                            return None, received
                        parts.append(part[: len(part) - (received - limit)])
                        return b"".join(parts), received
                    parts.append(part)
                if decoder.finished:
                    break
                budget.remaining("reading the response")
            else:
                decoder.end()
        except httpx.HTTPError as exc:
            raise self._failure(exc, response.request) from None
        except BadEncoding as exc:
            raise FetchFailure("fetch.bad_encoding", str(exc)) from None
        except LayerTooLarge:  # an inner layer past the limit: the body would be too
            return (b"".join(parts) if truncate else None), limit + 1
        return b"".join(parts), received

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
            failure = FetchFailure("fetch.error", f"{type(exc).__name__}: {exc}")
        verdict = verdict_for(origin, page.body, failure)
        delay = verdict.crawl_delay(self._token)
        if delay:
            self._scheduler.host(origin).crawl_delay = delay
        log.info("robots.txt of %s: %s", origin,
                 failure.message if failure else f"{page.bytes} bytes, crawl delay {delay:g} s")
        return verdict

    # -- errors --------------------------------------------------------------------------

    def _failure(self, exc: httpx.HTTPError, request: httpx.Request) -> FetchFailure:
        """Translate an httpx error into a FetchFailure with a sentence a person can act on."""
        url = request.url
        if isinstance(exc, httpx.TimeoutException):
            key, phase = next(
                (v for t, v in _TIMEOUT_PHASES.items() if isinstance(exc, t)), ("read", "")
            )
            cfg = self.config
            limit = cfg.connect_timeout if key in ("connect", "pool") else cfg.read_timeout
            applied = request.extensions.get("timeout", {}).get(key)
            if applied is not None and applied < limit:  # cut short by the total budget
                message = f"timed out after {cfg.total_timeout} s in total ({phase})"
            else:
                message = f"timed out after {limit} s {phase}"
            return FetchFailure("fetch.timeout", message, retryable=True)
        detail = _detail(exc)
        if isinstance(exc, httpx.ConnectError):
            where = f"{url.host}:{url.port}" if url.port else url.host
            return FetchFailure(
                "fetch.connect_error", f"could not connect to {where}: {detail}", retryable=True
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return FetchFailure("fetch.bad_url", f"invalid URL {url}: {detail}")
        if isinstance(exc, httpx.RemoteProtocolError):  # also a connection dropped mid-body
            return FetchFailure(
                "fetch.error", f"{url.host} sent an invalid response: {detail}", retryable=True
            )
        if isinstance(exc, httpx.TransportError):  # a reset, a failed read or write
            return FetchFailure(
                "fetch.error", f"network error talking to {url.host}: {detail}", retryable=True
            )
        return FetchFailure("fetch.error", f"fetch of {url} failed: {detail}")


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, skipping the responses that set no cookie: httpx's extraction
    copies every header into an email.message.Message, a sixth of our CPU per page."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """httpx.AsyncClient with `_Cookies` as its cookie jar (cookies behave as before)."""

    def __init__(self, *, cookies: httpx._types.CookieTypes | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cookies = cookies  # type: ignore[assignment]

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes | None) -> None:
        self._jar = _Cookies(cookies)


class Fetcher:
    """The synchronous facade: an AsyncFetcher on an event loop in a background thread.

    `fetch(task)` fetches one page; `fetcher(tasks)` yields one Page per task **as each
    completes, not in the order of the tasks**, fetching many hosts at once within the
    limits of `config` (see FetchConfig). The tasks are taken from the iterable in the
    caller's thread, at most 2 * concurrency ahead of the pages consumed, so a lazy
    iterable (a database query, a generator) stays lazy and memory stays bounded; a window
    full of one host's tasks goes at that host's pace, so interleave hosts in a long
    input. Neither raises for a bad task. Use as a context manager, or call close().

    `transport`: a synchronous httpx transport (httpx.BaseTransport, e.g. an
    httpx.MockTransport with a plain function) is run in worker threads; an async-only
    one (httpx.AsyncBaseTransport) is used as it is. None: the network, with the
    private-address guard.
    """

    def __init__(
        self,
        config: FetchConfig | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config or FetchConfig()
        if isinstance(transport, httpx.BaseTransport):
            async_transport: httpx.AsyncBaseTransport | None = ThreadedTransport(transport)
        else:
            async_transport = transport
        self._loop = asyncio.new_event_loop()
        # DNS look-ups, synchronous transports and local files run in the loop's executor:
        # enough threads that slow resolvers cannot starve the fetches.
        self._loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self.config.concurrency) + 4, thread_name_prefix="fetcher-io"))
        self._thread = threading.Thread(target=self._loop.run_forever, name="fetcher", daemon=True)
        self._thread.start()
        self._closed = False

        async def make() -> AsyncFetcher:  # made on its own loop
            return AsyncFetcher(self.config, async_transport)

        self._engine = self._wait(make())

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop what is still running, close the connections and the background loop."""
        if self._closed:
            return
        self._closed = True

        async def shutdown() -> None:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await self._engine.aclose()
            await self._loop.shutdown_default_executor()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def fetch(self, task: FetchTask) -> Page:
        """Fetch one task. Never raises: failures come back as a Page with `error` set."""
        return self._wait(self._engine.fetch(task))

    def fetch_document(self, url: str) -> Page:
        """A sitemap or a feed (see AsyncFetcher.fetch_document). Never raises."""
        return self._wait(self._engine.fetch_document(url))

    def ready_in(self, origin: str) -> float:
        """Seconds from now before this fetcher would ask `origin` (scraper.hosts.origin_of)
        again: its delay, Crawl-delay or Retry-After; 0 for a host it has not asked."""
        at = self._engine.ready_at(origin)
        return 0.0 if at is None else max(0.0, at - time.monotonic())

    def __call__(self, tasks: Iterable[FetchTask]) -> Iterator[Page]:
        """One Page per task, in the order they complete; a failed task never stops the
        others. Stopping early (breaking out of the loop) cancels what is still running."""
        window = 2 * max(1, self.config.concurrency)
        completed: queue.SimpleQueue[concurrent.futures.Future[Page]] = queue.SimpleQueue()
        running: dict[concurrent.futures.Future[Page], FetchTask] = {}
        source = iter(tasks)
        more = True
        try:
            while True:
                while more and len(running) < window:
                    try:
                        task = next(source)
                    except StopIteration:
                        more = False
                        break
                    future = self._submit(self._engine.fetch(task))
                    running[future] = task
                    future.add_done_callback(completed.put)
                if not running:
                    return
                future = completed.get()
                task = running.pop(future)
                yield _page_of(future, task)
        finally:
            for future in running:
                future.cancel()

    def _submit(self, coroutine: Awaitable[T]) -> concurrent.futures.Future[T]:
        if self._closed:
            raise RuntimeError("this Fetcher is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    def _wait(self, coroutine: Awaitable[T]) -> T:
        return self._submit(coroutine).result()


@dataclass
class _Attempt:
    """One fetch in progress: its Page, the time it spent waiting for turns, and the
    validators of the last good fetch (sent for a conditional request)."""

    page: Page
    waited: float = 0.0
    validators: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False


@dataclass
class _Budget:
    """The total timeout of one attempt, as a loop-time deadline."""

    total: float
    deadline: float

    def remaining(self, phase: str) -> float:
        remaining = self.deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise FetchFailure(
                "fetch.timeout",
                f"timed out after {self.total} s in total ({phase})",
                retryable=True,
            )
        return remaining


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
        super().__init__("fetch.bad_url", message)
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
    page.content_type = media_type(response.headers.get("content-type"))
    page.headers = dict(response.headers)  # repeated ones joined by ", "


def check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
    retryable = status in RETRY_STATUSES
    raise FetchFailure(
        f"fetch.http_{status}",
        f"HTTP {status} {reason}".rstrip(),
        retryable=retryable,
        retry_after=parse_retry_after(response.headers.get("retry-after")) if retryable else None,
    )


def _detail(exc: BaseException) -> str:
    """The first message down the exception's chain: httpx and anyio often wrap an OSError
    ("[Errno 104] Connection reset by peer") in exceptions that say nothing."""
    cause: BaseException | None = exc
    for _ in range(5):
        if cause is None:
            break
        if str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def _after(failure: FetchFailure, tries: int) -> FetchFailure:
    """The failure as the page reports it: with the number of attempts, if more than one."""
    if tries == 1:
        return failure
    return FetchFailure(failure.outcome, f"{failure.message} ({tries} attempts)")


def _page_of(future: concurrent.futures.Future[Page], task: FetchTask) -> Page:
    try:
        return future.result()
    except BaseException as exc:  # cancelled, or a bug: still one Page per task
        return Page(url=task.url, origin_url=task.origin_url, source=task.source,
                    fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    error=f"fetch did not complete: {type(exc).__name__}: {exc}",
                    outcome="fetch.error")


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def refuse_binary(body: bytes) -> None:
    """A body declared as text that is not (an image or archive served as text/html)."""
    if looks_binary(body):
        raise FetchFailure("fetch.binary", "the body is binary data, not text or HTML")
