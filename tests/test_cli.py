"""The CLI end to end, called the way a user calls it, against a real server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from records import Article

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRAPE = str(BIN / "scrape")
TITLE = "Questions raised over unity of ‘autocratic alliance’"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([SCRAPE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


# The `site` fixture is on 127.0.0.1, refused by default, and need not be paced.
LOCAL = ("--allow-private", "--delay", "0")


def lines_by_url(stdout: str) -> dict[str, str]:
    return {line.rsplit("  ", 1)[-1]: line for line in stdout.splitlines() if "  " in line}


def test_ingest_good_and_bad_urls_in_one_run(site, fixtures_dir, tmp_path):
    page = (fixtures_dir / "seed-same-container.html").read_bytes()
    good = site.add("/news/story", page)
    moved = site.redirect("/old/story", "/news/story", status=301)
    missing = site.url("/gone")
    json_url = site.add("/api/story.json", b'{"title": "x"}', content_type="application/json")
    slow = site.add("/slow", page, delay=3.0)
    db_path = tmp_path / "scrape.db"

    # One request at a time, in order, cleaned in process (`good` is stored before `moved`
    # reaches it), and one attempt each (the slow page is not retried).
    proc = run("ingest", "--db", str(db_path), "--timeout", "0.5", *LOCAL, "--per-host", "1",
               "--workers", "0", "--retries", "1", missing, json_url, slow, good, moved)

    assert proc.returncode == 0, proc.stderr
    out = lines_by_url(proc.stdout)
    assert out[missing].startswith("fetch.http_404") and "HTTP 404" in out[missing]
    assert out[json_url].startswith("fetch.content_type") and "application/json" in out[json_url]
    assert out[slow].startswith("fetch.timeout") and "timed out" in out[slow]
    assert out[good].startswith("new") and TITLE in out[good]
    assert "24 repeated paragraphs removed" in out[good]
    assert out[moved].startswith("unchanged")  # the same article, reached through a redirect
    # Then the counts, the database, and last the run's summary (pipeline/progress.py).
    assert proc.stdout.splitlines()[-2] == f"database: {db_path}"
    assert proc.stdout.splitlines()[-1].startswith("run 1 completed: fetched 5, new 1, ")

    db = sqlite_utils.Database(db_path)
    articles = list(db["articles"].rows)
    assert len(articles) == 1
    assert articles[0]["title"] == TITLE and articles[0]["date"] == "2025-09-10"
    # The page's canonical link names another site than the one that served it: not trusted.
    assert articles[0]["canonical_url"] == good
    fetches = {row["url"]: row for row in db["fetches"].rows}
    assert set(fetches) == {missing, json_url, slow, good, moved}
    for url, outcome in [(missing, "fetch.http_404"), (json_url, "fetch.content_type"),
                         (slow, "fetch.timeout")]:
        row = fetches[url]
        assert row["outcome"] == outcome and row["error"] and row["article_id"] is None
        assert row["fetched_at"] and row["elapsed_ms"] is not None
    assert fetches[missing]["status"] == 404
    assert fetches[moved]["final_url"] == good and fetches[moved]["status"] == 200
    assert fetches[good]["article_id"] == articles[0]["id"]
    assert fetches[good]["bytes"] == len(page)


def test_same_site_canonical_link_keys_the_article(site, fixtures_dir, tmp_path):
    html = (fixtures_dir / "seed-same-container.html").read_text(encoding="utf-8")
    canonical = site.url("/world/story")
    html = html.replace('<link rel="canonical" href="https://news.example.com/news/world/'
                        '2025-09-10-questions-raised-over-unity-of-autocratic-alliance/">',
                        f'<link rel="canonical" href="{canonical}">')
    first = site.add("/world/story", html)
    print_copy = site.add("/print/world/story", html)
    db_path = tmp_path / "x.db"
    proc = run("ingest", "--db", str(db_path), *LOCAL, first + "?utm_source=feed&fbclid=abc",
               print_copy)
    assert proc.returncode == 0, proc.stderr
    db = sqlite_utils.Database(db_path)
    assert [row["canonical_url"] for row in db["articles"].rows] == [canonical]
    assert db["fetches"].count == 2


def test_reingest_updates_instead_of_adding(site, fixtures_dir, tmp_path):
    url = site.add("/a", (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes())
    db_path = tmp_path / "x.db"
    assert run("ingest", "--db", str(db_path), *LOCAL, url).returncode == 0
    edited = (fixtures_dir / "seed-sibling-paragraphs.html").read_text(encoding="utf-8")
    site.add("/a", edited.replace("optics do matter", "optics matter a great deal"))
    proc = run("ingest", "--db", str(db_path), *LOCAL, url)
    assert proc.stdout.startswith("updated")
    db = sqlite_utils.Database(db_path)
    assert db["articles"].count == 1
    assert "optics matter a great deal" in next(iter(db["articles"].rows))["text"]
    assert db["fetches"].count == 2


def test_every_input_failing_exits_non_zero(site, tmp_path):
    proc = run("ingest", "--db", str(tmp_path / "x.db"), *LOCAL, site.url("/nothing-here"))
    assert proc.returncode == 1
    assert "fetch.http_404" in proc.stdout


def test_clean_prints_the_record_as_json(site, fixtures_dir):
    url = site.add("/story", (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes())
    proc = run("clean", *LOCAL, url)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    # Every Article field, under its own name, the promised ones in this order.
    assert list(record) == [f.name for f in dataclasses.fields(Article)]
    promised = ["url", "canonical_url", "title", "description", "author", "date", "sitename",
                "language", "text", "word_count", "content_hash"]
    assert [k for k in record if k in promised] == promised
    assert record["url"] == url
    assert record["title"] == TITLE and record["date"] == "2025-09-10"
    assert record["text"].count("Beyond the bonhomie") == 1
    assert record["word_count"] > 800


def test_clean_local_file_with_original_url_and_text_format(fixtures_dir):
    origin = "https://news.example.com/news/world/2025-09-10-questions-raised-over-unity-of-autocratic-alliance/?utm_source=feed"
    proc = run("clean", str(fixtures_dir / "seed-dump.txt"), "--url", origin)
    record = json.loads(proc.stdout)
    assert record["url"] == origin
    assert record["canonical_url"] == origin.split("?")[0]  # tracking parameters dropped
    proc = run("clean", str(fixtures_dir / "seed-dump.txt"), "--format", "text")
    head, body = proc.stdout.split("\n\n", 1)
    assert head.splitlines() == [TITLE, "Beijing, Moscow and Pyongyang are far from forming a "
                                 "cohesive bloc defying the West, say sources", "2025-09-10"]
    assert body.startswith("Beijing/Seoul/Washington")


def test_clean_reports_a_failure_on_stderr(tmp_path):
    proc = run("clean", str(tmp_path / "missing.html"))
    assert proc.returncode == 1
    assert "fetch.not_found" in proc.stderr and proc.stdout == ""


def make_ingest(*variables: str) -> subprocess.CompletedProcess:
    venv = Path(sys.prefix)
    # -o: treat the venv as built, so the test uses the environment it runs in.
    return subprocess.run(["make", "-s", "-o", f"{venv}/.installed", "ingest", f"VENV={venv}",
                           *variables], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_make_ingest_takes_several_urls_with_shell_characters(site, fixtures_dir, tmp_path):
    page = (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes()
    first = site.add("/a", page) + "?x=1&y=2"
    second = site.add("/b", page.replace(b"optics do matter", b"optics matter"))
    db_path = tmp_path / "x.db"
    # Options go in FLAGS; one request at a time keeps the order, and without robots.txt the
    # server sees only the pages.
    options = " ".join([*LOCAL, "--per-host", "1", "--no-robots"])
    proc = make_ingest(f"URL={first} {second}", f"FLAGS={options}", f"DB={db_path}")
    assert proc.returncode == 0, proc.stderr
    assert site.requests == ["/a?x=1&y=2", "/b"]
    assert sqlite_utils.Database(db_path)["fetches"].count == 2


def test_make_ingest_without_url_ingests_the_samples(tmp_path):
    db_path = tmp_path / "samples.db"
    proc = make_ingest(f"DB={db_path}")
    assert proc.returncode == 0, proc.stderr
    samples = sorted(p.name for p in (ROOT / "data" / "samples").iterdir())
    assert len(samples) >= 3
    # The samples are three renderings of the seed page: one story, so one new article and
    # the others stored as its duplicates (every file keeps its row).
    outcomes = {name: line.split()[0] for name in samples
                for line in proc.stdout.splitlines() if name in line}
    assert sorted(outcomes) == samples
    assert sorted(outcomes.values()) == ["duplicate"] * (len(samples) - 1) + ["new"]
    db = sqlite_utils.Database(db_path)
    assert db["articles"].count == len(samples)
    assert db["unique_articles"].count == 1
