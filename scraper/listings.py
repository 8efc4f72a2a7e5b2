"""Reading sitemaps and feeds: the URLs a sitemap (or index) or an RSS/Atom/JSON feed lists
(scraper/kinds.py tells which of them a body is, with the sniffing helpers here). Pure
functions of bytes: nothing here fetches, and nothing raises on bad input (a body that cannot
be parsed gives an empty result and a log line, because these run on whatever servers send
us).

Parsing library: our own small lxml readers for both sitemaps and feeds (plus `json` for
JSON Feed), with a parser that neither resolves entities nor fetches DTDs. Why not the
candidates:

- trafilatura.feeds.extract_links works on a string without fetching, but it is regex based.
  On this module's test fixtures it returns links from XML comments and from CDATA text,
  Atom enclosure, edit and feed-level links, ignores xml:base (wrong URLs), misses permalink
  <guid>s, and sorts its output (feed order lost); it also applies its own domain filter.
  trafilatura.sitemaps' parsing can be fed a string (set SitemapObject.content by hand,
  bypassing its fetch), but it works on str (no gzip), tells sitemaps from pages by a ".xml"
  suffix instead of <sitemap>/<url>, keeps only <loc>s starting with "http" (relative ones
  dropped), parses with recover=True (it turns "?a=1&b=2" into "?a=1%3D2"), applies domain
  and language filters and keeps no <lastmod>.
- feedparser (6.0.14) has no JSON Feed support; given bytes it first tries
  `open(body)`, i.e. a body that happens to be a file name reads that local file (it must be
  wrapped in BytesIO); on a "billion laughs" feed expat expands up to its amplification
  limit (most of a second, megabytes of memory) before the loose parser takes over; and it
  also parses dates and sanitises HTML we do not need.

lxml with `resolve_entities=False, no_network=True, huge_tree=False` leaves custom entities
unexpanded (libxml2 also refuses amplification outright), never loads external entities, and
with `recover=True` as a last resort still reads truncated or sloppy documents.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

from records.urls import WEB_SCHEMES

LOGGER = logging.getLogger(__name__)

# The sitemap protocol caps an uncompressed sitemap at 50 MiB; it also bounds a gzip bomb.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 64 * 1024  # enough to get past an XML prolog to the root element
# A plain .txt file is a page (a text dump) to clean; a list of URLs is named .urls, or given
# with the CLI's --urls option.
URL_LIST_SUFFIXES = (".urls", ".urls.gz")
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_ATOM_ALTERNATE = frozenset({"", "alternate", "http://www.iana.org/assignments/relation/alternate"})

# W3C datetime, as the sitemap protocol asks for: 2024, 2024-05, 2024-05-01, 2024-05-01T10:00Z.
_W3C_DATETIME = re.compile(
    r"\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
# A bare "&" that starts no entity or character reference: the commonest sitemap error
# ("?a=1&b=2"). libxml2's recovery would silently drop "&b", so escape it and retry instead.
_BARE_AMPERSAND = re.compile(rb"&(?!#\d+;|#x[0-9A-Fa-f]+;|[A-Za-z_:][\w:.-]*;)")


@dataclass
class SitemapContent:
    """What one sitemap document lists: page URLs, child sitemaps (an index), lastmod dates.

    URLs are absolute http(s), in document order, each once. `lastmod` maps a page (or child
    sitemap) URL to its <lastmod> string as written, when it is a W3C date/datetime.
    """

    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    lastmod: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _gunzip(body: bytes, max_bytes: int) -> bytes | None:
    """`body`, decompressed if it starts with the gzip magic; None if corrupt or over max_bytes.

    Decompresses at most max_bytes + 1 bytes, so a gzip bomb costs no more than that.
    A truncated stream gives what could be decoded (the XML parser's recovery reads it).
    """
    if not body.startswith(GZIP_MAGIC):
        return body if len(body) <= max_bytes else None
    out: list[bytes] = []
    size = 0
    pending = body
    try:
        while pending.startswith(GZIP_MAGIC):  # concatenated members, like `gzip -d`
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = decoder.decompress(pending, max_bytes + 1 - size)
            size += len(chunk)
            out.append(chunk)
            if size > max_bytes:
                return None
            if not decoder.eof:
                break  # truncated
            pending = decoder.unused_data
    except zlib.error as exc:
        LOGGER.warning("corrupt gzip data: %s", exc)
        return None
    return b"".join(out)


def gunzip_head(body: bytes, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` decompressed bytes of a gzip body (b"" if corrupt)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, size)
    except zlib.error:
        return b""


_XML_OPTIONS = {
    # No entity expansion ("billion laughs"), no external DTD or entity loading (XXE), and
    # libxml2's default limits on text size and depth (huge_tree=False).
    "resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False,
    "remove_comments": True, "remove_pis": True,
}
# The elements that make one entry: sitemap <url>/<sitemap>, RSS <item>, Atom <entry>.
_ENTRY_NAMES = frozenset({"url", "sitemap", "item", "entry"})


@dataclass
class _Document:
    root: etree._Element
    # Entries whose end tag was read, when the document needed recovery; None: all of them.
    complete: set[etree._Element] | None = None

    def usable(self, entry: etree._Element) -> bool:
        return self.complete is None or entry in self.complete


def _parse_xml(body: bytes, base_url: str) -> _Document | None:
    """The parsed document, or None: strict first, then with bare "&"s escaped, then with
    libxml2's recovery, keeping only entries that were closed before the error.

    The last step matters for truncated downloads, and for documents where the parser gave up
    (entity amplification): the entry open at that point has a cut-off URL, and libxml2
    closes it silently. A pull parser's "end" events, read before close(), tell which
    entries really ended.
    """
    base = base_url or None
    fixed = _BARE_AMPERSAND.sub(b"&amp;", body)
    for data in dict.fromkeys((body, fixed)):
        try:
            root = etree.fromstring(data, etree.XMLParser(**_XML_OPTIONS), base_url=base)
        except (etree.LxmlError, ValueError):
            continue
        if root is not None:
            return _Document(root)
    parser = etree.XMLPullParser(events=("end",), base_url=base, recover=True, **_XML_OPTIONS)
    complete: set[etree._Element] = set()
    try:
        parser.feed(fixed)
    except (etree.LxmlError, ValueError):
        pass
    for _event, element in parser.read_events():
        if isinstance(element.tag, str) and _local(element) in _ENTRY_NAMES:
            complete.add(element)
    try:
        root = parser.close()
    except (etree.LxmlError, ValueError):
        root = None
    if root is None:
        return None
    LOGGER.debug("%s: XML recovered, %d complete entries", base_url, len(complete))
    return _Document(root, complete)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Direct child elements called `name`, in any namespace (skips entities and comments)."""
    for child in element:
        if isinstance(child.tag, str) and _local(child) == name:
            yield child


def _plain_text(element: etree._Element) -> str | None:
    """The element's stripped text, or None when empty or when it holds markup or an
    unexpanded entity: a URL with a hole where "&foo;" was would be a wrong URL."""
    if len(element):
        return None
    text = (element.text or "").strip()
    return text or None


def web_url(value: str, base_url: str) -> str | None:
    """`value` resolved against base_url if it is then an http(s) URL with a host, else None."""
    try:
        url = urljoin(base_url, value.strip())
        parts = urlsplit(url)
        if parts.scheme.lower() in WEB_SCHEMES and parts.hostname:
            return url
    except ValueError:  # a malformed IPv6 host, for one
        pass
    return None


def text_start(body: bytes) -> bytes:
    return body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")


def root_name(head: bytes) -> str | None:
    """The local name of the first element in an XML head (prolog and DTD skipped)."""
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, recover=True
    )
    try:
        parser.feed(head)
        for _event, element in parser.read_events():
            return _local(element)
    except (etree.LxmlError, ValueError):
        pass
    return None


