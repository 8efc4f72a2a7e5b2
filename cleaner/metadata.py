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
      only a slug or a URL ("usatoday", "livescience.com"): then publisher.name is better (a
      publisher typed Person, a personal blog's author, is no site name);
    - author: the people the bylines name, one by one (cleaner.authors): a byline that is only
      the site's own name ("BBC News" on BBC News), its publisher's, a domain, an id or an
      e-mail address names nobody, so the next source is tried; several authors are joined
      with "; ";
    - title: the headline as printed, the page's <h1> where a declared title agrees with it,
      without a " | Site" suffix or a kicker (cleaner.titles);
    - title, description: a value cut short with "..." or "…" yields to a later source's
      value that it is the start of;
    - date: a date-time in UTC yields to the same instant declared with the publisher's offset.

Tags are the first non-empty list (JSON-LD keywords, article:tag, name=keywords/news_keywords,
trafilatura's), deduplicated case-insensitively in order, without CMS markers and headlines
pasted into the keywords (`clean_tags`). Images are made absolute against
the page URL.

Dates: see cleaner.dates (a declared date is normalised to ISO 8601 there, and the Article
keeps the publisher's local day).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from .authors import clean_authors
from .dates import local_timestamp, normalize_date
from .titles import head_titles, headline, iter_h1s, site_matcher, strip_site_suffix
from .values import absolute, clean_tags, clean_value, dedupe, is_url

HEAD_LIMIT = 500_000  # characters searched for the end of <head> (inline CSS can be large)
NO_HEAD_LIMIT = 20_000  # characters parsed as the head of a page that marks no head at all
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")
_LD_SELECTOR = 'script[type="application/ld+json" i]'
_LD_TYPE = re.compile(r"""\btype\s*=\s*["']?\s*application/ld\+json""", re.IGNORECASE)
_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)
_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_DECODER = json.JSONDecoder(strict=False)
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)$")
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
    # Every name the site gives itself (og:site_name, JSON-LD publisher and WebSite names...):
    # none of them is an author.
    site_names: list[str] = field(default_factory=list)
    # The author names as declared, before cleaning: a page that declares only its own name
    # or an e-mail address has declared its byline all the same (see extract.with_declared).
    bylines: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # every declared publication date, in order


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
    # <title> is the browser tab's label, often filled from the same field as the <h1>: its
    # agreeing says less than og:title's or JSON-LD's, so it counts only where neither exists.
    twitter, tab = head_titles(tree)
    declared_titles = [json_ld.title, meta.title, twitter]
    is_site = site_matcher(out.site_names, base_url)
    h1s = iter_h1s(html, cut if cut != NO_HEAD_LIMIT else 0)  # the body's (or all if unsure)
    out.title = (headline(h1s, declared_titles, is_site) if any(declared_titles)
                 else headline(h1s, [tab], is_site, kickers=False)) \
        or strip_site_suffix(out.title, *out.site_names, url=base_url)
    out.date = local_timestamp(out.date, out.dates)
    return out


def ld_json_after(html: str, start: int) -> list[str]:
    """The text of the JSON-LD scripts in `html[start:]` (the part the head parse did not see).

    Found by looking for "ld+json" and the <script> tag around it: a small fraction of what
    parsing the whole document costs. A script's
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
        content = clean_value(attrs.get("content"))
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
                                          if not is_url(a)]
    sites = values.get("og:site_name", []) + values.get("application-name", [])
    sites += [h.lstrip("@") for h in values.get("twitter:site", []) if not is_url(h)]
    dates = [d for k in _PUBLISHED for v in values.get(k, ()) if (d := normalize_date(v))]
    tags = values.get("article:tag", [])
    if not tags:
        tags = [t for k in ("news_keywords", "keywords") for v in values.get(k, ())
                for t in v.split(",")]
    return PageMeta(
        title=first("og:title"),
        description=first("og:description", "description"),
        author=_join_authors(authors),
        bylines=dedupe(authors),
        date=dates[0] if dates else None,
        date_modified=first_date("article:modified_time", "og:updated_time", "datemodified"),
        sitename=first("og:site_name"),
        language=_html_language(tree, values),
        image_url=next((u for k in ("og:image", "og:image:url", "og:image:secure_url")
                        for v in values.get(k, ()) if (u := absolute(v, base_url))), None),
        tags=clean_tags(tags),
        site_names=dedupe(sites),
        dates=dates,
    )


_PUBLISHED = ("article:published_time", "datepublished", "date", "pubdate", "dc.date",
              "dc.date.issued")


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
    for data in _documents(scripts):
        entities.extend(_entities(data, 0))
        _index_ids(data, ids, 0)
    articles = [e for e in entities if _rank(e) == 0]
    pages = [e for e in entities if _rank(e) == 1]
    chain = articles[:1] + pages  # the page's article; the WebPage as a last resort
    sites = dedupe([n for e in entities if "website" in _types(e) if (n := _text(e.get("name")))]
                   # a personal blog declares its author as its publisher: no site name
                   + [n for e in chain for n in _names(e.get("publisher"), ids, people=False)])
    if not chain:
        return PageMeta(sitename=_site_name(entities), site_names=sites)

    def pick(reader) -> Any:
        return next((v for e in chain if (v := reader(e))), None)

    bylines = pick(lambda e: _names(e.get("author"), ids)) or []

    return PageMeta(
        title=pick(lambda e: _text(e.get("headline")) or _text(e.get("name"))),
        description=pick(lambda e: _text(e.get("description"))),
        author=_join_authors(bylines),
        date=pick(lambda e: normalize_date(_scalar(e.get("datePublished")))),
        date_modified=pick(lambda e: normalize_date(_scalar(e.get("dateModified")))),
        sitename=pick(lambda e: _first_name(e.get("publisher"), ids)) or _site_name(entities),
        language=pick(lambda e: normalize_language(_scalar(e.get("inLanguage")))),
        image_url=pick(lambda e: _image(e.get("image"), ids, base_url)),
        tags=pick(lambda e: clean_tags(_keywords(e.get("keywords")))) or [],
        site_names=sites,
        bylines=bylines,
        dates=[d for e in chain if (d := normalize_date(_scalar(e.get("datePublished"))))],
    )


def declared_types(scripts: Iterable[str]) -> set[str]:
    """Every @type the page's JSON-LD scripts declare, folded ("NewsArticle",
    "schema:NewsArticle" -> "newsarticle"), through lists, @graph and mainEntity."""
    return {t for data in _documents(scripts) for e in _entities(data, 0) for t in _types(e)}


def _documents(scripts: Iterable[str]) -> Iterator[Any]:
    """The JSON value of each script; invalid JSON is skipped."""
    for text in scripts:
        text = _WRAPPER.sub("", text).strip()
        try:
            # Lenient on what is common: raw newlines and tabs in strings (strict=False), and
            # junk after the first complete value (a stray "}," or a ";"): the value is kept.
            data, _ = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            continue
        yield data


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


def _names(value: Any, ids: dict[str, dict], people: bool = True) -> list[str]:
    """Names from a str, a {"name": ...} object (or a reference to one) or a list of those;
    without objects typed Person unless `people`."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = _resolve(item, ids)
        if isinstance(item, dict):
            if not people and "person" in _types(item):
                continue
            item = item.get("name")
            if isinstance(item, list):
                item = " ".join(x for x in item if isinstance(x, str))
        name = _text(item)
        if name and not is_url(name):
            out.append(name)
    return out


