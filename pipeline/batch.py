"""`scrape batch`: the sources in a TOML file, one locked, recorded run.

    scrape batch [--sources data/sources.toml] [--db PATH] [--max-age HOURS] [--log-json]
                 [--check] [fetch options]

The sources file is a list of `[[source]]` tables (data/sources.toml is a documented example):

    [[source]]
    name = "bbc-world"            # required; letters, digits, ".", "_", "-"; fetches.source
    kind = "feed"                 # required: "feed" (RSS/Atom/JSON Feed), "sitemap" (index
                                  # or not, .gz too), "urls" (a local file of URLs, one a
                                  # line) or "page" (one page)
    url = "https://feeds.bbci.co.uk/news/world/rss.xml"   # feed, sitemap, page: http(s)
    # path = "lists/extra.urls"   # urls, page: a local file, relative to this file's folder
    max_pages = 50                # optional: at most 50 of its pages fetched per run
                                  # (1 to 10**9)
    max_age_hours = 12            # optional: skip its pages fetched less than 12 h ago
                                  # (default: --max-age; as `scrape ingest --max-age`;
                                  # 0 to 876600, 100 years)
    enabled = true                # optional; false keeps the entry but does not read it
    # content_selector = "div.article-body"   # optional: CSS of the article's container;
                                  # its pages are cleaned from what it matches (the whole
                                  # page when it matches nothing: drops "selector.no_match")
    # drop_selectors = [".related", ".newsletter"]   # optional: CSS of boxes removed first
                                  # (cleaner/selectors.py; at most 50, 1000 characters each)
    # allow_local_files = true    # urls only: its list may name local paths and file://
                                  # URLs (refused by default: a list's lines are data)

One run reads every enabled source, taking pages from the sources in turn (one from each,
round-robin: their sites are paced side by side). A page is fetched once per run even when
several sources list it: it belongs to the first source that reached it. A source's
`max_pages` counts the pages it sends to be fetched; pages skipped as fresh (`max_age_hours`)
do not count, so a large sitemap read with both is worked through over successive runs.
Sitemaps and feeds are read whatever their URL looks like (the declared kind decides when
the content does not); a sitemap index is followed on its own site. Every attempt is a
`fetches` row with source = the source's name and run_id = this run; the `sources` table
keeps each source's kind, location, max_pages, entry (config, JSON) and last run.

A sources file is read only up to 16 MiB, and its numbers have the bounds of the command
line's options (pipeline/options.py BOUNDS): `--check` refuses what a run could not do.

The run itself (shared with `scrape ingest`, `run_recorded`): the database's run lock
(store/lock.py: a second run on the same database exits at once), a `runs` row (store/runs.py:
running, then completed/failed/interrupted; killed runs found still "running" are marked
interrupted), the output of pipeline/progress.py, and these exit statuses:

    0   the run completed: at least one input stored or read (some may have failed)
    1   every input failed (or there was none)
    2   bad usage, or a bad sources file (its errors printed with file:line and field), or
        the Dask scheduler of --scheduler cannot be reached (or was lost during the run)
    3   another run holds the database's run lock; nothing was done
    4   the database cannot be used (not a database, no permission, a database error)
    130 interrupted (Ctrl-C), 143 stopped (SIGTERM): the run is recorded as interrupted
"""

from __future__ import annotations

import argparse
import difflib
import logging
import re
import signal
import sqlite3
import sys
import threading
import tomllib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from cleaner import CleanConfig, Cleaner, SelectorError, Selectors
from records import FetchTask, Page, Result
from records.urls import canonicalize, same_site
from scraper import Fetcher
from scraper.sources import FetchBytes, discover, kind_of, parse_feed, parse_sitemap
from store import History, open_db
from store.lock import LockHeld, RunLock, lock_path
from store.runs import (
    committed_counts,
    finish_run,
    mark_interrupted,
    start_run,
    upsert_sources,
)

from .cluster import ClusterUnavailable
from .options import (
    BOUNDS,
    DEFAULT_DB,
    add_dedup_options,
    add_executor_options,
    add_fetch_options,
    bounded,
    dedup_config,
    executor_for,
    fetch_config,
)
from .progress import Output
from .run import RunSummary, discovered, document_reader, ingest, revalidate
from .terminal import CONTROL, printable

log = logging.getLogger(__name__)

DEFAULT_SOURCES = "data/sources.toml"
EXIT_OK, EXIT_ALL_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_DATABASE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143

