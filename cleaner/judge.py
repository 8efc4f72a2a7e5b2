"""What a crawled page is: an article (cleaned and stored), a listing (its links are
followed; home, section, tag, author, archive pages) or other (about, contact, login, search,
legal pages: neither).

The rule, first match wins; each decision carries its reason, which the crawl counts:

1. `root`: the site's home page is a listing.
2. `declared`: what the page says it is. A JSON-LD @type of the article family (NewsArticle,
   BlogPosting, ReportageNewsArticle, ...: any type ending in "article" or "blogposting") or
   og:type "article" makes an article when the cleaner found an article in it; a
   CollectionPage, ItemList, SearchResultsPage or ProfilePage a listing; an AboutPage,
   ContactPage, or a similar service page other.
3. `url`: the URL's shape. courlan's navigation paths (/tag/, /category/, /author/, /page/2,
   /archives/, ?p=2) are listings; its not-crawlable paths (contact, login, imprint) and the
   usual service paths (about, privacy, terms, search, subscribe, account, ...) are other;
   a URL shaped like an article's (its last segment a slug of at least three words, or an id
   of at least five digits, or a date in the path before a last segment that is not a
   number) is an article when the cleaner found an article in the page that is not mostly
   the text of links (a list of teasers).
4. `content`: what the page holds. A page whose paragraphs are mostly (MIN_TEASER_SHARE)
   in MIN_TEASERS or more teaser cards (a linked headline and its standfirst, in a block of
   its own) is a listing, whatever its URL: this is checked right after the declarations.
   The cleaner's article of at least MIN_ARTICLE_WORDS
   words, not mostly link text, is an article; a page with at least MIN_LISTING_LINKS links
   and no such article is a listing; anything else is other.

A page judged "article" whose cleaning fails is recorded as that failure, as today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from courlan.filters import is_navigation_page, is_not_crawlable
from selectolax.lexbor import LexborHTMLParser, LexborNode

from records.urls import is_site_root

from .metadata import declared_types

ARTICLE, LISTING, OTHER = "article", "listing", "other"
KINDS = (ARTICLE, LISTING, OTHER)
ROOT, DECLARED, URL_SHAPE, CONTENT = "root", "declared", "url", "content"

MIN_ARTICLE_WORDS = 120  # the cleaner's article text, without a declaration
MIN_LISTING_LINKS = 3  # links a page without an article needs to be a listing (else other)
MAX_LINK_SHARE = 0.5  # an "article" more than half of whose words are link text is a list
# A page whose paragraphs are mostly in teaser cards (a linked headline and its standfirst)
# lists stories, however long it is.
MIN_TEASERS = 3
MIN_TEASER_SHARE = 0.7
MAX_TEASER_WORDS = 100

_LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage", "profilepage"})
_OTHER_TYPES = frozenset({"aboutpage", "contactpage", "checkoutpage", "faqpage", "qapage",
                          "medicalwebpage", "realestatelisting", "product", "event"})
_SERVICE_PATH = re.compile(
    r"/(about(-us)?|contact(-us)?|privacy([-_]policy)?|terms([-_]of[-_](use|service))?|"
    r"cookies?([-_]policy)?|legal|imprint|impressum|search|subscribe|subscriptions?|"
    r"newsletters?|account|my-account|sign-?in|sign-?up|log-?in|log-?out|register|"
    r"careers|jobs|advertise|help|faq|accessibility|sitemap|terms[-_]and[-_]conditions|"
    r"conditions[-_]of[-_]use|cookie[-_]policy|agb|datenschutz)(\.[a-z]{3,5})?/?$",
    re.IGNORECASE)
# A date in the path: /2024/05/, /2024-05-01, /20240501.
_DATE_PATH = re.compile(r"/(19|20)\d\d([/-])[01]?\d(\2[0-3]?\d)?(/|$|[-_])|/(19|20)\d{6}\D")
_SLUG = re.compile(r"^[^\W\d_]*\w*([-_][^\W_]+){2,}")  # three words or more, "-" or "_"
_ID = re.compile(r"\d{5,}")
_LD_SCRIPTS = "script[type='application/ld+json']"
_CHROME = frozenset({"nav", "header", "footer", "aside", "form"})
_MAX_LD_BYTES = 1_000_000  # a page's JSON-LD read at most, in all


@dataclass(frozen=True)
class Signals:
    """What the rule reads of a page."""

    url: str
    ld_types: frozenset[str]  # JSON-LD @type values, lower case, without "schema:" prefixes
    og_type: str | None
    links: int  # <a href> elements
    article_words: int  # words of the cleaner's article (0: it found none)
    article_link_words: int  # of those, words that are the text of a link on the page
    teasers: int = 0  # teaser cards: a small block under one linked heading
    teaser_share: float = 0.0  # the share of the page's paragraph words that are in them


@dataclass(frozen=True)
class Judgement:
    kind: str  # ARTICLE, LISTING or OTHER
    reason: str  # ROOT, DECLARED, URL_SHAPE or CONTENT

    @property
    def counter(self) -> str:
        """The counter key of this decision: "listing.url", "article.declared"..."""
        return f"{self.kind}.{self.reason}"


def signals(html: str, url: str, article_text: str | None = None) -> Signals:
    """The page's signals, from its HTML and the cleaner's article text ("" when it found
    none); without that text (None), from the page's own paragraphs (page_prose), so that
    a crawl can judge a page before cleaning it."""
    tree = LexborHTMLParser(html)
    prose = page_prose(tree)
    if article_text is None:
        article_text = prose
    scripts, budget = [], _MAX_LD_BYTES
    for node in tree.css(_LD_SCRIPTS):
        text = node.text(deep=True) or ""
        budget -= len(text)
        if budget < 0:
            break
        scripts.append(text)
    ld_types = declared_types(scripts)
    og = tree.css_first("meta[property='og:type']")
    og_type = ((og.attributes.get("content") or "").strip().lower() or None) if og else None
    anchors = tree.css("a[href]")
    link_text = {" ".join((a.text(deep=True) or "").split()) for a in anchors}
    words = (article_text or "").split()
    in_links = sum(len(line.split()) for line in (article_text or "").split("\n")
                   if " ".join(line.split()) in link_text)
    teasers, teaser_words = _teasers(tree)
    paragraph_words = len(prose.split())
    return Signals(url=url, ld_types=frozenset(ld_types), og_type=og_type, links=len(anchors),
                   article_words=len(words), article_link_words=in_links, teasers=teasers,
                   teaser_share=teaser_words / paragraph_words if paragraph_words else 0.0)


def _teasers(tree: LexborHTMLParser) -> tuple[int, int]:
    """(teaser cards, words of their paragraphs): a card is the element around a heading
    whose link leads to another page, holding no other heading and at most
    MAX_TEASER_WORDS words, as section, tag and author pages list their stories."""
    cards, words = 0, 0
    seen: set[int] = set()
    for link in tree.css("h2 a[href], h3 a[href], h4 a[href]"):
        if (link.attributes.get("href") or "#").startswith("#"):
            continue
        heading = link.parent
        while heading is not None and heading.tag not in ("h2", "h3", "h4"):
            heading = heading.parent
        card = heading.parent if heading is not None else None
        if card is None or card.mem_id in seen or _in_chrome(card):
            continue
        seen.add(card.mem_id)
        text = (card.text(deep=True, separator=" ") or "").split()
        if len(text) > MAX_TEASER_WORDS or len(card.css("h1, h2, h3, h4")) != 1:
            continue
        cards += 1
        words += sum(len((p.text(deep=True) or "").split()) for p in card.css("p"))
    return cards, words


def _in_chrome(node: LexborNode) -> bool:
    """Whether `node` lies in the page's navigation, header, footer, an aside or a form."""
    parent = node
    while parent is not None:
        if parent.tag in _CHROME:
            return True
        parent = parent.parent
    return False


