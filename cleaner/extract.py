"""trafilatura on the pruned page: the main text as paragraphs, and the page's metadata.

What the page declares about itself (canonical link, JSON-LD, meta tags) is read by `declared`
from the unpruned page and merged over trafilatura's values by `with_declared`
(the rule is in cleaner.metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

import trafilatura

from .metadata import (PageMeta, absolute, day, local_day, merge, normalize_date,
                       page_metadata, parse_head)
from .text import split_paragraphs


@dataclass
class Extracted:
    paragraphs: list[str]
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
    tree = head[0]
    out = Declared()
    for selector, attr in (('link[rel="canonical" i]', "href"),
                           ('meta[property="og:url"]', "content")):
        node = tree.css_first(selector)
        href = (node.attributes.get(attr) or "").strip() if node is not None else ""
        if href:
            url = urljoin(base_url, href) if base_url else href
            if url.startswith(("http://", "https://")):
                out.canonical_url = url
                break
    # A saved page without its URL still resolves relative images against its canonical link.
    out.meta = page_metadata(html, base_url=base_url or out.canonical_url, head=head)
    out.language = out.meta.language
    return out


def with_declared(ex: Extracted, head: Declared, base_url: str | None = None) -> Extracted:
    """`ex` with the page's declared metadata merged over trafilatura's (cleaner.metadata's
    rule), dates cut to the day (trafilatura's day settles a UTC timestamp's, see
    metadata.local_day), and `url` set to the declared canonical link."""
    own = PageMeta(title=ex.title, description=ex.description, author=ex.author,
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


def extract(html: str, url: str | None = None) -> Extracted | None:
    """Run trafilatura (metadata on, comments off, its fallbacks on); None when it finds nothing."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        # trafilatura's dedup cache is process-global state; repeats.py collapses repeats.
        deduplicate=False,
    )
    if doc is None:
        return None
    return Extracted(
        paragraphs=split_paragraphs(doc.text or ""),
        title=doc.title or None,
        description=doc.description or None,
        author=doc.author or None,
        date=doc.date or None,
        sitename=doc.sitename or None,
        language=doc.language or None,
        image_url=doc.image or None,
        tags=list(doc.tags or []),
    )
