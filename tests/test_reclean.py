"""`scrape reclean`: the stored raw pages cleaned again, without fetching."""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlite_utils

from cleaner import Cleaner
from pipeline.reclean import reclean, stored_pages
from pipeline.run import ingest, tasks_for
from scraper import FetchConfig, Fetcher
from store.pages import unpack
from tests.test_cli import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BODY = (FIXTURES / "seed-expected.txt").read_text(encoding="utf-8").splitlines()[3:]


def html(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}"
            f"</article><footer>Copyright 2025 The Paper. All rights reserved.</footer>"
            f"</body></html>").encode()


def ingested(site, tmp_path) -> Path:
    site.add("/one", html("One", BODY[:12]))
    site.add("/two", html("Two", BODY[12:]))
    site.add("/empty", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    db_path = tmp_path / "x.db"
    with Fetcher(FetchConfig(allow_private=True, delay=0)) as fetcher:
        ingest(tasks_for([site.url(p) for p in ("/one", "/two", "/empty")]), db_path, fetcher,
               Cleaner())
    return db_path


def test_stored_pages_are_the_responses_as_received(site, tmp_path):
    db_path = ingested(site, tmp_path)
    pages = {p.url.rsplit("/", 1)[-1]: p for p in stored_pages(db_path)}
    assert sorted(pages) == ["empty", "one", "two"]
    assert pages["one"].body == html("One", BODY[:12])
    assert pages["one"].status == 200 and pages["one"].content_type == "text/html"
    assert pages["one"].headers["content-type"].startswith("text/html")
    stored = sqlite_utils.Database(db_path)["pages"]
    rows = list(stored.rows)
    assert rows and all(r["body"][:4] == b"\x28\xb5\x2f\xfd" for r in rows)  # zstd frames
    assert all(len(unpack(r["body"])) == r["bytes"] for r in rows)
    assert list(stored_pages(db_path, since="2999-01-01")) == []


def test_reclean_restores_what_the_cleaner_gives_and_counts_the_changes(site, tmp_path):
    db_path = ingested(site, tmp_path)
    db = sqlite_utils.Database(db_path)
    one_url = site.url("/one")
    good = db.execute("SELECT text, title FROM articles WHERE url = ?", [one_url]).fetchone()
    # As an older cleaner might have left it: a footer line kept, another title.
    db.execute("UPDATE articles SET text = text || '\nCopyright 2025 The Paper.', title = 'Old' "
               "WHERE url = ?", [one_url])
    db.conn.commit()
    fetches_before = db["fetches"].count

    summary = reclean(db_path)

    assert summary.counts == {"updated": 1, "unchanged": 1, "failed": 1}
    assert summary.changed == 1
    assert db.execute("SELECT text, title FROM articles WHERE url = ?",
                      [one_url]).fetchone() == good
    assert db["fetches"].count == fetches_before  # nothing fetched, no attempt recorded
    assert db["articles"].count == 2
    # Nothing left to change.
    assert reclean(db_path).counts == {"unchanged": 2, "failed": 1}


def test_a_page_the_cleaner_now_rejects_keeps_its_article(site, tmp_path):
    db_path = ingested(site, tmp_path)
    db = sqlite_utils.Database(db_path)
    two = db.execute("SELECT p.fetch_id, a.text FROM pages p JOIN articles a ON a.url = p.url "
                     "WHERE p.url = ?", [site.url("/two")]).fetchone()
    db.execute("UPDATE pages SET body = ? WHERE fetch_id = ?",
               [zlib.compress(b"<html><body></body></html>"), two[0]])
    db.conn.commit()
    assert reclean(db_path).counts["lost"] == 1
    assert db.execute("SELECT text FROM articles WHERE url = ?",
                      [site.url("/two")]).fetchone()[0] == two[1]


def test_reclean_command(site, tmp_path):
    db_path = ingested(site, tmp_path)
    proc = run("reclean", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "3 stored page(s), changed 0, unchanged 2, failed 1"
    assert run("reclean", "--db", str(tmp_path / "none.db")).returncode == 1
    runs = list(sqlite_utils.Database(db_path)["runs"].rows_where("command = 'reclean'"))
    assert [(r["status"], r["counts"]) for r in runs] == [
        ("completed", '{"failed": 1, "unchanged": 2}')]


def test_reclean_waits_for_no_one_while_a_run_holds_the_lock(site, tmp_path):
    from store.lock import RunLock

    db_path = ingested(site, tmp_path)
    with RunLock(db_path).acquire("a test"):
        proc = run("reclean", "--db", str(db_path))
    assert proc.returncode == 3 and "not started" in proc.stderr
