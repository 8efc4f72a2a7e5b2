"""`scrape batch` (pipeline/batch.py): the sources file, per-source limits, the run lock, the
`runs` and `sources` tables, crash safety, exit statuses and output; against a real server
on 127.0.0.1. Also the same lock, runs row and output for `scrape ingest`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

import pytest
import sqlite_utils

from pipeline.cli import main
from pipeline.sources_file import SourcesError, load_sources
from store.lock import LockHeld, RunLock
from tests.test_cli import LOCAL, ROOT, SCRAPE

WORDS = ["the", "council", "said", "on", "monday", "that", "plans", "for", "a", "new",
         "harbour", "bridge", "would", "go", "ahead", "despite", "objections", "from",
         "residents", "who", "fear", "traffic", "noise", "and", "rising", "costs", "while",
         "engineers", "insist", "design", "is", "safe", "budget", "figures", "were", "checked",
         "twice", "by", "independent", "auditors", "before", "vote", "took", "place", "late",
         "in", "evening", "after", "long", "debate"]
# Any control character but the newline: what no line of cron output may hold.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def page(title: str, seed: int) -> bytes:
    """An article page whose body is its own story (no two seeds are copies)."""
    rng = random.Random(seed)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(6))
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paragraphs}</article></body></html>").encode()


def serve(site, names, delay: float = 0.0) -> dict[str, str]:
    """/news/<name> for each name, each its own story; returns {name: url}."""
    return {name: site.add(f"/news/{name}", page(f"Story {name}", seed=zlib.crc32(name.encode())),
                           delay=delay)
            for name in names}


def rss(urls) -> str:
    items = "".join(f"<item><title>t</title><link>{u}</link></item>" for u in urls)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}'
            '</channel></rss>')


def urlset(urls) -> str:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>")


def sources_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def batch(tmp_path: Path, *args: str, sources: Path | None = None,
          db: Path | None = None) -> int:
    """`scrape batch` in this process (fast); returns the exit status."""
    return main(["batch", "--sources", str(sources or tmp_path / "sources.toml"),
                 "--db", str(db or tmp_path / "x.db"), *LOCAL, *args])


def spawn(tmp_path: Path, *args: str, db: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [SCRAPE, "batch", "--sources", str(tmp_path / "sources.toml"),
         "--db", str(db or tmp_path / "x.db"), *LOCAL, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def runs(db_path: Path) -> list[dict]:
    return list(sqlite_utils.Database(db_path)["runs"].rows_where(order_by="id"))


def fetches(db_path: Path) -> list[dict]:
    return list(sqlite_utils.Database(db_path)["fetches"].rows_where(order_by="id"))


# -- the sources file ------------------------------------------------------------------------


def test_sources_file_is_read_with_paths_relative_to_it(tmp_path):
    path = sources_file(tmp_path, """
# a comment
[[source]]
name = "world"
kind = "feed"
url = "https://news.example/world?output=rss"
max_pages = 5
max_age_hours = 1.5

[[source]]
name = "reading.list"
kind = "urls"
path = "lists/more.urls"

[[source]]
name = "one-page"
kind = "page"
url = "https://news.example/a/story"
enabled = false
""")
    world, listing, one = load_sources(path)
    assert (world.name, world.kind, world.location) == (
        "world", "feed", "https://news.example/world?output=rss")
    assert (world.max_pages, world.max_age_hours, world.line) == (5, 1.5, 3)
    assert listing.location == str(tmp_path / "lists" / "more.urls")
    assert listing.max_pages is None and listing.max_age_hours is None and listing.enabled
    assert not one.enabled
    assert one.row() == {"name": "one-page", "kind": "page",
                         "location": "https://news.example/a/story", "max_pages": None,
                         "config": {"name": "one-page", "kind": "page",
                                    "url": "https://news.example/a/story", "enabled": False}}


def test_a_bad_sources_file_names_each_problem_with_its_line_and_field(tmp_path):
    path = sources_file(tmp_path, """[[source]]
name = "a"
kind = "rss"
url = "https://x.example/feed"

[[source]]
name = "b"
kind = "feed"
url = "https://y.example/feed"
max_page = 3

[[source]]
name = "c"
kind = "page"
url = "https://z.example/"
max_pages = 0

[[source]]
name = "b"
kind = "urls"
url = "https://w.example/list"

