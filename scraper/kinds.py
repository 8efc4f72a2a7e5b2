"""Telling a sitemap, a feed and a page apart: by the body first, then the content type,
then the URL's name; and whether a target URL is worth reading as a possible sitemap or feed
(`worth_fetching`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .listings import (
    FEED_ROOTS,
    GZIP_MAGIC,
    HTML_TYPES,
    SITEMAP_ROOTS,
    SNIFF_BYTES,
    gunzip_head,
    root_name,
    text_start,
)

_FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json", "application/x-rss+xml", "application/x-atom+xml",
    "text/rss+xml", "text/atom+xml",
})
# Last path segment of a sitemap: sitemap.xml, sitemap_index.xml, post-sitemap2.xml.gz, ...
_SITEMAP_NAME = re.compile(r"sitemap[^/]*\.(?:xml|txt)(?:\.gz)?$")
# Last path segment of a feed: /feed, /rss, atom.xml, feed.json, news.rss, ...
_FEED_NAME = re.compile(
    r"^(?:feed|rss2?|atom|rdf)(?:\.(?:xml|json|rss|atom))?$|\.(?:rss|atom|rdf)$"
)
_FEED_QUERY = re.compile(r"(?:^|&)(?:feed|format|type)=(?:rss2?|atom|rdf)\b")


def kind_of(body: bytes, content_type: str | None, url: str) -> str:
    """"sitemap", "feed" or "page": what a fetched document is.

    The body decides first (root element <urlset>/<sitemapindex>, <rss>/<feed>/<rdf:RDF>,
    <html>, or a JSON Feed), gzip bodies sniffed after decompressing their first bytes; then
    the content type (application/rss+xml, application/atom+xml, application/feed+json, ...);
    then the URL's name (sitemap.xml, sitemap_index.xml.gz, /feed, .rss, ...).
    """
    head = gunzip_head(body) if body.startswith(GZIP_MAGIC) else body[:SNIFF_BYTES]
    start = text_start(head)
    if start.startswith(b"<"):
        root = root_name(head)
        if root in SITEMAP_ROOTS:
            return "sitemap"
        if root in FEED_ROOTS:
            return "feed"
        if root is not None and root.lower() == "html":
            return "page"
    elif start.startswith(b"{") and b"jsonfeed.org/version" in start:
        return "feed"

    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _FEED_TYPES:
        return "feed"
    if media in HTML_TYPES:
        return "page"
    return kind_by_name(url)


def kind_by_name(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "page"
    segments = [s for s in parts.path.lower().split("/") if s]
    name = segments[-1] if segments else ""
    if _SITEMAP_NAME.search(name):
        return "sitemap"
    if _FEED_NAME.search(name) or _FEED_QUERY.search(parts.query.lower()):
        return "feed"
    return "page"


def worth_fetching(url: str) -> bool:
    """Whether a target URL may be a sitemap or feed: named like one, or any .xml(.gz)."""
    if kind_by_name(url) != "page":
        return True
    try:
        return urlsplit(url).path.lower().endswith((".xml", ".xml.gz"))
    except ValueError:
        return False
