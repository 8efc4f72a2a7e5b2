"""bench/quality.py's metrics and report on made-up pages (no benchmark data needed)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

# The bench scripts import each other by name, so bench/ goes on the path for the import
# only: left there, its store.py would shadow the store package in every process spawned
# later in the session.
_BENCH = str(Path(__file__).resolve().parents[1] / "bench")
sys.path.insert(0, _BENCH)
try:
    import quality
    import quality_report as qr
    import quality_sets as qs
finally:
    sys.path.remove(_BENCH)

BODY = ("The river rose overnight and the old bridge closed at dawn.\n"
        "Engineers said the stone piers would hold until the water fell again.")
STANDFIRST = "A short summary printed above the story by the editors."


def test_news_standfirst_is_neutral() -> None:
    kept = qs.score_page(STANDFIRST + "\n" + BODY, BODY, neutral=STANDFIRST)
    assert kept.recall == 1.0 and kept.fp == 3  # only the shingles across the seam count
    assert qs.score_page(BODY, BODY, neutral=STANDFIRST).recall == 1.0
    # without the neutral text the standfirst costs precision, as on asb-dev
    standfirst_shingles = len(qs.tokens(STANDFIRST)) - 3
    assert qs.score_page(STANDFIRST + "\n" + BODY, BODY).fp == 3 + standfirst_shingles
    leaked = qs.score_page(BODY + "\nSubscribe to our daily letter for more news today", BODY,
                           neutral=STANDFIRST)
    assert leaked.precision < 1.0 and leaked.recall == 1.0


def test_shingles_are_a_multiset() -> None:
    twice = qs.score_page(BODY + "\n" + BODY, BODY)
    assert twice.recall == 1.0
    assert twice.fp == twice.tp + 3  # the second copy, and the shingles across the seam
    assert qs.score_page("", BODY).precision is None  # an empty prediction costs recall only
    assert qs.score_page("", BODY).recall == 0.0


def test_set_metrics_mean_per_page_or_pooled() -> None:
    pages = [qs.PageScore(tp=1, fp=0, fn=0), qs.PageScore(tp=1, fp=0, fn=3)]
    mean = qs.body_metrics(qs.ASB, pages)
    assert mean["recall"] == pytest.approx((1.0 + 0.25) / 2)
    pooled = qs.body_metrics(qs.EVAL, pages)
    assert pooled["recall"] == pytest.approx(2 / 5)
    assert pooled["f1"] == pytest.approx(2 * 1.0 * 0.4 / 1.4)


def test_snippets_give_page_recall() -> None:
    text = "first kept line\nsecond kept line\nmenu item"
    s = qs.score_snippets(text, ["first kept", "second kept", "third missing"], ["menu item"])
    assert (s.tp, s.fn, s.fp) == (2, 1, 1)
    assert s.recall == pytest.approx(2 / 3)


def test_lost_page_thresholds() -> None:
    def page(recall_pct: int) -> qs.PageScore:
        return qs.PageScore(tp=recall_pct, fp=0, fn=100 - recall_pct)

    assert qs.is_lost(page(79), page(95))
    assert not qs.is_lost(page(80), page(100))
    assert not qs.is_lost(page(10), page(94))
    assert not qs.is_lost(qs.PageScore(0, 3, 0), qs.PageScore(0, 0, 0))  # no gold: never lost


def test_metadata_as_score_py() -> None:
    folded = '"floods" close the bridge'
    assert qs.title_ok("\u201cFloods\u201d\u00a0close  the  Bri\u00adDGE", folded)
    assert not qs.title_ok("Floods close the bridge | Daily Paper", "Floods close the bridge")
    assert qs.date_ok("2024-05-03", "2024-05-03 23:47:42+02:00")
    assert not qs.date_ok("2024-05-04", "2024-05-03 23:47:42+02:00")
    assert not qs.date_ok(None, None)
    assert qs.authors_f1(["ann lee", "Carl Doe"], ["Ann Lee", "Bo Kim"]) == pytest.approx(0.5)
    assert qs.authors_f1([], ["Ann Lee"]) == 0.0
    assert qs.authors_f1(["Ann Lee"], []) is None
    assert qs.split_authors(" Ann Lee; ;Bo Kim ") == ["Ann Lee", "Bo Kim"]
    scores = [qs.MetaScore(True, True, None), qs.MetaScore(False, True, 0.5)]
    assert qs.meta_metrics(scores) == {"title": 0.5, "date": 1.0, "authors": 0.5}


def _news_items() -> list[qs.Item]:
    gold = qs.Gold(text=BODY, neutral=STANDFIRST, title="Bridge closed", date="2024-05-03",
                   authors=("Ann Lee",))
    return [qs.Item(key, None, Path("unused"), gold) for key in ("a", "b")]


def _run(preds: dict[str, qs.Prediction], ms: float = 10.0) -> qs.Run:
    return qs.Run(preds=preds, ms=[ms] * len(preds))


def test_evaluate_lists_lost_pages_with_their_drops_and_metadata_misses() -> None:
    first, second = BODY.splitlines()
    ours = {"a": qs.Prediction(BODY, "Bridge closed", "2024-05-03", ["Ann Lee"]),
            "b": qs.Prediction(first, "Bridge closed | Paper", "2024-05-03", ["Ann Lee"],
                               drops={"post.tail": 1, "repeat": 4})}
    base = {key: qs.Prediction(BODY, "Bridge closed", "2024-05-03", ["Ann Lee"])
            for key in ("a", "b")}
    runs = {"cleaner": _run(ours, 11.0), "trafilatura": _run(base, 10.0)}
    result = qr.evaluate(qs.NEWS, _news_items(), runs, frozenset(runs))
    row = result["systems"]["cleaner"]
    assert (row["lost_pages"], row["lost"], row["ms_ratio"]) == (1, ["b"], 1.1)
    assert row["title"] == 0.5 and row["authors"] == 1.0
    [page] = result["trailing"]
    assert page["key"] == "b" and page["lost"]
    assert list(page["drops"]) == ["repeat", "post.tail"]  # largest first
    assert page["gold_missed"] == [f"[baseline has it] {second}"]
    assert result["metadata_misses"]["title"] == [
        {"key": "b", "gold": "Bridge closed", "ours": "Bridge closed | Paper"}]
    assert result["page_scores"]["b"]["cleaner"]["title"] is False


def test_eval_trailing_names_missed_and_leaked_snippets() -> None:
    gold = qs.Gold(with_=("kept line one", "kept line two"), without=("share this",))
    items = [qs.Item("http://example.org/x", "http://example.org/x", Path("unused"), gold)]
    runs = {"cleaner": _run({items[0].key: qs.Prediction("kept line one\nshare this")}),
            "trafilatura": _run({items[0].key: qs.Prediction("kept line one\nkept line two")})}
    [page] = qr.evaluate(qs.EVAL, items, runs)["trailing"]
    assert page["gold_missed"] == ["[baseline has it] kept line two"]
    assert page["cleaner_only"] == ["[only cleaner] share this"]


def test_cleaner_alone_has_no_baseline_figures(capsys: pytest.CaptureFixture[str]) -> None:
    ours = {key: qs.Prediction(BODY, authors=[]) for key in ("a", "b")}
    result = qr.evaluate(qs.NEWS, _news_items(), {"cleaner": _run(ours)},
                         frozenset({"cleaner"}))
    row = result["systems"]["cleaner"]
    assert row["lost_pages"] is None and row["ms_ratio"] is None and "trailing" not in result
    qr.print_set(qs.NEWS, result, 3)
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("cleaner"))
    assert line.split()[4:7] == ["-", "10.0", "-"]


def test_compare_reports_changes_and_moved_pages(capsys: pytest.CaptureFixture[str]) -> None:
    def payload(text_b: str) -> dict:
        preds = {"a": qs.Prediction(BODY), "b": qs.Prediction(text_b)}
        result = qr.evaluate(qs.NEWS, _news_items(), {"cleaner": _run(preds)})
        return {"systems": {"cleaner": {qs.NEWS: result["systems"]["cleaner"]}},
                "sets": {qs.NEWS: {k: v for k, v in result.items() if k != "systems"}}}

    first = BODY.splitlines()[0]
    qr.print_compare(payload(first), payload(BODY), "before.json")
    out = capsys.readouterr().out
    before = qs.score_page(first, BODY)
    assert "cleaner pages whose F1 moved by more than 0.02: 1" in out
    assert f"  b  P 1.000 -> 1.000  R {before.recall:.3f} -> 1.000  " \
           f"F1 {before.f1:.3f} -> 1.000" in out
    assert f"recall {(1 - before.recall) / 2:+.3f}" in out


def test_sets_option_and_missing_data(tmp_path: Path) -> None:
    assert quality.parse_sets("all") == [qs.ASB, qs.EVAL, qs.NEWS]
    assert quality.parse_sets("news, asb") == [qs.ASB, qs.NEWS]
    with pytest.raises(Exception, match="unknown set"):
        quality.parse_sets("asb,web")
    (tmp_path / qs.EVAL).mkdir()
    with pytest.raises(SystemExit) as stop:
        quality.main(["--data", str(tmp_path), "--set", "all", "--out", str(tmp_path / "q.json")])
    message = str(stop.value.code)
    assert "benchmark data not found" in message
    assert qs.ASB in message and qs.NEWS in message and qs.EVAL not in message


def test_trailing_page_notes_a_decomposed_gold() -> None:
    decomposed = "Die A\u0308rzte u\u0308ber\u00adnahmen die Fu\u0308hrung am fru\u0308hen Morgen."
    composed = unicodedata.normalize("NFC", decomposed)
    items = [qs.Item("a", None, Path("unused"), qs.Gold(text=decomposed))]
    runs = {"cleaner": _run({"a": qs.Prediction(composed, note="removed_words 0")}),
            "trafilatura": _run({"a": qs.Prediction(decomposed)})}
    [page] = qr.evaluate(qs.NEWS, items, runs)["trailing"]
    assert page["lost"] and page["cleaner"]["r"] < 0.8
    assert page["nfc"] == {"p": 1.0, "r": 1.0, "f1": 1.0}
    assert page["note"] == "removed_words 0"
