"""Extraction quality and speed of the cleaner and other extractors, side by side in one run.

    make bench-quality                                  # all systems, both sets, writes results
    .venv/bin/python bench/quality.py --set asb --limit 10
    .venv/bin/python bench/quality.py --systems 'cleaner,trafilatura include_comments=False'
    .venv/bin/python bench/quality.py --data /elsewhere/shared/bench

The data lives in ../shared/bench beside the clone (team machines only; `--data` overrides),
so a user's clone has none and the script stops with a message saying so.

Systems: `cleaner` (our pipeline), trafilatura with its defaults, trafilatura with
include_comments=False (the baseline the ms ratio is taken against), readability-lxml and jusText.
Every page is read and decoded once (UTF-8, errors replaced, outside the timed region); all
systems then run on it back to back, in an order that rotates from page to page, so machine noise
hits them equally. Systems that take bytes get that decoded text re-encoded as UTF-8 and are told
so. Each call is timed with time.perf_counter; the tables give the median ms/page. A system that
raises on a page (for the cleaner: a "clean.error" result) yields empty text for that page, and
the failures are counted and reported. readability-lxml's summary is taken with
html_partial=True and flattened by `html_to_text`; jusText uses the English stoplist on asb-dev
and the stoplist of the page's <html lang> on trafilatura-eval (`stoplist_for`).

asb-dev (83 pages with a gold article body; metric of its README, see `score_page`):
tokens are the `\\w+` runs of a text, units are word 4-gram shingles counted as a multiset (a
text of 1-3 tokens gives one shorter shingle). Per page tp = shared shingles (min of the counts),
fp = excess predicted, fn = missing gold, each divided by tp+fp+fn. Precision is the mean of
tp/(tp+fp) over pages whose prediction has a shingle, recall the mean of tp/(tp+fn) over pages
whose gold has one, F1 the harmonic mean of those two means, accuracy the share of pages whose
token sequence equals the gold one.

trafilatura-eval (945 pages, snippets that must / must not be extracted; see `count_snippets`):
a "with" snippet found verbatim in the output is a true positive, else a false negative; a
"without" snippet found is a false positive, else a true negative; counts pooled over pages.

The output: both tables on stdout, then the asb-dev pages where the cleaner's per-page F1 trails
the baseline's by more than 0.005, with the lines only the cleaner has and the gold sentences it
misses. Everything is also written to bench/results/quality.json (`--out` to change).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import justext
import lxml.html
import readability
import trafilatura
from lxml import etree

from cleaner import CleanConfig, Cleaner
from pipeline.records import Page

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "bench"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "quality.json"
ASB, EVAL = "asb-dev", "trafilatura-eval"
BASELINE = "trafilatura include_comments=False"
WORSE_MARGIN = 0.005  # per-page F1 gap (cleaner below baseline) that puts a page on the list
SHOW_LINES = 3  # lines / sentences shown per worse page
SHOW_CHARS = 120  # ... each truncated to this many characters

# ---------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class Doc:
    """One benchmark page, read and decoded once; every system runs on this same input."""

    key: str  # asb-dev page id, or the evaldata key
    url: str | None  # the page URL, None when the key is not an http(s) URL
    html: str  # the page decoded as UTF-8, errors replaced
    body: bytes  # `html` re-encoded as UTF-8, for the systems that take bytes
    stoplist: str  # jusText stoplist name


def read_html(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def http_url(key: str) -> str | None:
    return key if key.startswith(("http://", "https://")) else None


def make_doc(key: str, url: str | None, html: str, stoplist: str) -> Doc:
    return Doc(key=key, url=url, html=html, body=html.encode("utf-8"), stoplist=stoplist)


# jusText stoplist per <html lang> primary subtag. Applied to trafilatura-eval only (asb-dev uses
# English, as the benchmark's published jusText figure does). Codes without a jusText stoplist
# (zh, ja, ...) and pages without a lang attribute fall back to English.
JUSTEXT_LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "fi": "Finnish",
    "hu": "Hungarian", "no": "Norwegian_Bokmal", "nb": "Norwegian_Bokmal", "ar": "Arabic",
}
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.IGNORECASE)


def stoplist_for(html: str) -> str:
    """The jusText stoplist for the page's <html lang>, English when unknown or unsupported."""
    match = _HTML_LANG.search(html)
    name = JUSTEXT_LANGUAGES.get(match.group(1).lower(), "English") if match else "English"
    return name if name in justext.get_stoplists() else "English"


