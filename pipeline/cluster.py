"""Fetching and cleaning on the workers of a Dask cluster (`--scheduler tcp://HOST:8786`).

What runs where:
- this process reads the tasks (targets, sitemaps, feeds, the database's validators), sends
  them to the cluster in chunks, and writes the Results that stream back, as they complete,
  to the one database (pipeline.run.ingest: aliases, dedup, store). Local files are read
  here (the workers' disks are not ours) and only cleaned there.
- a worker fetches a chunk (one scraper.Fetcher per run and worker process) and cleans,
  signs and packs its pages (CleanSteps), then sends the Results back.

Politeness across the cluster: tasks are partitioned by host (the origin, the key of
scraper/hosts.py) into chunks of at most `chunk` tasks. A host has at most one chunk in
flight in the whole cluster, so its limits (per_host, delay, Crawl-delay, Retry-After) are
those of the one fetcher that holds it. A finished chunk reports how long its host must still
be left alone; the next chunk of that host, on whichever worker, sleeps that long (counted
from when this process learnt it, so no two machines' clocks are compared) before its first
request. Chunks of different hosts run side by side. The chain is kept here rather than as
task dependencies: a failed chunk cannot fail the next one of its host, and a host's next
chunk is made of the tasks that came in meanwhile.

A worker that dies: the scheduler runs its chunks again on another worker (up to the
scheduler's `distributed.scheduler.allowed-failures`, 3 by default); only the finished run
of a chunk is sent back, so every task still gives exactly one Result. A chunk that killed
workers that often is sent again one task per chunk, and a task that still does comes back as
"cluster.crashed". A chunk that fails in any other way gives "cluster.error" Results.
A lost scheduler ends the run (ClusterUnavailable) with what was written kept.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from records import FetchTask, Page, Result
from records.outcomes import CLUSTER_CRASHED, CLUSTER_ERROR
from records.urls import WEB_SCHEMES, is_local
from scraper import FetchConfig, Fetcher
from scraper.hosts import origin_of

from .executors import Steps

if TYPE_CHECKING:
    from distributed import Client, Future

log = logging.getLogger(__name__)

CHUNK = 16  # tasks per chunk: one host's requests in a row on one worker
TIMEOUT = 10.0  # seconds to reach the scheduler
FORGET_AFTER = 1024  # hosts remembered before those free to ask again are forgotten

Item = FetchTask | Page  # a task to fetch and clean there, or a page read here to clean there


class ClusterUnavailable(RuntimeError):
    """The scheduler cannot be reached (or was lost during the run), or Dask distributed is
    not installed. The CLI prints it and exits 2. Importing this module needs no Dask."""


class DaskExecutor:
    """Fetching and cleaning (FetchingExecutor), or cleaning only (`map`), on a Dask cluster.

    Connects at once, so a wrong address fails before any work (ClusterUnavailable). Each
    `map` or `fetch_and_clean` uses the connection and closes it when its Results are
    exhausted or the consumer stops (cancelling what is in flight); a later call reconnects.

    `chunk`: tasks (or pages) per cluster task. `window`: chunks in flight at once (default:
    twice the cluster's threads when the run starts); at most `window * chunk` more tasks
    are read ahead of them, so a long lazy input stays lazy.
    """

    fetches = True
    in_process = False

    def __init__(self, address: str, chunk: int = CHUNK, window: int | None = None,
                 timeout: float = TIMEOUT) -> None:
        if chunk < 1 or (window is not None and window < 1) or not timeout >= 0:
            raise ValueError("chunk and window must be at least 1, timeout 0 or more")
        self.address, self.chunk, self.window, self.timeout = address, chunk, window, timeout
        self._client: Client | None = self._connect()

    def close(self) -> None:
        """Close the connection (a run in progress closes its own at its end)."""
        if self._client is not None:
            _close(self._client)
            self._client = None

    def map(self, steps: Steps, pages: Iterable[Page]) -> Iterator[Result]:
        """One Result per page, in the order they are done: `steps` run on the workers."""
        return self._run(steps, None, ((None, page) for page in pages))

    def fetch_and_clean(self, tasks: Iterable[FetchTask], config: FetchConfig,
                        steps: Steps) -> Iterator[Result]:
        """One Result per task, in the order they are done: fetched with `config` on the
        workers, one chunk of a host at a time, then `steps` applied there."""
        reader = _LocalReader(config)
        try:
            yield from self._run(steps, config, reader.lanes(tasks))
        finally:
            reader.close()

    def _run(self, steps: Steps, config: FetchConfig | None,
             items: Iterator[tuple[str | None, Item]]) -> Iterator[Result]:
        client, self._client = self._client or self._connect(), None  # this run's to close
        try:
            yield from _Run(client, steps, config, self.chunk, self.window).results(items)
        finally:
            _close(client)

    def _connect(self) -> Client:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterUnavailable(
                "--scheduler needs Dask distributed, which is not installed: "
                "pip install 'scrape-clean[cluster]'") from None
        _probe(self.address, self.timeout)
        try:
            client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:  # timeouts are OSErrors
            raise ClusterUnavailable(
                f"cannot connect to the Dask scheduler at {self.address}: {exc}") from None
        if not client.nthreads():
            log.warning("the Dask cluster at %s has no worker yet: the work waits for one",
                        self.address)
        return client


def _close(client: Client) -> None:
    """Close without the traceback Dask logs when a lost scheduler's reconnection is cut
    short: the run has said what happened."""
    logger = logging.getLogger("distributed.client")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        client.close()
    finally:
        logger.setLevel(level)


def _probe(address: str, timeout: float) -> None:
    """Fail fast on a scheduler that is not there: Dask's own connect retries until its
    timeout, and a failed Client makes noise when collected."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise ClusterUnavailable(f"not a Dask scheduler address: {address!r} ({exc}); "
                                 "give one like tcp://10.0.0.5:8786") from None
    if scheme not in ("tcp", "tls"):
        return  # other transports (ucx, inproc): left to the Client
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: "
                                 f"{exc.strerror or exc}") from None


