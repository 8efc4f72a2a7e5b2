"""The whole pipeline (fetch, clean, dedup, store) against Scrapy + trafilatura, on real pages.

    make bench-pipeline                                  # 2,000 pages, 3 runs each, 20k memory check
    .venv/bin/python bench/pipeline_speed.py --quick           # a smoke run of everything (~1-2 min)
    .venv/bin/python bench/pipeline_speed.py --pages 200 --repeat 1 --systems ours-2w,scrapy+trafilatura
    .venv/bin/python bench/pipeline_speed.py --quick --profile # py-spy over one ours-2w run, all processes

The pages: real article HTML, the 83 pages of ../shared/bench/asb-dev/html and the 945 of
../shared/bench/trafilatura-eval/html (many languages), decoded as UTF-8 (errors replaced, as
bench/quality.py does) and served as UTF-8 by nginx from a temporary directory, one file per
URL, spread over `--hosts` (8) hosts: the same nginx server listens on 127.0.0.1, 127.0.0.2, ...
(one port), which every client takes for distinct hosts (per-host limits, connection pools).
URL i (of `--pages`, 2,000) is real page i mod 1,028 (in an order shuffled by `--seed`, so a
short run mixes both sets), on host i mod 8. The first pass over the real pages serves them as
they are. Every later copy is made distinct in its text: in each run of text of 5 words or more
between tags of the body (not in script, style and the like: so paragraphs, rarely menus), 30%
(`--edit-share`) of the words are replaced by other words of the same page (same language;
capitals kept; Chinese and Japanese character by character), at random per copy. Markup, length
and layout stay as they were, so extraction costs the same, but the 5-word shingles a copy
shares with its original drop to about 0.7^5 = 17% (median Jaccard of the cleaned bodies 0.15),
far below the dedup thresholds (Jaccard 0.5, containment 0.8): dedup does not collapse the
copies, each is stored as a new story. What our dedup still reports as duplicates: among the
1,028 real pages 3 (the eval set holds two pages twice, and two reports of one event; 2 more
pages have no article: clean.no_content), and the edited copies of about 2% of the pages
(3 of 150 sampled: pages whose text is mostly in runs of under 5 words, which stay as they
are). So about 1% of 2,000 URLs (~25) and 2% of 20,000 are stored as `duplicate`; each run
reports its count (the `dups` column).
Without ../shared/bench the script says so and exits 0 (`--data DIR` if it is elsewhere).

The systems, each run as its own process (the whole process tree measured), on the same pages in
the same run, `--repeat` (3) times interleaved in rotating order; the table gives the median:

  scrapy+trafilatura       a Scrapy spider over the URL list (start_urls, CrawlerProcess; this
                           script's `--worker` mode) yielding {url, html: response.text}, and an
                           item pipeline calling trafilatura.extract(html, url=url,
                           output_format="txt", include_comments=False) (the documented call),
                           dropping items without text; items written as JSON lines with
                           Scrapy's feed exporter (FEEDS, format jsonlines). Politeness off,
                           as a user would for a bulk crawl: ROBOTSTXT_OBEY False, AutoThrottle
                           off, DOWNLOAD_DELAY 0, CONCURRENT_REQUESTS `--concurrency` (64) and
                           CONCURRENT_REQUESTS_PER_DOMAIN `--per-host` (16), cookies, cache and
                           telnet off, LOG_LEVEL WARNING (bench/common.py: scrapy_settings).
  scrapy+trafilatura-fast  the same with trafilatura's fast mode (fast=True; no_fallback=True on
                           a trafilatura without `fast`).
  ours-1w, ours-2w         the `scrape` command as a user runs it: .venv/bin/scrape ingest
                           --urls FILE --db NEW.db --workers N --delay 0 --no-robots
                           --allow-private --concurrency 64 --per-host 16: fetch, full cleaning,
                           dedup, store (articles, FTS, signatures, fetches, compressed pages),
                           stdout (one line per page) to a file.
  ours-0w                  the same with --workers 0 (cleaning in the one process): a reference.

Measured per run, from the parent: wall clock from starting the process to its exit (imports,
start-up and shutdown included, the same for every system); CPU as user+system seconds of the
process and of its reaped children (os.wait4; our cleaning workers are joined by their parent, so
they are in it); memory by sampling /proc every 50 ms: the peak of the summed VmRSS of the
process tree (the writer, its worker processes and multiprocessing's resource tracker; pages
shared between them counted in each), and the largest VmHWM of any one process of the tree;
for ours also the writer's own CPU and VmHWM (the root process, as last sampled), so the
cleaning workers' CPU is the rest. nginx is not in the tree; it shares the machine (one worker
process; bench-fetch measured it serving over 6,000 such pages a second).
Outcomes are checked, because a system that extracts nothing is not fast but broken: ours, the
database's fetches outcomes and articles (stored, of which duplicates) and pages rows; Scrapy's,
responses with status 200, items with text, and the JSON lines written. A run in which fewer
than 90% of the pages came out as an article is marked FAILED (the exit status is then 1).

The memory check: ours-2w once more at `--mem-pages` (20,000: the same URLs and more copies),
its peak tree RSS against the median of the ours-2w runs at `--pages`.

`--profile`: one ours-2w run under py-spy (--subprocesses --gil), the top functions of the
writer and of the cleaning workers, each with its share of the samples.

`--before DIR`: also before-0w and before-2w, the same commands with the code of the checkout
in DIR (PYTHONPATH=DIR), so that a change is measured against the code before it in one run
(e.g. `git worktree add /tmp/before HEAD~3`).

Targets (issue 7): ours-2w >= 2.5x scrapy+trafilatura pages/s; ours-2w >= 1.7x ours-1w;
peak RSS at 20,000 pages <= 1.10x that at 2,000. Issue 18: ours-0w's CPU per page <= 0.8x
scrapy+trafilatura's. Results: bench/results/pipeline.json
(`--out`; a --quick run writes to the temporary directory unless --out is given).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import inspect
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The repo before bench/ (this script's folder): this file is not the `pipeline` package.
sys.path.insert(0, str(HERE.parent))

from common import (  # noqa: E402
    DEFAULT_DATA,
    REPO,
    Nginx,
    find_nginx,
    git_state,
    machine,
    parse_choices,
    proc_status_kib,
    rate_spread,
    read_html,
    run_serving,
    scrapy_settings,
    versions,
    worker_env,
    write_json,
)

DEFAULT_OUT = HERE / "results" / "pipeline.json"
SCRAPY, SCRAPY_FAST = "scrapy+trafilatura", "scrapy+trafilatura-fast"
SYSTEMS = (SCRAPY, SCRAPY_FAST, "ours-1w", "ours-2w", "ours-0w")
OURS_WORKERS = {"ours-0w": 0, "ours-1w": 1, "ours-2w": 2}
# --before DIR: the same commands run from another checkout of the code (PYTHONPATH=DIR ahead
# of this one), so that a change is measured against the code before it in the same run.
BEFORE = {f"before-{n}w": n for n in (0, 2)}
BASELINE = SCRAPY
TARGET_VS_SCRAPY = 2.5  # ours-2w pages/s over scrapy+trafilatura's
TARGET_CPU_VS_SCRAPY = 0.8  # ours-0w CPU per page over scrapy+trafilatura's (issue 18)
TARGET_2W_VS_1W = 1.7
TARGET_RSS_RATIO = 1.10  # peak RSS at --mem-pages over that at --pages
MIN_GOOD_SHARE = 0.9  # a run with fewer pages out as articles is broken, not fast
RUN_TIMEOUT = 3600.0  # seconds for one run of one system
SAMPLE_S = 0.05  # /proc sampling interval for memory
QUICK = {"pages": 120, "repeat": 1, "mem_pages": 600, "source_pages": 40}

# ---------------------------------------------------------------------------------------------
# Pages


class DataMissing(Exception):
    pass


@dataclass
class Template:
    """A real page cut at the words that a copy may change (in body text only)."""

    key: str  # asb-dev page id or trafilatura-eval URL
    set: str
    parts: list[str]  # the page, in pieces; "".join(parts) is the page as decoded
    slots: list[int]  # indices in `parts` of the editable words
    words: list[str] = field(default_factory=list)  # replacements: its own words (3+ letters)
    chars: list[str] = field(default_factory=list)  # ... and its own CJK characters


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# Markup and the elements whose text is not page text; what lies between is text.
_MARKUP = re.compile(
    r"(<(?:script|style|noscript|template|svg|textarea)\b.*?</(?:script|style|noscript|"
    r"template|svg|textarea)\s*>|<!--.*?-->|<[^>]*>)", re.DOTALL | re.IGNORECASE)
# A CJK character, or a run of 3+ letters not inside an entity (&amp; &#x27;).
_WORD = re.compile(rf"[{_CJK}]|(?<![&#\w])[^\W\d_{_CJK}]{{3,}}")
_BODY = re.compile(r"<body\b", re.IGNORECASE)
MIN_WORDS = 5  # shorter runs of text (menus, buttons, bylines) are left alone


def template(key: str, set_name: str, html: str) -> Template:
    body = _BODY.search(html)
    start = body.start() if body else 0
    parts, slots = [html[:start]], []
    for i, piece in enumerate(_MARKUP.split(html[start:])):
        words = list(_WORD.finditer(piece)) if i % 2 == 0 else []
        if len(words) < MIN_WORDS:
            parts.append(piece)
            continue
        pos = 0
        for m in words:
            parts.append(piece[pos:m.start()])
            slots.append(len(parts))
            parts.append(m.group())
            pos = m.end()
        parts.append(piece[pos:])
    t = Template(key=key, set=set_name, parts=parts, slots=slots)
    for i in slots:
        (t.chars if len(parts[i]) == 1 else t.words).append(parts[i])
    return t


def render(t: Template, copy: int, share: float, seed: int) -> str:
    """Copy 0: the page as it is; later copies: `share` of its editable words replaced."""
    if copy == 0 or not t.slots:
        return "".join(t.parts)
    rng = random.Random(f"{seed}:{t.key}:{copy}")
    parts = t.parts.copy()
    for i in rng.sample(t.slots, round(share * len(t.slots))):
        old = parts[i]
        new = rng.choice(t.chars if len(old) == 1 else t.words)
        parts[i] = new[:1].upper() + new[1:] if old[:1].isupper() else new[:1].lower() + new[1:]
    return "".join(parts)


def load_templates(data: Path, seed: int, limit: int | None) -> list[Template]:
    """Every real page, in an order shuffled by `seed` (so the first N mix both sets)."""
    asb, ev = data / "asb-dev", data / "trafilatura-eval"
    for need in (asb / "html", ev / "evaldata.json", ev / "html"):
        if not need.exists():
            raise DataMissing(f"{need} not found")
    found = [(p.name.removesuffix(".html.gz"), "asb-dev", p)
             for p in sorted((asb / "html").glob("*.html.gz"))]
    evaldata = json.loads((ev / "evaldata.json").read_text(encoding="utf-8"))
    found += [(url, "trafilatura-eval", ev / "html" / f"{item['file']}.gz")
              for url, item in sorted(evaldata.items())
              if (ev / "html" / f"{item['file']}.gz").is_file()]
    random.Random(seed).shuffle(found)
    found = found[:limit] if limit else found
    return [template(key, set_name, read_html(path)) for key, set_name, path in found]


@dataclass
class Site:
    """The served pages: root/p/NNNNN.html, URL i on host i mod hosts."""

    root: Path
    templates: list[Template]
    hosts: int
    share: float
    seed: int
    written: int = 0
    bytes: int = 0

    def path(self, i: int) -> str:
        return f"p/{i:05d}.html"

    def extend(self, n: int) -> None:
        """Write pages up to `n` (the first ones stay: a longer run has the same URLs first)."""
        (self.root / "p").mkdir(parents=True, exist_ok=True)
        for i in range(self.written, n):
            copy, which = divmod(i, len(self.templates))
            body = render(self.templates[which], copy, self.share, self.seed).encode("utf-8")
            (self.root / self.path(i)).write_bytes(body)
            self.bytes += len(body)
        self.written = max(self.written, n)

    def urls(self, nginx: Nginx, n: int) -> list[str]:
        return [nginx.url(self.path(i), i % self.hosts) for i in range(n)]

    def stats(self, n: int) -> dict[str, Any]:
        sets = Counter(self.templates[i % len(self.templates)].set for i in range(n))
        return {"pages": n, "real_pages": len(self.templates), "by_set": dict(sets),
                "edited_copies": max(0, n - len(self.templates)), "edit_share": self.share,
                "hosts": self.hosts, "mb_served": self.bytes / 1e6 if n == self.written else None,
                "editable_words_median": statistics.median(len(t.slots) for t in self.templates)}


# ---------------------------------------------------------------------------------------------
# Scrapy + trafilatura (this script's --worker mode)


def trafilatura_options(fast: bool) -> dict[str, Any]:
    """extract()'s keyword arguments: the documented call, and its fast mode if asked."""
    import trafilatura

    options: dict[str, Any] = {"output_format": "txt", "include_comments": False}
    if fast:
        params = inspect.signature(trafilatura.extract).parameters
        options["fast" if "fast" in params else "no_fallback"] = True
    return options


