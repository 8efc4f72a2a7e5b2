"""Metadata a reader trusts: the headline as printed, authors as people (issue 13, item 2).

Every page here is written by the test; each test failed on the cleaner before this item.
"""

from __future__ import annotations

from cleaner.authors import clean_authors
from cleaner.metadata import page_metadata
from cleaner.titles import agreeing_part, headline, iter_h1s, strip_site_suffix
from records import Article
from tests.test_metadata import clean as clean_page
from tests.test_metadata import ld

URL = "https://www.harbourpost.com/news/harbour-reopens"
PROSE = ("The harbour reopened on Monday after a week of storms, and the first ferries left "
         "before dawn with cars and freight that had waited on the quay since last Tuesday.")
TEXT = f"<p>{PROSE}</p>" * 4


def page(head: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">{head}</head>'
            f"<body>{body}</body></html>")


def og(prop: str, value: str) -> str:
    return f'<meta property="{prop}" content="{value}">'


def clean(doc: str, url: str = URL) -> Article:
    return clean_page(doc, url)


# --- the headline ----------------------------------------------------------------------------

SITE = og("og:site_name", "Harbour Post")


def test_h1_agreeing_with_a_section_and_site_suffixed_og_title_is_the_headline():
    head = SITE + og("og:title", "Harbour reopens after a week - Weather | Harbour Post")
    doc = page(head, f"<article><h1>Harbour reopens after a week</h1>{TEXT}</article>")
    assert clean(doc).title == "Harbour reopens after a week"
    # Without the <h1>, the site suffix still goes, the section stays (it may be the headline's).
    assert page_metadata(page(head, TEXT)).title == "Harbour reopens after a week - Weather"


def test_printed_h1_wins_over_a_different_seo_headline_when_og_title_agrees():
    head = SITE + og("og:title", "Harbour reopens after a week of storms") + ld(
        {"@type": "NewsArticle", "headline": "Harbour reopening: what ferry passengers need"})
    doc = page(head, f"<article><h1>Harbour reopens after a week of storms</h1>{TEXT}</article>")
    assert clean(doc).title == "Harbour reopens after a week of storms"


def test_a_kicker_the_declared_title_adds_is_dropped():
    head = og("og:title", "Storm season: Harbour reopens after a week")
    doc = page(head, f"<article><h1>Harbour reopens after a week</h1>{TEXT}</article>")
    assert clean(doc).title == "Harbour reopens after a week"
    # The kicker printed in the <h1> too ("Kicker | Headline"), absent from the JSON-LD one.
    assert headline(["Storm season | Harbour reopens after a week"],
                    ["Harbour reopens after a week", "Storm season | Harbour reopens after a week"]
                    ) == "Harbour reopens after a week"


def test_a_site_logo_or_section_h1_never_replaces_the_declared_title():
    logo = '<header><h1 class="logo"><a href="/">Harbour Post</a></h1></header>'
    head = SITE + og("og:title", "Harbour reopens after a week") + ld(
        {"@type": "NewsArticle", "headline": "Ferries sail again as the harbour reopens"})
    doc = page(head, logo + f"<article><h1>Harbour reopens after a week</h1>{TEXT}</article>")
    assert clean(doc).title == "Harbour reopens after a week"  # the article's h1, not the logo
    # Only a section label for an <h1>: the declared title stands.
    doc = page(head, f"<h1>Weather</h1><article>{TEXT}</article>")
    assert clean(doc).title == "Ferries sail again as the harbour reopens"
    # A breadcrumb's <h1> (in a list item) agrees with og:title but is no printed headline.
    crumbs = "<nav><ul><li><a href='/'>Home</a></li><li><h1>Harbour reopens after a week</h1>"
    doc = page(head, crumbs + f"</li></ul></nav><article>{TEXT}</article>")
    assert list(iter_h1s(doc)) == []
    assert clean(doc).title == "Ferries sail again as the harbour reopens"


def test_agreement_is_a_real_test():
    title = "Weather: Harbour reopens after a week"
    assert agreeing_part("Harbour reopens after a week", title) == "Harbour reopens after a week"
    assert agreeing_part("Weather", title) is None  # the cut part must be the shorter one
    assert agreeing_part("Harbour reopens", title) is None  # no separator there
    assert agreeing_part("Ferries sail again", title) is None
    # "Page | Site" in a <title>: the page name is no kicker of the site's name.
    assert headline(["Harbour Post"], ["Opening hours | Harbour Post"], kickers=False) is None


