"""The three quality sets of bench/quality.py: their pages, their gold and their metrics.

Pure functions over texts plus the loaders; no extractor is imported here, so the metrics can be
tested on made-up texts (tests/test_bench_quality.py) without the benchmark data.

- asb-dev: `score_page` (word 4-gram shingles), precision and recall averaged over pages.
- news-golden: the same against the gold sections, the standfirst neutral (`score_page` with
  `neutral`), plus title, date and authors as the set's score.py defines them.
- trafilatura-eval: `score_snippets` (verbatim "with"/"without" snippets), counts pooled.

Every page gets a PageScore (tp, fp, fn) whichever the set, so a page's recall (the share of
the gold it kept) means the same thing everywhere and "lost pages" has one definition.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ASB, EVAL, NEWS = "asb-dev", "trafilatura-eval", "news-golden"
SET_NAMES = {"asb": ASB, "eval": EVAL, "news": NEWS}  # --set value -> directory name
LOST_RECALL = 0.8  # a page the system keeps less than this share of ...
BASELINE_KEPT = 0.95  # ... while the baseline keeps at least this much, is a lost page


@dataclass(frozen=True)
class Gold:
    """What a page should give. Body sets fill `text`; trafilatura-eval fills the snippets."""

    text: str = ""
    neutral: str = ""  # news-golden's standfirst: neither required nor counted against
    with_: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    title: str | None = None
    date: str | None = None
    authors: tuple[str, ...] | None = None  # None: the set has no author gold


@dataclass(frozen=True)
class Item:
    """One benchmark page before it is read: its key, URL, file and gold."""

    key: str
    url: str | None
    path: Path
    gold: Gold


@dataclass(frozen=True)
class Doc:
    """One benchmark page, read and decoded once; every system runs on this same input."""

    key: str
    url: str | None  # the page URL, None when the key is not an http(s) URL
    html: str  # the page decoded as UTF-8, errors replaced
    body: bytes  # `html` re-encoded as UTF-8, for the systems that take bytes
    stoplist: str  # jusText stoplist name


@dataclass
class Prediction:
    """A system's output on one page. Text-only systems leave the metadata None."""

    text: str = ""
    title: str | None = None
    date: str | None = None
    authors: list[str] | None = None
    drops: dict[str, int] = field(default_factory=dict)  # the cleaner's: reason -> count
    note: str | None = None  # the cleaner's: why there is no article, or the words it cut


@dataclass
class Run:
    """One system's outputs on one set: prediction and fastest time per page, the failures."""

    preds: dict[str, Prediction] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # page key -> "ExcType: message"

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else 0.0


def split_authors(value: str | None) -> list[str]:
    """An author field as trafilatura and the cleaner give it ("A; B") as a list of names."""
    return [name.strip() for name in (value or "").split(";") if name.strip()]


# ---------------------------------------------------------------------------------------------
# Loading


def read_html(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def item_page(item: Item, html: str | None = None) -> Any:
    """The records.Page a fetch of `item` would give: its HTML (`html`, or read) as UTF-8, at
    its URL (or its key, which the cleaner only uses as a label). records is imported here
    only: the metrics stay importable without the project's code."""
    from records import Page

    body = (html if html is not None else read_html(item.path)).encode("utf-8")
    url = item.url or item.key
    return Page(url=url, final_url=url, status=200, content_type="text/html", body=body,
                encoding="utf-8", bytes=len(body))


def http_url(key: str) -> str | None:
    return key if key.startswith(("http://", "https://")) else None


def _asb_items(root: Path) -> list[Item]:
    gold = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return [Item(pid, item["url"], root / "html" / f"{pid}.html.gz",
                 Gold(text=item["articleBody"])) for pid, item in gold.items()]


def _eval_items(root: Path) -> list[Item]:
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    return [Item(key, http_url(key), root / "html" / f"{item['file']}.gz",
                 Gold(with_=tuple(item["with"]), without=tuple(item["without"])))
            for key, item in data.items()]


def news_body(entry: dict) -> str:
    """The gold body of a news-golden entry: every section's subheads and paragraphs."""
    return "\n".join(line for s in entry["sections"] for line in s["headline"] + s["paragraphs"])


def _news_items(root: Path) -> list[Item]:
    entries = json.loads((root / "gold.json").read_text(encoding="utf-8"))
    return [Item(e["id"], e["url"], root / e["html"],
                 Gold(text=news_body(e), neutral="\n".join(e["summary"]), title=e["title"],
                      date=e["date"], authors=tuple(e["authors"])))
            for e in entries]


def load_items(set_name: str, root: Path, limit: int | None = None) -> list[Item]:
    """The set's pages in key order, the first `limit` of them when given."""
    loader = {ASB: _asb_items, EVAL: _eval_items, NEWS: _news_items}[set_name]
    return sorted(loader(root), key=lambda item: item.key)[:limit]


# jusText stoplist per <html lang> primary subtag, for the many-language sets (asb-dev uses
# English, as the benchmark's published jusText figure does). Codes without a jusText
# stoplist and pages without a lang attribute fall back to English.
JUSTEXT_LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "fi": "Finnish",
    "hu": "Hungarian", "no": "Norwegian_Bokmal", "nb": "Norwegian_Bokmal", "ar": "Arabic",
}
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.IGNORECASE)


def stoplist_for(html: str, known: Iterable[str]) -> str:
    """The jusText stoplist for the page's <html lang>, English when unknown or unsupported."""
    match = _HTML_LANG.search(html)
    name = JUSTEXT_LANGUAGES.get(match.group(1).lower(), "English") if match else "English"
    return name if name in known else "English"