[[source]]
kind = "sitemap"
url = "ftp://v.example/sitemap.xml"
max_age_hours = -1

[[source]]
name = "d"
kind = "sitemap"
url = "https://y.example/sitemap.xml"
[[source]]
name = "d-again"
kind = "sitemap"
url = "https://Y.example/sitemap.xml#top"
""")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    problems = caught.value.problems
    assert f"{path}:3: source 'a': kind must be one of feed, sitemap, urls, page, site, not 'rss'" \
        in problems
    assert f"{path}:10: source 'b': unknown field 'max_page' (did you mean 'max_pages'?)" \
        in problems
    assert f"{path}:16: source 'c': max_pages must be at least 1 and at most 1000000000, " \
           f"not 0" in problems
    assert any(p.startswith(f"{path}:21: source 'b': kind 'urls' reads a local file")
               for p in problems)
    assert any(p.startswith(f"{path}:23: source #5: missing field 'name'") for p in problems)
    assert any(p.startswith(f"{path}:25: source #5: url must be an http(s) URL")
               for p in problems)
    assert any(p.startswith(f"{path}:26: source #5: max_age_hours must be") for p in problems)
    assert f"{path}:33: source 'd-again': reads https://Y.example/sitemap.xml#top, as " \
           f"source 'd' does" in problems
    assert len(problems) == 8


def test_duplicate_names_and_toml_syntax_errors(tmp_path):
    path = sources_file(tmp_path, '[[source]]\nname = "a"\nkind = "page"\nurl = "https://x.example/1"\n'
                                  '[[source]]\nname = "a"\nkind = "page"\nurl = "https://x.example/2"\n')
    with pytest.raises(SourcesError, match=r":6: source 'a': the name is already that of "
                                           r"source #1 \(line 1\)"):
        load_sources(path)
    path = sources_file(tmp_path, '[[source]]\nname = "a\nkind = "page"\n')
    with pytest.raises(SourcesError, match=r"not valid TOML: .*line 2"):
        load_sources(path)
    path = sources_file(tmp_path, '[sources]\nname = "a"\n')
    with pytest.raises(SourcesError, match=r"unknown top-level key 'sources' \(each source is "
                                           r"a \[\[source\]\] table\)"):
        load_sources(path)


def test_bad_sources_file_exits_2_before_touching_the_database(tmp_path, capsys):
    sources_file(tmp_path, '[[source]]\nname = "a"\nkind = "feed"\nurl = "https://x.example/f"\n'
                           'max_pages = "ten"\n')
    assert batch(tmp_path) == 2
    err = capsys.readouterr().err
    assert f"scrape batch: {tmp_path / 'sources.toml'}:5: source 'a': max_pages must be" in err
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "x.db.lock").exists()
    assert main(["batch", "--sources", str(tmp_path / "missing.toml"), "--db",
                 str(tmp_path / "x.db")]) == 2
    assert "cannot read the sources file" in capsys.readouterr().err


def test_the_example_sources_file_is_valid_and_works_offline(tmp_path, capsys):
    assert main(["batch", "--sources", str(ROOT / "data" / "sources.toml"), "--check"]) == 0
    assert "data/sources.toml is valid" in capsys.readouterr().out
    db_path = tmp_path / "samples.db"
    assert main(["batch", "--sources", str(ROOT / "data" / "sources.toml"),
                 "--db", str(db_path)]) == 0
    db = sqlite_utils.Database(db_path)
    assert db["articles"].count == 3 and db["unique_articles"].count == 1
    assert {r["source"] for r in db["fetches"].rows} == {"sample-html", "sample-html-gz",
                                                          "sample-text"}


# -- a batch run -------------------------------------------------------------------------------


def test_batch_reads_every_kind_of_source_each_page_once_within_max_pages(site, tmp_path,
                                                                           capsys):
    urls = serve(site, [str(n) for n in range(1, 9)])
    # A feed at a URL that does not look like one: read as the declared kind says.
    feed = site.add("/feeds/world", rss([urls["1"], urls["2"], urls["3"]]),
                    content_type="text/xml")
    site.add("/sitemap-news.xml", urlset([urls[n] for n in "3456"]),
             content_type="application/xml")
    index = site.add("/sitemap.xml", (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{site.url("/sitemap-news.xml")}</loc></sitemap></sitemapindex>'),
        content_type="application/xml")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "more.urls").write_text(
        f"# also in the feed, with a tracking parameter\n{urls['1']}?utm_source=x\n{urls['7']}\n")
    sources_file(tmp_path, f"""
