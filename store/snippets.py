"""A search hit's snippet, built from FTS5's highlight() in time linear in the article.

FTS5's own snippet() scores a window at every matched position against every other
match, inside one SQLite step that no progress handler or interrupt can stop: on a long
article that matches a prefix term (`a*`) thousands of times, one hit took minutes.
highlight() only marks the matches (one pass), and the window with the most distinct
matched terms is found here with two pointers over the marked words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

# What highlight() puts around a match: Unicode noncharacters, which no article holds, so
# the marks cannot be confused with guillemets the text itself has.
OPEN, CLOSE = "\ufdd0", "\ufdd1"


def best_snippet(columns: Sequence[str | None], words: int, marks: tuple[str, str],
                 ellipsis: str) -> str:
    """The best window of `words` words among `columns` (highlighted with OPEN/CLOSE),
    the matches between `marks`, `ellipsis` where the column was cut.

    A window's score is a thousand per distinct matched term plus one per matched word,
    as FTS5's snippet() scores; the first column wins a tie. Without any match, the start
    of the first column that has text."""
    best: tuple[int, int, int, list[str]] | None = None  # score, start, end, column words
    for text in columns:
        if not text:
            continue
        tokens = text.split()
        found = _best_window(tokens, words)
        if found is not None and (best is None or found[0] > best[0]):
            best = (*found, tokens)
    if best is None:
        tokens = next((t.split() for t in columns if t and t.split()), [])
        best = (0, 0, min(words, len(tokens)), tokens)
    _, start, end, tokens = best
    return _render(tokens, start, end, marks, ellipsis)


def _best_window(tokens: list[str], size: int) -> tuple[int, int, int] | None:
    """(score, start, end) of the best window of `size` tokens, centred on its matches;
    None when no token is marked."""
    keys = _match_keys(tokens)
    marked = [i for i, key in enumerate(keys) if key is not None]
    if not marked:
        return None
    best = (-1, 0, 0)
    counts: Counter[str] = Counter()
    last = 0  # marked[first:last] lie in the window starting at marked[first]
    for first, start in enumerate(marked):
        while last < len(marked) and marked[last] < start + size:
            counts[keys[marked[last]]] += 1  # type: ignore[index]
            last += 1
        score = 1000 * len(counts) + (last - first)
        if score > best[0]:
            span = marked[last - 1] - start + 1  # from the first match to the last
            begin = max(0, min(start - (size - span) // 2, len(tokens) - size))
            best = (score, begin, min(len(tokens), begin + size))
        key = keys[start]
        counts[key] -= 1  # type: ignore[index]
        if not counts[key]:  # type: ignore[index]
            del counts[key]  # type: ignore[arg-type]
    return best


def _match_keys(tokens: list[str]) -> list[str | None]:
    """For each token, the casefolded text of the match it is part of, or None."""
    keys: list[str | None] = []
    inside = False
    for token in tokens:
        if not inside and OPEN not in token:
            keys.append(None)
            continue
        parts = []
        for char in token:
            if char == OPEN:
                inside = True
            elif char == CLOSE:
                inside = False
            elif inside:
                parts.append(char)
        keys.append("".join(parts).casefold() or token.casefold())
    return keys


def _render(tokens: list[str], start: int, end: int, marks: tuple[str, str],
            ellipsis: str) -> str:
    """tokens[start:end] joined, marks balanced where the window cut a match."""
    opened = False
    for token in tokens[:start]:  # is the window's first word inside a match?
        opened = _state_after(token, opened)
    window = tokens[start:end]
    if window and opened:
        window[0] = OPEN + window[0]
    state = False
    for token in window:
        state = _state_after(token, state)
    if window and state:
        window[-1] = window[-1] + CLOSE
    text = " ".join(window).replace(OPEN, marks[0]).replace(CLOSE, marks[1])
    return (ellipsis if start > 0 else "") + text + (ellipsis if end < len(tokens) else "")


def _state_after(token: str, inside: bool) -> bool:
    """Whether a match is still open after `token`."""
    opens, closes = token.rfind(OPEN), token.rfind(CLOSE)
    if opens == closes:  # neither
        return inside
    return opens > closes
