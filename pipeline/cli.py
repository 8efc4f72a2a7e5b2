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
from scraper import Fetcher
from store import clusters, open_db

from . import batch, cli_store, reclean
from .options import DEFAULT_DB, add_fetch_options, fetch_config, oneline, positive_int
from .records import Result
from .run import RunSummary, clean_results, discovered, ingest, tasks_for


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
    return (f"{result.outcome:<16} {status:>3}  {oneline(a.title) or '(no title)'}  "
            f"[{a.word_count} words, {a.repeated_paragraphs_removed} repeated paragraphs removed]"
            f"{copy}  {page.url}")


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.targets and not args.urls:
        print("scrape ingest: give at least one URL or path, or --urls FILE", file=sys.stderr)
        return 2
    side: deque[Result] = deque()
    with Fetcher(fetch_config(args)) as fetcher:
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
    with Fetcher(fetch_config(args)) as fetcher:
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
        print(f"{cluster.size} copies  #{head['id']} {oneline(head['title']) or '(no title)'}"
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
    add_fetch_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("clean", help="print the clean record of one page without storing it")
    p.add_argument("target", metavar="URL_OR_PATH")
    p.add_argument("--url", default=None, metavar="ORIGINAL_URL",
                   help="where a local file came from (keys the record, resolves links)")
    p.add_argument("--format", choices=("json", "text"), default="json")
    add_fetch_options(p)
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("dups", help="list stories stored more than once (clusters of copies)")
    p.add_argument("--min-size", type=positive_int, default=2, metavar="N",
                   help="only clusters of at least N articles (default: 2)")
    p.add_argument("--json", action="store_true", help="one JSON object per cluster")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.set_defaults(func=cmd_dups)

    for module in (cli_store, batch, reclean):  # each adds its own subcommands
        module.register(sub)
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