def scrapy_worker(args: argparse.Namespace) -> int:
    """Crawl the URL list, extract in an item pipeline, write JSON lines; print the stats."""
    import scrapy
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import DropItem

    options = trafilatura_options(args.worker == SCRAPY_FAST)

    class PagesSpider(scrapy.Spider):
        name = "pages"

        def parse(self, response: Any) -> Any:
            yield {"url": response.url, "html": response.text}

    class TrafilaturaPipeline:
        # `spider` optional: Scrapy 2.13+ calls process_item(item) and warns on a required one
        def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
            html = item.pop("html")
            text = trafilatura.extract(html, url=item["url"], **options)
            if not text:
                raise DropItem(f"no text: {item['url']}")
            item["text"] = text
            return item

    settings = scrapy_settings(args.concurrency, args.per_host, log_level="WARNING")
    settings.update(ITEM_PIPELINES={TrafilaturaPipeline: 300},
                    FEEDS={args.feed: {"format": "jsonlines", "encoding": "utf8"}})
    urls = Path(args.urls).read_text().split()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PagesSpider)
    process.crawl(crawler, start_urls=urls)
    process.start()
    stats = crawler.stats.get_stats()
    keep = ("response_received_count", "item_scraped_count", "item_dropped_count",
            "downloader/response_status_count/200", "log_count/ERROR", "log_count/WARNING")
    print(json.dumps({"stats": {k: stats.get(k, 0) for k in keep},
                      "trafilatura_options": options}))
    return 0


