"""Extraction quality and speed of the cleaner and trafilatura on three labelled sets, one run.

    make bench-quality                                  # all three sets, default systems
    .venv/bin/python bench/quality.py --set asb,news --limit 15        # a quick look
    .venv/bin/python bench/quality.py --systems cleaner --set news     # no baseline: "-"
    .venv/bin/python bench/quality.py --compare before.json            # run, then diff
    .venv/bin/python bench/quality.py --compare before.json after.json # diff two runs only

The data lives in ../shared/bench beside the clone (team machines only; `--data` overrides),
so a user's clone has none and the script stops with a message naming the missing sets.

Sets (`--set`: asb, eval, news, a comma list of them, or all; `--limit N` takes the first N
pages of each, in key order). Metrics are in bench/quality_sets.py:
- asb-dev (83 article pages, gold body; its README's metric): word 4-gram shingles over `\\w+`
  tokens as multisets; per page P = tp/(tp+fp), R = tp/(tp+fn); P averaged over pages with a
  prediction, R over pages with gold; F1 = harmonic mean of the two means.
- trafilatura-eval (945 many-language pages; snippets that must / must not be extracted): a
  "with" snippet found verbatim is a tp, else a fn; a "without" snippet found is a fp; counts
  pooled over pages.
- news-golden (144 news pages of 102 publishers; its README and score.py): the shingle metric
  against the gold sections, the standfirst neutral (its shingles are neither required nor
  counted as fp); title (equal after folding case, quotes, soft hyphens, whitespace), date
  (same day as the gold's first ten characters; share of all pages) and authors (F1 of the
  folded name sets, mean over pages whose gold names authors). Same figures as score.py.

Systems (`--systems`, comma list; default the first three):
- `cleaner`: our Cleaner, given the page URL. Text, title, date; authors = author split on ";".
  A "clean.error" or "clean.timeout" result counts as an error (empty prediction).
- `trafilatura`: bare_extraction(html, url=url, with_metadata=True, include_comments=False),
  the BASELINE: ms ratios, lost pages and trailing pages are taken against it.
- `trafilatura-fast`: the same with fast=True (no readability/jusText fallbacks).
- extras: `cleaner-fast` (CleanConfig(fast=True); metadata too), and, text only,
  `trafilatura.extract` (extract() with its defaults, comments included), `readability-lxml`
  (summary(html_partial=True) flattened by html_to_text) and `jusText` (English stoplist on
  asb-dev, the page's <html lang> elsewhere).

Every page is read and decoded once (UTF-8, errors replaced, outside the timed region); all
systems then run on it back to back, in an order that rotates from page to page, so machine
noise hits them equally. Each page is extracted `--repeat` times by every system (3 on asb-dev
and news-golden; trafilatura-eval `--eval-repeat`, 1) and the fastest time kept, as timeit does;
the tables give the median of those ms/page and its ratio to trafilatura's. A system that raises
yields an empty prediction for the page, counted under "errors".

A page is LOST for a system when its page recall (shingle sets: tp/(tp+fn); trafilatura-eval:
the share of the page's "with" snippets found) is below 0.8 while trafilatura's is >= 0.95.

Output (stdout, and everything in bench/results/quality.json, `--out` to change):
1. A table per set: F1, P, R, lost pages, ms/page, ratio, errors (news-golden: title, date,
   authors too); then the cleaner against trafilatura on each set, with the targets of issue 13.
2. Per set, the cleaner's lost pages and the pages where its page F1 trails trafilatura's by
   more than 0.05: both P/R/F1, the cleaner's drops (reason -> count, largest first: the rule
   responsible), its outcome when it kept no article or the words its post-pass and collapse
   removed, up to 3 lines only the cleaner has (trafilatura-eval: "without" snippets it leaks)
   and up to 3 gold sentences it misses ("with" snippets), each tagged with whether
   trafilatura does better. When the page scores differently with both texts NFC-normalized
   (a page served decomposed: the metric splits words at combining marks, the cleaner
   composes them), that score is shown too; the tables keep the sets' own metric.
3. news-golden: the pages where the cleaner's title, date or authors are wrong (gold vs ours).
The JSON also keeps every page's P/R/F1 (and metadata hits) per system, git state, versions
and options. `--compare FILE` prints, per set and system, the change in F1/P/R/lost pages (and
metadata) since FILE, and the pages whose cleaner F1 moved by more than 0.02.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import justext
import lxml.html
import trafilatura
from common import git_state, versions
from lxml import etree
from quality_report import (
    BASELINE,
    evaluate,
    print_compare,
    print_metadata_misses,
    print_set,
    print_summary,
    print_trailing,
)
from quality_sets import (
    ASB,
    EVAL,
    NEWS,
    SET_NAMES,
    Doc,
    Item,
    Prediction,
    Run,
    load_items,
    read_doc,
    split_authors,
)

from cleaner import CleanConfig, Cleaner
from records import Page

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "bench"
DEFAULT_OUT = HERE / "results" / "quality.json"
ALL_SETS = (ASB, EVAL, NEWS)

# ---------------------------------------------------------------------------------------------
# Systems: each maps a Doc to a Prediction and may raise.

System = Callable[[Doc], Prediction]
_CLEANER = Cleaner()
_FAST_CLEANER = Cleaner(CleanConfig(fast=True))


def run_cleaner(doc: Doc, cleaner: Cleaner = _CLEANER) -> Prediction:
    url = doc.url or doc.key  # the cleaner only uses http(s) URLs; a bare key just labels it
    page = Page(url=url, final_url=url, status=200, content_type="text/html", body=doc.body,
                encoding="utf-8", bytes=len(doc.body))
    result = cleaner.clean(page)
    if result.outcome in ("clean.error", "clean.timeout"):  # the stage catches its own
        raise RuntimeError(result.error)
    a = result.article
    if a is None:  # clean.no_content: nothing kept, but the drops say what was cut
        return Prediction(authors=[], drops=dict(result.drops),
                          note=f"{result.outcome}: {result.error}")
    cut = getattr(a, "removed_words", 0)  # the words the post-pass and collapse removed
    return Prediction(a.text, a.title, a.date, split_authors(a.author), dict(result.drops),
                      note=f"removed_words {cut}" if cut else None)


def run_cleaner_fast(doc: Doc) -> Prediction:
    return run_cleaner(doc, _FAST_CLEANER)


def _bare(doc: Doc, fast: bool) -> Prediction:
    d = trafilatura.bare_extraction(doc.html, url=doc.url, with_metadata=True,
                                    include_comments=False, fast=fast)
    if d is None:
        return Prediction(authors=[])
    return Prediction(d.text or "", d.title, d.date, split_authors(d.author))


def run_trafilatura(doc: Doc) -> Prediction:
    return _bare(doc, fast=False)


def run_trafilatura_fast(doc: Doc) -> Prediction:
    return _bare(doc, fast=True)


def run_trafilatura_extract(doc: Doc) -> Prediction:
    return Prediction(trafilatura.extract(doc.html, url=doc.url) or "")


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


def run_readability(doc: Doc) -> Prediction:
    """readability-lxml's summary, as text.

    summary(html_partial=True) returns the article fragment itself. The default wraps it in a
    new <html><body>, and on one asb-dev page (35b158918c67) that wrapped summary is empty.
    """
    import readability  # a bench extra, imported only when the system is chosen

    summary = readability.Document(doc.html, url=doc.url).summary(html_partial=True)
    return Prediction(html_to_text(summary))


@cache
def _stoplist(name: str) -> frozenset[str]:
    return justext.get_stoplist(name)


def run_justext(doc: Doc) -> Prediction:
    paragraphs = justext.justext(doc.body, _stoplist(doc.stoplist), encoding="utf-8")
    return Prediction("\n".join(p.text for p in paragraphs if not p.is_boilerplate))


SYSTEMS: dict[str, System] = {
    "cleaner": run_cleaner,
    BASELINE: run_trafilatura,
    "trafilatura-fast": run_trafilatura_fast,
    "cleaner-fast": run_cleaner_fast,
    "trafilatura.extract": run_trafilatura_extract,
    "readability-lxml": run_readability,
    "jusText": run_justext,
}
DEFAULT_SYSTEMS = ("cleaner", BASELINE, "trafilatura-fast")
WITH_META = frozenset({"cleaner", "cleaner-fast", BASELINE, "trafilatura-fast"})

# ---------------------------------------------------------------------------------------------
# Running


def timed(fn: System, doc: Doc) -> tuple[Prediction, float, str | None]:
    """(prediction, ms, error): a raising system gives an empty prediction and the error."""
    start = time.perf_counter()
    try:
        pred, error = fn(doc), None
    except Exception as exc:  # one page must never stop the run
        pred, error = Prediction(), f"{type(exc).__name__}: {exc}"
    return pred, (time.perf_counter() - start) * 1000, error


def run_all(set_name: str, items: list[Item], systems: dict[str, System],
            repeat: int = 1) -> dict[str, Run]:
    """Every system on every page, interleaved per page in an order rotating by page.

    With `repeat` > 1 every system extracts each page that many times (the rounds interleaved
    too) and the fastest time is kept, as timeit does: the shortest time is the one least
    disturbed by whatever else the machine was doing. The prediction is the first round's.
    """
    names = list(systems)
    runs = {name: Run() for name in names}
    stoplists = justext.get_stoplists()
    for i, item in enumerate(items):
        doc = read_doc(set_name, item, stoplists)
        order = names[i % len(names):] + names[: i % len(names)]
        best: dict[str, float] = {}
        for round_ in range(repeat):
            for name in order:
                pred, ms, error = timed(systems[name], doc)
                best[name] = min(ms, best.get(name, ms))
                if round_ == 0:
                    runs[name].preds[doc.key] = pred
                    if error is not None:
                        runs[name].errors[doc.key] = error[:300]
        for name in names:
            runs[name].ms.append(best[name])
        if (i + 1) % 100 == 0 or i + 1 == len(items):
            print(f"  {set_name}: {i + 1}/{len(items)} pages", file=sys.stderr, flush=True)
    return runs


# ---------------------------------------------------------------------------------------------
# Command line


def parse_systems(value: str) -> dict[str, System]:
    by_lower = {name.lower(): name for name in SYSTEMS}
    chosen = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        if part.lower() not in by_lower:
            raise argparse.ArgumentTypeError(
                f"unknown system {part!r}; choose from: {', '.join(SYSTEMS)}")
        name = by_lower[part.lower()]
        if name == "readability-lxml" and importlib.util.find_spec("readability") is None:
            raise argparse.ArgumentTypeError(
                "readability-lxml is not installed (make bench-quality installs the bench "
                "extras: pip install -e '.[bench]')")
        chosen[name] = SYSTEMS[name]
    if not chosen:
        raise argparse.ArgumentTypeError("no system named")
    return chosen


def parse_sets(value: str) -> list[str]:
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    if parts == ["all"]:
        return list(ALL_SETS)
    unknown = [p for p in parts if p not in SET_NAMES]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(
            f"unknown set {', '.join(unknown) or '(none)'}; choose from: "
            f"{', '.join(SET_NAMES)} (a comma list) or all")
    return [s for s in ALL_SETS if s in {SET_NAMES[p] for p in parts}]


def positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=parse_sets, default=list(ALL_SETS), dest="sets",
                        help="asb, eval, news, a comma list of them, or all (default: all)")
    parser.add_argument("--systems", type=parse_systems,
                        default={name: SYSTEMS[name] for name in DEFAULT_SYSTEMS},
                        help=f"comma list of: {', '.join(SYSTEMS)} "
                             f"(default: {','.join(DEFAULT_SYSTEMS)})")
    parser.add_argument("--limit", type=positive, default=None, metavar="N",
                        help="only the first N pages of each set (quick run)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, metavar="DIR",
                        help=f"benchmark data directory (default: {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help="results JSON (default: bench/results/quality.json)")
    parser.add_argument("--repeat", type=positive, default=3, metavar="N",
                        help="on asb-dev and news-golden, time each extraction N times and "
                             "keep the fastest (default: 3)")
    parser.add_argument("--eval-repeat", type=positive, default=1, metavar="N",
                        help="the same on trafilatura-eval (default: 1)")
    parser.add_argument("--compare", nargs="+", type=Path, metavar="FILE",
                        help="an earlier quality.json: print what changed since it; with a "
                             "second FILE, compare the two and run nothing")
    args = parser.parse_args(argv)
    if args.compare and len(args.compare) > 2:
        parser.error("--compare takes one or two files")
    return args


def check_data(data: Path, sets: list[str]) -> None:
    missing = [data / s for s in sets if not (data / s).is_dir()]
    if missing:
        sys.exit(f"benchmark data not found: {', '.join(map(str, missing))}\n"
                 "It lives in ../shared/bench beside the clone, on the team's machines only; "
                 "pass --data DIR if it is elsewhere.")


def load_results(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or "systems" not in payload:
            raise ValueError("not a bench/quality.py results file")
        return payload
    except (OSError, ValueError) as exc:
        sys.exit(f"--compare {path}: {exc}")


def write_results(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    earlier = load_results(args.compare[0]) if args.compare else None
    if args.compare and len(args.compare) == 2:
        print_compare(earlier, load_results(args.compare[1]), str(args.compare[0]))
        return
    check_data(args.data, args.sets)
    systems: dict[str, System] = args.systems
    payload: dict[str, Any] = {
        "format": 2,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "git": git_state(),
        "versions": versions(("trafilatura", "readability-lxml", "jusText")),
        "baseline": f"{BASELINE}: bare_extraction(with_metadata=True, include_comments=False)",
        "options": {"sets": args.sets, "systems": list(systems), "limit": args.limit,
                    "repeat": args.repeat, "eval_repeat": args.eval_repeat},
        "pages": {},
        "systems": {name: {} for name in systems},
        "sets": {},
    }
    results, repeats = {}, {}
    for set_name in args.sets:
        items = load_items(set_name, args.data / set_name, args.limit)
        repeats[set_name] = args.eval_repeat if set_name == EVAL else args.repeat
        runs = run_all(set_name, items, systems, repeats[set_name])
        results[set_name] = result = evaluate(set_name, items, runs, WITH_META)
        payload["pages"][set_name] = result["pages"]
        for name, row in result["systems"].items():
            payload["systems"][name][set_name] = row
        payload["sets"][set_name] = {k: v for k, v in result.items() if k != "systems"}
    for set_name, result in results.items():
        print_set(set_name, result, repeats[set_name])
    print_summary(results)
    for set_name, result in results.items():
        if "trailing" in result:
            print_trailing(set_name, result["trailing"])
    if "metadata_misses" in results.get(NEWS, {}):
        print_metadata_misses(results[NEWS]["metadata_misses"])
    write_results(args.out, payload)
    print(f"\nresults written to {args.out}")
    if earlier is not None:
        print_compare(earlier, payload, str(args.compare[0]))


if __name__ == "__main__":
    main()
