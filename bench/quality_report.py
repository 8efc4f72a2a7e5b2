"""Scoring runs into results, and printing them: bench/quality.py's tables, trailing pages,
metadata misses and `--compare`. The JSON written is `evaluate`'s output gathered per set."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from quality_sets import (
    EVAL,
    NEWS,
    Gold,
    Item,
    MetaScore,
    PageScore,
    Run,
    body_metrics,
    is_lost,
    meta_metrics,
    score,
    score_meta,
    tokens,
)

BASELINE = "trafilatura"  # bare_extraction with metadata, include_comments=False
CLEANER = "cleaner"
TRAIL_MARGIN = 0.05  # the cleaner's page F1 this far below the baseline's lists the page
SHOW_LINES = 3  # lines / sentences / snippets shown per listed page
SHOW_CHARS = 120  # ... each truncated to this many characters
SHOW_TRAILING = 40  # trailing (not lost) pages printed per set; the JSON has them all
SHOW_META = 40  # metadata misses printed per field
CHANGED_MARGIN = 0.02  # --compare lists cleaner pages whose F1 moved more than this
SHOW_CHANGED = 30  # ... at most this many per set
TARGET_GAIN, TARGET_META = 0.012, {"title": 0.93, "date": 0.99, "authors": 0.90}
TARGET_RATIO = 1.15  # median ms/page over trafilatura's, on news-golden


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def _prf(s: PageScore) -> dict[str, float | None]:
    return {"p": _r(s.precision), "r": _r(s.recall), "f1": _r(s.f1)}


# ---------------------------------------------------------------------------------------------
# What the cleaner got wrong on a page


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


def text_difference(cleaner: str, baseline: str, gold: str,
                    neutral: str = "") -> dict[str, list[str]]:
    """Up to SHOW_LINES cleaner lines not in the gold, and gold sentences the cleaner misses.

    Matching is on token runs and counts copies (as the shingle metric does): a line the cleaner
    outputs twice but the gold holds once is extra once. Lines of `neutral` (a standfirst) are
    not extra. Each list puts first what the baseline does better (extra lines it does not
    have, missed sentences it does have) and tags entries.
    """
    gold_ts, base_ts, clean_ts = (_token_string(t) for t in (gold, baseline, cleaner))
    lines = [line for line in cleaner.splitlines() if tokens(line)]
    extra = _unmatched(lines, gold_ts)
    if neutral:
        extra = _unmatched(extra, _token_string(neutral))
    base_lacks = set(_unmatched(extra, base_ts))
    extra.sort(key=lambda line: line not in base_lacks)
    missed = _unmatched(gold_sentences(gold), clean_ts)
    base_misses = set(_unmatched(missed, base_ts))
    missed.sort(key=lambda s: s in base_misses)
    return {
        "cleaner_only": [f"[{'only cleaner' if line in base_lacks else 'baseline too'}] "
                         f"{_short(line)}" for line in extra[:SHOW_LINES]],
        "gold_missed": [f"[{'baseline misses too' if s in base_misses else 'baseline has it'}] "
                        f"{_short(s)}" for s in missed[:SHOW_LINES]],
    }


def snippet_difference(cleaner: str, baseline: str, gold: Gold) -> dict[str, list[str]]:
    """trafilatura-eval: the "without" snippets the cleaner leaks, the "with" ones it misses."""
    leaked = [s for s in gold.without if s in cleaner]
    missed = [s for s in gold.with_ if s not in cleaner]
    leaked.sort(key=lambda s: s in baseline)
    missed.sort(key=lambda s: s not in baseline)
    return {
        "cleaner_only": [f"[{'baseline too' if s in baseline else 'only cleaner'}] {_short(s)}"
                         for s in leaked[:SHOW_LINES]],
        "gold_missed": [f"[{'baseline has it' if s in baseline else 'baseline misses too'}] "
                        f"{_short(s)}" for s in missed[:SHOW_LINES]],
    }


# ---------------------------------------------------------------------------------------------
# Scoring a set


def evaluate(set_name: str, items: list[Item], runs: dict[str, Run],
             with_meta: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One set's results: a row per system, the cleaner's trailing pages and metadata misses,
    and every page's scores per system (for diffing two runs). On news-golden the systems
    named in `with_meta` (those that give a title, date and authors) are scored on those."""
    scores = {name: {it.key: score(set_name, run.preds[it.key].text, it.gold) for it in items}
              for name, run in runs.items()}
    metas = {name: {it.key: score_meta(run.preds[it.key], it.gold) for it in items}
             for name, run in runs.items() if name in with_meta} if set_name == NEWS else {}
    base = scores.get(BASELINE)
    base_ms = runs[BASELINE].median_ms if BASELINE in runs else None
    rows: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        row: dict[str, Any] = {k: _r(v) for k, v in
                               body_metrics(set_name, scores[name].values()).items()}
        if name in metas:
            row.update({k: _r(v) for k, v in meta_metrics(metas[name].values()).items()})
        lost = [k for k, s in scores[name].items() if base and is_lost(s, base[k])]
        row.update(lost_pages=len(lost) if base else None, lost=lost,
                   median_ms=_r(run.median_ms),
                   ms_ratio=_r(run.median_ms / base_ms) if base_ms else None,
                   errors=len(run.errors), error_pages=run.errors)
        rows[name] = row
    pages: dict[str, dict[str, Any]] = {}
    for it in items:
        pages[it.key] = {}
        for name in runs:
            entry: dict[str, Any] = _prf(scores[name][it.key])
            if name in metas:
                m = metas[name][it.key]
                entry.update(title=m.title, date=m.date, authors=_r(m.authors))
            pages[it.key][name] = entry
    out: dict[str, Any] = {"pages": len(items), "systems": rows, "page_scores": pages}
    if CLEANER in runs and base:
        out["trailing"] = trailing(set_name, items, runs, scores)
    if CLEANER in metas:
        out["metadata_misses"] = metadata_misses(items, runs[CLEANER], metas[CLEANER])
    return out


