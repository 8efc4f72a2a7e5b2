"""cleaner.trafmeta: trafilatura's metadata pass without the fields the cleaner never reads
gives the same values as trafilatura's own `extract_metadata` for every field it does read."""

from __future__ import annotations

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from cleaner.trafmeta import page_metadata

READ = ("title", "author", "date", "description", "sitename", "image", "tags", "url")

BYLINE = """<!doctype html><html><head><title>Harbour plan approved | Gazette</title>
<meta name="description" content="The council voted on Tuesday."></head><body>
<nav><a href="/category/news/">News</a><a href="/tag/harbour/">Harbour</a></nav>
<article><h1>Harbour plan approved</h1><p class="byline">By Jane Doe and John Roe</p>
<p>Published 12 March 2024</p><p>The council approved the harbour plan on Tuesday after a
long debate about the costs of dredging and the new quay.</p>
<div class="tags"><a href="/tag/harbour/">harbour</a> <a href="/tags/council/">council</a></div>
<div class="entry-meta"><a href="/category/news/">News</a></div></article><footer><a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a></footer>
</body></html>"""

DECLARED = """<html><head><meta property="og:title" content="Storm closes the coast road">
<meta property="og:site_name" content="coastnews"><meta property="og:image"
content="https://example.org/storm.jpg"><meta name="author" content="Ann Lee">
<meta property="article:tag" content="weather"><meta property="article:tag" content="roads">
<link rel="canonical" href="https://example.org/2023/11/02/storm">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Storm closes the
coast road", "datePublished": "2023-11-02T08:00:00Z", "author": {"name": "Ann Lee"}}</script>
</head><body><h1>Storm closes the coast road</h1><p>Waves broke over the wall all night and
the road stays shut until the engineers have checked it.</p></body></html>"""

BARE = """<html><body><div><h1>Notes from the allotment</h1><h2>Week one</h2>
<p>Written by peter_g on 3 May 2021. The beans are up and the slugs are winning.</p>
</div></body></html>"""


@pytest.mark.parametrize("html", [BYLINE, DECLARED, BARE], ids=["byline", "declared", "bare"])
@pytest.mark.parametrize("extensive", [True, False])
@pytest.mark.parametrize("url", ["https://example.org/2024/03/12/harbour", None])
def test_the_fields_read_are_trafilaturas_own(html, extensive, url):
    params = set_date_params(extensive)
    ours = page_metadata(load_html(html), url, params)
    theirs = extract_metadata(load_html(html), url, params)
    for name in READ:
        assert getattr(ours, name) == getattr(theirs, name), name
    # The point of the module: what the cleaner never reads is not searched for.
    assert ours.categories is None or ours.categories == []
    assert ours.license is None


def test_the_pages_have_what_each_step_finds():
    """The pages above exercise the steps kept: a byline and a date found in the body, tags
    from links, a title from the <title>/<h1>, JSON-LD and meta tags."""
    byline = extract_metadata(load_html(BYLINE), None, set_date_params(True))
    assert byline.author and "Jane Doe" in byline.author
    assert byline.date == "2024-03-12"
    assert byline.tags and byline.categories and byline.license
    declared = extract_metadata(load_html(DECLARED), None, set_date_params(False))
    assert declared.title == "Storm closes the coast road" and declared.author == "Ann Lee"
    assert declared.tags == ["weather", "roads"]


def test_settled_fields_are_not_searched_for():
    """title=False, tags=False: the page's own title and tags win, so trafilatura's search
    for them is skipped; a declared one (meta tags, JSON-LD) is still read."""
    tree = load_html(BYLINE)
    assert page_metadata(tree, None, set_date_params(True), title=False).title \
        != extract_metadata(load_html(BYLINE), None, set_date_params(True)).title
    assert page_metadata(load_html(BYLINE), None, set_date_params(True), tags=False).tags \
        in (None, [])
    declared = page_metadata(load_html(DECLARED), None, set_date_params(True), title=False,
                             tags=False)
    assert declared.title == "Storm closes the coast road"
    assert declared.tags == ["weather", "roads"]
