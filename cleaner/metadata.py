"""What a page declares about itself: JSON-LD, then OpenGraph and other meta tags.

Read from the page's <head> (cut at </head>, parsed with lexbor) plus every
<script type="application/ld+json"> in the document: publishers often put JSON-LD in <body>,
so the rest of the document is scanned for those scripts as text (`ld_json_after`) rather than
parsed a second time.

Merge rule, field by field: the first source that has a usable value wins, in this order:

    1. JSON-LD (the publisher's structured data): the first article-typed object (NewsArticle,
       Article, BlogPosting, ReportageNewsArticle, any other *Article), then WebPage objects as
       a last resort; `@graph`, lists and `mainEntity` are searched and `{"@id": ...}`
       references (Yoast's author and publisher) are resolved;
    2. OpenGraph and meta tags (og:*, article:*, name=description/author/keywords/date...,
       itemprop=datePublished/dateModified, <html lang>);
    3. trafilatura's own value (its heuristics on the body, htmldate for the date).

with these adjustments, each measured on real pages:
    - sitename: og:site_name comes before JSON-LD publisher.name, because the publisher is
      often someone else (a wire agency, "Blogger", a parent company), unless og:site_name is
      only a slug or a URL ("usatoday", "livescience.com"): then publisher.name is better;
    - author: a name that is only the site's own name ("BBC News" on BBC News) is no byline
      and is skipped, so the next source is tried; several authors are joined with "; ";
    - title: a trailing " | Site name" (or " - ", " – ", " — ", " · ", " :: ") is removed when
      the suffix is the name of the site in any source (compared without case, spaces and
      punctuation, and without a ".com"-like ending);
    - title, description: a value cut short with "..." or "…" yields to a later source's
      value that it is the start of;
    - date: see below.

Tags are the first non-empty list (JSON-LD keywords, article:tag, name=keywords/news_keywords,
trafilatura's), deduplicated case-insensitively in order, without CMS markers and headlines
pasted into the keywords (`clean_tags`). Images are made absolute against
the page URL.

Dates are normalised to ISO 8601 here: a date-time keeps its time and offset
("2025-09-10T05:00:00+00:00", seconds precision, never converted), a date alone is
"YYYY-MM-DD"; a value that does not parse, or falls outside 1990..tomorrow, is ignored and the
next source is tried. The Article record stores only the calendar day of each (`date`,
`date_modified`: "YYYY-MM-DD"), simple and comparable. The day of a date-time with a real
offset is the publisher's local day. A date-time in UTC (or with no offset) only pins the day
to within one either way: when trafilatura's day (read from the URL or the printed date) is
one of the days that instant falls on somewhere on Earth, that day is kept (`local_day`);
a story published at 20:19 in New York is dated that day, not the next UTC day.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from .text import EARLIEST_DATE, printed_date

HEAD_LIMIT = 500_000  # characters searched for the end of <head> (inline CSS can be large)
NO_HEAD_LIMIT = 20_000  # characters parsed as the head of a page that marks no head at all
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")
_EARLIEST = EARLIEST_DATE
_LD_SELECTOR = 'script[type="application/ld+json" i]'
_LD_TYPE = re.compile(r"""\btype\s*=\s*["']?\s*application/ld\+json""", re.IGNORECASE)
_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)
_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_DECODER = json.JSONDecoder(strict=False)
# Markup some publishers leave in JSON-LD strings (not "<The Show>" in a description).
_TAGS = re.compile(r"</?(?:p|br|a|b|i|u|em|strong|span|div|h[1-6]|ul|ol|li|img|figure|"
                   r"figcaption|small|sup|sub|cite|q)\b[^<>]*>", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)$")
_SPACE = re.compile(r"\s+")
_BY = re.compile(r"^by\s+", re.IGNORECASE)
_NON_WORD = re.compile(r"\W+")
_WORD = re.compile(r"\w")
_DOMAIN_END = re.compile(r"\.(?:com|net|org|co\.uk|co|in|info|news)$")
_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ")
_MAX_DEPTH = 20  # JSON-LD nesting followed; real pages use three or four levels

ARTICLE_TYPES = frozenset(("newsarticle", "article", "blogposting", "reportagenewsarticle"))


@dataclass
class PageMeta:
    """Metadata from one source, or merged. Dates are ISO 8601 (see `normalize_date`)."""

    title: str | None = None
    description: str | None = None
    author: str | None = None  # several authors joined with "; "
    date: str | None = None  # publication
    date_modified: str | None = None
    sitename: str | None = None
    language: str | None = None  # primary language subtag, lower case ("en")
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)


_FIELDS = tuple(f.name for f in dataclasses.fields(PageMeta))


