"""The sources file of `scrape batch`: a list of `[[source]]` tables in TOML (the fields and
their bounds: pipeline/batch.py's docstring and README "The sources file"), read and checked
before anything runs. Every problem is reported with the file, line and field."""

from __future__ import annotations

import difflib
import logging
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cleaner import CleanConfig, Cleaner, SelectorError, Selectors
from records.urls import canonicalize
from scraper.links import LinkScope

from .bounds import BOUNDS
from .terminal import CONTROL, printable

log = logging.getLogger(__name__)

DEFAULT_SOURCES = "data/sources.toml"

KINDS = ("feed", "sitemap", "urls", "page", "site")
FIELDS = ("name", "kind", "url", "path", "max_pages", "max_age_hours", "enabled",
          "allow_local_files", "content_selector", "drop_selectors", "max_depth", "allow",
          "deny", "domain")
SITE_FIELDS = ("max_depth", "allow", "deny", "domain")  # kind "site" only
DEFAULT_MAX_DEPTH = 3
# Read at most this much of a sources file: a real one is a few KiB; /dev/zero is endless.
MAX_SOURCES_BYTES = 16 * 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEADER = re.compile(r"\s*\[\[\s*source\s*\]\]")
_TABLE = re.compile(r"\s*\[")


# ---------------------------------------------------------------------------------------------
# The sources file


class SourcesError(ValueError):
    """A sources file that cannot be used; `problems` are "file:line: source ...: what"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # one of KINDS
    location: str  # an http(s) or file:// URL, or an absolute path
    max_pages: int | None = None
    max_age_hours: float | None = None
    enabled: bool = True
    allow_local_files: bool = False  # kind "urls": local paths and file:// URLs in its list
    selectors: Selectors | None = None  # content_selector, drop_selectors: for its pages
    # kind "site": how deep to follow links, and which (scraper.links.LinkScope)
    max_depth: int = DEFAULT_MAX_DEPTH
    scope: LinkScope | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False)  # the entry as written
    line: int | None = None  # of its [[source]] header

    def row(self) -> dict[str, Any]:
        """Its `sources` table row (store.runs.upsert_sources)."""
        return {"name": self.name, "kind": self.kind, "location": self.location,
                "max_pages": self.max_pages, "config": self.config}


class _Lines:
    """Line numbers of the [[source]] tables and their fields, for error messages (tomllib
    gives none once the file parses)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if _HEADER.match(line)]

    def of(self, index: int, key: str | None = None) -> int | None:
        if index >= len(self.headers):  # written as an inline array: no line to point at
            return None
        start = self.headers[index]
        if key is not None:
            name = re.escape(key)
            pattern = re.compile(rf"\s*(?:{name}|\"{name}\"|'{name}')\s*=")
            for i in range(start + 1, len(self.lines)):
                if _TABLE.match(self.lines[i]):
                    break
                if pattern.match(self.lines[i]):
                    return i + 1
        return start + 1


