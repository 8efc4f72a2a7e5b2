"""trafilatura on the pruned page: the main text as paragraphs, and the page's metadata.

What the page declares about itself (canonical link, JSON-LD, meta tags) is read by `declared`
from the unpruned page and merged over trafilatura's values by `with_declared`
(the rule is in cleaner.metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

import trafilatura
from htmldate.extractors import extract_url_date
from htmldate.settings import MIN_DATE
from htmldate.utils import Extractor as DateOptions
from lxml.html import HtmlElement
from selectolax.lexbor import LexborHTMLParser
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from .blocks import Block, line_blocks
from .dates import day, local_day, normalize_date
from .media import Media
from .metadata import PageMeta, merge, page_metadata, parse_head
from .text import fold, split_paragraphs
from .trafmeta import page_metadata as trafilatura_metadata
from .values import absolute

_URL_DATE_OPTIONS = DateOptions(extensive=False, max=datetime(2100, 1, 1), min=MIN_DATE,
                                original=True, format="%Y-%m-%d")


@dataclass
class Extracted:
    paragraphs: list[str]
    # The block each paragraph comes from (cleaner.blocks); one per paragraph.
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    description: str | None = None
    author: str | None = None
    date: str | None = None  # YYYY-MM-DD once merged (trafilatura gives YYYY-MM-DD)
    date_modified: str | None = None  # YYYY-MM-DD
    sitename: str | None = None
    language: str | None = None
    url: str | None = None  # the page's own canonical link or og:url
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    media: Media | None = None  # the page's links and images, when the markdown keeps them


@dataclass
class Declared:
    """What the page's head declares about itself."""

    canonical_url: str | None = None
    language: str | None = None  # JSON-LD inLanguage, <html lang>, content-language, og:locale
    meta: PageMeta = field(default_factory=PageMeta)  # JSON-LD merged over the meta tags


def declared(html: str, base_url: str | None = None) -> Declared:
    """The page's canonical link (or og:url), resolved against `base_url`, its language, and
    its declared metadata (cleaner.metadata), from one parse of the head.

    Read here rather than through trafilatura, which drops canonical links it cannot validate
    (relative ones without an og: tag, IP hosts) and reads no <html lang>.
    """
    head = parse_head(html)  # the head is enough (JSON-LD in <body> is found without parsing)
    out = Declared(canonical_url=_canonical_link(head[0], base_url))
    # A saved page without its URL still resolves relative images against its canonical link.
    out.meta = page_metadata(html, base_url=base_url or out.canonical_url, head=head)
    out.language = out.meta.language
    return out


def canonical_link(html: str, base_url: str | None = None) -> str | None:
    """The page's rel=canonical link (or og:url), absolute; only the head is parsed, so this
    is cheap enough to ask before deciding whether to clean a page at all."""
    return _canonical_link(parse_head(html)[0], base_url)


def _canonical_link(tree: LexborHTMLParser, base_url: str | None) -> str | None:
    for selector, attr in (('link[rel="canonical" i]', "href"),
                           ('meta[property="og:url"]', "content")):
        node = tree.css_first(selector)
        href = (node.attributes.get(attr) or "").strip() if node is not None else ""
        if href:
            url = urljoin(base_url, href) if base_url else href
            if url.startswith(("http://", "https://")):
                return url
    return None


def with_declared(ex: Extracted, head: Declared, base_url: str | None = None) -> Extracted:
    """`ex` with the page's declared metadata merged over trafilatura's (cleaner.metadata's
    rule), dates cut to the day (trafilatura's day settles a UTC timestamp's, see
    dates.local_day), and `url` set to the declared canonical link.

    Where the page's bylines name no person (only the site, an e-mail address), trafilatura's
    names that are only words of those bylines are the same declaration split its own way
    ("SPIEGEL ONLINE, Hamburg, Germany" -> "Hamburg; Germany") and are not used."""
    own = PageMeta(title=ex.title, description=ex.description,
                   author=_not_from(ex.author, head.meta.bylines),
                   date=normalize_date(ex.date), date_modified=normalize_date(ex.date_modified),
                   sitename=ex.sitename, language=ex.language,
                   image_url=absolute(ex.image_url, base_url or head.canonical_url),
                   tags=ex.tags)
    m = merge(head.meta, own)
    ex.title, ex.description, ex.author = m.title, m.description, m.author
    ex.date, ex.date_modified = local_day(m.date, ex.date), day(m.date_modified)
    ex.sitename, ex.language, ex.image_url, ex.tags = m.sitename, m.language, m.image_url, m.tags
    ex.url = head.canonical_url
    return ex