# --- reading the page ------------------------------------------------------------------------


def parse_head(html: str) -> tuple[LexborHTMLParser, int]:
    """The page's <head> parsed alone, and where the parsed part ends in `html`."""
    end = html.find("</head>", 0, HEAD_LIMIT)
    if end >= 0:
        cut = end + 7
    else:  # no </head>: the head ends where <body> starts, or is small
        body = html.find("<body", 0, HEAD_LIMIT)
        cut = body if body >= 0 else NO_HEAD_LIMIT
    return LexborHTMLParser(html[:cut]), cut


def page_metadata(html: str, base_url: str | None = None,
                  head: tuple[LexborHTMLParser, int] | None = None) -> PageMeta:
    """What the page declares: JSON-LD merged over its meta tags (see the module docstring).

    `head` is `parse_head(html)` when the caller has it already. Never raises on bad markup or
    bad JSON: what cannot be read is left out.
    """
    tree, cut = head if head is not None else parse_head(html)
    scripts = [node.text() for node in tree.css(_LD_SELECTOR)]
    scripts += ld_json_after(html, cut)
    json_ld, meta = from_json_ld(scripts, base_url), from_meta(tree, base_url)
    out = merge(json_ld, meta)
    out.sitename = choose_sitename(json_ld.sitename, meta.sitename)
    return out


def ld_json_after(html: str, start: int) -> list[str]:
    """The text of the JSON-LD scripts in `html[start:]` (the part the head parse did not see).

    Found by looking for "ld+json" and the <script> tag around it: about a hundredth of a
    millisecond on a 100 kB page, where parsing the whole document costs a quarter. A script's
    content is raw text up to "</script", so the slice is what a parser would give.
    """
    out = []
    at = html.find("ld+json", start)
    while at >= 0:
        tag = html.rfind("<", start, at)
        end = html.find(">", at)
        if end < 0:
            break
        nxt = end
        if tag >= 0 and html[tag : tag + 8].lower() in ("<script ", "<script\t", "<script\n") \
                and _LD_TYPE.search(html, tag, end):
            close = _SCRIPT_END.search(html, end)
            if close is None:
                break
            out.append(html[end + 1 : close.start()])
            nxt = close.end()
        at = html.find("ld+json", nxt)
    return out


def from_meta(tree: LexborHTMLParser, base_url: str | None = None) -> PageMeta:
    """OpenGraph, article:*, name= and itemprop= meta tags, and the <html lang> chain."""
    values: dict[str, list[str]] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        content = _clean(attrs.get("content"))
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (attrs.get(attr) or "").strip().lower()
            if key:
                values.setdefault(key, []).append(content)

    def first(*keys: str) -> str | None:
        return next((values[k][0] for k in keys if k in values), None)

    def first_date(*keys: str) -> str | None:
        return next((d for k in keys for v in values.get(k, ()) if (d := normalize_date(v))),
                    None)

    authors = values.get("author", []) + [a for a in values.get("article:author", [])
                                          if not _is_url(a)]
    tags = values.get("article:tag", [])
    if not tags:
        tags = [t for k in ("news_keywords", "keywords") for v in values.get(k, ())
                for t in v.split(",")]
    return PageMeta(
        title=first("og:title"),
        description=first("og:description", "description"),
        author=_join_authors(authors),
        date=first_date("article:published_time", "datepublished", "date", "pubdate",
                        "dc.date", "dc.date.issued"),
        date_modified=first_date("article:modified_time", "og:updated_time", "datemodified"),
        sitename=first("og:site_name"),
        language=_html_language(tree, values),
        image_url=next((u for k in ("og:image", "og:image:url", "og:image:secure_url")
                        for v in values.get(k, ()) if (u := absolute(v, base_url))), None),
        tags=clean_tags(tags),
    )


def _html_language(tree: LexborHTMLParser, values: dict[str, list[str]]) -> str | None:
    candidates = []
    root = tree.css_first("html")
    if root is not None:
        candidates.append(root.attributes.get("lang") or root.attributes.get("xml:lang"))
    node = tree.css_first('meta[http-equiv="content-language" i]')
    if node is not None:
        candidates.append(node.attributes.get("content"))
    candidates += values.get("og:locale", [])[:1]
    return next((lang for value in candidates if (lang := normalize_language(value))), None)


def normalize_language(value: Any) -> str | None:
    """'en-GB', 'en_US', 'EN' -> 'en'; None for anything that is not a language tag."""
    if not isinstance(value, str):
        return None
    value = value.strip().split(",")[0].strip()
    if not value or not _LANG.match(value):
        return None
    return value.replace("_", "-").split("-")[0].lower()


# --- JSON-LD ---------------------------------------------------------------------------------