def trailing(set_name: str, items: list[Item], runs: dict[str, Run],
             scores: dict[str, dict[str, PageScore]]) -> list[dict[str, Any]]:
    """Pages where the cleaner's page F1 is below the baseline's by > TRAIL_MARGIN, and its
    lost pages: lost first, then by the gap."""
    out = []
    for it in items:
        ours, base = scores[CLEANER][it.key], scores[BASELINE][it.key]
        lost = is_lost(ours, base)
        if not lost and base.f1 - ours.f1 <= TRAIL_MARGIN:
            continue
        pred, base_text = runs[CLEANER].preds[it.key], runs[BASELINE].preds[it.key].text
        diff = (snippet_difference(pred.text, base_text, it.gold) if set_name == EVAL else
                text_difference(pred.text, base_text, it.gold.text, it.gold.neutral))
        out.append({"key": it.key, "url": it.url, "lost": lost, "f1_gap": _r(base.f1 - ours.f1),
                    CLEANER: _prf(ours), BASELINE: _prf(base),
                    "drops": dict(sorted(pred.drops.items(), key=lambda kv: (-kv[1], kv[0]))),
                    "error": runs[CLEANER].errors.get(it.key), "note": pred.note,
                    **diff, **nfc_rescore(set_name, pred.text, it.gold, ours)})
    return sorted(out, key=lambda page: (not page["lost"], -page["f1_gap"]))


def nfc_rescore(set_name: str, text: str, gold: Gold, ours: PageScore) -> dict[str, Any]:
    """The page scored with both texts NFC-normalized, when that changes the score: the
    shingle metric splits words at combining marks, so a page served decomposed (NFD), whose
    gold keeps it so, scores low for a cleaner that composes it, though the words are right."""
    if set_name == EVAL:
        return {}
    nfc = score(set_name, unicodedata.normalize("NFC", text), Gold(
        text=unicodedata.normalize("NFC", gold.text),
        neutral=unicodedata.normalize("NFC", gold.neutral)))
    return {} if nfc == ours else {"nfc": _prf(nfc)}


def metadata_misses(items: list[Item], run: Run,
                    metas: dict[str, MetaScore]) -> dict[str, list]:
    """news-golden: per field, the pages where the cleaner's value is wrong (gold vs ours)."""
    out: dict[str, list] = {"title": [], "date": [], "authors": []}
    for it in items:
        m, pred = metas[it.key], run.preds[it.key]
        if not m.title:
            out["title"].append({"key": it.key, "gold": it.gold.title, "ours": pred.title})
        if not m.date:
            out["date"].append({"key": it.key, "gold": it.gold.date, "ours": pred.date})
        if m.authors is not None and m.authors < 1:
            out["authors"].append({"key": it.key, "gold": list(it.gold.authors or ()),
                                   "ours": pred.authors, "f1": _r(m.authors)})
    return out


# ---------------------------------------------------------------------------------------------
# Printing


