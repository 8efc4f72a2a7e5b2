"""Executors: where the per-page stages run. The stages never know which one runs them.

- `InProcess`: cleaning in this process, page after page (`--workers 0`).
- `ProcessPool` (the default): fetching stays on this process's event loop, cleaning runs in
  worker processes (one per CPU by default), and Results stream back, in the order they are
  done, to the single writer in this process.
- `pipeline.cluster.DaskExecutor`: fetching and cleaning on the workers of a Dask cluster.

What runs per page is a `CleanSteps`: a picklable description (configs only) of the stages
after fetching (Cleaner -> Sign -> Pack), built into stages once in each process that runs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cleaner import CleanConfig, Cleaner
from cleaner.dedup import DedupConfig, Sign
from records import FetchTask, Page, Result
from records.outcomes import CLEAN_CRASHED, CLEAN_ERROR
from scraper import FetchConfig
from store.pages import Pack

from .memory import freeze_long_lived

log = logging.getLogger(__name__)

Steps = Callable[[Iterable[Page]], Iterator[Result]]


@dataclass
class CleanSteps:
    """Page -> Result: clean, sign the body for dedup, compress the page for the store.

    `pack`: compress the body for the `pages` table (not for `scrape reclean`, which does not
    store pages again); `release_body`: then drop the raw body from the Result (a worker
    sends the packed one only)."""

    clean: CleanConfig = field(default_factory=CleanConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    pack: bool = True
    release_body: bool = False
    _stages: list[Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_stages": None}  # rebuilt where it runs

    def __call__(self, pages: Iterable[Page]) -> Iterator[Result]:
        if self._stages is None:
            self._stages = [Cleaner(self.clean), Sign(self.dedup)]
            if self.pack:
                self._stages.append(Pack(release_body=self.release_body))
        cleaner, *rest = self._stages
        results: Iterator[Result] = cleaner(pages)
        for stage in rest:
            results = stage(results)
        return results


@runtime_checkable
class Executor(Protocol):
    """Where the steps run. It says so itself, so the run never asks which class it is:
    `fetches`: its workers fetch the tasks too (then it is a FetchingExecutor: give it the
    tasks, not pages); `in_process`: the Results are made in this process (else the raw body
    is dropped where cleaning ran, and the packed one sent back)."""

    fetches: bool
    in_process: bool

    def map(self, steps: Steps, pages: Iterable[Page]) -> Iterator[Result]:
        """One Result per page (any order), `steps` applied to each."""
        ...


@runtime_checkable
class FetchingExecutor(Executor, Protocol):
    """An executor whose workers fetch as well as clean (`fetches` is True: a cluster,
    pipeline/cluster.py)."""

    def fetch_and_clean(self, tasks: Iterable[FetchTask], config: FetchConfig,
                        steps: Steps) -> Iterator[Result]:
        """One Result per task (any order): fetched with `config`, then `steps` applied."""
        ...


class InProcess:
    """The steps in this process, in order."""

    fetches = False
    in_process = True

    def map(self, steps: Steps, pages: Iterable[Page]) -> Iterator[Result]:
        return steps(pages)


def cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_PR_SET_PDEATHSIG = 1  # linux/prctl.h

# A worker process's steps, set once by the pool's initializer (each worker process has its
# own; the parent never sets it).
_worker_steps: Steps | None = None


def _start_worker(steps: Steps, writer: int) -> None:
    global _worker_steps
    _worker_steps = steps
    # Ctrl-C reaches the whole process group: the writer decides how the run ends (it
    # commits and stops the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with(writer)
    freeze_long_lived()  # the code is imported (a spawned worker) or inherited (forked)


def _exit_with(writer: int) -> None:
    """End this worker when the writer process ends, however it ends. A worker that outlived
    a writer killed with -9 would wait for work forever, holding the writer's stdout and
    stderr open (and a forked worker keeps its fork server alive too)."""
    if hasattr(os, "pidfd_open"):  # Linux 5.3+: a descriptor that turns readable at exit
        try:
            pidfd = os.pidfd_open(writer)
        except ProcessLookupError:  # already gone
            os._exit(1)
        except OSError:
            pass
        else:
            threading.Thread(target=_wait_and_exit, args=(pidfd,), daemon=True,
                             name="exit-with-writer").start()
            return
    # Elsewhere on Linux: die with the parent (the writer: see pool_context).
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # gone before prctl took effect
        os._exit(1)


def _wait_and_exit(pidfd: int) -> None:
    select.select([pidfd], [], [])
    os._exit(1)


def pool_context() -> multiprocessing.context.BaseContext:
    """Where pool workers come from: a fork server that has imported and warmed up the
    cleaning code once (pipeline/preload.py) and forks each worker from that state; spawned
    workers (each importing it all, a good part of a CPU second, then warming up on its first
    pages) where there is no fork server, or no pidfd to tell a forked worker that the writer
    is gone. Never a plain fork: the fetcher's threads run."""
    if (not hasattr(os, "pidfd_open")
            or "forkserver" not in multiprocessing.get_all_start_methods()):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # "__main__": the `scrape` script, which a worker would otherwise import again.
    context.set_forkserver_preload(["__main__", "pipeline.preload"])
    _start_fork_server()
    return context


