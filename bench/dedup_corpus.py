"""A labelled near-duplicate corpus made from real article text, for bench/dedup.py.

    .venv/bin/python bench/dedup_corpus.py                    # stats of the 20,000-doc corpus
    .venv/bin/python bench/dedup_corpus.py --docs 2000 --show 5   # and 5 example docs per kind

Sources (read from ../shared/bench, never copied into the project; `--data` overrides):
asb-dev's 83 gold article bodies as given, and the 945 trafilatura-eval pages run through our
Cleaner (the page URL is the evaldata key when it is one, else https://<domain of the file
name>/<file>). Bodies of >= MIN_WORDS words are kept, except: mostly-CJK bodies (the edits
below assume space-separated words; 4 pages) and a body whose 5-word shingles are > 30%
contained in a body kept before it (the same page twice in trafilatura-eval, and two press
releases reprinted by two sites), so no two stories share text by accident. Shingles count
words as cleaner.text.word_count does (a Chinese or Japanese character is a word). That leaves
981 bodies, 805,000 words; 20,000 docs use about 850 of them.

Stories (the unit of truth: two docs are duplicates iff they have the same story id):
  * 10% of the bodies (shuffled, seeded) are follow-up donors; the others are cut into parts of
    PART_WORDS (a target drawn per body) at paragraph boundaries (a paragraph over 250 words is
    first cut at sentence ends), each part >= MIN_WORDS words. A short body is one story
    ("whole"); a long one gives several ("part"), which share topic, names and vocabulary: the
    sibling parts are hard negatives. A part whose shingles are > 30% contained in the parts of
    its body before it is dropped (pages that repeat a block: a quoted tweet, table rows).
  * "follow-up": the first paragraph of a story (>= 8 words, <= 20% of the words of that story
    and of the follow-up) followed by a part of a donor body that is used nowhere else; a
    distinct story sharing its lead with the one it follows.
  * "template": short briefs (match results, earnings, weather warnings, obituaries; 4 templates,
    2% of the stories, ~100 words) with names taken from capitalised words of the real bodies
    and random figures; same phrasing, different facts: distinct stories. The only synthetic
    text, and labelled as such (shape "template").

Documents: every story gets a cluster size from P(s) ~ s^-1.2 on 1..30 (a third of the stories
are singletons; mean about 6; wire stories reach 30 sites), one doc per distinct outlet
(https://site{n}.example, one outlet per ~50 docs, at least 40). The first doc of a story is its "original"
(the story text as is); every other doc is a copy made by one variant kind:
  exact         the same text at another URL
  boilerplate   1-2 lines of another publisher's header and 1-4 of its footer ("Sign up for
                ...", "Copyright 2025 X. All rights reserved.", "Related: <headline>", "Share
                this article", "Reporting by ...") prepended/appended, as a cleaner may leave
  para-removed  one or two paragraphs (not the first) dropped, <= 25% of the words
  trimmed       the last paragraph(s) cut, <= 25% of the words, as wire subscribers do
  reworded      a few sentences edited: 2-5% of the words substituted (by words of the same
                body), dropped or inserted, the edits grouped in sentences
  restandfirst  another first line: the first paragraph replaced (or, when it is long, a line
                put before it) by a heavily reworded version of the first sentence
  punct-case    quotes, dashes, punctuation and some letter case changed (content_hash folds
                these away: an exact duplicate for the hash)
  combo         2-3 of the above (boilerplate, one removal, reworded, restandfirst, punct-case)
  house-block   the text as is, at an outlet that adds its house block (below)
Outlets: HOUSE_SHARE of them add their own fixed block (an "about us" paragraph, a tip line, a
donation appeal; 35-100 words) to every doc they publish, at the top or bottom: the "house
block", a hard negative shared by all stories of that outlet. Originals of multi-doc stories are
placed at outlets without one (so a kind measures its own change, not the block); singletons and
copies go anywhere, and a copy at such an outlet lists "house-block" in its `ops` (an "exact"
copy there is of kind "house-block").

Per-doc labels: story, kind, ops (what was applied), outlet, plus per story its shape
(whole / part / follow-up / template), body (source body id: shared by sibling parts), family
(the story a follow-up took its lead from) and template.

Scaling: stories are grouped by source body (a follow-up joins its lead's group) and groups are
taken in a seeded order until the docs add up to --docs; the last story's cluster is cut to fit.
A small --docs thus keeps whole groups, siblings and follow-ups included. Everything is
deterministic for a given --seed (random.Random; sources sorted by key).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import re
import statistics
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere: the project's packages

from cleaner.text import content_hash, fold, word_count  # noqa: E402

DEFAULT_DATA = HERE.parents[1] / "shared" / "bench"
ASB, EVAL = "asb-dev", "trafilatura-eval"
DEFAULT_DOCS = 20_000
DEFAULT_SEED = 20251127

MIN_WORDS = 80  # a source body (and a part of one) has at least this many words
PART_WORDS = (110, 330)  # a body's part length target, drawn per body
LONG_PARAGRAPH = 250  # words: a longer paragraph is cut at sentence ends before splitting
DONOR_SHARE = 0.10  # bodies kept whole for follow-up stories
LEAD_SHARE = 0.20  # a follow-up's lead is at most this share of its origin story
LEAD_MIN_WORDS = 8
MAX_CLUSTER = 30
SIZE_EXPONENT = 1.2  # P(cluster size s) ~ s^-SIZE_EXPONENT on 1..MAX_CLUSTER
DOCS_PER_OUTLET = 50
HOUSE_SHARE = 0.12  # outlets adding their own block to every doc
TEMPLATE_SHARE = 0.02  # template briefs, as a share of the stories
MAX_REMOVED = 0.25  # removal variants drop at most this share of the words
SOURCE_CONTAINMENT = 0.30  # a body more contained than this in a kept one is dropped
SHINGLE = 5

KINDS = ("exact", "boilerplate", "para-removed", "trimmed", "reworded", "restandfirst",
         "punct-case", "combo")
KIND_WEIGHTS = (22, 16, 10, 10, 14, 8, 8, 12)
ORIGINAL = "original"
HOUSE = "house-block"

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Source:
    key: str  # "asb-dev:<id>" or "trafilatura-eval:<evaldata key>"
    url: str
    title: str | None
    text: str
    words: int


@dataclass
class Story:
    id: int
    text: str
    title: str
    shape: str  # "whole" | "part" | "follow-up" | "template"
    body: str  # source body key (sibling parts share it); a template story: "template:<n>"
    family: int | None = None  # follow-up: the story whose lead it took
    template: int | None = None
    size: int = 0  # docs made of it


@dataclass
class Outlet:
    id: int
    host: str
    name: str
    house: str | None = None  # the block it adds to every doc, if any
    house_first: bool = False  # ... before the text rather than after it


@dataclass
class Doc:
    idx: int
    story: int
    kind: str  # "original" or one of KINDS
    ops: list[str]
    outlet: int
    url: str
    title: str
    date: str
    text: str
    word_count: int = 0
    content_hash: str = ""


@dataclass
class Corpus:
    docs: list[Doc]
    stories: dict[int, Story]
    outlets: list[Outlet]
    sources: int  # source bodies available
    source_words: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """Counts that describe the corpus (they go into the results JSON)."""
        sizes = Counter(s.size for s in self.stories.values() if s.size)
        used = [s for s in self.stories.values() if s.size]
        true_pairs = sum(n * (n - 1) // 2 for n in (s.size for s in used))
        buckets = {"1": 0, "2": 0, "3-5": 0, "6-10": 0, "11-20": 0, "21-30": 0}
        for size, n in sizes.items():
            label = ("1" if size == 1 else "2" if size == 2 else "3-5" if size <= 5
                     else "6-10" if size <= 10 else "11-20" if size <= 20 else "21-30")
            buckets[label] += n
        house_docs = sum(HOUSE in d.ops for d in self.docs)
        return {
            "docs": len(self.docs),
            "stories": len(used),
            "true_pairs": true_pairs,
            "all_pairs": len(self.docs) * (len(self.docs) - 1) // 2,
            "source_bodies": self.sources,
            "source_words": self.source_words,
            "source_bodies_used": len({s.body for s in used if s.shape != "template"}),
            "kinds": dict(Counter(d.kind for d in self.docs).most_common()),
            "ops": dict(Counter(op for d in self.docs for op in d.ops).most_common()),
            "story_shapes": dict(Counter(s.shape for s in used).most_common()),
            "cluster_sizes": buckets,
            "cluster_size_max": max(sizes) if sizes else 0,
            "cluster_size_mean": round(len(self.docs) / max(len(used), 1), 2),
            "singleton_stories": sizes.get(1, 0),
            "outlets": len(self.outlets),
            "house_block_outlets": sum(o.house is not None for o in self.outlets),
            "house_block_docs": house_docs,
            "words_median": statistics.median(d.word_count for d in self.docs) if self.docs else 0,
            "seed": self.seed,
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------------------------
# Sources


class DataMissing(Exception):
    pass


def read_html(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


_FILE_DOMAIN = re.compile(r"^((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?=[-.])")


def eval_url(key: str, file: str) -> str:
    """The page's URL: the evaldata key when it is one, else the domain in the file name."""
    if key.startswith(("http://", "https://")):
        return key
    name = key.split("::", 1)[-1] if "::" in key else file
    match = _FILE_DOMAIN.match(name) or _FILE_DOMAIN.match(file)
    domain = match.group(1).lower() if match else "unknown.example"
    return f"https://{domain}/{file}"


