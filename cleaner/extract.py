"""trafilatura on the pruned page: the main text as paragraphs, and the page's metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import trafilatura
from selectolax.lexbor import LexborHTMLParser

from .text import split_paragraphs

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
    url: str | None = None  # the page's own canonical link or og:url, as trafilatura found it
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)


def page_language(html: str) -> str | None:
    """The language the page declares: <html lang>, then content-language / og:locale."""
    tree = LexborHTMLParser(html[:20000])  # the declarations sit at the top of the document
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
            return value.replace("_", "-").split("-")[0].lower()
    return None


def extract(html: str, url: str | None = None) -> Extracted | None:
    """Run trafilatura (metadata on, comments off, its fallbacks on); None when it finds nothing."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,  # trafilatura's dedup cache is process-global state; we collapse repeats ourselves
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
        url=doc.url or None,
        image_url=doc.image or None,
        tags=list(doc.tags or []),
    )