def _not_from(author: str | None, bylines: list[str]) -> str | None:
    """The "; "-joined names of `author` that share no word with `bylines` and are no part of
    one ("Happyface" from "happyface313")."""
    if not author or not bylines:
        return author
    words = {w for b in bylines for w in fold(b).split()}
    keys = [fold(b).replace(" ", "") for b in bylines]
    names = [n for n in author.split("; ") if (key := fold(n)) and not words & set(key.split())
             and not any(key.replace(" ", "") in k for k in keys)]
    return "; ".join(names) or None


def url_day(url: str | None) -> str | None:
    """The day a URL's path gives ("/2019/11/19/...", "/2025-09-10-story"), via htmldate."""
    if not url:
        return None
    try:
        return extract_url_date(url, _URL_DATE_OPTIONS)
    except (ValueError, OverflowError):
        return None


def declared_enough(head: Declared) -> bool:
    """Whether the page's own declarations settle title, date and author, so that
    trafilatura's metadata pass (htmldate's search of the body is most of its cost, and its
    byline search finds authors pages do not declare) can be skipped.

    A UTC date-time is then settled by the URL's day alone (dates.local_day): asking
    trafilatura as well changes the day of few such pages, about as often for the worse as
    for the better, at the cost of its whole metadata pass on every one.
    """
    meta = head.meta
    return bool(meta.title and meta.date and meta.author)


def extract(html: str, url: str | None = None, with_metadata: bool = True,
            search_dates: bool = True, favor_recall: bool = False,
            fast: bool = False, settled: tuple[bool, bool] = (False, False)) -> Extracted | None:
    """Run trafilatura (comments off, its fallbacks on unless `fast`); None when it finds nothing.

    `with_metadata=False` skips trafilatura's metadata: the caller has the page's own.
    `search_dates=False` keeps htmldate to its quick look (meta, <time>, URL) instead of
    searching the text, for a page that declares its date and needs only its day settled.
    `favor_recall` is trafilatura's recall focus (see cleaner.stage for when it is used).
    `fast`: without its fallbacks (CleanConfig.fast).
    `settled`: whether the page's own title, tags win over trafilatura's (metadata.settled),
    which its metadata pass then does not search for (cleaner.trafmeta).
    """
    date_params = set_date_params(search_dates)
    source: str | HtmlElement = html
    meta = None
    if with_metadata:  # trafilatura's pass, on the tree it then extracts from (parsed once)
        tree = load_html(html)
        if tree is None:
            return None
        try:
            meta = trafilatura_metadata(tree, url, date_params, title=not settled[0],
                                        tags=not settled[1])
        except (TypeError, ValueError):  # what bare_extraction reads as "no document"
            return None
        source = tree
    doc = trafilatura.bare_extraction(
        source,
        url=url,
        favor_recall=favor_recall,
        fast=fast,
        with_metadata=False,
        date_extraction_params=date_params,
        include_comments=False,
        include_tables=True,
        include_images=False,
        # trafilatura's dedup cache is process-global state; repeats.py collapses repeats.
        deduplicate=False,
    )
    if doc is None:
        return None
    paragraphs = split_paragraphs(doc.text or "")
    info = meta if meta is not None else doc
    return Extracted(
        paragraphs=paragraphs,
        blocks=line_blocks(doc.body, paragraphs),
        title=info.title or None,
        description=info.description or None,
        author=info.author or None,
        date=info.date or None,
        sitename=info.sitename or None,
        language=info.language or None,
        image_url=info.image or None,
        tags=list(info.tags or []),
    )
