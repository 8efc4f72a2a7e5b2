"""Fetch throughput: our fetcher beside Scrapy and plain httpx, against nginx on loopback.

    make bench-fetch                                    # every client, 3 runs each, writes results
    .venv/bin/python bench/fetch.py --concurrency 64 --repeat 1
    .venv/bin/python bench/fetch.py --clients ours,scrapy --pages 500
    .venv/bin/python bench/fetch.py --profile ours      # cProfile of one timed pass, top functions
    .venv/bin/python bench/fetch.py --profile ours --py-spy   # the same, sampled by py-spy

The server: nginx on 127.0.0.1 at a free port, serving `--pages` (2,000) generated article pages
of 60-120 KiB (deterministic from `--seed`: title, navigation, byline, paragraphs with inline
links, a figure, related links, footer) from a temporary directory, with a configuration this
script writes: one worker process (the client gets the other core of a 2-core machine), no
access log, no gzip, `charset utf-8` on text/html, keep-alive for up to 100,000 requests per
connection. nginx is stopped and the directory removed at the end, also on an error or Ctrl-C.
If nginx is missing it is installed with apt-get when running as root; otherwise the script
stops and says how to install it. Nothing here talks to anything but 127.0.0.1.

The clients, each fetching every page with politeness off (no delay, no robots.txt, the whole
concurrency allowed on the one host) at the same concurrency (`--concurrency`, default 16):

  ours           `scraper.Fetcher(config)` through its public facade, `fetch(tasks)`. The config is
                 FetchConfig() with concurrency/per_host = N, delay = 0, obey_robots = False and
                 allow_private = True, each applied only if FetchConfig has that field (the
                 fields it lacks are reported: a FetchConfig without `concurrency` fetches one
                 page at a time, whatever N is). A page counts when outcome == "fetched" and
                 status == 200.
  scrapy         a minimal Spider under CrawlerProcess: CONCURRENT_REQUESTS and
                 CONCURRENT_REQUESTS_PER_DOMAIN = N, DOWNLOAD_DELAY 0, ROBOTSTXT_OBEY, AUTOTHROTTLE,
                 HTTPCACHE, cookies and the telnet console off, LOG_LEVEL ERROR, Scrapy's default
                 reactor otherwise. A page counts when its response has status 200.
  httpx          plain httpx.AsyncClient (Limits(max_connections=N, max_keepalive_connections=N)),
                 N tasks doing `await client.get(url)`: the reference row for httpx's own cost.
  httpx-aiohttp  the same httpx.AsyncClient code over httpx_aiohttp.AiohttpTransport: what a faster
                 transport under the httpx API gives.
  aiohttp        aiohttp.ClientSession(TCPConnector(limit=N)), N tasks: that transport's ceiling.
  ours-aiohttp   ours with AiohttpTransport passed as `transport=`; run only when scraper.fetch has
                 the async engine (AsyncFetcher) and Fetcher takes a transport, else skipped.

Each run of a client is its own subprocess (`--worker`): it fetches every page once untimed (the
warm-up) with one client object, then once more, timed, with a fresh one (so both passes open their
own connections). Timed: from the first request to the last page (for Scrapy, from the first call
of start_requests to the last callback), wall clock with time.perf_counter and client CPU as
user+system seconds from getrusage(RUSAGE_SELF) in that subprocess (all its threads). Every body is
checked by size: the bytes of all 200 bodies must add up to the bytes on disk. `--repeat` (3) runs
of each client, interleaved client by client so that machine noise hits all of them; the table
gives the median pages/s, the median CPU seconds per 1,000 pages, and each client against Scrapy.

Results go to bench/results/fetch.json (`--out`). The exit status is 1 when a client fetched
fewer than all pages or fewer bytes than served (the table says which, loudly), 2 when the bench
could not run (no nginx, server would not start), 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import datetime
import inspect
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the project's packages before bench/'s scripts

from common import (  # noqa: E402
    USER_AGENT,
    Nginx,
    find_nginx,
    run_json_worker,
    run_serving,
    scrapy_settings,
    versions,
    write_json,
)

DEFAULT_OUT = HERE / "results" / "fetch.json"
CLIENTS = ("ours", "scrapy", "httpx", "httpx-aiohttp", "aiohttp", "ours-aiohttp")
BASELINE = "scrapy"
KIB = 1024
PAGE_MIN, PAGE_MAX = 60 * KIB, 120 * KIB
WORKER_TIMEOUT = 600.0  # seconds for one client subprocess (warm-up and timed pass)
# Politeness off: set on FetchConfig only where the field exists (the engine is being rebuilt).
POLITENESS_OFF = ("concurrency", "per_host", "delay", "obey_robots", "allow_private")

# ---------------------------------------------------------------------------------------------
# Pages

_SYLLABLES = (
    "ba be bi bo bu da de di do du fa fe fi fo ga ge go ka ke ki ko la le li lo lu ma me mi mo "
    "na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve vi vo za ze zo "
    "ar er ir or ul an en in on st tr pr str cl gr"
).split()
_COMMON = (
    "the of and to in a is that for on was with as by at from it his her said has have had be "
    "were are this which an their they not after more new but about its one two who been also "
    "would than over into up when last year government minister city police people week"
).split()
_ACCENTED = ("café", "naïve", "résumé", "Zürich", "São Paulo", "Malmö", "“quoted”", "—", "€4m")


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def _sentence(rng: random.Random, vocab: list[str]) -> str:
    words = [
        rng.choice(_COMMON) if rng.random() < 0.45 else rng.choice(vocab)
        for _ in range(rng.randint(8, 28))
    ]
    if rng.random() < 0.08:
        words.insert(rng.randrange(len(words)), rng.choice(_ACCENTED))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!"))


def _paragraph(rng: random.Random, vocab: list[str], npages: int) -> str:
    sentences = [_sentence(rng, vocab) for _ in range(rng.randint(3, 9))]
    if rng.random() < 0.35:  # an inline link to another article
        i = rng.randrange(len(sentences))
        words = sentences[i].split(" ")
        j = rng.randrange(len(words))
        k = min(len(words), j + rng.randint(1, 4))
        href = f"/articles/{rng.randrange(npages):05d}.html"
        words[j:k] = [f'<a href="{href}">{" ".join(words[j:k])}</a>']
        sentences[i] = " ".join(words)
    return "<p>" + " ".join(sentences) + "</p>"


def generate_pages(root: Path, count: int, seed: int) -> list[tuple[str, int]]:
    """Write `count` article pages under root/articles/; returns (path, size) of each."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    pool = [_paragraph(rng, vocab, count) for _ in range(4000)]
    sections = ["world", "politics", "business", "science", "culture", "sport", "opinion"]
    nav = "\n".join(
        f'<li><a href="/{s}/">{s.capitalize()}</a></li>' for s in sections + ["video", "audio"]
    )
    footer = "\n".join(
        f'<li><a href="/about/{w}">{w.capitalize()}</a></li>'
        for w in ("contact", "privacy", "terms", "cookies", "jobs", "advertise", "newsletters")
    )
    (root / "articles").mkdir(parents=True)
    pages = []
    for n in range(count):
        target = rng.randint(PAGE_MIN, PAGE_MAX)
        title = " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 11))).capitalize()
        section = rng.choice(sections)
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(700))
        head = (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title} | The Daily Bench</title>\n"
            f'<meta name="description" content="{_sentence(rng, vocab)}">\n'
            f'<meta property="og:title" content="{title}">\n'
            f'<meta property="article:published_time" content="{day.isoformat()}T08:00:00Z">\n'
            f'<link rel="canonical" href="https://news.example/articles/{n:05d}.html">\n'
            '<link rel="stylesheet" href="/static/site.css">\n'
            '<script src="/static/site.js" defer></script>\n</head>\n<body>\n'
            f'<header><a class="logo" href="/">The Daily Bench</a>\n<nav><ul>\n{nav}\n</ul></nav>'
            "</header>\n<main>\n<article>\n"
            f'<p class="kicker"><a href="/{section}/">{section.capitalize()}</a></p>\n'
            f"<h1>{title}</h1>\n"
            f'<p class="byline">By <a href="/authors/{rng.choice(vocab)}">'
            f"{rng.choice(vocab).capitalize()} {rng.choice(vocab).capitalize()}</a>, "
            f'<time datetime="{day.isoformat()}">{day:%d %B %Y}</time></p>\n'
            f'<figure><img src="/img/{n:05d}.jpg" alt="{title}" width="960" height="540">'
            f"<figcaption>{_sentence(rng, vocab)}</figcaption></figure>\n"
        )
        related = "\n".join(
            f'<li><a href="/articles/{rng.randrange(count):05d}.html">'
            f"{' '.join(rng.choice(vocab) for _ in range(6)).capitalize()}</a></li>"
            for _ in range(8)
        )
        tail = (
            "</article>\n"
            f'<aside class="related"><h2>Related</h2><ul>\n{related}\n</ul></aside>\n</main>\n'
            f"<footer><ul>\n{footer}\n</ul><p>&copy; 2025 The Daily Bench</p></footer>\n"
            "</body>\n</html>\n"
        )
        budget = target - len(head.encode()) - len(tail.encode())
        parts: list[str] = []
        size = 0
        while True:
            para = rng.choice(pool)
            if rng.random() < 0.06:
                para = f"<h2>{_sentence(rng, vocab).rstrip('.?!')}</h2>\n{para}"
            grown = size + len(para.encode()) + 1
            if grown > budget:
                break
            parts.append(para)
            size = grown
        body = (head + "\n".join(parts) + "\n" + tail).encode()
        path = f"articles/{n:05d}.html"
        (root / path).write_bytes(body)
        pages.append((path, len(body)))
    return pages


