"""cleaner/judge.py: a crawled page judged an article, a listing or other, with its reason."""

from __future__ import annotations

import json

import pytest

from cleaner.judge import (
    ARTICLE,
    CONTENT,
    DECLARED,
    LISTING,
    MIN_ARTICLE_WORDS,
    OTHER,
    ROOT,
    URL_SHAPE,
    judge,
    signals,
)

PROSE = ("The council voted on Tuesday to build a second pier on the north shore after three "
         "years of argument over the crossing. ")
BODY = "\n".join([PROSE * 2] * 6)  # six paragraphs, well over MIN_ARTICLE_WORDS words
TEASERS = [f"Headline number {n} about the harbour" for n in range(25)]


def page(ld: object = None, og: str | None = None, links: list[str] | None = None,
         body: str = "") -> str:
    head = ""
    if ld is not None:
        head += f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    if og is not None:
        head += f'<meta property="og:type" content="{og}">'
    anchors = "".join(f'<li><a href="/x/{n}">{text}</a></li>'
                      for n, text in enumerate(links or []))
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line)
    return f"<html><head>{head}</head><body><ul>{anchors}</ul>{paragraphs}</body></html>"


def decide(url: str, html: str, text: str | None) -> tuple[str, str]:
    found = judge(signals(html, url, text))
    return found.kind, found.reason


MENU = [f"Section {n}" for n in range(12)]


@pytest.mark.parametrize("url, html, text, expected", [
    # The home page, whatever it holds.
    ("https://news.example.com/", page(og="article", links=MENU, body=BODY), BODY,
     (LISTING, ROOT)),
    # What the page declares.
    ("https://news.example.com/x", page(ld={"@type": "NewsArticle"}, links=MENU), "Short.",
     (ARTICLE, DECLARED)),
    ("https://news.example.com/x", page(ld={"@graph": [{"@type": "WebSite"},
                                                       {"@type": ["schema:BlogPosting"]}]}),
     "Short.", (ARTICLE, DECLARED)),
    ("https://news.example.com/x", page(og="article"), "Short.", (ARTICLE, DECLARED)),
    ("https://news.example.com/world", page(ld={"@type": "CollectionPage"}, links=TEASERS),
     None, (LISTING, DECLARED)),
    ("https://news.example.com/team", page(ld={"@type": "AboutPage"}, body=BODY), BODY,
     (OTHER, DECLARED)),
    # A declared article without an article in it is not stored as one.
    ("https://news.example.com/tag/pier", page(og="article", links=TEASERS), None,
     (LISTING, URL_SHAPE)),
    # The URL's shape.
    ("https://news.example.com/category/world/page/2", page(links=TEASERS), None,
     (LISTING, URL_SHAPE)),
    ("https://news.example.com/author/ann-reporter", page(links=TEASERS, body=BODY), BODY,
     (LISTING, URL_SHAPE)),
    ("https://news.example.com/contact", page(body=BODY), BODY, (OTHER, URL_SHAPE)),
    ("https://news.example.com/privacy-policy", page(body=BODY), BODY, (OTHER, URL_SHAPE)),
    ("https://news.example.com/search", page(links=TEASERS), None, (OTHER, URL_SHAPE)),
    ("https://news.example.com/2026/03/02/council-backs-pier", page(links=MENU), "A short item.",
     (ARTICLE, URL_SHAPE)),
    ("https://news.example.com/news/article-4023322", page(links=MENU), "A short item.",
     (ARTICLE, URL_SHAPE)),
    # A date archive is no article page.
    ("https://news.example.com/2026/03/02/", page(links=TEASERS), None, (LISTING, CONTENT)),
    # What the page holds.
    ("https://news.example.com/pier", page(links=MENU, body=BODY), BODY, (ARTICLE, CONTENT)),
    ("https://news.example.com/world", page(links=TEASERS), None, (LISTING, CONTENT)),
    # Teasers extracted as the "article": mostly link text, so a listing.
    ("https://news.example.com/world-news-today", page(links=TEASERS), "\n".join(TEASERS),
     (LISTING, CONTENT)),
    ("https://news.example.com/pier", page(links=MENU[:2]), "Too short to be an article.",
     (OTHER, CONTENT)),
])
def test_the_rule(url, html, text, expected):
    assert decide(url, html, text) == expected


def test_the_counter_key_names_kind_and_reason():
    found = judge(signals(page(og="article"), "https://a.example/x", "Words."))
    assert found.counter == "article.declared"


def test_bad_json_ld_and_garbage_never_raise():
    html = ('<script type="application/ld+json">{not json</script>'
            '<script type="application/ld+json">' + "[" * 5000 + "</script>"
            '<script type="application/ld+json">{"@type": 5, "@graph": "x"}</script>')
    assert decide("https://a.example/pier", html, BODY) == (ARTICLE, CONTENT)
    assert decide("not a url", "\x00\xff<<<", None) == (OTHER, CONTENT)


def test_article_words_are_counted_from_the_cleaners_text():
    s = signals(page(links=["Read more"]), "https://a.example/x", "One two three\nRead more")
    assert s.article_words == 5 and s.article_link_words == 2
    assert MIN_ARTICLE_WORDS > 5


@pytest.mark.parametrize("url, html, expected", [
    ("https://news.example.com/pier", page(links=MENU, body=BODY), (ARTICLE, CONTENT)),
    # Teasers as paragraphs of links: a listing.
    ("https://news.example.com/world", "<body>" + "".join(
        f'<p><a href="/a/{n}">{t}</a></p>' for n, t in enumerate(TEASERS)) + "</body>",
     (LISTING, CONTENT)),
    # Prose in the footer is not the page's.
    ("https://news.example.com/pier", "<body><footer>" + "".join(
        f"<p>{line}</p>" for line in BODY.split("\n")) + "</footer></body>", (OTHER, CONTENT)),
    ("https://news.example.com/2026/03/02/council-backs-pier", page(body=PROSE),
     (ARTICLE, URL_SHAPE)),
])
def test_before_cleaning_the_pages_own_paragraphs_are_read(url, html, expected):
    assert decide(url, html, None) == expected


def teaser_page(cards: int, body: str = "") -> str:
    teasers = "".join(
        f'<article><h3><a href="/news/story-{n}">Headline {n}</a></h3><p>{PROSE}</p></article>'
        for n in range(cards))
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line)
    return f"<html><body><main>{paragraphs}{teasers}</main><nav>{teasers}</nav></body></html>"


def test_a_page_of_teaser_cards_is_a_listing_however_long():
    html = teaser_page(8)
    # The cleaner may well take the standfirsts for an article.
    text = "\n".join([PROSE] * 8)
    assert decide("https://news.example.com/politics-and-the-world", html, text) == \
        (LISTING, CONTENT)
    # An article with a box of related stories stays an article.
    assert decide("https://news.example.com/pier", teaser_page(4, BODY), BODY) == \
        (ARTICLE, CONTENT)
    # Cards in the navigation are not the page's.
    nav_only = teaser_page(0).replace("<nav></nav>", "<nav>" + "".join(
        f'<div><h3><a href="/x/{n}">H</a></h3><p>{PROSE}</p></div>' for n in range(8))
        + "</nav>")
    assert decide("https://news.example.com/pier", nav_only + BODY, BODY)[0] == ARTICLE
