"""Metadata: JSON-LD, then OpenGraph/meta tags, then trafilatura's own; all inline HTML."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import Cleaner
from cleaner.dates import local_day, local_timestamp, normalize_date
from cleaner.extract import Extracted, declared, with_declared
from cleaner.metadata import (
    PageMeta,
    clean_tags,
    from_json_ld,
    merge,
    page_metadata,
    strip_site_suffix,
)
from records import Article, Page, Result
from store import Store
from store.migrations import m001_articles_and_fetches, migrate

URL = "https://news.example.com/world/2025/09/10/story?utm_source=x"
FIXTURES = Path(__file__).parent / "fixtures"
PROSE = ("The river rose overnight and flooded the lower town for the first time in years, "
         "officials said on Tuesday, as crews worked to clear the main road before dawn.")
BODY = "<article><h1>River floods the lower town</h1>" + f"<p>{PROSE}</p>" * 4 + "</article>"


def html(head: str = "", body: str = BODY, lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
            f"<body>{body}</body></html>")


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def clean(doc: str, url: str = URL) -> Article:
    body = doc.encode("utf-8")
    result = Cleaner().clean(Page(url=url, final_url=url, status=200, content_type="text/html",
                                  body=body, encoding="utf-8", bytes=len(body)))
    assert result.outcome == "cleaned", result.error
    return result.article


NEWS_ARTICLE = {
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": "River floods the lower town",
    "description": "Crews worked through the night.",
    "author": [{"@type": "Person", "name": "Ana Díaz"}, {"@type": "Person", "name": "Bo Li"},
               {"@type": "Person", "name": "ana díaz"}],
    "datePublished": "2025-09-10T23:30:00-04:00",
    "dateModified": "2025-09-11T08:15:00Z",
    "publisher": {"@type": "Organization", "name": "Example News"},
    "image": ["/img/flood.jpg", "https://cdn.example.com/other.jpg"],
    "keywords": "Floods, Weather, floods ,  River Town",
    "inLanguage": "de-DE",
}


def test_json_ld_news_article():
    meta = page_metadata(html(ld(NEWS_ARTICLE)), base_url=URL)
    assert meta.title == "River floods the lower town"
    assert meta.description == "Crews worked through the night."
    assert meta.author == "Ana Díaz; Bo Li"  # a list of people, the repeat dropped
    assert meta.date == "2025-09-10T23:30:00-04:00"  # time and offset kept
    assert meta.date_modified == "2025-09-11T08:15:00+00:00"  # "Z" normalised
    assert meta.sitename == "Example News"
    assert meta.language == "de"  # JSON-LD's inLanguage before <html lang="en">
    assert meta.image_url == "https://news.example.com/img/flood.jpg"
    assert meta.tags == ["Floods", "Weather", "River Town"]


def test_json_ld_reaches_the_record_and_dates_are_days():
    a = clean(html(ld(NEWS_ARTICLE)))
    assert (a.title, a.author, a.sitename) == ("River floods the lower town", "Ana Díaz; Bo Li",
                                               "Example News")
    # A date-time with a real offset keeps the publisher's own day, not UTC's (11 September).
    assert (a.date, a.date_modified) == ("2025-09-10", "2025-09-11")
    assert a.tags == ["Floods", "Weather", "River Town"]
    assert a.image_url == "https://news.example.com/img/flood.jpg"
    assert a.to_dict()["tags"] == ["Floods", "Weather", "River Town"]


def test_json_ld_graph_with_references():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Organization", "@id": "https://example.org/#org", "name": "Graph Times"},
        {"@type": "WebSite", "@id": "https://example.org/#site", "name": "Graph Times Online"},
        {"@type": "ImageObject", "@id": "https://example.org/#img", "url": "/a/pic.png"},
        {"@type": "WebPage", "@id": "https://example.org/p#page", "name": "Page name | Graph Times",
         "datePublished": "2024-01-01", "inLanguage": "fr-FR"},
        {"@type": ["Article"], "headline": "Graph headline",
         "author": {"@id": "https://example.org/#/person/1"},
         "publisher": {"@id": "https://example.org/#org"},
         "image": {"@id": "https://example.org/#img"}, "datePublished": "2024-03-05T10:00:00+01:00",
         "keywords": ["One", "two, Three"]},
        {"@type": "Person", "@id": "https://example.org/#/person/1", "name": "Jo Writer"},
    ]}
    meta = from_json_ld([json.dumps(graph)], base_url="https://example.org/p")
    assert meta.title == "Graph headline"  # the Article, not the WebPage
    assert meta.author == "Jo Writer"  # resolved through its @id
    assert meta.sitename == "Graph Times"
    assert meta.image_url == "https://example.org/a/pic.png"
    assert meta.date == "2024-03-05T10:00:00+01:00"
    assert meta.language == "fr"  # the Article has none: the WebPage's
    assert meta.tags == ["One", "two", "Three"]


def test_web_page_is_only_a_last_resort():
    page_only = {"@type": "WebPage", "name": "About the floods", "datePublished": "2024-02-02"}
    assert from_json_ld([json.dumps(page_only)]).title == "About the floods"
    both = [json.dumps(page_only), json.dumps({"@type": "BlogPosting", "headline": "The post"})]
    assert from_json_ld(both).title == "The post"


def test_json_ld_in_body_comments_and_control_characters():
    raw = ('<!--\n{"@type": "NewsArticle", "headline": "Line one\nline\ttwo",'
           ' "datePublished": "2025-01-02"}\n-->')
    doc = html("", BODY + f'<script type="application/ld+json">{raw}</script>')
    meta = page_metadata(doc, base_url=URL)
    assert meta.title == "Line one line two"  # raw newline and tab read, whitespace collapsed
    assert meta.date == "2025-01-02"


def test_broken_json_ld_is_ignored():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
            '<script type="application/ld+json">[[[[</script>'
            '<script type="application/ld+json"></script>'
            '<meta property="og:title" content="The OpenGraph title">')
    meta = page_metadata(html(head), base_url=URL)
    assert meta.title == "The OpenGraph title"
    assert clean(html(head)).title == "The OpenGraph title"


def test_trailing_junk_after_json_ld_keeps_the_object():
    text = '{"@type": "NewsArticle", "headline": "Kept"}\n  },\n // a CMS comment'
    assert from_json_ld([text]).title == "Kept"


OPENGRAPH = """
<meta property="og:title" content="Storm closes the harbour">
<meta property="og:description" content="Ferries stay in port.">
<meta property="og:site_name" content="Harbour Post">
<meta property="og:image" content="../img/storm.jpg">
<meta property="article:published_time" content="2025-03-04T06:07:08+0100">
<meta property="article:modified_time" content="2025-03-05">
<meta property="article:tag" content="Storms">
<meta property="article:tag" content="Harbour">
<meta property="article:tag" content="storms">
<meta property="article:tag" content="@internal-marker">
<meta name="author" content="By Kim Lee">
<meta name="keywords" content="ignored, when, article:tag, exists">
"""


def test_opengraph_only():
    meta = page_metadata(html(OPENGRAPH), base_url=URL)
    assert meta.title == "Storm closes the harbour"
    assert meta.description == "Ferries stay in port."
    assert meta.sitename == "Harbour Post"
    assert meta.image_url == "https://news.example.com/world/2025/09/img/storm.jpg"
    assert meta.date == "2025-03-04T06:07:08+01:00"
    assert meta.date_modified == "2025-03-05"
    assert meta.author == "Kim Lee"
    assert meta.tags == ["Storms", "Harbour"]  # several article:tag, deduplicated, no markers
    a = clean(html(OPENGRAPH))
    assert (a.date, a.date_modified, a.tags) == ("2025-03-04", "2025-03-05", ["Storms", "Harbour"])
    assert a.image_url == "https://news.example.com/world/2025/09/img/storm.jpg"


def test_meta_names_keywords_and_itemprop_dates():
    head = ('<meta name="news_keywords" content="Budget, Tax,budget">'
            '<meta itemprop="datePublished" content="2024-06-01T12:00:00">'
            '<meta itemprop="dateModified" content="June 3, 2024">'
            '<meta name="description" content="The plain description.">')
    meta = page_metadata(html(head))
    assert meta.tags == ["Budget", "Tax"]
    assert meta.date == "2024-06-01T12:00:00"
    assert meta.date_modified == "2024-06-03"  # a printed date, through htmldate
    assert meta.description == "The plain description."


def test_nothing_declared_falls_back_to_trafilatura():
    doc = ("<html><head><title>Plain headline</title></head><body>"
           + BODY.replace("<h1>River floods the lower town</h1>", "") + "</body></html>")
    assert page_metadata(doc) == PageMeta()
    a = clean(doc)
    assert a.title == "Plain headline"  # trafilatura's, from <title>
    assert (a.description, a.date_modified, a.tags) == (None, None, [])
    # With nothing declared, every trafilatura value goes through unchanged.
    ex = Extracted(paragraphs=[], title="T", description="D", author="Au Thor", date="2020-02-02",
                   sitename="S", language="it", image_url="/i.png", tags=["rain", "Rain", "wind"])
    out = with_declared(ex, declared("<html><head></head></html>", URL), base_url=URL)
    assert (out.title, out.description, out.author, out.date, out.sitename, out.language) == (
        "T", "D", "Au Thor", "2020-02-02", "S", "it")
    assert out.image_url == "https://news.example.com/i.png"
    assert out.tags == ["rain", "wind"]


def test_title_loses_the_site_name_suffix_only():
    head = ('<meta property="og:title" content="Harbour reopens | Harbour Post">'
            '<meta property="og:site_name" content="Harbour Post">')
    assert page_metadata(html(head)).title == "Harbour reopens"
    assert strip_site_suffix("Harbour reopens - harbour post", "Harbour Post") == "Harbour reopens"
    assert strip_site_suffix("Harbour reopens | TheHill", "The Hill") == "Harbour reopens"
    assert strip_site_suffix("Launch - SpaceNews.com", "SpaceNews") == "Launch"
    kept = "Harbour reopens | Opinion"
    assert strip_site_suffix(kept, "Harbour Post") == kept
    assert strip_site_suffix("Harbour Post", "Harbour Post") == "Harbour Post"  # never emptied
    # The suffix goes whichever source the title came from, trafilatura's included.
    ex = Extracted(paragraphs=[], title="A storm - Harbour Post", sitename="Harbour Post")
    assert with_declared(ex, declared("<html></html>")).title == "A storm"


def test_sitename_og_unless_a_slug_and_self_credits_are_no_author():
    wire = {"@type": "NewsArticle", "headline": "H", "publisher": {"name": "Associated Press"},
            "author": {"@type": "Organization", "name": "Harbour Post"}}
    head = ld(wire) + ('<meta property="og:site_name" content="Harbour Post">'
                       '<meta name="author" content="Kim Lee">')
    meta = page_metadata(html(head))
    assert meta.sitename == "Harbour Post"  # the site, not the wire agency that published
    assert meta.author == "Kim Lee"  # the site crediting itself is skipped
    slug = ld({"@type": "NewsArticle", "publisher": {"name": "USA TODAY"}}) + (
        '<meta property="og:site_name" content="usatoday">')
    assert page_metadata(html(slug)).sitename == "USA TODAY"


def test_truncated_description_yields_to_the_whole_one():
    head = ld({"@type": "NewsArticle", "description": "Ferries stay in port ..."}) + (
        '<meta property="og:description" content="Ferries stay in port until Friday.">')
    assert page_metadata(html(head)).description == "Ferries stay in port until Friday."


def test_dates_are_normalised_or_ignored():
    assert normalize_date("2025-09-10T05:00:00Z") == "2025-09-10T05:00:00+00:00"
    assert normalize_date("2025-09-10T05:00:00.123+0530") == "2025-09-10T05:00:00+05:30"
    assert normalize_date("2025-09-10 05:00:00 +0000") == "2025-09-10T05:00:00+00:00"
    assert normalize_date("2025-09-10") == "2025-09-10"
    assert normalize_date("Wed, 10 Sep 2025 05:00:00 GMT") == "2025-09-10T05:00:00+00:00"
    assert normalize_date("10 September 2025") == "2025-09-10"
    for bad in ("", "soon", "0001-01-01T00:00:00Z", "2999-01-01", None, 20250910):
        assert normalize_date(bad) is None, bad
    # An unparseable declared date is skipped for the next one.
    head = ('<meta property="article:published_time" content="not a date">'
            '<meta name="pubdate" content="2023-07-08">')
    assert page_metadata(html(head)).date == "2023-07-08"


def test_a_utc_timestamp_takes_trafilaturas_local_day_when_it_can_be():
    # 04:58 UTC on the 19th is still the 18th in New York: the page's own day is kept.
    assert local_day("2019-11-19T04:58:46+00:00", "2019-11-18") == "2019-11-18"
    assert local_day("2019-11-19T04:58:46", "2019-11-18") == "2019-11-18"  # no offset: same
    assert local_day("2019-11-19T04:58:46+00:00", "2019-11-17") == "2019-11-19"  # too far
    assert local_day("2019-11-19T23:58:46-05:00", "2019-11-20") == "2019-11-19"  # real offset
    assert local_day("2019-11-19", "2019-11-18") == "2019-11-19"  # a day is a day
    assert local_day("2019-11-19T04:58:46+00:00", None) == "2019-11-19"


def test_a_utc_timestamp_takes_the_day_of_the_same_instant_declared_with_an_offset():
    # 22:30 UTC on the 10th is 00:30 on the 11th in the publisher's +02:00: the 11th.
    head = (ld({"@type": "NewsArticle", "headline": "Late vote",
                "datePublished": "2025-09-10T22:30:00Z"})
            + '<meta property="article:published_time" content="2025-09-11T00:30:00+02:00">')
    url = "https://news.example.com/politics/late-vote"  # no day in the URL
    assert page_metadata(html(head), base_url=url).date == "2025-09-11T00:30:00+02:00"
    assert clean(html(head), url=url).date == "2025-09-11"
    # A "+02:00" timestamp late at night is its own day, whatever UTC's.
    assert local_day("2025-09-11T00:30:00+02:00", None) == "2025-09-11"
    # Another instant (an update) is no evidence of the offset: UTC's day stays.
    assert local_timestamp("2025-09-10T22:30:00+00:00", ["2025-09-12T09:00:00+02:00"]) == \
        "2025-09-10T22:30:00+00:00"


def test_seed_page_date_stays_the_published_day():
    text = (FIXTURES / "seed-same-container.html").read_text(encoding="utf-8")
    assert declared(text).meta.date == "2025-09-10T05:00:00+00:00"
    a = clean(text, url=(FIXTURES / "seed-same-container.html").as_uri())
    assert a.date == "2025-09-10"
    assert a.author == "Reuters"
    assert a.date_modified is None and a.tags == []


def test_helpers_merge_and_clean_tags():
    merged = merge(PageMeta(title="A", tags=["@x"]), PageMeta(title="B", author="C", tags=["tide"]))
    assert (merged.title, merged.author, merged.tags) == ("A", "C", ["tide"])
    assert clean_tags(["News", '"', "/article", "E", "x" * 81, "news", "猫"]) == ["News", "猫"]


def test_tags_and_modified_date_round_trip_through_the_database(tmp_path):
    path = tmp_path / "x.db"
    old = sqlite_utils.Database(path)  # a database from before m002
    old["_migrations"].create({"id": int, "name": str, "applied_at": str}, pk="id")
    m001_articles_and_fetches(old)
    old["_migrations"].insert({"name": "m001_articles_and_fetches", "applied_at": "x"})
    assert migrate(old)[0] == "m002_article_dates_and_tags"  # and whatever came after it
    assert {"date_modified", "tags"} <= set(old["articles"].columns_dict)
    old.close()
    fields = {f.name for f in dataclasses.fields(Article)}
    assert {"date_modified", "tags"} <= fields
    art = Article(url=URL, canonical_url="https://news.example.com/a", title="T", text="x y z",
                  word_count=3, content_hash="h1", date="2025-09-10", date_modified="2025-09-11",
                  tags=["Floods", "Ünïcode"])
    page = Page(url=URL, final_url=URL, status=200, content_type="text/html")
    with Store(path) as store:
        store.write(Result(page=page, article=art))
        row = store.article("https://news.example.com/a")
        assert row["date_modified"] == "2025-09-11"
        assert json.loads(row["tags"]) == ["Floods", "Ünïcode"]  # a JSON array as text
        assert store.db.execute("SELECT typeof(tags) FROM articles").fetchone()[0] == "text"
        store.write(Result(page=page, article=dataclasses.replace(
            art, content_hash="h2", tags=["Other"])))
        assert json.loads(store.article("https://news.example.com/a")["tags"]) == ["Other"]
    assert json.loads(json.dumps(art.to_dict()))["tags"] == ["Floods", "Ünïcode"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["NewsArticle", "WebPage", "@id", "x", "2025-09-10", "/i.png", "Org"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.builds(lambda ref: {"@id": ref}, inner)  # a reference, possibly malformed
    | st.dictionaries(st.sampled_from(["@type", "@id", "@graph", "mainEntity", "headline",
                                       "name", "author", "publisher", "image", "url",
                                       "keywords", "datePublished", "dateModified",
                                       "inLanguage", "description"]), inner, max_size=6),
    max_leaves=25)


_FIELD = st.sampled_from(["author", "publisher", "image", "keywords", "datePublished",
                          "headline", "inLanguage", "@graph", "mainEntity"])


@settings(max_examples=400, deadline=None)
@given(_json, st.dictionaries(_FIELD, _json, max_size=4),
       st.sampled_from(["NewsArticle", "WebPage", ["Article"]]))
def test_any_json_ld_shape_is_read_without_an_exception(data, fields, kind):
    article = {"@type": kind, **fields}  # an object the reader looks into, any field values
    meta = from_json_ld([json.dumps(data), json.dumps(article)], base_url=URL)
    assert isinstance(meta, PageMeta) and isinstance(meta.tags, list)
    assert meta.image_url is None or meta.image_url.startswith("https://")


_PIECES = st.sampled_from(['<script type="application/ld+json">', "<script ", "ld+json", ">",
                           "</script>", "</head>", '{"@type": "NewsArticle", "headline": "H"}',
                           "<meta property='og:title' content='T'>", "<html lang=en>", "<",
                           "{", "]", "&amp;", "\x00", "ü", "<h1>", "</h1>", "<li>", ": "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=20).map("".join))
def test_any_markup_is_read_without_an_exception(doc):
    meta = page_metadata(doc, base_url=URL)
    assert meta.title in (None, "H", "T")