def from_json_ld(scripts: Iterable[str], base_url: str | None = None) -> PageMeta:
    """Metadata from the text of a page's JSON-LD scripts; invalid JSON is skipped."""
    entities: list[dict] = []
    ids: dict[str, dict] = {}
    for text in scripts:
        text = _WRAPPER.sub("", text).strip()
        try:
            # Lenient on what is common: raw newlines and tabs in strings (strict=False), and
            # junk after the first complete value (a stray "}," or a ";"): the value is kept.
            data, _ = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            continue
        entities.extend(_entities(data, 0))
        _index_ids(data, ids, 0)
    articles = [e for e in entities if _rank(e) == 0]
    pages = [e for e in entities if _rank(e) == 1]
    chain = articles[:1] + pages  # the page's article; the WebPage as a last resort
    if not chain:
        return PageMeta(sitename=_site_name(entities))

    def pick(reader) -> Any:
        return next((v for e in chain if (v := reader(e))), None)

    return PageMeta(
        title=pick(lambda e: _text(e.get("headline")) or _text(e.get("name"))),
        description=pick(lambda e: _text(e.get("description"))),
        author=pick(lambda e: _join_authors(_names(e.get("author"), ids))),
        date=pick(lambda e: normalize_date(_scalar(e.get("datePublished")))),
        date_modified=pick(lambda e: normalize_date(_scalar(e.get("dateModified")))),
        sitename=pick(lambda e: _first_name(e.get("publisher"), ids)) or _site_name(entities),
        language=pick(lambda e: normalize_language(_scalar(e.get("inLanguage")))),
        image_url=pick(lambda e: _image(e.get("image"), ids, base_url)),
        tags=pick(lambda e: clean_tags(_keywords(e.get("keywords")))) or [],
    )


def _entities(data: Any, depth: int) -> Iterator[dict]:
    """Top-level JSON-LD objects: through lists, @graph and mainEntity, not other nesting."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _entities(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity"):
            if isinstance(data.get(key), (list, dict)):
                yield from _entities(data[key], depth + 1)


def _index_ids(data: Any, ids: dict[str, dict], depth: int) -> None:
    """Every object with an @id and something more, so {"@id": ...} references resolve."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            _index_ids(item, ids, depth + 1)
    elif isinstance(data, dict):
        key = data.get("@id")
        if isinstance(key, str) and len(data) > 1:
            ids.setdefault(key, data)
        for value in data.values():
            if isinstance(value, (list, dict)):
                _index_ids(value, ids, depth + 1)


def _types(entity: dict) -> list[str]:
    value = entity.get("@type")
    values = value if isinstance(value, list) else [value]
    # "NewsArticle", "schema:NewsArticle", "http://schema.org/NewsArticle" -> "newsarticle"
    return [v.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()
            for v in values if isinstance(v, str)]


def _rank(entity: dict) -> int:
    """0 for an article, 1 for a web page, 2 for anything else."""
    types = _types(entity)
    if any(t in ARTICLE_TYPES or t.endswith(("article", "blogposting")) for t in types):
        return 0
    if any(t.endswith("webpage") for t in types):
        return 1
    return 2


def _site_name(entities: list[dict]) -> str | None:
    return next((n for e in entities if "website" in _types(e) if (n := _text(e.get("name")))),
                None)


def _resolve(value: Any, ids: dict[str, dict]) -> Any:
    if isinstance(value, dict) and set(value) <= {"@id", "@type"}:
        key = value.get("@id")
        return ids.get(key, value) if isinstance(key, str) else value
    return value


