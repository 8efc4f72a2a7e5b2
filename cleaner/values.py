"""Declared values made usable: text without markup, lists without repeats, absolute URLs."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable
from urllib.parse import urljoin

# Markup some publishers leave in JSON-LD strings (not "<The Show>" in a description).
_TAGS = re.compile(r"</?(?:p|br|a|b|i|u|em|strong|span|div|h[1-6]|ul|ol|li|img|figure|"
                   r"figcaption|small|sup|sub|cite|q)\b[^<>]*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w")


def clean_value(value: str | None) -> str | None:
    """Entities decoded, tags dropped, whitespace collapsed (JSON-LD strings carry all three)."""
    if not value:
        return None
    if "&" in value:
        value = htmllib.unescape(value)
    if "<" in value:
        value = _TAGS.sub(" ", value)
    value = _SPACE.sub(" ", value).strip()
    return value or None


def is_url(value: str) -> bool:
    """Whether a declared value is a URL rather than a name."""
    return value.startswith(("http://", "https://", "//", "www."))


def dedupe(items: Iterable[str | None]) -> list[str]:
    """Stripped, non-empty, first spelling of each case-insensitive value kept, in order."""
    seen: set[str] = set()
    out = []
    for item in items:
        item = clean_value(item) if isinstance(item, str) else None
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out


def clean_tags(tags: Iterable[str | None]) -> list[str]:
    """`dedupe`d, without what is no tag: CMS markers ("@hp-top-stories", "/article"), stray
    punctuation and single letters, and headlines pasted into the keywords (over 80 chars)."""
    return [t for t in dedupe(tags)
            if (len(t) > 1 or not t.isascii()) and len(t) <= 80 and _WORD.search(t)
            and not t.startswith(("@", "/"))]


def absolute(url: str | None, base_url: str | None) -> str | None:
    """`url` resolved against the page URL; None unless the result is an http(s) URL."""
    url = (url or "").strip()
    if not url:
        return None
    if url.startswith("//") and not base_url:
        url = "https:" + url
    elif base_url:
        url = urljoin(base_url, url)
    return url if url.startswith(("http://", "https://")) else None
