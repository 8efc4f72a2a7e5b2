"""Author names: the people a byline names, one per entry, in order.

A declared or found byline is cut into names and each name cleaned (`split_names`):

- e-mail addresses ("jane@example.com", "jane[at]example.com"), URLs, @handles and anything in
  brackets ("(abc)" initials, "(www.example.com)") are removed;
- "A and B" is two names, in the languages news is written in ("und", "y", "et", "e", "og",
  "och", "en", "ve", "i", "и", "&"), when A is a personal name (two to five capitalised
  words, or a script without case) and B starts with one;
- after a comma or a pipe comes a second name only when it is a personal name and no role
  ("Senior Reporter") or name of the site ("CNN Business" on CNN); a place, a credential
  ("PhD"), an affiliation is dropped. A lone "Surname, Given" pair is left whole;
- a leading "By", "Von", "Por", "Par", "Door", "Av", "Autor:", "Author:" ... is removed;
- what is left is no name when it has no letter (a numeric id), is a domain name
  ("nieuwsblad.be"), or is the site's own name (og:site_name, the JSON-LD publisher...,
  compared by titles.site_key).

Names are deduplicated case-insensitively, first spelling kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .titles import site_key

_EMAIL = re.compile(r"[<\[(]?[\w.+-]+(?:@|\s?\[at\]\s?|\s?\(at\)\s?)[\w-]+(?:\.[\w-]+)+[>\])]?",
                    re.IGNORECASE)
_URL = re.compile(r"(?:https?://|//|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_AND = re.compile(r"\s+(?:and|und|y|et|e|og|och|en|ve|i|и|&)\s+", re.IGNORECASE)
_PARTS = re.compile(r"\s*[,|]\s*")
_PREFIX = re.compile(r"^(?:(?:written|posted|reported)\s+by|by|von|vom|por|par|door|av|af|"
                     r"autor(?:in|a|e)?|author|auteur|text|texto)\b\s*:?\s*", re.IGNORECASE)
_EDGE = re.compile(r"^[\s\-–—|:;,.·/]+|[\s\-–—|:;,·/]+$")
_LETTER = re.compile(r"[^\W\d_]")
_NON_WORD = re.compile(r"\W+")
_LATIN = re.compile(r"[^\W\d_]", re.ASCII)
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}$", re.IGNORECASE)
# Lower-case words a personal name may contain.
_PARTICLES = frozenset("von van der den de da di del della dos das du la le bin ibn al el "
                       "ter ten zu y e".split())
# Words that make a comma part a job title, not a second name (several languages).
_ROLE = re.compile(r"(?:reporter|correspondent|correspondant|corresponsal|korrespondent|editor|"
                   r"redakteur|redaktion|redactor|redacción|rédacteur|rédactrice|writer|"
                   r"columnist|kolumnist|journalist|journaliste|periodista|giornalista|"
                   r"contributor|contributing|staff|producer|photographer|fotograf|critic|"
                   r"kritiker|analyst|intern|professor|profesor|chief|senior|deputy|director|"
                   r"manager|founder|ceo|expert|experte|anchor|host|author|autor|auteur|team|"
                   r"desk)(?:in|innen|a|e|es|s|en)?", re.IGNORECASE)


def clean_authors(names: Iterable[str], sitenames: Iterable[str] = ()) -> list[str]:
    """The people in `names` (bylines, each possibly naming several), in order, deduplicated
    case-insensitively; `sitenames` are the names the site gives itself."""
    sites = _Sites(sitenames)
    seen: set[str] = set()
    out = []
    for raw in names:
        for name in split_names(raw, sites):
            if name.casefold() not in seen:
                seen.add(name.casefold())
                out.append(name)
    return out


class _Sites:
    """The site's names as author keys: site_key of each; for a name written as a domain,
    the domain with its ending ("ndr.de" -> "ndrde", which trafilatura writes "NDR de"), and
    without it only for a one-word byline ("VnExpress" on vnexpress.net, but a personal site
    "janedoe.de" is no organisation called "Jane Doe")."""

    def __init__(self, sitenames: Iterable[str]) -> None:
        self.keys: set[str] = set()
        self.brands: set[str] = set()
        for name in sitenames:
            name = name.strip()
            if _DOMAIN.match(name):
                self.keys.add(_NON_WORD.sub("", name.casefold().removeprefix("www.")))
                self.brands.add(site_key(name))
            else:
                self.keys.add(site_key(name))
        self.keys.discard("")
        self.brands.discard("")

    def named(self, name: str) -> bool:
        """Whether `name` is the site's own."""
        key = site_key(name)
        return key in self.keys or (" " not in name.strip() and key in self.brands)

    def related(self, name: str) -> bool:
        """Whether `name` starts like the site's name or the other way round ("CNN Business")."""
        key = site_key(name)
        return bool(key) and any(key.startswith(s) or s.startswith(key)
                                 for s in self.keys | self.brands)


def split_names(byline: str, sites: _Sites | None = None) -> list[str]:
    """The names in one byline (see the module docstring)."""
    sites = sites if sites is not None else _Sites(())
    text = _EMAIL.sub(" ", byline)
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    text = " ".join(_BRACKETS.sub(" ", text).split())
    out = []
    for chunk in text.split(";"):
        for piece in _split_and(chunk):
            out += _split_parts(piece, sites)
    return [n for n in out if _is_name(n, sites)]


def _split_and(text: str) -> list[str]:
    """"A and B" as two names when A is a personal name and B starts with one (so an
    organisation like "Department of Trade and Industry" stays whole)."""
    sides = _AND.split(text)
    if len(sides) > 1 and _personal(_strip(_PARTS.split(sides[0])[0])) \
            and all(_personal(" ".join(_strip(s).split()[:2])) for s in sides[1:]):
        return sides
    return [text]


def _split_parts(text: str, sites: _Sites) -> list[str]:
    parts = [p for p in (_strip(p) for p in _PARTS.split(text)) if p]
    if not parts:
        return []
    if len(parts) == 2 and all(len(p.split()) == 1 for p in parts) and "|" not in text \
            and _LATIN.search(text):
        return [_strip(text)]  # "Doe, Jane"
    return [parts[0]] + [p for p in parts[1:] if _looks_like_name(p, sites)]


def _strip(name: str) -> str:
    name = _EDGE.sub("", name)
    for _ in range(2):  # "By: Autor Jane Doe"
        name = _EDGE.sub("", _PREFIX.sub("", name))
    return name


def _looks_like_name(part: str, sites: _Sites) -> bool:
    """A second name after a comma: a personal name that is no role and not the site."""
    return _personal(part) and not any(_ROLE.fullmatch(w) for w in part.split()) \
        and not sites.related(part)


def _personal(text: str) -> bool:
    """Two to five words, each capitalised or a particle ("van", "de"); in a script without
    case (Korean, Chinese...), one to five words."""
    words = text.split()
    if not _LATIN.search(text):
        return 1 <= len(words) <= 5
    return 2 <= len(words) <= 5 and all(w[0].isupper() or w in _PARTICLES for w in words)


def _is_name(name: str, sites: _Sites) -> bool:
    return bool(_LETTER.search(name)) and not _DOMAIN.match(name) and not sites.named(name)
