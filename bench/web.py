"""The reader's response times (pipeline/web) on 100,000 stored articles, served as `make browse`
serves them.

    make bench-web                                          # 100,000 articles, 100 queries a kind
    .venv/bin/python bench/web.py --rows 5000 --queries 20  # quick
    .venv/bin/python bench/web.py --rebuild --json-out /tmp/web.json

The database (`--rows`, 100,000; deterministic from `--seed`): bench/store.py's articles (its
load_sources and make_rows: ~5 KB bodies of real words with their frequencies, ~4% exact and
~4% near copies), in a database made by store.open_db (migrations, indexes, FTS5 table), the
rows written with executemany a `--batch` (200, the writer's) a transaction, each batch's
fts_pending queue indexed by store.fts.index_pending before its commit, as the writer does (so
the FTS index has the segments a store built by the pipeline has). Copies carry duplicate_of
(their story's first row: same title), similarity (1.0, or the Jaccard of 5-word shingles) and
dup_method (exact/near); 90% of rows have `markdown` (cleaner.markdown.from_text), the others
show `text`, as rows stored before migration 008 do. Each article has a `fetches` row (source:
its site, run_id: one of RUNS `runs` rows) and 1% more fetches failed (no article), so the source
filter and /health have data. No pages or signatures (the reader reads neither). The file is
cached as /tmp/scrape-bench-web-ROWS-SEED.db (`--rebuild` makes it again); its build time is
kept beside it (.json) and printed. Without ../shared/bench the script says so and exits 0.

Served as `make browse` does: `.venv/bin/datasette serve DB --host 127.0.0.1 --port PORT
--metadata FILE` (the metadata of data/datasette-metadata.json renamed for the file, as the
Makefile does) in a subprocess, on a free port; one httpx client (keep-alive, no proxy) asks
one request at a time, after WARMUP requests of each kind. Timed: from sending the request to
the whole body read (time.perf_counter). Every response must be 200, and every one-word search
must list hits (the HTML's hit blocks; their number is also compared with the in-process
search's): the bench exits 1 when one is not, after writing the results.

Requests, `--queries` of each search kind (100), deterministic from the seed:
  search-1word  /search?q=WORD, a third each of frequent words (in >= 50% of the articles),
                medium ones (2-20%) and rare ones (the rarest tenth of the words: every word
                of the corpus is in ~0.5% of the articles or more), with their document counts
                read from the FTS index itself (fts5vocab); words of letters only, 3+ long.
  search-3words /search?q=W1+W2+W3, three words of one random article (so it has hits).
  search-site   /search?q=WORD&site=SITE&page=2 (frequent or medium word), FILTERED of them.
  search-source /search?q=WORD&source=SOURCE, FILTERED of them.
  latest        /search without words (the latest articles), FILTERED.
  article       /articles/ID, `--queries` random existing ids.
  health        /health, HEALTH_REQUESTS times.
References, same queries, same database: store.query.search in this process on a read-only
connection as the reader calls it (21 hits, one per story, plain words, no HTTP or template:
the ratio shows what HTTP, Datasette and rendering add), pipeline/web/reads.run_search (the
search plus each hit's source), reads.facets (run for every search page), reads.article and
reads.health (the SQL of the other pages), and Datasette's
own table search /DB/articles.json?_search=WORDS&_size=20 for the first `--datasette-queries`
(20) of each search kind.

Reported per kind: median, p95 (nearest rank) and max in ms; the issue's targets on this
machine: search median < 150 ms (one and three words), article median < 50 ms. Results go to
bench/results/web.json (`--json-out`) with the machine, versions and commit.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import math
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # before bench/: bench/store.py is not the store package

from common import (
    DEFAULT_DATA,
    BenchError,
    free_port,
    git_state,
    machine,
    versions,
    worker_env,
    write_json,
)

_spec = importlib.util.spec_from_file_location("bench_store", HERE / "store.py")
assert _spec is not None and _spec.loader is not None
bench_store = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_store)

DEFAULT_OUT = HERE / "results" / "web.json"
DEFAULT_ROWS = 100_000
DEFAULT_SEED = bench_store.DEFAULT_SEED
TARGET_MS = {"search-1word": 150.0, "search-3words": 150.0, "article": 50.0}
WARMUP = 5  # requests of each kind before the timed ones
FILTERED = 10  # requests of search-site, search-source and latest
HEALTH_REQUESTS = 5
RUNS = 10  # `runs` rows; the articles are spread over them in order
FAILED_EVERY = 100  # one failed fetch (no article) per this many articles
MARKDOWN_SHARE = 0.9
# One-word queries' tiers by the share of articles a word is in; "rare": the vocabulary's
# rarest tenth (every word of the corpus is in ~0.5% of the articles or more: no rarer ones).
TIERS = {"frequent": (0.5, 1.01), "medium": (0.02, 0.2), "rare": (0.0, None)}
RARE_SHARE = 0.1
HIT = '<div class="hit">'
FAILURES = (("fetch.http_404", 404, "HTTP 404"), ("fetch.timeout", None, "read timeout"),
            ("clean.no_content", 200, "no article text found"))


# ---------------------------------------------------------------------------------------------
# The database


def default_db(rows: int, seed: int) -> Path:
    return Path(tempfile.gettempdir()) / f"scrape-bench-web-{rows}-{seed}.db"


def shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return set(zip(*(words[i:] for i in range(5)), strict=False))


def build_db(path: Path, n: int, seed: int, data: Path, batch: int) -> dict[str, Any]:
    """Write the bench database at `path` (through a temporary name: a cut build is never
    taken for a whole one); returns what it holds and how long each step took."""
    from cleaner.markdown import from_text
    from store import open_db
    from store.fts import index_pending
    from store.writer import _NEW_COLUMNS, DEDUP_COLUMNS

    t0 = time.perf_counter()
    sources, pages = bench_store.load_sources(data)
    rows = bench_store.make_rows(sources, n, seed)
    t1 = time.perf_counter()
    rng = random.Random(seed)
    first_of_title: dict[str, int] = {}
    articles, fetches = [], []  # fetches[i]: article i's fetches row, then maybe a failed one
    now = bench_store.FETCHED_AT.isoformat(timespec="seconds")
    per_run = math.ceil(n / RUNS)
    for i, r in enumerate(rows):
        article_id = i + 1
        canonical = first_of_title.setdefault(r["title"], article_id)  # copies keep the title
        dup: tuple[Any, ...] = (None, None, None)
        if canonical != article_id and r["kind"] == "exact":
            dup = (canonical, 1.0, "exact")
        elif canonical != article_id:
            a, b = shingles(r["text"]), shingles(rows[canonical - 1]["text"])
            dup = (canonical, len(a & b) / max(1, len(a | b)), "near")
        markdown = from_text(r["title"], r["text"]) if rng.random() < MARKDOWN_SHARE else None
        articles.append({**{c: r.get(c) for c in _NEW_COLUMNS}, "id": article_id,
                         "tags": json.dumps(r["tags"], ensure_ascii=False),
                         "markdown": markdown, "first_seen_at": now, "updated_at": now,
                         **dict(zip(DEDUP_COLUMNS, dup, strict=True))})
        fetch = {"url": r["url"], "final_url": r["url"], "status": 200,
                 "content_type": "text/html; charset=utf-8", "error": None,
                 "fetched_at": r["fetched_at"], "elapsed_ms": rng.randint(40, 900),
                 "bytes": len(pages[r["source"]]), "source": r["sitename"],
                 "outcome": "new" if dup[0] is None else "duplicate", "article_id": article_id,
                 "run_id": 1 + i // per_run}
        fetches.append([fetch])
        if i % FAILED_EVERY == FAILED_EVERY - 1:
            outcome, status, error = FAILURES[(i // FAILED_EVERY) % len(FAILURES)]
            fetches[-1].append({**fetch, "url": f"{r['url']}-gone", "final_url": None,
                                "status": status, "error": error, "outcome": outcome,
                                "article_id": None, "bytes": None})
    t2 = time.perf_counter()

    tmp = path.with_name(path.name + ".building")
    for name in (tmp, path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    db = open_db(tmp)
    conn = db.conn
    columns = ("id", *_NEW_COLUMNS, *DEDUP_COLUMNS)
    insert_article = (f"INSERT INTO articles ({', '.join(columns)}) "
                      f"VALUES ({', '.join(':' + c for c in columns)})")
    insert_fetch = (f"INSERT INTO fetches ({', '.join(fetch)}) "
                    f"VALUES ({', '.join(':' + c for c in fetch)})")
    with conn:
        for run in range(1, RUNS + 1):
            mine = [f for fs in fetches[(run - 1) * per_run:run * per_run] for f in fs]
            conn.execute(
                "INSERT INTO runs (id, command, arguments, started_at, finished_at, status, "
                "counts, pid, host) VALUES (?, 'batch', ?, ?, ?, 'completed', ?, ?, 'bench')",
                [run, json.dumps({"sources": "data/sources.toml"}), mine[0]["fetched_at"],
                 mine[-1]["fetched_at"], json.dumps(Counter(f["outcome"] for f in mine)),
                 1000 + run])
        sites = sorted({r["sitename"] for r in rows})
        conn.executemany("INSERT INTO sources (name, kind, location, added_at, last_run_id) "
                         "VALUES (?, 'sitemap', ?, ?, ?)",
                         [(s, f"https://{s}/sitemap.xml", now, RUNS) for s in sites])
    for start in range(0, n, batch):  # as the writer: rows, fetches, index, commit
        conn.executemany(insert_article, articles[start:start + batch])
        conn.executemany(insert_fetch, [f for fs in fetches[start:start + batch] for f in fs])
        index_pending(conn)
        conn.commit()
    t3 = time.perf_counter()
    db.close()  # the last connection: checkpoints the WAL into the file and removes it
    os.replace(tmp, path)
    info = {
        "rows": n, "seed": seed, "batch": batch,
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": {"rows": t1 - t0, "prepare": t2 - t1, "write_and_index": t3 - t2,
                    "total": time.perf_counter() - t0},
        "duplicates": sum(1 for a in articles if a["duplicate_of"] is not None),
        "markdown_rows": sum(1 for a in articles if a["markdown"] is not None),
        "fetches": sum(len(fs) for fs in fetches), "runs": RUNS, "sites": len(sites),
        "db_bytes": path.stat().st_size, "schema": schema(path),
    }
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def schema(path: Path | None = None) -> str:
    """A digest of the tables, indexes and triggers of the database at `path`, or of a new
    one made by store.open_db: a cached database from older migrations is built again."""
    from store import open_db

    with tempfile.TemporaryDirectory() as folder:
        db = open_db(path if path is not None else Path(folder) / "schema.db")
        try:
            rows = sorted((r[0], r[1] or "") for r in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
        finally:
            db.close()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def cached_db(path: Path, n: int, seed: int, data: Path, batch: int,
              rebuild: bool) -> tuple[dict[str, Any], bool]:
    """The build info of the database at `path`, building it when missing or asked."""
    meta = path.with_suffix(".json")
    if not rebuild and path.is_file() and meta.is_file():
        info = json.loads(meta.read_text())
        if (info.get("rows"), info.get("seed"), info.get("batch"), info.get("schema")) == \
                (n, seed, batch, schema()):
            return info, True
    return build_db(path, n, seed, data, batch), False


# ---------------------------------------------------------------------------------------------
# Queries


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def make_queries(path: Path, seed: int, count: int) -> dict[str, Any]:
    """The requests' parameters, deterministic from `seed` and the database."""
    rng = random.Random(seed)
    conn = read_only(path)
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, articles_fts, row)")
    (total,) = conn.execute("SELECT count(*) FROM articles").fetchone()
    vocab = [(t, d) for t, d in conn.execute("SELECT term, doc FROM temp.vocab ORDER BY term")
             if t.isalpha() and len(t) >= 3]
    one: list[dict[str, Any]] = []
    per_tier = [count // 3 + (1 if i < count % 3 else 0) for i in range(3)]
    rare_df = sorted(d for _, d in vocab)[int(RARE_SHARE * len(vocab))] if vocab else 0
    for (tier, (lo, hi)), k in zip(TIERS.items(), per_tier, strict=True):
        pool = [(t, d) for t, d in vocab
                if (d <= rare_df if hi is None else lo * total <= d < hi * total)]
        if not pool:
            raise BenchError(f"no word in {total:,} articles has the {tier} frequency")
        picks = rng.sample(pool, k) if len(pool) >= k else rng.choices(pool, k=k)
        one += [{"q": t, "tier": tier, "docs": d} for t, d in picks]
    three = []
    while len(three) < count:
        article_id = rng.randint(1, total)
        (text,) = conn.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
        words = sorted({w.lower() for w in re.findall(r"\w+", text) if w.isalpha()
                        and len(w) >= 3})
        if len(words) >= 3:
            three.append({"q": " ".join(rng.sample(words, 3)), "from_article": article_id})
    sites = [s for (s,) in conn.execute("SELECT DISTINCT sitename FROM articles ORDER BY 1")]
    sources = [s for (s,) in conn.execute(
        "SELECT DISTINCT source FROM fetches WHERE source IS NOT NULL ORDER BY 1")]
    common_words = [q["q"] for q in one if q["tier"] != "rare"]
    conn.close()
    return {
        "search-1word": one, "search-3words": three,
        "search-site": [{"q": rng.choice(common_words), "site": rng.choice(sites), "page": 2}
                        for _ in range(FILTERED)],
        "search-source": [{"q": rng.choice(common_words), "source": rng.choice(sources)}
                          for _ in range(FILTERED)],
        "latest": [{} for _ in range(FILTERED)],
        "article": [{"id": rng.randint(1, total)} for _ in range(count)],
        "health": [{} for _ in range(HEALTH_REQUESTS)],
        "articles": total,
    }


def url_of(kind: str, params: dict[str, Any]) -> str:
    if kind == "article":
        return f"/articles/{params['id']}"
    if kind == "health":
        return "/health"
    keys = ("q", "site", "source", "page")
    return "/search" + ("?" + urlencode({k: params[k] for k in keys if k in params})
                        if params else "")


# ---------------------------------------------------------------------------------------------
# The server


class Reader:
    """`datasette serve DB` as `make browse` runs it, our child; `stop` ends it by its pid."""

    def __init__(self, db: Path, tmp: Path) -> None:
        from pipeline.cli_store import datasette_metadata

        self.db, self.log_path = db, tmp / "datasette.log"
        self.metadata = tmp / "metadata.json"
        self.metadata.write_text(json.dumps(datasette_metadata(
            REPO / "data" / "datasette-metadata.json", db), ensure_ascii=False))
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self, client: Any, timeout: float = 120.0) -> None:
        binary = Path(sys.executable).parent / "datasette"
        for _ in range(5):  # the port may be taken between free_port() and Datasette's bind
            port = free_port()
            self.base = f"http://127.0.0.1:{port}"
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [str(binary), "serve", str(self.db), "--host", "127.0.0.1", "--port",
                     str(port), "--metadata", str(self.metadata)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=worker_env(), cwd=REPO)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if client.get(self.base + "/-/versions.json").status_code == 200:
                        return
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.1)
            self.stop()
            log = self.log_path.read_text(errors="replace")
            if "address already in use" not in log.lower():
                raise BenchError(f"datasette did not start:\n{log[-2000:]}")
        raise BenchError("datasette could not bind a free port on 127.0.0.1 (5 tries)")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# Measuring


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = call()
    return (time.perf_counter() - t0) * 1000, out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"n": len(ms), "median_ms": statistics.median(ms),
            "p95_ms": ordered[max(0, math.ceil(0.95 * len(ms)) - 1)],
            "max_ms": ordered[-1], "min_ms": ordered[0], "mean_ms": statistics.mean(ms)}


