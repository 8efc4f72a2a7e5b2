"""kind = "site" (pipeline/crawl.py): a crawl from a news site's home page, against a real
site on 127.0.0.1: each kind of page judged, robots.txt, off-site links, pagination, the
frontier kept and resumed after kill -9, and the sources file's checks."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import time
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.test_batch import WORDS, batch, sources_file, spawn

ARTICLES = {n: f"/news/2026/03/{n:02d}/council-story-number-{n}" for n in range(1, 10)}


def prose(seed: int, paragraphs: int = 6) -> str:
    rng = random.Random(seed)
    return "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize()
                   + ".</p>" for _ in range(paragraphs))


def article(n: int, declared: bool) -> bytes:
    head = '<meta property="og:type" content="article">' if declared else ""
    return (f"<html><head><title>Story {n}</title>{head}</head><body>"
            f'<nav><a href="/">Home</a> <a href="/news/">News</a></nav>'
            f"<article><h1>Story {n}</h1>{prose(n)}</article>"
            f'<footer><a href="/about">About</a></footer></body></html>').encode()


def listing(title: str, links: list[str], extra: str = "") -> bytes:
    items = "".join(f'<li><a href="{href}">Headline for {href}</a></li>' for href in links)
    return (f"<html><head><title>{title}</title>{extra}</head><body><h1>{title}</h1>"
            f'<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/about">About</a>'
            f' <a href="/contact">Contact</a></nav><ul>{items}</ul></body></html>').encode()


def service(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>Write to the newsroom.</p></body></html>").encode()


def build_site(site, articles: dict[int, str] = ARTICLES) -> None:
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
            f"<item><link>{site.url('/news/feed-only-story-of-the-week')}</link></item>"
            "</channel></rss>")
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/feed.xml", feed, content_type="application/rss+xml")
    site.add("/", listing("Home", [
        "/news/", "/tag/harbour", "/author/ann", articles[1], "/private/secret-story-here",
        "https://elsewhere.example/news/1", "/files/report.pdf", "mailto:desk@example.com",
        "#top", "/contact"],
        extra='<link rel="alternate" type="application/rss+xml" href="/feed.xml">'))
    site.add("/news/", listing("News", [articles[n] for n in (1, 2, 3)]
                               + ['/news/?page=2" rel="next']))
    site.add("/news/?page=2", listing("News, page 2", [articles[n] for n in (4, 5, 6)]))
    site.add("/tag/harbour", listing("Harbour", [articles[2], articles[7]]))
    site.add("/author/ann", listing("Ann Reporter", [articles[8], articles[9]]))
    for n, path in articles.items():
        site.add(path, article(n, declared=n % 2 == 0))
    site.add("/news/feed-only-story-of-the-week", article(99, declared=True))
    site.add("/private/secret-story-here", article(98, declared=True))
    site.add("/about", service("About us"))
    site.add("/contact", service("Contact"))


def write_sources(tmp_path: Path, site, **fields: object) -> Path:
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') if not isinstance(v, bool)
                    else f"{k} = {str(v).lower()}\n" for k, v in fields.items())
    return sources_file(tmp_path, f'[[source]]\nname = "gazette"\nkind = "site"\n'
                                  f'url = "{site.url("/")}"\n{extra}')


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def outcomes(db: Path, run_id: int | None = None) -> dict[str, str]:
    where = f"WHERE run_id = {run_id}" if run_id else ""
    return {url: outcome for url, outcome in rows(db, f"SELECT url, outcome FROM fetches {where}")}


def test_a_crawl_stores_the_articles_and_records_the_rest(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site, max_depth=3)
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    stored = {url for (url,) in rows(db, "SELECT url FROM articles")}
    assert stored == {site.url(p) for p in ARTICLES.values()} | {
        site.url("/news/feed-only-story-of-the-week")}
    found = outcomes(db)
    for path in ("/", "/news/", "/news/?page=2", "/tag/harbour", "/author/ann"):
        assert found[site.url(path)] == "crawl.listing", path
    for path in ("/about", "/contact"):
        assert found[site.url(path)] == "crawl.not_article", path
    assert found[site.url("/private/secret-story-here")] == "fetch.robots"
    assert site.url("/feed.xml") in found
    # Never fetched: off-site, files, other schemes, fragments, robots.txt's area.
    requested = set(site.paths())
    assert "/files/report.pdf" not in requested and "/private/secret-story-here" not in requested
    skipped = dict(rows(db, "SELECT reason, links FROM frontier_skips"))
    assert skipped["off_site"] >= 1 and skipped["file"] == 1 and skipped["not_http"] == 1
    assert skipped["fragment"] >= 1
    # The frontier knows each page's judgement and depth.
    frontier = {url: (depth, judgement) for url, depth, judgement in rows(
        db, "SELECT url, depth, judgement FROM frontier")}
    assert frontier[site.url("/")] == (0, "listing")
    assert frontier[site.url("/news/")] == (1, "listing")
    assert frontier[site.url("/news/?page=2")] == (1, "listing")  # a next page adds no depth
    assert frontier[site.url(ARTICLES[4])] == (2, "article")
    assert frontier[site.url("/about")][1] == "other"
    # Each page once.
    counts = Counter(site.paths())
    assert max(counts.values()) == 1, counts.most_common(3)


def test_max_depth_bounds_the_crawl_and_a_next_page_adds_no_depth(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site, max_depth=2)
    assert batch(tmp_path) == 0
    stored = {url for (url,) in rows(tmp_path / "x.db", "SELECT url FROM articles")}
    # Articles 4-6 are on the section's second page: depth 2, as those of its first page.
    assert {site.url(ARTICLES[n]) for n in (4, 5, 6)} <= stored
    write_sources(tmp_path, site, max_depth=1)
    assert batch(tmp_path, db=tmp_path / "shallow.db") == 0
    shallow = {url for (url,) in rows(tmp_path / "shallow.db", "SELECT url FROM articles")}
    assert site.url(ARTICLES[1]) in shallow  # linked from the home page
    assert site.url(ARTICLES[4]) not in shallow


def test_the_next_run_fetches_the_listings_and_the_new_articles_only(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    before = len(site.paths())
    new = {10: "/news/2026/03/10/council-story-number-10",
           11: "/news/2026/03/11/council-story-number-11"}
    for n, path in new.items():
        site.add(path, article(n, declared=True))
    site.add("/news/", listing("News", [*new.values(), ARTICLES[1], ARTICLES[2]]
                               + ['/news/?page=2" rel="next']))
    assert batch(tmp_path) == 0
    second = site.paths()[before:]
    assert set(second) == {"/", "/news/", "/news/?page=2", "/tag/harbour", "/author/ann",
                           "/feed.xml", *new.values()}, sorted(second)
    stored = {url for (url,) in rows(tmp_path / "x.db", "SELECT url FROM articles")}
    assert {site.url(p) for p in new.values()} <= stored


def test_max_age_hours_fetches_stored_articles_again(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site, max_age_hours=0)
    assert batch(tmp_path) == 0
    before = len(site.paths())
    assert batch(tmp_path) == 0
    assert set(ARTICLES.values()) <= set(site.paths()[before:])


def test_allow_deny_and_the_registrable_domain(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site, deny=["/tag/", "number-3$"], allow=["/news/", "/author/"])
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    stored = {url for (url,) in rows(db, "SELECT url FROM articles")}
    assert site.url(ARTICLES[3]) not in stored and site.url(ARTICLES[7]) not in stored
    assert site.url(ARTICLES[8]) in stored
    skipped = dict(rows(db, "SELECT reason, links FROM frontier_skips"))
    assert skipped["denied"] >= 2 and skipped["not_allowed"] >= 1


def test_kill_9_mid_crawl_then_rerun_loses_nothing_and_refetches_nothing_committed(
        tmp_path, site):
    build_site(site)
    for path in ARTICLES.values():  # slow articles: the kill lands mid-crawl
        site.routes[path].delay = 1.0
    write_sources(tmp_path, site)
    process = spawn(tmp_path)
    db = tmp_path / "x.db"
    deadline = time.monotonic() + 30
    committed: list[str] = []
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                committed = [u for (u,) in rows(db, "SELECT url FROM articles")]
            except sqlite3.OperationalError:
                continue
            if committed:
                break
    assert committed, "nothing committed before the deadline"
    process.send_signal(signal.SIGKILL)
    process.wait()
    committed = [u for (u,) in rows(db, "SELECT url FROM articles")]
    assert len(committed) < len(ARTICLES) + 1  # killed before the end
    before = len(site.paths())
    assert batch(tmp_path) == 0
    again = {site.url(p) for p in site.paths()[before:]}
    assert not again & set(committed)
    stored = {url for (url,) in rows(db, "SELECT url FROM articles")}
    assert stored == {site.url(p) for p in ARTICLES.values()} | {
        site.url("/news/feed-only-story-of-the-week")}


@pytest.mark.parametrize("fields, message", [
    ("max_depth = -1\n", "max_depth must be"),
    ('deny = ["(unclosed"]\n', "bad deny pattern '(unclosed'"),
    ('allow = ["[z-a]"]\n', "bad allow pattern '[z-a]'"),
    ("domain = 3\n", "domain must be true"),
])
def test_bad_site_options_are_clear_errors_at_check(tmp_path, capsys, fields, message):
    sources_file(tmp_path, '[[source]]\nname = "s"\nkind = "site"\n'
                           f'url = "https://gazette.example/"\n{fields}')
    assert batch(tmp_path, "--check") == 2
    err = capsys.readouterr().err
    assert message in err and "sources.toml:" in err


def test_site_fields_belong_to_site_sources(tmp_path, capsys):
    sources_file(tmp_path, '[[source]]\nname = "s"\nkind = "feed"\n'
                           'url = "https://gazette.example/feed"\nmax_depth = 2\n')
    assert batch(tmp_path, "--check") == 2
    assert "max_depth is for a source of kind 'site'" in capsys.readouterr().err


def test_seeds_are_deterministic():
    assert zlib.crc32(prose(1).encode()) == zlib.crc32(prose(1).encode())


def test_ingest_site_crawls_by_hand_and_goes_on_from_its_frontier(tmp_path, site):
    from pipeline.cli import main
    from tests.test_cli import LOCAL

    build_site(site)
    db = tmp_path / "hand.db"
    assert main(["ingest", "--site", site.url("/"), "--db", str(db), *LOCAL]) == 0
    stored = {url for (url,) in rows(db, "SELECT url FROM articles")}
    assert site.url(ARTICLES[4]) in stored and len(stored) == len(ARTICLES) + 1
    assert {s for (s,) in rows(db, "SELECT DISTINCT source FROM frontier")} == {
        f"site:{site.url('/')}"}
    before = len(site.paths())
    assert main(["ingest", "--site", site.url("/"), "--db", str(db), *LOCAL]) == 0
    assert not set(site.paths()[before:]) & set(ARTICLES.values())
    assert main(["ingest", "--site", site.url("/"), "--max-depth", "1", "--max-pages", "2",
                 "--db", str(tmp_path / "two.db"), *LOCAL]) == 0
    assert len(rows(tmp_path / "two.db", "SELECT id FROM fetches WHERE outcome != "
                                         "'source.read'")) == 2


@pytest.mark.parametrize("args, message", [
    (["--site", "ftp://x.example/"], "--site start URL 'ftp://x.example/'"),
    (["--site", "https://x.example/", "https://y.example/a"], "--site crawls a site"),
    (["https://y.example/a", "--max-depth", "2"], "--max-depth and --max-pages are for --site"),
    (["--site", "https://x.example/", "--max-depth", "-1"], "--max-depth"),
])
def test_ingest_site_usage(tmp_path, capsys, args, message):
    from pipeline.cli import main

    with pytest.raises(SystemExit) if "-1" in args else contextlib.nullcontext():
        assert main(["ingest", *args, "--db", str(tmp_path / "u.db")]) == 2
    assert message in capsys.readouterr().err



def test_the_sitemaps_of_robots_txt_are_read_first(tmp_path, site):
    from tests.test_batch import urlset

    build_site(site)
    hidden = "/news/only-in-the-sitemap-story"
    site.add(hidden, article(77, declared=True))
    site.add("/robots.txt", f"User-agent: *\nDisallow: /private/\n"
                            f"Sitemap: {site.url('/sitemap.xml')}\n"
                            f"Sitemap: https://elsewhere.example/sitemap.xml\n",
             content_type="text/plain")
    site.add("/sitemap.xml", urlset([site.url(hidden), "https://elsewhere.example/a"]),
             content_type="application/xml")
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    assert site.url(hidden) in {url for (url,) in rows(db, "SELECT url FROM articles")}
    found = outcomes(db)
    assert found[site.url("/sitemap.xml")] == "source.read"
    assert "https://elsewhere.example/sitemap.xml" not in found
    assert dict(rows(db, f"SELECT url, depth FROM frontier WHERE url = '{site.url(hidden)}'")) \
        == {site.url(hidden): 1}


def test_the_queue_is_bounded_and_the_rest_waits_in_the_frontier(tmp_path, site, monkeypatch):
    from pipeline import crawl

    monkeypatch.setattr(crawl, "MAX_QUEUED", 4)
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    fetched = rows(db, "SELECT count(*) FROM frontier WHERE judgement IS NOT NULL")[0][0]
    waiting = rows(db, "SELECT count(*) FROM frontier WHERE judgement IS NULL")[0][0]
    assert fetched == 4 and waiting > 0
    for _ in range(6):  # each run takes the next ones from the frontier
        assert batch(tmp_path) == 0
    stored = {url for (url,) in rows(db, "SELECT url FROM articles")}
    assert {site.url(p) for p in ARTICLES.values()} <= stored


def test_lasting_failures_are_not_asked_for_again_and_passing_ones_are(tmp_path, site):
    build_site(site)
    site.add("/news/", listing("News", ["/news/gone-for-good-story", "/news/busy-server-story"]))
    site.add("/news/gone-for-good-story", "gone", status=404, content_type="text/plain")
    site.add("/news/busy-server-story", "busy", status=503, content_type="text/plain")
    write_sources(tmp_path, site)
    assert batch(tmp_path, "--retries", "1") == 0
    db = tmp_path / "x.db"
    judged = dict(rows(db, "SELECT url, judgement FROM frontier"))
    assert judged[site.url("/news/gone-for-good-story")] == "failed"
    assert judged[site.url("/news/busy-server-story")] is None
    assert judged[site.url("/private/secret-story-here")] == "failed"  # robots.txt
    before = len(site.paths())
    assert batch(tmp_path, "--retries", "1") == 0
    second = site.paths()[before:]
    assert "/news/busy-server-story" in second and "/news/gone-for-good-story" not in second


def test_a_page_takes_the_smallest_depth_it_is_found_at(tmp_path, site):
    build_site(site)
    deep = "/news/2026/02/01/story-on-the-third-page"
    site.add(deep, article(50, declared=True))
    # The section's first page links its third page by number (one deeper) before the
    # second page's "next" reaches it at the first page's depth.
    site.add("/news/", listing("News", [ARTICLES[1], "/news/?page=3"]
                               + ['/news/?page=2" rel="next']))
    site.add("/news/?page=2", listing("News, page 2", [ARTICLES[4]]
                                      + ['/news/?page=3" rel="next']))
    site.add("/news/?page=3", listing("News, page 3", [deep]))
    write_sources(tmp_path, site, max_depth=2)
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    assert site.url(deep) in {url for (url,) in rows(db, "SELECT url FROM articles")}
    depths = dict(rows(db, "SELECT url, depth FROM frontier"))
    assert depths[site.url("/news/?page=3")] == 1 and depths[site.url(deep)] == 2


def test_robots_txt_is_read_once_for_its_rules_and_its_sitemaps(tmp_path, site):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    assert site.requests.count("/robots.txt") == 1
