"""Near-duplicate detection: quality and speed of our detector and of datasketch, on one corpus.

    make bench-dedup                                          # 20,000 docs, all systems, 3 runs
    .venv/bin/python bench/dedup.py --docs 2000 --repeat 1    # quick
    .venv/bin/python bench/dedup.py --systems index,datasketch --json-out /tmp/dedup.json

The corpus (bench/dedup_corpus.py) is built from the real article bodies in ../shared/bench
(team machines only: without them the script says so and exits 0) and labelled by story: docs
of one story are duplicates, everything else is not. Its docstring says how it is made.

Systems, each fed every doc once, one at a time, in one seeded shuffled order (the same for
all), each doc inserted and queried before the next:
  store       the product path: Store(<fresh SQLite file in a temp dir>, index=LSHIndex(
              DedupConfig())).write(Result(page, article)) per doc, with no precomputed
              signature (the store signs); a doc's cluster is its row's duplicate_of, else its
              own id, read back from the articles table by canonical_url at the end.
  index       cleaner.dedup alone: sign, query, join the cluster of the best match (our own
              root map), add. The detector's own cost, without SQLite.
  datasketch  the library used as documented, the baseline: MinHash(num_perm=128) fed with
              update_batch of the same 5-token shingles (cleaner.dedup.tokens, joined by a
              space, UTF-8; datasketch's default sha1 hash; without cleaner.dedup, the same
              tokens by cleaner.text's definition of a word), MinHashLSH(threshold=0.5,
              num_perm=128); query, then join the cluster of the candidate with the highest
              MinHash.jaccard if that is >= 0.5, then insert.
  exact       content_hash equality only (computed in the timed loop): the floor.

Each run of a system is its own subprocess (`--worker`), pinned to one CPU, so peak memory and
CPU are the system's own. Timed: the stream only (inputs are built and the system constructed
before it; reading the clusters back after it), wall clock with time.perf_counter and CPU with
time.process_time. Memory: peak RSS during the stream (VmHWM, reset when the stream starts;
imports, the loaded corpus and the prepared inputs included) and RSS growth over the stream
(VmRSS after minus before). `--repeat` runs of each system, interleaved system by system; the
table gives the median docs/s (and the range), CPU and memory of the median run; quality is the
first run's (a run that clusters differently from the first is reported).

Quality, over all N(N-1)/2 doc pairs, counted from the contingency table of predicted cluster x
story (no pair is enumerated): pair precision = pairs in one predicted cluster and one story /
pairs in one predicted cluster; pair recall = the same / pairs in one story. Recall per variant
kind: of the copies of that kind (every doc of a story except its original), the share that
ended in the same predicted cluster as their story's original doc. False pairs are broken down
by what the two stories share (hard negatives): sibling parts of one body, a follow-up and the
story whose lead it took, one template, the same outlet's house block (the two docs), or
nothing known. The first few of each, and missed copies of each kind, are listed with their
exact shingle Jaccard and containment (of the shorter in the longer).

Targets: precision >= 0.99, recall >= 0.95, >= 2,000 docs/s on one core. Results go to
bench/results/dedup.json (`--json-out`).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import inspect
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
# The repo before bench/ (the script's folder, where dedup_corpus and common are found):
# bench/store.py is not the store package.
sys.path.insert(0, str(HERE.parent))

import dedup_corpus as dc  # noqa: E402
from common import (  # noqa: E402
    git_state,
    machine,
    parse_choices,
    proc_status_kib,
    rate_spread,
    reset_peak_rss,
    run_json_worker,
    versions,
    worker_env,
    write_json,
)

DEFAULT_OUT = HERE / "results" / "dedup.json"
SYSTEMS = ("store", "index", "datasketch", "exact")
BASELINE = "datasketch"
TARGET_PRECISION, TARGET_RECALL, TARGET_RATE = 0.99, 0.95, 2000.0
DS_THRESHOLD, DS_NUM_PERM = 0.5, 128
WORKER_TIMEOUT = 3600.0  # seconds for one run of one system
FETCHED_AT = "2026-01-01T00:00:00+00:00"
EXAMPLES = 3  # false pairs per relation, missed copies per kind, listed for our detector
MAX_STORIES_CLASSIFIED = 2000  # a predicted cluster with more stories is counted, not split up

# ---------------------------------------------------------------------------------------------
# Systems (each runs inside a worker subprocess)


@dataclass
class Doc:
    """What a system sees of a doc (the labels stay in the parent)."""

    url: str
    title: str
    date: str
    text: str
    word_count: int
    content_hash: str
    sitename: str


class System:
    """Built (inputs prepared) before the clock; `step(i)` per doc inside it; `labels` after
    it: the predicted cluster of every doc, any int naming it."""

    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        self.docs, self.tmp = docs, tmp
        self.extra: dict[str, Any] = {}

    def step(self, i: int) -> None:
        raise NotImplementedError

    def labels(self) -> list[int]:
        raise NotImplementedError


class RootMap(System):
    """Greedy single-pass clustering: a doc joins the cluster of its best match, or starts one."""

    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        super().__init__(docs, tmp)
        self.root: list[int] = list(range(len(docs)))
        self.methods: Counter[str] = Counter()

    def join(self, i: int, match: int | None, method: str) -> None:
        if match is not None:
            self.root[i] = self.root[match]
            self.methods[method] += 1

    def labels(self) -> list[int]:
        self.extra["joins"] = dict(self.methods)
        return self.root


class IndexSystem(RootMap):
    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        super().__init__(docs, tmp)
        from cleaner.dedup import DedupConfig, LSHIndex

        self.index = LSHIndex(DedupConfig())
        self.extra["config"] = repr(self.index.config)

    def step(self, i: int) -> None:
        sig = self.index.sign(self.docs[i].text)
        matches = self.index.query(sig)
        if matches:
            self.join(i, matches[0].key, matches[0].method)
        self.index.add(i, sig)


def baseline_shingles() -> Callable[[str], list[bytes]]:
    """The shingles our MinHasher hashes, as the strings datasketch is documented to take."""
    try:
        from cleaner.dedup import DedupConfig, tokens
        k = DedupConfig().shingle
    except ImportError:  # no detector (yet): the same tokens, as cleaner.text counts words
        k = dc.SHINGLE

        def tokens(text: str) -> list[str]:
            return dc._TOKEN.findall(text.casefold())

    def shingles(text: str) -> list[bytes]:
        toks = tokens(text)
        if len(toks) <= k:
            return [" ".join(toks).encode("utf-8")] if toks else []
        return [" ".join(toks[i:i + k]).encode("utf-8") for i in range(len(toks) - k + 1)]

    return shingles


class DatasketchSystem(RootMap):
    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        super().__init__(docs, tmp)
        from datasketch import MinHash, MinHashLSH

        self.MinHash = MinHash
        self.lsh = MinHashLSH(threshold=DS_THRESHOLD, num_perm=DS_NUM_PERM)
        self.sigs: dict[int, Any] = {}
        self.shingles = baseline_shingles()
        self.candidates = 0

    def step(self, i: int) -> None:
        m = self.MinHash(num_perm=DS_NUM_PERM)
        m.update_batch(self.shingles(self.docs[i].text))
        found = self.lsh.query(m)
        self.candidates += len(found)
        # the most similar candidate (lowest key on ties), if it passes the threshold
        best = max(((m.jaccard(self.sigs[key]), -key) for key in found), default=None)
        self.join(i, -best[1] if best and best[0] >= DS_THRESHOLD else None, "near")
        self.lsh.insert(i, m)
        self.sigs[i] = m

    def labels(self) -> list[int]:
        self.extra["candidates_per_query"] = round(self.candidates / max(len(self.docs), 1), 3)
        return super().labels()


class ExactSystem(RootMap):
    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        super().__init__(docs, tmp)
        from cleaner.text import content_hash

        self.hash = content_hash
        self.first: dict[str, int] = {}

    def step(self, i: int) -> None:
        h = self.hash(self.docs[i].text)
        self.join(i, self.first.get(h), "exact")
        self.first.setdefault(h, i)


class StoreSystem(System):
    def __init__(self, docs: list[Doc], tmp: Path) -> None:
        super().__init__(docs, tmp)
        from cleaner.dedup import DedupConfig, LSHIndex
        from records import Article, Page, Result
        from store import Store

        self.path = tmp / "dedup.db"
        self.store = Store(self.path, index=LSHIndex(DedupConfig()))
        self.results = [
            Result(page=Page(url=d.url, final_url=d.url, status=200, content_type="text/html",
                             fetched_at=FETCHED_AT, bytes=len(d.text)),
                   article=Article(url=d.url, canonical_url=d.url, title=d.title, date=d.date,
                                   sitename=d.sitename, text=d.text, word_count=d.word_count,
                                   content_hash=d.content_hash, fetched_at=FETCHED_AT))
            for d in docs
        ]
        self.outcomes: Counter[str] = Counter()

    def step(self, i: int) -> None:
        self.outcomes[self.store.write(self.results[i]).outcome] += 1

    def labels(self) -> list[int]:
        self.store.close()
        db = sqlite3.connect(self.path)
        rows = db.execute("SELECT id, canonical_url, duplicate_of, dup_method FROM articles")
        parent: dict[int, int | None] = {}
        by_url: dict[str, int] = {}
        methods: Counter[str] = Counter()
        for row_id, url, dup, method in rows:
            parent[row_id], by_url[url] = dup, row_id
            methods[method or "none (canonical or unique)"] += 1
        db.close()
        chains = 0

        def root(row_id: int) -> int:  # duplicate_of should be flat; follow it if it is not
            nonlocal chains
            seen = {row_id}
            up = parent[row_id]
            while up is not None and parent.get(up) is not None and up not in seen:
                chains += 1
                seen.add(up)
                up = parent[up]
            return up if up is not None else row_id

        labels = [root(by_url[d.url]) for d in self.docs]
        self.extra.update(outcomes=dict(self.outcomes), dup_methods=dict(methods),
                          chained_rows=chains, db_bytes=self.db_bytes())
        return labels

    def db_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.tmp.glob("dedup.db*"))


SYSTEM_CLASSES: dict[str, type[System]] = {
    "store": StoreSystem, "index": IndexSystem, "datasketch": DatasketchSystem,
    "exact": ExactSystem,
}


def pin_one_cpu() -> int | None:
    """Run on one CPU (the last one we may use), so "docs/s on one core" means that."""
    try:
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def worker_main(system: str, corpus_file: Path, order_file: Path) -> int:
    cpu = pin_one_cpu()
    docs = [Doc(**d) for d in json.loads(corpus_file.read_text(encoding="utf-8"))]
    order: list[int] = json.loads(order_file.read_text())
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        runner = SYSTEM_CLASSES[system](docs, Path(tmp))
        gc.collect()
        load_peak = proc_status_kib("VmHWM")
        peak_reset = reset_peak_rss()
        rss0, cpu0, t0 = proc_status_kib("VmRSS"), time.process_time(), time.perf_counter()
        for i in order:
            runner.step(i)
        t1, cpu1, rss1 = time.perf_counter(), time.process_time(), proc_status_kib("VmRSS")
        labels = runner.labels()
    print(json.dumps({
        "system": system, "docs": len(order), "wall_s": t1 - t0, "cpu_s": cpu1 - cpu0,
        "rss_start_kib": rss0, "rss_end_kib": rss1,
        "maxrss_kib": proc_status_kib("VmHWM"),  # the stream's peak when peak_reset
        "peak_reset": peak_reset, "load_peak_kib": load_peak,
        "cpu": cpu, "extra": runner.extra, "labels": labels,
    }))
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration


def build_load_db(path: Path, texts: Sequence[str], n: int) -> None:
    """A database with `n` stored articles and their signatures, as a long-running archive
    would have after many nights: the corpus's signatures, then random ones (distinct, as
    distinct articles' are: repeating the corpus's would share LSH buckets and flatter the
    memory figure)."""
    import numpy as np

    from cleaner.dedup import DedupConfig, MinHasher, Signature
    from store import open_db

    config = DedupConfig()
    hasher = MinHasher(config)
    sigs = [hasher(t) for t in texts[: min(len(texts), n)]]
    rng = np.random.default_rng(0)
    sigs += [Signature(rng.integers(0, 2**32, config.num_perm, dtype=np.uint32),
                       sigs[i % len(sigs)].size) for i in range(n - len(sigs))]
    db = open_db(path)
    with db.conn:
        db.conn.executemany(
            "INSERT INTO articles (id, url, canonical_url, text, content_hash) "
            "VALUES (?, ?, ?, '', ?)",
            ((i, f"https://load.example/{i}", f"https://load.example/{i}", f"h{i}")
             for i in range(1, n + 1)))
        db.conn.executemany(
            "INSERT INTO signatures (article_id, scheme, shingles, minhash) VALUES (?, ?, ?, ?)",
            ((i, config.scheme, sigs[i - 1].size, sigs[i - 1].to_bytes())
             for i in range(1, n + 1)))
    db.close()


def load_worker(path: Path) -> int:
    """Open a Store on `path` and load its signatures into the index, as a run's first
    write does: the cost of starting a run on an archive of that size."""
    from cleaner.dedup import LSHIndex
    from store import Store

    pin_one_cpu()
    rss0, t0 = proc_status_kib("VmRSS"), time.perf_counter()
    store = Store(path, index=LSHIndex())
    store.db.conn.execute("BEGIN IMMEDIATE")
    store.clusters.catch_up()
    index = store.clusters.index
    index.query(index.sign("the first query sorts the loaded band keys in"))  # type: ignore
    seconds = time.perf_counter() - t0
    loaded = len(store.clusters.index)  # type: ignore[arg-type]
    store.db.conn.rollback()
    store.db.close()
    print(json.dumps({"seconds": seconds, "loaded": loaded,
                      "rss_growth_kib": proc_status_kib("VmRSS") - rss0,
                      "maxrss_kib": proc_status_kib("VmHWM")}))
    return 0


def measure_load(texts: Sequence[str], n: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-dedup-load-") as tmp:
        path = Path(tmp) / "load.db"
        build_load_db(path, texts, n)
        runs = []
        for _ in range(repeat):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--load-worker", str(path)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(),
                                  timeout=WORKER_TIMEOUT, cwd=HERE.parent)
            lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
            if proc.returncode != 0 or not lines:
                return {"articles": n, "error": (proc.stderr or proc.stdout)[-2000:]}
            runs.append(json.loads(lines[-1]))
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {"articles": n, "seconds": median["seconds"],
            "seconds_runs": [r["seconds"] for r in runs], "loaded": median["loaded"],
            "rss_growth_mib": median["rss_growth_kib"] / 1024,
            "peak_rss_mib": median["maxrss_kib"] / 1024}


def run_worker(system: str, corpus_file: Path, order_file: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", system,
           "--corpus-file", str(corpus_file), "--order-file", str(order_file)]
    return run_json_worker(cmd, {"system": system}, WORKER_TIMEOUT)


def unavailable(system: str) -> str | None:
    """Why a system cannot run here (the detector is new: say what is missing), or None."""
    try:
        if system in ("store", "index"):
            from cleaner.dedup import DedupConfig, LSHIndex, MinHasher, tokens  # noqa: F401
        if system == "datasketch":
            import datasketch  # noqa: F401
        if system == "store":
            from store import Store
            if "index" not in inspect.signature(Store).parameters:
                return "Store takes no index= yet"
    except ImportError as exc:
        return f"cannot import: {exc}"
    return None


# ---------------------------------------------------------------------------------------------
# Quality


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_scores(labels: Sequence[int], stories: Sequence[int]) -> dict[str, Any]:
    """Pair precision/recall from the contingency table (predicted cluster x story)."""
    cells = Counter(zip(labels, stories, strict=True))
    tp = sum(pairs(n) for n in cells.values())
    predicted = sum(pairs(n) for n in Counter(labels).values())
    true = sum(pairs(n) for n in Counter(stories).values())
    p = tp / predicted if predicted else 1.0  # nothing claimed: nothing claimed wrongly
    r = tp / true if true else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "true_positive_pairs": tp, "predicted_pairs": predicted, "true_pairs": true,
            "false_pairs": predicted - tp, "predicted_clusters": len(set(labels))}


@dataclass
class Labels:
    """The corpus truth, indexed by doc."""

    corpus: dc.Corpus

    def __post_init__(self) -> None:
        docs = self.corpus.docs
        self.story = [d.story for d in docs]
        self.original: dict[int, int] = {}
        for d in docs:
            if d.kind == dc.ORIGINAL:
                self.original[d.story] = d.idx
        self.shingles = dc.shingles

    def relation(self, a: int, b: int) -> str | None:
        """What two distinct stories share, if it is one of the corpus's hard negatives."""
        sa, sb = self.corpus.stories[a], self.corpus.stories[b]
        if sa.family == b or sb.family == a:
            return "follow-up & its lead's story"
        if sa.template is not None and sa.template == sb.template:
            return "template briefs"
        if sa.body == sb.body:
            return "sibling parts of one body"
        return None

    def closest(self, a: list[int], b: list[int], limit: int = 8) -> tuple[int, int]:
        """The most similar pair across two groups of docs (the first `limit` of each)."""
        return max(((i, j) for i in a[:limit] for j in b[:limit]),
                   key=lambda p: self.similarity(*p)["jaccard"])

    def similarity(self, i: int, j: int) -> dict[str, float]:
        """Exact shingle Jaccard and containment (shorter in longer) of two docs."""
        a = self.shingles(self.corpus.docs[i].text)
        b = self.shingles(self.corpus.docs[j].text)
        inter = len(a & b)
        return {"jaccard": round(inter / len(a | b), 3) if a | b else 1.0,
                "containment": round(inter / min(len(a), len(b)), 3) if a and b else 0.0}


