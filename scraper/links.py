"""The links of a crawled page: those in the crawl's scope, those skipped (and why), its feeds.

Pure: nothing here fetches, and `page_links` never raises on bad input (garbage bytes, an
empty page, a huge attribute): it runs on whatever sites send.

Read: every <a href> and <area href>, plus <link rel="next">. Hrefs are cleaned as browsers
do (outer whitespace stripped, tabs and newlines removed, "\\" before the query read as "/"),
resolved against the first <base href> when it is http(s), else the page's URL, and kept in
canonical form (records.urls.canonicalize: no fragment or tracking parameters, sorted query).

Skip reasons (constants; stored and shown later, so short and stable), checked in order:

- "fragment": an href that starts with "#", or a URL that is the page itself (href="").
- "not_http": a scheme other than http(s) (mailto:, javascript:, tel:, data:, ftp:, ...).
- "bad_url": unparsable, no or a malformed host, a bad port, or over 2,048 characters.
- "off_site": another host than the start page's ("www." ignored; a non-default port must
  match), or with `LinkScope.domain`, another registrable domain.
- "file": the path's extension is a file's (PDF, images, media, archives, office documents,
  css/js/json, fonts, installers: FILE_EXTENSIONS), not a page's.
- "denied": a `deny` pattern matches the canonical URL (re.search).
- "not_allowed": `allow` patterns are given and none matches.

Files are told by our list of extensions, not courlan.filters.extension_filter: that one calls
every unknown 2-5 letter extension a file, so it would skip articles served as ".cms" (Times
of India), ".ghtml" (Globo) or ".ece" (Escenic), and it misses .mp3, .mp4, .woff2, .7z. A file
that slips through costs one fetch (refused as fetch.content_type); a skipped article is lost.

Next-page links (a listing's pagination; following one adds no crawl depth). A link is one
when ANY occurrence of its URL on the page has one of these signals:

1. rel="next" on the <a>/<area>, or it is a <link rel="next">;
2. its text or aria-label, lower-cased and stripped of surrounding arrows, ">" and dots, is a
   NEXT_LABELS phrase ("next", "older posts", "suivant", "weiter", "siguiente", ...), or is
   exactly one arrow ("›", "»", "→");
3. a class token of the <a> (or of its parent <li>) has "next" or "older" as a word
   ("next", "pager__item--next", "older-posts") or starts with "next" ("nextpostslink");
4. its URL differs from the page's own only by a page number, ?page=N, ?p=N or a trailing
   /page/N, with N = the page's own number + 1 (1 when the page has none).

Rules 1-3 also fire on an article's "next article" navigation: the crawler should take
next_page as depth-free only on pages it judged listings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from records.urls import WEB_SCHEMES, canonicalize, registrable_domain

OFF_SITE = "off_site"
NOT_HTTP = "not_http"
FRAGMENT = "fragment"
FILE = "file"
DENIED = "denied"
NOT_ALLOWED = "not_allowed"
BAD_URL = "bad_url"
REASONS = (FRAGMENT, NOT_HTTP, BAD_URL, OFF_SITE, FILE, DENIED, NOT_ALLOWED)

MAX_URL_CHARS = 2048  # what browsers and sitemaps reliably handle; longer ones are traps
MAX_TEXT_CHARS = 200
MAX_LINKS = 10_000
# Link elements examined at most, as a multiple of max_links: a page of a million off-site
# links is cut short too, not only one of a million kept links.
EXAMINE_FACTOR = 5
MAX_FEEDS = 50

_FILE_GROUPS = (  # documents, images, audio, video, archives and programs, web assets, fonts
    "pdf doc docx docm dot dotx xls xlsx xlsm xlsb ppt pptx pps ppsx pptm odt ods odp odg rtf",
    "epub mobi djvu ps eps csv tsv",
    "jpg jpeg jpe jfif png gif webp avif bmp tif tiff svg svgz ico heic heif jxl psd",
    "mp3 m4a m4b aac oga ogg opus wav flac wma mid midi aif aiff",
    "mp4 m4v mov avi mkv webm ogv wmv flv mpg mpeg 3gp m3u8 mpd swf",
    "zip gz tgz bz2 tbz2 xz txz zst lz lzma 7z rar tar cab dmg iso exe msi apk deb rpm jar bin",
    "css js mjs map json wasm woff woff2 ttf otf eot",
)
FILE_EXTENSIONS = frozenset(ext for group in _FILE_GROUPS for ext in group.split())
NEXT_LABELS = frozenset((
    "next", "next page", "older", "older posts", "older entries", "older articles", "more",
    "suivant", "page suivante", "weiter", "nächste", "nächste seite", "siguiente",
    "página siguiente", "successivo", "successiva", "pagina successiva", "volgende",
    "volgende pagina", "próxima", "próxima página",
))
NEXT_ARROWS = frozenset("›»→")
_LABEL_STRIP = " ›»→>.:…"
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_HREF_WHITESPACE = "\t\n\f\r "  # the ASCII whitespace the HTML spec strips around a URL
# Forbidden host code points (WHATWG URL standard); an IPv6 literal is checked by urlsplit.
_BAD_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_PAGE_PARAMS = frozenset({"page", "p"})
_PAGE_NUMBER = re.compile(r"[0-9]{1,6}")
_PAGE_PATH = re.compile(r"(.*)/page/([0-9]{1,6})/?")
_CLASS_WORDS = re.compile(r"[-_]+")
_NEXT_WORDS = frozenset({"next", "older"})
_PATH_PARAMS = re.compile(r";|%3[Bb]")


def _compile(patterns: str | Iterable[str], kind: str) -> tuple[re.Pattern[str], ...]:
    if isinstance(patterns, str):
        patterns = (patterns,)
    compiled = []
    for pattern in patterns:
        if not isinstance(pattern, str):  # ValueError too: a checker catches one kind
            raise ValueError(f"{kind} pattern {pattern!r} is not a string")  # noqa: TRY004
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"bad {kind} pattern {pattern!r}: {exc}") from None
    return tuple(compiled)


@lru_cache(maxsize=4096)
def _site_of(host: str) -> str | None:
    # Cached: a page links to a few hosts many times, and the public suffix lookup is not free.
    return registrable_domain(f"http://[{host}]/" if ":" in host else f"http://{host}/")


def _bare_host(host: str) -> str:
    return host.rstrip(".").removeprefix("www.")


@dataclass(frozen=True)
class LinkScope:
    """Which links of a crawl are followed: the start page's site, narrowed by patterns.

    `domain`: False keeps the start page's host ("www." ignored either way); True keeps any
    host of its registrable domain (news.example.com and www.example.com). `allow`: when
    given, a link's canonical URL must match one (re.search); `deny`: one that matches any is
    skipped. Build from strings with `LinkScope.build`, which names a bad pattern.
    """

    start_url: str
    domain: bool = False
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    _host: str = field(init=False, repr=False, compare=False)
    _port: int | None = field(init=False, repr=False, compare=False)
    _site: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checked = _checked(canonicalize(self.start_url))
        if checked is None:
            raise ValueError(f"start URL {self.start_url!r} is not an absolute http(s) URL")
        _, host, port = checked
        # Frozen: the derived fields are set once here, the way dataclasses' own init does.
        object.__setattr__(self, "_host", _bare_host(host))
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_site", _site_of(host))

    @classmethod
    def build(cls, start_url: str, *, domain: bool = False,
              allow: str | Iterable[str] = (), deny: str | Iterable[str] = ()) -> LinkScope:
        """A scope from pattern strings (as a sources file has them). Raises ValueError naming
        a pattern that is no valid regular expression, or a start URL that is no http(s) URL."""
        return cls(start_url, domain=domain, allow=_compile(allow, "allow"),
                   deny=_compile(deny, "deny"))

    def refusal(self, url: str) -> str | None:
        """The skip reason of an absolute URL (a module constant), or None when in scope."""
        if not isinstance(url, str):
            return BAD_URL
        url = _clean_href(url)
        scheme = _scheme_of(url)
        if scheme is None:
            return BAD_URL  # relative or no URL at all: nothing to resolve it against here
        if scheme not in WEB_SCHEMES:
            return NOT_HTTP
        if len(url) > 4 * MAX_URL_CHARS:
            return BAD_URL  # cheap bound before canonicalising a huge string
        return self._judge(canonicalize(url))

    def _judge(self, canonical: str) -> str | None:
        checked = _checked(canonical)
        if checked is None:
            return BAD_URL if _scheme_of(canonical) in (None, *WEB_SCHEMES) else NOT_HTTP
        parts, host, port = checked
        if port != self._port:
            return OFF_SITE
        if self.domain:
            if _site_of(host) != self._site:
                return OFF_SITE
        elif _bare_host(host) != self._host:
            return OFF_SITE
        if _is_file(parts.path):
            return FILE
        if any(pattern.search(canonical) for pattern in self.deny):
            return DENIED
        if self.allow and not any(pattern.search(canonical) for pattern in self.allow):
            return NOT_ALLOWED
        return None


@dataclass(frozen=True)
class Link:
    """A link to follow: canonical URL, anchor text (collapsed, <= 200 chars), next page."""

    url: str
    text: str = ""
    next_page: bool = False


@dataclass
class PageLinks:
    """What `page_links` found on a page.

    links: in scope, in page order, each URL once. feeds: the page's declared RSS/Atom/JSON
    feeds, absolute, in scope or not. skipped: reason -> link occurrences skipped.
    truncated: the page had more links than were read (see page_links).
    """

    links: list[Link] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: bool = False


def _scheme_of(url: str) -> str | None:
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def _web_parts(url: str) -> SplitResult | None:
    """urlsplit(url) when it is an http(s) URL that parses, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts if parts.scheme in WEB_SCHEMES else None


