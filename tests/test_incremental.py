"""Incremental runs and sources through the CLI: conditional requests, --max-age, sitemaps,
feeds and URL files, against a real server on 127.0.0.1."""

from __future__ import annotations

import gzip
from http.server import BaseHTTPRequestHandler

from store import History
from store.db import db_file
from tests.test_cli import LOCAL, run


def etag_page(body: bytes, etag: str):
    """A handler answering 304 when the client sends the page's ETag back."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            request.send_response(304)
            request.send_header("ETag", etag)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("ETag", etag)
        request.send_header("Last-Modified", "Wed, 10 Sep 2025 05:00:00 GMT")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handle


def test_second_run_asks_only_if_changed_and_a_304_costs_no_cleaning(site, fixtures_dir,
                                                                    fresh_db):
    body = (fixtures_dir / "seed-same-container.html").read_bytes()
    url = site.handle("/story", etag_page(body, '"v1"'))
    db_path = db_file(fresh_db)
    first = run("ingest", *LOCAL, "--db", str(db_path), url)
    assert first.returncode == 0 and first.stdout.startswith("new"), first.stdout
    # What the second run asks with: the validators of the last good fetch.
    history = History(fresh_db)
    last = history.last_good_fetch(url)
    history.close()
    assert last is not None and last.etag == '"v1"'
    assert last.last_modified == "Wed, 10 Sep 2025 05:00:00 GMT"
    second = run("ingest", *LOCAL, "--db", str(db_path), url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("not_modified")
    db = fresh_db
    rows = list(db["fetches"].rows_where(order_by="id"))
    assert [r["outcome"] for r in rows] == ["new", "not_modified"]
    assert rows[0]["etag"] == '"v1"' and rows[0]["last_modified"].startswith("Wed, 10 Sep")
    assert rows[1]["status"] == 304 and rows[1]["article_id"] == rows[0]["article_id"]
    assert db["articles"].count == 1


def test_max_age_skips_recent_pages_without_a_request(site, fixtures_dir, fresh_db):
    url = site.add("/story", (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes())
    db_path = db_file(fresh_db)
    assert run("ingest", *LOCAL, "--db", str(db_path), url).returncode == 0
    before = len(site.paths())
    proc = run("ingest", *LOCAL, "--db", str(db_path), "--max-age", "24", url)
    assert proc.returncode == 0
    assert proc.stdout.startswith("skipped.fresh") and "--max-age 24" in proc.stdout
    assert len(site.paths()) == before  # not fetched again
    outcomes = [r["outcome"] for r in fresh_db["fetches"].rows]
    assert outcomes == ["new", "skipped.fresh"]


def test_sitemap_index_feed_and_url_file_expand_to_their_pages(site, fixtures_dir, tmp_path,
                                                               fresh_db):
    page = (fixtures_dir / "seed-sibling-paragraphs.html").read_bytes()
    for name in ("a", "b", "c", "d"):
        site.add(f"/news/{name}", page.replace(b"optics do matter", f"optics {name}".encode()))
    urlset = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<url><loc>{site.url("/news/a")}</loc></url>'
        f'<url><loc>{site.url("/news/b")}?utm_source=sitemap</loc></url></urlset>'
    )
    site.add("/sitemap-news.xml.gz", gzip.compress(urlset.encode()),
             content_type="application/gzip")
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{site.url("/sitemap-news.xml.gz")}</loc></sitemap></sitemapindex>'
    )
    sitemap = site.add("/sitemap.xml", index, content_type="application/xml")
    feed = site.add("/feed", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f'<item><link>{site.url("/news/b")}</link></item>'  # also in the sitemap: once
        f'<item><link>{site.url("/news/c")}</link></item></channel></rss>'
    ), content_type="application/rss+xml")
    listing = tmp_path / "more.txt"
    listing.write_text(f"# extra\n{site.url('/news/d')}\n")
    db_path = db_file(fresh_db)

    proc = run("ingest", *LOCAL, "--db", str(db_path), sitemap, feed, "--urls", str(listing))

    assert proc.returncode == 0, proc.stderr
    db = fresh_db
    assert db["articles"].count == 4
    rows = list(db["fetches"].rows)

    def name(url: str) -> str:
        return url.rsplit("/", 1)[-1].split("?")[0]

    # Each page once, though /news/b is in the sitemap (with a tracking parameter) and the feed.
    # (The four pages are one story, edited: one is new, the others its duplicates.)
    stored = [r for r in rows if r["outcome"] in ("new", "duplicate")]
    assert sorted(name(r["url"]) for r in stored) == ["a", "b", "c", "d"]
    assert sorted(r["outcome"] for r in stored) == ["duplicate"] * 3 + ["new"]
    sources = {name(r["url"]): r["source"] for r in stored}
    assert sources["a"].startswith("sitemap:") and sources["c"].startswith("feed:")
    assert sources["d"] == f"file:{listing}"
    reads = sorted(r["url"] for r in rows if r["outcome"] == "source.read")
    assert reads == sorted([sitemap, site.url("/sitemap-news.xml.gz"), feed])