def _first_name(value: Any, ids: dict[str, dict]) -> str | None:
    names = _names(value, ids, people=False)
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
    return clean_value(value) if isinstance(value, str) else None


def _join_authors(names: Iterable[str], sitenames: Iterable[str] = ()) -> str | None:
    """Bylines as the people they name (cleaner.authors), "; "-joined."""
    return "; ".join(clean_authors((n for n in names if n), sitenames)) or None


# --- merging ---------------------------------------------------------------------------------


def settled(meta: PageMeta) -> tuple[bool, bool]:
    """Whether `merge` takes the title and the tags of `meta` over any later source's: a
    title that is not cut short ("..."), tags that survive cleaning."""
    title = bool(meta.title) and _ELLIPSIS.sub("", meta.title or "") == meta.title
    return title, bool(clean_tags(meta.tags))


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
    names = [n for s in sources for n in (s.sitename, *s.site_names) if n]
    # The first source whose bylines name a person; its bylines as declared go along (all of
    # them where none does).
    out.author, out.bylines = None, dedupe(b for s in sources for b in s.bylines)
    for s in sources:
        if author := _join_authors(s.bylines or (s.author or "").split("; "), names):
            out.author, out.bylines = author, s.bylines
            break
    out.tags = next((t for s in sources if (t := clean_tags(s.tags))), [])
    out.title = strip_site_suffix(out.title, *names)
    out.site_names = dedupe(names)
    out.dates = dedupe(d for s in sources for d in s.dates)
    return out


def choose_sitename(json_ld: str | None, meta: str | None) -> str | None:
    """og:site_name unless it is a slug or URL ("usatoday", "livescience.com"), else JSON-LD's."""
    if meta and (" " in meta or not meta.islower()) and not is_url(meta):
        return meta
    return json_ld or meta