def read_doc(set_name: str, item: Item, stoplists: Iterable[str]) -> Doc:
    html = read_html(item.path)
    stoplist = "English" if set_name == ASB else stoplist_for(html, stoplists)
    return Doc(key=item.key, url=item.url, html=html, body=html.encode("utf-8"),
               stoplist=stoplist)


# ---------------------------------------------------------------------------------------------
# Body metrics

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(toks: list[str]) -> Counter[tuple[str, ...]]:
    """Word 4-grams as a multiset; 1-3 tokens give one shorter shingle, none give nothing."""
    if len(toks) < 4:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + 4]) for i in range(len(toks) - 3))


@dataclass(frozen=True)
class PageScore:
    """One page's counts: shingles (body sets) or snippets (trafilatura-eval)."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """None when the page predicts nothing that counts (it then costs recall only)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """The share of the gold kept; None when the gold is empty (the page does not count)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float:
        """This page's own F1, 2PR/(P+R) (0 when nothing matches); for page comparisons."""
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(pred: str, gold: str, neutral: str = "") -> PageScore:
    """The shingle metric on one page (asb-dev's README; news-golden's score.py).

    tp = shingles in both (min of the counts), fn = gold beyond that, fp = predicted beyond
    that except shingles of `neutral` (news-golden's standfirst), which count neither way.
    """
    p, g = shingles(tokens(pred)), shingles(tokens(gold))
    skip = set(shingles(tokens(neutral))) if neutral else set()
    tp = sum((p & g).values())
    fp = sum(max(0, c - g[k]) for k, c in p.items() if k not in skip)
    fn = sum(max(0, c - p[k]) for k, c in g.items())
    return PageScore(tp, fp, fn)


def score_snippets(text: str, with_: Iterable[str], without: Iterable[str]) -> PageScore:
    """trafilatura's evaluation on one page: a "with" snippet found verbatim is a tp, else a
    fn; a "without" snippet found is a fp."""
    with_, without = list(with_), list(without)
    found = sum(s in text for s in with_)
    return PageScore(found, sum(s in text for s in without), len(with_) - found)


def score(set_name: str, text: str, gold: Gold) -> PageScore:
    if set_name == EVAL:
        return score_snippets(text, gold.with_, gold.without)
    return score_page(text, gold.text, gold.neutral)


def _harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def body_metrics(set_name: str, scores: Iterable[PageScore]) -> dict[str, float]:
    """F1, precision and recall of a set: means over pages (asb-dev, news-golden: precision
    over pages with a prediction, recall over pages with gold, F1 of the two means), or the
    counts pooled over pages (trafilatura-eval)."""
    scores = list(scores)
    if set_name == EVAL:
        tp, fp, fn = (sum(getattr(s, k) for s in scores) for k in ("tp", "fp", "fn"))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
    else:
        ps = [s.precision for s in scores if s.precision is not None]
        rs = [s.recall for s in scores if s.recall is not None]
        p = sum(ps) / len(ps) if ps else 0.0
        r = sum(rs) / len(rs) if rs else 0.0
    return {"f1": _harmonic(p, r), "precision": p, "recall": r}


def is_lost(ours: PageScore, baseline: PageScore) -> bool:
    """The page is lost: we keep under LOST_RECALL of the gold where the baseline keeps at
    least BASELINE_KEPT of it. Pages with no gold to keep are never lost."""
    if ours.recall is None or baseline.recall is None:
        return False
    return ours.recall < LOST_RECALL and baseline.recall >= BASELINE_KEPT


# ---------------------------------------------------------------------------------------------
# news-golden metadata (as its score.py)

_FOLDS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u00a0": " ", "\u00ad": None, "\u200b": None})


def fold(value: str | None) -> str:
    """Curly quotes straightened, soft hyphens and zero-width spaces dropped, whitespace
    collapsed, case folded."""
    return re.sub(r"\s+", " ", (value or "").translate(_FOLDS)).strip().casefold()


def title_ok(pred: str | None, gold: str | None) -> bool:
    return fold(pred) == fold(gold)


def date_ok(pred: str | None, gold: str | None) -> bool:
    """The same calendar day: the first ten characters of the gold (its local date)."""
    day = (gold or "")[:10]
    return bool(day) and (pred or "")[:10] == day


def authors_f1(pred: Iterable[str] | None, gold: Iterable[str] | None) -> float | None:
    """F1 of the folded name sets; None when the gold names nobody (the page does not count)."""
    want = {fold(a) for a in gold or () if a}
    if not want:
        return None
    got = {fold(a) for a in pred or () if a}
    return 2 * len(want & got) / (len(want) + len(got)) if got else 0.0


@dataclass(frozen=True)
class MetaScore:
    title: bool
    date: bool
    authors: float | None


def score_meta(pred: Prediction, gold: Gold) -> MetaScore:
    return MetaScore(title_ok(pred.title, gold.title), date_ok(pred.date, gold.date),
                     authors_f1(pred.authors, gold.authors))


def meta_metrics(scores: Iterable[MetaScore]) -> dict[str, float]:
    """Title and date: share of all pages; authors: mean F1 over pages whose gold names any."""
    scores = list(scores)
    n = len(scores) or 1
    authors = [s.authors for s in scores if s.authors is not None]
    return {"title": sum(s.title for s in scores) / n, "date": sum(s.date for s in scores) / n,
            "authors": sum(authors) / max(1, len(authors))}