def asb_gold(root: Path) -> dict[str, dict[str, str]]:
    return json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))


def asb_docs(root: Path, gold: dict[str, dict[str, str]]) -> Iterator[Doc]:
    for pid, item in gold.items():
        html = read_html(root / "html" / f"{pid}.html.gz")
        yield make_doc(pid, item["url"], html, "English")


def eval_data(root: Path) -> dict[str, dict[str, Any]]:
    return json.loads((root / "evaldata.json").read_text(encoding="utf-8"))


def eval_docs(root: Path, data: dict[str, dict[str, Any]]) -> Iterator[Doc]:
    for key, item in data.items():
        html = read_html(root / "html" / f"{item['file']}.gz")
        yield make_doc(key, http_url(key), html, stoplist_for(html))


# ---------------------------------------------------------------------------------------------
# Systems: each maps a Doc to plain text and may raise.

Extractor = Callable[[Doc], str]
_CLEANER = Cleaner()
_FAST_CLEANER = Cleaner(CleanConfig(fast=True))


def run_cleaner(doc: Doc, cleaner: Cleaner = _CLEANER) -> str:
    url = doc.url or doc.key  # the cleaner only uses http(s) URLs; a bare key just labels it
    page = Page(url=url, final_url=url, status=200, content_type="text/html", body=doc.body,
                encoding="utf-8", bytes=len(doc.body))
    result = cleaner.clean(page)
    if result.outcome == "clean.error":  # the stage catches its own exceptions
        raise RuntimeError(result.error)
    return result.article.text if result.article else ""


def run_cleaner_fast(doc: Doc) -> str:
    """The cleaner with CleanConfig(fast=True): trafilatura without its fallbacks."""
    return run_cleaner(doc, _FAST_CLEANER)


def run_trafilatura(doc: Doc) -> str:
    return trafilatura.extract(doc.html, url=doc.url) or ""


def run_trafilatura_no_comments(doc: Doc) -> str:
    return trafilatura.extract(doc.html, url=doc.url, include_comments=False) or ""


_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table td th tr ul".split()
)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: one line per block element, whitespace collapsed.

    Walks the parsed tree (lxml.html) collecting texts and tails, as text_content() would, with a
    newline at the start and end of every block element; comments are skipped, blank lines
    dropped. (The tree is only read: lxml refuses to re-assign text holding control characters.)
    """
    if not fragment.strip():
        return ""
    parts: list[str] = []
    events = ("start", "end", "comment", "pi")
    for event, el in etree.iterwalk(lxml.html.fromstring(fragment), events=events):
        if event in ("start", "end") and el.tag in _BLOCK_TAGS:
            parts.append("\n")
        if event == "start":
            parts.append(el.text or "")
        else:  # an element's end, or a comment / processing instruction: only the tail counts
            parts.append(el.tail or "")
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def run_readability(doc: Doc) -> str:
    """readability-lxml's summary, as text.

    summary(html_partial=True) returns the article fragment itself. The default wraps it in a
    new <html><body>, and on one asb-dev page (35b158918c67) that wrapped summary is empty.
    """
    return html_to_text(readability.Document(doc.html, url=doc.url).summary(html_partial=True))


@cache
def _stoplist(name: str) -> frozenset[str]:
    return justext.get_stoplist(name)


def run_justext(doc: Doc) -> str:
    paragraphs = justext.justext(doc.body, _stoplist(doc.stoplist), encoding="utf-8")
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


SYSTEMS: dict[str, Extractor] = {
    "cleaner": run_cleaner,
    "cleaner-fast": run_cleaner_fast,
    "trafilatura": run_trafilatura,
    BASELINE: run_trafilatura_no_comments,
    "readability-lxml": run_readability,
    "jusText": run_justext,
}


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Run:
    """One system's outputs on one set: text and time per page, and the failures."""

    texts: dict[str, str] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # page key -> "ExcType: message"

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else 0.0