# ---------------------------------------------------------------------------------------------
# Measuring a process tree


_TICK = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds so far, RSS KiB) from /proc/PID/stat; None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name may hold spaces
    except (OSError, IndexError):
        return None
    # After the name, counting from state = 0: ppid 1, utime 11, stime 12 (ticks), rss 21.
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE_KIB


class TreeSampler(threading.Thread):
    """Samples a process and its descendants every SAMPLE_S: the peak of their summed RSS,
    the largest VmHWM of each, and the CPU each had used when last seen. (/proc/PID/task/*/
    children is missing on some kernels: parents come from /proc/PID/stat, read once per
    new pid.)"""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.parent: dict[int, int] = {}
        self.peak_sum_kib = self.samples = 0
        self.hwm_kib: dict[int, int] = {}
        self.cpu_s: dict[int, float] = {}

    def tree(self) -> list[int]:
        live = [int(n) for n in os.listdir("/proc") if n.isdigit()]
        children: defaultdict[int, list[int]] = defaultdict(list)
        for pid in live:
            if pid not in self.parent:
                stat = _stat(pid)
                self.parent[pid] = stat[0] if stat else -1
            children[self.parent[pid]].append(pid)
        out, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, ()))
        return out

    def sample(self) -> None:
        total = 0
        for pid in self.tree():
            stat = _stat(pid)
            if stat is None or not stat[2]:  # gone, or a zombie
                continue
            total += stat[2]
            self.cpu_s[pid] = stat[1]
            self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), proc_status_kib("VmHWM", pid))
        self.peak_sum_kib = max(self.peak_sum_kib, total)
        self.samples += 1

    def run(self) -> None:
        while True:
            self.sample()
            if self.stop.wait(SAMPLE_S):
                return


