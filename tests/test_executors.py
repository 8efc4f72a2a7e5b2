"""Executors (pipeline/executors.py): the same Results from a pool of worker processes as in
process, streamed with a bounded window, and a worker that dies costs one page, not the run."""

from __future__ import annotations

import dataclasses
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import sqlite_utils

from pipeline.executors import CleanSteps, InProcess, ProcessPool, pool_context
from records import Page, Result
from tests.test_batch import page as story_page
from tests.test_cli import ROOT, SCRAPE

LOCAL = ["--allow-private", "--no-robots", "--delay", "0", "--retries", "1"]


def pages(n: int, start: int = 0) -> list[Page]:
    out = []
    for i in range(start, start + n):
        url = f"https://news.example.com/story/{i}"
        body = story_page(f"Story {i}", seed=i)
        out.append(Page(url=url, final_url=url, status=200, content_type="text/html",
                        encoding="utf-8", body=body, bytes=len(body),
                        fetched_at="2026-01-01T00:00:00+00:00"))
    return out


@dataclasses.dataclass
class Fatal:
    """Steps that kill their process on the page whose URL ends with `fatal`, and put the
    cleaning process's pid in each Result's error (module level: workers import it)."""

    fatal: str = "/never"

    def __call__(self, pages: Iterable[Page]) -> Iterator[Result]:
        for page in pages:
            if page.url.endswith(self.fatal):
                os._exit(3)  # a segfault in a C library, as the pool sees it
            yield Result(page=page, outcome="cleaned", error=str(os.getpid()))


def by_url(results: Iterable[Result]) -> dict[str, Result]:
    return {r.page.url: r for r in results}


def test_the_pool_gives_what_cleaning_in_process_gives():
    steps = CleanSteps()
    here = by_url(InProcess().map(steps, pages(12)))
    pooled = by_url(ProcessPool(2).map(CleanSteps(release_body=True), pages(12)))
    assert sorted(here) == sorted(pooled) and len(here) == 12
    for url, result in here.items():
        other = pooled[url]
        assert result.outcome == other.outcome == "cleaned"
        assert result.article == other.article
        assert list(result.signature.hashvalues) == list(other.signature.hashvalues)
        assert result.stored_body == other.stored_body is not None
        assert other.page.body == b"" and result.page.body  # released in the worker only


def test_pages_are_cleaned_in_worker_processes_and_taken_lazily():
    pulled = []

    def source() -> Iterator[Page]:
        for page in pages(40):
            pulled.append(page.url)
            yield page

    pool = ProcessPool(2, window=3)
    seen = 0
    pids = set()
    for result in pool.map(Fatal(), source()):
        seen += 1
        pids.add(int(result.error))
        # Never more than the window (and the one being handed over) ahead of the consumer.
        assert len(pulled) <= seen + pool.window
    assert seen == 40 and os.getpid() not in pids and 1 <= len(pids) <= 2


def test_a_single_page_is_cleaned_here_without_a_pool():
    (result,) = ProcessPool(2).map(Fatal(), pages(1))
    assert int(result.error) == os.getpid()


def test_a_page_that_kills_its_worker_is_reported_and_the_rest_are_cleaned(caplog):
    batch = pages(10)
    fatal = batch[4].url.rsplit("/", 1)[-1]
    results = by_url(ProcessPool(2, window=4).map(Fatal(fatal="/" + fatal), batch))
    assert sorted(results) == sorted(p.url for p in batch)  # one Result per page, none twice
    crashed = [url for url, r in results.items() if r.outcome == "clean.crashed"]
    assert crashed == [batch[4].url]
    assert "died" in results[batch[4].url].error
    assert all(r.outcome == "cleaned" for url, r in results.items() if url != batch[4].url)


def test_workers_that_keep_dying_stop_the_run_with_a_clear_error():
    with pytest.raises(RuntimeError, match="died .* times in a row"):
        list(ProcessPool(1).map(Fatal(fatal=""), pages(10)))  # every page kills its worker


@dataclasses.dataclass
class Report:
    """Steps that tell, in each Result's error, the cleaning process's pid, whether it
    started with the fork server's preloaded (warmed-up) modules, and how many objects it
    keeps out of the garbage collector's view."""

    def __call__(self, pages: Iterable[Page]) -> Iterator[Result]:
        for page in pages:
            yield Result(page=page, outcome="cleaned", error=(
                f"{os.getpid()} {'pipeline.preload' in sys.modules} {gc.get_freeze_count()}"))