# ---------------------------------------------------------------------------------------------
# Sitemaps


def parse_sitemap(
    body: bytes, base_url: str, *, max_bytes: int = MAX_SITEMAP_BYTES
) -> SitemapContent:
    """The pages and child sitemaps listed in a sitemap document.

    Reads <urlset> and <sitemapindex> (any namespace or none), gzip bodies (sniffed by magic
    bytes, decompressed up to max_bytes; bigger ones give nothing), text sitemaps (one URL per
    line) and RSS/Atom feeds, which the protocol also accepts as sitemaps. <loc> values are
    stripped and resolved against base_url; only http(s) URLs are kept.
    """
    content = SitemapContent()
    data = _gunzip(body, max_bytes)
    if data is None:
        LOGGER.warning("sitemap %s: over %d bytes or corrupt, skipped", base_url, max_bytes)
        return content
    start = text_start(data)
    if not start:
        return content
    if not start.startswith(b"<"):
        # Text sitemap: the protocol wants absolute URLs, so a line of prose never becomes one.
        seen: dict[str, None] = {}
        for line in data.decode("utf-8-sig", errors="replace").splitlines():
            line = line.strip()
            if line and not any(c.isspace() for c in line) and "://" in line:
                url = web_url(line, "")
                if url:
                    seen[url] = None
        content.pages = list(seen)
        return content

    document = _parse_xml(data, base_url)
    if document is None:
        LOGGER.warning("sitemap %s: not parseable XML", base_url)
        return content
    root = document.root
    if _local(root) in FEED_ROOTS:
        content.pages = _feed_links(document, base_url)
        return content
    if _local(root) not in SITEMAP_ROOTS:
        LOGGER.warning("sitemap %s: unexpected root <%s>", base_url, _local(root))
        return content

    pages: dict[str, None] = {}
    sitemaps: dict[str, None] = {}
    # Read entries by their element (<url> or <sitemap>) rather than by the root, so a mixed
    # document still works; only direct <loc> children count, which keeps image:loc out.
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        kind = _local(entry)
        if kind not in ("url", "sitemap") or not document.usable(entry):
            continue
        url = None
        for loc in _children(entry, "loc"):
            text = _plain_text(loc)
            if text:
                url = web_url(text, base_url)
            break
        if not url:
            continue
        (pages if kind == "url" else sitemaps)[url] = None
        for lastmod in _children(entry, "lastmod"):
            stamp = _plain_text(lastmod)
            if stamp and _W3C_DATETIME.fullmatch(stamp):
                content.lastmod[url] = stamp
            break
    content.pages = list(pages)
    content.sitemaps = list(sitemaps)
    return content