RELATIONS = ("sibling parts of one body", "follow-up & its lead's story", "template briefs",
             "same outlet's house block", "nothing known")


def doc_brief(labels: Labels, i: int) -> dict[str, Any]:
    d = labels.corpus.docs[i]
    return {"doc": i, "story": d.story, "kind": d.kind, "ops": d.ops, "url": d.url,
            "shape": labels.corpus.stories[d.story].shape,
            "start": " ".join(d.text.split())[:110]}


def false_pairs(pred: Sequence[int], labels: Labels) -> tuple[dict[str, int], list[dict]]:
    """False pairs by relation, and up to EXAMPLES examples of each."""
    docs = labels.corpus.docs
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(pred):
        by_cluster[c].append(i)
    counts: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    shown: Counter[str] = Counter()

    def example(rel: str, i: int, j: int) -> None:
        if shown[rel] < EXAMPLES:
            shown[rel] += 1
            examples.append({"relation": rel, **labels.similarity(i, j),
                             "a": doc_brief(labels, i), "b": doc_brief(labels, j)})

    for members in by_cluster.values():
        if len(members) < 2:
            continue
        per_story: dict[int, list[int]] = defaultdict(list)
        for i in members:
            per_story[docs[i].story].append(i)
        if len(per_story) < 2:
            continue
        if len(per_story) > MAX_STORIES_CLASSIFIED:
            counts["(cluster too large to classify)"] += pairs(len(members)) - sum(
                pairs(len(v)) for v in per_story.values())
            continue
        stories = sorted(per_story)
        for x, a in enumerate(stories):
            for b in stories[x + 1:]:
                da, db_ = per_story[a], per_story[b]
                rel = labels.relation(a, b)
                if rel is not None:
                    counts[rel] += len(da) * len(db_)
                    example(rel, *labels.closest(da, db_))
                    continue
                house_a = Counter(docs[i].outlet for i in da if dc.HOUSE in docs[i].ops)
                same = [(i, j) for i in da for j in db_
                        if dc.HOUSE in docs[i].ops and dc.HOUSE in docs[j].ops
                        and docs[i].outlet == docs[j].outlet] if house_a else []
                counts["same outlet's house block"] += len(same)
                counts["nothing known"] += len(da) * len(db_) - len(same)
                if same:
                    example("same outlet's house block", *same[0])
                if len(da) * len(db_) > len(same):
                    example("nothing known", *labels.closest(da, db_))
    return {rel: counts[rel] for rel in (*RELATIONS, *counts) if counts[rel]}, examples