KINDS = ("feed", "sitemap", "urls", "page")
FIELDS = ("name", "kind", "url", "path", "max_pages", "max_age_hours", "enabled",
          "allow_local_files", "content_selector", "drop_selectors")
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
    if not (isinstance(name, str) and kind in KINDS and location):
        return None
    return Source(name=name, kind=kind, location=location, max_pages=max_pages,
                  max_age_hours=float(max_age) if max_age is not None else None,
                  enabled=enabled is True, allow_local_files=local is True,
                  selectors=selectors, config=dict(entry), line=lines.of(index))


def _location(entry: dict[str, Any], kind: Any, path: Path,
              problem: Callable[[str | None, str], None]) -> str | None:
    url, local = entry.get("url"), entry.get("path")
    if url is not None and local is not None:
        problem("path", "give url or path, not both")
        return None
    if url is None and local is None:
        wanted = {"urls": "path", "feed": "url", "sitemap": "url"}.get(kind, "url or path")
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
    if kind in ("feed", "sitemap"):
        problem("path", f"a {kind} is read from the web: give its url")
        return None
    resolved = Path(local.strip()).expanduser()
    if not resolved.is_absolute():
        resolved = path.resolve().parent / resolved
    return str(resolved)


# ---------------------------------------------------------------------------------------------
# Tasks


def batch_tasks(sources: Iterable[Source], fetcher: Fetcher, side: deque[Result],
                history: History, max_age_hours: float | None = None,
                allow_local_files: bool = False) -> Iterator[FetchTask]:
    """The pages of every enabled source, one from each in turn, each URL once in all, each
    source within its max_pages and max_age_hours (else `max_age_hours`). Revalidated
    (pipeline.run.revalidate): fresh pages go to `side` as skipped, the others carry the
    validators of their last fetch. Sitemaps and feeds read go to `side` too. The lists of
    "urls" sources may name local files with `allow_local_files` (or their own field)."""
    seen: set[str] = set()
    return interleave([source_tasks(s, fetcher, side, history, seen, max_age_hours,
                                    allow_local_files)
                       for s in sources if s.enabled])


def source_tasks(source: Source, fetcher: Fetcher, side: deque[Result], history: History,
                 seen: set[str], max_age_hours: float | None = None,
                 allow_local_files: bool = False) -> Iterator[FetchTask]:
    tasks = claim(expand(source, fetcher, side, allow_local_files), source.name, seen)
    if source.max_age_hours is not None:
        max_age_hours, rule = source.max_age_hours, f"max_age_hours of {source.name}"
    else:
        rule = "--max-age"
    planned = revalidate(tasks, history, max_age_hours, side, rule=rule)
    return islice(planned, source.max_pages) if source.max_pages else planned


def claim(tasks: Iterable[FetchTask], name: str, seen: set[str]) -> Iterator[FetchTask]:
    """The tasks whose URL no source has claimed yet in this run, named after `name`."""
    for task in tasks:
        key = canonicalize(task.url)
        if key in seen:
            continue
        seen.add(key)
        yield replace(task, source=name)


def interleave(iterators: Iterable[Iterator[FetchTask]]) -> Iterator[FetchTask]:
    """One item from each iterator in turn until all are exhausted."""
    active = deque(iterators)
    while active:
        tasks = active.popleft()
        for task in tasks:
            yield task
            active.append(tasks)
            break


def expand(source: Source, fetcher: Fetcher, side: deque[Result],
           allow_local_files: bool = False) -> Iterator[FetchTask]:
    """The pages one source names; the sitemaps and feeds read go to `side` as fetches of
    this source (the tasks' own source is set by `claim`). A list's local files are refused
    tasks unless `allow_local_files` or the source's own field allows them."""
    if source.kind == "page":
        yield FetchTask(url=source.location, source=source.name)
    elif source.kind == "urls":
        if not Path(source.location).is_file():
            page = Page(url=source.location, source=source.name, outcome="fetch.not_found",
                        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        error=f"no such file of URLs: {source.location}")
            side.append(Result(page=page, outcome=page.outcome, error=page.error))
            return
        yield from discovered([], fetcher, side, url_files=[source.location],
                              source=source.name,
                              allow_local_files=allow_local_files or source.allow_local_files)
    else:
        yield from read_listing(source, document_reader(fetcher, side, source.name))


