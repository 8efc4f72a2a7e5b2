"""`scrape stats` as text (store.query.stats has the figures), and a site crawl's figures as
the end of a run shows them too (pipeline/progress.py): the one wording of both."""

from __future__ import annotations

from typing import Any

from .terminal import printable

# store/site_stats.py's SITE_FIGURES as the lines name them.
FIGURE_NAMES = {"fetched": "fetched", "new": "new", "listings": "listings",
                "not_articles": "not articles", "robots": "robots", "off_site": "off-site links"}


def figures_text(figures: dict[str, int]) -> str:
    """"fetched 20, new 10, listings 5, not articles 2, robots 1, off-site links 3"."""
    return ", ".join(f"{FIGURE_NAMES.get(k, k)} {v:,}" for k, v in figures.items())


def site_line(source: str, figures: dict[str, int]) -> str:
    """A site source's line at the end of a run."""
    return printable(f"site {source}: {figures_text(figures)}")


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def describe_sites(sites: list[dict[str, Any]]) -> list[str]:
    """The stats lines of the site sources (none without one): each one's last run, and what
    its frontier holds."""
    if not sites:
        return []
    lines = ["sites (the last run of each; the URLs their crawls have found):"]
    for site in sites:
        run = (f"run #{site['run_id']}: {figures_text(site['figures'])}"
               if site["run_id"] is not None else "no run yet")
        frontier = site["frontier"]
        judged = ", ".join(f"{k} {v:,}" for k, v in frontier["judged"].items())
        lines.append(printable(
            f"  {site['source']}: {run}; frontier: {frontier['known']:,} URLs known"
            + (f" ({judged})" if judged else "")
            + f", {frontier['not_fetched']:,} not fetched yet"))
    return lines


def describe_stats(s: dict[str, Any]) -> str:
    size, articles, fetches, run = s["size"], s["articles"], s["fetches"], s["last_run"]
    lines = [
        (f"database: {s['path']}  {_bytes(size['total'])} "
         f"(main file {size['main']:,} bytes, WAL {size['wal']:,} bytes)"),
        (f"articles: {articles['total']:,} ({articles['unique']:,} unique, "
         f"{articles['duplicates']:,} duplicates)"),
        f"fetches: {fetches['total']:,}" + (" by source and outcome:" if fetches["total"] else ""),
    ]
    sources: dict[str | None, list[tuple[str, int]]] = {}
    for row in fetches["by_source"]:
        sources.setdefault(row["source"], []).append((row["outcome"], row["count"]))
    for source, outcomes in sources.items():
        counts = ", ".join(f"{outcome} {count:,}" for outcome, count in outcomes)
        total = sum(count for _, count in outcomes)
        lines.append(f"  {printable(source) if source is not None else '(no source)'}: "
                     f"{total:,}: {counts}")
    cut = s["much_cut"]
    if cut["total"]:
        lines.append(f"articles with more than {cut['share']:.0%} of the extracted words "
                     f"removed: {cut['total']:,}" + (" (the largest shares):"
                                                     if cut["total"] > len(cut["articles"])
                                                     else ":"))
        for a in cut["articles"]:
            lines.append(f"  #{a['id']} {printable(a['url'])}: {a['removed_words']:,} words "
                         f"removed, {a['word_count']:,} kept, {a['repeated_paragraphs_removed']}"
                         " repeated paragraphs")
    lines += describe_sites(s.get("sites", []))
    if run is None:
        lines.append("last run: no runs recorded")
    else:
        counts = run["counts"]
        if counts is None:
            counts = "no counts yet"
        elif isinstance(counts, dict):
            counts = ", ".join(f"{k} {v}" for k, v in counts.items()) or "no inputs"
        lines.append(f"last run: #{run['id']} {run['command']} {run['status']}, started "
                     f"{run['started_at']}, finished {run['finished_at'] or '-'}: "
                     f"{printable(str(counts))}")
    return "\n".join(lines)