# ---------------------------------------------------------------------------------------------
# Clients (each runs inside a worker subprocess)


class AllThreads:
    """cProfile of the main thread and of every thread started after `arm()`, timing CPU
    (time.thread_time), not wall clock: a thread blocked waiting for pages costs nothing."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.armed = False

    def _new(self) -> cProfile.Profile:
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(profile)
        profile.enable()
        return profile

    def _hook(self, *_: Any) -> None:  # first event in a new thread: profile it from here on
        if self.armed:
            self._new()
        else:
            sys.setprofile(None)

    def arm(self) -> None:
        """From now on, threads that start are profiled (call before making the client)."""
        self.armed = True
        threading.setprofile(self._hook)

    def enable(self) -> None:
        self.main = self._new()

    def disable(self) -> None:
        self.main.disable()
        self.armed = False
        threading.setprofile(None)  # type: ignore[arg-type]

    def dump(self, path: str) -> None:
        """All threads' statistics in one file (call once the client's threads are gone)."""
        for profile in self.profiles:
            profile.create_stats()
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


@dataclasses.dataclass
class Tally:
    """What one pass fetched, and when it started and ended (wall clock and CPU)."""

    pages: int = 0
    bytes: int = 0
    failures: Counter[str] = dataclasses.field(default_factory=Counter)
    wall0: float = 0.0
    wall1: float = 0.0
    cpu0: float = 0.0
    cpu1: float = 0.0
    profile: AllThreads | None = None

    def begin(self) -> None:
        if self.profile:
            self.profile.enable()
        self.cpu0, self.wall0 = _cpu(), time.perf_counter()

    def end(self) -> None:
        self.wall1, self.cpu1 = time.perf_counter(), _cpu()
        if self.profile:
            self.profile.disable()

    def ok(self, nbytes: int) -> None:
        self.pages += 1
        self.bytes += nbytes

    def fail(self, why: str) -> None:
        self.failures[why] += 1

    def result(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "bytes": self.bytes,
            "failures": dict(self.failures.most_common()),
            "wall_s": self.wall1 - self.wall0,
            "cpu_s": self.cpu1 - self.cpu0,
        }


def _cpu() -> float:
    """User + system CPU seconds of this process, all threads (microsecond resolution)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _fetcher_classes() -> tuple[Any, Any]:
    try:
        from scraper import FetchConfig, Fetcher
    except ImportError:  # the layout before scraper/sync.py
        from scraper.fetch import FetchConfig, Fetcher
    return Fetcher, FetchConfig