def timed(fn: Extractor, doc: Doc) -> tuple[str, float, str | None]:
    """(text, ms, error): a raising system gives empty text and the error."""
    start = time.perf_counter()
    try:
        text, error = fn(doc), None
    except Exception as exc:  # one page must never stop the run
        text, error = "", f"{type(exc).__name__}: {exc}"
    return text, (time.perf_counter() - start) * 1000, error


def run_all(label: str, docs: Iterable[Doc], total: int,
            systems: dict[str, Extractor], repeat: int = 1) -> dict[str, Run]:
    """Every system on every page, interleaved per page in an order rotating by page.

    With `repeat` > 1 every system extracts each page that many times (the rounds interleaved
    too) and the fastest time is kept, as timeit does: the shortest time is the one least
    disturbed by whatever else the machine was doing. The text is the first round's.
    """
    names = list(systems)
    runs = {name: Run() for name in names}
    for i, doc in enumerate(docs):
        order = names[i % len(names):] + names[: i % len(names)]
        best: dict[str, float] = {}
        for round_ in range(repeat):
            for name in order:
                text, ms, error = timed(systems[name], doc)
                best[name] = min(ms, best.get(name, ms))
                if round_ == 0:
                    runs[name].texts[doc.key] = text
                    if error is not None:
                        runs[name].errors[doc.key] = error[:300]
        for name in names:
            runs[name].ms.append(best[name])
        if (i + 1) % 100 == 0 or i + 1 == total:
            print(f"  {label}: {i + 1}/{total} pages", file=sys.stderr, flush=True)
    return runs


# ---------------------------------------------------------------------------------------------
# asb-dev metric

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(toks: list[str]) -> Counter[tuple[str, ...]]:
    """Word 4-grams as a multiset; 1-3 tokens give one shorter shingle, none give nothing."""
    if len(toks) < 4:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + 4]) for i in range(len(toks) - 3))


@dataclass(frozen=True)
class PageScore:
    tp: float
    fp: float
    fn: float
    predicted: bool  # the prediction has at least one shingle
    gold: bool  # the gold text has at least one shingle
    exact: bool  # the token sequences are equal

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.gold else None

    @property
    def f1(self) -> float:
        """This page's own F1, 2PR/(P+R) (0 when nothing matches); used for page comparisons."""
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(pred: str, gold: str) -> PageScore:
    """Score one page as the asb-dev README defines it.

    Shingles are word 4-grams over `\\w+` tokens, as multisets: tp = shingles in both (min of
    the counts), fp = predicted beyond that, fn = gold beyond that; all three are divided by
    tp+fp+fn so every page weighs the same (which leaves the page's P and R unchanged).
    """
    pred_toks, gold_toks = tokens(pred), tokens(gold)
    p, g = shingles(pred_toks), shingles(gold_toks)
    tp = sum((p & g).values())
    fp, fn = sum(p.values()) - tp, sum(g.values()) - tp
    total = tp + fp + fn or 1
    return PageScore(tp / total, fp / total, fn / total, predicted=bool(p), gold=bool(g),
                     exact=pred_toks == gold_toks)


def asb_metrics(scores: Iterable[PageScore]) -> dict[str, float]:
    """Set metrics per the asb-dev README.

    precision = mean of per-page tp/(tp+fp) over pages whose prediction has a shingle;
    recall = mean of per-page tp/(tp+fn) over pages whose gold has a shingle;
    F1 = harmonic mean of those two means; accuracy = share of pages with exactly the gold tokens.
    """
    scores = list(scores)
    precisions = [s.precision for s in scores if s.precision is not None]
    recalls = [s.recall for s in scores if s.recall is not None]
    p = statistics.mean(precisions) if precisions else 0.0
    r = statistics.mean(recalls) if recalls else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "accuracy": sum(s.exact for s in scores) / len(scores) if scores else 0.0,
    }


# ---------------------------------------------------------------------------------------------
# trafilatura-eval metric