def _checked(url: str) -> tuple[SplitResult, str, int | None] | None:
    """(parts, host without trailing dot, explicit port) of a well-formed http(s) URL."""
    parts = _web_parts(url)
    if parts is None:
        return None
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is no number or out of range
        return None
    if (not host or len(url) > MAX_URL_CHARS or len(host) > 253
            or (":" not in host and _BAD_HOST.search(host))):
        return None
    return parts, host.rstrip("."), port


def _clean_href(href: str) -> str:
    """An href as a browser reads it: outer whitespace stripped, tabs/newlines removed, and
    backslashes before the query read as slashes (browsers do so for http(s) URLs)."""
    href = _TAB_NEWLINE.sub("", href.strip(_HREF_WHITESPACE))
    if "\\" in href:
        cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
        href = href[:cut].replace("\\", "/") + href[cut:]
    return href


def _is_file(path: str) -> bool:
    # ";jsessionid=..." (which canonicalize writes "%3B") is no part of the extension.
    segment = _PATH_PARAMS.split(path.rsplit("/", 1)[-1], maxsplit=1)[0]
    stem, dot, extension = segment.rpartition(".")
    return bool(dot and stem and extension.lower() in FILE_EXTENSIONS)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _is_next_label(label: str) -> bool:
    label = label.casefold()
    return label in NEXT_ARROWS or (len(label) <= 40 and label.strip(_LABEL_STRIP) in NEXT_LABELS)