def ours_config(concurrency: int) -> tuple[Any, dict[str, Any], list[str]]:
    """FetchConfig with politeness off, the fields set, and the fields FetchConfig lacks."""
    _, FetchConfig = _fetcher_classes()
    wanted = {
        "concurrency": concurrency,
        "per_host": concurrency,
        "delay": 0.0,
        "obey_robots": False,
        "allow_private": True,
    }
    assert set(wanted) == set(POLITENESS_OFF)
    names = {f.name for f in dataclasses.fields(FetchConfig)}
    applied = {k: v for k, v in wanted.items() if k in names}
    config = dataclasses.replace(FetchConfig(), **applied)
    return config, applied, sorted(set(wanted) - names)


def async_engine() -> bool:
    import scraper.fetch

    return hasattr(scraper.fetch, "AsyncFetcher")


def ours_transport_support() -> str | None:
    """None when ours can run over AiohttpTransport, else why not."""
    Fetcher, _ = _fetcher_classes()
    if not async_engine():
        return "scraper.fetch has no AsyncFetcher yet (the facade takes a sync httpx transport)"
    try:
        params = inspect.signature(Fetcher).parameters
    except (TypeError, ValueError):
        return "cannot read Fetcher's signature"
    if "transport" not in params:
        return "Fetcher takes no transport argument"
    try:
        import httpx_aiohttp  # noqa: F401
    except ImportError:
        return "httpx-aiohttp is not installed"
    return None