# ---------------------------------------------------------------------------------------------
# Feeds


def parse_feed(body: bytes, base_url: str, *, max_bytes: int = MAX_SITEMAP_BYTES) -> list[str]:
    """Article links of an RSS 2.0, RSS 1.0/RDF, Atom or JSON Feed document.

    RSS items give <link> (else a permalink <guid>), Atom entries their rel="alternate" (or
    rel-less) link, JSON Feed items their "url" (else "external_url", else an http "id").
    Relative links are resolved against base_url (and Atom's xml:base); only http(s) links
    are kept, each once, in feed order.
    """
    data = _gunzip(body, max_bytes)
    if data is None:
        LOGGER.warning("feed %s: over %d bytes or corrupt, skipped", base_url, max_bytes)
        return []
    start = text_start(data)
    if start.startswith(b"{"):
        return _json_feed_links(data, base_url)
    if not start.startswith(b"<"):
        return []
    document = _parse_xml(data, base_url)
    if document is None or _local(document.root) not in FEED_ROOTS:
        LOGGER.warning("feed %s: not an RSS, RDF or Atom document", base_url)
        return []
    return _feed_links(document, base_url)


def _feed_links(document: _Document, base_url: str) -> list[str]:
    root = document.root
    links: dict[str, None] = {}
    if _local(root) == "feed":  # Atom 1.0 or 0.3
        for entry in root.iter("{*}entry"):
            if not document.usable(entry):
                continue
            href = _atom_link(entry)
            url = href and web_url(href, entry.base or base_url)
            if url:
                links[url] = None
        return list(links)
    # RSS 2.0 (items under <channel>) and RSS 1.0/RDF (items beside it): iter finds both.
    for item in root.iter("{*}item"):
        if not document.usable(item):
            continue
        link = None
        for child in _children(item, "link"):
            if child.get("href") is None:  # skip atom:link inside RSS items
                link = _plain_text(child)
                if link:
                    break
        if not link:
            for guid in _children(item, "guid"):
                if guid.get("isPermaLink", "true").strip().lower() != "false":
                    link = _plain_text(guid)
                break
        if not link:
            link = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        url = link and web_url(link, item.base or base_url)
        if url:
            links[url] = None
    return list(links)


def _atom_link(entry: etree._Element) -> str | None:
    """The entry's alternate link: an HTML one if several, skipping self/enclosure/etc."""
    candidates = [
        link for link in _children(entry, "link")
        if link.get("href") and (link.get("rel") or "").strip().lower() in _ATOM_ALTERNATE
    ]
    for link in candidates:
        if (link.get("type") or "text/html").split(";")[0].strip().lower() in HTML_TYPES:
            return link.get("href")
    return candidates[0].get("href") if candidates else None


def _json_feed_links(data: bytes, base_url: str) -> list[str]:
    try:
        feed = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        LOGGER.warning("feed %s: not valid JSON", base_url)
        return []
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list):
        return []
    links: dict[str, None] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in ("url", "external_url", "id"):
            value = item.get(key)
            # "id" is only a link when it is an absolute URL; it may be any unique string.
            if isinstance(value, str) and value.strip() and (key != "id" or "://" in value):
                url = web_url(value, base_url)
                if url:
                    links[url] = None
                    break
    return list(links)