_CLEANER: Any = None


def _clean_page(job: tuple[str, str, str]) -> tuple[str, str, str | None, str]:
    """(key, url, title, text) of one trafilatura-eval page, cleaned by our Cleaner."""
    global _CLEANER
    key, url, path = job
    if _CLEANER is None:
        import logging

        from cleaner import Cleaner
        logging.disable(logging.WARNING)  # a page the cleaner gives up on is simply not used
        warnings.simplefilter("ignore")
        _CLEANER = Cleaner()
    from records import Page

    body = read_html(Path(path)).decode("utf-8", errors="replace").encode("utf-8")
    page = Page(url=url, final_url=url, status=200, content_type="text/html", body=body,
                encoding="utf-8", fetched_at="2026-01-01T00:00:00+00:00")
    article = _CLEANER.clean(page).article
    return key, url, article.title if article else None, article.text if article else ""


def load_sources(data: Path, workers: int | None = None) -> list[Source]:
    """Every usable body, sorted by key (see the module docstring for what is dropped)."""
    missing = [data / s for s in (ASB, EVAL) if not (data / s).is_dir()]
    if missing:
        raise DataMissing(", ".join(map(str, missing)))
    out: list[Source] = []
    gold = json.loads((data / ASB / "ground-truth.json").read_text(encoding="utf-8"))
    for pid, item in gold.items():
        text = "\n".join(line.strip() for line in item["articleBody"].splitlines()
                         if line.strip())
        out.append(Source(f"{ASB}:{pid}", item["url"], None, text, word_count(text)))
    evaldata = json.loads((data / EVAL / "evaldata.json").read_text(encoding="utf-8"))
    jobs = [(key, eval_url(key, item["file"]), str(data / EVAL / "html" / f"{item['file']}.gz"))
            for key, item in sorted(evaldata.items())]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for key, url, title, text in pool.map(_clean_page, jobs, chunksize=16):
            out.append(Source(f"{EVAL}:{key}", url, title, text, word_count(text)))
    kept = [s for s in sorted(out, key=lambda s: s.key)
            if s.words >= MIN_WORDS and len(_CJK.findall(s.text)) < 0.2 * len(s.text)]
    return drop_overlapping(kept)


