"""Text helpers shared by the cleaner's stages: normalisation, keys, counts, hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from htmldate.extractors import try_date_expr

EARLIEST_DATE = datetime(1990, 1, 1)  # older "dates" on news pages are misreadings

_SPACE = re.compile(r"[^\S\n]+")  # whitespace other than newlines
_WORD = re.compile(r"\w+")
# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_COUNTED = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def normalize_paragraph(text: str) -> str:
    """One space between words, no edge whitespace; the characters kept as published, their
    Unicode form too (counts, keys and hashes compose them: `nfc`, `fold`)."""
    text = text.replace("\u00ad", "").replace("\u200b", "")  # soft hyphen, zero-width space
    return _SPACE.sub(" ", text).strip()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a text with one paragraph per line; empty lines dropped."""
    out = []
    for line in text.splitlines():
        line = normalize_paragraph(line)
        if line:
            out.append(line)
    return out


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Words in `text`; in Chinese and Japanese, characters (which is how they are counted)."""
    return _word_count(text) if len(text) <= MEMO_CHARS else len(_COUNTED.findall(nfc(text)))


def fold(text: str) -> str:
    """Comparison key: case, quotes, dashes, punctuation and whitespace folded away."""
    return _fold(text) if len(text) <= MEMO_CHARS else _fold_uncached(text)


# The cleaner's rules ask for the words and the key of the same paragraph many times over;
# these are pure functions, so a bounded memo changes nothing but the time. Only paragraph-
# sized strings are kept, so the memo never holds whole pages.
MEMO_CHARS = 2000


def nfc(text: str) -> str:
    """`text` composed (NFC): a page may spell "é" as "e" and a combining accent, which
    `\\w` would read as a word break."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def _word_count(text: str) -> int:
    return len(_COUNTED.findall(nfc(text)))


def _fold_uncached(text: str) -> str:
    # Only words are kept, so quotes, dashes and punctuation fold away with the spaces; a soft
    # hyphen would split a word. ASCII needs neither step (and most paragraphs are ASCII).
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return " ".join(_WORD.findall(text.casefold()))


_fold = lru_cache(maxsize=4096)(_fold_uncached)


def content_hash(text: str) -> str:
    """Hash of the folded body: the same story with other whitespace or quotes hashes the same."""
    return hashlib.blake2b(fold(text).encode("utf-8"), digest_size=16).hexdigest()


def printed_date(text: str | None, extensive: bool = True) -> str | None:
    """ISO day (YYYY-MM-DD) of a date as printed ("10 September 2025", "3. März 2024"), read
    by htmldate; None when there is none between 1990 and tomorrow.

    `extensive=False` keeps to htmldate's patterns: the extensive search falls back to
    dateparser, which costs milliseconds a call.
    """
    if not text:
        return None
    latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    try:
        return try_date_expr(text, "%Y-%m-%d", extensive, EARLIEST_DATE, latest)
    except (ValueError, OverflowError):
        return None