@dataclass
class SnippetCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, other: SnippetCounts) -> None:
        self.tp, self.fn = self.tp + other.tp, self.fn + other.fn
        self.fp, self.tn = self.fp + other.fp, self.tn + other.tn


def count_snippets(text: str, with_: list[str], without: list[str]) -> SnippetCounts:
    """trafilatura's evaluation for one page: verbatim presence of each snippet in the text."""
    found = sum(s in text for s in with_)
    leaked = sum(s in text for s in without)
    return SnippetCounts(tp=found, fn=len(with_) - found, fp=leaked, tn=len(without) - leaked)


def snippet_metrics(c: SnippetCounts) -> dict[str, float]:
    """Precision, recall, F1 and accuracy of snippet counts pooled over all pages."""
    p = c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0
    r = c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0
    total = c.tp + c.fn + c.fp + c.tn
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "accuracy": (c.tp + c.tn) / total if total else 0.0,
    }


# ---------------------------------------------------------------------------------------------
# Where the cleaner trails the baseline


def _token_string(text: str) -> str:
    """Tokens joined by single spaces, padded, so `in` matches whole-token runs only."""
    return " " + " ".join(tokens(text)) + " "


def _occurrences(haystack: str, text: str) -> int:
    """How many times `text`'s token run occurs in the token string `haystack` (overlaps count)."""
    needle, count = _token_string(text), 0
    at = haystack.find(needle)
    while at >= 0:
        count, at = count + 1, haystack.find(needle, at + 1)
    return count


def _unmatched(units: list[str], haystack: str) -> list[str]:
    """The units with no match in `haystack`, as multisets: a unit's n-th copy needs n matches."""
    seen: Counter[str] = Counter()
    out = []
    for unit in units:
        key = _token_string(unit)
        seen[key] += 1
        if _occurrences(haystack, unit) < seen[key]:
            out.append(unit)
    return out


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOW_CHARS else text[:SHOW_CHARS - 1] + "…"


def gold_sentences(gold: str) -> list[str]:
    parts = (s for line in gold.splitlines() for s in re.split(r"(?<=[.!?…])\s+", line))
    return [s.strip() for s in parts if tokens(s)]


def text_difference(cleaner: str, baseline: str, gold: str) -> dict[str, list[str]]:
    """Up to SHOW_LINES cleaner lines not in the gold, and gold sentences the cleaner misses.

    Matching is on token runs and counts copies (as the shingle metric does): a line the cleaner
    outputs twice but the gold holds once is extra once. Each list puts first what the baseline
    does better (extra lines it does not have, missed sentences it does have) and tags entries.
    """
    gold_ts, base_ts, clean_ts = (_token_string(t) for t in (gold, baseline, cleaner))
    lines = [line for line in cleaner.splitlines() if tokens(line)]
    extra = _unmatched(lines, gold_ts)
    base_lacks = set(_unmatched(extra, base_ts))
    extra.sort(key=lambda line: line not in base_lacks)
    missed = _unmatched(gold_sentences(gold), clean_ts)
    base_misses = set(_unmatched(missed, base_ts))
    missed.sort(key=lambda s: s in base_misses)
    return {
        "cleaner_only_lines": [
            f"[{'only cleaner' if line in base_lacks else 'baseline too'}] {_short(line)}"
            for line in extra[:SHOW_LINES]
        ],
        "gold_missed_by_cleaner": [
            f"[{'baseline misses too' if s in base_misses else 'baseline has it'}] {_short(s)}"
            for s in missed[:SHOW_LINES]
        ],
    }


def _pr(score: PageScore) -> dict[str, float | None]:
    return {"precision": _round(score.precision), "recall": _round(score.recall),
            "f1": _round(score.f1)}


