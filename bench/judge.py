"""How cleaner/judge.py judges the article pages of the three shared sets: every one of them
should be an "article" (a crawl that judged one a listing or other would not store it).

    .venv/bin/python bench/judge.py                # the three sets, ~1 minute
    .venv/bin/python bench/judge.py --show 20      # and the first 20 pages not judged articles

Each page is judged twice: before cleaning, from its HTML and URL alone (the page's own
paragraphs: what a crawl knows when it decides whether to clean a page or follow its links),
and after, with the cleaner's text (cleaner.Cleaner, as bench/dump_records.py runs it). trafilatura-eval also holds pages that are no articles (home
pages, product and service pages): its "not article" count is not all error. Results go to
bench/results/judge.json. Reads ../shared/bench (the team's machines only).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

from quality_sets import ASB, EVAL, NEWS, item_page, load_items, read_html

from cleaner import Cleaner
from cleaner.judge import ARTICLE, judge, signals

SHARED = HERE.parent.parent / "shared" / "bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", type=int, default=0, help="list pages not judged articles")
    parser.add_argument("--json-out", type=Path, default=HERE / "results" / "judge.json")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"bench/judge.py: {SHARED} is not here (the shared benchmark sets live on the "
              "team's machines): nothing to measure", file=sys.stderr)
        return 0
    cleaner = Cleaner()
    results: dict[str, dict[str, object]] = {}
    for set_name in (ASB, EVAL, NEWS):
        for mode in ("before cleaning", "after cleaning"):
            results.setdefault(mode, {})[set_name] = measure(cleaner, set_name, mode, args.show)
    args.json_out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"results written to {args.json_out}")
    return 0


def measure(cleaner: Cleaner, set_name: str, mode: str, show: int) -> dict[str, object]:
    """The judgements of one set's pages, in one mode."""
    counts: Counter[str] = Counter()
    missed = []
    for item in load_items(set_name, SHARED / set_name):
        html = read_html(item.path)
        url = item.url or item.key
        text = None
        if mode == "after cleaning":
            result = cleaner.clean(item_page(item, html))
            text = result.article.text if result.article is not None else ""
        found = judge(signals(html, url, text))
        counts[found.counter] += 1
        if found.kind != ARTICLE:
            missed.append({"url": url, "judged": found.counter})
    pages = sum(counts.values())
    articles = sum(n for key, n in counts.items() if key.startswith(ARTICLE + "."))
    print(f"{set_name:17} {mode:16} {pages:4} pages  article {articles:4} "
          f"({articles / pages:.1%})  " + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for miss in missed[:show]:
        print(f"    {miss['judged']:18} {miss['url']}")
    return {"pages": pages, "article": articles,
            "share": round(articles / pages, 4) if pages else None,
            "by_reason": dict(sorted(counts.items())), "not_article": missed}


if __name__ == "__main__":
    sys.exit(main())
