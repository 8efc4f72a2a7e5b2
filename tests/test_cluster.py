"""The Dask executor (pipeline/cluster.py) on a real cluster: a `dask scheduler` and two
`dask worker` processes on 127.0.0.1, pages served by real servers on 127.0.0.1 (and as
localhost: another host for the fetcher's pacing)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlite_utils

from pipeline.cluster import ClusterUnavailable, DaskExecutor, _Lane, _Run
from pipeline.executors import CleanSteps, InProcess
from records import FetchTask, Page
from scraper import FetchConfig
from tests.conftest import Site
from tests.test_batch import page
from tests.test_cli import BIN, LOCAL, ROOT, SCRAPE, run
from tests.test_dedup import OTHER, STORY, html, reword
from tests.test_politeness import gaps, paced

distributed = pytest.importorskip("distributed")

DASK = str(BIN / "dask")
START_TIMEOUT = 40  # seconds for the scheduler and a worker to come up on a loaded machine


class Cluster:
    """A scheduler and its workers, each in its own process group."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.procs: list[subprocess.Popen] = []
        info = directory / "scheduler.json"
        self._spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--scheduler-file", str(info), "--no-dashboard"], "scheduler")
        deadline = time.monotonic() + START_TIMEOUT
        while not info.exists() or not info.read_text().strip().endswith("}"):
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            assert self.procs[0].poll() is None, (directory / "scheduler.log").read_text()
            time.sleep(0.1)
        self.address: str = json.loads(info.read_text())["address"]
        self.client = distributed.Client(self.address, timeout=START_TIMEOUT,
                                         set_as_default=False)

    def worker(self, name: str) -> tuple[subprocess.Popen, str]:
        """Start a worker (no nanny: a killed worker stays dead); its process and address."""
        before = set(self.client.nthreads())
        proc = self._spawn([DASK, "worker", self.address, "--name", name, "--nthreads", "1",
                            "--nworkers", "1", "--no-nanny", "--no-dashboard",
                            "--host", "127.0.0.1", "--local-directory", str(self.directory),
                            "--preload", "pipeline.cluster"],  # imported before any task
                           name)
        self.client.wait_for_workers(len(before) + 1, timeout=START_TIMEOUT)
        (address,) = set(self.client.nthreads()) - before
        return proc, address

    def _spawn(self, argv: list[str], name: str) -> subprocess.Popen:
        log = (self.directory / f"{name}.log").open("w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        self.client.close()
        for proc in reversed(self.procs):
            kill(proc)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group: nothing of it is left behind."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    started = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        started.worker("one")
        started.worker("two")
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def other_site() -> Iterator[Site]:
    """A second server: two more hosts (127.0.0.1 and localhost on its port)."""
    server = Site()
    server.start()
    yield server  # (pytest runs the rest after the module's tests, whatever they did)
    server.stop()


def articles(db_path: Path) -> dict[str, dict]:
    """Articles by canonical URL; duplicate_of as the canonical URL of its target."""
    rows = list(sqlite_utils.Database(db_path)["articles"].rows)
    by_id = {r["id"]: r["canonical_url"] for r in rows}
    return {r["canonical_url"]: {"title": r["title"], "text": r["text"], "date": r["date"],
                                 "content_hash": r["content_hash"], "dup_method": r["dup_method"],
                                 "duplicate_of": by_id.get(r["duplicate_of"])}
            for r in rows}


def fetches(db_path: Path) -> list[dict]:
    return list(sqlite_utils.Database(db_path)["fetches"].rows)


def spread(site: Site, other: Site, prefix: str, count: int, delay: float = 0.0) -> list[str]:
    """`count` stories on each of four hosts (two names of two servers); their URLs."""
    urls = []
    for n, (server, host) in enumerate([(site, None), (site, "localhost"), (other, None),
                                        (other, "localhost")]):
        for i in range(count):
            path = f"{prefix}/{n}/{i}"
            server.add(path, page(f"Story {path}", seed=zlib.crc32(path.encode())), delay=delay)
            urls.append(server.url(path, host))
    return urls


def stories(site: Site, other: Site) -> list[str]:
    """Pages on four hosts: unique stories, an exact copy and a near copy of two stories
    (each pair ranks the same whatever order its pages arrive in), and pages that fail."""
    urls = spread(site, other, "/news", 4)
    site.add("/story", html("The story", STORY, date="2025-09-01"))
    other.add("/copy", html("The story, copied", STORY, date="2025-09-05"))
    site.add("/other", html("Another story", OTHER, date="2025-09-02"))
    other.add("/edited", html("Another story, edited", reword(OTHER), date="2025-09-06"))
    urls += [site.url("/story"), other.url("/copy", "localhost"),
             site.url("/other", "localhost"), other.url("/edited"),
             site.url("/missing"), "http://127.0.0.1:1/refused"]
    return urls


def test_a_run_on_the_cluster_stores_what_a_local_run_does(cluster, site, other_site,
                                                            tmp_path):
    urls = stories(site, other_site)
    local, remote = tmp_path / "local.db", tmp_path / "remote.db"
    proc = run("ingest", *LOCAL, "--retries", "1", "--db", str(local), *urls)
    assert proc.returncode == 0, proc.stderr
    proc = run("ingest", *LOCAL, "--retries", "1", "--db", str(remote), "--scheduler",
               cluster.address, "--chunk", "3", *urls)
    assert proc.returncode == 0, proc.stderr
    expected = articles(local)
    assert len(expected) == 16 + 4
    assert articles(remote) == expected
    copies = {url: (a["duplicate_of"], a["dup_method"]) for url, a in expected.items()
              if a["duplicate_of"]}
    assert copies == {other_site.url("/copy", "localhost"): (site.url("/story"), "exact"),
                      other_site.url("/edited"): (site.url("/other", "localhost"), "near")}
    outcomes = [Counter(r["outcome"] for r in fetches(db)) for db in (local, remote)]
    assert outcomes[0] == outcomes[1]
    assert outcomes[1]["fetch.http_404"] == 1 and outcomes[1]["fetch.connect_error"] == 1
    # Every request was made once, whoever made it.
    assert Counter(site.paths() + other_site.paths()) == Counter(
        {path: 2 for path in [*[f"/news/{n}/{i}" for n in range(4) for i in range(4)],
                              "/story", "/copy", "/other", "/edited", "/missing"]})


def fetching(client: distributed.Client, worker: str) -> bool:
    """Whether a task of `worker` is inside the fetcher right now."""
    stacks = client.call_stack().get(worker, {})
    return any(f"scraper/{module}.py" in frame for stack in stacks.values() for frame in stack
               for module in ("sync", "fetch"))


def test_a_worker_killed_mid_run_loses_nothing(cluster, site, other_site, tmp_path):
    victim, address = cluster.worker("victim")
    urls = spread(site, other_site, "/slow", 6, delay=0.25)
    db_path = tmp_path / "x.db"
    proc = subprocess.Popen([SCRAPE, "ingest", *LOCAL, "--no-robots", "--db", str(db_path),
                             "--scheduler", cluster.address, "--chunk", "3", *urls],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not fetching(cluster.client, address):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the victim never fetched"
            time.sleep(0.02)
        time.sleep(0.1)  # its request is at the slow server now
        kill(victim)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    rows = fetches(db_path)
    assert sorted(r["url"] for r in rows) == sorted(urls)
    assert all(r["outcome"] == "new" and r["article_id"] for r in rows), rows
    assert len(articles(db_path)) == len(urls)
    assert "24 input(s), new 24" in stdout
    # The pages the dead worker had asked for were asked for again by another.
    requested = Counter(site.paths() + other_site.paths())
    assert sum(requested.values()) > len(urls), requested


def test_a_host_is_paced_across_workers(cluster, site, tmp_path):
    urls = [site.add(f"/paced/{i}", page(f"Paced {i}", seed=2000 + i)) for i in range(6)]

    def runs(dask_worker) -> list[str]:
        fetchers = getattr(dask_worker, "_scrape_fetchers", None)
        return list(fetchers.entries) if fetchers is not None else []

    before = cluster.client.run(runs)
    delay = 0.3
    proc = run("ingest", "--allow-private", "--delay", str(delay), "--db", str(tmp_path / "x.db"),
               "--scheduler", cluster.address, "--chunk", "1", *urls)
    assert proc.returncode == 0, proc.stderr
    after = cluster.client.run(runs)
    # Both workers fetched from the one host (each has a fetcher of this run) ...
    assert all(set(after[w]) - set(before.get(w, [])) for w in before), (before, after)
    # ... and the host was never asked twice within the delay (robots.txt included).
    arrivals = [hit.at for hit in site.hits]
    assert len(arrivals) >= len(urls) + 1
    assert min(gaps(arrivals)) >= paced(delay), gaps(arrivals)


def test_map_cleans_pages_on_the_cluster(cluster, fixtures_dir):
    body = (fixtures_dir / "seed-same-container.html").read_bytes()
    pages = [Page(url=f"https://news.example.test/{i}", final_url=f"https://news.example.test/{i}",
                  status=200, content_type="text/html", body=body, encoding="utf-8")
             for i in range(5)]
    steps = CleanSteps(release_body=True)
    executor = DaskExecutor(cluster.address, chunk=2)
    got = {r.page.url: r for r in executor.map(steps, pages)}
    want = {r.page.url: r for r in InProcess().map(CleanSteps(), pages)}
    assert got.keys() == want.keys()
    for url, result in got.items():
        assert result.outcome == want[url].outcome == "cleaned"
        assert result.article.text == want[url].article.text
        assert result.stored_body and not result.page.body  # packed there, sent back packed

    def broken(pages):  # a chunk that raises: its pages come back as errors, none lost
        for p in pages:
            raise RuntimeError(f"cannot clean {p.url}")
        yield from ()

    failed = list(DaskExecutor(cluster.address, chunk=2).map(broken, pages))
    assert sorted(r.page.url for r in failed) == sorted(p.url for p in pages)
    assert {r.outcome for r in failed} == {"cluster.error"}
    assert "RuntimeError: cannot clean" in failed[0].error


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error_and_exit_2(site, tmp_path):
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterUnavailable, match=f"cannot reach the Dask scheduler at {address}"):
        DaskExecutor(address, timeout=5)
    assert time.monotonic() - started < 5  # refused: no waiting out the timeout
    with pytest.raises(ClusterUnavailable, match="not a Dask scheduler address"):
        DaskExecutor("no-port-here")
    url = site.add("/a", page("A", seed=1))
    proc = subprocess.run([SCRAPE, "ingest", *LOCAL, "--db", str(tmp_path / "x.db"), url],
                          check=False, capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={**os.environ, "SCRAPE_SCHEDULER": address})
    assert proc.returncode == 2, proc.stderr
    assert f"cannot reach the Dask scheduler at {address}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not site.hits  # nothing fetched here instead


class Done:
    """A finished chunk's future, as _Run._finished sees it."""

    def __init__(self, outcome: BaseException | tuple) -> None:
        self.outcome = outcome

    def result(self) -> tuple:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def release(self) -> None:
        pass


class Submitted(list):
    """Stands for the client: what was submitted, and as_completed's `add`."""

    status = "running"

    def submit(self, function, items, *args, **kwargs) -> Done:
        self.append(items)
        return Done(([], None))

    def add(self, future) -> None:
        pass


def test_a_chunk_that_kills_workers_is_sent_again_one_task_at_a_time():
    host = "https://a.example:443"
    tasks = [FetchTask(url=f"https://a.example/{i}") for i in range(3)]
    run = _Run.__new__(_Run)  # its bookkeeping only: no cluster
    run.client = run.done = Submitted()
    run.steps, run.config, run.run, run.address = CleanSteps(), FetchConfig(), "r", "tcp://s"
    run.chunk, run.window, run.buffered, run.names = 16, 4, 0, iter(range(100))
    run.lanes, run.pending, run.running = {host: _Lane(busy=True)}, OrderedDict(), {}
    run.not_before = {}

    def finish(items: list, outcome: BaseException | tuple) -> list:
        future = Done(outcome)
        run.running[future] = (host, items)
        return run._finished(future)

    killed = distributed.KilledWorker("scrape-chunk-x", SimpleNamespace(address="tcp://w"), 3)
    assert finish(tasks, killed) == []  # no Result yet: each task goes again, alone
    run._pump(flush=False)
    assert run.client == [tasks[:1]]  # one at a time: the host still has one chunk out
    (crashed,) = finish(tasks[:1], killed)
    assert crashed.outcome == "cluster.crashed" and crashed.page.url == tasks[0].url
    (failed,) = finish(tasks[1:2], RuntimeError("cannot unpickle"))
    assert failed.outcome == "cluster.error" and "cannot unpickle" in failed.error
    with pytest.raises(ClusterUnavailable, match="lost the Dask scheduler at tcp://s"):
        finish(tasks[2:], CancelledError("scheduler-connection-lost"))