def print_set(set_name: str, result: dict[str, Any], repeat: int) -> None:
    rows = result["systems"]
    meta = any("title" in row for row in rows.values())
    width = max(len("system"), *(len(name) for name in rows))
    head = (f"{'system':<{width}}     F1      P      R   lost  ms/page   ratio  errors"
            + ("   title   date  authors" if meta else ""))
    print(f"\n{set_name} ({result['pages']} pages; ms/page: median of each page's fastest of "
          f"{repeat}; ratio and lost pages against {BASELINE})\n{head}\n{'-' * len(head)}")
    for name, row in sorted(rows.items(), key=lambda kv: -kv[1]["f1"]):
        ratio = _fmt(row["ms_ratio"], ".2f") + ("x" if row["ms_ratio"] is not None else "")
        line = (f"{name:<{width}}  {row['f1']:.3f}  {row['precision']:.3f}  "
                f"{row['recall']:.3f}  {_fmt(row['lost_pages'], 'd'):>5}  "
                f"{row['median_ms']:7.1f}  {ratio:>6}  {row['errors']:6d}")
        if meta:
            line += "".join(f"  {_fmt(row.get(k)):>6}" for k in ("title", "date", "authors"))
        print(line)
    for name, row in rows.items():
        for key, error in list(row["error_pages"].items())[:3]:
            print(f"  {name} failed on {key[:50]}: {error[:150]}")


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    """The cleaner against the baseline on each set, with the issue's targets."""
    have = {s: r["systems"] for s, r in results.items() if CLEANER in r["systems"]}
    if not have:
        return
    print(f"\nside by side: {CLEANER} vs {BASELINE} (targets: F1 >= {BASELINE} + "
          f"{TARGET_GAIN} and 0 lost pages on every set)")
    print(f"{'set':<17} {'pages':>5}  {CLEANER + ' F1':>10}  {BASELINE + ' F1':>14}  "
          f"{'diff':>7}  {'lost':>4}  {'ms ratio':>8}")
    for set_name, rows in have.items():
        ours, base = rows[CLEANER], rows.get(BASELINE)
        diff = ours["f1"] - base["f1"] if base else None
        ratio = _fmt(ours["ms_ratio"], ".2f") + ("x" if ours["ms_ratio"] is not None else "")
        print(f"{set_name:<17} {results[set_name]['pages']:>5}  {ours['f1']:>10.3f}  "
              f"{_fmt(base and base['f1']):>14}  {_fmt(diff, '+.3f'):>7}  "
              f"{_fmt(ours['lost_pages'], 'd'):>4}  {ratio:>8}")
    news = have.get(NEWS, {})
    if "title" in news.get(CLEANER, {}):
        base = news.get(BASELINE, {})
        print(f"{NEWS} metadata: " + ", ".join(
            f"{k} {news[CLEANER][k]:.3f} ({BASELINE} {_fmt(base.get(k))}; target {t})"
            for k, t in TARGET_META.items())
            + f"; ms ratio target <= {TARGET_RATIO}x")


def print_trailing(set_name: str, pages: list[dict[str, Any]]) -> None:
    lost = sum(p["lost"] for p in pages)
    print(f"\n{set_name}: the {CLEANER}'s lost pages ({lost}) and the pages where its F1 trails "
          f"{BASELINE}'s by more than {TRAIL_MARGIN} ({len(pages) - lost})")
    shown = [p for p in pages if p["lost"]] + [p for p in pages if not p["lost"]][:SHOW_TRAILING]
    for page in shown:
        c, b = page[CLEANER], page[BASELINE]
        where = page["key"] if page["url"] in (None, page["key"]) else \
            f"{page['key']}  {page['url']}"
        print(f"\n{'LOST ' if page['lost'] else ''}{where}\n"
              f"  {CLEANER} P={_fmt(c['p'])} R={_fmt(c['r'])} F1={_fmt(c['f1'])}   "
              f"{BASELINE} P={_fmt(b['p'])} R={_fmt(b['r'])} F1={_fmt(b['f1'])}")
        if page["error"]:
            print(f"  error: {page['error'][:150]}")
        if page["note"]:
            print(f"  {CLEANER}: {page['note'][:150]}")
        if "nfc" in page:
            n = page["nfc"]
            print(f"  both texts NFC-normalized: {CLEANER} P={_fmt(n['p'])} R={_fmt(n['r'])} "
                  f"F1={_fmt(n['f1'])} (the metric splits words at combining marks)")
        drops = ", ".join(f"{k} {v}" for k, v in page["drops"].items())
        print(f"  drops: {drops or '(none)'}")
        for line in page["cleaner_only"]:
            print(f"  + {line}")
        for line in page["gold_missed"]:
            print(f"  - {line}")
    if len(shown) < len(pages):
        print(f"\n  ... {len(pages) - len(shown)} more trailing pages in the JSON")


