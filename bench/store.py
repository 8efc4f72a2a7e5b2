"""Store throughput: articles written per second by our writer, beside raw sqlite3, same rows.

    make bench-store                                        # 100,000 articles, 3 runs each
    .venv/bin/python bench/store.py --rows 5000 --repeat 1  # quick
    .venv/bin/python bench/store.py --systems raw+fts,store --json-out /tmp/store.json
    .venv/bin/python bench/store.py --rows 20000 --profile store   # cProfile of one store run

The rows (`--rows`, 100,000; deterministic from `--seed`): articles of about 5 KB of body
(4,000-6,000 bytes of UTF-8, ~850 words in sentences of 8-28 words, 2-6 sentences a paragraph)
whose words are drawn from the real article bodies of ../shared/bench/asb-dev/ground-truth.json
(83 gold bodies, ~10,800 distinct words: real vocabulary and word frequencies, not real
sentences): half of an article's words from one "source" body (its topic), half from all of
them. Without ../shared/bench the script says so and exits 0 (--data DIR if it is elsewhere).
Every Article field is filled: url = canonical_url (unique, on the source's site), title,
description, author, date, date_modified (a third), sitename, language, word_count and
content_hash (cleaner.text's own functions), image_url/caption, tags (2-5), repeated-paragraph
counts, fetched_at, canonical_link. 92% are distinct articles; 4% are exact copies of an
earlier one at another URL (syndicated: half name the original as their canonical link) and 4%
near copies (3% of the words replaced, the last paragraph dropped), so dedup finds and places
~8% duplicates. Each has a Page for its fetch row: status 200, 11 response headers, and as body
the real HTML of the source's page (asb-dev/html: median 115 KB, the bodies a fetcher brings;
the same 83 bytes objects shared, so the inputs stay in memory).

Systems, each run in its own subprocess pinned to one CPU, on a fresh
database file made by store.open_db (our migrations: the same tables, indexes and pragmas, WAL
and synchronous=NORMAL), every row once, in the same order:
  raw           sqlite3 executemany of the article rows (every `articles` column; dedup columns
                NULL) into `articles` with the FTS5 table and its triggers dropped: the floor.
  raw+fts       the same into the migrated database with the store's triggers replaced by
                FTS5's documented external-content triggers (ROW_TRIGGERS), which index each
                row as it is inserted. The reference of the target.
  raw+fts-tuned raw+fts on a connection with open_db's page cache and checkpoint interval
                (the store's connection has them; raw sqlite3's defaults do not).
  raw+bulk-fts  the same with the three triggers dropped, then one
                INSERT INTO articles_fts(articles_fts) VALUES('rebuild') and the triggers made
                again, all timed: what building the index in bulk afterwards costs.
  store         the product path: Store(path, index=LSHIndex(DedupConfig())) and
                store.write(Result(page, article, signature=sig, stored_body=packed)) per
                row, the signature and the compressed page computed before the clock, as the
                pipeline's Sign and Pack stages do where cleaning runs. Writes the article
                (queued for FTS by its trigger, indexed at each commit: migration 006), its
                signature, dedup placement, the fetches row and the pages row, committing
                every 200 rows / 2 s.
  store+inline  the same with neither precomputed: the writer signs and compresses each page
                (zstd), as when nothing runs before it.
  store-nopages the store path with Store(keep_pages=False): what the raw pages cost.
The raw systems commit every `--raw-batch` rows (200, the store's batch; 0: one transaction).

Timed: from the first row to the database closed (the last commit and WAL checkpoint
included), wall clock with time.perf_counter and CPU with time.process_time; the inputs are
built, the database created and the Store constructed before the clock. Peak RSS: VmHWM of the
worker during the timed part (reset when it starts; the inputs held in memory are included,
~1 GB at 100k rows), and RSS growth over it. DB size: the database file after close. `--repeat`
runs of each system (3), interleaved; the table gives the median rows/s (and the range), the
CPU and memory of the median run, and each system's ratio to raw+fts measured in the same run.
Each store run also reports its outcomes and a digest of the articles' dedup columns (id,
duplicate_of, similarity, dup_method), which must not change when the writer is made faster.

Target (the issue's): store >= 0.8 x raw+fts rows/s, and the writer never the pipeline's
bottleneck: its rows/s beside the fetcher's pages/s (bench/results/fetch.json) and the cleaner's
ms/page (bench/results/quality.json). Results go to bench/results/store.json (`--json-out`).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import gzip
import hashlib
import io
import json
import os
import pickle
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # before bench/: bench/store.py is not the store package

from common import (  # noqa: E402
    DEFAULT_DATA,
    git_state,
    machine,
    parse_choices,
    proc_status_kib,
    rate_spread,
    reset_peak_rss,
    run_json_worker,
    versions,
    write_json,
)

DEFAULT_OUT = HERE / "results" / "store.json"
ASB = "asb-dev"
SYSTEMS = ("raw", "raw+fts", "raw+fts-tuned", "raw+bulk-fts", "store", "store+inline",
           "store-nopages")
BASELINE = "raw+fts"
TARGET_RATIO = 0.8  # store >= 0.8 x raw+fts
WORKER_TIMEOUT = 3600.0  # seconds for one run of one system
DEFAULT_ROWS = 100_000
DEFAULT_SEED = 20260101
BODY_BYTES = (4000, 6000)
EXACT_SHARE, NEAR_SHARE = 0.04, 0.04
NEAR_REPLACED = 0.03
FETCHED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
FIRST = ("Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "James",
         "Kofi", "Laura", "Mateo", "Nadia", "Oliver", "Priya", "Rosa", "Sam", "Tomas", "Yara")
LAST = ("Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
        "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quinn",
        "Rossi", "Schmidt", "Tanaka")
_WORD = re.compile(r"\w+")

# ---------------------------------------------------------------------------------------------
# Rows


class DataMissing(Exception):
    pass


def load_sources(data: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The gold bodies and URLs of asb-dev, and each page's HTML as served."""
    gt = data / ASB / "ground-truth.json"
    if not gt.is_file():
        raise DataMissing(f"{gt} not found")
    gold = json.loads(gt.read_text(encoding="utf-8"))
    sources, pages = [], []
    for key in sorted(gold):
        html = data / ASB / "html" / f"{key}.html.gz"
        if not html.is_file():
            raise DataMissing(f"{html} not found")
        sources.append({"url": gold[key]["url"], "body": gold[key]["articleBody"]})
        pages.append(gzip.decompress(html.read_bytes()))
    return sources, pages