def load_sources(path: str | Path) -> list[Source]:
    """The sources of a TOML file (relative paths in it are relative to its folder); raise
    SourcesError listing every problem found."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SOURCES_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError([f"{path}: cannot read the sources file: {exc}"]) from None
    if len(data) > MAX_SOURCES_BYTES:
        raise SourcesError([f"{path}: not a sources file: larger than "
                            f"{MAX_SOURCES_BYTES // 2**20} MiB (or endless)"])
    return parse_sources(text, path)


def parse_sources(text: str, path: Path) -> list[Source]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line 3, column 7)"
        raise SourcesError([f"{path}: not valid TOML: {exc}"]) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise SourcesError([f"{path}: not a sources file: arrays or tables nested too "
                            f"deeply"]) from None
    lines = _Lines(text)
    problems: list[str] = []
    for key in data:
        if key != "source":
            hint = " (each source is a [[source]] table)" if key in ("sources", "feeds") else ""
            problems.append(f"{path}: unknown top-level key {key!r}{hint}")
    entries = data.get("source", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(f"{path}: 'source' must be a list of [[source]] tables")
        raise SourcesError(problems)
    if not entries:
        problems.append(f"{path}: no [[source]] table: nothing to read")
    sources: list[Source] = []
    names: dict[str, int] = {}
    locations: dict[str, str] = {}
    for index, entry in enumerate(entries):
        before = len(problems)
        source = _source(entry, index, path, lines, problems)
        if source is None or len(problems) > before:
            continue
        where = f"{path}:{lines.of(index, 'name') or '?'}: source {source.name!r}"
        if source.name in names:
            problems.append(f"{where}: the name is already that of source #{names[source.name]}"
                            f" (line {lines.of(names[source.name] - 1) or '?'})")
            continue
        names[source.name] = index + 1
        if source.enabled:
            key = canonicalize(source.location) if "://" in source.location else source.location
            if key in locations:
                problems.append(f"{where}: reads {source.location}, as source "
                                f"{locations[key]!r} does")
                continue
            locations[key] = source.name
        sources.append(source)
    if not problems and entries and not any(s.enabled for s in sources):
        problems.append(f"{path}: every source has enabled = false: nothing to read")
    if problems:
        raise SourcesError(problems)
    return sources


def _source(entry: dict[str, Any], index: int, path: Path, lines: _Lines,
            problems: list[str]) -> Source | None:
    name = entry.get("name")
    label = f"source {name!r}" if isinstance(name, str) and name else f"source #{index + 1}"

    def problem(key: str | None, message: str) -> None:
        line = lines.of(index, key)
        problems.append(f"{path}:{line}: {label}: {message}" if line
                        else f"{path}: {label}: {message}")

    for key in entry:
        if key not in FIELDS:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            problem(key, f"unknown field {key!r}" + (f" (did you mean {close[0]!r}?)"
                                                      if close else
                                                      f"; the fields are {', '.join(FIELDS)}"))
    if name is None:
        problem(None, "missing field 'name'")
    elif not isinstance(name, str) or not NAME.fullmatch(name):
        problem("name", f"name must be 1 to 64 letters, digits, '.', '_' or '-' (starting "
                        f"with a letter or digit), not {name!r}")
    kind = entry.get("kind")
    if kind is None:
        problem(None, f"missing field 'kind' (one of {', '.join(KINDS)})")
    elif kind not in KINDS:
        problem("kind", f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    location = _location(entry, kind, path, problem)
    for key in ("max_pages", "max_age_hours"):  # the bounds of the command line's options
        wrong = entry.get(key) is not None and BOUNDS[key].problem(entry[key])
        if wrong:
            problem(key, f"{key} {wrong}")
    max_pages, max_age = entry.get("max_pages"), entry.get("max_age_hours")
    enabled = entry.get("enabled", True)
    if type(enabled) is not bool:
        problem("enabled", f"enabled must be true or false, not {enabled!r}")
    local = entry.get("allow_local_files", False)
    if type(local) is not bool:
        problem("allow_local_files", f"allow_local_files must be true or false, not {local!r}")
    elif local and kind != "urls":
        problem("allow_local_files", "allow_local_files is for a source of kind 'urls' (a "
                                     "list whose lines may name local files)")
    try:
        selectors = Selectors.of(entry)
    except SelectorError as exc:
        problem(exc.field, str(exc))
        selectors = None
    max_depth, scope = _site_fields(entry, kind, location, problem)
    if not (isinstance(name, str) and kind in KINDS and location):
        return None
    return Source(name=name, kind=kind, location=location, max_pages=max_pages,
                  max_age_hours=float(max_age) if max_age is not None else None,
                  enabled=enabled is True, allow_local_files=local is True,
                  selectors=selectors, max_depth=max_depth, scope=scope, config=dict(entry),
                  line=lines.of(index))


def _site_fields(entry: dict[str, Any], kind: Any, location: str | None,
                 problem: Callable[[str | None, str], None]) -> tuple[int, LinkScope | None]:
    """A site source's max_depth and link scope (allow, deny, domain), checked."""
    if kind != "site":
        for key in SITE_FIELDS:
            if key in entry:
                problem(key, f"{key} is for a source of kind 'site' (a crawl)")
        return DEFAULT_MAX_DEPTH, None
    depth = entry.get("max_depth", DEFAULT_MAX_DEPTH)
    wrong = BOUNDS["max_depth"].problem(depth)
    if wrong:
        problem("max_depth", f"max_depth {wrong}")
        depth = DEFAULT_MAX_DEPTH
    domain = entry.get("domain", False)
    if type(domain) is not bool:
        problem("domain", f"domain must be true (any host of the start page's registrable "
                          f"domain) or false (its host only), not {domain!r}")
        domain = False
    patterns = {}
    for key in ("allow", "deny"):
        value = entry.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problem(key, f"{key} must be a list of regular expressions, not {value!r}")
            value = []
        patterns[key] = value
    if location is None:
        return depth, None
    try:
        return depth, LinkScope.build(location, domain=domain, **patterns)
    except ValueError as exc:
        message = str(exc)
        problem("deny" if message.startswith("bad deny") else "allow"
                if message.startswith("bad allow") else "url", message)
        return depth, None


def _location(entry: dict[str, Any], kind: Any, path: Path,
              problem: Callable[[str | None, str], None]) -> str | None:
    url, local = entry.get("url"), entry.get("path")
    if url is not None and local is not None:
        problem("path", "give url or path, not both")
        return None
    if url is None and local is None:
        wanted = {"urls": "path", "feed": "url", "sitemap": "url", "site": "url"}.get(
            kind, "url or path")
        problem(None, f"missing field {wanted!r}")
        return None
    if url is not None:
        if not isinstance(url, str) or not url.strip() or CONTROL.search(url):
            problem("url", f"url must be a URL, not {url!r}")
            return None
        url = url.strip()
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme.lower(), parts.hostname
        except ValueError as exc:
            problem("url", f"url is not a valid URL: {exc}")
            return None
        if kind == "urls":
            problem("url", "kind 'urls' reads a local file of URLs: give its path")
            return None
        if scheme in ("http", "https") and host:
            return url
        if scheme == "file" and kind == "page":
            return url
        allowed = "an http(s) URL" + (" or a file:// URL" if kind == "page" else "")
        problem("url", f"url must be {allowed}, not {url!r}")
        return None
    if not isinstance(local, str) or not local.strip() or CONTROL.search(local):
        problem("path", f"path must be a file name, not {local!r}")
        return None
    if kind in ("feed", "sitemap", "site"):
        problem("path", f"a {kind} is read from the web: give its url")
        return None
    resolved = Path(local.strip()).expanduser()
    if not resolved.is_absolute():
        resolved = path.resolve().parent / resolved
    return str(resolved)


def sources_or_report(path: str, command: str) -> list[Source] | None:
    """The sources file's sources; None after printing its problems (the caller exits 2)."""
    try:
        return load_sources(path)
    except SourcesError as exc:
        for problem in exc.problems:
            print(printable(f"scrape {command}: {problem}"), file=sys.stderr)
        return None


def source_cleaner(sources: Iterable[Source], links: bool = False,
                   images: bool = False) -> Cleaner:
    """The cleaner of a run: each source's selectors for the pages it claims (Page.source);
    `links`, `images`: what the markdown field keeps (--links, --images)."""
    return Cleaner(CleanConfig(source_selectors={s.name: s.selectors for s in sources
                                                 if s.selectors is not None},
                               links=links, images=images))
