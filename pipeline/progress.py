"""What `scrape ingest` and `scrape batch` print while they run, and at the end.

- One line per input on stdout (`describe`), as inputs are committed to the database (a
  line never says "new" for a row a failed commit lost: that batch's lines say
  "store.error"): outcome, HTTP status, title, words, repeats removed, URL (`scrape batch`
  adds the source's name). These lines
  never hold a control character (no ANSI escape, no carriage return: a page's title or
  a server's error text cannot move a terminal's cursor or hide part of a cron mail).
- `--log-json`: one JSON object per line instead, per input ("event": "input") and a final
  one ("event": "summary"; its "sites" holds each site source's figures by name).
- When stderr is a terminal, a progress bar on stderr (rich): inputs done, failed, rate
  and time; it is removed at the end. Without a terminal (cron, systemd, a pipe) there is
  none, and nothing but the lines is written.
- At the end: the counts by outcome, a line per site source crawled (`site gazette: fetched
  120, new 80, listings 30, not articles 8, robots 2, off-site links 412`: store/site_stats.py
  says what each figure counts; read from the database once the run has ended, so they are
  what it committed), "database: PATH", and as the very last line the run's summary: `run 7 completed: fetched 12, new 5, updated 1, duplicate 2, failed 1,
  elapsed 3.4 s` (fetched: inputs for which a request was made or a file read, that is
  all but those skipped as fresh).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any, TextIO
from urllib.parse import quote

import sqlite_utils

from records import Result
from records.outcomes import (
    DUPLICATE,
    NEW,
    SKIPPED_FRESH,
    SOURCE_READ,
    STORE_ERROR,
    SUCCEEDED,
    UPDATED,
)
from store.site_stats import run_sites

from .run import RunSummary
from .stats_text import site_line
from .terminal import json_line, oneline, printable


def describe(result: Result, source: bool = False) -> str:
    """One line per input: outcome, HTTP status, [source,] title, words, repeats removed, URL."""
    page = result.page
    status = str(page.status) if page.status is not None else "-"
    head = f"{result.outcome:<16} {status:>3}  " + (f"{page.source}  " if source else "")
    if result.article is None or result.outcome == STORE_ERROR:  # (the error says why)
        what = "read for its links" if result.outcome == SOURCE_READ else "no article"
        return printable(f"{head}{result.error or what}  {page.url}")
    a = result.article
    if a.duplicate_of is not None:
        copy = f" {a.dup_method} copy of #{a.duplicate_of} ({a.similarity:.2f})"
    elif result.outcome == DUPLICATE:  # it outranked the stored copies (store/dedup.py)
        copy = " a stored story's copy, now its canonical"
    else:
        copy = ""
    return printable(
        f"{head}{oneline(a.title) or '(no title)'}  "
        f"[{a.word_count} words, {a.repeated_paragraphs_removed} repeated paragraphs removed]"
        f"{copy}  {page.url}")


def as_json(result: Result) -> dict[str, Any]:
    """The --log-json object of one input."""
    page, article = result.page, result.article
    return {
        "event": "input", "url": page.url, "source": page.source, "outcome": result.outcome,
        "status": page.status, "title": article.title if article else None,
        "article_id": result.article_id,
        "duplicate_of": article.duplicate_of if article else None,
        "elapsed_ms": page.elapsed_ms, "error": result.error or page.error,
    }


def totals(summary: RunSummary) -> dict[str, int]:
    """The figures of the last line."""
    counts = summary.counts
    return {"fetched": summary.total - counts[SKIPPED_FRESH], NEW: counts[NEW],
            UPDATED: counts[UPDATED], DUPLICATE: counts[DUPLICATE], "failed": summary.failed}


def final_line(run_id: int, status: str, summary: RunSummary, elapsed: float) -> str:
    figures = ", ".join(f"{k} {v}" for k, v in totals(summary).items())
    return f"run {run_id} {status}: {figures}, elapsed {elapsed:.1f} s"


def crawled_sites(db: str, run_id: int) -> dict[str, dict[str, int]]:
    """The figures of each site source the run crawled, by name, from what it committed;
    none when the database cannot be read (the run has said what went wrong with it)."""
    uri = f"file:{quote(os.path.realpath(db))}?mode=ro"  # a reader: the run has its writer
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            return run_sites(sqlite_utils.Database(conn), run_id)
    except (sqlite3.Error, OSError):
        return {}


def wants_bar(stream: TextIO | None = None) -> bool:
    """A progress bar only on a terminal (and not a dumb one)."""
    return _isatty(stream or sys.stderr) and os.environ.get("TERM", "") != "dumb"


class Output:
    """Prints a run: `result(r)` for each input, `finish(...)` once at the end.

    json_lines: JSON lines instead of text; show_source: name each input's source (batch);
    bar: the rich progress bar on stderr (default: when stderr is a terminal), `label`led.
    """

    def __init__(self, json_lines: bool = False, show_source: bool = False,
                 bar: bool | None = None, out: TextIO | None = None,
                 label: str = "scrape") -> None:
        self.json_lines, self.show_source, self.label = json_lines, show_source, label
        self.bar = wants_bar() if bar is None else bar
        self.out = out
        self.started = time.monotonic()
        self.done = self.failed = 0
        self._progress: Any = None
        self._task: Any = None

    @property
    def stream(self) -> TextIO:
        return self.out or sys.stdout  # looked up late: the bar may redirect sys.stdout

    def print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    @contextmanager
    def live(self) -> Iterator[Output]:
        """While the run goes on: the bar (when wanted), with log records shown above it."""
        if not self.bar:
            yield self
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        original_stderr = sys.stderr
        progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed} done, {task.fields[failed]} failed, "
                       "{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(file=original_stderr), transient=True,
            # Lines printed to a stdout that is the same terminal go above the bar; a
            # redirected stdout is left alone.
            redirect_stdout=self.out is None and _isatty(sys.stdout), redirect_stderr=True)
        handlers = [h for h in logging.getLogger().handlers
                    if isinstance(h, logging.StreamHandler) and h.stream is original_stderr]
        with progress:
            self._progress = progress
            self._task = progress.add_task(self.label, total=None, failed=0, rate="-")
            for h in handlers:
                h.setStream(sys.stderr)  # rich's proxy: records print above the bar
            try:
                yield self
            finally:
                for h in handlers:
                    h.setStream(original_stderr)
                self._progress = self._task = None

    def result(self, result: Result) -> None:
        self.done += 1
        if result.outcome not in SUCCEEDED:
            self.failed += 1
        if self.json_lines:
            self.print(json_line(as_json(result)))
        else:
            self.print(describe(result, source=self.show_source))
        if self._progress is not None:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            self._progress.update(self._task, completed=self.done, failed=self.failed,
                                  rate=f"{self.done / elapsed:.1f}/s")

    def finish(self, run_id: int, status: str, summary: RunSummary, db: str,
               command: str, drops: bool = False) -> None:
        """The end of the run; the last line printed is the run's summary."""
        elapsed = time.monotonic() - self.started
        sites = crawled_sites(db, run_id)
        if self.json_lines:
            self.print(json_line({
                "event": "summary", "run_id": run_id, "command": command, "status": status,
                **totals(summary), "elapsed": round(elapsed, 3),
                "counts": dict(sorted(summary.counts.items())), "sites": sites,
                "database": db}))
            return
        self.print(summary.line())
        if drops and summary.drops:
            self.print("removed while cleaning: " + ", ".join(
                f"{k} {v}" for k, v in sorted(summary.drops.items())))
        for name, figures in sites.items():
            self.print(site_line(name, figures))
        self.print(printable(f"database: {db}"))
        self.print(final_line(run_id, status, summary, elapsed))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


