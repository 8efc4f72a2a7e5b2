"""The headline: the page's <h1> when it agrees with a title the page declares.

A page declares its title several times (JSON-LD headline, og:title, twitter:title, <title>)
and the copies often differ: an SEO variant, a social variant, a "Kicker: " prefix, a
" | Site" or " - Section | Site" suffix. The <h1> is the one a reader sees, but a page's first
<h1> can also be the site's logo, a section label or a breadcrumb. So an <h1> counts only when
a declared title agrees with it (`agreeing_part`): the same words, or the same words plus a
kicker or suffix on one side of a separator, the extra part being shorter than the headline.
When a declared title has exactly the <h1>'s words, the declared spelling is kept (an <h1>
built from several inline elements loses the punctuation between them). When no <h1> agrees,
the declared title stands (the caller's merge order), without a site suffix. An <h1> inside a
list item, menu, aside or footer (a breadcrumb, a teaser) is not looked at.

The site's name in a suffix is one the page declares (og:site_name, the JSON-LD publisher...)
or, when it declares none, a short name holding the URL's domain name (`site_matcher`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from .text import fold

SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ", ": ")
_SUFFIX_SEPARATORS = SEPARATORS[:-1]  # a site name follows these, never a colon
_H1 = re.compile(r"<h1[\s>]", re.IGNORECASE)
_H1_END = re.compile(r"</h1\s*>", re.IGNORECASE)
MAX_H1 = 8  # <h1> elements looked at; pages with more use it for teasers, not the headline
MAX_H1_CHARS = 4000  # markup of one <h1>
# An <h1> inside one of these is a breadcrumb, menu, teaser or footer entry, not the headline.
_NOT_ARTICLE = ("li", "nav", "aside", "footer")
LOOK_BACK = 5_000  # characters searched for an unclosed container before an <h1>
_EDGE = re.compile(r"^[\s\-–—|:·/]+|[\s\-–—|:·/]+$")
_NON_WORD = re.compile(r"\W+")
_DOMAIN_END = re.compile(r"\.(?:co\.uk|com\.[a-z]{2}|[a-z]{2,6})$")


def site_key(name: str) -> str:
    """'The Hill', 'TheHill' -> 'thehill'; 'SpaceNews.com', 'www.spacenews.com' -> 'spacenews'."""
    name = _DOMAIN_END.sub("", name.strip().casefold().removeprefix("www."))
    return _NON_WORD.sub("", name)


def site_matcher(sitenames: Iterable[str | None],
                 url: str | None = None) -> Callable[[str], bool]:
    """Whether a title's suffix is the site: one of `sitenames` (compared by site_key), or a
    name of at most four words that starts or ends with the URL's domain name ("Die Neue
    Südtiroler Tageszeitung" on tageszeitung.it; four letters at least, so "ap" or "bbc" must
    match a sitename)."""
    sites = {site_key(s) for s in sitenames if s} - {""}
    label = domain_label(url)
    label = label if len(label) >= 4 else ""

    def is_site(text: str) -> bool:
        key = site_key(text)
        return key in sites or bool(label and len(text.split()) <= 4
                                    and (key.startswith(label) or key.endswith(label)))
    return is_site


def domain_label(url: str | None) -> str:
    """'https://www.news.example.co.uk/a' -> 'example': the name part of the URL's domain."""
    host = (urlsplit(url).hostname or "") if url and "//" in url else ""
    labels = host.removeprefix("www.").split(".")
    if len(labels) >= 3 and len(labels[-2]) <= 3:  # co.uk, com.au
        labels = labels[:-1]
    return _NON_WORD.sub("", labels[-2]) if len(labels) >= 2 else ""


def strip_site_suffix(title: str | None, *sitenames: str | None,
                      url: str | None = None) -> str | None:
    """'Headline | Site' -> 'Headline' when 'Site' is the site (see site_matcher), unless the
    title starts with the site ("Site - Section - Headline": its end is the headline)."""
    if not title:
        return title
    is_site = site_matcher(sitenames, url)
    if _names_site(title, is_site, first=True):
        return title
    for sep in _SUFFIX_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and is_site(tail):
            return head.strip()
    return title


