"""`Fetcher`, the synchronous facade the pipeline uses: an AsyncFetcher (scraper/fetch.py) on
an event loop in a background thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import Awaitable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import TypeVar

import httpx

from records import FetchTask, Page
from records.outcomes import FETCH_ERROR

from .config import FetchConfig
from .fetch import AsyncFetcher
from .hosts import origin_of
from .transports import ThreadedTransport

T = TypeVar("T")
_Done = tuple[FetchTask, "asyncio.Future[Page]"]  # a task and its fetch, finished


class Fetcher:
    """The synchronous facade: an AsyncFetcher on an event loop in a background thread.

    `fetch(task)` fetches one page; `fetcher(tasks)` yields one Page per task **as each
    completes, not in the order of the tasks**, fetching many hosts at once within the
    limits of `config` (see FetchConfig). The tasks are taken from the iterable in the
    caller's thread, at most 2 * concurrency ahead of the pages consumed (topped up once
    `concurrency` of them are consumed), so a lazy iterable (a database query, a
    generator) stays lazy and memory stays bounded; a window full of one host's tasks goes
    at that host's pace, so interleave hosts in a long input. Neither raises for a bad
    task. Use as a context manager, or call close().

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

    def sitemaps(self, url: str) -> list[str]:
        """The sitemaps the robots.txt of `url`'s site names (`Sitemap:` lines), read once
        per run and site, as every fetch reads it (scraper.robots.RobotsCache)."""
        return self._wait(self._engine.robots.sitemaps(origin_of(httpx.URL(url))))

    def ready_in(self, origin: str) -> float:
        """Seconds from now before this fetcher would ask `origin` (scraper.hosts.origin_of)
        again: its delay, Crawl-delay or Retry-After; 0 for a host it has not asked."""
        at = self._engine.ready_at(origin)
        return 0.0 if at is None else max(0.0, at - time.monotonic())

    def __call__(self, tasks: Iterable[FetchTask]) -> Iterator[Page]:
        """One Page per task, in the order they complete; a failed task never stops the
        others. Stopping early (breaking out of the loop) cancels what is still running."""
        concurrency = max(1, self.config.concurrency)
        window = 2 * concurrency
        completed: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        running: set[asyncio.Future[Page]] = set()  # touched on the loop's thread only

        def start(batch: list[FetchTask]) -> None:  # on the loop's thread
            for task in batch:
                future = asyncio.ensure_future(self._engine.fetch(task))
                running.add(future)
                future.add_done_callback(partial(finish, task))

        def finish(task: FetchTask, future: asyncio.Future[Page]) -> None:
            running.discard(future)
            completed.put((task, future))

        def cancel() -> None:  # on the loop's thread
            for future in list(running):
                future.cancel()

        source = iter(tasks)
        pending = 0  # tasks handed to the loop whose Page is not yielded yet
        more = True
        try:
            while True:
                # The window is refilled once half of it is free, in one hand-over to the
                # loop's thread (at least `concurrency` tasks stay in flight): handed over one
                # at a time, as pages came back, the two threads woke each other at every page.
                if more and pending <= concurrency:
                    batch: list[FetchTask] = []
                    while pending + len(batch) < window:
                        try:
                            batch.append(next(source))
                        except StopIteration:
                            more = False
                            break
                    if batch:
                        if self._closed:
                            raise RuntimeError("this Fetcher is closed")
                        self._loop.call_soon_threadsafe(start, batch)
                        pending += len(batch)
                if not pending:
                    return
                task, future = completed.get()
                pending -= 1
                yield _page_of(future, task)
        finally:
            if pending:
                try:
                    self._loop.call_soon_threadsafe(cancel)
                except RuntimeError:  # the loop is closed: nothing runs any more
                    pass

    def _submit(self, coroutine: Awaitable[T]) -> concurrent.futures.Future[T]:
        if self._closed:
            raise RuntimeError("this Fetcher is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    def _wait(self, coroutine: Awaitable[T]) -> T:
        return self._submit(coroutine).result()


def _page_of(future: asyncio.Future[Page], task: FetchTask) -> Page:
    try:
        return future.result()
    except BaseException as exc:  # cancelled, or a bug: still one Page per task
        return Page(url=task.url, origin_url=task.origin_url, source=task.source,
                    fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    error=f"fetch did not complete: {type(exc).__name__}: {exc}",
                    outcome=FETCH_ERROR)
