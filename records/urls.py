"""URL helpers shared by the stages: canonical form for keys, same-site checks, local targets.

Nothing here raises on bad input: a URL that cannot be parsed comes back stripped (or the
check answers False), because these run on whatever users and pages hand us.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import SplitResult, urlsplit, urlunsplit
from urllib.request import url2pathname

from courlan import extract_domain, normalize_url
from courlan.urlutils import get_tldinfo

WEB_SCHEMES = frozenset({"http", "https"})


def canonicalize(url: str) -> str:
    """The canonical form of `url`, used as the article key.

    Lower-cased scheme and host, default port dropped, fragment removed, query parameters
    sorted and tracking parameters (utm_*, fbclid, gclid, mc_cid, ... : courlan's list)
    removed. file:// URLs only lose their fragment. Never raises.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() == "file":
            return urlunsplit(parts._replace(fragment=""))
        if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
            return url
        _ = parts.port  # raises ValueError on a non-numeric or out-of-range port
        # Hand courlan a SplitResult, not a string: on strings it runs html.unescape first,
        # which turns "?a=1&not=2" into "?a=1¬=2".
        canonical = normalize_url(parts._replace(fragment=""))
    except (ValueError, TypeError, AttributeError, UnicodeError):
        return url
    # "http://example.com" and "http://example.com/" are the same resource (RFC 3986 6.2.3).
    canonical_parts = urlsplit(canonical)
    if not canonical_parts.path:
        canonical = urlunsplit(canonical_parts._replace(path="/"))
    return canonical


def registrable_domain(url: str) -> str | None:
    """The site a URL belongs to ("news.example.com" -> "example.com"), or None.

    Uses the public suffix list (through courlan/tld) so "a.co.uk" and "b.co.uk" differ;
    hosts under suffixes the list does not know (".test", ".internal") fall back to
    courlan's heuristic, and bare hosts such as IP addresses or "localhost" to themselves.
    """
    try:
        if "://" not in url:
            url = "http://" + url.strip()
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    probe = f"http://{host}/"
    domain = extract_domain(probe) or get_tldinfo(probe, fast=True)[1]
    return (domain or host).lower()


def same_site(a: str, b: str) -> bool:
    """True when both URLs (or bare hosts) belong to the same registrable domain."""
    site_a = registrable_domain(a)
    return site_a is not None and site_a == registrable_domain(b)


def is_site_root(url: str) -> bool:
    """True for a site's home page: an http(s) URL with no path beyond "/" and no query."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return (parts.scheme.lower() in WEB_SCHEMES and parts.path in ("", "/")
            and not parts.query)


def is_local(target: str) -> bool:
    """True for a file:// URL or a plain filesystem path (anything without a URL scheme)."""
    try:
        scheme = urlsplit(target.strip()).scheme.lower()
    except ValueError:
        return False
    # A one-letter "scheme" is a Windows drive ("C:\\pages\\a.html").
    return scheme == "file" or not scheme or len(scheme) == 1


def to_path(target: str) -> Path:
    """The filesystem path of a local target (file:// URL or plain path).

    Raises ValueError for a file:// URL naming another host, which we cannot read.
    """
    target = target.strip()
    parts: SplitResult = urlsplit(target)
    if parts.scheme.lower() != "file":
        return Path(target).expanduser()
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file URL on another host ({parts.netloc}) is not supported")
    return Path(url2pathname(parts.path))