def iter_h1s(html: str, start: int = 0) -> Iterator[str]:
    """The text of the page's <h1> elements from `start`, in order, except those inside a list
    item, a menu, an aside or a footer. Found by a regular expression and parsed one by one,
    as they are asked for: a fraction of the cost of parsing the whole document."""
    for seen, match in enumerate(_H1.finditer(html, start)):
        if seen >= MAX_H1:
            return
        end = _H1_END.search(html, match.end(), match.end() + MAX_H1_CHARS)
        if end is None or _inside(html, match.start(), _NOT_ARTICLE):
            continue
        node = LexborHTMLParser(html[match.start() : end.end()]).css_first("h1")
        text = " ".join(node.text(separator=" ").split()) if node is not None else ""
        if text:
            yield text


def _inside(html: str, at: int, tags: Iterable[str]) -> bool:
    """Whether an element of one of `tags` is open at `at` (its last start tag before `at`
    comes after its last end tag; a list item also ends where its list does)."""
    window = html[max(0, at - LOOK_BACK) : at].lower()
    for tag in tags:
        opened = max(window.rfind(f"<{tag}>"), window.rfind(f"<{tag} "),
                     window.rfind(f"<{tag}\n"))
        if opened < 0:
            continue
        closers = (f"</{tag}",) + (("</ul", "</ol") if tag == "li" else ())
        if opened > max(window.rfind(c) for c in closers):
            return True
    return False


def headline(h1s: Iterable[str], titles: Iterable[str | None],
             is_site: Callable[[str], bool] = lambda text: False,
             kickers: bool = True) -> str | None:
    """The headline as printed: the first <h1> that a declared title agrees with (see the
    module docstring), in the spelling of the declared title where the words are the same,
    and without a kicker that another declared title goes without. None when no <h1> agrees.
    `is_site` tells a site-name suffix (see site_matcher); `kickers=False` for a <title>,
    whose first part is the page and last part the site ("Page | Site" is no kicker)."""
    titles = [t for t in titles if t]
    if not titles:
        return None
    for h1 in h1s:
        key = fold(h1)
        if not key or is_site(h1):
            continue
        found = next((t for t in titles if fold(t) == key), None)
        for title in titles if found is None else ():
            found = agreeing_part(h1, title, is_site, kickers)
            if found:
                break
        if found:
            # "Kicker | Headline" in the h1 and og:title, "Headline" in the JSON-LD headline.
            return next((t for t in titles if fold(t) != fold(found)
                         and (p := agreeing_part(found, t, is_site, kickers))
                         and fold(p) == fold(t)), found)
    return None


def agreeing_part(h1: str, title: str, is_site: Callable[[str], bool] = lambda text: False,
                  kickers: bool = True) -> str | None:
    """The headline when `h1` and `title` agree up to a kicker or suffix on one side of a
    separator ("Kicker: Headline", "Headline | Site", "Headline - Section | Site"): the part
    they share, which must be longer than what was cut unless that is the site's name.
    None when they do not agree."""
    for longer, shorter in ((title, h1), (h1, title)):
        key = fold(shorter)
        size = len(key.split())
        for sep in SEPARATORS:
            at = longer.find(sep)
            while at >= 0:
                head, tail = longer[:at], longer[at + len(sep):]
                # (shared part, what was cut, whether that is a suffix)
                cuts = [(head, tail, True)] + ([(tail, head, False)] if kickers else [])
                for part, rest, suffix in cuts:
                    if fold(part) == key and (len(fold(rest).split()) < size
                                              or suffix and _names_site(rest, is_site)):
                        found = _EDGE.sub("", part if longer is title else shorter)
                        return found if found and not is_site(found) else None
                at = longer.find(sep, at + 1)
    return None


def _names_site(text: str, is_site: Callable[[str], bool], first: bool = False) -> bool:
    """Whether one of the parts of a title's suffix is the site ("Section | Site | Tagline");
    with `first`, whether the first part of a title with several is."""
    parts = [text]
    for sep in _SUFFIX_SEPARATORS:
        parts = [p for part in parts for p in part.split(sep)]
    if first:
        return len(parts) > 1 and is_site(parts[0])
    return any(is_site(p) for p in parts)


def head_titles(tree: LexborHTMLParser) -> tuple[str | None, str | None]:
    """The page's twitter:title and <title>, whitespace collapsed (None where missing)."""
    node = tree.css_first('meta[name="twitter:title" i], meta[property="twitter:title" i]')
    twitter = node.attributes.get("content") if node is not None else None
    node = tree.css_first("title")
    tab = node.text() if node is not None else None
    return (" ".join(twitter.split()) or None if twitter else None,
            " ".join(tab.split()) or None if tab else None)