def _is_next_class(classes: str | None) -> bool:
    return any(not _NEXT_WORDS.isdisjoint(_CLASS_WORDS.split(token)) or token.startswith("next")
               for token in (classes or "").lower().split())


def _paged(url: str) -> tuple[str, int | None] | None:
    """(URL without its page number, the number or None); None if unparsable. The key is built
    alike with or without a number (query re-encoded, no trailing "/"): "/news/" = "/news/page/2/".
    """
    parts = _web_parts(url)
    if parts is None:
        return None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    numbered = [i for i, (key, value) in enumerate(pairs)
                if key in _PAGE_PARAMS and _PAGE_NUMBER.fullmatch(value)]
    path, number = parts.path, None
    if len(numbered) == 1:
        number = int(pairs[numbered[0]][1])
        del pairs[numbered[0]]
    elif not numbered and (match := _PAGE_PATH.fullmatch(path)):
        path, number = match.group(1), int(match.group(2))
    key = urlunsplit(parts._replace(path=path.rstrip("/"), query=urlencode(pairs)))
    return key, number


def _next_of(page_url: str) -> tuple[str, int] | None:
    """What `_paged` says of the page after `page_url` (rule 4 of the module docstring)."""
    paged = _paged(page_url)
    return None if paged is None else (paged[0], (1 if paged[1] is None else paged[1]) + 1)


def _is_next_url(url: str, next_page: tuple[str, int] | None) -> bool:
    # The substring test first: most links carry no page number at all.
    return next_page is not None and ("page" in url or "p=" in url) and _paged(url) == next_page


def _anchor_text(node: LexborNode) -> str:
    text = _collapse(node.text(deep=True) or "")
    if not text:
        attrs = node.attributes
        text = _collapse(attrs.get("aria-label") or attrs.get("title") or attrs.get("alt") or "")
    if not text and (image := node.css_first("img[alt]")) is not None:
        text = _collapse(image.attributes.get("alt") or "")
    return text[:MAX_TEXT_CHARS]