_env_lock = threading.Lock()


def _start_fork_server() -> None:
    """Start the fork server with PYTHONSAFEPATH=1. It runs as `python -c ...`, whose sys.path
    starts with the current directory, and Python 3.11's fork server ignores the sys.path it is
    given: every worker would import a `records/`, `store/` or `numpy.py` found in the directory
    `scrape` was run from instead of the installed one. The variable is set only while the
    server starts (it is a no-op once the server runs)."""
    with _env_lock:
        before = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ["PYTHONSAFEPATH"]
            else:
                os.environ["PYTHONSAFEPATH"] = before


def _run_one(page: Page) -> Result:
    assert _worker_steps is not None, "not a pool worker"
    return next(iter(_worker_steps([page])))


class ProcessPool:
    """The steps in `workers` processes (default: one per CPU), at most `window` pages in
    flight (default 2 per worker + 2), Results yielded as they are done: memory stays flat
    however many pages come through.

    A worker that dies (a crash in a C library, the OOM killer) breaks the pool: the pages it
    may have been cleaning are retried one at a time in a new pool, and the one that kills a
    worker again comes back as a "clean.crashed" Result; the run goes on.
    A run with a single page cleans it here, without starting the pool.
    Workers come from `pool_context()` and are started once per `map`, with the steps sent to
    each once.
    """

    fetches = False
    in_process = False

    def __init__(self, workers: int | None = None, window: int | None = None) -> None:
        self.workers = workers or cpus()
        self.window = window or 2 * self.workers + 2
        if self.workers < 1 or self.window < 1:
            raise ValueError("workers and window must be at least 1")

    def map(self, steps: Steps, pages: Iterable[Page]) -> Iterator[Result]:
        source = iter(pages)
        first = next(source, None)
        if first is None:
            return
        second = next(source, None)
        if second is None:
            yield from steps([first])
            return
        yield from _PoolRun(self, steps).run(first, second, source)


# Pools broken in a row, no page cleaned between, before the run stops: workers that die at
# start (a broken install, no memory) would otherwise fail every page, slowly.
MAX_BREAKS = 5


class _PoolRun:
    """One `ProcessPool.map`: the pool, the pages in flight, and those retried alone."""

    def __init__(self, config: ProcessPool, steps: Steps) -> None:
        self.config, self.steps = config, steps
        self.pool: ProcessPoolExecutor | None = None
        self.done: queue.SimpleQueue[Future[Result]] = queue.SimpleQueue()
        self.running: dict[Future[Result], Page] = {}
        # In flight when a worker died: retried one at a time, so the page that kills a
        # worker is found (ids of the Page objects: they stay in `suspects` or `running`).
        self.suspects: list[Page] = []
        self.suspected: set[int] = set()
        self.breaks = 0  # pools broken since the last page a worker cleaned

    def run(self, first: Page, second: Page, source: Iterator[Page]) -> Iterator[Result]:
        waiting = [first, second]
        try:
            while True:
                if self.suspects:
                    if not self.running:
                        self._submit(self.suspects.pop(0))
                else:
                    while len(self.running) < self.config.window:
                        page = waiting.pop(0) if waiting else next(source, None)
                        if page is None:
                            break
                        self._submit(page)
                if not self.running:
                    return
                future = self.done.get()
                page = self.running.pop(future, None)
                if page is None:  # failed with a pool that broke and was replaced
                    continue
                try:
                    result = future.result()
                except BrokenProcessPool:
                    yield from self._broken(page)
                except Exception as exc:  # the steps never raise; pickling might
                    log.error("cleaning %s in a worker failed: %s", page.url, exc)
                    yield Result(page=page, outcome=CLEAN_ERROR,
                                 error=f"worker failed: {type(exc).__name__}: {exc}")
                else:
                    self.breaks = 0
                    yield result
        finally:
            for future in self.running:
                future.cancel()
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, page: Page) -> None:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                self.config.workers, mp_context=pool_context(),
                initializer=_start_worker, initargs=(self.steps, os.getpid()))
        try:
            future = self.pool.submit(_run_one, page)
        except BrokenProcessPool as exc:  # a worker died since the last Result: the same path
            future = Future()
            future.set_exception(exc)
        self.running[future] = page
        future.add_done_callback(self.done.put)

    def _broken(self, page: Page) -> Iterator[Result]:
        """A worker died, and every page in flight failed with it."""
        self.breaks += 1
        if self.breaks > MAX_BREAKS:  # not a page: the workers cannot run at all
            raise RuntimeError(f"cleaning worker processes died {self.breaks} times in a row "
                               f"without cleaning a page (see the errors above)")
        lost = [page, *self.running.values()]
        self.running.clear()
        assert self.pool is not None
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None
        if len(lost) == 1 and id(page) in self.suspected:
            log.error("cleaning %s killed the worker process twice; skipped", page.url)
            yield Result(page=page, outcome=CLEAN_CRASHED,
                         error="the worker process cleaning this page died")
            return
        log.warning("a cleaning worker died with %d page(s) in flight; retrying them one "
                    "at a time", len(lost))
        self.suspects.extend(lost)
        self.suspected.update(id(p) for p in lost)
