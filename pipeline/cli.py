"""The `scrape` command line: the parser, and the commands ingest, clean and dups; batch,
reclean, search, export and stats add their own (pipeline/batch.py, reclean.py, cli_store.py).
The program starts in pipeline/entry.py, which sends search, export and stats to cli_store.

    scrape ingest [URL_OR_PATH...] [--urls FILE] [--max-age HOURS] [--db PATH] [--log-json]
                  [--warc FILE...] [--save-warc FILE] [--allow-local-files]
                                                   fetch (or read a WARC), clean, store;
                                                   one line per input
    scrape ingest --site URL [--max-depth N] [--max-pages N]
                                                   crawl a site from URL (pipeline/crawl.py)
    scrape batch [--sources FILE] [--db PATH] [--log-json]
                                                   the same for the sources of a TOML file
    scrape clean URL_OR_PATH [--url ORIGINAL_URL] [--format json|text|markdown]
                                                   print the clean record, store nothing
ingest and clean take --content-selector CSS and --drop-selector CSS (repeatable): the
article's container and boxes to remove, for every page (cleaner/selectors.py); ingest,
batch, clean and reclean take --links and --images: what the `markdown` field keeps.
    scrape dups [--min-size N] [--json] [--db PATH]
                                                   stories stored more than once
ingest, batch and clean take the fetch options: --timeout, --delay, --concurrency, --per-host,
--retries, --user-agent, --no-robots, --allow-private (`scrape ingest --help` explains them).
Exit status: 0 when at least one input was stored or read (clean: the page gave an article;
reclean: every stored page was seen), 1 when none was, 2 on bad usage; ingest, batch and
reclean also 3 when another run holds the database's run lock (pipeline/batch.py lists them);
every command 4 when the database cannot be used. ingest, batch and reclean record their run
in `runs` (pipeline/recorded.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlite_utils

from cleaner import Cleaner, SelectorError
from scraper import Fetcher
from scraper.links import LinkScope
from scraper.warc import SaveWarc, WarcReader
from store import History, clusters
from store.db import OutputIsDatabase, open_for_reading, refuse_overwrite

from . import batch, cli_store, reclean, recorded
from .bounds import bounded, positive_int
from .command import DEFAULT_DB, run_command
from .memory import freeze_long_lived, tune_malloc
from .options import (
    add_dedup_options,
    add_executor_options,
    add_fetch_options,
    add_markdown_options,
    add_selector_options,
    clean_config,
    dedup_config,
    executor_for,
    fetch_config,
)
from .progress import Output
from .run import RunSummary, clean_results, discovered, ingest, tasks_for
from .sources_file import DEFAULT_MAX_DEPTH, Source
from .steps import Item
from .terminal import json_line, oneline, printable


def cmd_ingest(args: argparse.Namespace) -> int:
    problem = ingest_usage(args)
    if problem is not None:
        print(printable(f"scrape ingest: {problem}"), file=sys.stderr)
        return 2

    def work(db: sqlite_utils.Database, run_id: int, output: Output) -> RunSummary:
        if args.site:
            return crawl_sites(args, db, run_id, output)
        readers = [WarcReader(path) for path in args.warc]
        with contextlib.ExitStack() as stack:
            saver = stack.enter_context(SaveWarc(args.save_warc)) if args.save_warc else None
            if readers:  # pages in hand: nothing to fetch
                fetcher = None
                items: Iterable[Item] = itertools.chain.from_iterable(readers)
            else:
                fetcher = stack.enter_context(Fetcher(fetch_config(args)))
                items = discovered(args.targets, fetcher, url_files=args.urls,
                                   allow_local_files=args.allow_local_files)
            summary = ingest(
                items, db, fetcher, Cleaner(clean_config(args)), on_result=output.result,
                max_age_hours=args.max_age, run_id=run_id,
                dedup=dedup_config(args), executor=executor_for(args),
                page_stages=[saver] if saver is not None else [],
            )
        report_warcs(output, readers, saver)  # after closing: the saved file has its name
        return summary

    # The same run lock, runs row and output as `scrape batch` (pipeline/recorded.py).
    return recorded.run_recorded("ingest", args, work, Output(json_lines=args.log_json,
                                                           label="ingest"))


def crawl_sites(args: argparse.Namespace, db: sqlite_utils.Database, run_id: int,
                output: Output) -> RunSummary:
    """`ingest --site URL`: a crawl of each site, as a batch's site source named
    "site:URL" (its frontier is kept under that name, so the next run goes on from it)."""
    sources = [site_source(url, args) for url in args.site]
    cleaner = Cleaner(clean_config(args))
    with Fetcher(fetch_config(args)) as fetcher, contextlib.closing(History(db)) as history:
        return ingest(batch.crawled(sources, fetcher, cleaner, history), db, fetcher, cleaner,
                      on_result=output.result, run_id=run_id, dedup=dedup_config(args),
                      cleaned=True)


def site_source(url: str, args: argparse.Namespace) -> Source:
    """The site source `--site URL` stands for (ValueError: not an http(s) URL)."""
    return Source(name=f"site:{url}", kind="site", location=url, max_pages=args.max_pages,
                  max_age_hours=args.max_age, max_depth=args.max_depth,
                  scope=LinkScope.build(url))


def ingest_usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the ingest options (exit 2), or None."""
    if args.site:
        if args.targets or args.urls or args.warc or args.save_warc:
            return "--site crawls a site: not with URLs, --urls, --warc or --save-warc"
        for url in args.site:
            try:
                LinkScope.build(url)
            except ValueError as exc:
                return f"--site {exc}"
        return selectors_usage(args)
    if args.max_depth != DEFAULT_MAX_DEPTH or args.max_pages is not None:
        return "--max-depth and --max-pages are for --site"
    if not args.targets and not args.urls and not args.warc:
        return "give at least one URL or path, --urls FILE, --warc FILE or --site URL"
    if args.warc and (args.targets or args.urls):
        return "give URLs or --warc files, not both in one run"
    if (problem := selectors_usage(args)) is not None:
        return problem
    if args.warc and args.max_age is not None:  # refused rather than silently ignored
        return ("--max-age skips pages fetched recently; pages read from a WARC file are "
                "not fetched: drop it")
    for path in args.warc:
        if not Path(path).is_file() or not os.access(path, os.R_OK):
            return f"cannot read the WARC file {path}: no such readable file"
    if args.save_warc:
        if getattr(args, "scheduler", None):
            return ("--save-warc needs the pages in this process: not with --scheduler, "
                    "whose workers fetch")
        folder = Path(args.save_warc).parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"cannot write --save-warc {args.save_warc}: no writable folder {folder}"
        try:  # written as FILE.part, renamed to FILE (scraper.warc.SaveWarc)
            refuse_overwrite(args.save_warc, args.db, temporary_suffixes=(".part",))
        except OutputIsDatabase as exc:
            return f"--save-warc {exc}"
    return None