def _says_next(node: LexborNode, text: str) -> bool:
    """Signals 1-3 of the module docstring, on an <a>, <area> or <link>."""
    attrs = node.attributes
    if "next" in (attrs.get("rel") or "").lower().split():
        return True
    if node.tag == "link":
        return False
    if _is_next_label(text) or _is_next_label(_collapse(attrs.get("aria-label") or "")):
        return True
    parent = node.parent
    return _is_next_class(attrs.get("class")) or (
        parent is not None and parent.tag == "li" and _is_next_class(parent.attributes.get("class")))


def _resolve(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href)
    except ValueError:  # "http://[::1" and the like
        return None


def _base(tree: LexborHTMLParser, page_url: str) -> str:
    """What relative links resolve against: the first <base href> if http(s), else the page."""
    node = tree.css_first("base[href]")
    if node is None:
        return page_url
    resolved = _resolve(page_url, _clean_href(node.attributes.get("href") or ""))
    return resolved if resolved and _web_parts(resolved) else page_url


def _feed(node: LexborNode, base: str) -> str | None:
    attrs = node.attributes
    if ("alternate" not in (attrs.get("rel") or "").lower().split()
            or (attrs.get("type") or "").split(";", 1)[0].strip().lower() not in FEED_TYPES):
        return None
    resolved = _resolve(base, _clean_href(attrs.get("href") or ""))
    if not resolved or len(resolved) > MAX_URL_CHARS or _web_parts(resolved) is None:
        return None
    return canonicalize(resolved)


def _parse(html: str | bytes) -> LexborHTMLParser | None:
    try:
        text = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
        return LexborHTMLParser(text)
    except (TypeError, ValueError, RuntimeError):  # not text at all, or lexbor gave up
        return None


def page_links(html: str | bytes, base_url: str, scope: LinkScope,
               max_links: int = MAX_LINKS) -> PageLinks:
    """The links of the page at `base_url` (its own URL), judged against `scope`.

    Stops (truncated=True) when a link beyond `max_links` kept ones comes up, or after
    EXAMINE_FACTOR x max_links link elements, so a page with millions of links costs a
    bounded amount of work and memory. bytes are decoded as UTF-8 (errors replaced).
    """
    result = PageLinks()
    tree = _parse(html)
    if tree is None or tree.root is None:
        return result
    page_url = _clean_href(base_url) if isinstance(base_url, str) else ""
    page = canonicalize(page_url)
    base = _base(tree, page_url)
    after = _next_of(page)
    index: dict[str, int] = {}  # URL -> its position in result.links
    examined = 0
    for node in tree.root.traverse():
        if node.tag not in ("a", "area", "link") or "href" not in (attrs := node.attributes):
            continue
        examined += 1
        if examined > EXAMINE_FACTOR * max_links:
            result.truncated = True
            break
        href = _clean_href(attrs.get("href") or "")
        if node.tag == "link":
            feed = _feed(node, base)
            if feed is not None and feed not in result.feeds and len(result.feeds) < MAX_FEEDS:
                result.feeds.append(feed)
            if "next" not in (attrs.get("rel") or "").lower().split():
                continue  # stylesheets, icons, canonical: not links to crawl
        reason, url = _judge_href(href, base, page, scope)
        if reason is not None:
            result.skipped[reason] += 1
            continue
        text = "" if node.tag == "link" else _anchor_text(node)
        next_page = _says_next(node, text) or _is_next_url(url, after)
        position = index.get(url)
        if position is None:
            if len(result.links) >= max_links:
                result.truncated = True
                break
            index[url] = len(result.links)
            result.links.append(Link(url, text, next_page))
            continue
        # Seen before: its first place and text stand, except that a later occurrence may
        # say it is the next page, and may give a name to an image-only first one.
        first = result.links[position]
        if (next_page and not first.next_page) or (text and not first.text):
            result.links[position] = replace(first, next_page=first.next_page or next_page,
                                             text=first.text or text)
    return result


def _judge_href(href: str, base: str, page: str, scope: LinkScope) -> tuple[str | None, str]:
    """(skip reason or None, canonical URL) of one cleaned href on the page."""
    if href.startswith("#"):
        return FRAGMENT, ""
    if _scheme_of(href) not in (None, *WEB_SCHEMES):
        return NOT_HTTP, ""
    if len(href) > 4 * MAX_URL_CHARS:
        return BAD_URL, ""
    resolved = _resolve(base, href)
    if resolved is None:
        return BAD_URL, ""
    url = canonicalize(resolved)
    if url == page:
        return FRAGMENT, url
    return scope._judge(url), url