class Writer:
    """Deterministic article text from real words (numpy Generator seeded once)."""

    def __init__(self, sources: list[dict[str, Any]], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.by_source = [np.array(_WORD.findall(s["body"]), dtype=object) for s in sources]
        self.all = np.concatenate(self.by_source)
        self.long = [w[np.char.str_len(w.astype(str)) > 3] for w in self.by_source]

    def words(self, source: int, n: int) -> list[str]:
        """n words: from the source body or from all, half and half, in random order."""
        rng = self.rng
        own = self.by_source[source]
        mine = rng.random(n) < 0.5
        out = self.all[rng.integers(0, len(self.all), n)]
        out[mine] = own[rng.integers(0, len(own), int(mine.sum()))]
        return out.tolist()

    def sentence(self, source: int, lo: int = 8, hi: int = 28) -> str:
        return self._sentence(self.words(source, int(self.rng.integers(lo, hi + 1))))

    @staticmethod
    def _sentence(words: list[str]) -> str:
        text = " ".join(words)
        return text[:1].upper() + text[1:] + "."

    def body(self, source: int) -> str:
        """Paragraphs of 2-6 sentences of 8-28 words (6% of words followed by a comma) up to
        a size drawn from BODY_BYTES."""
        rng = self.rng
        target = int(rng.integers(*BODY_BYTES))
        words: list[str] = []
        pos = 0
        paras: list[str] = []
        size = 0
        while size < target:
            sentences = []
            for length in rng.integers(8, 29, int(rng.integers(2, 7))).tolist():
                while pos + length > len(words):  # drawn in bulk: one numpy call per ~1,000
                    more = self.words(source, 1024)
                    for i in np.flatnonzero(rng.random(len(more)) < 0.06).tolist():
                        more[i] += ","
                    words += more
                sentence = self._sentence(words[pos:pos + length])
                sentences.append(sentence[:-2] + "." if sentence.endswith(",.") else sentence)
                pos += length
            para = " ".join(sentences)
            if size + len(para.encode()) > BODY_BYTES[1] and paras:
                break
            paras.append(para)
            size += len(para.encode()) + 1
        return "\n".join(paras)

    def near_copy(self, text: str) -> str:
        """3% of the words replaced by others, the last paragraph dropped (if 3 or more)."""
        paras = text.split("\n")
        if len(paras) >= 3:
            paras = paras[:-1]
        words = "\n".join(paras).split(" ")
        swap = np.flatnonzero(self.rng.random(len(words)) < NEAR_REPLACED)
        for i, w in zip(swap.tolist(), self.all[self.rng.integers(0, len(self.all), len(swap))],
                        strict=True):
            words[i] = w
        return " ".join(words)

    def title(self, source: int) -> str:
        words = self.words(source, int(self.rng.integers(5, 13)))
        return " ".join(words)[:1].upper() + " ".join(words)[1:]

    def tags(self, source: int) -> list[str]:
        pool = self.long[source]
        picks = pool[self.rng.integers(0, len(pool), int(self.rng.integers(2, 6)))]
        return sorted({str(w).lower() for w in picks})


def make_rows(sources: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """n article records (dicts of Article fields, plus `source`: the page to use and `kind`)."""
    from cleaner.text import content_hash, word_count
    from records.urls import canonicalize

    w = Writer(sources, seed)
    rng = w.rng
    hosts = [canonicalize(s["url"]).split("/")[2] for s in sources]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        draw = rng.random()
        source = int(rng.integers(0, len(sources)))
        kind = "distinct"
        if rows and draw < EXACT_SHARE + NEAR_SHARE:
            original = rows[int(rng.integers(0, len(rows)))]
            kind = "exact" if draw < EXACT_SHARE else "near"
            text = original["text"] if kind == "exact" else w.near_copy(original["text"])
            title = original["title"]
        else:
            original = None
            text, title = w.body(source), w.title(source)
        host = hosts[source]
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 730)))
        slug = "-".join(title.lower().split()[:6])
        url = f"https://{host}/{day.year}/{day.month:02d}/{slug}-{i}"
        own_link = not (kind == "exact" and rng.random() < 0.5)
        rows.append({
            "url": url, "canonical_url": url, "title": title,
            "description": w.sentence(source, 15, 30),
            "author": f"{FIRST[int(rng.integers(0, 20))]} {LAST[int(rng.integers(0, 20))]}",
            "date": day.isoformat(),
            "date_modified": ((day + datetime.timedelta(days=int(rng.integers(0, 5)))).isoformat()
                              if rng.random() < 0.33 else None),
            "sitename": host.removeprefix("www."), "language": "en", "text": text,
            "word_count": word_count(text), "content_hash": content_hash(text),
            "image_url": f"https://{host}/images/{i}.jpg",
            "image_caption": w.sentence(source, 6, 14), "tags": w.tags(source),
            "repeated_paragraphs_removed": int(rng.integers(0, 3)) if rng.random() < 0.2 else 0,
            "fetched_at": (FETCHED_AT + datetime.timedelta(seconds=i)).isoformat(),
            "canonical_link": url if own_link else original["url"],  # type: ignore[index]
            "source": source, "kind": kind,
        })
    return rows