def test_a_suffix_naming_the_sites_domain_goes_without_a_declared_site_name():
    assert strip_site_suffix("Harbour reopens – The Harbourpost", url=URL) == "Harbour reopens"
    doc = page(og("og:title", "Harbour reopens – The Harbourpost"), f"<article>{TEXT}</article>")
    assert clean(doc).title == "Harbour reopens"
    # ... but not a suffix that only mentions it, nor a title that starts with the site.
    kept = "Harbour reopens - Ferries sail again from Harbourpost quay"
    assert strip_site_suffix(kept, url=URL) == kept
    assert strip_site_suffix("Harbourpost - News - Harbourpost", url=URL) == \
        "Harbourpost - News - Harbourpost"


# --- authors ---------------------------------------------------------------------------------


def test_bylines_are_split_into_people():
    assert clean_authors(["By Jane Doe and John Roe"]) == ["Jane Doe", "John Roe"]
    assert clean_authors(["Von Anna Berg und Max Muster (abc)"]) == ["Anna Berg", "Max Muster"]
    assert clean_authors(["Por Ana Díaz y Luis Gómez", "Par Marie Curie et Paul Roux"]) == [
        "Ana Díaz", "Luis Gómez", "Marie Curie", "Paul Roux"]
    assert clean_authors(["Kari Nordmann og Ola Hansen", "Autor: Max Muster"]) == [
        "Kari Nordmann", "Ola Hansen", "Max Muster"]
    assert clean_authors(["Felix Roth und Jana Weiss, dpa"]) == ["Felix Roth", "Jana Weiss"]
    # Commas between full names split; a role, a place or a credential is no second name.
    assert clean_authors(["Jane Doe, John Roe"]) == ["Jane Doe", "John Roe"]
    assert clean_authors(["Jane Doe, Senior Reporter", "Ann Lee, London", "Bo Park, PhD"]) == [
        "Jane Doe", "Ann Lee", "Bo Park"]
    assert clean_authors(["Doe, Jane"]) == ["Doe, Jane"]  # surname first stays one name
    # An organisation with "and" in its name stays whole.
    assert clean_authors(["Department of Trade and Industry"]) == [
        "Department of Trade and Industry"]
    assert clean_authors(["jane doe", "Jane Doe"]) == ["jane doe"]  # deduplicated, order kept


def test_no_email_id_url_or_site_is_an_author():
    assert clean_authors(["jane@example.com", "105092", "https://example.com/jane",
                          "harbourpost.com"]) == []
    assert clean_authors(["Jane Doe jane@example.com", "John Roe @jroe"]) == [
        "Jane Doe", "John Roe"]
    sites = ["Harbour Post", "harbourpost.com"]
    assert clean_authors(["Jane Doe, Harbour Post", "Ann Lee, Harbour Post Business"],
                         sites) == ["Jane Doe", "Ann Lee"]
    assert clean_authors(["Jane Doe | Harbour Post Weather"], sites) == ["Jane Doe"]


def test_declared_authors_reach_the_article_as_people():
    head = SITE + ld({"@type": "NewsArticle", "headline": "Harbour reopens",
                      "datePublished": "2025-09-10",
                      "author": [{"@type": "Person", "name": "By Jane Doe and John Roe"},
                                 {"@type": "Person", "name": "jane@example.com"},
                                 {"@type": "Organization", "name": "Harbour Post"}]})
    assert clean(page(head, f"<article>{TEXT}</article>")).author == "Jane Doe; John Roe"
    head = SITE + og("article:published_time", "2025-09-10") + (
        '<meta name="author" content="Von Anna Berg und Max Muster (abc)">')
    assert clean(page(head, f"<article>{TEXT}</article>")).author == "Anna Berg; Max Muster"


def test_the_sites_own_byline_is_no_author_even_split_another_way():
    # The page credits itself (with its city); trafilatura's own reading of the same tag would
    # split it into "Hamburg; Germany".
    head = SITE + og("og:title", "Harbour reopens") + (
        '<meta name="author" content="Harbour Post, Hamburg, Germany">')
    assert clean(page(head, f"<article>{TEXT}</article>")).author is None
    head = SITE + og("og:title", "Harbour reopens") + '<meta name="author" content="105092">'
    assert clean(page(head, f"<article>{TEXT}</article>")).author is None


def test_a_personal_blog_publisher_is_no_site_name():
    # Yoast on a personal blog: the publisher is the author, a Person. She stays the author.
    head = ld({"@type": "BlogPosting", "headline": "Harbour walks",
               "author": {"@type": "Person", "name": "Jane Doe"},
               "publisher": {"@type": "Person", "name": "Jane Doe"}})
    assert clean(page(head, f"<article>{TEXT}</article>")).author == "Jane Doe"
    company = head.replace('"publisher": {"@type": "Person"',
                           '"publisher": {"@type": "Organization"')
    assert clean(page(company, f"<article>{TEXT}</article>")).author is None