@dataclass
class _Lane:
    """One host's tasks waiting to be sent (a lane of None: items of no host, sent in
    chunks side by side)."""

    waiting: deque[Item] = field(default_factory=deque)
    suspects: deque[Item] = field(default_factory=deque)  # each sent alone (killed workers)
    busy: bool = False  # a chunk of this host is in flight


class _Run:
    """One `map` or `fetch_and_clean` on the cluster: the lanes, the chunks in flight."""

    def __init__(self, client: Client, steps: Steps, config: FetchConfig | None,
                 chunk: int, window: int | None) -> None:
        from distributed import as_completed

        self.client, self.steps, self.config, self.chunk = client, steps, config, chunk
        self.address = client.scheduler.address if client.scheduler else "?"
        self.window = window or max(2, 2 * sum(client.nthreads().values()))
        self.read_ahead = self.window * chunk
        self.run = uuid.uuid4().hex  # the workers' fetchers are per run
        self.names = (f"scrape-chunk-{self.run[:8]}-{n}" for n in itertools.count())
        self.lanes: dict[str | None, _Lane] = {}  # only while they have work
        # Host -> time.monotonic() before which it must not be asked, from its last chunk
        # (until its next chunk is sent).
        self.not_before: dict[str, float] = {}
        self.pending: OrderedDict[str | None, None] = OrderedDict()  # lanes with items, FIFO
        self.buffered = 0  # items read and not sent yet
        self.running: dict[Future, tuple[str | None, list[Item]]] = {}
        self.done = as_completed(loop=client.loop)

    def results(self, items: Iterator[tuple[str | None, Item]]) -> Iterator[Result]:
        more = True
        try:
            while True:
                while more and self.buffered < self.read_ahead:
                    entry = next(items, None)
                    if entry is None:
                        more = False
                        break
                    key, item = entry
                    self.lanes.setdefault(key, _Lane()).waiting.append(item)
                    self.buffered += 1
                    self.pending[key] = None
                    if key is not None:  # a host's first tasks go at once
                        self._send_from(key, flush=False)
                self._pump(flush=not more or self.buffered >= self.read_ahead)
                if not self.running:  # the pump sends whatever it can when flushing
                    return
                yield from self._finished(next(self.done))
        finally:
            if self.running and self.client.status == "running":  # the consumer stopped
                self.client.cancel(list(self.running), force=True)
            self.running.clear()

    def _pump(self, flush: bool) -> None:
        """Send chunks while the window has room, lanes in the order their items came."""
        for key in list(self.pending):
            if len(self.running) >= self.window:
                return
            self._send_from(key, flush)

    def _send_from(self, key: str | None, flush: bool) -> None:
        lane = self.lanes[key]
        while len(self.running) < self.window and not lane.busy:
            if lane.suspects:  # sent before: not among the items read ahead
                items = [lane.suspects.popleft()]
            elif lane.waiting and (key is not None or flush or len(lane.waiting) >= self.chunk):
                items = [lane.waiting.popleft() for _ in range(min(self.chunk, len(lane.waiting)))]
                self.buffered -= len(items)
            else:
                break
            self._send(key, lane, items)
        if not lane.waiting and not lane.suspects:
            self.pending.pop(key, None)

    def _send(self, key: str | None, lane: _Lane, items: list[Item]) -> None:
        wait = max(0.0, self.not_before.pop(key, 0.0) - time.monotonic()) if key else 0.0
        future = self.client.submit(_run_chunk, items, self.steps, self.config, self.run,
                                    key, wait, key=next(self.names), pure=False, retries=0)
        self.running[future] = (key, items)
        self.done.add(future)
        lane.busy = key is not None  # a host's chunks go one after another

    def _finished(self, future: Future) -> list[Result]:
        from distributed import KilledWorker

        key, items = self.running.pop(future)
        lane = self.lanes[key]
        lane.busy = False
        # Unless the chunk says otherwise, its host is left alone for a whole delay.
        wait: float | None = self.config.delay if self.config is not None else None
        try:
            results, wait = future.result()
        except KilledWorker as exc:
            if len(items) > 1:
                log.warning("a chunk of %d task(s) killed workers of the cluster; sending them "
                            "again one at a time: %s", len(items), exc)
                lane.suspects.extend(items)
                self.pending[key] = None
                results = []
            else:
                log.error("%s killed the cluster workers that handled it: %s", items[0].url, exc)
                results = _failed(items, CLUSTER_CRASHED,
                                  "every cluster worker that handled this page died (the "
                                  "scheduler's allowed-failures were used up)")
        except CancelledError as exc:  # not by this run: the scheduler is gone (or a person)
            left = len(items) + self.buffered + sum(len(i) for _, i in self.running.values())
            raise ClusterUnavailable(
                f"lost the Dask scheduler at {self.address} ({exc}); {left} task(s) read and "
                f"not done (a later run takes them up)") from None
        except Exception as exc:  # noqa: BLE001 - whatever failed the chunk: its pages say so
            log.error("a chunk of %d task(s) failed on the cluster: %s: %s", len(items),
                      type(exc).__name__, exc)
            results = _failed(items, CLUSTER_ERROR,
                              f"failed on the cluster: {type(exc).__name__}: {exc}")
        finally:
            future.release()
        if key is not None:
            self._rest(key, wait)
            if not lane.waiting and not lane.suspects:
                del self.lanes[key]
        return results

    def _rest(self, host: str, wait: float | None) -> None:
        """Ask nothing of `host` for `wait` seconds from now."""
        if not wait:
            return
        now = time.monotonic()
        self.not_before[host] = now + wait
        if len(self.not_before) > FORGET_AFTER:  # hosts not asked again: bounded memory
            self.not_before = {k: t for k, t in self.not_before.items() if t > now}


