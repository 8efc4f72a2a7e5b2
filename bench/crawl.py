"""A site crawl (`kind = "site"`, pipeline/crawl.py) on a news site without feeds, served on
127.0.0.1, beside trafilatura's focused crawler on the same site.

    make bench-crawl                                     # ~1,000 articles, both crawlers
    .venv/bin/python bench/crawl.py --articles 100       # quick
    .venv/bin/python bench/crawl.py --systems ours --keep --json-out /tmp/crawl.json

The site (deterministic from `--seed`; "The Loopback Gazette"):
- `--articles` (1,000) public article pages, `--private` (10) more under /private/ (robots.txt:
  `Disallow: /private/`), and `--new` (20) more published only before the second run. Each is a
  real page of the shared sets (../shared/bench: asb-dev, news-golden, trafilatura-eval, in a
  seeded order) in which our cleaner (cleaner.Cleaner, given the URL the page is served at) finds
  an article, no two with the same article text, none whose JSON-LD declares it something
  else (a Product, an Event...: trafilatura-eval has such pages). Its HTML is served as it is
  (its own links to other sites stay: off-site links; its relative ones point into this site
  and mostly 404, as a copied page's would), with one block inserted before </body>: the
  site's navigation, three related articles of its section, its tags, its author and the
  service links. Paths mix four
  shapes: /SECTION/YYYY/MM/DD/SLUG-N.html, /story/ID (6 digits), /SECTION/SLUG-N and
  /YYYY/MM/DD/SLUG/ (the slug: the title's first eight ASCII words; under three, /story/ID).
- Generated pages (every one with header navigation, a search form, a footer of service links,
  off-site social links, mailto:, tel: and javascript: links, a "#main" skip link):
  home (the 30 latest articles as teasers: topic link, headline, standfirst (`--teasers
  headline`: none, on the home, section and author pages), author link, time;
  eight trending tags; a members-only box linking /private/ and its three latest stories; a PDF
  and an image link), 8 sections paginated 20 a page, newest first, as deep as their articles go,
  the pager (previous, first, current +-2, last, next) in four styles: /S/page/N/ with rel="next",
  /S/?page=N with "Next ›", /S/archive/N with "Older posts", /S/p/N with a "Load more stories"
  link in <li class="pager__item--next">; the even sections declare JSON-LD CollectionPage.
  30 tag pages (/tag/T/, /tag/T/page/N/, rel="next"; headline and time only) and 15 author pages
  (/people/A/, /people/A/?page=N with <link rel="next"> and a "›" link; a bio, then teasers),
  linked from teasers (a teaser's first tag and its author) and articles; service pages
  /about-us, /contact, /privacy-policy, /terms-and-conditions, /login, /newsletter and
  /search?q= (prose where real ones have it);
  /private/ (members' listing); PDFs and images (served, so a request for one is seen).
  No feed, no sitemap. Every public article is on its section's pages: depth 2 from the home page
  when next pages add no depth, as they do in the crawl.
- Served by a ThreadingHTTPServer in this process: ETag (a hash of the body) and Last-Modified
  (when the body last changed) on every answer, 304 to a matching If-None-Match or a not older
  If-Modified-Since; every request recorded in order (path, status, conditional or not).

The runs, in this order, each crawler in its own subprocess (`--worker`) in which any socket
connection or name lookup of a host other than 127.0.0.0/8 or localhost is refused and counted
(so nothing reaches past loopback, whatever a page links to):
1. ours, first run: `scrape batch` (pipeline.cli.main) on a sources file with one `kind = "site"`
   source (url = the home page, max_depth = 3, no max_pages), `--allow-private --delay 0`, a new
   database. Measured: wall time; rows in `articles` against the public articles (found, missed
   and why: the `fetches` row of a missed one, its outcome and error, which for crawl.listing and
   crawl.not_article rows is the judge's reason, and its frontier depth; or, never fetched, the
   listings that link it and what the crawl made of them); stored rows that are no article page
   (non-articles stored, each judged again here by cleaner.judge with the signals it read);
   requests to the site, robots.txt aside, per stored row; each page kind's outcomes (the
   judge's decisions by kind of page).
2. trafilatura's focused_crawler(home, max_seen_urls = every page of the site, max_known_urls =
   10 x that) with a config of SLEEP_TIME = 0 and SSRF_PROTECTION = off (its default blocks
   loopback addresses), on the same site under the name gazette.test, which its worker resolves
   to 127.0.0.1 (courlan drops every link of a host that is an IP address with a port: from
   http://127.0.0.1:PORT/ it keeps none). Measured: wall time, requests, public articles among
   its known links (what it found) and among the pages it fetched. It judges no page and stores
   nothing: its known links are what a user would download next, so its cost per article is
   its requests plus one for each article found but not fetched, over the articles found.
3. The `--new` articles are published (home, their section's first page, their tags and author;
   older teasers move down the pages as on a real site), then ours again on the same database:
   every path it requested, by kind (an article the first run missed is named as such).
   Target: listing pages and the new articles only.

Targets (issue 17): every article found, 0 non-articles stored, <= 1.3 fetches per stored article
on the first run, the second run fetches listings and the new articles only. Results go to
bench/results/crawl.json (`--json-out`) with the machine, versions and commit. Exit status 1 when
a run failed, the robots.txt area or any address past loopback was requested, else 0 (a target
missed is printed as FAIL). Without ../shared/bench the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import hashlib
import html as htmllib
import json
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(HERE))

from common import DEFAULT_DATA, git_state, machine, versions, worker_env, write_json

DEFAULT_OUT = HERE / "results" / "crawl.json"
DEFAULT_SEED = 20260317
SECTIONS = ("news", "politics", "business", "world", "sport", "culture", "science", "opinion")
PAGE_SIZE = 20  # teasers per listing page
HOME_LATEST = 30
TRENDING = 8  # tags linked from the home page
MEMBERS_BOX = 3  # private stories linked from the home page
TAGS = ("elections", "climate", "housing", "transport", "health", "education", "energy",
        "courts", "police", "budget", "trade", "technology", "football", "tennis", "music",
        "film", "books", "space", "weather", "farming", "tourism", "markets", "jobs", "europe",
        "asia", "africa", "americas", "migration", "research", "local-government")
FIRST = ("Ann", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira",
         "Liam", "Mei", "Nora", "Omar")
LAST = ("Okafor", "Lindqvist", "Moreau", "Patel", "Kowalski", "Haddad", "Nakamura", "Silva",
        "Brennan", "Novak", "Osei", "Fischer", "Ruiz", "Tanaka", "Walsh")
SHAPES = ("dated", "story", "slug", "wordpress")
SHAPE_WEIGHTS = (4, 2, 3, 2)
# trafilatura's crawler is given the site under this name (RFC 6761: never a real host), which
# its worker resolves to 127.0.0.1: courlan's domain filter drops every link of a host that is an
# IP address with a port, so from http://127.0.0.1:PORT/ it would keep no link at all.
ALIAS = "gazette.test"
BASE_DATE = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)
TARGET_FETCHES_PER_ARTICLE = 1.3
PUBLIC, PRIVATE, NEW = "public", "private", "new"
NOT_ARTICLE_TYPES = frozenset({"product", "event", "aboutpage", "contactpage", "faqpage",
                               "collectionpage", "itemlist", "searchresultspage", "profilepage",
                               "realestatelisting", "checkoutpage"})
# Kinds of the site's paths (what a request or a stored row was).
ARTICLE, LISTING, SERVICE, FILE_, ROBOTS = "article", "listing", "service", "file", "robots"
PRIVATE_AREA = "private"  # any page under /private/
SERVICE_PAGES = ("/about-us", "/contact", "/privacy-policy", "/terms-and-conditions", "/login",
                 "/newsletter", "/search?q=")
SOCIAL = ("https://twitter.com/loopbackgazette", "https://www.facebook.com/loopbackgazette",
          "https://www.instagram.com/loopbackgazette/", "https://partner.example/syndication")
ABOUT = ("The Loopback Gazette has reported on the city and the region since 1921.",
         "Our newsroom of sixty journalists publishes around the clock, every day of the year.",
         "We are owned by a charitable trust and answer to our readers, not to shareholders.",
         "Corrections are published on the page of the story they correct, with the date.",
         "Our editorial code follows the guidelines of the national press council.",
         "Readers can reach every reporter by e-mail; the addresses are on their pages.",
         "The paper printed its last daily edition in 2019 and now publishes online first.")
LEGAL = ("We collect the information you give us when you register, subscribe or write to us.",
         "We use cookies to keep you signed in and to measure which pages are read.",
         "You may ask us at any time for a copy of the personal data we hold about you.",
         "These terms apply to every use of the site, its applications and its newsletters.",
         "Content on this site may not be reproduced without the written consent of the publisher.",
         "We may change these terms; the date of the last change is shown at the top of the page.",
         "Payments for subscriptions are processed by a third party under its own terms.",
         "Disputes arising from these terms are governed by the law of the country of publication.",
         "We keep server logs for thirty days to protect the service against abuse.",
         "Advertising partners receive no personal data unless you consent to it.")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_OG_TITLE = re.compile(r"<meta[^>]+property=[\"']og:title[\"'][^>]+content=[\"']([^\"']*)",
                       re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_HREF = re.compile(r'href="([^"#]+)"')


# ---------------------------------------------------------------------------------------------
# The site


@dataclass
class Story:
    """One article of the site: a page of the shared sets, where and when it is published."""

    n: int
    origin: str  # "SET/KEY"
    html: str  # as the set has it
    title: str
    summary: str
    section: str
    author: int
    tags: tuple[int, ...]
    published: dt.datetime
    path: str
    area: str  # PUBLIC, PRIVATE or NEW


def slug_words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower())[:8]


def page_title(html: str) -> str:
    match = _OG_TITLE.search(html) or _TITLE.search(html)
    title = htmllib.unescape(" ".join(match.group(1).split())) if match else ""
    return re.split(r" [|\-–—] ", title)[0] if len(title) > 40 else title


def article_path(story_n: int, section: str, when: dt.datetime, slug: list[str], shape: str,
                 private: bool) -> str:
    if len(slug) < 3:
        shape = "story"
    words = "-".join(slug)
    if private:
        return (f"/private/{when:%Y/%m}/{words}-{story_n}.html" if shape != "story"
                else f"/private/story/{100000 + story_n}")
    return {"dated": f"/{section}/{when:%Y/%m/%d}/{words}-{story_n}.html",
            "story": f"/story/{100000 + story_n}",
            "slug": f"/{section}/{words}-{story_n}",
            "wordpress": f"/{when:%Y/%m/%d}/{words}/"}[shape]


def select_stories(data: Path, base_url: str, counts: dict[str, int], seed: int,
                   progress: Callable[[str], None]) -> tuple[list[Story], dict[str, int]]:
    """Stories for `counts` (area -> how many), from the shared sets' pages in a seeded order:
    each cleaned at the URL it will be served at; kept when the cleaner finds an article whose
    text no kept story has. Returns the stories and what was passed over (and why)."""
    from quality_sets import ASB, EVAL, NEWS, load_items, read_html

    from cleaner import Cleaner
    from records import Page

    warnings.simplefilter("ignore")  # dateutil's about some pages' time zones: not ours to fix
    rng = random.Random(seed)
    items = [(name, item) for name in (ASB, NEWS, EVAL) for item in load_items(name, data / name)]
    rng.shuffle(items)
    areas = [area for area, k in counts.items() for _ in range(k)]
    rng.shuffle(areas)
    cleaner = Cleaner()
    stories: list[Story] = []
    seen_texts: set[str] = set()
    passed: Counter[str] = Counter()
    older = BASE_DATE  # public and private stories go back from BASE_DATE, new ones forward
    newer = BASE_DATE
    tag_weights = [1 / (i + 1) ** 0.7 for i in range(len(TAGS))]
    for set_name, item in items:
        if len(stories) == len(areas):
            break
        html = read_html(item.path)
        area = areas[len(stories)]
        n = len(stories) + 1
        gap = dt.timedelta(minutes=rng.randint(40, 300))
        when = newer + gap if area == NEW else older - gap
        section = rng.choice(SECTIONS)
        title = page_title(html)
        shape = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
        path = article_path(n, section, when, slug_words(title), shape, area == PRIVATE)
        url = base_url + path
        body = html.encode("utf-8")
        result = cleaner.clean(Page(url=url, final_url=url, status=200, body=body,
                                    content_type="text/html; charset=utf-8", encoding="utf-8",
                                    bytes=len(body)))
        article = result.article
        if article is None or not article.text.strip():
            passed["no article found by the cleaner"] += 1
            continue
        if declared_not_article(html, url):
            passed["declares itself no article (JSON-LD)"] += 1
            continue
        digest = hashlib.sha1(article.text.encode()).hexdigest()
        if digest in seen_texts:
            passed["article text of a page kept already"] += 1
            continue
        seen_texts.add(digest)
        if area == NEW:
            newer = when
        else:
            older = when
        words = (article.description or article.text).split()
        summary = " ".join(words[:30]) + (" ..." if len(words) > 30 else "")
        tags = tuple(sorted(set(rng.choices(range(len(TAGS)), tag_weights,
                                            k=rng.choice((1, 1, 2, 2, 3))))))
        stories.append(Story(n, f"{set_name}/{item.key}", html, article.title or title or path,
                             summary, section, rng.randrange(len(FIRST)), tags, when, path, area))
        if len(stories) % 100 == 0:
            progress(f"  {len(stories)} of {len(areas)} pages chosen")
    if len(stories) < len(areas):
        raise SystemExit(f"bench/crawl.py: the shared sets give {len(stories)} usable pages, "
                         f"{len(areas)} wanted: ask for fewer --articles")
    return stories, dict(passed)


def declared_not_article(html: str, url: str) -> bool:
    """Whether the page's JSON-LD says it is something else than an article (a product, an
    event, a collection...) and never an article: trafilatura-eval has such pages, and a crawl
    that does not store them is right."""
    from cleaner.judge import signals

    types = signals(html, url, "").ld_types
    return not any(t.endswith(("article", "blogposting")) for t in types) and bool(
        types & NOT_ARTICLE_TYPES)


def author_name(a: int) -> str:
    return f"{FIRST[a]} {LAST[(a * 7) % len(LAST)]}"


def author_path(a: int, page: int = 1) -> str:
    slug = author_name(a).lower().replace(" ", "-")
    return f"/people/{slug}/" + (f"?page={page}" if page > 1 else "")


def tag_path(t: int, page: int = 1) -> str:
    return f"/tag/{TAGS[t]}/" + (f"page/{page}/" if page > 1 else "")


def section_path(s: int, page: int = 1) -> str:
    name = SECTIONS[s]
    if page == 1:
        return f"/{name}/"
    return (f"/{name}/page/{page}/", f"/{name}/?page={page}", f"/{name}/archive/{page}",
            f"/{name}/p/{page}")[s % 4]


def esc(text: str) -> str:
    return htmllib.escape(text, quote=True)


def chrome(title: str, main: str, head: str = "") -> str:
    """A generated page: header navigation and search, `main`, the footer."""
    nav = " ".join(f'<a href="/{s}/">{s.title()}</a>' for s in SECTIONS)
    service = " ".join(f'<a href="{p}">{p.strip("/").split("?")[0].replace("-", " ").title()}'
                       f"</a>" for p in SERVICE_PAGES)
    social = " ".join(f'<a href="{u}" rel="noopener">{urlsplit(u).hostname}</a>' for u in SOCIAL)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)} | The Loopback Gazette</title>"
            f'<meta name="viewport" content="width=device-width">'
            f'<link rel="stylesheet" href="/static/site.css">{head}</head><body>'
            f'<a class="skip" href="#main">Skip to content</a>'
            f'<header><a class="logo" href="/">The Loopback Gazette</a><nav>{nav}</nav>'
            f'<form action="/search" method="get"><input name="q" aria-label="Search">'
            f'<button>Search</button></form><a href="/login">Log in</a> '
            f'<a href="/newsletter">Newsletter</a></header>'
            f'<main id="main">{main}</main>'
            f"<footer><nav>{service}</nav><p>{social}</p>"
            f'<p><a href="mailto:newsroom@gazette.example">newsroom@gazette.example</a> '
            f'<a href="tel:+15550100">+1 555 0100</a> '
            f'<a href="javascript:void(0)">Cookie settings</a></p>'
            f"<p>© 2026 The Loopback Gazette</p></footer></body></html>")


def teaser(story: Story, summary: bool = True, byline: bool = True) -> str:
    kicker = (f'<a class="kicker" href="{tag_path(story.tags[0])}">'
              f"{TAGS[story.tags[0]].replace('-', ' ').title()}</a>")
    stamp = (f'<time datetime="{story.published.isoformat()}">'
             f"{story.published:%d %B %Y, %H:%M}</time>")
    by = (f'<p class="byline">By <a href="{author_path(story.author)}">'
          f"{author_name(story.author)}</a> · {stamp}</p>" if byline else f"<p>{stamp}</p>")
    standfirst = f'<p class="standfirst">{esc(story.summary)}</p>' if summary else ""
    return (f'<article class="teaser">{kicker}<h3><a href="{story.path}">{esc(story.title)}'
            f"</a></h3>{standfirst}{by}</article>")


def pager(urls: list[str], k: int, style: int) -> tuple[str, str]:
    """(head extra, pager HTML) of page `k` (1-based) of the pages at `urls`."""
    if len(urls) < 2:
        return "", ""
    items = []
    if k > 1:
        rel = ' rel="prev"' if style == 0 else ""
        items.append(f'<li><a href="{urls[k - 2]}"{rel}>« Previous</a></li>')
    shown = sorted({1, len(urls), *range(max(1, k - 2), min(len(urls), k + 2) + 1)})
    last = 0
    for p in shown:
        if p > last + 1:
            items.append("<li>…</li>")
        items.append(f"<li><span>{p}</span></li>" if p == k
                     else f'<li><a href="{urls[p - 1]}">{p}</a></li>')
        last = p
    head = ""
    if k < len(urls):
        nxt = urls[k]
        items.append({
            0: f'<li><a href="{nxt}" rel="next">Next</a></li>',
            1: f'<li><a class="pagination__link" href="{nxt}">Next ›</a></li>',
            2: f'<li><a class="pager-link" href="{nxt}">Older posts</a></li>',
            3: f'<li class="pager__item--next"><a href="{nxt}">Load more stories</a></li>',
            4: f'<li><a href="{nxt}" rel="next">Next</a></li>',
            5: f'<li><a href="{nxt}" aria-label="Next page">›</a></li>',
        }[style])
        if style == 5:
            head = f'<link rel="next" href="{nxt}">'
    return head, f'<nav class="pager"><ul>{"".join(items)}</ul></nav>'


def paginated(title: str, stories: list[Story], paths: Callable[[int], str], style: int,
              intro: str = "", head: str = "", **teaser_args: bool) -> dict[str, str]:
    """The pages of one listing: path -> HTML."""
    chunks = [stories[i:i + PAGE_SIZE] for i in range(0, len(stories), PAGE_SIZE)] or [[]]
    urls = [paths(p) for p in range(1, len(chunks) + 1)]
    pages = {}
    for k, chunk in enumerate(chunks, 1):
        extra, nav = pager(urls, k, style)
        heading = title if k == 1 else f"{title}, page {k}"
        main = (f"<h1>{esc(heading)}</h1>{intro if k == 1 else ''}"
                + "".join(teaser(s, **teaser_args) for s in chunk) + nav)
        pages[urls[k - 1]] = chrome(heading, main, head + extra)
    return pages


def prose(rng: random.Random, sentences: tuple[str, ...], paragraphs: int, per: int) -> str:
    return "".join("<p>" + " ".join(rng.sample(sentences, per)) + "</p>"
                   for _ in range(paragraphs))


def related_block(story: Story, same_section: list[Story]) -> str:
    """What a real site puts around an article: navigation, related stories, tags, author."""
    nav = " ".join(f'<a href="/{s}/">{s.title()}</a>' for s in SECTIONS)
    others = [s for s in same_section if s.n != story.n][:3]
    related = "".join(f'<li><a href="{s.path}">{esc(s.title)}</a></li>' for s in others)
    tags = " ".join(f'<a href="{tag_path(t)}">{TAGS[t]}</a>' for t in story.tags)
    service = " ".join(f'<a href="{p}">{p.strip("/").split("?")[0]}</a>' for p in SERVICE_PAGES)
    return (f'\n<nav class="gazette-nav"><a href="/">The Loopback Gazette</a> {nav}</nav>'
            f'<aside class="gazette-related"><h2>Related</h2><ul>{related}</ul>'
            f"<p>Topics: {tags}</p><p>More from "
            f'<a href="{author_path(story.author)}">{author_name(story.author)}</a></p></aside>'
            f'<footer class="gazette-footer">{service}</footer>\n')


@dataclass
class SitePage:
    kind: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"


def build_site(stories: list[Story], published_new: bool, seed: int,
               standfirsts: bool = True) -> dict[str, SitePage]:
    """Every page of the site (path -> SitePage) with the new stories published or not;
    teasers of the home, section and author pages with their standfirst or without."""
    rng = random.Random(seed + 1)
    visible = sorted((s for s in stories if s.area == PUBLIC or (s.area == NEW and published_new)),
                     key=lambda s: s.published, reverse=True)
    private = sorted((s for s in stories if s.area == PRIVATE), key=lambda s: s.published,
                     reverse=True)
    pages: dict[str, SitePage] = {}

    def add_html(kind: str, html_pages: dict[str, str]) -> None:
        for path, text in html_pages.items():
            pages[path] = SitePage(kind, text.encode("utf-8"))

    by_section = {s: [x for x in visible if x.section == s] for s in SECTIONS}
    for story in stories:
        if story.area == NEW and not published_new:
            continue
        block = related_block(story, by_section[story.section])
        match = list(_BODY_END.finditer(story.html))
        text = (story.html[:match[-1].start()] + block + story.html[match[-1].start():]
                if match else story.html + block)
        pages[story.path] = SitePage(PRIVATE_AREA if story.area == PRIVATE else ARTICLE,
                                     text.encode("utf-8"))

    trending = "".join(f'<li><a href="{tag_path(t)}">{TAGS[t].replace("-", " ").title()}</a></li>'
                       for t in range(TRENDING))
    members = "".join(f'<li><a href="{s.path}">{esc(s.title)}</a></li>'
                      for s in private[:MEMBERS_BOX])
    home = ('<h1 class="visually-hidden">The Loopback Gazette</h1><section><h2>Latest</h2>'
            + "".join(teaser(s, standfirsts) for s in visible[:HOME_LATEST]) + "</section>"
            f"<aside><h2>Trending</h2><ul>{trending}</ul>"
            f'<h2><a href="/private/">Members only</a></h2><ul>{members}</ul>'
            f'<p><a href="/files/annual-report-2025.pdf">Our annual report (PDF)</a></p>'
            f'<p><a href="/images/front-page.jpg"><img src="/images/front-page.jpg" '
            f'alt="Today\'s front page"></a></p></aside>')
    add_html(LISTING, {"/": chrome("News, sport and opinion", home,
                                   '<meta property="og:type" content="website">')})
    for i, name in enumerate(SECTIONS):
        head = ('<script type="application/ld+json">{"@context": "https://schema.org", '
                f'"@type": "CollectionPage", "name": "{name.title()}"}}</script>'
                if i % 2 == 0 else "")
        promo = (f'<p class="promo"><a href="/files/{name}-guide.pdf">The {name} guide (PDF)</a> '
                 f'<a href="/images/{name}-cover.jpg">Cover picture</a></p>')
        add_html(LISTING, paginated(name.title(), by_section[name], partial(section_path, i),
                                    i % 4, promo, head, summary=standfirsts))
    for t, tag in enumerate(TAGS):
        tagged = [s for s in visible if t in s.tags]
        if tagged:
            add_html(LISTING, paginated(tag.replace("-", " ").title(), tagged,
                                        partial(tag_path, t), 4, summary=False,
                                        byline=False))
    for a in range(len(FIRST)):
        theirs = [s for s in visible if s.author == a]
        bio = (f'<p class="bio">{author_name(a)} is a reporter of The Loopback Gazette. '
               + " ".join(rng.sample(ABOUT, 2)) + "</p>")
        if theirs:
            add_html(LISTING, paginated(author_name(a), theirs, partial(author_path, a),
                                        5, bio, summary=standfirsts, byline=False))
    add_html(PRIVATE_AREA, {"/private/": chrome("Members only", "<h1>Members only</h1>" + "".join(
        teaser(s) for s in private))})
    add_html(SERVICE, {
        "/about-us": chrome("About us", "<h1>About us</h1>" + prose(rng, ABOUT, 4, 3)),
        "/contact": chrome("Contact", "<h1>Contact the newsroom</h1><p>1 Loopback Street, "
                           "Localhost. Tips: newsroom@gazette.example.</p><form method=post>"
                           "<input name=email><textarea name=message></textarea>"
                           "<button>Send</button></form>"),
        "/privacy-policy": chrome("Privacy policy", "<h1>Privacy policy</h1>"
                                  + prose(rng, LEGAL, 8, 5)),
        "/terms-and-conditions": chrome("Terms and conditions", "<h1>Terms and conditions</h1>"
                                        + prose(rng, LEGAL, 8, 5)),
        "/login": chrome("Log in", '<h1>Log in</h1><form method="post" action="/login">'
                         '<input name="user"><input name="password" type="password">'
                         "<button>Log in</button></form>"),
        "/newsletter": chrome("Newsletter", "<h1>The morning briefing</h1><p>The day's five "
                              "stories that matter, in your inbox at seven, every weekday. "
                              "Free, and you can leave at any time.</p><form method=post>"
                              "<input name=email><button>Sign up</button></form>"),
        "/search?q=": chrome("Search", "<h1>Search</h1><p>Type a word or a name to search "
                             "the archive.</p>"),
    })
    pages["/robots.txt"] = SitePage(ROBOTS, b"User-agent: *\nDisallow: /private/\n",
                                    "text/plain; charset=utf-8")
    files = ["/files/annual-report-2025.pdf", "/images/front-page.jpg",
             *(f"/files/{s}-guide.pdf" for s in SECTIONS),
             *(f"/images/{s}-cover.jpg" for s in SECTIONS)]
    for path in files:
        pdf = path.endswith(".pdf")
        pages[path] = SitePage(FILE_, b"%PDF-1.4\n%%EOF\n" if pdf else b"\xff\xd8\xff\xd9",
                               "application/pdf" if pdf else "image/jpeg")
    return pages


# ---------------------------------------------------------------------------------------------
# The server


def route_key(target: str) -> str:
    """A request target as the site keys it: its path, then its non-empty query parameters
    sorted (crawlers canonicalise queries, drop "q=", and reorder)."""
    parts = urlsplit(target)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if v)
    return parts.path + ("?" + urlencode(query) if query else "")


@dataclass
class Resource:
    page: SitePage
    etag: str
    modified: float  # when its body last changed (epoch seconds, whole)


@dataclass(frozen=True)
class Hit:
    key: str  # route_key of the target
    target: str
    status: int
    conditional: bool
    agent: str


class SiteServer:
    """The site on 127.0.0.1 (ThreadingHTTPServer in a thread), with conditional requests."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *args: None  # type: ignore[method-assign]
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def publish(self, pages: dict[str, SitePage]) -> int:
        """Serve `pages` (and only them); returns how many are new or changed."""
        now = float(int(time.time()))
        if self.resources:  # a change must be seen by If-Modified-Since (1 s resolution)
            now = max(now, max(r.modified for r in self.resources.values()) + 1)
        fresh: dict[str, Resource] = {}
        changed = 0
        for path, page in pages.items():
            key = route_key(path)
            etag = '"' + hashlib.sha1(page.body).hexdigest()[:20] + '"'
            old = self.resources.get(key)
            if old is not None and old.etag == etag:
                fresh[key] = old
            else:
                fresh[key] = Resource(page, etag, now)
                changed += 1
        with self.lock:
            self.resources = fresh
        return changed

    def mark(self) -> int:
        with self.lock:
            return len(self.hits)

    def since(self, mark: int) -> list[Hit]:
        with self.lock:
            return self.hits[mark:]

    def kind(self, key: str) -> str:
        resource = self.resources.get(key)
        return resource.page.kind if resource else "missing"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            key = route_key(self.path)
            resource = server.resources.get(key)
            etags = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            status = 200 if resource else 404
            if resource is not None and (etags or since):
                if etags:
                    fresh = etags.strip() == "*" or resource.etag in [
                        e.strip().removeprefix("W/") for e in etags.split(",")]
                else:
                    try:
                        when = email.utils.parsedate_to_datetime(since or "").timestamp()
                    except (TypeError, ValueError):
                        when = -1.0
                    fresh = when >= resource.modified
                status = 304 if fresh else 200
            with server.lock:
                server.hits.append(Hit(key, self.path, status, bool(etags or since),
                                       self.headers.get("User-Agent") or ""))
            payload = b"not found" if resource is None else resource.page.body
            self.send_response(status)
            if resource is not None:
                self.send_header("ETag", resource.etag)
                self.send_header("Last-Modified",
                                 email.utils.formatdate(resource.modified, usegmt=True))
            if status == 304:
                self.end_headers()
                return
            self.send_header("Content-Type", resource.page.content_type if resource
                             else "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# ---------------------------------------------------------------------------------------------
# The workers (subprocesses): nothing past loopback


@dataclass
class Guard:
    """Refuses (and counts) every connection and name lookup that is not for loopback."""

    alias: str | None = None  # a name answered with 127.0.0.1
    refused: list[str] = field(default_factory=list)

    @staticmethod
    def loopback(host: object) -> bool:
        name = host.decode() if isinstance(host, bytes) else str(host)
        return name in ("localhost", "::1") or name.startswith("127.")

    def install(self) -> None:
        lookup, connect, connect_ex = (socket.getaddrinfo, socket.socket.connect,
                                       socket.socket.connect_ex)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if self.alias is not None and host in (self.alias, self.alias.encode()):
                host = "127.0.0.1"
            if host is not None and not self.loopback(host):
                self.refused.append(f"lookup {host}")
                raise socket.gaierror(socket.EAI_NONAME, "bench guard: not loopback")
            return lookup(host, *args, **kwargs)

        def check(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not self.loopback(address[0]):
                self.refused.append(f"connect {address[0]}")
                raise ConnectionRefusedError("bench guard: not loopback")

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            check(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            check(sock, address)
            return connect_ex(sock, address)

        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]


def worker_main(args: argparse.Namespace) -> int:
    guard = Guard(alias=ALIAS if args.worker == "trafilatura" else None)
    guard.install()
    out: dict[str, Any] = {}
    if args.worker == "ours":
        from pipeline.cli import main as scrape

        t0 = time.perf_counter()
        out["exit"] = scrape(["batch", "--sources", args.sources, "--db", args.db,
                              "--allow-private", "--delay", "0"])
        out["wall_s"] = time.perf_counter() - t0
    else:
        from trafilatura.settings import use_config
        from trafilatura.spider import focused_crawler

        config = use_config()
        config.set("DEFAULT", "SLEEP_TIME", "0")
        config.set("DEFAULT", "SSRF_PROTECTION", "off")
        t0 = time.perf_counter()
        to_visit, known = focused_crawler(args.home, max_seen_urls=args.max_seen,
                                          max_known_urls=args.max_known, config=config)
        out.update(wall_s=time.perf_counter() - t0, to_visit=to_visit, known=known, exit=0)
    out["refused"] = guard.refused
    sys.stdout.flush()
    print("\n" + json.dumps(out))
    return 0


def run_worker(cmd: list[str], timeout: float) -> dict[str, Any]:
    """A worker's JSON line, and the tail of what else it printed."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(), cwd=REPO,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    lines = proc.stdout.splitlines()
    found = [line for line in lines if line.startswith("{")]
    tail = [line for line in (lines + proc.stderr.splitlines())
            if line and not line.startswith("{")]
    if proc.returncode != 0 or not found:
        return {"error": f"worker exited with {proc.returncode}", "output": tail[-20:]}
    result = json.loads(found[-1])
    result["output"] = tail[-8:]
    return result


# ---------------------------------------------------------------------------------------------
# Measuring


def by_kind(hits: Iterable[Hit], server: SiteServer) -> dict[str, int]:
    return dict(Counter(server.kind(h.key) for h in hits))


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def listed_on(server: SiteServer) -> dict[str, list[str]]:
    """Article path -> the listing pages of the site that link it."""
    found: dict[str, list[str]] = {}
    for key, resource in server.resources.items():
        if resource.page.kind == LISTING:
            for href in dict.fromkeys(_HREF.findall(resource.page.body.decode("utf-8"))):
                found.setdefault(href, []).append(key)
    return found


def judged_again(server: SiteServer, url: str) -> dict[str, Any]:
    """How cleaner.judge decides on the page at `url` (cleaned as the crawl cleans it), and the
    signals it read: why a page that is no article was stored."""
    from cleaner import Cleaner
    from cleaner.judge import judge, signals
    from records import Page

    resource = server.resources.get(route_key(url.removeprefix(server.base)))
    if resource is None:
        return {}
    body = resource.page.body
    result = Cleaner().clean(Page(url=url, final_url=url, status=200, body=body,
                                  content_type=resource.page.content_type, encoding="utf-8",
                                  bytes=len(body)))
    found = signals(body.decode("utf-8"), url,
                    result.article.text if result.article is not None else "")
    return {"judged": judge(found).counter, "article_words": found.article_words,
            "article_link_words": found.article_link_words, "links": found.links,
            "ld_types": sorted(found.ld_types), "og_type": found.og_type}


def measure_ours(run: dict[str, Any], hits: list[Hit], server: SiteServer, db: Path,
                 stories: list[Story], canon: Callable[[str], str]) -> dict[str, Any]:
    """The first run's figures (see the module docstring)."""
    public = {canon(server.base + s.path): s for s in stories if s.area == PUBLIC}
    private = {canon(server.base + s.path) for s in stories if s.area == PRIVATE}
    kind_of_url = {canon(server.base + key): r.page.kind for key, r in server.resources.items()}
    stored = [url for (url,) in query(db, "SELECT url FROM articles")]
    run_id = query(db, "SELECT max(id) FROM runs")[0][0]
    fetched = query(db, "SELECT url, outcome, error FROM fetches WHERE run_id = ?", run_id)
    last: dict[str, tuple[str, str | None]] = {u: (o, e) for u, o, e in fetched}
    frontier = {u: (d, j) for u, d, j in query(db, "SELECT url, depth, judgement FROM frontier")}
    found = [u for u in stored if u in public]
    non_articles = [{"url": u, "kind": kind_of_url.get(u, "not on the site"),
                     **judged_again(server, u)} for u in stored if u not in public]
    missed = []
    found_set = set(found)
    for url, story in public.items():
        if url in found_set:
            continue
        outcome, error = last.get(url, (None, None))
        depth, judgement = frontier.get(url, (None, None))
        entry = {"url": url, "origin": story.origin, "outcome": outcome, "error": error,
                 "depth": depth, "judgement": judgement}
        if outcome is None:  # never fetched: what became of the listings that link it
            entry["listed_on"] = [
                f"{path}: {last.get(canon(server.base + path), ('not fetched',))[0]}"
                for path in listed_on(server).get(story.path, [])[:6]]
        missed.append(entry)
    decisions: dict[str, Counter[str]] = {}
    for url, outcome, error in fetched:
        kind = kind_of_url.get(url, "not on the site")
        key = f"{outcome} ({error})" if outcome.startswith("crawl.") else outcome
        decisions.setdefault(kind, Counter())[key] += 1
    site_hits = [h for h in hits if h.key != "/robots.txt"]
    depths = Counter(d for u, (d, _j) in frontier.items() if u in public)
    return {
        "wall_s": run.get("wall_s"), "exit": run.get("exit"), "output": run.get("output"),
        "published": len(public), "stored_rows": len(stored), "found": len(found),
        "missed": len(missed), "non_articles_stored": len(non_articles),
        "private_stored": sum(u in private for u in stored),
        "requests": len(site_hits), "robots_requests": len(hits) - len(site_hits),
        "distinct_requests": len({h.key for h in site_hits}),
        "requests_by_kind": by_kind(site_hits, server),
        "requests_by_status": dict(Counter(h.status for h in site_hits)),
        "fetches_per_stored_article": len(site_hits) / len(stored) if stored else None,
        "outcomes": dict(Counter(o for _u, o, _e in fetched)),
        "decisions_by_page_kind": {k: dict(v.most_common()) for k, v in sorted(decisions.items())},
        "article_depths": dict(sorted(depths.items(), key=lambda kv: str(kv[0]))),
        "skipped_links": dict(query(db, "SELECT reason, sum(links) FROM frontier_skips "
                                        "GROUP BY reason")),
        "missing_requested": sorted({h.target for h in site_hits if h.status == 404})[:50],
        "missed_list": missed, "non_articles_list": non_articles,
        "refused": run.get("refused", []),
    }


def measure_second(run: dict[str, Any], hits: list[Hit], server: SiteServer, db: Path,
                   stories: list[Story], canon: Callable[[str], str],
                   stored_before: set[str]) -> dict[str, Any]:
    """The second run's requests: listings and the new articles are the target."""
    new = {s.path for s in stories if s.area == NEW}
    site_hits = [h for h in hits if h.key != "/robots.txt"]
    classes: Counter[str] = Counter()
    others = []
    for h in site_hits:
        kind = server.kind(h.key)
        if h.key in new:
            classes["new article"] += 1
        elif kind == LISTING:
            classes[f"listing {h.status}"] += 1
        elif kind == ARTICLE and canon(server.base + h.key) not in stored_before:
            classes["article missed by the first run"] += 1
            others.append(f"{h.status} {h.target} (article missed by the first run)")
        else:
            classes[kind] += 1
            others.append(f"{h.status} {h.target} ({kind})")
    stored = {url for (url,) in query(db, "SELECT url FROM articles")}
    new_urls = {canon(server.base + p) for p in new}
    listing_pages = sum(r.page.kind == LISTING for r in server.resources.values())
    return {"wall_s": run.get("wall_s"), "exit": run.get("exit"), "output": run.get("output"),
            "requests": len(site_hits), "distinct_requests": len({h.key for h in site_hits}),
            "by_class": dict(classes.most_common()),
            "new_requested": len(new & {h.key for h in site_hits}), "new_published": len(new),
            "new_stored": len(new_urls & stored), "listing_pages_on_site": listing_pages,
            "conditional": sum(h.conditional for h in site_hits),
            "others": others, "refused": run.get("refused", [])}


def measure_trafilatura(run: dict[str, Any], hits: list[Hit], server: SiteServer,
                        stories: list[Story], canon: Callable[[str], str]) -> dict[str, Any]:
    public = {canon(server.base + s.path) for s in stories if s.area == PUBLIC}
    private = {canon(server.base + s.path) for s in stories if s.area == PRIVATE}
    alias = f"http://{ALIAS}:{urlsplit(server.base).port}"
    known = {canon(server.base + u.removeprefix(alias)) if u.startswith(alias) else canon(u)
             for u in run.get("known", [])}
    site_hits = [h for h in hits if h.key != "/robots.txt"]
    fetched = {canon(server.base + h.key) for h in site_hits}
    return {"wall_s": run.get("wall_s"), "error": run.get("error"), "published": len(public),
            "found": len(public & known), "known_links": len(known),
            "known_not_articles": len(known - public),
            "articles_fetched": len(public & fetched), "private_known": len(private & known),
            "to_visit_left": len(run.get("to_visit", [])), "requests": len(site_hits),
            "distinct_requests": len({h.key for h in site_hits}),
            "robots_requests": len(hits) - len(site_hits),
            "requests_by_kind": by_kind(site_hits, server),
            "requests_by_status": dict(Counter(h.status for h in site_hits)),
            # Its crawl fetched some of the articles it found; the others are one request each.
            "requests_with_found_articles": len(site_hits) + len((public & known) - fetched),
            "requests_per_article_found": ((len(site_hits) + len((public & known) - fetched))
                                           / len(public & known) if public & known else None),
            "refused": run.get("refused", []), "output": run.get("output")}


# ---------------------------------------------------------------------------------------------
# The bench


def write_sources(path: Path, home: str) -> None:
    path.write_text(f'[[source]]\nname = "loopback-gazette"\nkind = "site"\nurl = "{home}"\n'
                    "max_depth = 3\n", encoding="utf-8")


def site_summary(pages: dict[str, SitePage], stories: list[Story]) -> dict[str, Any]:
    kinds = Counter(p.kind for p in pages.values())
    shapes = Counter(("private" if s.path.startswith("/private/") else
                      "story" if s.path.startswith("/story/") else
                      "wordpress" if s.path.endswith("/") else
                      "dated" if s.path.endswith(".html") else "slug") for s in stories)
    return {"pages": dict(kinds), "stories_by_area": dict(Counter(s.area for s in stories)),
            "stories_by_set": dict(Counter(s.origin.split("/")[0] for s in stories)),
            "article_paths_by_shape": dict(shapes)}


def print_report(ours: dict[str, Any] | None, second: dict[str, Any] | None,
                 traf: dict[str, Any] | None) -> dict[str, Any]:
    def cell(r: dict[str, Any] | None, key: str, fmt: str = "{}") -> str:
        return "-" if r is None or r.get(key) is None else fmt.format(r[key])

    rows = [("articles found / published",
             f"{cell(ours, 'found')} / {cell(ours, 'published')}",
             f"{cell(traf, 'found')} / {cell(traf, 'published')} (known links)"),
            ("non-articles stored", cell(ours, "non_articles_stored"),
             f"n/a ({cell(traf, 'known_not_articles')} known links not articles)"),
            ("requests (robots.txt aside)", cell(ours, "requests"), cell(traf, "requests")),
            ("requests per stored article", cell(ours, "fetches_per_stored_article", "{:.3f}"),
             cell(traf, "requests_per_article_found",
                  "{:.3f} (crawl + found articles it did not fetch, per article found)")),
            ("wall time, s", cell(ours, "wall_s", "{:.1f}"), cell(traf, "wall_s", "{:.1f}"))]
    print(f"\n{'first run':<32} {'ours':<16} trafilatura focused_crawler")
    for name, a, b in rows:
        print(f"{name:<32} {a:<16} {b}")
    targets: dict[str, Any] = {}
    if ours is not None:
        targets["every article found"] = ours["found"] == ours["published"]
        targets["0 non-articles stored"] = ours["non_articles_stored"] == 0
        ratio = ours["fetches_per_stored_article"]
        targets[f"<= {TARGET_FETCHES_PER_ARTICLE} fetches per stored article"] = (
            ratio is not None and ratio <= TARGET_FETCHES_PER_ARTICLE)
    if second is not None:
        print(f"\nsecond run (after {second['new_published']} new articles): "
              f"{second['requests']} requests: "
              + ", ".join(f"{k} {v}" for k, v in second["by_class"].items()))
        for line in second["others"][:20]:
            print(f"    other: {line}")
        targets["second run: listings and the new articles only"] = (
            not second["others"] and second["new_requested"] == second["new_published"])
        again = [o for o in second["others"] if "missed by the first run" not in o]
        if second["others"] and not again:
            print("    (the others are only articles the first run missed: no stored article "
                  "and no page judged other was fetched again)")
    print("\ntargets: " + "; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in targets.items()))
    return targets


def bench_main(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        print(f"bench/crawl.py: {args.data} is not here (the shared benchmark sets live on the "
              "team's machines): nothing to measure", file=sys.stderr)
        return 0
    from records.urls import canonicalize

    def say(message: str) -> None:
        print(message, flush=True)

    server = SiteServer()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="scrape-bench-crawl-"))
    work.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    try:
        say(f"choosing {args.articles} + {args.private} private + {args.new} new pages ...")
        t0 = time.perf_counter()
        stories, passed = select_stories(args.data, server.base, {
            PUBLIC: args.articles, PRIVATE: args.private, NEW: args.new}, args.seed, say)
        standfirsts = args.teasers == "standfirst"
        pages = build_site(stories, published_new=False, seed=args.seed, standfirsts=standfirsts)
        server.publish(pages)
        server.start()
        summary = site_summary(pages, stories)
        say(f"site on {server.base}/: {summary['pages']} ({time.perf_counter() - t0:.0f} s to "
            f"choose and build; passed over: {passed or 'none'})")
        home = server.base + "/"
        sources, db = work / "sources.toml", work / "crawl.db"
        write_sources(sources, home)
        me = [sys.executable, str(Path(__file__).resolve())]
        ours = second = traf = None
        if "ours" in args.systems:
            say("ours, first run ...")
            mark = server.mark()
            run = run_worker(me + ["--worker", "ours", "--sources", str(sources),
                                   "--db", str(db)], args.timeout)
            if "error" in run:
                problems.append(f"ours, first run: {run['error']}: {run.get('output')}")
            else:
                ours = measure_ours(run, server.since(mark), server, db, stories, canonicalize)
                say(f"  {ours['found']}/{ours['published']} found, {ours['stored_rows']} rows, "
                    f"{ours['requests']} requests, {ours['wall_s']:.1f} s")
        if "trafilatura" in args.systems:
            say("trafilatura focused_crawler ...")
            mark = server.mark()
            n_pages = len(pages)
            port = urlsplit(server.base).port
            run = run_worker(me + ["--worker", "trafilatura", "--home", f"http://{ALIAS}:{port}/",
                                   "--max-seen", str(n_pages), "--max-known",
                                   str(10 * n_pages)], args.timeout)
            if "error" in run:
                problems.append(f"trafilatura: {run['error']}: {run.get('output')}")
            else:
                traf = measure_trafilatura(run, server.since(mark), server, stories,
                                           canonicalize)
                say(f"  {traf['found']}/{traf['published']} in its known links, "
                    f"{traf['requests']} requests, {traf['wall_s']:.1f} s")
        if ours is not None:
            changed = server.publish(build_site(stories, published_new=True, seed=args.seed,
                                                standfirsts=standfirsts))
            say(f"published {args.new} new articles ({changed} pages new or changed); "
                "ours, second run ...")
            stored_before = {url for (url,) in query(db, "SELECT url FROM articles")}
            mark = server.mark()
            run = run_worker(me + ["--worker", "ours", "--sources", str(sources),
                                   "--db", str(db)], args.timeout)
            if "error" in run:
                problems.append(f"ours, second run: {run['error']}: {run.get('output')}")
            else:
                second = measure_second(run, server.since(mark), server, db, stories,
                                        canonicalize, stored_before)
                second["pages_changed"] = changed
    finally:
        server.stop()
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    for name, r in (("ours", ours), ("trafilatura", traf), ("ours, second run", second)):
        if r is not None and r.get("refused"):
            problems.append(f"{name}: connections past loopback refused: {r['refused'][:5]}")
    if ours is not None and ours["requests_by_kind"].get(PRIVATE_AREA):
        problems.append("ours requested pages under /private/ (robots.txt)")
    for r in (ours, second):
        if r is not None and r.get("exit") not in (0, None):
            problems.append(f"scrape batch exited with {r['exit']}: {r.get('output')}")
    targets = print_report(ours, second, traf)
    if ours is not None:
        for m in ours["missed_list"][:args.show]:
            print(f"    missed: {m['url']} ({m['origin']}): {m['outcome']} {m['error'] or ''} "
                  f"depth {m['depth']} judged {m['judgement']}")
            for line in m.get("listed_on", [])[:3]:
                print(f"        listed on {line}")
        for m in ours["non_articles_list"][:args.show]:
            print(f"    non-article stored: {m['url']} ({m['kind']}): judged {m.get('judged')}, "
                  f"{m.get('article_words')} words of which {m.get('article_link_words')} "
                  f"link text, {m.get('links')} links, JSON-LD {m.get('ld_types')}")
    for p in problems:
        print(f"CHECK FAILED: {p}")
    payload = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(), "git": git_state(),
        "versions": versions(["trafilatura", "courlan", "selectolax", "httpx", "lxml"]),
        "args": {"articles": args.articles, "private": args.private, "new": args.new,
                 "seed": args.seed, "systems": args.systems, "teasers": args.teasers},
        "site": {**summary, "passed_over": passed, "base": server.base},
        "targets": targets, "ours": ours, "ours_second_run": second, "trafilatura": traf,
        "problems": problems,
    }
    write_json(args.json_out, payload)
    print(f"results written to {args.json_out}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000, help="public articles (1000)")
    parser.add_argument("--private", type=int, default=10,
                        help="articles under /private/, which robots.txt disallows (10)")
    parser.add_argument("--new", type=int, default=20,
                        help="articles published before the second run (20)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--teasers", choices=("standfirst", "headline"), default="standfirst",
                        help="teasers of the home, section and author pages: headline, "
                        "standfirst, author and time (default), or without the standfirst")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--systems", default="ours,trafilatura",
                        type=lambda v: [s.strip() for s in v.split(",") if s.strip()],
                        help="comma-separated, of: ours, trafilatura")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per crawl (1800)")
    parser.add_argument("--show", type=int, default=20,
                        help="missed articles and non-articles listed (20)")
    parser.add_argument("--workdir", help="keep the sources file and database here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", choices=("ours", "trafilatura"), help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--max-seen", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-known", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    if args.articles < 1 or args.private < 0 or args.new < 0:
        parser.error("--articles must be at least 1; --private and --new at least 0")
    unknown = set(args.systems) - {"ours", "trafilatura"}
    if unknown or not args.systems:
        parser.error(f"unknown --systems {sorted(unknown)}; choose from ours, trafilatura")
    try:
        return bench_main(args)
    except KeyboardInterrupt:
        print("bench/crawl.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