def read_listing(source: Source, read: FetchBytes) -> Iterator[FetchTask]:
    """The pages of a feed or sitemap source, its sitemap index followed on its own site.

    Read as the content says, else as the source's declared kind: a feed at a URL that does
    not look like one ("/news?output=rss") is still read as a feed. Child sitemaps go
    through scraper.sources.discover (the budget, loops, nested indexes), which takes a URL
    for a sitemap by its name (sitemap*.xml, any .xml/.xml.gz); others are skipped.
    """
    try:
        body, content_type, final_url = read(source.location)
    except OSError:
        return  # recorded by the reader as this source's failed read
    kind = kind_of(body, content_type, final_url)
    if kind == "page":
        kind = source.kind
    if kind == "feed":
        pages, children = parse_feed(body, final_url), []
    else:
        content = parse_sitemap(body, final_url)
        pages, children = content.pages, content.sitemaps
    if not pages and not children:
        log.warning("source %s: no links found in %s (read as a %s)", source.name,
                    source.location, kind)
    for url in pages:
        yield FetchTask(url=url, source=source.name)
    follow = []
    for child in children:
        if not (same_site(child, source.location) or same_site(child, final_url)):
            log.warning("source %s: %s lists off-site sitemap %s; skipped", source.name,
                        source.location, child)
        elif not _named_like_sitemap(child):
            log.warning("source %s: %s lists %s, which is not named like a sitemap; skipped",
                        source.name, source.location, child)
        else:
            follow.append(child)
    if follow:
        yield from discover(follow, read)


def _named_like_sitemap(url: str) -> bool:
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    return kind_of(b"", None, url) != "page" or path.endswith((".xml", ".xml.gz"))


# ---------------------------------------------------------------------------------------------
# A locked, recorded run (scrape batch and scrape ingest)


class Stopped(BaseException):
    """SIGTERM arrived (systemd stopping the unit, `kill`): end the run as interrupted."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises Stopped inside (so the run, or an export's cleanup, ends in order);
    the previous handler is put back after. Only the main thread can set handlers:
    elsewhere, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


Work = Callable[[sqlite_utils.Database, int, Output], RunSummary]


def arguments_of(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a run, for runs.arguments (JSON)."""
    return {k: v for k, v in sorted(vars(args).items())
            if k != "func" and (v is None or isinstance(v, (str, int, float, bool, list)))}


def run_recorded(command: str, args: argparse.Namespace, work: Work, output: Output) -> int:
    """Run `work(db, run_id, output)` holding the database's run lock, recorded in `runs`;
    print its end through `output`; return the exit status (see the module docstring)."""
    try:
        lock = RunLock(args.db).acquire(
            f"scrape {command} since {datetime.now(UTC).isoformat(timespec='seconds')}")
    except LockHeld as exc:
        print(printable(f"scrape {command}: {exc}; not started (exit {EXIT_LOCKED})"),
              file=sys.stderr)
        return EXIT_LOCKED
    except OSError as exc:
        print(printable(f"scrape {command}: cannot create the lock file "
                        f"{lock_path(args.db)}: {exc}"), file=sys.stderr)
        return EXIT_DATABASE
    try:
        with sigterm_raises():
            return _locked(command, args, work, output)
    finally:
        lock.release()


