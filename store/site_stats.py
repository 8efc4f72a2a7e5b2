"""What a site crawl did (issue 17), for a run's end (pipeline/progress.py) and `scrape stats`.

A site source is one of kind "site" in `sources`, or any source with a frontier (`scrape
ingest --site` records no `sources` row). Its figures in one run come from that run's
`fetches` rows of the source, by outcome, and from `frontier_skips`:

- fetched: the rows (each page the crawl asked for, robots.txt's refusals and the feeds
  read included);
- new: articles stored new; listings: pages judged listings, also those answered 304 to a
  conditional request (their frontier row says they are listings); not_articles: pages
  judged neither; robots: refused by robots.txt;
- off_site: the links to other sites that its listings held (never followed).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from records.outcomes import (
    CRAWL_LISTING,
    CRAWL_NOT_ARTICLE,
    FETCH_ROBOTS,
    NEW,
    NOT_MODIFIED,
    SKIPPED_FRESH,
)

SITE_FIGURES = ("fetched", "new", "listings", "not_articles", "robots", "off_site")
OFF_SITE = "off_site"  # scraper.links' reason (store/ does not import scraper/)
LISTING = "listing"  # cleaner.judge's judgement, as the frontier keeps it

# One pass over the source's rows of the run (the index on fetches(source, run_id, outcome));
# the frontier is looked at for the 304s only.
_FIGURES = (
    "SELECT count(*), count(*) FILTER (WHERE outcome = :new), count(*) FILTER (WHERE outcome "
    "= :listing OR outcome = :not_modified AND EXISTS (SELECT 1 FROM frontier r WHERE "
    "r.source = f.source AND r.url = f.url AND r.judgement = :listing_judgement)), "
    "count(*) FILTER (WHERE outcome = :other), count(*) FILTER (WHERE outcome = :robots), "
    "(SELECT coalesce(sum(links), 0) FROM frontier_skips WHERE source = :source AND run_id = "
    ":run AND reason = :off_site) "
    "FROM fetches f WHERE source = :source AND run_id = :run AND outcome != :fresh")
# The sources of a frontier, one seek each (not a scan of every URL it holds).
_SITES = ("WITH RECURSIVE s(source) AS (SELECT min(source) FROM frontier UNION ALL SELECT "
          "(SELECT min(source) FROM frontier WHERE source > s.source) FROM s WHERE source IS "
          "NOT NULL) SELECT name FROM sources WHERE kind = 'site' UNION SELECT source FROM s "
          "WHERE source IS NOT NULL ORDER BY 1")
# Those of the run's sources that are sites: a seek per fetch of the run.
_RUN_SITES = ("SELECT DISTINCT source FROM fetches f WHERE run_id = ? AND (source IN (SELECT "
              "name FROM sources WHERE kind = 'site') OR EXISTS (SELECT 1 FROM frontier r "
              "WHERE r.source = f.source)) ORDER BY source")


def site_figures(db: sqlite_utils.Database, source: str, run_id: int) -> dict[str, int]:
    """SITE_FIGURES of the site source `source` in run `run_id`."""
    row = db.execute(_FIGURES, {
        "source": source, "run": run_id, "new": NEW, "listing": CRAWL_LISTING,
        "not_modified": NOT_MODIFIED, "listing_judgement": LISTING, "other": CRAWL_NOT_ARTICLE,
        "robots": FETCH_ROBOTS, "off_site": OFF_SITE, "fresh": SKIPPED_FRESH}).fetchone()
    return dict(zip(SITE_FIGURES, row, strict=True))


def run_sites(db: sqlite_utils.Database, run_id: int) -> dict[str, dict[str, int]]:
    """The figures of each site source that run `run_id` fetched pages of, by name."""
    names = [name for (name,) in db.execute(_RUN_SITES, [run_id]).fetchall()]
    return {name: site_figures(db, name, run_id) for name in names}


def sites(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Each site source, by name: {source, run_id: its last run (the last with fetches of
    it; None before any), figures: that run's SITE_FIGURES (None without a run), frontier:
    {known: URLs found, not_fetched: of them not fetched yet, judged: {judgement: URLs}}}."""
    found = []
    for (name,) in db.execute(_SITES).fetchall():
        (run,) = db.execute("SELECT max(run_id) FROM fetches WHERE source = ?",
                            [name]).fetchone()
        judged = dict(db.execute("SELECT judgement, count(*) FROM frontier WHERE source = ? "
                                 "GROUP BY judgement ORDER BY judgement", [name]).fetchall())
        not_fetched = judged.pop(None, 0)
        found.append({"source": name, "run_id": run,
                      "figures": site_figures(db, name, run) if run is not None else None,
                      "frontier": {"known": not_fetched + sum(judged.values()),
                                   "not_fetched": not_fetched, "judged": judged}})
    return found
