"""The cleaner's output on every page of the three shared sets, one JSON line per page, for
diffing two versions of the code (a restructuring must leave it identical).

    .venv/bin/python bench/dump_records.py > /tmp/after.jsonl
    SRC=/tmp/wt-before .venv/bin/python bench/dump_records.py > /tmp/before.jsonl
    diff /tmp/before.jsonl /tmp/after.jsonl && echo identical

`SRC`: the checkout whose cleaner runs (default: this one); the pages are read here, the same
way for both. Each line: set, key, outcome, error, drops and every field of the Article
(`fetched_at` aside, which is the clock's). Reads ../shared/bench (the team's machines only).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = Path(os.environ.get("SRC", HERE.parent)).resolve()
sys.path.insert(0, str(SRC))
sys.path.insert(1, str(HERE))

from quality_sets import ASB, EVAL, NEWS, load_items, read_html

from cleaner import Cleaner

try:
    from records import Page
except ImportError:  # code from before the bottom package records/
    from pipeline.records import Page  # type: ignore[no-redef]

SHARED = HERE.parent.parent / "shared" / "bench"


def main() -> int:
    if not SHARED.is_dir():
        print(f"dump_records: {SHARED} is not here (the shared benchmark sets live on the "
              f"team's machines): nothing to dump", file=sys.stderr)
        return 1
    cleaner = Cleaner()
    for set_name in (ASB, EVAL, NEWS):
        for item in load_items(set_name, SHARED / set_name):
            body = read_html(item.path).encode("utf-8")
            url = item.url or item.key
            page = Page(url=url, final_url=url, status=200, content_type="text/html",
                        body=body, encoding="utf-8", bytes=len(body))
            result = cleaner.clean(page)
            article = result.article.to_dict() if result.article is not None else None
            if article is not None:
                article.pop("fetched_at", None)
            print(json.dumps({"set": set_name, "key": item.key, "outcome": result.outcome,
                              "error": result.error, "drops": result.drops,
                              "article": article}, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