def headers_for(row: dict[str, Any], size: int) -> dict[str, str]:
    return {
        "accept-ranges": "bytes", "cache-control": "max-age=300, public",
        "content-length": str(size), "content-type": "text/html; charset=utf-8",
        "date": "Thu, 01 Jan 2026 00:00:00 GMT",
        "etag": f'"{hashlib.md5(row["url"].encode()).hexdigest()}"',
        "last-modified": "Wed, 31 Dec 2025 23:00:00 GMT", "server": "nginx",
        "strict-transport-security": "max-age=31536000", "vary": "Accept-Encoding",
        "x-cache": "HIT",
    }


def sign_rows(rows: list[dict[str, Any]]) -> list[tuple[bytes, int]]:
    from cleaner.dedup import DedupConfig, MinHasher

    hasher = MinHasher(DedupConfig())
    out = []
    for r in rows:
        sig = hasher(r["text"])
        out.append((sig.to_bytes(), sig.size))
    return out


# ---------------------------------------------------------------------------------------------
# Systems (each runs inside a worker subprocess)


class System:
    """Prepared (inputs built, database created) before the clock; `run()` inside it, up to the
    database closed; `check()` after it."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path, self.rows = data, path, data["rows"]
        self.extra: dict[str, Any] = {}

    def run(self) -> None:
        raise NotImplementedError

    def check(self) -> None:
        db = sqlite3.connect(self.path)
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("articles", "fetches", "pages", "signatures")}
        counts["articles_fts_docs"] = db.execute(
            "SELECT count(*) FROM articles_fts_docsize").fetchone()[0]
        # an FTS query answers from the index: proves the index is there and complete
        word = self.rows[0]["title"].split()[0]
        counts["fts_match_first_title_word"] = db.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",
            [json.dumps(word)]).fetchone()[0]
        self.extra["counts"] = counts
        db.close()
        self.extra["db_bytes"] = sum(p.stat().st_size for p in self.path.parent.glob(
            self.path.name + "*"))


# FTS5's external-content triggers as its documentation gives them (and migration 005 had).
ROW_TRIGGERS = (
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, description, text)
        VALUES (new.id, new.title, new.description, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
        VALUES ('delete', old.id, old.title, old.description, old.text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, description, text
    ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
        VALUES ('delete', old.id, old.title, old.description, old.text);
        INSERT INTO articles_fts (rowid, title, description, text)
        VALUES (new.id, new.title, new.description, new.text);
    END""")


