"""The run as one stream through a list of steps (pipeline/steps.py, pipeline/run.py): readers
yield tasks, Pages and finished Results; each step handles its own kind and passes the rest."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

import pytest
import sqlite_utils

from cleaner import Cleaner
from pipeline.batch import interleave, up_to
from pipeline.cli import main
from pipeline.run import ingest
from pipeline.steps import Item, finished, only, run_steps
from records import FetchTask, Page, Result
from scraper import FetchConfig, Fetcher


def skipped(url: str) -> Result:
    page = Page(url=url, outcome="skipped.fresh", fetched_at="2026-01-01T00:00:00+00:00")
    return Result(page=page, outcome="skipped.fresh", error="fetched 1.0 h ago")


def test_only_gives_the_stage_its_kind_and_passes_the_others_by_in_turn():
    seen: list[str] = []

    def fetch(tasks: Iterable[FetchTask]) -> Iterator[Page]:
        for task in tasks:
            seen.append(task.url)
            yield Page(url=task.url)

    stream = [FetchTask("https://a.test/1"), skipped("https://a.test/old"),
              FetchTask("https://a.test/2")]
    out = list(only(FetchTask, fetch)(stream))
    assert seen == ["https://a.test/1", "https://a.test/2"]  # the stage saw tasks only
    assert [type(x).__name__ for x in out] == ["Page", "Result", "Page"]
    assert [x.page.url if isinstance(x, Result) else x.url for x in out] == [
        "https://a.test/1", "https://a.test/old", "https://a.test/2"]


def test_items_after_the_stage_s_last_output_are_not_lost():
    def nothing(tasks: Iterable[FetchTask]) -> Iterator[Page]:
        for _ in tasks:
            yield from ()

    out = list(only(FetchTask, nothing)([FetchTask("https://a.test/"), skipped("https://a.test/x")]))
    assert [r.page.url for r in out if isinstance(r, Result)] == ["https://a.test/x"]


def test_run_steps_is_lazy_and_finished_refuses_what_no_step_handled():
    pulled: list[int] = []

    def items() -> Iterator[Item]:
        for n in range(3):
            pulled.append(n)
            yield FetchTask(f"https://a.test/{n}")

    stream = run_steps(items(), [finished])
    assert pulled == []  # nothing runs before it is asked for
    with pytest.raises(TypeError, match="unprocessed"):
        next(stream)


def test_interleave_takes_one_task_from_each_source_in_turn_results_riding_along():
    a = iter([skipped("https://a.test/read"), FetchTask("https://a.test/1"),
              FetchTask("https://a.test/2")])
    b = iter([FetchTask("https://b.test/1"), skipped("https://b.test/old"),
              FetchTask("https://b.test/2")])
    urls = [x.url if isinstance(x, FetchTask) else "result:" + x.page.url
            for x in interleave([a, b])]
    assert urls == ["result:https://a.test/read", "https://a.test/1", "https://b.test/1",
                    "https://a.test/2", "result:https://b.test/old", "https://b.test/2"]


def test_up_to_counts_tasks_not_results():
    items = iter([skipped("https://a.test/0"), FetchTask("https://a.test/1"),
                  skipped("https://a.test/2"), FetchTask("https://a.test/3"),
                  FetchTask("https://a.test/4")])
    out = list(up_to(items, 2))
    assert [x.url for x in out if isinstance(x, FetchTask)] == ["https://a.test/1",
                                                                "https://a.test/3"]
    assert len(out) == 4  # both Results before the second task came along


def test_a_finished_result_in_the_stream_gets_its_fetches_row(tmp_path, site):
    """A reader's finished Result (here a page skipped as fresh) is recorded like any input,
    in the same stream as the fetched pages."""
    site.add("/a", "<html><head><title>A</title></head><body><article>"
             + "<p>A paragraph of plain words long enough to count as an article body.</p>" * 8
             + "</article></body></html>")
    db_path = tmp_path / "x.db"
    with Fetcher(FetchConfig(allow_private=True, delay=0)) as fetcher:
        summary = ingest([skipped(site.url("/old")), FetchTask(site.url("/a"))], db_path,
                         fetcher, Cleaner())
    rows = {r["url"]: r["outcome"] for r in sqlite_utils.Database(db_path)["fetches"].rows}
    assert rows == {site.url("/old"): "skipped.fresh", site.url("/a"): "new"}
    assert summary.counts == {"skipped.fresh": 1, "new": 1}


def test_a_run_writes_through_one_connection(tmp_path, site, monkeypatch):
    """The recorded run's database is the one the store writes through: `scrape ingest`
    opens one writing connection (readers open read-only ones of their own)."""
    site.add("/a", "<html><head><title>A</title></head><body><article>"
             + "<p>A paragraph of plain words long enough to count as an article body.</p>" * 8
             + "</article></body></html>")
    opened: list[str] = []
    connect = sqlite3.connect

    def counting(target, *args, **kwargs):
        opened.append(str(target))
        return connect(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", counting)
    db_path = tmp_path / "x.db"
    assert main(["ingest", "--allow-private", "--no-robots", "--delay", "0", "--workers", "0",
                 "--db", str(db_path), site.url("/a")]) == 0
    writing = [t for t in opened if "mode=ro" not in t]
    assert writing == [str(db_path)]
    assert sqlite_utils.Database(db_path)["articles"].count == 1