def page_prose(tree: LexborHTMLParser) -> str:
    """The page's paragraphs outside its navigation, header, footer, asides and forms, one
    a line, as the words of an article before cleaning (a teaser's headline is a paragraph
    too, and counts as link text)."""
    lines = []
    for node in tree.css("p"):
        text = " ".join((node.text(deep=True) or "").split())
        if text and not _in_chrome(node):
            lines.append(text)
    return "\n".join(lines)


def _article_type(name: str) -> bool:
    return name.endswith(("article", "blogposting"))


def _article_url(path: str) -> bool:
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return False
    last = segments[-1].rsplit(".", 1)[0] if "." in segments[-1] else segments[-1]
    if _SLUG.match(last) or _ID.search(last):
        return True
    return bool(_DATE_PATH.search(path)) and not last.isdigit()


def judge(s: Signals) -> Judgement:
    """The rule of the module docstring."""
    if is_site_root(s.url):
        return Judgement(LISTING, ROOT)
    has_article = s.article_words > 0
    if (any(_article_type(t) for t in s.ld_types) or s.og_type == "article") and has_article:
        return Judgement(ARTICLE, DECLARED)
    if s.ld_types & _LISTING_TYPES:
        return Judgement(LISTING, DECLARED)
    if s.ld_types & _OTHER_TYPES:
        return Judgement(OTHER, DECLARED)
    if s.teasers >= MIN_TEASERS and s.teaser_share >= MIN_TEASER_SHARE:
        return Judgement(LISTING, CONTENT)
    try:
        path = urlsplit(s.url).path
    except ValueError:
        path = ""
    if is_navigation_page(s.url):
        return Judgement(LISTING, URL_SHAPE)
    if is_not_crawlable(s.url) or _SERVICE_PATH.search(path):
        return Judgement(OTHER, URL_SHAPE)
    prose = has_article and s.article_link_words <= MAX_LINK_SHARE * s.article_words
    if prose and _article_url(path):
        return Judgement(ARTICLE, URL_SHAPE)
    if prose and s.article_words >= MIN_ARTICLE_WORDS:
        return Judgement(ARTICLE, CONTENT)
    if s.links >= MIN_LISTING_LINKS:
        return Judgement(LISTING, CONTENT)
    return Judgement(OTHER, CONTENT)
