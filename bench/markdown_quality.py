"""The `markdown` field beside trafilatura's Markdown, on the three shared sets, one run.

    make bench-quality                       # runs this after bench/quality.py
    .venv/bin/python bench/markdown_quality.py [--set news] [--limit N] [--show]

Per page, our Cleaner (its `text` and `markdown`) and trafilatura's Markdown
(`bare_extraction(..., output_format="markdown", include_comments=False, include_tables=True)`,
its `text` then being the Markdown) run on the same decoded page.

- Headings (news-golden: its gold sections' subheads, over the pages that have any): a gold
  subhead is found when a Markdown heading line reads the same after folding (case, quotes,
  whitespace); recall = subheads found / gold subheads, precision = heading lines that are a
  gold subhead / heading lines, both pooled over those pages. Our "# " headline is the title
  field, not a subhead, and is not counted.
- Body F1 of the Markdown with its markup stripped (a CommonMark parser reads it back; one line
  per block), beside the F1 of `text`, with each set's own metric (bench/quality_sets.py). Our
  headline line is left out, as `text` has none.

`--show` lists the subheads missed and the heading lines that are not subheads. Reads
../shared/bench (team machines only); writes bench/results/markdown_quality.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import trafilatura
from common import git_state, versions
from markdown_it import MarkdownIt
from quality_sets import (
    ASB,
    EVAL,
    NEWS,
    SET_NAMES,
    body_metrics,
    fold,
    load_items,
    read_html,
    score,
)

from cleaner import Cleaner
from records import Page

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "bench"
OUT = HERE / "results" / "markdown_quality.json"
_PARSER = MarkdownIt("commonmark").enable("table")


def read_back(markdown: str) -> tuple[list[tuple[int, str]], str]:
    """(headings as (level, text), the text one line per block) of a Markdown document."""
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    tokens = _PARSER.parse(markdown)
    for i, tok in enumerate(tokens):
        if tok.type != "inline":
            continue
        parts = []
        for child in tok.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
        text = "".join(parts)
        if i and tokens[i - 1].type == "heading_open":
            headings.append((int(tokens[i - 1].tag[1]), text))
        lines.append(text)
    for tok in tokens:  # code blocks are not inline tokens
        if tok.type in ("fence", "code_block"):
            lines.append(tok.content)
    return headings, "\n".join(lines)


def ours(cleaner: Cleaner, html: str, url: str | None) -> tuple[str, str]:
    """(text, markdown without its headline)."""
    body = html.encode("utf-8")
    page = Page(url=url or "page.html", final_url=url, status=200, content_type="text/html",
                body=body, encoding="utf-8", bytes=len(body))
    article = cleaner.clean(page).article
    if article is None:
        return "", ""
    markdown = article.markdown or ""
    if article.title and markdown.startswith("# "):
        markdown = markdown.split("\n", 1)[1] if "\n" in markdown else ""
    return article.text, markdown


def theirs(html: str, url: str | None) -> tuple[str, str]:
    text_doc = trafilatura.bare_extraction(html, url=url, include_comments=False,
                                           include_tables=True, with_metadata=False)
    md = trafilatura.extract(html, url=url, output_format="markdown", include_comments=False,
                             include_tables=True, with_metadata=False)
    return (text_doc.text or "") if text_doc is not None else "", md or ""


def subheads(entry: dict[str, Any]) -> list[str]:
    return [h for s in entry["sections"] for h in s["headline"] if h.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="all", help="asb, eval, news, a comma list, or all")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args(argv)
    names = ([ASB, EVAL, NEWS] if args.set == "all"
             else [SET_NAMES[p.strip()] for p in args.set.split(",")])
    if not all((DATA / n).is_dir() for n in names):
        print(f"markdown_quality: the shared sets are not in {DATA} (they live on the team's "
              f"machines): nothing to measure", file=sys.stderr)
        return 1
    gold_heads = {e["id"]: subheads(e) for e in
                  json.loads((DATA / NEWS / "gold.json").read_text(encoding="utf-8"))}
    cleaner = Cleaner()
    report: dict[str, Any] = {"git": git_state(), "versions": versions(("trafilatura",)),
                              "sets": {}}
    for name in names:
        items = load_items(name, DATA / name, args.limit)
        scores: dict[str, list] = {k: [] for k in ("text", "markdown", "trafilatura text",
                                                   "trafilatura markdown")}
        heads = {k: [0, 0, 0, 0] for k in ("ours", "trafilatura")}  # found, gold, hits, lines
        ms: list[float] = []
        pages: dict[str, dict[str, list[int]]] = {}  # news-golden: per page, as `heads`
        for item in items:
            html = read_html(item.path)
            start = time.perf_counter()
            text, md = ours(cleaner, html, item.url)
            ms.append((time.perf_counter() - start) * 1000)
            t_text, t_md = theirs(html, item.url)
            for key, value in (("text", text), ("markdown", read_back(md)[1]),
                               ("trafilatura text", t_text),
                               ("trafilatura markdown", read_back(t_md)[1])):
                scores[key].append(score(name, value, item.gold))
            wanted = gold_heads.get(item.key) if name == NEWS else None
            if not wanted:
                continue
            for who, doc in (("ours", md), ("trafilatura", t_md)):
                found = [h for _, h in read_back(doc)[0]]
                keys, gold = {fold(h) for h in found}, {fold(h) for h in wanted}
                counts = heads[who]
                counts[0] += sum(fold(h) in keys for h in wanted)
                counts[1] += len(wanted)
                counts[2] += sum(fold(h) in gold for h in found)
                counts[3] += len(found)
                pages.setdefault(item.key, {})[who] = [
                    sum(fold(h) in keys for h in wanted), len(wanted),
                    sum(fold(h) in gold for h in found), len(found)]
                if args.show and who == "ours":
                    for h in wanted:
                        if fold(h) not in keys:
                            print(f"  missed  {item.key}: {h[:100]}")
                    for h in found:
                        if fold(h) not in gold:
                            print(f"  extra   {item.key}: {h[:100]}")
        row: dict[str, Any] = {k: body_metrics(name, v)["f1"] for k, v in scores.items()}
        row["pages"] = len(items)
        row["cleaner ms/page (median)"] = statistics.median(ms) if ms else 0.0
        if name == NEWS:
            for who, (found, gold, hits, lines) in heads.items():
                row[f"{who} headings recall"] = found / gold if gold else None
                row[f"{who} headings precision"] = hits / lines if lines else None
                row[f"{who} headings"] = {"found": found, "gold": gold, "hits": hits,
                                          "lines": lines}
            row["headings by page"] = pages
        report["sets"][name] = row
    print_report(report)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults written to {OUT}")
    return 0


def print_report(report: dict[str, Any]) -> None:
    print("\nbody F1: text and Markdown with its markup stripped (ours / trafilatura's)")
    print(f"{'set':18} {'pages':>5} {'text':>7} {'md':>7} {'md-text':>8}"
          f" {'traf text':>9} {'traf md':>8}")
    for name, row in report["sets"].items():
        print(f"{name:18} {row['pages']:5d} {row['text']:7.4f} {row['markdown']:7.4f} "
              f"{row['markdown'] - row['text']:+8.4f} {row['trafilatura text']:9.4f} "
              f"{row['trafilatura markdown']:8.4f}")
    news = report["sets"].get(NEWS)
    if news:
        print("\nnews-golden subheads as Markdown headings (pages with subheads)")
        for who in ("ours", "trafilatura"):
            c = news[f"{who} headings"]
            print(f"  {who:12} recall {c['found']}/{c['gold']} = "
                  f"{news[f'{who} headings recall']:.3f}   precision {c['hits']}/{c['lines']}"
                  f" = {news[f'{who} headings precision'] or 0:.3f}")


if __name__ == "__main__":
    sys.exit(main())