def selectors_usage(args: argparse.Namespace) -> str | None:
    """What is wrong with --content-selector / --drop-selector together (each alone is
    checked by argparse), or None."""
    try:
        clean_config(args)
    except SelectorError as exc:
        return f"--drop-selector: {exc.reason}"
    return None


def report_warcs(output: Output, readers: Sequence[WarcReader], saver: SaveWarc | None) -> None:
    """A line per WARC file read or written (a JSON object each with --log-json)."""
    for reader in readers:
        skipped = reader.skipped
        if output.json_lines:
            output.print(json_line({"event": "warc", "read": str(reader.path),
                                    "pages": reader.pages, "skipped": dict(skipped)}))
            continue
        why = ", ".join(f"{k} {n}" for k, n in sorted(skipped.items()))
        output.print(printable(f"warc: read {reader.path}: {reader.pages} page(s), skipped "
                               f"{skipped.total()} records that are not HTML pages"
                               + (f" ({why})" if why else "")))
    if saver is None:
        return
    if output.json_lines:
        output.print(json_line({"event": "warc", "saved": str(saver.path),
                                "pages": saver.written, "local": saver.local}))
        return
    local = f", {saver.local} local file(s) not archived" if saver.local else ""
    output.print(printable(f"warc: saved {saver.written} page(s) to {saver.path}{local}"))


