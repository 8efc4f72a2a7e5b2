"""Options and formatting shared by the `scrape` subcommands (pipeline/cli.py and the
command modules it registers)."""

from __future__ import annotations

import argparse
import os

from cleaner.dedup import DedupConfig
from scraper import FetchConfig

from .executors import Executor, InProcess, ProcessPool, cpus

DEFAULT_DB = "data/scrape.db"


def fetch_config(args: argparse.Namespace) -> FetchConfig:
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


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text}")
    return value


def add_fetch_options(p: argparse.ArgumentParser) -> None:
    defaults = FetchConfig()
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help=f"give up on one attempt at a page after this long "
                        f"(default: {defaults.total_timeout:g})")
    p.add_argument("--delay", type=seconds, default=None, metavar="SECONDS",
                   help=f"seconds between two requests to one host; a robots.txt "
                        f"Crawl-delay may ask for more (default: {defaults.delay:g})")
    p.add_argument("--concurrency", type=positive_int, default=None, metavar="N",
                   help=f"requests at once, all hosts together (default: {defaults.concurrency})")
    p.add_argument("--per-host", type=positive_int, default=None, metavar="N",
                   help=f"requests at once to one host (default: {defaults.per_host})")
    p.add_argument("--retries", type=positive_int, default=None, metavar="N",
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


def oneline(text: str | None, width: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


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


def workers(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def add_executor_options(p: argparse.ArgumentParser, cluster: bool = True) -> None:
    p.add_argument("--workers", type=workers, default=None, metavar="N",
                   help=f"processes that clean pages, beside the one that fetches and writes "
                        f"(default: one per CPU, here {cpus()}; 0: clean in that one)")
    if cluster:
        from .cluster import CHUNK, TIMEOUT  # (no Dask needed to import it)

        p.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV) or None,
                       metavar="ADDRESS",
                       help="run fetching and cleaning on a Dask cluster, e.g. "
                            f"tcp://10.0.0.5:8786 (default: ${SCHEDULER_ENV} if set); this "
                            "process still writes the database")
        p.add_argument("--chunk", type=positive_int, default=CHUNK, metavar="N",
                       help="with --scheduler: tasks of one host sent to a worker at a time "
                            f"(default: {CHUNK})")
        p.add_argument("--scheduler-timeout", type=seconds, default=TIMEOUT, metavar="SECONDS",
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