def worse_pages(gold: dict[str, dict[str, str]], runs: dict[str, Run],
                scores: dict[str, dict[str, PageScore]]) -> list[dict[str, Any]]:
    """asb-dev pages where the cleaner's page F1 is below the baseline's by > WORSE_MARGIN."""
    out = []
    for pid, by_system in scores.items():
        ours, base = by_system["cleaner"], by_system[BASELINE]
        if base.f1 - ours.f1 > WORSE_MARGIN:
            out.append({
                "id": pid,
                "url": gold[pid]["url"],
                "f1_gap": _round(base.f1 - ours.f1),
                "cleaner": _pr(ours),
                "baseline": _pr(base),
                **text_difference(runs["cleaner"].texts[pid], runs[BASELINE].texts[pid],
                                  gold[pid]["articleBody"]),
            })
    return sorted(out, key=lambda page: -page["f1_gap"])


# ---------------------------------------------------------------------------------------------
# Report


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def print_table(title: str, rows: list[dict[str, Any]], with_ratio: bool) -> None:
    name_width = max(len("system"), *(len(row["system"]) for row in rows))
    head = f"{'system':<{name_width}}  precision  recall     F1  accuracy  ms/page"
    head += "   ratio" if with_ratio else ""
    print(f"\n{title}\n{head}  errors\n{'-' * (len(head) + 8)}")
    for row in sorted(rows, key=lambda row: -row["f1"]):
        line = (f"{row['system']:<{name_width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  "
                f"{row['f1']:5.3f}  {row['accuracy']:8.3f}  {row['median_ms']:7.1f}")
        if with_ratio:
            ratio = row.get("ms_ratio")
            line += f"  {_fmt(ratio, '5.2f') + 'x' if ratio is not None else '     -'}"
        print(f"{line}  {row['errors']:6d}")


def print_errors(set_name: str, runs: dict[str, Run]) -> None:
    for name, run in runs.items():
        for key, error in list(run.errors.items())[:3]:
            print(f"  {set_name} {name} failed on {key[:40]}: {error[:150]}")


def print_worse(pages: list[dict[str, Any]]) -> None:
    print(f"\n{ASB}: pages where cleaner's F1 is below {BASELINE}'s by more than "
          f"{WORSE_MARGIN} ({len(pages)})")
    for page in pages:
        c, b = page["cleaner"], page["baseline"]
        print(f"\n{page['id'][:12]}  {page['url']}\n"
              f"  cleaner  P={_fmt(c['precision'])} R={_fmt(c['recall'])} F1={_fmt(c['f1'])}   "
              f"baseline P={_fmt(b['precision'])} R={_fmt(b['recall'])} F1={_fmt(b['f1'])}")
        for line in page["cleaner_only_lines"]:
            print(f"  + {line}")
        for line in page["gold_missed_by_cleaner"]:
            print(f"  - {line}")


def system_row(name: str, metrics: dict[str, float], run: Run) -> dict[str, Any]:
    return {"system": name, **metrics, "median_ms": run.median_ms, "errors": len(run.errors)}


@dataclass
class SetResult:
    """One set's results as they go into the JSON."""

    pages: int
    systems: dict[str, dict[str, Any]]
    worse_pages: list[dict[str, Any]] | None = None  # asb-dev, when cleaner and baseline ran
    page_scores: dict[str, dict[str, Any]] | None = None  # asb-dev: per page, per system P/R/F1


def bench_asb(root: Path, systems: dict[str, Extractor], limit: int | None,
              repeat: int = 1) -> SetResult:
    """Run, score and print asb-dev."""
    gold = dict(sorted(asb_gold(root).items())[:limit])
    runs = run_all(ASB, asb_docs(root, gold), len(gold), systems, repeat)
    scores = {pid: {name: score_page(runs[name].texts[pid], item["articleBody"])
                    for name in systems} for pid, item in gold.items()}
    base_ms = runs[BASELINE].median_ms if BASELINE in runs else None
    rows = []
    for name, run in runs.items():
        row = system_row(name, asb_metrics(s[name] for s in scores.values()), run)
        row["ms_ratio"] = run.median_ms / base_ms if base_ms else None
        rows.append(row)
    print_table(f"{ASB} ({len(gold)} pages; ratio = median ms / {BASELINE}'s)", rows, True)
    print_errors(ASB, runs)
    worse = None
    if "cleaner" in systems and BASELINE in systems:
        worse = worse_pages(gold, runs, scores)
    per_page = {pid: {name: _pr(s) for name, s in by_system.items()}
                for pid, by_system in scores.items()}
    return SetResult(len(gold), results_by_system(rows, runs), worse, per_page)