# Words as cleaner.text.word_count counts them: each Chinese or Japanese character is one.
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK_CHARS}]|[^\W{_CJK_CHARS}]+")


def shingles(text: str) -> set[str]:
    """5-word shingles of the folded text (fold: case, quotes, punctuation away)."""
    toks = _TOKEN.findall(fold(text))
    if len(toks) < SHINGLE:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i:i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1)}


def drop_overlapping(sources: list[Source]) -> list[Source]:
    """Drop a body whose shingles are > SOURCE_CONTAINMENT contained in an earlier kept one."""
    owners: dict[str, list[int]] = defaultdict(list)
    kept: list[Source] = []
    for src in sources:
        sh = shingles(src.text)
        shared: Counter[int] = Counter()
        for s in sh:
            shared.update(owners.get(s, ()))
        if sh and shared and shared.most_common(1)[0][1] > SOURCE_CONTAINMENT * len(sh):
            continue
        for s in sh:
            owners[s].append(len(kept))
        kept.append(src)
    return kept


# ---------------------------------------------------------------------------------------------
# Stories


def paragraphs(text: str) -> list[str]:
    return [p for p in (line.strip() for line in text.split("\n")) if p]


def _sentence_chunks(paragraph: str, target: int = 100) -> list[str]:
    """A long paragraph as lines of ~target words, cut at sentence ends."""
    chunks: list[str] = []
    current: list[str] = []
    n = 0
    for sentence in _SENTENCE_END.split(paragraph):
        current.append(sentence)
        n += len(sentence.split())
        if n >= target:
            chunks.append(" ".join(current))
            current, n = [], 0
    if current:
        chunks.append(" ".join(current))
    return chunks


def split_body(text: str, target: int) -> list[str]:
    """The body cut at paragraph boundaries into parts of about `target` words (>= MIN_WORDS)."""
    paras: list[str] = []
    for p in paragraphs(text):
        paras.extend(_sentence_chunks(p) if len(p.split()) > LONG_PARAGRAPH else [p])
    counts = [word_count(p) for p in paras]
    total = sum(counts)
    k = max(1, round(total / target))
    if k == 1:
        return ["\n".join(paras)]
    parts: list[list[str]] = [[]]
    done = 0
    for p, n in zip(paras, counts):
        if done >= len(parts) * total / k and len(parts) < k:
            parts.append([])
        parts[-1].append(p)
        done += n
    # a short part (few, long paragraphs) joins the one before it
    merged: list[list[str]] = []
    for part in parts:
        if merged and sum(word_count(p) for p in part) < MIN_WORDS:
            merged[-1].extend(part)
        else:
            merged.append(part)
    if len(merged) > 1 and sum(word_count(p) for p in merged[0]) < MIN_WORDS:
        merged[1:2] = [merged[0] + merged[1]]
        merged.pop(0)
    return ["\n".join(part) for part in merged]