class Raw(System):
    """sqlite3 executemany of the article rows, in batches of --raw-batch rows a commit."""

    fts = "keep"  # "keep" the triggers, "drop" the FTS table and triggers, "bulk": rebuild after

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        super().__init__(data, path)
        from store import open_db
        from store.writer import _INSERT_ARTICLE, _NEW_COLUMNS

        open_db(path).close()
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        # The store's own triggers queue new rows for indexing per batch (migration 006); the
        # reference is FTS5's documented external-content triggers, which index row by row.
        for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                         "'trigger' AND name LIKE 'articles_fts%'").fetchall():
            self.conn.execute(f"DROP TRIGGER {name}")
        self.triggers = ROW_TRIGGERS
        if self.fts == "keep":
            for sql in self.triggers:
                self.conn.execute(sql)
        if self.fts == "drop":
            self.conn.execute("DROP TABLE articles_fts")
        self.conn.commit()
        self.sql = _INSERT_ARTICLE
        now = FETCHED_AT.isoformat(timespec="seconds")
        self.params = [{**{c: r.get(c) for c in _NEW_COLUMNS},
                        "tags": json.dumps(r["tags"], ensure_ascii=False),
                        "first_seen_at": now, "updated_at": now} for r in self.rows]
        self.batch = data["raw_batch"] or len(self.params)

    def run(self) -> None:
        conn, params, batch = self.conn, self.params, self.batch
        for i in range(0, len(params), batch):
            conn.executemany(self.sql, params[i:i + batch])
            conn.commit()
        if self.fts == "bulk":
            conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
            for sql in self.triggers:
                conn.execute(sql)
            conn.commit()
        conn.close()

    def check(self) -> None:
        if self.fts != "drop":
            super().check()
            return
        db = sqlite3.connect(self.path)
        self.extra["counts"] = {"articles": db.execute(
            "SELECT count(*) FROM articles").fetchone()[0]}
        db.close()
        self.extra["db_bytes"] = sum(p.stat().st_size for p in self.path.parent.glob(
            self.path.name + "*"))


class RawNoFts(Raw):
    fts = "drop"


class RawBulkFts(Raw):
    fts = "bulk"