[[source]]
name = "world"
kind = "feed"
url = "{feed}"

[[source]]
name = "news-sitemap"
kind = "sitemap"
url = "{index}"
max_pages = 2

[[source]]
name = "list"
kind = "urls"
path = "lists/more.urls"

[[source]]
name = "single"
kind = "page"
url = "{urls['8']}"
""")
    assert batch(tmp_path) == 0
    out = capsys.readouterr().out

    # Each page at most once, though 1 is in the feed and the list, 3 in the feed and sitemap.
    requested = Counter(site.paths())
    assert max(requested.values()) == 1, requested
    rows = fetches(tmp_path / "x.db")
    pages = [r for r in rows if r["outcome"] != "source.read"]
    by_source = {}
    for r in pages:
        by_source.setdefault(r["source"], []).append(r["url"].rsplit("/", 1)[-1])
    # Sources take turns: the feed claims 1, the sitemap 3, the list 7 (1 is taken), ...
    assert sorted(by_source["news-sitemap"]) == ["3", "4"]  # max_pages = 2
    assert sorted(by_source["world"]) == ["1", "2"]  # 3 went to the sitemap first
    assert by_source["list"] == ["7"] and by_source["single"] == ["8"]
    assert "/news/5" not in requested and "/news/6" not in requested
    assert {r["outcome"] for r in pages} == {"new"}
    reads = {r["url"]: r["source"] for r in rows if r["outcome"] == "source.read"}
    assert reads == {feed: "world", index: "news-sitemap",
                     site.url("/sitemap-news.xml"): "news-sitemap"}

    (run,) = runs(tmp_path / "x.db")
    assert {r["run_id"] for r in rows} == {run["id"]}
    assert run["command"] == "batch" and run["status"] == "completed"
    assert json.loads(run["counts"]) == dict(Counter(r["outcome"] for r in rows))
    arguments = json.loads(run["arguments"])
    assert arguments["sources"] == str(tmp_path / "sources.toml")
    assert arguments["db"] == str(tmp_path / "x.db") and arguments["allow_private"] is True
    assert run["pid"] == os.getpid() and run["host"] == os.uname().nodename
    assert run["started_at"] <= run["finished_at"]

    sources = {r["name"]: r for r in sqlite_utils.Database(tmp_path / "x.db")["sources"].rows}
    assert set(sources) == {"world", "news-sitemap", "list", "single"}
    assert sources["news-sitemap"]["kind"] == "sitemap"
    assert sources["news-sitemap"]["location"] == index
    assert sources["news-sitemap"]["max_pages"] == 2
    assert json.loads(sources["news-sitemap"]["config"]) == {
        "name": "news-sitemap", "kind": "sitemap", "url": index, "max_pages": 2}
    assert sources["list"]["location"] == str(tmp_path / "lists" / "more.urls")
    assert all(s["last_run_id"] == run["id"] and s["added_at"] for s in sources.values())

    lines = out.splitlines()
    assert any(line.startswith("new") and "  list  Story 7  " in line for line in lines)
    assert lines[-2] == f"database: {tmp_path / 'x.db'}"
    assert re.fullmatch(rf"run {run['id']} completed: fetched 9, new 6, updated 0, "
                        r"duplicate 0, failed 0, elapsed \d+\.\d s", lines[-1]), lines[-1]


def test_max_pages_counts_fetched_pages_so_max_age_works_through_a_sitemap(site, tmp_path,
                                                                          capsys):
    urls = serve(site, "abcde")
    sitemap = site.add("/sitemap.xml", urlset(urls.values()), content_type="application/xml")
    sources_file(tmp_path, f'[[source]]\nname = "s"\nkind = "sitemap"\nurl = "{sitemap}"\n'
                           'max_pages = 2\nmax_age_hours = 24\n')
    fetched = []
    for _ in range(3):
        before = len(site.paths())
        assert batch(tmp_path) == 0
        fetched.append(sorted(p.rsplit("/", 1)[-1] for p in site.paths()[before:]
                              if "/news/" in p))  # fetched concurrently: any order
    # Pages fetched in the last 24 h are skipped and do not count against max_pages.
    assert fetched == [["a", "b"], ["c", "d"], ["e"]]
    last = [r for r in fetches(tmp_path / "x.db") if r["run_id"] == 3]
    assert Counter(r["outcome"] for r in last) == {"skipped.fresh": 4, "new": 1, "source.read": 1}
    skipped = next(r for r in last if r["outcome"] == "skipped.fresh")
    assert "(max_age_hours of s 24)" in skipped["error"]
    sources = list(sqlite_utils.Database(tmp_path / "x.db")["sources"].rows)
    assert [s["last_run_id"] for s in sources] == [3]


def test_every_input_failing_exits_1_and_the_run_is_failed(site, tmp_path, capsys):
    gone = site.url("/gone")
    sources_file(tmp_path, f'[[source]]\nname = "gone"\nkind = "page"\nurl = "{gone}"\n'
                           '[[source]]\nname = "list"\nkind = "urls"\npath = "missing.urls"\n')
    assert batch(tmp_path, "--retries", "1") == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("run 1 failed: fetched 2, new 0,")
    (run,) = runs(tmp_path / "x.db")
    assert run["status"] == "failed"
    assert json.loads(run["counts"]) == {"fetch.http_404": 1, "fetch.not_found": 1}
    missing = next(r for r in fetches(tmp_path / "x.db") if r["source"] == "list")
    assert missing["error"] == f"no such file of URLs: {tmp_path / 'missing.urls'}"


def test_an_unusable_database_exits_4(site, tmp_path, capsys):
    sources_file(tmp_path, f'[[source]]\nname = "p"\nkind = "page"\nurl = "{site.url("/p")}"\n')
    (tmp_path / "x.db").write_bytes(b"this is not a database, just text " * 100)
    assert batch(tmp_path) == 4
    assert "cannot use the database" in capsys.readouterr().err
    assert site.paths() == []


def test_a_held_lock_refuses_batch_and_ingest_at_once(site, tmp_path, capsys):
    url = serve(site, ["1"])["1"]
    sources_file(tmp_path, f'[[source]]\nname = "p"\nkind = "page"\nurl = "{url}"\n')
    db_path = tmp_path / "x.db"
    with RunLock(db_path).acquire("scrape batch (the test)"):
        with pytest.raises(LockHeld):
            RunLock(db_path).acquire()
        assert batch(tmp_path) == 3
        assert main(["ingest", "--db", str(db_path), *LOCAL, url]) == 3
        err = capsys.readouterr().err
        assert err.count(f"another run holds the lock {db_path}.lock (pid {os.getpid()} on ") == 2
        assert "scrape batch (the test)" in err
    assert site.paths() == [] and not db_path.exists()
    assert batch(tmp_path) == 0  # released


def test_ingest_records_its_run_and_prints_json_lines(site, tmp_path, capsys):
    urls = serve(site, ["1", "2"])
    db_path = tmp_path / "x.db"
    assert main(["ingest", "--db", str(db_path), *LOCAL, "--log-json", urls["1"], urls["2"],
                 site.url("/gone"), "--retries", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    inputs, summary = lines[:-1], lines[-1]
    assert sorted(o["outcome"] for o in inputs) == ["fetch.http_404", "new", "new"]
    for o in inputs:
        assert set(o) >= {"url", "outcome", "status", "title", "article_id", "duplicate_of",
                          "elapsed_ms"} and o["event"] == "input"
    story = next(o for o in inputs if o["url"] == urls["1"])
    assert story["title"] == "Story 1" and story["status"] == 200
    assert isinstance(story["article_id"], int) and story["duplicate_of"] is None
    (run,) = runs(db_path)
    assert summary == {"event": "summary", "run_id": run["id"], "command": "ingest",
                       "status": "completed", "fetched": 3, "new": 2, "updated": 0,
                       "duplicate": 0, "failed": 1, "elapsed": summary["elapsed"],
                       "counts": {"fetch.http_404": 1, "new": 2}, "sites": {},
                       "database": str(db_path)}
    assert json.loads(run["arguments"])["targets"] == [urls["1"], urls["2"], site.url("/gone")]
    assert {r["run_id"] for r in fetches(db_path)} == {run["id"]}


# -- processes ---------------------------------------------------------------------------------


def test_a_run_refused_just_as_the_holder_locks_still_names_it(tmp_path):
    """The holder writes its note just after taking the lock: the refused run waits for it."""
    path = tmp_path / "x.db.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    note = threading.Timer(0.1, os.pwrite, [fd, b"pid 1 on elsewhere, scrape batch\n", 0])
    note.start()
    try:
        with pytest.raises(LockHeld) as refused:
            RunLock(tmp_path / "x.db").acquire()
        assert refused.value.holder == "pid 1 on elsewhere, scrape batch"
    finally:
        note.join()
        os.close(fd)


def test_two_batches_started_together_one_runs_the_other_exits_3(site, tmp_path):
    # Slow enough that the second start-up (imports) ends before the first run does, even on
    # a loaded machine.
    urls = serve(site, ["slow"], delay=3.0)
    sources_file(tmp_path, f'[[source]]\nname = "p"\nkind = "page"\nurl = "{urls["slow"]}"\n')
    procs = [spawn(tmp_path), spawn(tmp_path)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 3], results
    refused = next(r for r in results if r[0] == 3)
    winner = next(p for p, r in zip(procs, results, strict=True) if r[0] == 0)
    assert refused[1] == ""
    assert re.fullmatch(
        re.escape(f"scrape batch: another run holds the lock {tmp_path / 'x.db'}.lock (pid "
                  f"{winner.pid} on {os.uname().nodename}, scrape batch since ")
        + r"\d{4}-\d\d-\d\dT[\d:]{8}\+00:00\); not started \(exit 3\)", refused[2].strip())
    assert [r["status"] for r in runs(tmp_path / "x.db")] == ["completed"]
    assert site.paths() == ["/news/slow"]


def test_kill_9_mid_run_loses_nothing_committed_and_the_rerun_finishes(site, tmp_path):
    names = [f"p{n:02d}" for n in range(24)]
    # ~12 s of pages: the Store commits at most every 2 s (pipeline/run.py prints a line
    # once committed), so rows are seen committed well before the run would end.
    urls = serve(site, names, delay=0.5)
    (tmp_path / "all.urls").write_text("\n".join(urls.values()) + "\n")
    sources_file(tmp_path, '[[source]]\nname = "all"\nkind = "urls"\npath = "all.urls"\n')
    db_path = tmp_path / "x.db"
    proc = spawn(tmp_path, "--per-host", "1")
    committed: list[tuple] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(committed) < 3:
        time.sleep(0.1)
        if db_path.exists():
            try:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
                    committed = conn.execute(
                        "SELECT f.id, f.url, f.outcome, a.id, a.canonical_url FROM fetches f "
                        "LEFT JOIN articles a ON a.id = f.article_id ORDER BY f.id").fetchall()
            except sqlite3.OperationalError:  # not created yet
                pass
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # Its cleaning workers end with it: nothing holds its stdout open.
    proc.communicate(timeout=30)
    assert 3 <= len(committed) < len(names)
    assert [r["status"] for r in runs(db_path)] == ["running"]

    for name in names:  # the rest quickly
        site.routes[f"/news/{name}"].delay = 0
    again = spawn(tmp_path)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "run 1 (batch, started " in err and "marked interrupted" in err

    db = sqlite_utils.Database(db_path)
    # Every page once in articles; what the killed run committed is still there, unchanged.
    assert sorted(r["url"] for r in db["articles"].rows) == sorted(urls.values())
    after = {r[0]: r for r in db.execute(
        "SELECT f.id, f.url, f.outcome, a.id, a.canonical_url FROM fetches f "
        "LEFT JOIN articles a ON a.id = f.article_id").fetchall()}
    assert all(after[row[0]] == row for row in committed)
    first, second = runs(db_path)
    assert first["status"] == "interrupted"
    assert json.loads(first["counts"]) == dict(Counter(
        r["outcome"] for r in fetches(db_path) if r["run_id"] == 1))
    assert first["finished_at"] >= first["started_at"]
    assert second["status"] == "completed"
    redone = Counter(r["outcome"] for r in fetches(db_path) if r["run_id"] == 2)
    stored_before = {row[1] for row in committed if row[2] == "new"}
    assert redone["unchanged"] >= len(stored_before)  # re-fetched: never a second row
    assert redone["new"] == len(names) - len({r["url"] for r in fetches(db_path)
                                              if r["run_id"] == 1 and r["outcome"] == "new"})


def test_sigterm_ends_the_run_as_interrupted_with_what_it_committed(site, tmp_path):
    urls = serve(site, [f"p{n}" for n in range(12)], delay=0.4)
    (tmp_path / "all.urls").write_text("\n".join(urls.values()) + "\n")
    sources_file(tmp_path, '[[source]]\nname = "all"\nkind = "urls"\npath = "all.urls"\n')
    proc = spawn(tmp_path, "--per-host", "1")
    assert proc.stdout is not None
    first = proc.stdout.readline()  # one input written (cleaned in a worker process, or not)
    proc.send_signal(signal.SIGTERM)  # systemd stopping the service
    out, err = proc.communicate(timeout=30)
    out = first + out
    assert proc.returncode == 143, err
    assert "scrape batch: stopped (SIGTERM)" in err
    (run,) = runs(tmp_path / "x.db")
    rows = fetches(tmp_path / "x.db")
    assert run["status"] == "interrupted" and run["finished_at"]
    assert 1 <= len(rows) < len(urls)  # the open batch was committed on the way out
    assert json.loads(run["counts"]) == dict(Counter(r["outcome"] for r in rows))
    assert out.splitlines()[-1].startswith(f"run 1 interrupted: fetched {len(rows)}, ")


def make_batch(*variables: str) -> subprocess.CompletedProcess:
    venv = Path(sys.prefix)
    return subprocess.run(["make", "-s", "-o", f"{venv}/.installed", "batch", f"VENV={venv}",
                           *variables], check=False, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_make_batch_reads_the_example_sources_offline(tmp_path):
    db_path = tmp_path / "make.db"
    proc = make_batch(f"DB={db_path}", "FLAGS=--log-json")
    assert proc.returncode == 0, proc.stderr
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(o["outcome"] for o in objects[:-1]) == ["duplicate", "duplicate", "new"]
    assert objects[-1]["event"] == "summary" and objects[-1]["database"] == str(db_path)


def test_cron_output_has_no_control_characters(site, tmp_path):
    """Without a terminal: plain lines, one per input, whatever the pages and links hold."""
    site.add("/news/evil", page("Evil \x1b[2J\x9b31m title", seed=7))
    feed = site.add("/feed.json", json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "f",
        "items": [{"url": site.url("/news/evil")},
                  {"url": site.url("/news/\x1b[31mred\rback")},
                  {"url": site.url("/gone\x1b]0;title\x07")}]}),
        content_type="application/feed+json")
    empty = site.add("/empty.rss", rss([]), content_type="application/rss+xml")
    sources_file(tmp_path, f'[[source]]\nname = "f"\nkind = "feed"\nurl = "{feed}"\n'
                           f'[[source]]\nname = "empty"\nkind = "feed"\nurl = "{empty}"\n')
    proc = spawn(tmp_path, "--retries", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "WARNING" in err and "no links found" in err  # the log goes to stderr, plainly
    for text in (out, err):
        assert not CONTROL.search(text), repr(CONTROL.search(text))
    lines = out.splitlines()
    assert any(line.startswith("new") and "Evil" in line for line in lines)
    # One line per input: 2 feeds read, 3 links, then the counts, database and summary lines.
    assert len(lines) == 5 + 3 and lines[-1].startswith("run 1 completed: fetched 5,")


def test_on_a_terminal_a_progress_bar_goes_to_stderr(site, tmp_path):
    urls = serve(site, ["1", "2"], delay=0.3)
    sources_file(tmp_path, "".join(f'[[source]]\nname = "p{n}"\nkind = "page"\nurl = "{u}"\n'
                                   for n, u in urls.items()))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the other end is closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [SCRAPE, "batch", "--sources", str(tmp_path / "sources.toml"), "--db",
         str(tmp_path / "x.db"), *LOCAL, "--per-host", "1"],
        stdout=subprocess.PIPE, stderr=follower, text=True, cwd=ROOT, env=env)
    os.close(follower)
    out, _ = proc.communicate(timeout=60)
    reader.join(10)
    os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "\x1b[" in terminal and "done, 0 failed" in terminal  # the bar, drawn and redrawn
    assert not CONTROL.search(out)  # stdout is a pipe: plain lines
    assert out.splitlines()[-1].startswith("run 1 completed: fetched 2, new 2,")
