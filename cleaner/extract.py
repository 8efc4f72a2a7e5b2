"""trafilatura on the pruned page: the main text as paragraphs, and the page's metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import trafilatura
from selectolax.lexbor import LexborHTMLParser

from .text import split_paragraphs

HEAD_LIMIT = 500_000  # characters searched for the end of <head> (inline CSS can be large)
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")


@dataclass
class Extracted:
    paragraphs: list[str]
    title: str | None = None
    description: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    language: str | None = None
    url: str | None = None  # the page's own canonical link or og:url
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Declared:
    """What the page's head declares about itself."""

    canonical_url: str | None = None
    language: str | None = None


def declared(html: str, base_url: str | None = None) -> Declared:
    """The page's canonical link (or og:url), resolved against `base_url`, and its language.

    Read here rather than through trafilatura, which drops canonical links it cannot validate
    (relative ones without an og: tag, IP hosts) and reads no <html lang>.
    """
    end = html.find("</head>", 0, HEAD_LIMIT)
    tree = LexborHTMLParser(html[: end + 7 if end >= 0 else HEAD_LIMIT])  # the head is enough
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
    candidates = []
    root = tree.css_first("html")
    if root is not None:
        candidates.append(root.attributes.get("lang") or root.attributes.get("xml:lang"))
    for selector in ('meta[http-equiv="content-language" i]', 'meta[property="og:locale"]'):
        node = tree.css_first(selector)
        if node is not None:
            candidates.append(node.attributes.get("content"))
    for value in candidates:
        value = (value or "").strip().split(",")[0].strip()
        if value and _LANG.match(value):
            out.language = value.replace("_", "-").split("-")[0].lower()
            break
    return out


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