def run_ours(urls: list[str], n: int, tally: Tally, aiohttp_transport: bool) -> None:
    from records import FetchTask

    Fetcher, _ = _fetcher_classes()
    config, _, _ = ours_config(n)
    tasks = [FetchTask(u, source="bench") for u in urls]
    if aiohttp_transport:
        import httpx
        from httpx_aiohttp import AiohttpTransport

        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        fetcher = Fetcher(config, transport=AiohttpTransport(limits=limits))
    else:
        fetcher = Fetcher(config)
    entered = fetcher.__enter__() if hasattr(fetcher, "__enter__") else fetcher
    try:
        tally.begin()
        for page in entered(tasks):
            if page.outcome == "fetched" and page.status == 200:
                tally.ok(len(page.body))
            else:
                tally.fail(f"{page.outcome}: {page.error}")
        tally.end()
    finally:
        if hasattr(fetcher, "__exit__"):
            fetcher.__exit__(None, None, None)
        elif hasattr(fetcher, "close"):
            fetcher.close()


def run_scrapy(warm_urls: list[str], urls: list[str], n: int, warm: Tally, timed: Tally) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class BenchSpider(scrapy.Spider):
        name = "bench"

        def __init__(self, targets: list[str], tally: Tally, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.targets, self.tally, self.left = targets, tally, len(targets)

        async def start(self) -> AsyncIterator[scrapy.Request]:  # Scrapy >= 2.13
            for request in self.start_requests():
                yield request

        def start_requests(self) -> Iterator[scrapy.Request]:  # Scrapy < 2.13
            self.tally.begin()
            for url in self.targets:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed)

        def parse(self, response: Any) -> None:
            if response.status == 200:
                self.tally.ok(len(response.body))
            else:
                self.tally.fail(f"HTTP {response.status}")
            self._done()

        def failed(self, failure: Any) -> None:
            self.tally.fail(f"{failure.type.__name__}: {failure.value}")
            self._done()

        def _done(self) -> None:
            self.left -= 1
            if self.left == 0:
                self.tally.end()

    settings = scrapy_settings(n)
    errors: list[str] = []
    process = CrawlerProcess(settings)

    def timed_crawl(_: Any) -> Any:
        return process.crawl(BenchSpider, targets=urls, tally=timed)

    d = process.crawl(BenchSpider, targets=warm_urls, tally=warm)
    d.addCallback(timed_crawl)
    d.addErrback(lambda f: errors.append(f.getTraceback()))
    process.start()
    if errors:
        raise RuntimeError("the Scrapy crawl failed:\n" + "\n".join(errors))


async def _pool(urls: list[str], n: int, fetch_one: Callable[[str], Any]) -> None:
    it = iter(urls)

    async def worker() -> None:
        for url in it:
            await fetch_one(url)

    await asyncio.gather(*(worker() for _ in range(n)))