def _show(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(value) or None
    return "-" if value is None else repr(_short(str(value)))


def print_metadata_misses(misses: dict[str, list]) -> None:
    for field, pages in misses.items():
        print(f"\n{NEWS}: {CLEANER}'s {field} wrong on {len(pages)} pages"
              + (f" (first {SHOW_META})" if len(pages) > SHOW_META else ""))
        for page in pages[:SHOW_META]:
            print(f"  {page['key']}: gold {_show(page['gold'])} | ours {_show(page['ours'])}")


# ---------------------------------------------------------------------------------------------
# --compare


def _sets_of(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per set: pages, system rows and page scores, from a quality.json of any format."""
    if "sets" in payload:
        return {name: {**s, "systems": {sys: rows[name] for sys, rows in
                                        payload["systems"].items() if name in rows}}
                for name, s in payload["sets"].items()}
    # The format before news-golden: its trafilatura systems were extract(), not comparable;
    # the cleaner is, and asb-dev kept page scores as {id: {system: {precision, recall, f1}}}.
    out = {}
    for name, pages in payload.get("pages", {}).items():
        rows = {CLEANER: payload["systems"][CLEANER][name]} \
            if name in payload["systems"].get(CLEANER, {}) else {}
        old_pages = payload.get("asb_page_scores") if name == "asb-dev" else None
        out[name] = {"pages": pages, "systems": rows, "page_scores": {
            k: {s: {"p": v["precision"], "r": v["recall"], "f1": v["f1"]} for s, v in by.items()}
            for k, by in (old_pages or {}).items()}}
    return out


def print_compare(old: dict[str, Any], new: dict[str, Any], label: str) -> None:
    """The change from `old` to `new` per set and system, and the cleaner pages that moved."""
    before, after = _sets_of(old), _sets_of(new)
    print(f"\nchange since {label} (commit {str(old.get('git', {}).get('commit'))[:10]}, "
          f"{old.get('date', '?')})")
    for set_name, now in after.items():
        was = before.get(set_name)
        if was is None:
            print(f"\n{set_name}: not in the earlier run")
            continue
        note = "" if was["pages"] == now["pages"] else \
            f"; pages {was['pages']} -> {now['pages']}: set figures are not comparable"
        print(f"\n{set_name}{note}")
        for name, row in now["systems"].items():
            prev = was["systems"].get(name)
            if prev is None:
                print(f"  {name:<18} not in the earlier run")
                continue
            parts = [f"{k} {_fmt(row[k] - prev[k], '+.3f')} ({prev[k]:.3f} -> {row[k]:.3f})"
                     for k in ("f1", "precision", "recall", "title", "date", "authors")
                     if row.get(k) is not None and prev.get(k) is not None]
            if row.get("lost_pages") is not None and prev.get("lost_pages") is not None:
                parts.append(f"lost {prev['lost_pages']} -> {row['lost_pages']}")
            print(f"  {name:<18} " + ", ".join(parts))
        if not was["page_scores"]:
            print(f"  (the earlier run kept no page scores for {set_name})")
            continue
        moved = []
        for key, by in now["page_scores"].items():
            a, b = was["page_scores"].get(key, {}).get(CLEANER), by.get(CLEANER)
            if a and b and abs(b["f1"] - a["f1"]) > CHANGED_MARGIN:
                moved.append((key, a, b))
        moved.sort(key=lambda m: -abs(m[2]["f1"] - m[1]["f1"]))
        print(f"  {CLEANER} pages whose F1 moved by more than {CHANGED_MARGIN}: {len(moved)}"
              + (f" (first {SHOW_CHANGED})" if len(moved) > SHOW_CHANGED else ""))
        for key, a, b in moved[:SHOW_CHANGED]:
            print(f"    {b['f1'] - a['f1']:+.3f}  {key[:70]}  P {_fmt(a['p'])} -> {_fmt(b['p'])}"
                  f"  R {_fmt(a['r'])} -> {_fmt(b['r'])}  F1 {a['f1']:.3f} -> {b['f1']:.3f}")
