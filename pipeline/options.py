"""Options shared by the `scrape` subcommands (pipeline/cli.py and the command modules it
registers), and what they ask for: the FetchConfig, CleanConfig, DedupConfig and executor."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

from cleaner import CleanConfig, SelectorError, Selectors
from cleaner.dedup import DedupConfig
from cleaner.selectors import CONTENT, DROP, check
from scraper import FetchConfig

from .bounds import bounded
from .executors import Executor, InProcess, ProcessPool, cpus


def fetch_config(args: argparse.Namespace) -> FetchConfig:
    """The FetchConfig the fetch options ask for (the defaults where an option is not given)."""
    default = FetchConfig()
    fields: dict[str, object] = {"obey_robots": not args.no_robots,
                                 "allow_private": args.allow_private}
    if args.timeout is not None:
        fields.update(connect_timeout=min(default.connect_timeout, args.timeout),
                      read_timeout=min(default.read_timeout, args.timeout),
                      total_timeout=args.timeout)
    for option in ("delay", "concurrency", "per_host", "user_agent"):
        if getattr(args, option) is not None:
            fields[option] = getattr(args, option)
    if args.retries is not None:
        fields["max_attempts"] = args.retries
    return replace(default, **fields)  # type: ignore[arg-type]


def add_fetch_options(p: argparse.ArgumentParser) -> None:
    defaults = FetchConfig()
    p.add_argument("--timeout", type=bounded("timeout"), default=None, metavar="SECONDS",
                   help=f"give up on one attempt at a page after this long "
                        f"(default: {defaults.total_timeout:g})")
    p.add_argument("--delay", type=bounded("delay"), default=None, metavar="SECONDS",
                   help=f"seconds between two requests to one host; a robots.txt "
                        f"Crawl-delay may ask for more (default: {defaults.delay:g})")
    p.add_argument("--concurrency", type=bounded("concurrency"), default=None, metavar="N",
                   help=f"requests at once, all hosts together (default: {defaults.concurrency})")
    p.add_argument("--per-host", type=bounded("per_host"), default=None, metavar="N",
                   help=f"requests at once to one host (default: {defaults.per_host})")
    p.add_argument("--retries", type=bounded("retries"), default=None, metavar="N",
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


def share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def selector_option(text: str) -> str:
    """The argparse type of a CSS selector option (cleaner/selectors.py checks it)."""
    try:
        return check(text)
    except SelectorError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def add_selector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content-selector", type=selector_option, default=None, metavar="CSS",
                   help="clean each page from what this CSS selector matches (the article's "
                        "container); a page where it matches nothing is cleaned whole")
    p.add_argument("--drop-selector", type=selector_option, action="append", default=[],
                   metavar="CSS",
                   help="remove what this CSS selector matches before cleaning (related "
                        "links, newsletter boxes); repeatable, up to 50")


def add_markdown_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--links", action="store_true",
                   help="keep links in the markdown field as absolute [text](url)")
    p.add_argument("--images", action="store_true",
                   help="keep images, with their captions, in the markdown field")


def markdown_flags(args: argparse.Namespace) -> dict[str, bool]:
    """CleanConfig's links= and images= as --links and --images ask (off where a command
    has no such options)."""
    return {"links": getattr(args, "links", False), "images": getattr(args, "images", False)}


def clean_config(args: argparse.Namespace) -> CleanConfig:
    """The cleaning the options ask for; SelectorError (its reason for --drop-selector) when
    they name too many selectors."""
    return CleanConfig(selectors=Selectors.of({CONTENT: args.content_selector,
                                               DROP: args.drop_selector or None}),
                       **markdown_flags(args))


def add_dedup_options(p: argparse.ArgumentParser) -> None:
    dedup = DedupConfig()
    p.add_argument("--dup-threshold", type=share, default=dedup.threshold, metavar="J",
                   help="two bodies are one story when the estimated Jaccard similarity of "
                        f"their 5-word shingles is at least J (default: {dedup.threshold})")
    p.add_argument("--dup-containment", type=share, default=dedup.containment, metavar="C",
                   help="... or when this share of the shorter body is in the longer one "
                        f"(a trimmed copy; default: {dedup.containment})")


def dedup_config(args: argparse.Namespace) -> DedupConfig:
    return DedupConfig(threshold=args.dup_threshold, containment=args.dup_containment)


SCHEDULER_ENV = "SCRAPE_SCHEDULER"


def add_executor_options(p: argparse.ArgumentParser, cluster: bool = True) -> None:
    p.add_argument("--workers", type=bounded("workers"), default=None, metavar="N",
                   help=f"processes that clean pages, beside the one that fetches and writes "
                        f"(default: one per CPU, here {cpus()}; 0: clean in that one)")
    if cluster:
        from .cluster import CHUNK, TIMEOUT  # (no Dask needed to import it)

        p.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV) or None,
                       metavar="ADDRESS",
                       help="run fetching and cleaning on a Dask cluster, e.g. "
                            f"tcp://10.0.0.5:8786 (default: ${SCHEDULER_ENV} if set); this "
                            "process still writes the database")
        p.add_argument("--chunk", type=bounded("chunk"), default=CHUNK, metavar="N",
                       help="with --scheduler: tasks of one host sent to a worker at a time "
                            f"(default: {CHUNK})")
        p.add_argument("--scheduler-timeout", type=bounded("scheduler_timeout"),
                       default=TIMEOUT, metavar="SECONDS",
                       help="with --scheduler: give up reaching the scheduler after this long "
                            f"(default: {TIMEOUT:g})")


def executor_for(args: argparse.Namespace) -> Executor:
    """The executor the options ask for (pipeline/executors.py, pipeline/cluster.py)."""
    if getattr(args, "scheduler", None):
        from .cluster import DaskExecutor  # dask is an optional extra

        return DaskExecutor(args.scheduler, chunk=args.chunk, timeout=args.scheduler_timeout)
    if args.workers == 0:
        return InProcess()
    return ProcessPool(args.workers)