WRITER = """
import time
from pipeline.executors import ProcessPool
from tests.test_executors import Report, pages

def source():
    yield from pages(10)  # more than the window: results come back
    time.sleep(600)  # then a writer that hangs, to be killed

for result in ProcessPool(2).map(Report(), source()):
    print(result.error, flush=True)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # exited, not (yet) reaped


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_workers_start_warmed_up_and_end_with_a_writer_killed_with_9():
    writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = [writer.stdout.readline().split() for _ in range(4)]
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    workers = {int(pid) for pid, _, _ in lines}
    assert len(workers) >= 1 and writer.pid not in workers
    forked = pool_context().get_start_method() == "forkserver"
    assert {warm for _, warm, _ in lines} == {str(forked)}
    # The imported code is frozen out of the collector's view (pipeline.memory).
    assert all(int(frozen) > 10_000 for _, _, frozen in lines)
    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers)
    writer.communicate(timeout=10)  # nothing left holding its pipes


def test_ingest_with_two_workers_stores_what_in_process_stores(site, tmp_path):
    urls = [site.add(f"/news/s{i}", story_page(f"Story {i}", seed=i)) for i in range(8)]
    urls.append(site.url("/missing"))
    copy = site.add("/news/copy", story_page("Story 0 again", seed=0))  # a duplicate
    rows = {}
    for workers in ("0", "2"):
        db = tmp_path / f"w{workers}.db"
        # The copy in a run of its own: which of two equal bodies is canonical depends on
        # which is stored first, and workers hand Results back in the order they finish.
        for batch in (urls, [copy]):
            proc = subprocess.run([SCRAPE, "ingest", *batch, "--db", str(db), "--workers",
                                   workers, *LOCAL], capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr
        d = sqlite_utils.Database(db)
        ids = {r["id"]: r["canonical_url"] for r in d["articles"].rows}
        rows[workers] = (
            {r["canonical_url"]: (r["title"], r["text"], r["content_hash"], r["dup_method"],
                                  ids.get(r["duplicate_of"])) for r in d["articles"].rows},
            sorted((r["url"], r["outcome"]) for r in d["fetches"].rows),
            d.execute("SELECT count(*) FROM pages").fetchone()[0])
    assert rows["0"] == rows["2"]
    articles, fetches, kept = rows["2"]
    assert len(articles) == 9 and kept == 9
    assert sum(1 for a in articles.values() if a[3] == "exact") == 1
    assert ("http://" + urls[-1].split("://", 1)[1], "fetch.http_404") in fetches


SHADOWED = """
import sys
sys.path.pop(0)  # this process imports the installed code; its fork server must, too
from pipeline.executors import CleanSteps, ProcessPool
from records import Page
html = (b"<html><body><article><h1>A headline</h1>"
        + b"<p>A paragraph of prose that reads like the sentence of an article.</p>" * 5
        + b"</article></body></html>")
pages = [Page(url=f"https://example.com/{i}", final_url=f"https://example.com/{i}", status=200,
              content_type="text/html", encoding="utf-8", body=html, bytes=len(html),
              fetched_at="2026-01-01T00:00:00+00:00") for i in range(3)]
print(sorted(r.outcome for r in ProcessPool(2).map(CleanSteps(), pages)))
"""


def test_workers_do_not_import_modules_from_the_current_directory(tmp_path):
    """`scrape` run from a directory that holds a `records` package: the workers still import
    the installed one (a fork server started as `python -c` puts the current directory first
    on its path, and Python 3.11's ignores the path it is given)."""
    decoy = tmp_path / "records"
    decoy.mkdir()
    (decoy / "__init__.py").write_text(
        "open(__file__ + '.imported', 'w').close()\nraise ImportError('the decoy')\n")
    proc = subprocess.run([sys.executable, "-c", SHADOWED], cwd=tmp_path, capture_output=True,
                          check=False,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (decoy / "__init__.py.imported").exists()
    assert proc.stdout.split("\n")[-2] == str(["cleaned"] * 3)