async def run_httpx(urls: list[str], n: int, tally: Tally, aiohttp_transport: bool) -> None:
    import httpx

    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    transport = None
    if aiohttp_transport:
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    headers = {"User-Agent": USER_AGENT}
    async with httpx.AsyncClient(limits=limits, transport=transport, headers=headers,
                                 timeout=30.0) as client:

        async def fetch_one(url: str) -> None:
            try:
                r = await client.get(url)
            except httpx.HTTPError as exc:
                tally.fail(f"{type(exc).__name__}: {exc}")
                return
            if r.status_code == 200:
                tally.ok(len(r.content))
            else:
                tally.fail(f"HTTP {r.status_code}")

        tally.begin()
        await _pool(urls, n, fetch_one)
        tally.end()


async def run_aiohttp(urls: list[str], n: int, tally: Tally) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=n)
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"User-Agent": USER_AGENT}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     headers=headers) as session:

        async def fetch_one(url: str) -> None:
            try:
                async with session.get(url) as r:
                    body = await r.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.fail(f"{type(exc).__name__}: {exc}")
                return
            if r.status == 200:
                tally.ok(len(body))
            else:
                tally.fail(f"HTTP {r.status}")

        tally.begin()
        await _pool(urls, n, fetch_one)
        tally.end()


def run_client(client: str, warm_urls: list[str], urls: list[str], n: int,
               profile: AllThreads | None) -> tuple[Tally, Tally]:
    warm, timed = Tally(), Tally(profile=profile)
    if client == "scrapy":
        if profile:
            profile.arm()  # the reactor's thread pool starts during the crawls
        run_scrapy(warm_urls, urls, n, warm, timed)
        return warm, timed
    for targets, tally in ((warm_urls, warm), (urls, timed)):
        if not targets:
            continue
        if tally.profile:
            tally.profile.arm()  # our facade starts its event-loop thread when it is made
        if client == "ours":
            run_ours(targets, n, tally, aiohttp_transport=False)
        elif client == "ours-aiohttp":
            run_ours(targets, n, tally, aiohttp_transport=True)
        elif client in ("httpx", "httpx-aiohttp"):
            asyncio.run(run_httpx(targets, n, tally, aiohttp_transport=client == "httpx-aiohttp"))
        elif client == "aiohttp":
            asyncio.run(run_aiohttp(targets, n, tally))
        else:
            raise ValueError(f"unknown client {client!r}")
    return warm, timed


def worker_main(args: argparse.Namespace) -> int:
    """One client, one warm-up pass and one timed pass; a JSON line on stdout."""
    urls = Path(args.urls).read_text().split()
    warm_urls = urls[: args.warmup] if args.warmup >= 0 else urls
    profile = AllThreads() if args.cprofile else None
    warm, timed = run_client(args.worker, warm_urls, urls, args.concurrency, profile)
    if profile is not None:
        profile.dump(args.cprofile)
    print(json.dumps({"client": args.worker, "warmup": warm.result(), **timed.result()}))
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration


def run_worker(client: str, urls_file: Path, args: argparse.Namespace,
               prefix: list[str] | None = None, cprofile: Path | None = None) -> dict[str, Any]:
    cmd = [*(prefix or []), sys.executable, str(Path(__file__).resolve()), "--worker", client,
           "--urls", str(urls_file), "--concurrency", str(args.concurrency),
           "--warmup", str(args.warmup)]
    if cprofile is not None:
        cmd += ["--cprofile", str(cprofile)]
    return run_json_worker(cmd, {"client": client}, WORKER_TIMEOUT)


def check(result: dict[str, Any], npages: int, nbytes: int) -> str | None:
    """Why a run does not count as having fetched every page whole, or None."""
    if "error" in result:
        return result["error"]
    problems = []
    if result["wall_s"] <= 0:
        problems.append("the timed pass never started or ended")
    if result["pages"] != npages:
        problems.append(f"{result['pages']} of {npages} pages fetched with status 200")
    if result["bytes"] != nbytes:
        problems.append(f"{result['bytes']:,} body bytes, {nbytes:,} served")
    if result["failures"]:
        top = "; ".join(f"{k} x{v}" for k, v in list(result["failures"].items())[:5])
        problems.append(f"failures: {top}")
    return ", ".join(problems) or None


