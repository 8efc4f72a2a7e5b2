"""Repeated-body collapse: when a run of paragraphs appears twice in one page, keep one copy.

Pages repeat their body for many reasons (a teaser then the full text, a print or AMP copy, the
body again under the headline). We find runs of paragraphs that match an earlier run, in order,
and drop the copy with fewer words. Matching is on folded text (case, quotes, whitespace,
punctuation) and tolerates near-identical paragraphs (a sentence missing or reworded) and one
paragraph missing from either copy. Only paragraphs that have a match are ever dropped, so a
paragraph that occurs once always survives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .text import fold

SIMILAR = 0.8  # word-trigram containment above which two paragraphs are the same paragraph
MIN_RUN_WORDS = 12  # words of long sentences a repeated run must hold to be a copy
LONG_WORDS = 12  # a paragraph this long that ends as a sentence is prose, not a label or item
MIN_COPY_SENTENCES = 2  # long sentences matched, in order, before a run counts as a copy
MAX_GAP = 1  # paragraphs one copy may lack inside a run
PROSE_WORDS = 8  # an unmatched sentence this long after a copy continues that copy
_TERMINAL = (".", "!", "?", "…", "。", "！", "？", "؟", "।")
_CLOSERS = "\"'”’»)] "


@dataclass
class _Para:
    key: str
    words: int
    grams: frozenset[tuple[str, ...]]
    sentence: bool = False  # ends like a sentence (a headline or a label does not)


def _prepare(paragraphs: list[str]) -> list[_Para]:
    out = []
    for text in paragraphs:
        key = fold(text)
        toks = key.split()
        grams = frozenset(zip(toks, toks[1:], toks[2:])) if len(toks) >= 3 else frozenset()
        out.append(_Para(key, len(toks), grams))
    return out


def _mark_sentences(paras: list[_Para], paragraphs: list[str],
                    not_prose: Callable[[str], bool] | None) -> None:
    """Set `sentence`; asked only of a page with repeats (`not_prose` is the costly part)."""
    for para, text in zip(paras, paragraphs):
        para.sentence = (text.rstrip(_CLOSERS).endswith(_TERMINAL)
                         and not (not_prose is not None and not_prose(text)))


def _same(a: _Para, b: _Para) -> bool:
    if a.key == b.key:
        return bool(a.key)
    if not a.grams or not b.grams:
        return False
    small, large = sorted((a.grams, b.grams), key=len)
    if len(small) < 0.5 * len(large):  # one is much shorter: a fragment, not a copy
        return False
    return len(small & large) >= SIMILAR * len(small)


def _earlier_matches(paras: list[_Para]) -> list[list[int]]:
    """For each paragraph, the earlier paragraphs it matches (exact key or shared trigrams)."""
    by_key: dict[str, list[int]] = defaultdict(list)
    by_gram: dict[tuple[str, ...], list[int]] = defaultdict(list)
    matches: list[list[int]] = []
    for i, p in enumerate(paras):
        found = set(by_key.get(p.key, ())) if p.key else set()
        counts: dict[int, int] = defaultdict(int)
        for g in p.grams:
            for j in by_gram.get(g, ()):
                counts[j] += 1
        for j, shared in counts.items():
            if j not in found and shared >= SIMILAR * min(len(p.grams), len(paras[j].grams)):
                if _same(p, paras[j]):
                    found.add(j)
        matches.append(sorted(found))
        if p.key:
            by_key[p.key].append(i)
        for g in p.grams:
            by_gram[g].append(i)
    return matches


def _runs(paras: list[_Para], matches: list[list[int]]) -> list[list[tuple[int, int]]]:
    """Maximal runs of (later, earlier) pairs advancing together, allowing small gaps."""
    pair_set = {(i, j) for i, js in enumerate(matches) for j in js}
    used: set[tuple[int, int]] = set()
    runs = []
    for i, js in enumerate(matches):
        for j in js:
            if (i, j) in used:
                continue
            run = [(i, j)]
            used.add((i, j))
            ci, cj = i, j
            while True:
                step = None
                for di in range(1, MAX_GAP + 2):
                    for dj in range(1, MAX_GAP + 2):
                        if di + dj > MAX_GAP + 2:
                            continue
                        cand = (ci + di, cj + dj)
                        if cand in pair_set and cand not in used and cand[1] < i:
                            step = cand
                            break
                    if step:
                        break
                if step is None:
                    break
                run.append(step)
                used.add(step)
                ci, cj = step
            runs.append(run)
    return runs


def _copy_words(paras: list[_Para], copy: list[int], matched: set[int], limit: int) -> int:
    """Words in one copy, including the prose that continues it (a teaser stops, a body goes on).

    The copy spans its matched paragraphs and extends over unmatched prose paragraphs just
    after it (up to `limit`), so "teaser, 'Read more', full text" keeps the full text, while
    a list of related headlines after a copy does not make it longer.
    """
    def prose(k: int) -> bool:
        return (k < limit and k not in matched and paras[k].words >= PROSE_WORDS
                and paras[k].sentence)

    end = copy[-1] + 1
    while end < limit and end not in matched:
        if prose(end):
            end += 1
        elif prose(end + 1):  # a subhead between two prose paragraphs
            end += 2
        else:
            break
    return sum(p.words for p in paras[copy[0] : end])


def _is_copy(paras: list[_Para], run: list[tuple[int, int]]) -> bool:
    """Whether a run is a second copy of prose rather than a repeat in structure.

    Two signals: the wording (sentences of the article's length, matched in both copies) and
    the position (in the same order, next to each other). Short lines, labels and list items
    recur legitimately (a meal plan's days, two models' specs, a results table, an interview's
    "Q:"), so only long sentences count, and it takes two of them.
    """
    prose = [i for i, _ in run if paras[i].sentence and paras[i].words >= LONG_WORDS]
    return len(prose) >= MIN_COPY_SENTENCES and sum(paras[i].words for i in prose) >= MIN_RUN_WORDS


def _collapse_once(paragraphs: list[str], not_prose: Callable[[str], bool] | None) -> list[int]:
    """The indices of the paragraphs one pass keeps."""
    paras = _prepare(paragraphs)
    matches = _earlier_matches(paras)
    if not any(matches):
        return list(range(len(paragraphs)))
    _mark_sentences(paras, paragraphs, not_prose)
    drop: set[int] = set()
    for run in _runs(paras, matches):
        # Pairs an earlier run already resolved are out; the rest of the run still counts.
        run = [(i, j) for i, j in run if i not in drop and j not in drop]
        if not run or not _is_copy(paras, run):
            continue
        later = [i for i, _ in run]
        earlier = [j for _, j in run]
        matched = {k for pair in run for k in pair}
        later_span = _copy_words(paras, later, matched, limit=len(paras))
        earlier_span = _copy_words(paras, earlier, matched, limit=later[0])
        drop.update(earlier if later_span > earlier_span else later)
    return [k for k in range(len(paragraphs)) if k not in drop]


def collapse_repeats(paragraphs: list[str],
                     not_prose: Callable[[str], bool] | None = None) -> tuple[list[str], int]:
    """Drop repeated copies of runs of paragraphs; return (kept paragraphs, number dropped).

    Of two copies, the one with more words (including the paragraphs only it has) is kept; on a
    tie the first one is. The kept paragraphs are in their original order. Repeated until
    nothing changes, so collapsing a collapsed list is a no-op. `not_prose` tells sentences
    that are not article text (a comment prompt) so that they never make a copy look longer.
    """
    kept = kept_after_repeats(paragraphs, not_prose)
    return [paragraphs[k] for k in kept], len(paragraphs) - len(kept)


def kept_after_repeats(paragraphs: list[str],
                       not_prose: Callable[[str], bool] | None = None) -> list[int]:
    """The indices of the paragraphs collapse_repeats keeps, in order."""
    kept = list(range(len(paragraphs)))
    while True:
        again = _collapse_once([paragraphs[k] for k in kept], not_prose)
        if len(again) == len(kept):
            return kept
        kept = [kept[k] for k in again]