class RawFtsTuned(Raw):
    """raw+fts on a connection with store.open_db's page cache and checkpoint interval."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        super().__init__(data, path)
        from store import open_db

        db = open_db(path)
        self.pragmas = {p: db.execute(f"PRAGMA {p}").fetchone()[0]
                        for p in ("cache_size", "wal_autocheckpoint")}
        db.close()
        for name, value in self.pragmas.items():
            self.conn.execute(f"PRAGMA {name} = {int(value)}")
        self.extra["pragmas"] = self.pragmas


class StoreSystem(System):
    inline = False  # the writer signs and compresses itself (no Sign / Pack stage before it)
    keep_pages = True

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        super().__init__(data, path)
        from cleaner.dedup import DedupConfig, LSHIndex, Signature
        from records import Article, Page, Result
        from store import Store
        from store.pages import pack

        fields = set(Article.__dataclass_fields__)
        pages = data["pages"]
        # What store.pages.Pack gives the writer (one object per distinct page, as the pages).
        packed = {} if self.inline else {i: pack(body) for i, body in enumerate(pages)}
        self.results = []
        for r, (blob, size) in zip(self.rows, data["signatures"], strict=True):
            body = pages[r["source"]]
            page = Page(url=r["url"], final_url=r["url"], status=200,
                        content_type="text/html; charset=utf-8", body=body, encoding="utf-8",
                        fetched_at=r["fetched_at"], elapsed_ms=120, bytes=len(body),
                        etag=f'"{r["content_hash"][:16]}"',
                        last_modified="Wed, 31 Dec 2025 23:00:00 GMT",
                        headers=headers_for(r, len(body)))
            article = Article(**{k: v for k, v in r.items() if k in fields})
            sig = None if self.inline else Signature.from_bytes(blob, size)
            self.results.append(Result(page=page, article=article, signature=sig,
                                       stored_body=packed.get(r["source"])))
        self.store = Store(path, index=LSHIndex(DedupConfig()), keep_pages=self.keep_pages)
        self.outcomes: Counter[str] = Counter()

    def run(self) -> None:
        write, outcomes = self.store.write, self.outcomes
        for result in self.results:
            outcomes[write(result).outcome] += 1
        self.store.close()

    def check(self) -> None:
        super().check()
        db = sqlite3.connect(self.path)
        digest = hashlib.sha256()
        methods: Counter[str] = Counter()
        for row in db.execute("SELECT id, canonical_url, duplicate_of, similarity, dup_method "
                              "FROM articles ORDER BY id"):
            digest.update(repr(row).encode())
            methods[row[4] or "none"] += 1
        db.close()
        kinds = Counter(r["kind"] for r in self.rows)
        self.extra.update(outcomes=dict(self.outcomes), dup_methods=dict(methods),
                          input_kinds=dict(kinds), dedup_digest=digest.hexdigest()[:16])


class StoreInline(StoreSystem):
    inline = True


class StoreNoPages(StoreSystem):
    keep_pages = False


SYSTEM_CLASSES: dict[str, type[System]] = {
    "raw": RawNoFts, "raw+fts": Raw, "raw+fts-tuned": RawFtsTuned, "raw+bulk-fts": RawBulkFts,
    "store": StoreSystem, "store+inline": StoreInline, "store-nopages": StoreNoPages,
}


def pin_cpus(n: int) -> list[int] | None:
    """Run on the last `n` CPUs we may use (one: "rows/s on one core" means that)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))[-n:]
        os.sched_setaffinity(0, set(cpus))
        return cpus
    except (AttributeError, OSError):
        return None


def worker_main(system: str, inputs: Path, profile_top: int) -> int:
    cpu = pin_cpus(1)
    with open(inputs, "rb") as f:
        data = pickle.load(f)
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=data.get("tmpdir")) as tmp:
        runner = SYSTEM_CLASSES[system](data, Path(tmp) / "bench.db")
        gc.collect()
        peak_reset = reset_peak_rss()
        profiler = cProfile.Profile() if profile_top else None
        rss0, cpu0, t0 = proc_status_kib("VmRSS"), time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        runner.run()
        if profiler:
            profiler.disable()
        t1, cpu1, rss1 = time.perf_counter(), time.process_time(), proc_status_kib("VmRSS")
        peak = proc_status_kib("VmHWM")
        runner.check()
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(profile_top)
        stats.sort_stats("cumulative").print_stats(profile_top)
        print(out.getvalue(), file=sys.stderr)
    print(json.dumps({
        "system": system, "rows": len(data["rows"]), "wall_s": t1 - t0, "cpu_s": cpu1 - cpu0,
        "rss_start_kib": rss0, "rss_end_kib": rss1, "maxrss_kib": peak,
        "peak_reset": peak_reset, "cpu": cpu, "extra": runner.extra,
    }))
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration


def run_worker(system: str, inputs: Path, profile_top: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system,
           "--inputs", str(inputs), "--profile-top", str(profile_top)]
    return run_json_worker(cmd, {"system": system}, WORKER_TIMEOUT, echo_stderr=bool(profile_top))


def summarise(system: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    row: dict[str, Any] = {"system": system, "runs": len(runs), "good_runs": len(good)}
    if not good:
        row["error"] = runs[0].get("error", "no run") if runs else "no run"
        return row
    spread, median_run = rate_spread(good, "rows", "rows")
    row.update(
        spread, wall_s=median_run["wall_s"], cpu_s=median_run["cpu_s"],
        peak_rss_mib=median_run["maxrss_kib"] / 1024,
        rss_growth_mib=(median_run["rss_end_kib"] - median_run["rss_start_kib"]) / 1024,
        db_mib=median_run["extra"]["db_bytes"] / 2**20, extra=good[0]["extra"],
    )
    digests = {r["extra"].get("dedup_digest") for r in good}
    row["runs_agree"] = len(digests) == 1
    return row


def pipeline_rates() -> dict[str, Any]:
    """The fetcher's pages/s and the cleaner's ms/page, from the other benches' results."""
    out: dict[str, Any] = {}
    fetch = HERE / "results" / "fetch.json"
    quality = HERE / "results" / "quality.json"
    try:
        results = json.loads(fetch.read_text())["results"]
        ours = next(r for r in results if r["client"] == "ours")
        out["fetch_pages_per_s"] = ours["pages_per_s"]
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        out["fetch_missing"] = f"{fetch}: {type(exc).__name__}: {exc}"
    try:
        cleaner = json.loads(quality.read_text())["systems"]["cleaner"]
        out["clean_ms_per_page"] = cleaner[ASB]["median_ms"]
        out["clean_ms_per_page_by_set"] = {k: v["median_ms"] for k, v in cleaner.items()
                                           if isinstance(v, dict) and "median_ms" in v}
    except (OSError, ValueError, KeyError) as exc:
        out["clean_missing"] = f"{quality}: {type(exc).__name__}: {exc}"
    return out


def print_report(rows: list[dict[str, Any]], n: int, pipeline: dict[str, Any]) -> dict[str, Any]:
    base = next((r for r in rows if r["system"] == BASELINE and "rows_per_s" in r), None)
    head = (f"{'system':<14} {'rows/s':>8} {'(min-max)':>15} {'vs ' + BASELINE:>10} "
            f"{'CPU s':>7} {'ms/row':>7} {'peak MiB':>8} {'+MiB':>6} {'DB MiB':>7}")
    print(f"\n{n:,} articles (~5 KB bodies), one database each; median of the runs\n"
          + head + "\n" + "-" * len(head))
    for r in rows:
        if "rows_per_s" not in r:
            print(f"{r['system']:<14} no good run: {r.get('error', '')[:300]}")
            continue
        ratio = f"{r['rows_per_s'] / base['rows_per_s']:.2f}x" if base else "-"
        spread = f"({r['rows_per_s_min']:,.0f}-{r['rows_per_s_max']:,.0f})"
        print(f"{r['system']:<14} {r['rows_per_s']:>8,.0f} {spread:>15} {ratio:>10} "
              f"{r['cpu_s']:>7.1f} {1000 / r['rows_per_s']:>7.3f} {r['peak_rss_mib']:>8.0f} "
              f"{r['rss_growth_mib']:>6.0f} {r['db_mib']:>7.0f}")
    print(f"vs {BASELINE}: rows/s ratio to {BASELINE} measured in this run; CPU s: the timed "
          "part's CPU (median run); peak MiB: peak RSS during it (the inputs held in memory "
          "included); +MiB: RSS growth over it; DB MiB: the database file after close")
    for r in rows:
        x = r.get("extra", {})
        if "outcomes" in x:
            print(f"  {r['system']}: outcomes {x['outcomes']}, dup_method {x['dup_methods']}, "
                  f"rows {x['counts']}, dedup digest {x['dedup_digest']}"
                  + ("" if r["runs_agree"] else "  (runs differ!)"))
    verdict: dict[str, Any] = {}
    store = next((r for r in rows if r["system"] == "store" and "rows_per_s" in r), None)
    if store and base:
        ratio = store["rows_per_s"] / base["rows_per_s"]
        verdict = {"ratio": ratio, "pass": ratio >= TARGET_RATIO}
        print(f"\ntarget: store >= {TARGET_RATIO} x {BASELINE}: "
              f"{'PASS' if verdict['pass'] else 'FAIL'} ({store['rows_per_s']:,.0f} vs "
              f"{base['rows_per_s']:,.0f} rows/s = {ratio:.2f}x)")
    else:
        print("\ntarget: not measured (needs store and raw+fts)")
    per_row = {r["system"]: 1000 / r["rows_per_s"] for r in rows if "rows_per_s" in r}
    steps = [("the articles row and its indexes", None, "raw"),
             ("the FTS5 triggers (per-row index)", "raw", "raw+fts"),
             ("the store's own: dedup (index, signatures row, placement), fetches row, Python",
              "raw+fts", "store-nopages"),
             ("the raw page (its row: compressed by Pack before the writer)", "store-nopages",
              "store"),
             ("signing and compressing in the writer (store+inline)", "store", "store+inline")]
    parts = [(label, per_row[b] - (per_row[a] if a else 0.0)) for label, a, b in steps
             if b in per_row and (a is None or a in per_row)]
    if parts:
        print("\nwhere an article's time goes, ms per row (differences of the medians above):")
        for label, value in parts:
            print(f"  {value:>7.3f}  {label}")
    print("\nthe writer beside the pipeline's page rate (from the other benches' results):")
    if "fetch_pages_per_s" in pipeline:
        print(f"  fetcher: {pipeline['fetch_pages_per_s']:,.0f} pages/s "
              "(bench/results/fetch.json, ours, loopback)")
    else:
        print(f"  fetcher: unknown ({pipeline.get('fetch_missing')})")
    if "clean_ms_per_page" in pipeline:
        ms = pipeline["clean_ms_per_page"]
        print(f"  cleaner: {ms:.1f} ms/page median on asb-dev = {1000 / ms:,.0f} pages/s per "
              f"core (bench/results/quality.json; by set: "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in
                          pipeline["clean_ms_per_page_by_set"].items()) + ")")
    else:
        print(f"  cleaner: unknown ({pipeline.get('clean_missing')})")
    for r in rows:
        if not r["system"].startswith("store") or "rows_per_s" not in r:
            continue
        rate, ms_row = r["rows_per_s"], 1000 / r["rows_per_s"]
        parts = [f"  {r['system']:<14} {rate:>7,.0f} rows/s ({ms_row:.2f} ms/article)"]
        if "clean_ms_per_page" in pipeline:
            clean = pipeline["clean_ms_per_page"]
            parts.append(f"= the output of {rate * clean / 1000:.1f} cleaning cores")
            parts.append(f"in one process (clean then write) +{100 * ms_row / clean:.0f}% "
                         "per page")
        if "fetch_pages_per_s" in pipeline:
            parts.append(f"{rate / pipeline['fetch_pages_per_s']:.2f}x the fetcher")
        print(", ".join(parts))
    if "clean_ms_per_page" in pipeline and "fetch_pages_per_s" in pipeline:
        cores = pipeline["fetch_pages_per_s"] * pipeline["clean_ms_per_page"] / 1000
        print(f"  (cleaning keeps up with the fetcher only on ~{cores:.0f} cores: the "
              "pipeline's rate is the cleaning cores' rate, and the writer is the bottleneck "
              "only when it is slower than that)")
    return verdict