def bench_eval(root: Path, systems: dict[str, Extractor], limit: int | None,
               repeat: int = 1) -> SetResult:
    """Run, score and print trafilatura-eval."""
    data = dict(sorted(eval_data(root).items())[:limit])
    runs = run_all(EVAL, eval_docs(root, data), len(data), systems, repeat)
    rows = []
    for name, run in runs.items():
        counts = SnippetCounts()
        for key, item in data.items():
            counts.add(count_snippets(run.texts[key], item["with"], item["without"]))
        rows.append({**system_row(name, snippet_metrics(counts), run),
                     "counts": vars(counts)})
    print_table(f"{EVAL} ({len(data)} pages; snippet metric)", rows, False)
    print_errors(EVAL, runs)
    return SetResult(len(data), results_by_system(rows, runs))


def results_by_system(rows: list[dict[str, Any]], runs: dict[str, Run]) -> dict[str, Any]:
    out = {}
    for row in rows:
        name = row["system"]
        out[name] = {k: _round(v) if isinstance(v, float) else v
                     for k, v in row.items() if k != "system"}
        out[name]["error_pages"] = runs[name].errors
    return out


def git_state() -> dict[str, Any]:
    """The commit measured and whether the working tree had changes (None outside a repo)."""
    repo = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                                  timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def write_results(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# Command line


def parse_systems(value: str) -> dict[str, Extractor]:
    by_lower = {name.lower(): name for name in SYSTEMS}
    chosen = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        if part.lower() not in by_lower:
            raise argparse.ArgumentTypeError(
                f"unknown system {part!r}; choose from: {', '.join(SYSTEMS)}")
        name = by_lower[part.lower()]
        chosen[name] = SYSTEMS[name]
    if not chosen:
        raise argparse.ArgumentTypeError("no system named")
    return chosen


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("asb", "eval", "both"), default="both",
                        help="which benchmark set(s) to run (default: both)")
    parser.add_argument("--systems", type=parse_systems, default=dict(SYSTEMS),
                        help=f"comma-separated subset of: {', '.join(SYSTEMS)}")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="only the first N pages of each set (quick run)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, metavar="DIR",
                        help=f"benchmark data directory (default: {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help="results JSON (default: bench/results/quality.json)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="time each extraction N times and keep the fastest (default: 3 "
                             "on asb-dev; trafilatura-eval, which reports no ratio, runs once)")
    return parser.parse_args(argv)


def check_data(data: Path, sets: list[str]) -> None:
    missing = [data / s for s in sets if not (data / s).is_dir()]
    if missing:
        sys.exit(f"benchmark data not found: {', '.join(map(str, missing))}\n"
                 "It lives in ../shared/bench beside the clone, on the team's machines only; "
                 "pass --data DIR if it is elsewhere.")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sets = {"asb": [ASB], "eval": [EVAL], "both": [ASB, EVAL]}[args.set]
    check_data(args.data, sets)
    systems: dict[str, Extractor] = args.systems
    payload: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "git": git_state(),
        "versions": {pkg: version(pkg) for pkg in ("trafilatura", "readability-lxml", "jusText")},
        "baseline": BASELINE,
        "options": {"sets": sets, "systems": list(systems), "limit": args.limit,
                    "repeat": args.repeat},
        "pages": {},
        "systems": {name: {} for name in systems},
    }
    runners = {ASB: bench_asb, EVAL: bench_eval}
    worse = None
    for set_name in sets:
        repeat = args.repeat if set_name == ASB else 1
        result = runners[set_name](args.data / set_name, systems, args.limit, repeat)
        payload["pages"][set_name] = result.pages
        for name, metrics in result.systems.items():
            payload["systems"][name][set_name] = metrics
        if set_name == ASB:
            worse = result.worse_pages
            payload["worse_pages"] = worse
            payload["asb_page_scores"] = result.page_scores
    if worse is not None:
        print_worse(worse)
    write_results(args.out, payload)
    print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main()
