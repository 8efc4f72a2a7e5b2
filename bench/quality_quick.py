"""Quick quality check of the cleaner against trafilatura on the shared benchmarks.

Reads ../shared/bench (not part of a user's clone). Issue 3 turns this into `make bench-quality`.
    python bench/quality_quick.py [asb|eval|both]
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

from cleaner import Cleaner
from pipeline.records import Page

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
_TOK = re.compile(r"\w+")


def shingles(text: str) -> Counter:
    toks = _TOK.findall(text or "")
    if not toks:
        return Counter()
    if len(toks) < 4:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + 4]) for i in range(len(toks) - 3))


def score(pred: str, gold: str) -> tuple[float | None, float | None]:
    p, g = shingles(pred), shingles(gold)
    tp = sum((p & g).values())
    fp = sum(p.values()) - tp
    fn = sum(g.values()) - tp
    prec = tp / (tp + fp) if p else None
    rec = tp / (tp + fn) if g else None
    return prec, rec


def ours(html: str, url: str) -> str:
    body = html.encode("utf-8")
    page = Page(url=url, final_url=url, status=200, content_type="text/html", body=body,
                encoding="utf-8", bytes=len(body))
    r = Cleaner().clean(page)
    return r.article.text if r.article else ""


def trafi(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


SYSTEMS = {"cleaner": ours, "trafilatura": trafi}


def asb() -> None:
    root = SHARED / "asb-dev"
    gt = json.loads((root / "ground-truth.json").read_text())
    res = {name: ([], [], []) for name in SYSTEMS}
    per_page = {}
    for pid, item in gt.items():
        html = gzip.decompress((root / "html" / f"{pid}.html.gz").read_bytes()).decode("utf-8", "replace")
        for name, fn in SYSTEMS.items():
            t = time.perf_counter()
            out = fn(html, item["url"])
            res[name][2].append((time.perf_counter() - t) * 1000)
            p, r = score(out, item["articleBody"])
            if p is not None:
                res[name][0].append(p)
            if r is not None:
                res[name][1].append(r)
            per_page.setdefault(pid, {})[name] = (p or 0, r or 0)
    base_ms = statistics.median(res["trafilatura"][2])
    for name, (ps, rs, ms) in res.items():
        P, R = statistics.mean(ps), statistics.mean(rs)
        med = statistics.median(ms)
        print(f"asb {name:12s} P={P:.3f} R={R:.3f} F1={2*P*R/(P+R):.3f} "
              f"median ms/page={med:.1f} ({med / base_ms:.2f}x trafilatura, same run)")
    worse = sorted(per_page.items(), key=lambda kv: (sum(kv[1]["cleaner"]) - sum(kv[1]["trafilatura"])))
    for pid, v in worse[:8]:
        print("  ", pid[:12], gt[pid]["url"][:70], v)


def evalset() -> None:
    root = SHARED / "trafilatura-eval"
    data = json.loads((root / "evaldata.json").read_text())
    for name, fn in SYSTEMS.items():
        tp = fn_ = fp = tn = 0
        for url, item in data.items():
            path = root / "html" / (item["file"] + ".gz")
            if not path.exists():
                path = root / "html" / item["file"]
            if not path.exists():
                continue
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            out = fn(raw.decode("utf-8", "replace"), url)
            for s in item["with"]:
                if s in out:
                    tp += 1
                else:
                    fn_ += 1
            for s in item["without"]:
                if s in out:
                    fp += 1
                else:
                    tn += 1
        P, R = tp / (tp + fp), tp / (tp + fn_)
        print(f"eval {name:12s} P={P:.3f} R={R:.3f} F1={2*P*R/(P+R):.3f}")


if __name__ == "__main__":
    if not SHARED.exists():
        sys.exit(f"benchmark data not found at {SHARED} (it lives in ../shared, beside the clone)")
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    if which in ("asb", "both"):
        asb()
    if which in ("eval", "both"):
        evalset()
