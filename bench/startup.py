"""Start-up of the reading commands: the wall time of `scrape search` in a fresh process.

    .venv/bin/python bench/startup.py --db data/scrape.db
    .venv/bin/python bench/startup.py --db /tmp/s.db --scrape /tmp/oldvenv/bin/scrape --runs 15

Each `--scrape` executable (default: this checkout's .venv/bin/scrape; give several to compare
two versions of the code) runs `scrape search WORD --db DB` `--runs` times, the executables
interleaved, from a neutral folder; the median and minimum wall times are printed. The database
needs a few articles (`make ingest DB=...` stores the offline samples).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--scrape", action="append", default=[],
                        help="a scrape executable (repeatable; default this checkout's)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--word", default="the")
    args = parser.parse_args()
    scrapes = args.scrape or [str(HERE.parent / ".venv" / "bin" / "scrape")]
    times: dict[str, list[float]] = {s: [] for s in scrapes}
    with tempfile.TemporaryDirectory() as neutral:  # no checkout on the path by accident
        for _ in range(args.runs):
            for scrape in scrapes:
                started = time.perf_counter()
                done = subprocess.run([scrape, "search", args.word, "--db", args.db],
                                      cwd=neutral, capture_output=True, check=False)
                times[scrape].append(time.perf_counter() - started)
                if done.returncode != 0:
                    print(f"{scrape} failed: {done.stderr.decode(errors='replace')}",
                          file=sys.stderr)
                    return 1
    for scrape, spent in times.items():
        print(f"{scrape}: median {statistics.median(spent):.3f} s, min {min(spent):.3f} s "
              f"over {len(spent)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
