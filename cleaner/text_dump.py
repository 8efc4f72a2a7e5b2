"""Plain-text input: a page already flattened to lines (a naive scraper's dump, a .txt file).

There is no markup to lean on, so the headline and standfirst come from the text's shape: in a
dump with a repeated body, the short lines just before the second copy are the headline and
standfirst (the body again under the headline); otherwise a short first line followed by prose.
"""

from __future__ import annotations

from .lines import is_headline_like
from .text import fold, word_count

STANDFIRST_MAX_WORDS = 45


def _second_copy_start(paragraphs: list[str]) -> int | None:
    """Index where a run of at least two earlier paragraphs starts again, if any."""
    seen: dict[str, int] = {}
    keys = [fold(p) for p in paragraphs]
    for i, key in enumerate(keys):
        j = seen.get(key)
        if j is not None and word_count(paragraphs[i]) >= 8 and i + 1 < len(keys) \
                and keys[i + 1] == keys[j + 1]:
            return i
        seen.setdefault(key, i)
    return None


def _is_standfirst(text: str) -> bool:
    """Short enough to be a standfirst (a sentence is allowed, unlike a headline)."""
    return 0 < word_count(text) <= STANDFIRST_MAX_WORDS


def find_headline(paragraphs: list[str]) -> tuple[str | None, str | None]:
    """(headline, standfirst) of a text dump, or Nones when the text's shape shows neither."""
    start = _second_copy_start(paragraphs)
    if start is not None:
        before = paragraphs[max(0, start - 2) : start]
        if len(before) == 2 and is_headline_like(before[0]) and _is_standfirst(before[1]):
            return before[0], before[1]
        if before and is_headline_like(before[-1]):
            return before[-1], None
    if len(paragraphs) >= 3 and is_headline_like(paragraphs[0]):
        # Without a repeat, only an unpunctuated second line reads as a standfirst: a
        # punctuated one is as likely the first paragraph of the body.
        second = paragraphs[1]
        if is_headline_like(second) and not is_headline_like(paragraphs[2]):
            return paragraphs[0], second
        return paragraphs[0], None
    return None, None

