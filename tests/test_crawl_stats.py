"""A site crawl's figures (store/site_stats.py) at the end of a run (pipeline/progress.py) and
in `scrape stats` (pipeline/stats_text.py), against the loopback site of tests/test_crawl.py:
each figure as the database holds it and as the site has it."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from pipeline.cli import main
from pipeline.stats_text import FIGURE_NAMES
from store.site_stats import SITE_FIGURES
from tests.test_batch import batch, sources_file
from tests.test_cli import LOCAL
from tests.test_crawl import ARTICLES, build_site, rows, write_sources

LISTINGS = ("/", "/news/", "/news/?page=2", "/tag/harbour", "/author/ann")
# What the site has: the home page's one off-site link, the articles it links (and the one
# only its feed names), its listings, its about and contact pages, robots.txt's one refusal.
EXPECTED = {"new": len(ARTICLES) + 1, "listings": len(LISTINGS), "not_articles": 2,
            "robots": 1, "off_site": 1}


def held(db: Path, source: str, run_id: int) -> dict[str, int]:
    """The figures as the database's rows hold them, counted another way than the code."""
    outcomes = dict(rows(db, f"SELECT outcome, count(*) FROM fetches WHERE source = '{source}' "
                             f"AND run_id = {run_id} GROUP BY outcome"))
    listed = {url for (url,) in rows(db, f"SELECT url FROM frontier WHERE source = '{source}' "
                                         "AND judgement = 'listing'")}
    answered_304 = [url for (url,) in rows(db, f"SELECT url FROM fetches WHERE run_id = "
                                               f"{run_id} AND outcome = 'not_modified'")]
    skips = dict(rows(db, f"SELECT reason, links FROM frontier_skips WHERE source = "
                          f"'{source}' AND run_id = {run_id}"))
    return {"fetched": sum(outcomes.values()), "new": outcomes.get("new", 0),
            "listings": outcomes.get("crawl.listing", 0) + sum(u in listed for u in answered_304),
            "not_articles": outcomes.get("crawl.not_article", 0),
            "robots": outcomes.get("fetch.robots", 0), "off_site": skips.get("off_site", 0)}


def line_of(figures: dict[str, int], source: str = "gazette") -> str:
    return (f"site {source}: fetched {figures['fetched']}, new {figures['new']}, listings "
            f"{figures['listings']}, not articles {figures['not_articles']}, robots "
            f"{figures['robots']}, off-site links {figures['off_site']}")


def stats(capsys, db: Path, *args: str) -> str:
    capsys.readouterr()
    assert main(["stats", "--db", str(db), *args]) == 0
    return capsys.readouterr().out


def test_the_run_prints_a_line_per_site_with_what_the_database_holds(tmp_path, site, capsys):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    lines = capsys.readouterr().out.splitlines()
    figures = held(tmp_path / "x.db", "gazette", 1)
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    # Every page the crawl asked for: those counted, and the feed, read first (robots.txt is
    # the fetcher's own read, shared with every fetch).
    reads = {url for (url,) in rows(tmp_path / "x.db", "SELECT url FROM fetches WHERE "
                                                       "outcome = 'source.read'")}
    assert reads == {site.url("/feed.xml")}
    assert figures["fetched"] == sum(EXPECTED.values()) - EXPECTED["off_site"] + len(reads)
    site_lines = [line for line in lines if line.startswith("site ")]
    assert site_lines == [line_of(figures)]
    assert lines.index(site_lines[0]) == len(lines) - 3  # then "database: ...", the run's line


def test_the_json_summary_has_the_sites_figures(tmp_path, site, capsys):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path, "--log-json") == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["sites"] == {"gazette": held(tmp_path / "x.db", "gazette", 1)}
    assert list(summary["sites"]["gazette"]) == list(SITE_FIGURES)


def conditional(site, path: str) -> None:
    """Serve `path` as it is, with an ETag, and a 304 to a request that sends it back."""
    route = site.routes[path]

    def answer(request: BaseHTTPRequestHandler) -> None:
        fresh = request.headers.get("If-None-Match") == '"v1"'
        request.send_response(304 if fresh else 200)
        for name, value in route.headers.items():
            request.send_header(name, value)
        request.send_header("ETag", '"v1"')
        request.send_header("Content-Length", "0" if fresh else str(len(route.body)))
        request.end_headers()
        if not fresh:
            request.wfile.write(route.body)

    site.handle(path, answer)