def measure(cmd: list[str], log: Path, timeout: float,
            env: dict[str, str] | None = None, cwd: Path = REPO) -> dict[str, Any]:
    """Run `cmd` (stdout and stderr to `log`): wall clock start to exit, CPU of it and its
    descendants (reaped ones by wait4, others as last sampled), peak memory of its tree, and its own share (root_*: the
    writer's, beside its cleaning workers)."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env or worker_env(),
                                cwd=cwd, start_new_session=True)
    tree = TreeSampler(proc.pid)
    tree.start()
    timed_out = threading.Event()

    def kill() -> None:  # our own session: the whole tree goes, by its group id
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    except BaseException:  # interrupted: the run goes too
        kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
        tree.stop.set()
        tree.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # wait4 counts only children reaped up the chain; workers forked by a fork server are
    # reaped by it, and it by no one: the tree's CPU as last sampled then counts them.
    reaped = usage.ru_utime + usage.ru_stime
    sampled = sum(tree.cpu_s.values())
    return {"wall_s": wall, "cpu_s": max(reaped, sampled), "cpu_reaped_s": reaped,
            "cpu_sampled_s": sampled,
            "returncode": proc.returncode,
            "peak_rss_kib": tree.peak_sum_kib,
            "max_hwm_kib": max(tree.hwm_kib.values(), default=0),
            "root_hwm_kib": tree.hwm_kib.get(proc.pid, 0),
            "root_cpu_s": tree.cpu_s.get(proc.pid, 0.0),  # as last sampled
            "processes": len(tree.hwm_kib), "samples": tree.samples,
            "timed_out": timed_out.is_set()}


# ---------------------------------------------------------------------------------------------
# Runs


def tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def ours_outcomes(db: Path) -> dict[str, Any]:
    """What the run left in its database."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        outcomes = dict(conn.execute(
            "SELECT outcome, COUNT(*) FROM fetches GROUP BY 1 ORDER BY 2 DESC").fetchall())
        articles, duplicates = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(duplicate_of IS NOT NULL), 0) FROM articles"
        ).fetchone()
        pages = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        words = conn.execute("SELECT COALESCE(SUM(word_count), 0) FROM articles").fetchone()[0]
    finally:
        conn.close()
    return {"outcomes": outcomes, "articles": articles, "duplicates": duplicates,
            "pages_rows": pages, "words": words}


def scrapy_outcomes(feed: Path, log: Path) -> dict[str, Any]:
    from cleaner.text import word_count  # the words counted as ours are

    lines = [line for line in log.read_text(errors="replace").splitlines()
             if line.startswith('{"stats"')]
    worker = json.loads(lines[-1]) if lines else {}
    items = words = 0
    if feed.exists():
        with open(feed, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line).get("text") or ""
                items += bool(text)
                words += word_count(text)
    return {**worker, "items_with_text": items, "words": words}