def distinct_parts(texts: list[str]) -> tuple[list[str], int]:
    """The parts of one body, less those whose shingles are > SOURCE_CONTAINMENT contained in
    the parts kept before them (a page repeating a block or table rows would otherwise give
    "distinct" stories sharing most of their text)."""
    out: list[str] = []
    seen: set[str] = set()
    for text in texts:
        sh = shingles(text)
        if sh and len(sh & seen) > SOURCE_CONTAINMENT * len(sh):
            continue
        seen |= sh
        out.append(text)
    return out, len(texts) - len(out)


def _title(src: Source, text: str) -> str:
    if src.title:
        return src.title
    return " ".join(text.split()[:9]).rstrip(",;:") + "…"


def cluster_size(rng: Random) -> int:
    return rng.choices(_SIZES, _SIZE_WEIGHTS)[0]


_SIZES = list(range(1, MAX_CLUSTER + 1))
_SIZE_WEIGHTS = [s ** -SIZE_EXPONENT for s in _SIZES]


def make_stories(sources: list[Source], rng: Random) -> tuple[list[list[Story]], list[str]]:
    """Stories grouped by source body (follow-ups join their lead's group), groups shuffled."""
    order = list(sources)
    rng.shuffle(order)
    n_donors = round(DONOR_SHARE * len(order))
    donors, bodies = order[:n_donors], order[n_donors:]
    groups: list[list[Story]] = []
    next_id = 0
    dropped = 0
    for src in bodies:
        texts, n = distinct_parts(split_body(src.text, rng.randint(*PART_WORDS)))
        dropped += n
        shape = "whole" if len(texts) == 1 else "part"
        group = []
        for text in texts:
            group.append(Story(next_id, text, _title(src, text), shape, src.key))
            next_id += 1
        groups.append(group)
    # follow-ups: a lead (first paragraph) from a story, then a donor body's part; the lead is
    # at most LEAD_SHARE of the words of both stories
    leads = [(g, s, lead) for g, group in enumerate(groups) for s in group
             if LEAD_MIN_WORDS <= (lead := word_count(paragraphs(s.text)[0]))
             <= LEAD_SHARE * word_count(s.text)]
    rng.shuffle(leads)
    notes = []
    follow_ups = 0
    for src in donors:
        donor_parts, n = distinct_parts(split_body(src.text, rng.randint(*PART_WORDS)))
        dropped += n
        for text in donor_parts:
            room = LEAD_SHARE / (1 - LEAD_SHARE) * word_count(text)  # lead/(lead+text) <= share
            at = next((k for k in range(len(leads) - 1, -1, -1) if leads[k][2] <= room), None)
            if at is None:
                continue
            g, origin, _ = leads.pop(at)
            lead = paragraphs(origin.text)[0]
            groups[g].append(Story(next_id, lead + "\n" + text, _title(src, text), "follow-up",
                                   src.key, family=origin.id))
            next_id += 1
            follow_ups += 1
    notes.append(f"{len(bodies)} bodies cut into stories, {len(donors)} donor bodies gave "
                 f"{follow_ups} follow-ups; {dropped} parts dropped as > "
                 f"{SOURCE_CONTAINMENT:.0%} contained in an earlier part of their body")
    # template briefs, in groups of their template so a small corpus keeps several together
    n_templates = round(TEMPLATE_SHARE * next_id)
    vocab = _template_vocabulary(sources)
    by_template: list[list[Story]] = [[] for _ in TEMPLATES]
    for t in range(n_templates):
        tid = t % len(TEMPLATES)
        text, title = fill_template(tid, rng, vocab)
        by_template[tid].append(Story(next_id, text, title, "template", f"template:{tid}",
                                      template=tid))
        next_id += 1
    groups.extend(group for group in by_template if group)
    rng.shuffle(groups)
    return groups, notes


# ---------------------------------------------------------------------------------------------
# Template briefs: same phrasing, different facts


