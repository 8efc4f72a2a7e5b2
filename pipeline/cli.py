"""The `scrape` command line.

    scrape ingest [URL_OR_PATH...] [--urls FILE] [--max-age HOURS] [--db PATH]
                                                   fetch, clean, store; one line per input
    scrape clean URL_OR_PATH [--url ORIGINAL_URL] [--format json|text]
                                                   print the clean record, store nothing
    scrape dups [--min-size N] [--json] [--db PATH]
                                                   stories stored more than once
Both take the fetch options: --timeout, --delay, --concurrency, --per-host, --retries,
--user-agent, --no-robots, --allow-private (`scrape ingest --help` explains them).
Exit status: 0 when at least one input gave an article, 1 when none did, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path


from cleaner import Cleaner
from cleaner.dedup import DedupConfig
from scraper import FetchConfig, Fetcher
from store import clusters, open_db

from .records import Result
from .run import RunSummary, clean_results, discovered, ingest, tasks_for

DEFAULT_DB = "data/scrape.db"


def _fetch_config(args: argparse.Namespace) -> FetchConfig:
    config = FetchConfig()
    if args.timeout is not None:
        config.connect_timeout = min(config.connect_timeout, args.timeout)
        config.read_timeout = min(config.read_timeout, args.timeout)
        config.total_timeout = args.timeout
    for option in ("delay", "concurrency", "per_host", "user_agent"):
        if getattr(args, option) is not None:
            setattr(config, option, getattr(args, option))
    if args.retries is not None:
        config.max_attempts = args.retries
    config.obey_robots = not args.no_robots
    config.allow_private = args.allow_private
    return config


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text}")
    return value


def _add_fetch_options(p: argparse.ArgumentParser) -> None:
    defaults = FetchConfig()
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help=f"give up on one attempt at a page after this long "
                        f"(default: {defaults.total_timeout:g})")
    p.add_argument("--delay", type=_seconds, default=None, metavar="SECONDS",
                   help=f"seconds between two requests to one host; a robots.txt "
                        f"Crawl-delay may ask for more (default: {defaults.delay:g})")
    p.add_argument("--concurrency", type=_positive_int, default=None, metavar="N",
                   help=f"requests at once, all hosts together (default: {defaults.concurrency})")
    p.add_argument("--per-host", type=_positive_int, default=None, metavar="N",
                   help=f"requests at once to one host (default: {defaults.per_host})")
    p.add_argument("--retries", type=_positive_int, default=None, metavar="N",
                   help=f"attempts per page on connection errors, timeouts, 429 and 5xx "
                        f"(default: {defaults.max_attempts}; 1: no retry)")
    p.add_argument("--user-agent", default=None, metavar="STR",
                   help=f"the User-Agent header; its first word is the name robots.txt "
                        f"rules are matched against (default: {defaults.user_agent!r})")
    p.add_argument("--no-robots", action="store_true",
                   help="do not read or obey robots.txt")
    p.add_argument("--allow-private", action="store_true",
                   help="fetch from hosts that resolve to loopback, private or link-local "
                        "addresses (refused by default)")


def _oneline(text: str | None, width: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def describe(result: Result) -> str:
    """One line per input: outcome, HTTP status, title, words, repeats removed, URL."""
    page = result.page
    status = str(page.status) if page.status is not None else "-"
    if result.article is None:
        return f"{result.outcome:<16} {status:>3}  {result.error or 'no article'}  {page.url}"
    a = result.article
    if a.duplicate_of is not None:
        copy = f" {a.dup_method} copy of #{a.duplicate_of} ({a.similarity:.2f})"
    elif result.outcome == "duplicate":  # it outranked the stored copies (store/dedup.py)
        copy = " a stored story's copy, now its canonical"
    else:
        copy = ""
    return (f"{result.outcome:<16} {status:>3}  {_oneline(a.title) or '(no title)'}  "
            f"[{a.word_count} words, {a.repeated_paragraphs_removed} repeated paragraphs removed]"
            f"{copy}  {page.url}")


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.targets and not args.urls:
        print("scrape ingest: give at least one URL or path, or --urls FILE", file=sys.stderr)
        return 2
    side: deque[Result] = deque()
    with Fetcher(_fetch_config(args)) as fetcher:
        tasks = discovered(args.targets, fetcher, side, url_files=args.urls)
        summary: RunSummary = ingest(
            tasks, args.db, fetcher, Cleaner(),
            on_result=lambda r: print(describe(r), flush=True),
            max_age_hours=args.max_age, side=side,
            dedup=DedupConfig(threshold=args.dup_threshold, containment=args.dup_containment),
        )
    print(summary.line())
    if args.verbose and summary.drops:
        print("removed while cleaning: " + ", ".join(
            f"{k} {v}" for k, v in sorted(summary.drops.items())))
    print(f"database: {args.db}")
    return 0 if summary.succeeded else 1


def cmd_clean(args: argparse.Namespace) -> int:
    with Fetcher(_fetch_config(args)) as fetcher:
        result = next(clean_results(tasks_for([args.target], origin_url=args.url),
                                    fetcher, Cleaner()))
    if result.article is None:
        print(f"scrape clean: {result.outcome}: {result.error} ({args.target})", file=sys.stderr)
        return 1
    a = result.article
    if args.format == "json":
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
    else:
        head = [x for x in (a.title, a.description, a.date) if x]
        print("\n".join(head) + ("\n\n" if head else "") + a.text)
    return 0


def cmd_dups(args: argparse.Namespace) -> int:
    if not Path(args.db).exists():
        print(f"scrape dups: no database at {args.db}", file=sys.stderr)
        return 1
    db = open_db(args.db)  # brings a database from an older version up to date
    found = 0
    for cluster in clusters(db, min_size=args.min_size):
        found += 1
        if args.json:
            print(json.dumps(dataclasses.asdict(cluster), ensure_ascii=False))
            continue
        head = cluster.canonical
        print(f"{cluster.size} copies  #{head['id']} {_oneline(head['title']) or '(no title)'}"
              f"  {head['url']}")
        for m in cluster.members:
            print(f"    {m['similarity']:.2f} {m['dup_method']:<9} #{m['id']:<6} {m['url']}")
    if not args.json:
        print(f"{found} cluster(s) of {args.min_size} or more")
    return 0


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrape", description="Fetch news pages, strip boilerplate, store clean articles.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log to stderr, and count what cleaning removed")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="fetch, clean and store pages")
    p.add_argument("targets", nargs="*", metavar="URL_OR_PATH",
                   help="http(s) URL of a page, a sitemap (index, .gz) or an RSS/Atom/JSON "
                        "feed; file:// URL; local .html/.html.gz/.txt page; .urls file")
    p.add_argument("--urls", action="append", default=[], metavar="FILE",
                   help="a file of URLs, one a line (# comments; .gz is fine); repeatable")
    p.add_argument("--max-age", type=float, default=None, metavar="HOURS",
                   help="skip pages fetched less than HOURS ago (pages fetched before are "
                        "otherwise asked for only if changed: ETag / Last-Modified)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    dedup = DedupConfig()
    p.add_argument("--dup-threshold", type=_share, default=dedup.threshold, metavar="J",
                   help="two bodies are one story when the estimated Jaccard similarity of "
                        f"their 5-word shingles is at least J (default: {dedup.threshold})")
    p.add_argument("--dup-containment", type=_share, default=dedup.containment, metavar="C",
                   help="... or when this share of the shorter body is in the longer one "
                        f"(a trimmed copy; default: {dedup.containment})")
    _add_fetch_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("clean", help="print the clean record of one page without storing it")
    p.add_argument("target", metavar="URL_OR_PATH")
    p.add_argument("--url", default=None, metavar="ORIGINAL_URL",
                   help="where a local file came from (keys the record, resolves links)")
    p.add_argument("--format", choices=("json", "text"), default="json")
    _add_fetch_options(p)
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("dups", help="list stories stored more than once (clusters of copies)")
    p.add_argument("--min-size", type=_positive_int, default=2, metavar="N",
                   help="only clusters of at least N articles (default: 2)")
    p.add_argument("--json", action="store_true", help="one JSON object per cluster")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.set_defaults(func=cmd_dups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BrokenPipeError:  # `scrape dups | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