def recall_by(pred: Sequence[int], labels: Labels) -> dict[str, dict[str, Any]]:
    """Per kind (and per story shape, and for docs with a house block): the share of copies in
    their story's original's predicted cluster."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for d in labels.corpus.docs:
        if d.kind == dc.ORIGINAL:
            continue
        ok = pred[d.idx] == pred[labels.original[d.story]]
        groups = [f"kind:{d.kind}", f"shape:{labels.corpus.stories[d.story].shape}", "all"]
        if dc.HOUSE in d.ops:
            groups.append("with house block")
        for g in groups:
            totals[g] += 1
            hits[g] += ok
    return {g: {"copies": totals[g], "recalled": hits[g], "recall": hits[g] / totals[g]}
            for g in totals}


def missed_examples(pred: Sequence[int], labels: Labels) -> list[dict[str, Any]]:
    out = []
    shown: Counter[str] = Counter()
    for d in labels.corpus.docs:
        if d.kind == dc.ORIGINAL or shown[d.kind] >= EXAMPLES:
            continue
        orig = labels.original[d.story]
        if pred[d.idx] != pred[orig]:
            shown[d.kind] += 1
            mine = [i for i, c in enumerate(pred) if c == pred[d.idx]]
            theirs = sum(1 for c in pred if c == pred[orig])
            own = sum(1 for i in mine if labels.story[i] == d.story)
            out.append({"kind": d.kind, "ops": d.ops, **labels.similarity(d.idx, orig),
                        "its_cluster": {"docs": len(mine), "of_its_story": own},
                        "original_cluster_docs": theirs,
                        "story_docs": labels.story.count(d.story),
                        "copy": doc_brief(labels, d.idx), "original": doc_brief(labels, orig)})
    return out


def kind_similarity(labels: Labels, rng: Random, per_kind: int = 400) -> dict[str, dict]:
    """Median and 10th percentile of the exact Jaccard of copies to their original, per kind
    (a sample of up to `per_kind` copies each): how hard each kind is."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for d in labels.corpus.docs:
        if d.kind != dc.ORIGINAL:
            by_kind[d.kind].append(d.idx)
    out = {}
    for kind, idxs in sorted(by_kind.items()):
        sample = rng.sample(idxs, min(per_kind, len(idxs)))
        sims = [labels.similarity(i, labels.original[labels.corpus.docs[i].story])
                for i in sample]
        js = sorted(s["jaccard"] for s in sims)
        cs = sorted(s["containment"] for s in sims)
        out[kind] = {"jaccard_median": statistics.median(js), "jaccard_p10": js[len(js) // 10],
                     "containment_median": statistics.median(cs), "sampled": len(js)}
    return out


def negative_similarity(labels: Labels, rng: Random, per_relation: int = 300) -> dict[str, dict]:
    """How hard the hard negatives are: exact Jaccard and containment of sampled pairs of
    different stories per relation (stories by their original doc; house blocks by two docs of
    one outlet)."""
    corpus, orig = labels.corpus, labels.original
    by_body: dict[str, list[int]] = defaultdict(list)
    by_template: dict[int, list[int]] = defaultdict(list)
    for sid, i in orig.items():
        st = corpus.stories[sid]
        if st.template is not None:
            by_template[st.template].append(i)
        else:
            by_body[st.body].append(i)
    by_outlet: dict[int, list[int]] = defaultdict(list)
    for d in corpus.docs:
        if dc.HOUSE in d.ops:
            by_outlet[d.outlet].append(d.idx)
    candidates = {
        "sibling parts of one body": [p for g in by_body.values() for p in zip(g, g[1:])],
        "follow-up & its lead's story": [
            (orig[s.id], orig[s.family]) for s in corpus.stories.values()
            if s.family is not None and s.id in orig and s.family in orig],
        "template briefs": [p for g in by_template.values() for p in zip(g, g[1:])],
        "same outlet's house block": [
            (a, b) for g in by_outlet.values() for a, b in zip(g, g[1:])
            if labels.story[a] != labels.story[b]],
    }
    out = {}
    for rel, cands in candidates.items():
        if not cands:
            continue
        sims = [labels.similarity(a, b) for a, b in rng.sample(cands, min(per_relation,
                                                                          len(cands)))]
        js = sorted(x["jaccard"] for x in sims)
        cs = sorted(x["containment"] for x in sims)
        out[rel] = {"pairs_sampled": len(sims), "jaccard_median": statistics.median(js),
                    "jaccard_p99": js[min(len(js) - 1, int(0.99 * len(js)))],
                    "jaccard_max": js[-1], "containment_median": statistics.median(cs),
                    "containment_max": cs[-1]}
    return out


# ---------------------------------------------------------------------------------------------
# Report


def summarise(system: str, runs: list[dict[str, Any]], labels: Labels) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    row: dict[str, Any] = {"system": system, "runs": len(runs), "good_runs": len(good)}
    if not good:
        row["error"] = runs[0].get("error") if runs else "not run"
        return row
    spread, median_run = rate_spread(good, "docs", "docs")
    row.update(
        spread, cpu_s=median_run["cpu_s"], wall_s=median_run["wall_s"],
        peak_rss_mib=median_run["maxrss_kib"] / 1024,
        rss_growth_mib=(median_run["rss_end_kib"] - median_run["rss_start_kib"]) / 1024,
        extra=good[0]["extra"],
    )
    pred = good[0]["labels"]
    row.update(pair_scores(pred, labels.story))
    row["recall_by"] = recall_by(pred, labels)
    row["false_pairs_by_relation"], row["false_pair_examples"] = false_pairs(pred, labels)
    row["missed_examples"] = missed_examples(pred, labels)
    # the same clustering in every run? (a detector should not depend on anything but input)
    same = [r["labels"] == pred for r in good[1:]]
    row["runs_agree"] = all(same)
    return row


def _fmt_rate(r: dict[str, Any], base: dict[str, Any] | None) -> str:
    ratio = f"{r['docs_per_s'] / base['docs_per_s']:.2f}x" if base else "-"
    spread = f"({r['docs_per_s_min']:.0f}-{r['docs_per_s_max']:.0f})"
    return f"{r['docs_per_s']:>8.0f} {spread:>13} {ratio:>8}"


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    return {"precision": r["precision"] >= TARGET_PRECISION,
            "recall": r["recall"] >= TARGET_RECALL, "speed": r["docs_per_s"] >= TARGET_RATE}


def print_report(rows: list[dict[str, Any]], kind_sims: dict[str, dict], ndocs: int) -> None:
    base = next((r for r in rows if r["system"] == BASELINE and "docs_per_s" in r), None)
    head = (f"{'system':<11} {'precision':>9} {'recall':>7} {'F1':>6} {'clusters':>8} "
            f"{'false pairs':>11} {'docs/s':>8} {'(min-max)':>13} {'vs ' + BASELINE:>8} "
            f"{'CPU s':>6} {'peak MiB':>8} {'+MiB':>6}")
    print(f"\n{ndocs:,} docs, one at a time; median of the runs for speed, first run for "
          "quality\n" + head + "\n" + "-" * len(head))
    for r in rows:
        if "docs_per_s" not in r:
            print(f"{r['system']:<11} no good run: {r.get('error', '')[:200]}")
            continue
        print(f"{r['system']:<11} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>6.3f} "
              f"{r['predicted_clusters']:>8,} {r['false_pairs']:>11,} {_fmt_rate(r, base)} "
              f"{r['cpu_s']:>6.2f} {r['peak_rss_mib']:>8.0f} {r['rss_growth_mib']:>6.0f}")
    good = [r for r in rows if "docs_per_s" in r]
    if not good:
        return
    print(f"vs {BASELINE}: docs/s ratio to the baseline measured in this run. CPU s: the stream's "
          "CPU (median run); peak MiB: peak RSS of the process during the stream (corpus and "
          "inputs included); +MiB: RSS growth over the stream")

    kinds = [k for k in (dc.KINDS[0], dc.HOUSE, *dc.KINDS[1:])
             if f"kind:{k}" in good[0]["recall_by"]]
    groups = ([f"kind:{k}" for k in kinds] + ["with house block"]
              + [f"shape:{s}" for s in ("whole", "part", "follow-up", "template")] + ["all"])
    names = [r["system"] for r in good]
    print("\nrecall per variant kind: share of the copies that ended in their original's "
          "cluster\n(J: exact shingle Jaccard of copy and original, median and 10th percentile)")
    head = f"{'':<18} {'copies':>6} {'J med':>6} {'J p10':>6}" + "".join(f" {n:>10}" for n in names)
    print(head + "\n" + "-" * len(head))
    for g in groups:
        if g not in good[0]["recall_by"]:
            continue
        label = g.split(":", 1)[1] if g.startswith("kind:") else g.replace("shape:", "story: ")
        sim = kind_sims.get(g.split(":", 1)[1], {}) if g.startswith("kind:") else {}
        js = (f" {sim['jaccard_median']:>6.2f} {sim['jaccard_p10']:>6.2f}" if sim
              else f" {'':>6} {'':>6}")
        print(f"{label:<18} {good[0]['recall_by'][g]['copies']:>6,}{js}"
              + "".join(f" {r['recall_by'][g]['recall']:>10.4f}" for r in good))

    relations = [rel for rel in (*RELATIONS, "(cluster too large to classify)")
                 if any(r["false_pairs_by_relation"].get(rel) for r in good)]
    print("\nfalse pairs (docs of different stories put together) by what the stories share")
    head = f"{'':<30}" + "".join(f" {n:>10}" for n in names)
    print(head + "\n" + "-" * len(head))
    for rel in relations:
        print(f"{rel:<30}" + "".join(f" {r['false_pairs_by_relation'].get(rel, 0):>10,}"
                                     for r in good))
    if not relations:
        print(f"{'(none)':<30}")

    print(f"\ntargets: precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}, "
          f">= {TARGET_RATE:,.0f} docs/s on one core")
    for r in good:
        v = verdicts(r)
        word = "PASS" if all(v.values()) else "FAIL"
        parts = ", ".join(f"{k} {'ok' if ok else 'FAIL'}" for k, ok in v.items())
        agree = "" if r["runs_agree"] else "  (runs clustered differently!)"
        print(f"  {r['system']:<11} {word}  ({parts}){agree}")

    for r in good:
        if r["system"] not in ("store", "index"):
            continue
        if r["false_pair_examples"]:
            print(f"\n{r['system']}: false pairs (first {EXAMPLES} of each relation)")
            for ex in r["false_pair_examples"]:
                print(f"  [{ex['relation']}] J={ex['jaccard']:.2f} C={ex['containment']:.2f}  "
                      f"doc {ex['a']['doc']} ({ex['a']['kind']}) ~ doc {ex['b']['doc']} "
                      f"({ex['b']['kind']})\n    a: {ex['a']['start'][:100]}\n"
                      f"    b: {ex['b']['start'][:100]}")
        if r["missed_examples"]:
            print(f"\n{r['system']}: copies not in their original's cluster (first {EXAMPLES} "
                  "of each kind)")
            for ex in r["missed_examples"]:
                where = ex["its_cluster"]
                print(f"  [{ex['kind']} {'+'.join(ex['ops'])}] J={ex['jaccard']:.2f} "
                      f"C={ex['containment']:.2f}  doc {ex['copy']['doc']} vs original "
                      f"{ex['original']['doc']}; in a cluster of {where['docs']} "
                      f"({where['of_its_story']} of its story), original's has "
                      f"{ex['original_cluster_docs']}, story {ex['story_docs']}\n"
                      f"    {ex['copy']['start'][:100]}")


# ---------------------------------------------------------------------------------------------
# Command line


def parse_systems(value: str) -> list[str]:
    return parse_choices(value, SYSTEMS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=dc.DEFAULT_DOCS,
                        help=f"documents in the corpus (default {dc.DEFAULT_DOCS:,})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each system (3)")
    parser.add_argument("--seed", type=int, default=dc.DEFAULT_SEED,
                        help="corpus and stream-order seed")
    parser.add_argument("--systems", type=parse_systems, default=list(SYSTEMS),
                        help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--data", type=Path, default=dc.DEFAULT_DATA,
                        help="benchmark data directory (default ../shared/bench)")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_OUT, help="results JSON")
    parser.add_argument("--load-articles", type=int, default=100_000, metavar="N",
                        help="also time loading the stored signatures of N articles when a "
                             "run starts (default 100,000; 0: skip)")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--load-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--order-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.corpus_file, args.order_file)
    if args.load_worker:
        return load_worker(args.load_worker)
    if args.docs < 2 or args.repeat < 1:
        parser.error("--docs must be at least 2 and --repeat at least 1")

    skipped = {s: why for s in args.systems if (why := unavailable(s))}
    systems = [s for s in args.systems if s not in skipped]
    for s, why in skipped.items():
        print(f"skipped {s}: {why}")
    if not systems:
        print("no system can run")
        return 1

    t0 = time.perf_counter()
    try:
        sources = dc.load_sources(args.data)
    except dc.DataMissing as exc:
        print(f"benchmark data not found: {exc}\nIt lives in ../shared/bench beside the clone, "
              "on the team's machines only (--data DIR if it is elsewhere): bench-dedup cannot "
              "run here.")
        return 0
    corpus = dc.build_corpus(sources, args.docs, args.seed)
    stats = corpus.stats()
    print(f"corpus built in {time.perf_counter() - t0:.1f} s:")
    dc.print_stats(stats)
    labels = Labels(corpus)
    kind_sims = kind_similarity(labels, Random(args.seed))
    negatives = negative_similarity(labels, Random(args.seed))
    print("  hard negatives, exact Jaccard (median / p99 / max) and containment (max) of "
          "sampled pairs:")
    for rel, x in negatives.items():
        print(f"    {rel:<30} J {x['jaccard_median']:.3f} / {x['jaccard_p99']:.3f} / "
              f"{x['jaccard_max']:.3f}   C max {x['containment_max']:.3f}  "
              f"({x['pairs_sampled']} pairs)")

    order = list(range(len(corpus.docs)))
    Random(args.seed + 1).shuffle(order)
    names = {o.id: o.name for o in corpus.outlets}
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        corpus_file, order_file = Path(tmp) / "docs.json", Path(tmp) / "order.json"
        corpus_file.write_text(json.dumps([
            {"url": d.url, "title": d.title, "date": d.date, "text": d.text,
             "word_count": d.word_count, "content_hash": d.content_hash,
             "sitename": names[d.outlet]} for d in corpus.docs], ensure_ascii=False),
            encoding="utf-8")
        order_file.write_text(json.dumps(order))
        for rep in range(args.repeat):
            for system in systems[rep % len(systems):] + systems[: rep % len(systems)]:
                result = run_worker(system, corpus_file, order_file)
                runs[system].append(result)
                if "error" in result:
                    print(f"  run {rep + 1}/{args.repeat} {system:<11} FAILED: {result['error']}",
                          flush=True)
                else:
                    print(f"  run {rep + 1}/{args.repeat} {system:<11} {result['docs']:,} docs "
                          f"in {result['wall_s']:.2f} s ({result['docs'] / result['wall_s']:,.0f}"
                          f" docs/s, CPU {result['cpu_s']:.2f} s, peak "
                          f"{result['maxrss_kib'] / 1024:.0f} MiB)", flush=True)

    rows = [summarise(s, runs[s], labels) for s in systems]
    print_report(rows, kind_sims, len(corpus.docs))
    load = None
    if args.load_articles > 0:
        load = measure_load([d.text for d in corpus.docs], args.load_articles, args.repeat)
        if "error" in load:
            print(f"\nloading {args.load_articles:,} stored signatures FAILED: {load['error']}")
        else:
            print(f"\nstarting a run on {load['articles']:,} stored articles: signatures "
                  f"loaded in {load['seconds']:.2f} s (median of {args.repeat}), index "
                  f"+{load['rss_growth_mib']:.0f} MiB, peak RSS {load['peak_rss_mib']:.0f} MiB")

    base = next((r for r in rows if r["system"] == BASELINE and "docs_per_s" in r), None)
    for r in rows:
        if "docs_per_s" in r:
            r["vs_baseline_docs_per_s"] = r["docs_per_s"] / base["docs_per_s"] if base else None
            r["targets"] = verdicts(r)
    out = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(("numpy", "datasketch", "sqlite-utils"),
                             sqlite=sqlite3.sqlite_version),
        "git": git_state(),
        "options": {"docs": args.docs, "repeat": args.repeat, "seed": args.seed,
                    "systems": args.systems},
        "skipped": skipped,
        "baseline": BASELINE,
        "targets": {"precision": TARGET_PRECISION, "recall": TARGET_RECALL,
                    "docs_per_s": TARGET_RATE},
        "corpus": stats,
        "copy_similarity_by_kind": kind_sims,
        "hard_negative_similarity": negatives,
        "systems": {r["system"]: r for r in rows},
        "load": load,
        "runs": {s: [{k: v for k, v in run.items() if k != "labels"} for run in rs]
                 for s, rs in runs.items()},
    }
    write_json(args.json_out, out)
    print(f"\nresults written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
