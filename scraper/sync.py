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
from types import TracebackType
from typing import TypeVar

import httpx

from records import FetchTask, Page

from .config import FetchConfig
from .fetch import AsyncFetcher
from .transports import ThreadedTransport

T = TypeVar("T")


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


def _page_of(future: concurrent.futures.Future[Page], task: FetchTask) -> Page:
    try:
        return future.result()
    except BaseException as exc:  # cancelled, or a bug: still one Page per task
        return Page(url=task.url, origin_url=task.origin_url, source=task.source,
                    fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    error=f"fetch did not complete: {type(exc).__name__}: {exc}",
                    outcome="fetch.error")