def summarise(client: str, runs: list[dict[str, Any]], npages: int) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r and r.get("wall_s", 0) > 0]
    row: dict[str, Any] = {"client": client, "runs": len(runs), "good_runs": len(good),
                           "failed_runs": sum(1 for r in runs if "problem" in r)}
    if good:
        rates = [r["pages"] / r["wall_s"] for r in good]
        cpu_k = [r["cpu_s"] / max(r["pages"], 1) * 1000 for r in good]
        row.update(
            pages_per_s=statistics.median(rates),
            pages_per_s_min=min(rates),
            pages_per_s_max=max(rates),
            cpu_s_per_1000=statistics.median(cpu_k),
            cpu_share=statistics.median(r["cpu_s"] / r["wall_s"] for r in good),
        )
    return row


def print_table(rows: list[dict[str, Any]], labels: dict[str, str]) -> None:
    base = next((r for r in rows if r["client"] == BASELINE and "pages_per_s" in r), None)
    head = (f"{'client':<44} {'pages/s':>8} {'(min-max)':>13} {'CPU s/1k':>9} "
            f"{'CPU/wall':>8} {'vs scrapy':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        label = labels.get(r["client"], r["client"])
        failed = ""
        if r["failed_runs"]:
            failed = f"  <-- FAILED in {r['failed_runs']} of {r['runs']} runs"
        if "pages_per_s" not in r:
            print(f"{label:<44} {'no good run':>8}{failed}")
            continue
        ratio = f"{r['pages_per_s'] / base['pages_per_s']:.2f}x" if base else "-"
        spread = f"({r['pages_per_s_min']:.0f}-{r['pages_per_s_max']:.0f})"
        print(f"{label:<44} {r['pages_per_s']:>8.0f} {spread:>13} {r['cpu_s_per_1000']:>9.3f} "
              f"{r['cpu_share']:>8.2f} {ratio:>9}{failed}")


def top_functions(stats_file: Path, limit: int, key: str = "self_s") -> list[dict[str, Any]]:
    """The functions with the most own (`self_s`) or cumulative (`cum_s`) time; shares are
    of the total own time of everything profiled."""
    stats = pstats.Stats(str(stats_file))
    total = sum(v[2] for v in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in entries:
        rows.append({"function": f"{func} ({_short(file)}:{line})", "calls": ncalls,
                     "self_s": tottime, "cum_s": cumtime,
                     "self_share": tottime / total, "cum_share": cumtime / total})
    rows.sort(key=lambda r: -r[key])
    return rows[:limit]


def top_pyspy(
    raw: Path, limit: int, focus: str | None
) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """py-spy's collapsed stacks -> (self samples per function, inclusive samples, total).

    `focus`: keep only the stacks with a frame containing this text (e.g. "Fetcher.__call__",
    to leave out imports and client set-up)."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames or (focus and not any(focus in f for f in frames)):
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    return own.most_common(limit), incl.most_common(limit * 3), total


def _frame(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"; line numbers would split one function
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({_short(file)})" if file else name


def _short(path: str) -> str:
    """A source path without the part that says where Python or this clone lives."""
    for marker in ("site-packages/", f"{HERE.parent}/"):
        if marker in path:
            return path.split(marker, 1)[1]
    stdlib = path.find("/lib/python3.")
    if stdlib >= 0:
        return path[path.index("/", stdlib + len("/lib/python3.")) + 1 :]
    return path


def profile_main(args: argparse.Namespace, urls_file: Path, tmp: Path, npages: int,
                 nbytes: int) -> int:
    client = args.profile
    if args.py_spy:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        raw = tmp / "py-spy.txt"
        prefix = [spy, "record", "--format", "raw", "--rate", "1000", "--gil",
                  "--output", str(raw), "--"]
        result = run_worker(client, urls_file, args, prefix=prefix)
        problem = check(result, npages, nbytes)
        print(f"{client}: {_rate(result)}{'; PROBLEM: ' + problem if problem else ''}")
        if not raw.exists():
            print("py-spy wrote no profile (is it installed, and may it read the child?)")
            return 1
        own, incl, total = top_pyspy(raw, args.top, args.focus)
        if not total:
            print(f"py-spy: no samples (--focus {args.focus!r})")
            return 1
        where = (f"stacks through {args.focus!r}" if args.focus
                 else "everything: imports, set-up, warm-up and timed pass")
        print(f"\npy-spy at 1000 Hz, samples holding the GIL only: {total} of {where}")
        print("self (leaf frame):")
        for name, n in own:
            print(f"  {n / total:6.1%}  {name}")
        print("inclusive:")
        for name, n in incl:
            print(f"  {n / total:6.1%}  {name}")
        return 0 if problem is None else 1
    stats_file = tmp / "profile.pstats"
    result = run_worker(client, urls_file, args, cprofile=stats_file)
    problem = check(result, npages, nbytes)
    print(f"{client} under cProfile, CPU time of all threads (slower than unprofiled): "
          f"{_rate(result)}"
          f"{'; PROBLEM: ' + problem if problem else ''}")
    if not stats_file.exists():
        return 1
    for key, what in (("self_s", "own"), ("cum_s", "cumulative")):
        print(f"\ntop {args.top} functions by {what} CPU time, timed pass, all threads "
              "(share: of all CPU profiled):")
        print(f"{'self s':>8} {'cum s':>8} {'share':>6} {'calls':>9}  function")
        share = "self_share" if key == "self_s" else "cum_share"
        for r in top_functions(stats_file, args.top, key):
            print(f"{r['self_s']:>8.3f} {r['cum_s']:>8.3f} {r[share]:>6.1%} {r['calls']:>9}  "
                  f"{r['function']}")
    return 0 if problem is None else 1


def _rate(result: dict[str, Any]) -> str:
    if "error" in result or result["wall_s"] <= 0:
        return "no timing"
    return (f"{result['pages']} pages in {result['wall_s']:.2f} s "
            f"({result['pages'] / result['wall_s']:.0f} pages/s, "
            f"CPU {result['cpu_s']:.2f} s)")


def bench_main(args: argparse.Namespace) -> int:
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = set(clients) - set(CLIENTS)
    if unknown:
        print(f"unknown clients: {', '.join(sorted(unknown))} (known: {', '.join(CLIENTS)})")
        return 2
    skipped: dict[str, str] = {}
    if "ours-aiohttp" in clients and (why := ours_transport_support()):
        skipped["ours-aiohttp"] = why
    for client, module in (("httpx-aiohttp", "httpx_aiohttp"), ("aiohttp", "aiohttp")):
        if client in clients:
            try:
                __import__(module)
            except ImportError:
                skipped[client] = f"{module} is not installed (make bench-fetch installs it)"
    clients = [c for c in clients if c not in skipped]

    _, applied, missing = ours_config(args.concurrency)
    engine = "async (AsyncFetcher)" if async_engine() else "sync, one page at a time"
    labels = {
        "ours": f"ours: scraper.Fetcher [{'async' if async_engine() else 'sync'}]",
        "ours-aiohttp": "ours over AiohttpTransport",
        "scrapy": "Scrapy CrawlerProcess",
        "httpx": "httpx.AsyncClient (reference)",
        "httpx-aiohttp": "httpx.AsyncClient + AiohttpTransport",
        "aiohttp": "aiohttp.ClientSession (reference)",
    }

    nginx_bin = find_nginx()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    nginx = Nginx(nginx_bin, tmp, tmp / "site")

    try:
        os.chmod(tmp, 0o755)  # nginx's worker runs as nobody when we are root
        t0 = time.perf_counter()
        pages = generate_pages(tmp / "site", args.pages, args.seed)
        nbytes = sum(size for _, size in pages)
        sizes = sorted(size for _, size in pages)
        print(f"{len(pages)} pages, {nbytes / 1e6:.1f} MB ({sizes[0] / KIB:.0f}-"
              f"{sizes[-1] / KIB:.0f} KiB, median {sizes[len(sizes) // 2] / KIB:.0f} KiB), "
              f"generated in {time.perf_counter() - t0:.1f} s")
        nginx.start(pages[0][0])
        urls = [nginx.url(path) for path, _ in pages]
        urls_file = tmp / "urls.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        print(f"{nginx.version()} on 127.0.0.1:{nginx.port}, 1 worker process; "
              f"concurrency {args.concurrency}; {os.cpu_count()} cores")
        print(f"our fetcher: {engine}; politeness off via {applied or 'nothing'}"
              + (f"; FetchConfig has no {', '.join(missing)}" if missing else ""))
        for client, why in skipped.items():
            print(f"skipped {client}: {why}")

        if args.profile:
            return profile_main(args, urls_file, tmp, len(pages), nbytes)

        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
        failed: list[str] = []
        for rep in range(args.repeat):
            order = clients[rep % len(clients):] + clients[: rep % len(clients)]
            for client in order:
                result = run_worker(client, urls_file, args)
                result["repeat"] = rep + 1
                problem = check(result, len(pages), nbytes)
                if problem:
                    result["problem"] = problem
                    failed.append(f"{client} (run {rep + 1}): {problem}")
                runs[client].append(result)
                print(f"  run {rep + 1}/{args.repeat} {client:<14} {_rate(result)}"
                      + (f"  <-- FAILED: {problem}" if problem else ""), flush=True)
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [summarise(c, runs[c], len(pages)) for c in clients]
    print()
    print_table(rows, labels)
    base = next((r for r in rows if r["client"] == BASELINE and "pages_per_s" in r), None)
    ours = next((r for r in rows if r["client"] == "ours" and "pages_per_s" in r), None)
    if base and ours:
        print(f"\nours vs Scrapy: {ours['pages_per_s'] / base['pages_per_s']:.2f}x the pages/s, "
              f"{ours['cpu_s_per_1000'] / base['cpu_s_per_1000']:.2f}x the CPU per page "
              f"(target: >= 2,000 pages/s and >= 4x Scrapy)")
    print("CPU s/1k: client CPU (user+system) per 1,000 pages; CPU/wall: share of one core the "
          "client kept busy (near 1.00: the client's CPU is the limit)")

    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "nginx": nginx.version() if nginx_bin else None},
        "versions": versions(("httpx", "httpcore", "h11", "anyio", "scrapy", "twisted",
                                "aiohttp", "httpx-aiohttp")),
        "settings": {
            "pages": len(pages), "bytes": nbytes, "seed": args.seed,
            "page_size_kib": [PAGE_MIN // KIB, PAGE_MAX // KIB],
            "concurrency": args.concurrency, "repeat": args.repeat,
            "warmup_pages": args.warmup if args.warmup >= 0 else len(pages),
            "nginx": "1 worker process, access_log off, gzip off, keepalive_requests 100000",
            "ours_engine": engine, "ours_config_applied": applied, "ours_config_missing": missing,
        },
        "skipped": skipped,
        "results": rows,
        "ours_vs_scrapy": (
            {"pages_per_s": ours["pages_per_s"] / base["pages_per_s"],
             "cpu_per_page": ours["cpu_s_per_1000"] / base["cpu_s_per_1000"]}
            if base and ours else None
        ),
        "runs": runs,
        "failures": failed,
    }
    write_json(args.out, out)
    print(f"wrote {_short(str(args.out))}")
    if failed:
        print("\n" + "!" * 78)
        print("FAILED: not every page was fetched whole:")
        for line in failed:
            print(f"  {line}")
        print("!" * 78)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000, help="pages to serve (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each client (3)")
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help=f"comma-separated, of: {', '.join(CLIENTS)}")
    parser.add_argument("--warmup", type=int, default=-1,
                        help="pages in the untimed warm-up pass (default: all)")
    parser.add_argument("--seed", type=int, default=20251126, help="page content seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON")
    parser.add_argument("--profile", metavar="CLIENT", choices=CLIENTS,
                        help="profile one run of CLIENT instead (cProfile, timed pass only)")
    parser.add_argument("--py-spy", action="store_true",
                        help="with --profile: sample with py-spy (must be installed) instead")
    parser.add_argument("--top", type=int, default=20, help="functions listed by --profile")
    parser.add_argument("--focus", metavar="TEXT",
                        help="with --py-spy: only stacks with a frame containing TEXT "
                        "(e.g. 'Fetcher.__call__')")
    parser.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.pages < 1 or args.repeat < 1:
        parser.error("--pages, --concurrency and --repeat must be at least 1")
    if args.worker:
        return worker_main(args)
    return run_serving("bench-fetch", lambda: bench_main(args))


if __name__ == "__main__":
    sys.exit(main())