def parse_systems(value: str) -> list[str]:
    return parse_choices(value, SYSTEMS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"articles written (default {DEFAULT_ROWS:,})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each system (3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="rows seed")
    parser.add_argument("--systems", type=parse_systems, default=list(SYSTEMS),
                        help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--raw-batch", type=int, default=200,
                        help="rows per commit for the raw systems (200; 0: one transaction)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="benchmark data directory (default ../shared/bench)")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_OUT, help="results JSON")
    parser.add_argument("--profile", choices=SYSTEMS, metavar="SYSTEM",
                        help="run SYSTEM once under cProfile, print the top functions, write "
                             "no results")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-top", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.inputs, args.profile_top)
    if args.rows < 1 or args.repeat < 1 or args.raw_batch < 0:
        parser.error("--rows and --repeat must be at least 1, --raw-batch at least 0")

    skipped: dict[str, str] = {}
    systems = [s for s in args.systems if s not in skipped]
    for s, why in skipped.items():
        print(f"skipped {s}: {why}")
    t0 = time.perf_counter()
    try:
        sources, pages = load_sources(args.data)
    except DataMissing as exc:
        print(f"benchmark data not found: {exc}\nIt lives in ../shared/bench beside the clone, "
              "on the team's machines only (--data DIR if it is elsewhere): bench-store cannot "
              "run here.")
        return 0
    rows = make_rows(sources, args.rows, args.seed)
    t1 = time.perf_counter()
    signatures = sign_rows(rows)
    t2 = time.perf_counter()
    body = [len(r["text"].encode()) for r in rows]
    kinds = Counter(r["kind"] for r in rows)
    page_sizes = [len(pages[r["source"]]) for r in rows]
    stats = {
        "rows": len(rows), "kinds": dict(kinds),
        "body_bytes_median": statistics.median(body), "body_bytes_mean": statistics.mean(body),
        "words_median": statistics.median(r["word_count"] for r in rows),
        "page_bytes_median": statistics.median(page_sizes),
        "page_bytes_mean": statistics.mean(page_sizes),
        "distinct_pages": len(pages), "sources": len(sources),
    }
    print(f"{len(rows):,} rows built in {t1 - t0:.1f} s, signed in {t2 - t1:.1f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in kinds.items())
          + f"; body median {stats['body_bytes_median']:,.0f} B "
          f"({stats['words_median']:,.0f} words); page (raw HTML) median "
          f"{stats['page_bytes_median']:,.0f} B, mean {stats['page_bytes_mean']:,.0f} B")

    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        inputs = Path(tmp) / "inputs.pickle"
        with open(inputs, "wb") as f:
            pickle.dump({"rows": rows, "pages": pages, "signatures": signatures,
                         "raw_batch": args.raw_batch, "tmpdir": tmp}, f,
                        protocol=pickle.HIGHEST_PROTOCOL)
        del rows, signatures
        if args.profile:
            result = run_worker(args.profile, inputs, profile_top=40)
            print(json.dumps({k: v for k, v in result.items() if k != "extra"}))
            return 0
        repeat = args.repeat
        for rep in range(repeat):
            for system in systems[rep % len(systems):] + systems[: rep % len(systems)]:
                result = run_worker(system, inputs)
                runs[system].append(result)
                if "error" in result:
                    print(f"  run {rep + 1}/{repeat} {system:<14} FAILED: {result['error']}",
                          flush=True)
                else:
                    print(f"  run {rep + 1}/{repeat} {system:<14} {result['rows']:,} rows in "
                          f"{result['wall_s']:.1f} s ({result['rows'] / result['wall_s']:,.0f} "
                          f"rows/s, CPU {result['cpu_s']:.1f} s, peak "
                          f"{result['maxrss_kib'] / 1024:.0f} MiB)", flush=True)

    summary = [summarise(s, runs[s]) for s in systems]
    pipeline = pipeline_rates()
    verdict = print_report(summary, stats["rows"], pipeline)
    base = next((r for r in summary if r["system"] == BASELINE and "rows_per_s" in r), None)
    for r in summary:
        if "rows_per_s" in r:
            r["vs_baseline_rows_per_s"] = r["rows_per_s"] / base["rows_per_s"] if base else None
    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(("numpy", "sqlite-utils"), sqlite=sqlite3.sqlite_version),
        "git": git_state(),
        "options": {"rows": args.rows, "repeat": args.repeat, "seed": args.seed,
                    "systems": args.systems, "raw_batch": args.raw_batch},
        "skipped": skipped, "inputs": stats, "baseline": BASELINE,
        "target": {"store_vs_baseline": TARGET_RATIO, **verdict},
        "pipeline": pipeline,
        "systems": {r["system"]: r for r in summary},
        "runs": runs,
    }
    write_json(args.json_out, out)
    print(f"\nresults written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