TEMPLATES = (
    (
        "{a} beat {b} {s1}-{s2} on {day} in front of {n} spectators at {place}.",
        "{p1} opened the scoring after {m1} minutes, and {p2} added a second before half-time "
        "to give {a} a comfortable lead.",
        "{b} pulled one back through {p3} in the {m2}th minute but could not find an equaliser "
        "despite late pressure.",
        "The result leaves {a} {pos} in the table with {pts} points from {games} games, while "
        "{b} remain {pos2}. {a} travel to {c} next {day2}; {b} host {d}.",
    ),
    (
        "{co} reported {q} quarter revenue of {r} million, up {pct} percent from a year earlier, "
        "and net income of {ni} million, or {eps} per share.",
        "Analysts polled by the company had expected revenue of {r2} million. Chief executive "
        "{p1} said demand in {place} was stronger than expected and that the company would "
        "keep investing in {thing}.",
        "{co} raised its full-year forecast to between {lo} and {hi} million. Shares rose "
        "{pct2} percent in early trading on {day}.",
        "The company will hold a conference call for investors at {hour} on {day2}. A recording "
        "will be available on its website for {n2} days.",
    ),
    (
        "The weather service has issued a {colour} warning for {place} from {day} evening until "
        "{day2} morning, with up to {mm} millimetres of rain expected in {n2} hours.",
        "Gusts of up to {kmh} kilometres per hour are possible on higher ground and along the "
        "coast near {c}. Residents are advised to secure loose objects and to avoid travelling "
        "unless necessary.",
        "Temperatures will fall to around {deg} degrees overnight. {p1}, a spokesperson for "
        "the service, said conditions should improve by {day3} afternoon.",
        "Delays are expected on the {road} and on rail services between {c} and {d}. Updates "
        "will be posted every {n3} hours.",
    ),
    (
        "{p1}, who founded {co} in {year} and led it for {n2} years, has died at the age of "
        "{age}, the company said on {day}.",
        "Born in {place}, {p1} studied {thing} before joining {c} as an apprentice. Under "
        "{p1}'s leadership {co} grew from a workshop of {n3} employees into a business with "
        "{n} staff.",
        "{p2}, the current chief executive, said {p1} had been a mentor to generations of "
        "engineers and would be greatly missed.",
        "{p1} is survived by {kids} children. A memorial service will be held in {d} on {day2}.",
    ),
)


def _template_vocabulary(sources: Sequence[Source]) -> dict[str, list[str]]:
    """Capitalised words from the real bodies (names and places to fill templates with)."""
    caps: Counter[str] = Counter()
    for src in sources[:400]:
        caps.update(w for w in re.findall(r"\b[A-Z][a-z]{3,}\b", src.text))
    names = sorted(w for w, n in caps.items() if n >= 2)
    return {"names": names or ["Ashford", "Bellmont", "Carver", "Dunmore"]}