def run_system(system: str, urls_file: Path, npages: int, tmp: Path,
               args: argparse.Namespace, prefix: list[str] | None = None) -> dict[str, Any]:
    """One run of `system` over the URLs; its measurements, outcomes and any problem."""
    work = Path(tempfile.mkdtemp(prefix=f"{system.replace('+', '-')}-", dir=tmp))
    log = work / "output.txt"
    politeness = ["--concurrency", str(args.concurrency), "--per-host", str(args.per_host)]
    env, cwd = None, REPO
    if system in OURS_WORKERS or system in BEFORE:
        db = work / "bench.db"
        scrape = str(Path(sys.executable).with_name("scrape"))
        workers = OURS_WORKERS.get(system, BEFORE.get(system))
        cmd = [scrape, "ingest", "--urls", str(urls_file), "--db", str(db), "--workers",
               str(workers), "--delay", "0", "--no-robots", "--allow-private", *politeness]
        if system in BEFORE:
            # and from that directory: a fork server started before pipeline/executors.py
            # set PYTHONSAFEPATH imports from the current directory first
            env, cwd = {**worker_env(), "PYTHONPATH": str(args.before)}, args.before
    else:
        feed = work / "items.jsonl"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system,
               "--urls", str(urls_file), "--feed", str(feed), *politeness]
    result: dict[str, Any] = {"system": system, "pages": npages,
                              **measure([*(prefix or []), *cmd], log, RUN_TIMEOUT, env, cwd)}
    problems = []
    if result["returncode"] != 0:
        problems.append(f"exit status {result['returncode']}:\n{tail(log)}")
    try:
        if system in OURS_WORKERS or system in BEFORE:
            result.update(ours_outcomes(db))
            result["good"] = result["articles"]
            result["summary"] = tail(log, 1)
        else:
            result.update(scrapy_outcomes(feed, log))
            result["good"] = result["items_with_text"]
    except (OSError, sqlite3.Error, ValueError) as exc:
        problems.append(f"no outcomes: {type(exc).__name__}: {exc}")
        result["good"] = 0
    if result["good"] < MIN_GOOD_SHARE * npages:
        problems.append(f"only {result['good']} of {npages} pages came out as an article")
    if problems:
        result["problem"] = "; ".join(problems)
    shutil.rmtree(work, ignore_errors=True)
    return result


def line(result: dict[str, Any]) -> str:
    r = result
    text = (f"{r['pages']} pages in {r['wall_s']:.1f} s ({r['pages'] / r['wall_s']:.0f} "
            f"pages/s), CPU {r['cpu_s']:.1f} s, peak RSS {r['peak_rss_kib'] / 1024:.0f} MiB "
            f"({r['processes']} processes), {r.get('good', 0)} articles")
    if "duplicates" in r:
        text += f" ({r['duplicates']} duplicates)"
    return text + (f"  <-- FAILED: {r['problem']}" if "problem" in r else "")


# ---------------------------------------------------------------------------------------------
# Report


def summarise(system: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "problem" not in r]
    row: dict[str, Any] = {"system": system, "runs": len(runs), "good_runs": len(good)}
    if not good:
        row["error"] = runs[0].get("problem", "no run") if runs else "no run"
        return row
    row.update(
        rate_spread(good, "pages", "pages")[0],
        cpu_s_per_1000=statistics.median(1000 * r["cpu_s"] / r["pages"] for r in good),
        peak_rss_mib=statistics.median(r["peak_rss_kib"] for r in good) / 1024,
        max_process_hwm_mib=statistics.median(r["max_hwm_kib"] for r in good) / 1024,
        good=statistics.median(r["good"] for r in good),
        words_per_article=statistics.median(r["words"] / max(r["good"], 1) for r in good),
        pages=good[0]["pages"],
    )
    if "duplicates" in good[0]:  # ours: the writer process beside its cleaning workers
        row["writer_cpu_s_per_1000"] = statistics.median(
            1000 * r["root_cpu_s"] / r["pages"] for r in good)
        row["workers_cpu_s_per_1000"] = row["cpu_s_per_1000"] - row["writer_cpu_s_per_1000"]
        row["writer_hwm_mib"] = statistics.median(r["root_hwm_kib"] for r in good) / 1024
        row["duplicates"] = statistics.median(r["duplicates"] for r in good)
        row["outcomes"] = good[0]["outcomes"]
    return row


def verdicts(rows: dict[str, dict[str, Any]], memory: dict[str, Any] | None) -> dict[str, Any]:
    def rate(name: str) -> float | None:
        return rows.get(name, {}).get("pages_per_s")

    out: dict[str, Any] = {}
    for key, a, b, target in (("ours-2w_vs_scrapy+trafilatura", "ours-2w", SCRAPY,
                               TARGET_VS_SCRAPY),
                              ("ours-2w_vs_ours-1w", "ours-2w", "ours-1w", TARGET_2W_VS_1W)):
        ra, rb = rate(a), rate(b)
        if ra and rb:
            out[key] = {"ratio": ra / rb, "target": f">= {target}", "pass": ra / rb >= target}
    # Issue 18: the CPU of a page cleaned in process, against Scrapy + trafilatura's.
    cpu = {name: rows.get(name, {}).get("cpu_s_per_1000") for name in ("ours-0w", SCRAPY)}
    if cpu["ours-0w"] and cpu[SCRAPY]:
        ratio = cpu["ours-0w"] / cpu[SCRAPY]
        out["ours-0w_cpu_vs_scrapy+trafilatura"] = {
            "ratio": ratio, "target": f"<= {TARGET_CPU_VS_SCRAPY}",
            "pass": ratio <= TARGET_CPU_VS_SCRAPY}
    for name in BEFORE:  # --before: not a target, the change's effect in the same run
        now, then = rows.get(name.replace("before", "ours"), {}), rows.get(name, {})
        if now.get("cpu_s_per_1000") and then.get("cpu_s_per_1000"):
            out[f"{name.replace('before', 'ours')}_vs_{name}"] = {
                "cpu_ratio": now["cpu_s_per_1000"] / then["cpu_s_per_1000"],
                "pages_per_s_ratio": now["pages_per_s"] / then["pages_per_s"]}
    if memory and "ratio" in memory:
        out["rss_mem_pages_vs_pages"] = {"ratio": memory["ratio"],
                                         "target": f"<= {TARGET_RSS_RATIO}",
                                         "pass": memory["ratio"] <= TARGET_RSS_RATIO}
    return out