def measure_http(client: Any, base: str, queries: dict[str, Any],
                 problems: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in ("search-1word", "search-3words", "search-site", "search-source", "latest",
                 "article", "health"):
        items = queries[kind]
        for params in items[:WARMUP]:
            client.get(base + url_of(kind, params))
        ms, hits = [], []
        for params in items:
            path = url_of(kind, params)
            t, response = timed(lambda p=path: client.get(base + p))  # type: ignore[misc]
            ms.append(t)
            if response.status_code != 200:
                problems.append(f"{kind} {path}: HTTP {response.status_code}")
            found = response.text.count(HIT)
            hits.append(found)
            if kind == "search-1word" and found == 0:
                problems.append(f"{kind} {path}: no hits")
        out[kind] = {**summary(ms), "ms": ms}
        if kind.startswith("search") or kind == "latest":
            out[kind]["hits"] = hits
            out[kind]["without_hits"] = sum(1 for h in hits if h == 0)
    return out


def measure_inprocess(path: Path, queries: dict[str, Any],
                      problems: list[str], http: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """store.query.search as the reader calls it, and reads' run_search, facets, article and
    health, on a read-only connection in this process (no HTTP, no template)."""
    from pipeline.web import reads
    from store.query import Filters, search
    from store.snippets import CLOSE, OPEN

    conn = read_only(path)
    db = reads.database(conn)
    out: dict[str, dict[str, Any]] = {}
    for kind in ("search-1word", "search-3words"):
        items = queries[kind]
        for params in items[:WARMUP]:
            list(search(db, params["q"], reads.PAGE_SIZE + 1, True, syntax=False))
        ms, run_ms = [], []
        for i, params in enumerate(items):
            t, hits = timed(lambda q=params["q"]: list(search(  # type: ignore[misc]
                db, q, reads.PAGE_SIZE + 1, True, filters=Filters(), syntax=False,
                marks=(OPEN, CLOSE))))
            ms.append(t)
            shown = min(len(hits), reads.PAGE_SIZE)
            if shown != http[kind]["hits"][i]:
                problems.append(f"{kind} {params['q']!r}: {http[kind]['hits'][i]} hits on the "
                                f"page, {shown} from store.query.search")
            form = reads.SearchForm.parse({"q": params["q"]})
            run_ms.append(timed(lambda f=form: reads.run_search(conn, f))[0])  # type: ignore[misc]
        out[f"{kind} search()"] = {**summary(ms), "ms": ms}
        out[f"{kind} run_search()"] = {**summary(run_ms), "ms": run_ms}
    facet_ms = [timed(lambda: reads.facets(conn))[0] for _ in range(WARMUP + FILTERED * 2)]
    out["facets()"] = {**summary(facet_ms[WARMUP:]), "ms": facet_ms[WARMUP:]}
    article_ms = [timed(lambda i=p["id"]: reads.article(conn, i))[0]  # type: ignore[misc]
                  for p in queries["article"]]
    out["article()"] = {**summary(article_ms), "ms": article_ms}
    health_ms = [timed(lambda: reads.health(conn))[0] for _ in range(HEALTH_REQUESTS)]
    out["health()"] = {**summary(health_ms), "ms": health_ms}
    conn.close()
    return out


def measure_datasette(client: Any, base: str, db_name: str, queries: dict[str, Any],
                      count: int, problems: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in ("search-1word", "search-3words") if count > 0 else ():
        items = queries[kind]
        picked = [items[(i * len(items)) // min(count, len(items))]
                  for i in range(min(count, len(items)))]  # spread over the tiers
        ms = []
        for params in picked[:2] + picked:  # two of warm-up
            url = f"{base}/{db_name}/articles.json?" + urlencode(
                {"_search": params["q"], "_size": 20})
            t, response = timed(lambda u=url: client.get(u))  # type: ignore[misc]
            ms.append(t)
            if response.status_code != 200:
                problems.append(f"datasette {kind} {params['q']!r}: HTTP {response.status_code}")
        out[f"{kind} datasette"] = {**summary(ms[2:]), "ms": ms[2:]}
    return out


# ---------------------------------------------------------------------------------------------
# Report


def print_table(results: dict[str, dict[str, Any]], title: str, targets: bool = True) -> None:
    head = f"{'kind':<30} {'n':>4} {'median':>8} {'p95':>8} {'max':>8}  target"
    print(f"\n{title}\n{head}\n{'-' * len(head)}")
    for kind, r in results.items():
        target = TARGET_MS.get(kind.split(" ")[0]) if targets else None  # a tier: its kind's
        verdict = (f"median < {target:.0f} ms: {'PASS' if r['median_ms'] < target else 'FAIL'}"
                   if target else "")
        print(f"{kind:<30} {r['n']:>4} {r['median_ms']:>8.1f} {r['p95_ms']:>8.1f} "
              f"{r['max_ms']:>8.1f}  {verdict}")


def by_tier(http: dict[str, Any], queries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for tier in TIERS:
        ms = [t for t, q in zip(http["search-1word"]["ms"], queries["search-1word"], strict=True)
              if q["tier"] == tier]
        if ms:
            out[f"search-1word {tier}"] = summary(ms)
    return out


def run(args: argparse.Namespace) -> int:
    import httpx

    db_path = args.db or default_db(args.rows, args.seed)
    try:
        info, cached = cached_db(db_path, args.rows, args.seed, args.data, args.batch,
                                 args.rebuild)
    except bench_store.DataMissing as exc:
        print(f"benchmark data not found: {exc}\nIt lives in ../shared/bench beside the clone, "
              "on the team's machines only (--data DIR if it is elsewhere): bench-web cannot "
              "run here.")
        return 0
    s = info["seconds"]
    print(f"database {db_path}: {info['rows']:,} articles ({info['duplicates']:,} copies, "
          f"{info['markdown_rows']:,} with markdown), {info['fetches']:,} fetches, "
          f"{info['db_bytes'] / 2**20:,.0f} MiB; "
          + ("cached, " if cached else "") + f"built in {s['total']:.0f} s (rows "
          f"{s['rows']:.0f} s, markdown and copies {s['prepare']:.0f} s, written and indexed "
          f"{s['write_and_index']:.0f} s, at {info['built_at']})", flush=True)
    t0 = time.perf_counter()
    queries = make_queries(db_path, args.seed, args.queries)
    tiers = {t: [q["docs"] for q in queries["search-1word"] if q["tier"] == t] for t in TIERS}
    print(f"queries picked in {time.perf_counter() - t0:.1f} s; one-word document counts: "
          + ", ".join(f"{t} {min(d):,}-{max(d):,}" for t, d in tiers.items() if d), flush=True)

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp, \
            httpx.Client(trust_env=False, timeout=120) as client:
        reader = Reader(db_path, Path(tmp))
        try:
            t0 = time.perf_counter()
            reader.start(client)
            print(f"datasette serving {reader.base} (up in {time.perf_counter() - t0:.1f} s)",
                  flush=True)
            http = measure_http(client, reader.base, queries, problems)
            ds = measure_datasette(client, reader.base, db_path.stem, queries,
                                   args.datasette_queries, problems)
        finally:
            reader.stop()
    inproc = measure_inprocess(db_path, queries, problems, http)

    print_table(http, f"the reader over HTTP, {queries['articles']:,} articles (ms)")
    print_table(by_tier(http, queries), "one-word searches over HTTP by the words' frequency "
                "(ms; the target is on all of them, shown per tier as a guide)")
    print_table(inproc, "in this process, no HTTP or template (ms)", targets=False)
    if ds:
        print_table(ds, "Datasette's table search /DB/articles.json?_search=...&_size=20 (ms)",
                    targets=False)
    ratios = {k: http[k]["median_ms"] / inproc[f"{k} search()"]["median_ms"]
              for k in ("search-1word", "search-3words")}
    print("\nHTTP / in-process search() medians: "
          + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    verdict = {k: {"target_ms": v, "median_ms": http[k]["median_ms"],
                   "pass": http[k]["median_ms"] < v} for k, v in TARGET_MS.items()}
    print("targets: " + "; ".join(f"{k} median {r['median_ms']:.1f} ms < {r['target_ms']:.0f}: "
                                  f"{'PASS' if r['pass'] else 'FAIL'}"
                                  for k, r in verdict.items()))
    for p in problems:
        print(f"CHECK FAILED: {p}")
    print(f"checks: {len(problems)} problem(s)")

    import sqlite_utils  # noqa: F401 - versions() reads its distribution
    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(("datasette", "httpx", "sqlite-utils", "markdown-it-py", "Jinja2",
                              "uvicorn", "numpy"), sqlite=sqlite3.sqlite_version),
        "git": git_state(),
        "options": {"rows": args.rows, "seed": args.seed, "queries": args.queries,
                    "batch": args.batch, "datasette_queries": args.datasette_queries,
                    "db": str(db_path)},
        "build": {**info, "cached": cached},
        "queries": {k: v for k, v in queries.items() if k != "articles"},
        "targets": verdict, "http": http, "http_by_tier": by_tier(http, queries),
        "inprocess": inproc, "datasette": ds, "http_over_inprocess": ratios,
        "problems": problems,
    }
    write_json(args.json_out, out)
    print(f"\nresults written to {args.json_out}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"articles stored (default {DEFAULT_ROWS:,})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="rows and queries seed")
    parser.add_argument("--queries", type=int, default=100,
                        help="requests of each search kind and of /articles/ID (100)")
    parser.add_argument("--datasette-queries", type=int, default=20,
                        help="Datasette table searches of each kind (20; 0: none)")
    parser.add_argument("--batch", type=int, default=200,
                        help="rows a transaction (and FTS indexing) when building (200)")
    parser.add_argument("--db", type=Path, help="database file (default "
                        "/tmp/scrape-bench-web-ROWS-SEED.db, built when missing)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="benchmark data directory (default ../shared/bench)")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_OUT, help="results JSON")
    args = parser.parse_args(argv)
    if args.rows < 10 or args.queries < 3 or args.batch < 1:
        parser.error("--rows must be at least 10, --queries at least 3, --batch at least 1")

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGHUP):  # as Ctrl-C: the `finally` stops Datasette
        signal.signal(s, on_signal)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench-web: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench-web: interrupted; datasette stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