def fill_template(tid: int, rng: Random, vocab: dict[str, list[str]]) -> tuple[str, str]:
    names = vocab["names"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    def pick() -> str:
        return rng.choice(names)

    def one(*options: str) -> str:
        return rng.choice(options)

    # the calls are made in this order (the dict's), so a seed always gives the same briefs
    values = {
        "a": f"{pick()} {one('United', 'City', 'Rovers', 'Athletic')}",
        "b": f"{pick()} {one('Town', 'FC', 'Wanderers', 'Albion')}",
        "c": pick(), "d": pick(), "place": pick(),
        "co": f"{pick()} {one('Corp', 'Group', 'Holdings', 'Systems')}",
        "p1": f"{pick()} {pick()}", "p2": f"{pick()} {pick()}", "p3": f"{pick()} {pick()}",
        "s1": rng.randint(2, 5), "s2": rng.randint(0, 1),
        "n": f"{rng.randint(2, 60)},{rng.randint(100, 999)}",
        "m1": rng.randint(3, 40), "m2": rng.randint(50, 89),
        "pos": one("first", "second", "third", "fifth"),
        "pos2": one("bottom", "12th", "ninth", "in mid-table"), "pts": rng.randint(10, 60),
        "games": rng.randint(10, 30), "day": one(*days), "day2": one(*days),
        "day3": one(*days), "q": one("first", "second", "third", "fourth"),
        "r": rng.randint(40, 900), "r2": rng.randint(40, 900), "pct": rng.randint(1, 30),
        "pct2": rng.randint(1, 12), "ni": rng.randint(2, 90),
        "eps": f"{rng.randint(0, 3)}.{rng.randint(10, 99)}",
        "thing": one("software", "logistics", "batteries", "retail", "chemistry", "design"),
        "lo": rng.randint(100, 500), "hi": rng.randint(500, 900),
        "hour": f"{rng.randint(8, 17)}:00", "n2": rng.randint(2, 40), "n3": rng.randint(2, 12),
        "colour": one("yellow", "amber", "red"), "mm": rng.randint(20, 120),
        "kmh": rng.randint(60, 140), "deg": rng.randint(-5, 12),
        "road": f"A{rng.randint(1, 99)}", "year": rng.randint(1950, 1995),
        "age": rng.randint(70, 98), "kids": one("two", "three", "four"),
    }
    text = "\n".join(line.format(**values) for line in TEMPLATES[tid])
    title = text.split(".")[0][:90]
    return text, title


# ---------------------------------------------------------------------------------------------
# Outlets and their blocks

_OUTLET_WORDS = (
    "Daily Morning Evening Weekly Northern Southern Coastal Valley Metro Capital Union Free "
    "Independent Chronicle Courier Herald Gazette Observer Post Times Tribune Ledger Sentinel "
    "Record Journal Dispatch Examiner Standard Mirror Register Bulletin Voice Review Beacon"
).split()

_HOUSE_SENTENCES = (
    "{name} is an independent, reader-funded newsroom covering politics, business and culture "
    "since {year}.",
    "Our journalism is free to read because readers like you support it. Become a member today "
    "for as little as {price} a month.",
    "Got a news tip? Contact the {name} newsroom at tips@{host} or message us securely; we "
    "protect our sources.",
    "{name} welcomes letters to the editor. Write to letters@{host} and include your full name "
    "and town; letters may be edited for length.",
    "This story is part of {name}'s local reporting project, supported by a grant from the "
    "{fund} Foundation. The foundation has no say over our editorial decisions.",
    "Corrections: {name} is committed to accuracy. If you spot an error, please tell us at "
    "corrections@{host}.",
    "Follow {name} on social media and listen to our daily podcast, {name} Briefing, wherever "
    "you get your podcasts.",
    "About {name}: we publish in-depth reporting, analysis and opinion from our team of {staff} "
    "journalists across the region.",
)

_HEADER_LINES = (
    "Advertisement",
    "Listen to this article · {mins} min",
    "{pub} | {section}",
    "By {person} | {pub}",
    "Updated {date}",
    "Sign up for the {pub} newsletter to get the day's top stories in your inbox.",
)

_FOOTER_LINES = (
    "Copyright {year} {pub}. All rights reserved.",
    "Related: {headline}",
    "Read more: {headline}",
    "Share this article",
    "Follow {pub} on Facebook, X and Instagram.",
    "This article was originally published by {pub}.",
    "Reporting by {person}; editing by {person2}",
    "Subscribe to {pub} for unlimited access to our journalism.",
    "© {pub} {year}",
    "Sign up for our free newsletter and never miss a story.",
)

_PEOPLE = ("Anna Keller", "James Ortega", "Priya Nair", "Lukas Brandt", "Sofia Rossi",
           "Tom Whitfield", "Mei Chen", "Jonas Berg", "Claire Dubois", "Omar Haddad")
_SECTIONS = ("World", "Politics", "Business", "Local", "Sport", "Culture", "Opinion")


def make_outlets(n: int, rng: Random) -> list[Outlet]:
    outlets = []
    for i in range(n):
        name = f"The {rng.choice(_OUTLET_WORDS)} {rng.choice(_OUTLET_WORDS)}"
        outlets.append(Outlet(i, f"site{i}.example", name))
    for outlet in rng.sample(outlets, max(1, round(HOUSE_SHARE * n))):
        fill = dict(name=outlet.name, host=outlet.host, year=rng.randint(1850, 2015),
                    price=f"${rng.randint(3, 12)}", fund=rng.choice(_OUTLET_WORDS),
                    staff=rng.randint(8, 120))
        k = rng.randint(2, 4)
        outlet.house = " ".join(s.format(**fill) for s in rng.sample(_HOUSE_SENTENCES, k))
        if rng.random() < 0.5:  # sometimes two paragraphs
            parts = outlet.house.split(". ", 1)
            outlet.house = parts[0] + ".\n" + parts[1] if len(parts) == 2 else outlet.house
        outlet.house_first = rng.random() < 0.25
    return outlets


# ---------------------------------------------------------------------------------------------
# Variants: each takes the text (paragraphs joined by "\n") and returns the new text, or None
# when it does not apply to this text (then another kind is drawn).


def _words_in(paras: Iterable[str]) -> int:
    return sum(word_count(p) for p in paras)


def para_removed(text: str, rng: Random, **_: Any) -> str | None:
    paras = paragraphs(text)
    total = _words_in(paras)
    candidates = list(range(1, len(paras)))
    if len(paras) < 3:
        return None
    for _try in range(8):
        k = rng.choice((1, 1, 2)) if len(paras) >= 4 else 1
        drop = set(rng.sample(candidates, k))
        if _words_in(paras[i] for i in drop) <= MAX_REMOVED * total:
            return "\n".join(p for i, p in enumerate(paras) if i not in drop)
    return None


def trimmed(text: str, rng: Random, **_: Any) -> str | None:
    paras = paragraphs(text)
    total = _words_in(paras)
    cut = 0
    for k in range(1, len(paras)):
        if _words_in(paras[-k:]) > MAX_REMOVED * total:
            break
        cut = k
    if cut == 0:
        return None
    return "\n".join(paras[:-rng.randint(1, cut)])


def reworded(text: str, rng: Random, rate: float | None = None, **_: Any) -> str | None:
    """Edit 2-5% of the words, grouped in a few sentences: substitute (a word of the same
    text), drop or insert."""
    paras = [p.split(" ") for p in paragraphs(text)]
    pool = [w for p in paras for w in p if len(w) > 3]
    total = sum(len(p) for p in paras)
    if total < 20 or not pool:
        return None
    budget = max(1, round((rate or rng.uniform(0.02, 0.05)) * total))
    # sentence spans as (paragraph, start, end) token ranges
    spans = []
    for pi, toks in enumerate(paras):
        start = 0
        for ti, tok in enumerate(toks):
            if tok.endswith((".", "!", "?", "…")) or ti == len(toks) - 1:
                spans.append((pi, start, ti + 1))
                start = ti + 1
    while budget > 0:
        pi, start, end = rng.choice(spans)
        for _e in range(min(budget, rng.randint(1, 4))):
            toks = paras[pi]
            end = min(end, len(toks))
            if end <= start:
                break
            at = rng.randrange(start, end)
            op = rng.random()
            if op < 0.6:
                word = rng.choice(pool)
                toks[at] = word + toks[at][len(toks[at].rstrip(".,;:!?")):]  # keep punctuation
            elif op < 0.8 and len(toks) > 1:
                del toks[at]
                end -= 1
            else:
                toks.insert(at, rng.choice(pool).rstrip(".,;:!?"))
                end += 1
            budget -= 1
    return "\n".join(" ".join(t) for t in paras if t)


def restandfirst(text: str, rng: Random, **_: Any) -> str | None:
    """Another first line: a heavy rewording of the first sentence replaces the first
    paragraph when that is short, else goes before it."""
    paras = paragraphs(text)
    first_sentence = _SENTENCE_END.split(paras[0])[0]
    toks = first_sentence.split()
    if len(toks) < 6:
        return None
    pool = [w for w in text.split() if len(w) > 3]
    new = [rng.choice(pool) if rng.random() < 0.5 else t for t in toks]
    cut = rng.randrange(len(new) // 3, len(new))  # move a clause to the front
    new = new[cut:] + new[:cut]
    line = " ".join(new).rstrip(".,;:") + "."
    line = line[0].upper() + line[1:]
    if word_count(paras[0]) <= 0.2 * word_count(text) and len(paras) > 1:
        return "\n".join([line, *paras[1:]])
    return "\n".join([line, *paras])


_QUOTES = (("“", '"'), ("”", '"'), ("’", "'"), ("‘", "'"), (" — ", " - "), (" – ", " - "))


def punct_case(text: str, rng: Random, **_: Any) -> str | None:
    """Quotes straightened or curled, dashes, commas and some letter case changed."""
    out = text
    curly = any(a in out for a, _ in _QUOTES[:4])
    for a, b in _QUOTES:
        out = out.replace(a, b) if curly else out
    if not curly:
        out = re.sub(r'"(\w[^"]*?)"', r"“\1”", out).replace(" - ", " — ")
    toks = out.split(" ")
    for i in rng.sample(range(len(toks)), max(1, len(toks) // 50)):
        toks[i] = toks[i].lower() if toks[i][:1].isupper() else toks[i].capitalize()
    out = " ".join(toks)
    out = re.sub(r",(?= )", lambda m: "" if rng.random() < 0.2 else ",", out)
    if rng.random() < 0.3:  # the first line in capitals, as some feeds print the dateline
        first, _, rest = out.partition("\n")
        out = first.upper() + ("\n" + rest if rest else "")
    return out if out != text else None


def boilerplate(text: str, rng: Random, headlines: Sequence[str] = (), **_: Any) -> str | None:
    pub = f"The {rng.choice(_OUTLET_WORDS)} {rng.choice(_OUTLET_WORDS)}"
    fill = dict(pub=pub, section=rng.choice(_SECTIONS), person=rng.choice(_PEOPLE),
                person2=rng.choice(_PEOPLE), mins=rng.randint(2, 9), year=rng.randint(2019, 2026),
                date=f"{rng.randint(1, 28)} {rng.choice(['March', 'June', 'October'])} 2025")

    def line(template: str) -> str:  # every "Related:" line names another story
        headline = rng.choice(headlines) if headlines else "More from our newsroom"
        return template.format(**fill, headline=headline)

    head = [line(s) for s in rng.sample(_HEADER_LINES, rng.randint(0, 2))]
    tail = [line(s) for s in rng.sample(_FOOTER_LINES, rng.randint(0 if head else 1, 4))]
    return "\n".join([*head, text, *tail])


VARIANTS = {
    "boilerplate": boilerplate,
    "para-removed": para_removed,
    "trimmed": trimmed,
    "reworded": reworded,
    "restandfirst": restandfirst,
    "punct-case": punct_case,
}


def apply_ops(text: str, ops: list[str], rng: Random, headlines: Sequence[str]) -> str | None:
    # content edits first, the other publisher's lines around the result last
    for op in sorted(ops, key=lambda o: o == "boilerplate"):
        new = VARIANTS[op](text, rng, headlines=headlines)
        if new is None:
            return None
        text = new
    return text


def draw_ops(kind: str, rng: Random) -> list[str]:
    if kind == "exact":
        return []
    if kind != "combo":
        return [kind]
    removal = rng.choice(("para-removed", "trimmed", None))
    others = ["boilerplate", "reworded", "restandfirst", "punct-case"]
    ops = rng.sample(others, rng.randint(1, 2) if removal else rng.randint(2, 3))
    return ops + ([removal] if removal else [])


# ---------------------------------------------------------------------------------------------
# The corpus


def build_corpus(sources: list[Source], docs: int = DEFAULT_DOCS,
                 seed: int = DEFAULT_SEED) -> Corpus:
    rng = Random(seed)
    groups, notes = make_stories(sources, rng)
    # sizes, then groups taken in order until the docs add up
    chosen: list[Story] = []
    total = 0
    for group in groups:
        if total >= docs:
            break
        for story in group:
            story.size = min(cluster_size(rng), docs - total)
            if story.size == 0:
                break
            chosen.append(story)
            total += story.size
    if total < docs:
        raise ValueError(f"the sources support about {total} docs, not {docs}: lower --docs")
    stories = {s.id: s for group in groups for s in group}
    n_outlets = max(MAX_CLUSTER + 10, round(docs / DOCS_PER_OUTLET))
    outlets = make_outlets(n_outlets, rng)
    plain = [o.id for o in outlets if o.house is None]
    headlines = [s.title for s in chosen]
    start = datetime.date(2025, 1, 1)
    out: list[Doc] = []
    for story in chosen:
        day = start + datetime.timedelta(days=rng.randrange(365))
        slug = re.sub(r"[^a-z0-9]+", "-", fold(story.title)[:60]).strip("-") or "story"
        if story.size == 1:
            first = rng.randrange(n_outlets)
        else:
            first = rng.choice(plain)
        places = [first] + rng.sample([o for o in range(n_outlets) if o != first], story.size - 1)
        for copy, oid in enumerate(places):
            outlet = outlets[oid]
            kind, ops, text = ORIGINAL, [], story.text
            if copy:
                while True:
                    kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
                    ops = draw_ops(kind, rng)
                    new = apply_ops(story.text, ops, rng, headlines)
                    if new is not None:
                        text = new
                        break
            if outlet.house is not None and (copy or story.size == 1):
                text = (f"{outlet.house}\n{text}" if outlet.house_first
                        else f"{text}\n{outlet.house}")
                ops = [*ops, HOUSE]
                if kind == "exact":  # the story as is, plus this outlet's block
                    kind = HOUSE
            published = day + datetime.timedelta(days=rng.choice((0, 0, 0, 1, 2)) if copy else 0)
            idx = len(out)
            title = story.title if rng.random() < 0.7 else f"{story.title} | {outlet.name}"
            out.append(Doc(idx=idx, story=story.id, kind=kind, ops=ops, outlet=oid,
                           url=f"https://{outlet.host}/{published:%Y/%m}/{slug}-{idx}",
                           title=title, date=published.isoformat(), text=text,
                           word_count=word_count(text), content_hash=content_hash(text)))
    return Corpus(out, stories, outlets, len(sources), sum(s.words for s in sources), seed, notes)


# ---------------------------------------------------------------------------------------------
# Command line


def print_stats(stats: dict[str, Any]) -> None:
    print(f"{stats['docs']:,} docs, {stats['stories']:,} stories "
          f"({stats['singleton_stories']:,} singletons, mean cluster {stats['cluster_size_mean']}, "
          f"max {stats['cluster_size_max']}), {stats['true_pairs']:,} duplicate pairs of "
          f"{stats['all_pairs']:,}; from {stats['source_bodies_used']} of "
          f"{stats['source_bodies']} source bodies ({stats['source_words']:,} words)")
    print("  kinds:   " + ", ".join(f"{k} {v:,}" for k, v in stats["kinds"].items()))
    print("  ops:     " + ", ".join(f"{k} {v:,}" for k, v in stats["ops"].items()))
    print("  stories: " + ", ".join(f"{k} {v:,}" for k, v in stats["story_shapes"].items()))
    print("  cluster sizes (stories): " + ", ".join(f"{k}: {v:,}"
                                                     for k, v in stats["cluster_sizes"].items()))
    print(f"  outlets {stats['outlets']} ({stats['house_block_outlets']} with a house block, "
          f"on {stats['house_block_docs']:,} docs); median {stats['words_median']} words a doc")
    for note in stats["notes"]:
        print(f"  {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0, metavar="N",
                        help="print N example docs of each kind")
    parser.add_argument("--dump", type=Path, metavar="FILE",
                        help="write the docs and labels as JSON lines (outside the project)")
    args = parser.parse_args(argv)
    try:
        sources = load_sources(args.data)
    except DataMissing as exc:
        print(f"benchmark data not found: {exc}\nIt lives in ../shared/bench beside the clone, "
              "on the team's machines only; pass --data DIR if it is elsewhere.")
        return 0
    corpus = build_corpus(sources, args.docs, args.seed)
    print_stats(corpus.stats())
    if args.show:
        shown: Counter[str] = Counter()
        for doc in corpus.docs:
            if shown[doc.kind] < args.show and doc.kind != ORIGINAL:
                shown[doc.kind] += 1
                original = next(d for d in corpus.docs if d.story == doc.story)
                print(f"\n--- {doc.kind} {doc.ops} story {doc.story} doc {doc.idx} "
                      f"(original doc {original.idx}) {doc.url}\n{doc.text[:1200]}")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for doc in corpus.docs:
                f.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
