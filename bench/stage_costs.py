"""Where the cleaner's CPU goes, stage by stage, on the three shared sets: ms per page, median
and mean (issue 18: make the cost visible after every change).

    .venv/bin/python bench/stage_costs.py              # the three sets (~1 minute)
    .venv/bin/python bench/stage_costs.py --set news   # one set

Each page is cleaned once in this process (cleaner.Cleaner, as bench/quality.py runs it; the
first 20 pages of a set once before, unmeasured, to fill lazy caches), then
signed (cleaner.dedup.MinHasher) and its body packed (store.pages.pack), as the pipeline's
workers do. The stages are timed by wrapping the functions cleaner/stage.py calls, with
time.process_time (CPU of this process), each stage's own time only (a stage that runs inside
another is taken out of it):

  prune       the selectolax pre-pass (cleaner.prune.prune)
  metadata    the page's declared metadata (extract.declared, with_declared)
  extract     trafilatura on the pruned page (extract.extract), its fallbacks, its parse and
              its metadata pass aside
  parse       trafilatura's parse of the page into an lxml tree (load_html)
  traf-meta   trafilatura's metadata pass (extract_metadata: byline search, htmldate), run
              where the page's declarations fall short (extract.declared_enough)
  fallbacks   trafilatura's readability/jusText comparison (compare_extraction, justext_rescue)
  raw         our second extraction of the page as served, when the first missed most of it
              (its parse and metadata pass are in those rows)
  collapse    the repeated-body collapse (repeats.kept_after_repeats)
  post-pass   the paragraph post-pass (boilerplate.post_pass)
  markdown    the `markdown` field (markdown.render)
  other       the rest of cleaning (decoding, headings, the record)
  sign        the MinHash signature of the text
  pack        the page body compressed for the `pages` table

Results go to bench/results/stage_costs.json. Reads ../shared/bench (the team's machines).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

import trafilatura.core
from quality_sets import SET_NAMES, item_page, load_items

import cleaner.extract as extract_module
from cleaner import Cleaner, stage
from cleaner.dedup import MinHasher
from store.pages import pack

SHARED = HERE.parent.parent / "shared" / "bench"
STAGES = ("prune", "metadata", "extract", "parse", "traf-meta", "fallbacks", "raw", "collapse",
          "post-pass", "markdown", "other", "sign", "pack")
WARM_UP = 20  # pages cleaned before measuring a set (lazy imports, regex and locale caches)


class Clock:
    """Own CPU time per stage for one page: nested stages are taken out of their parent."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []  # [start, time of nested stages]

    def wrap(self, name: str | Callable[[], str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = name() if callable(name) else name
            self._stack.append([time.process_time(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, nested = self._stack.pop()
                total = time.process_time() - start
                self.spent[label] += total - nested
                if self._stack:
                    self._stack[-1][1] += total
        return timed


def instrument(clock: Clock) -> Callable[[], None]:
    """Wrap the functions the cleaning stage calls (by the names it imported them under);
    returns what to call before each page (the second extraction of a page is "raw")."""
    calls = {"extract": 0}

    def extract_label() -> str:
        calls["extract"] += 1
        return "extract" if calls["extract"] == 1 else "raw"

    stage.prune = clock.wrap("prune", stage.prune)
    stage.declared = clock.wrap("metadata", stage.declared)
    stage.with_declared = clock.wrap("metadata", stage.with_declared)
    stage.extract = clock.wrap(extract_label, stage.extract)
    stage.kept_after_repeats = clock.wrap("collapse", stage.kept_after_repeats)
    stage.post_pass = clock.wrap("post-pass", stage.post_pass)
    stage.render = clock.wrap("markdown", stage.render)
    # Where trafilatura's metadata pass runs, extract parses the page and runs the pass itself
    # (cleaner.trafmeta); elsewhere trafilatura does both.
    for module in (trafilatura.core, extract_module):
        module.load_html = clock.wrap("parse", module.load_html)
    trafilatura.core.extract_metadata = clock.wrap("traf-meta", trafilatura.core.extract_metadata)
    extract_module.trafilatura_metadata = clock.wrap("traf-meta",
                                                     extract_module.trafilatura_metadata)
    trafilatura.core.compare_extraction = clock.wrap(
        "fallbacks", trafilatura.core.compare_extraction)
    trafilatura.core.justext_rescue = clock.wrap("fallbacks", trafilatura.core.justext_rescue)
    return lambda: calls.update(extract=0)


def measure(set_name: str, cleaner: Cleaner, clock: Clock, next_page: Callable[[], None],
            hasher: MinHasher) -> dict[str, list[float]]:
    """ms per page and stage, for every page of one set."""
    per_stage: dict[str, list[float]] = {name: [] for name in (*STAGES, "total")}
    items = load_items(set_name, SHARED / set_name)
    for item in items[:WARM_UP]:
        cleaner.clean(item_page(item))
    for item in items:
        page = item_page(item)
        body = page.body
        clock.spent.clear()
        next_page()
        started = time.process_time()
        result = cleaner.clean(page)
        cleaning = time.process_time() - started
        clock.spent["other"] = cleaning - sum(clock.spent.values())
        started = time.process_time()
        if result.article is not None:
            hasher(result.article.text)
        clock.spent["sign"] = time.process_time() - started
        started = time.process_time()
        pack(body)
        clock.spent["pack"] = time.process_time() - started
        for name in STAGES:
            per_stage[name].append(1000 * clock.spent.get(name, 0.0))
        per_stage["total"].append(1000 * sum(clock.spent.get(n, 0.0) for n in STAGES))
    return per_stage


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3),
            "mean": round(statistics.mean(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SET_NAMES), action="append",
                        help="a set (asb, eval, news); repeatable; default all three")
    parser.add_argument("--json-out", type=Path, default=HERE / "results" / "stage_costs.json")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"bench/stage_costs.py: {SHARED} is not here (the shared benchmark sets live on "
              "the team's machines): nothing to measure", file=sys.stderr)
        return 0
    clock = Clock()
    next_page = instrument(clock)
    cleaner, hasher = Cleaner(), MinHasher()
    sets = [SET_NAMES[s] for s in args.set] if args.set else list(SET_NAMES.values())
    results: dict[str, Any] = {}
    print(f"{'ms per page (median / mean)':28}" + "".join(f"{s:>22}" for s in sets))
    measured = {s: measure(s, cleaner, clock, next_page, hasher) for s in sets}
    for name in (*STAGES, "total"):
        cells = []
        for s in sets:
            figures = summary(measured[s][name])
            results.setdefault(s, {})[name] = figures
            cells.append(f"{figures['median']:>10.2f} / {figures['mean']:<9.2f}")
        print(f"{name:28}" + "".join(f"{c:>22}" for c in cells))
    for s in sets:
        results[s]["pages"] = len(measured[s]["total"])
    args.json_out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