def print_report(rows: list[dict[str, Any]], memory: dict[str, Any] | None,
                 targets: dict[str, Any]) -> None:
    base = next((r for r in rows if r["system"] == BASELINE and "pages_per_s" in r), None)
    head = (f"{'system':<24} {'pages/s':>8} {'(min-max)':>11} {'CPU s/1k':>9} "
            f"{'peak MiB':>9} {'max proc':>9} {'articles':>9} {'words':>6} {'dups':>5} "
            f"{'vs scrapy':>9}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        if "pages_per_s" not in r:
            print(f"{r['system']:<24} no good run: {r.get('error', '')[:300]}")
            continue
        ratio = f"{r['pages_per_s'] / base['pages_per_s']:.2f}x" if base else "-"
        spread = f"({r['pages_per_s_min']:.0f}-{r['pages_per_s_max']:.0f})"
        dups = f"{r['duplicates']:.0f}" if "duplicates" in r else "-"
        print(f"{r['system']:<24} {r['pages_per_s']:>8.1f} {spread:>11} "
              f"{r['cpu_s_per_1000']:>9.1f} {r['peak_rss_mib']:>9.0f} "
              f"{r['max_process_hwm_mib']:>9.0f} {r['good']:>9.0f} "
              f"{r['words_per_article']:>6.0f} {dups:>5} {ratio:>9}")
    print("pages/s: wall clock, process start to exit (median of the runs); CPU s/1k: user+sys "
          "of the process and its children per 1,000 pages; peak MiB: summed RSS of the "
          "process tree; max proc: the largest single process's VmHWM; articles: stored "
          "(ours) or items with text (Scrapy); words: per article; dups: stored as duplicate")
    ours = [r for r in rows if "writer_cpu_s_per_1000" in r]
    if ours:
        print("\nours, CPU s per 1,000 pages by process (sampled): the writer (fetch, dedup, "
              "store, sending pages) and the cleaning workers")
        for r in ours:
            print(f"  {r['system']:<8} writer {r['writer_cpu_s_per_1000']:5.1f} (peak "
                  f"{r['writer_hwm_mib']:.0f} MiB), workers {r['workers_cpu_s_per_1000']:5.1f}")
        two = next((r for r in ours if r["system"] == "ours-2w"), None)
        if two and two["workers_cpu_s_per_1000"] > 0:
            w, c = two["writer_cpu_s_per_1000"], two["workers_cpu_s_per_1000"]
            print(f"  on 2 cores, 2 workers can be at most 2*max(C, W)/(C + W) = "
                  f"{2 * max(c, w) / (c + w):.2f}x 1 worker (C: cleaning, W: writer, from "
                  "ours-2w)")
    if memory:
        if "error" in memory:
            print(f"\nmemory check FAILED: {memory['error']}")
        else:
            m = memory
            print(f"\nmemory check, ours-2w at {m['pages']:,} pages vs {m['base_pages']:,}: "
                  f"peak tree RSS {m['peak_rss_mib']:.0f} vs {m['base_peak_rss_mib']:.0f} MiB "
                  f"({m['ratio']:.2f}x); the writer's VmHWM {m['writer_hwm_mib']:.0f} vs "
                  f"{m['base_writer_hwm_mib']:.0f} MiB, the largest process's "
                  f"{m['max_process_hwm_mib']:.0f} vs {m['base_max_process_hwm_mib']:.0f} MiB; "
                  f"{m['pages'] / m['wall_s']:.1f} pages/s, "
                  f"{1000 * m['cpu_s'] / m['pages']:.1f} CPU s/1k")
    labels = {"ours-2w_vs_scrapy+trafilatura": "ours-2w vs scrapy+trafilatura, pages/s",
              "ours-2w_vs_ours-1w": "ours-2w vs ours-1w, pages/s",
              "ours-0w_cpu_vs_scrapy+trafilatura": "ours-0w vs scrapy+trafilatura, CPU/page",
              "rss_mem_pages_vs_pages": "peak RSS, memory-check pages vs pages"}
    print("\ntargets:")
    for key, label in labels.items():
        v = targets.get(key)
        print(f"  {label:<42} " + (f"{v['ratio']:.2f}x (target {v['target']}): "
                                    f"{'PASS' if v['pass'] else 'FAIL'}" if v
                                    else "not measured"))
    for key, v in targets.items():
        if "cpu_ratio" in v:
            print(f"  {key}: CPU/page {v['cpu_ratio']:.2f}x, pages/s {v['pages_per_s_ratio']:.2f}x"
                  " (the code now against the code in --before, same run)")


# ---------------------------------------------------------------------------------------------
# Profile


def profile_main(urls_file: Path, npages: int, tmp: Path, args: argparse.Namespace) -> int:
    """One ours-2w run under py-spy (every process, samples holding the GIL): the share of
    the writer, the fork server and the cleaning workers, and the top functions of each."""
    from fetch import top_pyspy

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raw = tmp / "py-spy.txt"
    prefix = [spy, "record", "--subprocesses", "--gil", "--format", "raw", "--rate", "250",
              "--output", str(raw), "--"]
    result = run_system("ours-2w", urls_file, npages, tmp, args, prefix=prefix)
    print(f"ours-2w under py-spy (slower than unprofiled): {line(result)}")
    if not raw.exists():
        print("py-spy wrote no profile (is it installed, and may it read the child?)")
        return 1
    # py-spy puts the command lines of the processes above a stack at its top: a spawned
    # worker's stacks pass through spawn_main, a forked one's through the fork server's
    # _serve_one; the fork server's own (imports, warm-up) through its command line; the
    # rest are the writer's.
    writer, server, workers = ("writer (fetch, dedup, store)",
                               "fork server (imports and warm-up, once)", "cleaning workers")
    stacks: dict[str, list[str]] = {writer: [], server: [], workers: []}
    for stack in raw.read_text(errors="replace").splitlines():
        if ("--multiprocessing-fork" in stack and "spawn_main" in stack) \
                or re.search(r"_serve_one \([^;]*forkserver\.py", stack):
            stacks[workers].append(stack)
        elif "multiprocessing.forkserver import main" in stack:
            stacks[server].append(stack)
        else:
            stacks[writer].append(stack)
    everything = sum(int(x.rpartition(" ")[2]) for v in stacks.values() for x in v
                     if x.rpartition(" ")[2].isdigit())
    for label, lines in stacks.items():
        part = tmp / "py-spy-part.txt"
        part.write_text("\n".join(lines) + "\n")
        own, incl, total = top_pyspy(part, args.top, None)
        print(f"\n{label}: {total} of {everything} samples ({total / max(everything, 1):.0%}), "
              "py-spy at 250 Hz, samples holding the GIL")
        print("  self (leaf frame):")
        for name, n in own:
            print(f"    {n / max(total, 1):6.1%}  {name}")
        print("  inclusive:")
        for name, n in incl[: 2 * args.top]:
            if not name.startswith(("process ", " spawn_main", " main(")):
                print(f"    {n / max(total, 1):6.1%}  {name}")
    return 0


# ---------------------------------------------------------------------------------------------
# Command line


def bench_main(args: argparse.Namespace) -> int:
    systems: list[str] = args.systems + (list(BEFORE) if args.before else [])
    t0 = time.perf_counter()
    try:
        templates = load_templates(args.data, args.seed, args.source_pages)
    except DataMissing as exc:
        print(f"benchmark data not found: {exc}\nIt lives in ../shared/bench beside the clone, "
              "on the team's machines only (--data DIR if it is elsewhere): bench-pipeline "
              "cannot run here.")
        return 0
    nginx_bin = find_nginx()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    site = Site(tmp / "site", templates, args.hosts, args.edit_share, args.seed)
    nginx = Nginx(nginx_bin, tmp, site.root, hosts=args.hosts)

    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    memory: dict[str, Any] | None = None
    try:
        os.chmod(tmp, 0o755)  # nginx's worker runs as nobody when we are root
        site.extend(args.pages)
        corpus = site.stats(args.pages)
        print(f"{args.pages:,} pages from {len(templates):,} real ones ({corpus['by_set']}), "
              f"{corpus['edited_copies']:,} of them edited copies, {site.bytes / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - t0:.1f} s")
        nginx.start(site.path(0))
        urls_file = tmp / "urls.txt"
        urls_file.write_text("\n".join(site.urls(nginx, args.pages)) + "\n")
        print(f"{nginx.version()} on {args.hosts} hosts (127.0.0.1-{args.hosts}):{nginx.port}; "
              f"concurrency {args.concurrency}, {args.per_host} per host; "
              f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
        if args.profile:
            return profile_main(urls_file, args.pages, tmp, args)
        for rep in range(args.repeat):
            for system in systems[rep % len(systems):] + systems[: rep % len(systems)]:
                result = run_system(system, urls_file, args.pages, tmp, args)
                result["repeat"] = rep + 1
                runs[system].append(result)
                print(f"  run {rep + 1}/{args.repeat} {system:<24} {line(result)}", flush=True)
        if args.mem_pages:
            memory = memory_check(site, nginx, tmp, runs.get("ours-2w", []), args)
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [summarise(s, runs[s]) for s in systems]
    by_name = {r["system"]: r for r in rows}
    targets = verdicts(by_name, memory)
    print_report(rows, memory, targets)
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
               if k not in ("worker", "urls", "feed")}
    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "nginx": nginx.version(), "load_at_end": os.getloadavg()},
        "versions": versions(("trafilatura", "scrapy", "twisted", "selectolax", "httpx",
                              "aiohttp", "numpy", "sqlite-utils"),
                             sqlite=sqlite3.sqlite_version),
        "git": git_state(),
        "options": options,
        "corpus": corpus,
        "baseline": BASELINE,
        "targets": targets,
        "systems": by_name,
        "memory_check": memory,
        "runs": runs,
    }
    write_json(args.out, out)
    print(f"\nresults written to {args.out}")
    failed = [f"{r['system']} run {r['repeat']}: {r['problem']}"
              for rs in runs.values() for r in rs if "problem" in r]
    if memory and "error" in memory:
        failed.append(f"memory check: {memory['error']}")
    if failed:
        print("\nFAILED runs:\n  " + "\n  ".join(failed))
        return 1
    return 0