def test_listings_answered_304_count_as_listings_on_the_next_run(tmp_path, site, capsys):
    build_site(site)
    for path in LISTINGS:
        conditional(site, path)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    capsys.readouterr()
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    # The listings again, each answered 304 (their links are known) but the start page, asked
    # for in full (its feeds are read from it); whatever else the crawl asks for again (what
    # it read for links, a refusal) is counted as fetched.
    assert {url: outcome for url, outcome in rows(
        db, "SELECT url, outcome FROM fetches WHERE run_id = 2 AND outcome NOT IN "
            "('source.read', 'fetch.robots')")} == {
        site.url(p): "crawl.listing" if p == "/" else "not_modified" for p in LISTINGS}
    (others,) = rows(db, "SELECT count(*) FROM fetches WHERE run_id = 2 AND outcome IN "
                         "('source.read', 'fetch.robots')")[0]
    figures = held(db, "gazette", 2)
    assert figures == {"fetched": 5 + others, "new": 0, "listings": 5, "not_articles": 0,
                       "robots": figures["robots"], "off_site": 1}  # the start page's
    assert [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("site ")] == [line_of(figures)]


def test_stats_shows_each_sites_last_run_and_frontier(tmp_path, site, capsys):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    db = tmp_path / "x.db"
    judged = dict(rows(db, "SELECT judgement, count(*) FROM frontier WHERE judgement IS NOT "
                           "NULL GROUP BY judgement ORDER BY judgement"))
    assert {k: judged[k] for k in ("article", "listing", "other")} == {
        "article": len(ARTICLES) + 1, "listing": 5, "other": 2}
    (not_fetched,) = rows(db, "SELECT count(*) FROM frontier WHERE judgement IS NULL")[0]
    figures = held(db, "gazette", 1)
    [entry] = json.loads(stats(capsys, db, "--json"))["sites"]
    assert entry == {"source": "gazette", "run_id": 1, "figures": figures,
                     "frontier": {"known": sum(judged.values()) + not_fetched,
                                  "not_fetched": not_fetched, "judged": judged}}
    lines = stats(capsys, db).splitlines()
    at = lines.index("sites (the last run of each; the URLs their crawls have found):")
    assert lines[at + 1] == (
        f"  gazette: run #1: {line_of(figures).removeprefix('site gazette: ')}; frontier: "
        f"{entry['frontier']['known']} URLs known ("
        + ", ".join(f"{k} {v}" for k, v in judged.items())
        + f"), {not_fetched} not fetched yet")
    assert "article 10, " in lines[at + 1] and "listing 5, other 2" in lines[at + 1]
    assert lines[-1].startswith("last run: #1 batch completed")


def test_stats_shows_the_last_run_that_crawled_the_site(tmp_path, site, capsys):
    build_site(site)
    write_sources(tmp_path, site)
    assert batch(tmp_path) == 0
    assert batch(tmp_path) == 0
    [entry] = json.loads(stats(capsys, tmp_path / "x.db", "--json"))["sites"]
    assert entry["run_id"] == 2 and entry["figures"] == held(tmp_path / "x.db", "gazette", 2)
    assert entry["figures"]["new"] == 0


def test_only_site_sources_have_a_line(tmp_path, site, capsys):
    build_site(site)
    site.add("/feed-source.xml", '<?xml version="1.0"?><rss version="2.0"><channel>'
             f"<item><link>{site.url(ARTICLES[1])}</link></item></channel></rss>",
             content_type="application/rss+xml")
    sources_file(tmp_path, f'[[source]]\nname = "wire"\nkind = "feed"\n'
                           f'url = "{site.url("/feed-source.xml")}"\n')
    assert batch(tmp_path, "--log-json") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["sites"] == {}
    assert json.loads(stats(capsys, tmp_path / "x.db", "--json"))["sites"] == []
    assert "sites" not in stats(capsys, tmp_path / "x.db")


def test_ingest_site_has_its_line_without_a_sources_row(tmp_path, site, capsys):
    build_site(site)
    db = tmp_path / "hand.db"
    assert main(["ingest", "--site", site.url("/"), "--db", str(db), *LOCAL]) == 0
    name = f"site:{site.url('/')}"
    assert rows(db, "SELECT name FROM sources") == []
    figures = held(db, name, 1)
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    assert [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("site ")] == [line_of(figures, name)]
    assert [e["source"] for e in json.loads(stats(capsys, db, "--json"))["sites"]] == [name]


def test_every_figure_has_its_name_in_the_lines():
    assert list(FIGURE_NAMES) == list(SITE_FIGURES)
