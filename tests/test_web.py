"""The reader (pipeline/web): its pages over HTTP from a real server on a loopback port
(tests/reader.py), on a database written through store.Store; its reads and rendering; the
store's search filters; that it only reads. tests/test_web_browser.py drives the same pages
in Chromium."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from pipeline.web import reads
from pipeline.web.render import body_html, markdown_parser, snippet_html
from records import Article, Page, Result
from store import Store, open_db
from store.query import Filters, latest, search, search_statement
from store.runs import finish_run, start_run
from tests.reader import serve

MARKDOWN = """# Tide tables for the estuary

The harbour master published the **new** tide tables for the estuary on Monday.

## What changes

- Ferries leave earlier
- Moorings cost more

> We had no choice, said the harbour master.

| Day | High water |
| --- | --- |
| Monday | 06:12 |

![The quay at dawn](https://cdn.example.com/quay.jpg)

See [the notice](https://harbour.example.com/notice) and [this](javascript:alert(1)).
"""
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> Harbour'


def article(slug: str, title: str, text: str, **kw: object) -> Article:
    url = f"https://news.example.com/{slug}"
    base: dict[str, object] = {
        "url": url, "canonical_url": url, "title": title, "text": text,
        "word_count": len(text.split()), "content_hash": f"hash-{slug}", "date": "2026-01-10",
        "sitename": "Example News", "language": "en",
        "fetched_at": "2026-01-10T08:00:00+00:00"}
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


def page(url: str, source: str, **kw: object) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html", body=b"<p>x</p>",
                bytes=8, fetched_at="2026-01-10T08:00:00+00:00", source=source,
                **kw)  # type: ignore[arg-type]


TIDE_TEXT = ("The harbour master published the new tide tables for the estuary on Monday.\n"
             "What changes\nFerries leave earlier\nMoorings cost more\n"
             "We had no choice, said the harbour master.")
FERRY = "The island ferry will run every twenty minutes from March and hourly at night."
ARTICLES = {
    "tide": article("tide", "Tide tables for the estuary", TIDE_TEXT, markdown=MARKDOWN,
                    description="New times from Monday", author="Ann Reporter"),
    "ferry": article("ferry", "Island ferry timetable", FERRY, content_hash="hash-ferry"),
    "copy": article("copy", "Island ferry timetable (wire)", FERRY, content_hash="hash-ferry",
                    url="https://wire.example.org/ferry",
                    canonical_url="https://wire.example.org/ferry", sitename="Wire"),
    "french": article("french", "La marée d'équinoxe", "La marée d'équinoxe arrive au port.",
                      language="fr", sitename="Le Port", date="2025-03-20"),
    "hostile": article("hostile", HOSTILE, "A hostile headline about the harbour wall.",
                       sitename="<b>Bold</b> site"),
    "old": article("old", "Pier lights before markdown", "First line of the pier.\nSecond "
                   "line of the pier.", date="2024-12-01"),
}
# Enough stories with one word for three pages of results.
MANY = {f"gull{n}": article(f"gull{n}", f"Gull count {n}", f"The gull census counted {n} "
                            f"gulls on the breakwater.", date=f"2026-02-{n % 28 + 1:02d}",
                            sitename="Gull Weekly")
        for n in range(45)}


def build(path: Path) -> dict[str, int]:
    """ARTICLES and MANY stored through Store in a recorded run from two sources, with two
    failed fetches; returns article ids by key."""
    ids = {}
    db = open_db(path)
    run_id = start_run(db, "batch", {"sources": "test"})
    with Store(db) as store:
        store.run_id = run_id
        for key, a in {**ARTICLES, **MANY}.items():
            source = "gulls" if key.startswith("gull") else "harbour"
            stored = dataclasses.replace(a, tags=["coast"])
            ids[key] = store.write(Result(page=page(a.url, source), article=stored)).article_id
        for n in (1, 2):
            bad = Page(url=f"https://news.example.com/gone{n}", status=404,
                       error="HTTP 404 Not Found", outcome="fetch.http_404",
                       fetched_at="2026-01-10T08:00:00+00:00", source="harbour")
            store.write(Result(page=bad, outcome=bad.outcome, error=bad.error))
    finish_run(db, run_id, "completed", {"new": len(ids), "fetch.http_404": 2})
    # The markdown column of an article stored before it existed.
    db.execute("UPDATE articles SET markdown = NULL WHERE id = ?", [ids["old"]])
    db.conn.commit()
    db.close()
    return ids


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("web") / "archive.db"
    return path, build(path)


@pytest.fixture(scope="module")
def base(archive):
    with serve(archive[0]) as url:
        yield url


def get(base: str, path: str, status: int = 200) -> str:
    response = httpx.get(base + path, timeout=30)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    return response.text


def hit_ids(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<h3><a href="/articles/(\d+)">', text)]


# /search

def test_a_word_of_the_body_finds_the_article_with_a_marked_snippet(base, archive):
    _, ids = archive
    text = get(base, "/search?q=moorings")
    assert hit_ids(text) == [ids["tide"]]
    assert "Tide tables for the estuary" in text
    assert "<mark>Moorings</mark>" in text
    assert "source harbour" in text


def test_unique_stories_by_default_with_their_copies_and_every_copy_on_request(base, archive):
    _, ids = archive
    text = get(base, "/search?q=ferry")
    assert hit_ids(text) == [ids["ferry"]]
    assert "1 copy" in text
    every = get(base, "/search?q=ferry&copies=all")
    assert sorted(hit_ids(every)) == sorted([ids["ferry"], ids["copy"]])
    assert f"a copy of <a href=\"/articles/{ids['ferry']}\">" in every


@pytest.mark.parametrize("params, keys", [
    ("site=Le+Port", ["french"]),
    ("language=fr", ["french"]),
    ("from=2025-01-01&to=2025-12-31", ["french"]),
    ("source=gulls", []),
    ("source=harbour&to=2024-12-31", ["old"]),
])
def test_filters_narrow_the_results(base, archive, params, keys):
    _, ids = archive
    # Every article but the gulls' mentions one of these words.
    text = get(base, "/search?q=harbour+OR+port+OR+pier+OR+ferry+OR+marée&syntax=fts&"
               + params)
    assert sorted(hit_ids(text)) == sorted(ids[k] for k in keys)


def test_results_come_in_pages_of_twenty(base, archive):
    _, ids = archive
    gulls = {ids[k] for k in MANY}
    pages = [hit_ids(get(base, f"/search?q=gull&page={n}")) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [20, 20, 5]
    assert set().union(*pages) == gulls
    first = get(base, "/search?q=gull")
    assert 'rel="next" href="?q=gull&amp;page=2"' in first and 'rel="prev"' not in first
    last = get(base, "/search?q=gull&page=3")
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_plain_words_by_default_and_fts5_syntax_as_an_option(base, archive):
    _, ids = archive
    # As plain words, OR is a word the articles do not hold: nothing matches.
    assert hit_ids(get(base, "/search?q=moorings+OR+équinoxe")) == []
    either = hit_ids(get(base, "/search?q=moorings+OR+équinoxe&syntax=fts"))
    assert sorted(either) == sorted([ids["tide"], ids["french"]])
    # Accents are folded either way.
    assert hit_ids(get(base, "/search?q=equinoxe")) == [ids["french"]]


def test_a_query_fts5_cannot_parse_is_searched_as_plain_words_with_a_note(base, archive):
    _, ids = archive
    text = get(base, "/search?q=" + httpx.QueryParams({"q": "d'équinoxe"})["q"]
               + "&syntax=fts")
    assert "searched as plain words" in text
    assert hit_ids(text) == [ids["french"]]


def test_a_query_over_the_bounds_is_an_error_on_the_page(base):
    text = get(base, "/search?q=" + "+".join(["a*"] * 9) + "&syntax=fts", status=400)
    assert "narrow the query" in text
    assert hit_ids(text) == []


def test_bad_parameters_are_noted_and_ignored(base, archive):
    _, ids = archive
    text = get(base, "/search?q=moorings&from=yesterday&page=x")
    assert "&#39;from&#39; is not a date" in text and "is not a number" in text
    assert hit_ids(text) == [ids["tide"]]


def test_without_words_the_latest_articles_are_listed(base, archive):
    _, ids = archive
    text = get(base, "/")
    assert "Latest articles" in text
    assert hit_ids(text)[0] == max(ids.values())
    assert hit_ids(get(base, "/search?language=fr")) == [ids["french"]]


def test_the_filters_offer_the_stored_values(base):
    text = get(base, "/search")
    assert '<option value="Le Port">Le Port (1)</option>' in text
    assert '<option value="gulls">gulls (45)</option>' in text
    assert '<option value="fr">fr (1)</option>' in text


# /articles/ID

def test_the_article_page_renders_the_markdown(base, archive):
    _, ids = archive
    text = get(base, f"/articles/{ids['tide']}")
    assert "<h1>Tide tables for the estuary</h1>" in text
    assert text.count("Tide tables for the estuary</h1>") == 1  # the headline once
    assert '<p class="standfirst">New times from Monday</p>' in text
    assert "By Ann Reporter" in text and "2026-01-10" in text and "Example News" in text
    assert "<h2>What changes</h2>" in text
    assert "<li>Ferries leave earlier</li>" in text
    assert "<blockquote>" in text and "<th>High water</th>" in text
    assert "<strong>new</strong>" in text
    assert 'href="https://news.example.com/tide"' in text
    assert f'/archive/articles/{ids["tide"]}.json' in text  # the raw JSON
    assert f'href="/archive/articles/{ids["tide"]}"' in text  # the row in Datasette


def test_images_are_links_and_javascript_links_are_not_rendered(base, archive):
    _, ids = archive
    text = get(base, f"/articles/{ids['tide']}")
    assert "<img" not in text.split('<div class="body">')[1].split("</div>")[0]
    assert 'href="https://cdn.example.com/quay.jpg"' in text
    assert "[image: The quay at dawn]" in text
    assert 'href="https://harbour.example.com/notice" rel="nofollow noreferrer"' in text
    assert 'href="javascript:' not in text


def test_an_article_without_markdown_shows_its_text_as_paragraphs(base, archive):
    _, ids = archive
    text = get(base, f"/articles/{ids['old']}")
    assert "<p>First line of the pier.</p>" in text and "<p>Second line of the pier.</p>" in text


def test_the_copies_are_listed_with_their_similarity(base, archive):
    _, ids = archive
    text = get(base, f"/articles/{ids['ferry']}")
    assert "Also published at" in text
    assert f'<a href="/articles/{ids["copy"]}">Wire</a>' in text
    assert "similarity 1.00 (exact)" in text
    copy = get(base, f"/articles/{ids['copy']}")
    assert "This story is a copy" in copy
    assert f'<a href="/articles/{ids["ferry"]}">Example News</a>' in copy
    assert "the canonical article" in copy


def test_a_missing_article_is_a_404_page(base):
    assert "No article 999999" in get(base, "/articles/999999", status=404)


def test_every_value_is_escaped(base, archive):
    _, ids = archive
    for path in (f"/articles/{ids['hostile']}", "/search?q=hostile", "/search?q=wall",
                 "/search?q=" + httpx.QueryParams({"q": HOSTILE})["q"]):
        text = get(base, path)
        assert "<script>alert" not in text and "<img src=x" not in text, path
    text = get(base, f"/articles/{ids['hostile']}")
    assert f"<h1>{escape(HOSTILE)}</h1>" in text
    assert "&lt;b&gt;Bold&lt;/b&gt; site" in text


# /health

def test_health_shows_each_source_its_runs_and_its_failures(base, archive):
    text = get(base, "/health")
    harbour = text.split("<h2>Source harbour</h2>")[1].split("</section>")[0]
    row = re.sub(r"\s+", " ", harbour.split("<tr><td>1</td>")[1].split("</tr>")[0])
    # run 1, batch, started, completed, duration, fetched 8 (6 articles + 2 failures), new 5
    # (the wire copy is a duplicate), updated 0, failures by outcome
    cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>1</td>" + row)
    assert cells[1] == "batch" and cells[3] == "completed"
    assert cells[5:8] == ["8", "5", "0"]
    assert "fetch.http_404: 2" in cells[8]
    assert "https://news.example.com/gone1" in harbour and "HTTP 404 Not Found" in harbour
    gulls = text.split("<h2>Source gulls</h2>")[1].split("</section>")[0]
    assert "Nothing failed in its last run." in gulls
    assert '<table class="runs">' in text


def test_health_reads(archive):
    path, _ = archive
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found = reads.health(conn)
    assert [s["name"] for s in found["sources"]] == ["gulls", "harbour"]
    harbour = found["sources"][1]
    assert harbour["runs"][0]["failed"] == {"fetch.http_404": 2}
    assert harbour["failed_total"] == 2 and len(harbour["failures"]) == 2
    assert found["runs"][0]["status"] == "completed"
    assert found["runs"][0]["failed"] == {"fetch.http_404": 2}


# Read-only

def test_the_reader_never_writes_and_a_batch_goes_on_writing_while_it_serves(tmp_path):
    path = tmp_path / "live.db"
    build(path)
    with serve(path) as url:
        assert hit_ids(get(url, "/search?q=moorings"))
        # Datasette's connections are read-only.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            import asyncio

            from datasette.app import Datasette

            ds = Datasette([str(path)])
            asyncio.run(ds.get_database().execute_fn(
                lambda conn: conn.execute("DELETE FROM articles")))
        # A writer commits while the server holds its connections open.
        with Store(path) as store:
            late = article("late", "Late lighthouse news", "The lighthouse keeper returned late.")
            store.write(Result(page=page(late.url, "harbour"), article=late))
        assert "Late lighthouse news" in get(url, "/search?q=lighthouse")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(ARTICLES) + 46


# Reads, rendering and the store's filters, without a server

def test_search_form_parsing_and_links():
    form = reads.SearchForm.parse({"q": " tide  ", "site": "A", "from": "2026-01-01",
                                   "to": "bad", "page": "999999", "copies": "all",
                                   "syntax": "fts"})
    assert form.q == "tide" and form.filters.site == "A"
    assert form.filters.date_from == "2026-01-01" and form.filters.date_to is None
    assert form.page == reads.MAX_PAGE and form.all_copies and form.syntax
    assert any("'to'" in note for note in form.notes)
    assert form.link(page=None) == {"q": "tide", "site": "A", "from": "2026-01-01",
                                    "copies": "all", "syntax": "fts"}
    long = reads.SearchForm.parse({"q": "x" * 5000})
    assert len(long.q) == reads.MAX_QUERY_CHARS and long.notes


def test_store_search_filters_offset_and_marks(archive):
    path, ids = archive
    db = open_db(path)
    try:
        gulls = [h.id for h in search(db, "gull", limit=100)]
        assert len(gulls) == 45
        assert [h.id for h in search(db, "gull", limit=10, offset=40)] == gulls[40:]
        hits = list(search(db, "gull", filters=Filters(date_from="2026-02-01",
                                                       date_to="2026-02-01")))
        assert {h.id for h in hits} == {ids["gull0"], ids["gull28"]}
        (hit,) = search(db, "moorings", marks=("[", "]"))
        assert "[Moorings]" in hit.snippet and hit.language == "en"
        (ferry,) = search(db, "ferry", unique=True)
        assert ferry.copies == 1
        assert [h.id for h in search(db, "pier OR nothing", syntax=False)] == []
        assert [h.id for h in latest(db, 2, filters=Filters(source="harbour"))] == \
            sorted((ids[k] for k in ARTICLES), reverse=True)[:2]
    finally:
        db.close()


def test_snippet_and_body_rendering_escape_everything():
    assert str(snippet_html("a <b> \ufdd0c\ufdd1 d")) == "a &lt;b&gt; <mark>c</mark> d"
    md = markdown_parser()
    assert str(body_html(md, "# T\n\n<script>x</script>", None)) == \
        "<p>&lt;script&gt;x&lt;/script&gt;</p>\n"
    assert str(body_html(md, None, "a<b\n\nc")) == "<p>a&lt;b</p>\n<p>c</p>\n"


def test_the_reader_indexes_are_migrated(tmp_path):
    db = open_db(tmp_path / "m.db")
    indexes = {tuple(i.columns) for t in ("articles", "fetches") for i in db[t].indexes}
    assert {("sitename",), ("language",), ("date",), ("source", "article_id"),
            ("source", "run_id", "outcome")} <= indexes
    assert ("source",) not in indexes
    plan = " ".join(str(r) for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT sitename, count(*) FROM articles GROUP BY sitename"))
    assert "COVERING INDEX" in plan


def test_datasettes_own_views_stay_reachable(base, archive):
    _, ids = archive
    assert "articles" in get(base, "/archive")
    assert "Island ferry timetable" in get(base, f"/archive/articles/{ids['ferry']}")
    rows = httpx.get(base + "/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array",
                     timeout=30).json()
    assert rows == [{"n": len(ARTICLES) + len(MANY)}]


def test_a_search_reads_the_rows_of_its_hits_only(archive):
    """Every filter and the one-per-story rule are answered from an index: the plan never
    scans `articles` (whose rows hold the bodies) nor looks an article up per match before
    the best hits are chosen."""
    path, _ = archive
    db = open_db(path)
    try:
        every = Filters(site="S", source="s", language="en", date_from="2026-01-01",
                        date_to="2026-12-31")
        for filters, unique in ((None, False), (None, True), (every, True)):
            sql, params = search_statement('"harbour"', 21, unique, 20, filters)
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
            assert not [step for step in plan if re.match(r"SCAN (a|articles)\b", step)], plan
            inner = plan[:plan.index(next(s for s in plan if "top" in s and s.startswith("SCAN")))]
            assert not [s for s in inner if re.match(r"SEARCH a\b", s)], plan
    finally:
        db.close()