def _locked(command: str, args: argparse.Namespace, work: Work, output: Output) -> int:
    db: sqlite_utils.Database | None = None
    try:
        db = open_db(args.db)
        interrupted = mark_interrupted(db)
        run_id = start_run(db, command, arguments_of(args))
    except (sqlite3.Error, OSError) as exc:
        print(printable(f"scrape {command}: cannot use the database {args.db}: "
                        f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        if db is not None:
            db.close()
        return EXIT_DATABASE
    for row in interrupted:
        log.warning("run %d (%s, started %s, pid %s on %s) ended without finishing: marked "
                    "interrupted", row["id"], row["command"], row["started_at"], row["pid"],
                    row["host"])
    summary: RunSummary | None = None
    status, code = "failed", EXIT_DATABASE
    try:
        with output.live():
            summary = work(db, run_id, output)
        status = "completed" if summary.succeeded else "failed"
        code = EXIT_OK if summary.succeeded else EXIT_ALL_FAILED
    except KeyboardInterrupt:
        status, code = "interrupted", EXIT_INTERRUPTED
        print(f"scrape {command}: interrupted", file=sys.stderr)
    except Stopped:
        status, code = "interrupted", EXIT_TERMINATED
        print(f"scrape {command}: stopped (SIGTERM)", file=sys.stderr)
    except BrokenPipeError:  # `scrape batch | head`: cli.main ends it quietly
        status = "interrupted"
        raise
    except ClusterUnavailable as exc:  # --scheduler: not reachable, or lost mid-run
        code = EXIT_USAGE
        print(printable(f"scrape {command}: {exc}"), file=sys.stderr)
    except sqlite3.Error as exc:
        print(printable(f"scrape {command}: database error: {type(exc).__name__}: {exc}"),
              file=sys.stderr)
    finally:
        # Also when an unexpected error propagates: the run is then recorded as failed.
        try:
            if summary is None:  # what it committed before it stopped
                summary = RunSummary(counts=Counter(committed_counts(db, run_id)))
            finish_run(db, run_id, status, summary.counts)
        except sqlite3.Error as exc:
            log.error("could not record the end of run %d: %s", run_id, exc)
            summary = summary or RunSummary()
        finally:
            db.close()
    output.finish(run_id, status, summary, str(args.db), command,
                  drops=getattr(args, "verbose", False))
    return code


# ---------------------------------------------------------------------------------------------
# The command


def sources_or_report(path: str, command: str) -> list[Source] | None:
    """The sources file's sources; None after printing its problems (the caller exits 2)."""
    try:
        return load_sources(path)
    except SourcesError as exc:
        for problem in exc.problems:
            print(printable(f"scrape {command}: {problem}"), file=sys.stderr)
        return None


def cmd_batch(args: argparse.Namespace) -> int:
    sources = sources_or_report(args.sources, "batch")
    if sources is None:
        return EXIT_USAGE
    if args.check:
        for s in sources:
            limits = ", ".join(filter(None, [
                f"max_pages {s.max_pages}" if s.max_pages else "",
                f"max_age_hours {s.max_age_hours:g}" if s.max_age_hours is not None else "",
                "allow_local_files" if s.allow_local_files else "",
                "content_selector" if s.selectors and s.selectors.content else "",
                f"drop_selectors {len(s.selectors.drop)}" if s.selectors and s.selectors.drop
                else "",
                "" if s.enabled else "disabled"]))
            print(printable(f"{s.name:<20} {s.kind:<8} {s.location}"
                            + (f"  ({limits})" if limits else "")))
        print(f"{len(sources)} source(s), {sum(s.enabled for s in sources)} enabled: "
              f"{args.sources} is valid")
        return EXIT_OK

    def work(db: sqlite_utils.Database, run_id: int, output: Output) -> RunSummary:
        upsert_sources(db, [s.row() for s in sources if s.enabled], run_id)
        side: deque[Result] = deque()
        history = History(args.db)
        try:
            with Fetcher(fetch_config(args)) as fetcher:
                tasks = batch_tasks(sources, fetcher, side, history, args.max_age,
                                    args.allow_local_files)
                return ingest(tasks, args.db, fetcher, source_cleaner(sources),
                              on_result=output.result,
                              side=side, run_id=run_id, revalidated=True,
                              dedup=dedup_config(args), executor=executor_for(args))
        finally:
            history.close()

    return run_recorded("batch", args, work, Output(json_lines=args.log_json, show_source=True,
                                                      label="batch"))


def source_cleaner(sources: Iterable[Source]) -> Cleaner:
    """The cleaner of a run: each source's selectors for the pages it claims (Page.source)."""
    return Cleaner(CleanConfig(source_selectors={s.name: s.selectors for s in sources
                                                 if s.selectors is not None}))


def add_allow_local_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-local-files", action="store_true",
                   help="read the local paths and file:// URLs that lists of URLs name (a "
                        ".urls file, --urls, a source of kind urls); refused by default: a "
                        "list's lines are data, not the files you chose")


def add_log_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-json", action="store_true",
                   help="print one JSON object per input and a final summary object, "
                        "instead of text lines")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
    p = sub.add_parser(
        "batch", help="read the sources of a TOML file (feeds, sitemaps, URL lists, pages) "
                      "in one locked, recorded run",
        description="Fetch, clean and store the pages of every source in a TOML file, "
                    "one run at a time per database. Exit status: 0 completed, 1 every "
                    "input failed, 2 bad usage or sources file, 3 another run holds the "
                    "database's lock, 4 database unusable.")
    p.add_argument("--sources", default=DEFAULT_SOURCES, metavar="FILE",
                   help=f"the sources file (default: {DEFAULT_SOURCES})")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.add_argument("--max-age", type=bounded("max_age_hours"), default=None,
                   metavar="HOURS",
                   help="skip pages fetched less than HOURS ago, for sources without their "
                        "own max_age_hours")
    p.add_argument("--check", action="store_true",
                   help="only check the sources file and list its sources")
    add_allow_local_files(p)
    add_log_json(p)
    add_dedup_options(p)
    add_fetch_options(p)
    add_executor_options(p)
    p.set_defaults(func=cmd_batch)