def memory_check(site: Site, nginx: Nginx, tmp: Path, base: list[dict[str, Any]],
                 args: argparse.Namespace) -> dict[str, Any]:
    """ours-2w once at --mem-pages, its peak tree RSS against the ours-2w runs at --pages."""
    t0 = time.perf_counter()
    site.extend(args.mem_pages)
    urls_file = tmp / "urls-memory.txt"
    urls_file.write_text("\n".join(site.urls(nginx, args.mem_pages)) + "\n")
    print(f"memory check: {args.mem_pages:,} pages ({site.bytes / 1e6:.0f} MB written in "
          f"{time.perf_counter() - t0:.1f} s)", flush=True)
    base = [r for r in base if "problem" not in r]
    if not base:
        base = [run_system("ours-2w", tmp / "urls.txt", args.pages, tmp, args)]
        print(f"  ours-2w at {args.pages:,}: {line(base[0])}", flush=True)
    result = run_system("ours-2w", urls_file, args.mem_pages, tmp, args)
    print(f"  ours-2w at {args.mem_pages:,}: {line(result)}", flush=True)
    if "problem" in result:
        return {"pages": args.mem_pages, "error": result["problem"], "run": result}
    if "problem" in base[0]:
        return {"pages": args.mem_pages, "error": f"at {args.pages}: {base[0]['problem']}",
                "run": result}
    def median_mib(key: str) -> float:
        return statistics.median(r[key] for r in base) / 1024

    return {
        "pages": args.mem_pages, "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
        "peak_rss_mib": result["peak_rss_kib"] / 1024,
        "max_process_hwm_mib": result["max_hwm_kib"] / 1024,
        "writer_hwm_mib": result["root_hwm_kib"] / 1024,
        "base_pages": args.pages, "base_peak_rss_mib": median_mib("peak_rss_kib"),
        "base_max_process_hwm_mib": median_mib("max_hwm_kib"),
        "base_writer_hwm_mib": median_mib("root_hwm_kib"),
        "ratio": result["peak_rss_kib"] / 1024 / median_mib("peak_rss_kib"),
        "run": result,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000, help="URLs served (2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each system (3)")
    parser.add_argument("--systems", type=lambda v: parse_choices(v, SYSTEMS),
                        default=list(SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="also run before-0w and before-2w: ours from the checkout in DIR")
    parser.add_argument("--mem-pages", type=int, default=20000,
                        help="pages of the ours-2w memory check (20000; 0: none)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: " + ", ".join(f"--{k.replace('_', '-')} {v}"
                                                         for k, v in QUICK.items()))
    parser.add_argument("--source-pages", type=int, default=None, metavar="N",
                        help="cycle through only the first N real pages (default: all 1,028)")
    parser.add_argument("--edit-share", type=float, default=0.3,
                        help="share of the body-text words replaced in each later copy (0.3)")
    parser.add_argument("--hosts", type=int, default=8, help="hosts the URLs are spread over")
    parser.add_argument("--concurrency", type=int, default=64, help="requests at once (64)")
    parser.add_argument("--per-host", type=int, default=16, help="requests at once a host (16)")
    parser.add_argument("--seed", type=int, default=20260107, help="page order and edits")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="benchmark data directory (default ../shared/bench)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default bench/results/pipeline.json; with --quick "
                             "the temporary directory's bench-pipeline-quick.json)")
    parser.add_argument("--profile", action="store_true",
                        help="one ours-2w run under py-spy (all processes): top functions")
    parser.add_argument("--top", type=int, default=15, help="functions listed by --profile")
    parser.add_argument("--worker", choices=(SCRAPY, SCRAPY_FAST), help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return scrapy_worker(args)
    if args.quick:
        for k, v in QUICK.items():
            if getattr(args, k) == parser.get_default(k):
                setattr(args, k, v)
    if args.out is None:
        args.out = (Path(tempfile.gettempdir()) / "bench-pipeline-quick.json" if args.quick
                    else DEFAULT_OUT)
    if min(args.pages, args.repeat, args.hosts, args.concurrency, args.per_host) < 1:
        parser.error("--pages, --repeat, --hosts, --concurrency and --per-host must be >= 1")
    if args.mem_pages and args.mem_pages <= args.pages:
        parser.error("--mem-pages must be more than --pages (or 0)")
    if not 0 <= args.edit_share <= 1:
        parser.error("--edit-share is a share, 0 to 1")
    return run_serving("bench-pipeline", lambda: bench_main(args))


if __name__ == "__main__":
    sys.exit(main())