def cmd_clean(args: argparse.Namespace) -> int:
    if (problem := selectors_usage(args)) is not None:
        print(printable(f"scrape clean: {problem}"), file=sys.stderr)
        return 2
    with Fetcher(fetch_config(args)) as fetcher:
        result = next(clean_results(tasks_for([args.target], origin_url=args.url),
                                    fetcher, Cleaner(clean_config(args))))
    if result.article is None:
        print(f"scrape clean: {result.outcome}: {result.error} ({args.target})", file=sys.stderr)
        return 1
    a = result.article
    if args.format == "json":
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
    elif args.format == "markdown":
        from .markdown_files import markdown_document  # PyYAML only for this format

        sys.stdout.write(markdown_document(a.to_dict()))
    else:
        head = [x for x in (a.title, a.description, a.date) if x]
        print("\n".join(head) + ("\n\n" if head else "") + a.text)
    return 0


def cmd_dups(args: argparse.Namespace) -> int:
    if cli_store.no_database("dups", args.db):
        return 1

    def work() -> int:  # opened for reading: an older schema is upgraded when writable
        with contextlib.closing(open_for_reading(args.db)) as db:
            return print_dups(db, args)

    return cli_store.guarded("dups", args.db, work)  # a corrupt database: one line, exit 4


def print_dups(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
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
    p.add_argument("--max-age", type=bounded("max_age_hours"), default=None,
                   metavar="HOURS",
                   help="skip pages fetched less than HOURS ago (pages fetched before are "
                        "otherwise asked for only if changed: ETag / Last-Modified)")
    p.add_argument("--warc", action="append", default=[], metavar="FILE",
                   help="read the HTML responses of a web archive (.warc, .warc.gz) instead "
                        "of fetching; repeatable; not with URLs or --max-age")
    p.add_argument("--site", action="append", default=[], metavar="URL",
                   help="crawl a news site from URL (its home or a section page): articles "
                        "stored, listings' links followed within the site; repeatable")
    p.add_argument("--max-depth", type=bounded("max_depth"), default=DEFAULT_MAX_DEPTH,
                   metavar="N", help=f"--site: follow links at most N deep from URL (default "
                                     f"{DEFAULT_MAX_DEPTH}; a listing's next page adds none)")
    p.add_argument("--max-pages", type=bounded("max_pages"), default=None, metavar="N",
                   help="--site: fetch at most N pages of each site in this run")
    p.add_argument("--save-warc", default=None, metavar="FILE",
                   help="also write the pages fetched over HTTP(S) to FILE as WARC "
                        "(gzipped records; written as FILE.part until the run ends)")
    batch.add_allow_local_files(p)
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database (default: {DEFAULT_DB})")
    add_dedup_options(p)
    add_selector_options(p)
    add_markdown_options(p)
    batch.add_log_json(p)
    add_fetch_options(p)
    add_executor_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("clean", help="print the clean record of one page without storing it")
    p.add_argument("target", metavar="URL_OR_PATH")
    p.add_argument("--url", default=None, metavar="ORIGINAL_URL",
                   help="where a local file came from (keys the record, resolves links)")
    p.add_argument("--format", choices=("json", "text", "markdown"), default="json",
                   help="json: the record (default); text: title, standfirst, date, body; "
                        "markdown: YAML front matter and the markdown field")
    add_selector_options(p)
    add_markdown_options(p)
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
    tune_malloc()  # before the fetcher's threads start
    if argv is None:  # run as the program (not called by a test or a library): all ours
        freeze_long_lived()
    args = build_parser().parse_args(argv)
    return run_command(args, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