def _names(value: Any, ids: dict[str, dict]) -> list[str]:
    """Names from a str, a {"name": ...} object (or a reference to one) or a list of those."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = _resolve(item, ids)
        if isinstance(item, dict):
            item = item.get("name")
            if isinstance(item, list):
                item = " ".join(x for x in item if isinstance(x, str))
        name = _text(item)
        if name and not _is_url(name):
            out.append(name)
    return out


def _first_name(value: Any, ids: dict[str, dict]) -> str | None:
    names = _names(value, ids)
    return names[0] if names else None


def _image(value: Any, ids: dict[str, dict], base_url: str | None) -> str | None:
    for item in value if isinstance(value, list) else [value]:
        item = _resolve(item, ids)
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        if isinstance(item, str) and (url := absolute(item, base_url)):
            return url
    return None


def _keywords(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [t for item in items if isinstance(item, str) for t in item.split(",")]


def _scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str | None:
    return _clean(value) if isinstance(value, str) else None


# --- values ----------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    """Entities decoded, tags dropped, whitespace collapsed (JSON-LD strings carry all three)."""
    if not value:
        return None
    if "&" in value:
        value = htmllib.unescape(value)
    if "<" in value:
        value = _TAGS.sub(" ", value)
    value = _SPACE.sub(" ", value).strip()
    return value or None


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "//", "www."))


def _join_authors(names: Iterable[str]) -> str | None:
    names = dedupe(_BY.sub("", n).strip() for n in names)
    return "; ".join(names) or None


def dedupe(items: Iterable[str | None]) -> list[str]:
    """Stripped, non-empty, first spelling of each case-insensitive value kept, in order."""
    seen: set[str] = set()
    out = []
    for item in items:
        item = _clean(item) if isinstance(item, str) else None
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


def normalize_date(value: Any) -> str | None:
    """ISO 8601 for a declared date: 'YYYY-MM-DD', or a date-time with its time and offset.

    ISO forms first (datetime.fromisoformat after small fixes), then RFC 2822, then htmldate's
    parser for printed dates (which gives a day only). None when nothing parses or the date is
    before 1990 or after tomorrow.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    latest = datetime.combine(date.today() + timedelta(days=1), time())
    iso = text.replace("z", "Z")
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    iso = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", iso)  # "... 05:00:00 +0000"
    parsed: date | datetime | None = None
    try:
        parsed = date.fromisoformat(iso) if len(iso) <= 10 else datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return printed_date(text)
    naive = parsed if not isinstance(parsed, datetime) else parsed.replace(tzinfo=None)
    if isinstance(naive, datetime):
        if not _EARLIEST <= naive <= latest:
            return None
        return parsed.isoformat(timespec="seconds")
    if not _EARLIEST.date() <= naive <= latest.date():
        return None
    return naive.isoformat()


def day(value: str | None) -> str | None:
    """The calendar day ('YYYY-MM-DD') of a normalised date, as the publisher wrote it."""
    return value[:10] if value else None


# --- merging ---------------------------------------------------------------------------------


def merge(*sources: PageMeta) -> PageMeta:
    """Field by field, the first source with a value (see the module docstring)."""
    out = PageMeta()
    for name in _FIELDS:
        value = next((v for s in sources if (v := getattr(s, name))), None)
        if value is not None:
            setattr(out, name, value)
    for name in ("title", "description"):  # a truncated value yields to the whole one
        value = getattr(out, name)
        if value and (cut := _ELLIPSIS.sub("", value)) != value:
            setattr(out, name, next((v for s in sources if (v := getattr(s, name))
                                     and v != value and v.startswith(cut)), value))
    sites = {_site_key(s.sitename) for s in sources if s.sitename} - {""}
    out.author = next((a for s in sources if (a := _join_authors(
        n for n in (s.author or "").split("; ") if _site_key(n) not in sites))), None)
    out.tags = next((t for s in sources if (t := clean_tags(s.tags))), [])
    out.title = strip_site_suffix(out.title, *(s.sitename for s in sources))
    return out


def choose_sitename(json_ld: str | None, meta: str | None) -> str | None:
    """og:site_name unless it is a slug or URL ("usatoday", "livescience.com"), else JSON-LD's."""
    if meta and (" " in meta or not meta.islower()) and not _is_url(meta):
        return meta
    return json_ld or meta


def strip_site_suffix(title: str | None, *sitenames: str | None) -> str | None:
    """'Headline | Site' -> 'Headline' when 'Site' is one of the sitenames (see _site_key)."""
    sites = {_site_key(s) for s in sitenames if s} - {""}
    if not title or not sites:
        return title
    for sep in _SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and _site_key(tail) in sites:
            return head.strip()
    return title


def _site_key(name: str) -> str:
    """'The Hill', 'TheHill' -> 'thehill'; 'SpaceNews.com', 'www.spacenews.com' -> 'spacenews'."""
    name = _DOMAIN_END.sub("", name.strip().casefold().removeprefix("www."))
    return _NON_WORD.sub("", name)


def local_day(declared: str | None, hint: str | None) -> str | None:
    """The day of a declared date, or `hint` (a day) when the declared date-time is in UTC or
    has no offset and `hint` is a day that instant falls on in some time zone (UTC-12..+14)."""
    if not declared or not hint or len(declared) <= 10:
        return day(declared)
    try:
        instant = datetime.fromisoformat(declared)
        hinted = date.fromisoformat(hint[:10])
    except ValueError:
        return day(declared)
    if instant.utcoffset() not in (None, timedelta(0)):
        return day(declared)
    instant = instant.replace(tzinfo=None)
    earliest = (instant - timedelta(hours=12)).date()
    latest = (instant + timedelta(hours=14)).date()
    return hinted.isoformat() if earliest <= hinted <= latest else day(declared)
