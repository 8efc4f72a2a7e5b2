"""The `scrape` command line.

    scrape ingest URL_OR_PATH... [--db PATH]       fetch, clean, store; one line per input
    scrape clean URL_OR_PATH [--url ORIGINAL_URL] [--format json|text]
                                                   print the clean record, store nothing
Exit status: 0 when at least one input gave an article, 1 when none did, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from cleaner import Cleaner
from scraper import FetchConfig, Fetcher

from .records import Result
from .run import RunSummary, clean_results, ingest, tasks_for

DEFAULT_DB = "data/scrape.db"


def _fetch_config(args: argparse.Namespace) -> FetchConfig:
    config = FetchConfig()
    if args.timeout is not None:
        config.connect_timeout = min(config.connect_timeout, args.timeout)
        config.read_timeout = min(config.read_timeout, args.timeout)
        config.total_timeout = args.timeout
    return config


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
    return (f"{result.outcome:<16} {status:>3}  {_oneline(a.title) or '(no title)'}  "
            f"[{a.word_count} words, {a.repeated_paragraphs_removed} repeated paragraphs removed]"
            f"  {page.url}")


def cmd_ingest(args: argparse.Namespace) -> int:
    with Fetcher(_fetch_config(args)) as fetcher:
        summary: RunSummary = ingest(
            tasks_for(args.targets), args.db, fetcher, Cleaner(),
            on_result=lambda r: print(describe(r), flush=True),
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrape", description="Fetch news pages, strip boilerplate, store clean articles.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log to stderr, and count what cleaning removed")
    sub = parser.add_subparsers(dest="command", required=True)

    timeout = dict(type=float, default=None, metavar="SECONDS",
                   help="give up on a page after this long (default: 30)")
    p = sub.add_parser("ingest", help="fetch, clean and store pages")
    p.add_argument("targets", nargs="+", metavar="URL_OR_PATH",
                   help="http(s) URL, file:// URL, or local .html/.html.gz/.txt file")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    p.add_argument("--timeout", **timeout)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("clean", help="print the clean record of one page without storing it")
    p.add_argument("target", metavar="URL_OR_PATH")
    p.add_argument("--url", default=None, metavar="ORIGINAL_URL",
                   help="where a local file came from (keys the record, resolves links)")
    p.add_argument("--format", choices=("json", "text"), default="json")
    p.add_argument("--timeout", **timeout)
    p.set_defaults(func=cmd_clean)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