class _LocalReader:
    """Tasks with their lane (the host); a local file is read here, as a Page to clean."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self.fetcher: Fetcher | None = None

    def lanes(self, tasks: Iterable[FetchTask]) -> Iterator[tuple[str | None, Item]]:
        for task in tasks:
            if is_local(task.url):
                if self.fetcher is None:
                    self.fetcher = Fetcher(self.config)
                yield None, self.fetcher.fetch(task)
            else:
                yield host_of(task.url), task

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()


def host_of(url: str) -> str | None:
    """The origin the fetcher paces `url` under (scraper/hosts.py); None for a URL it will
    refuse without a request."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError):
        return None
    if parsed.scheme not in WEB_SCHEMES or not parsed.host:
        return None
    return origin_of(parsed)


def _failed(items: Iterable[Item], outcome: str, error: str) -> list[Result]:
    """Error Results for items that got none: each attempt leaves a trace."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for item in items:
        page = item if isinstance(item, Page) else Page(
            url=item.url, origin_url=item.origin_url, source=item.source, fetched_at=now)
        if page.error is None:
            page.error, page.outcome = error, outcome
        results.append(Result(page=page, outcome=outcome, error=error))
    return results


# -- on the workers ---------------------------------------------------------------------------

_FETCHERS = "_scrape_fetchers"  # the dask Worker's attribute holding its _Fetchers
_fetchers_made = threading.Lock()  # makes that attribute once per worker process


def _run_chunk(items: list[Item], steps: Steps, config: FetchConfig | None, run: str,
               host: str | None, wait: float) -> tuple[list[Result], float | None]:
    """On a worker: fetch the tasks of `items` (with `config`) and clean them and its pages;
    return the Results and, for a chunk of one `host`, how many seconds from now that host
    must be left alone (None: no host). Never raises for a page."""
    if wait > 0:  # the previous chunk of this host, maybe on another worker, asked last
        time.sleep(wait)
    tasks = [item for item in items if isinstance(item, FetchTask)]
    results: list[Result] = []
    after: float | None = None
    try:
        maker = _fetcher(run, config) if tasks and config is not None else nullcontext()
        with maker as fetcher:
            pages: Iterable[Page] = [item for item in items if isinstance(item, Page)]
            if fetcher is not None:
                pages = itertools.chain(pages, fetcher(tasks))
            results.extend(steps(pages))  # what was done before a failure is kept
            if fetcher is not None and host is not None:
                after = fetcher.ready_in(host)  # its delay, Crawl-delay or Retry-After
    except Exception as exc:  # the steps never raise: this is a bug or a broken worker
        log.exception("a chunk failed on this worker")
        error = f"failed on the cluster worker: {type(exc).__name__}: {exc}"
        results.extend(_failed(_without(items, results), CLUSTER_ERROR, error))
        after = config.delay if config is not None and host is not None else None
    return results, after


def _without(items: list[Item], results: list[Result]) -> list[Item]:
    """The items that have no Result yet."""
    done = Counter(result.page.url for result in results)
    missing = []
    for item in items:
        if done[item.url]:
            done[item.url] -= 1
        else:
            missing.append(item)
    return missing


@contextmanager
def _fetcher(run: str, config: FetchConfig) -> Iterator[Fetcher]:
    """A Fetcher for this run: shared by the chunks of the run on this worker process (its
    turns and robots.txt carry over from one chunk to the next), or, off a worker, a new one."""
    from distributed import get_worker

    try:
        worker: Any = get_worker()
    except ValueError:  # called directly, not as a cluster task
        with Fetcher(config) as fetcher:
            yield fetcher
        return
    with _fetchers_made:
        fetchers = getattr(worker, _FETCHERS, None)
        if fetchers is None:
            fetchers = _Fetchers()
            setattr(worker, _FETCHERS, fetchers)
    with fetchers.use(run, config) as fetcher:
        yield fetcher


class _Fetchers:
    """One worker process's Fetchers, one per run; the idle ones of older runs are closed."""

    KEEP = 2  # idle fetchers kept (runs whose chunks are still coming)

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, list[Any]] = OrderedDict()  # run -> [Fetcher, users]

    @contextmanager
    def use(self, run: str, config: FetchConfig) -> Iterator[Fetcher]:
        with self.lock:
            entry = self.entries.get(run)
            if entry is None:
                entry = self.entries[run] = [Fetcher(config), 0]
            entry[1] += 1
            self.entries.move_to_end(run)
        try:
            yield entry[0]
        finally:
            with self.lock:
                entry[1] -= 1
                idle = [k for k, (_, users) in self.entries.items() if users == 0]
                stale = [self.entries.pop(k)[0] for k in idle[:-self.KEEP]]
            for fetcher in stale:
                fetcher.close()
