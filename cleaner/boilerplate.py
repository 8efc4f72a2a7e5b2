"""Post-pass on paragraphs: what an extractor lets through that is not the article.

What each line is comes from cleaner/lines.py; here, where it sits decides. A rule that
removes a line of prose has two signs, its wording and its place or shape:
- metadata repeated in the body: the headline, the standfirst, a date line before the body's
  prose, a picture caption or credit line, a byline;
- prompts and calls to action (comment, sign up, subscribe, newsletter, "read also:"
  teasers), advertisement placeholders, legal lines (short, or led by the legal sentence);
- a recommendation label with the list of links under it, inside the body or at its end;
- the tail after the article: a trailing run of headline-like lines (related links whose anchors
  were flattened to text, "Most Read" labels, truncated titles), prompts and publisher footers.
Every drop carries a reason, so the caller can count them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .lines import (
    is_ad_label,
    is_caption,
    is_credit_line,
    is_date_line,
    is_footer,
    is_headline_like,
    is_keyword_label,
    is_legal,
    is_prompt,
    is_recommend_label,
    is_tag_list,
    is_title,
    is_truncated_title,
    split_date_prefix,
)
from .text import fold, nfc, word_count

MAX_WEAK_STREAK = 8
STANDFIRST_MIN_WORDS = 6  # a shorter line under the headline is a kicker or a label
BYLINE_EXTRA_WORDS = 5  # words around the author's name in a byline ("By", "Staff Writer")


@dataclass
class PostPass:
    """Result of the post-pass: the kept paragraphs and why each other one went."""

    kept: list[str]
    kept_index: list[int] = field(default_factory=list)  # where each kept paragraph was
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (reason, paragraph)
    date_line: str | None = None
    caption: str | None = None
    # The line printed under the headline when the headline sits below the body (a page that
    # repeats its top after the article): cut with the tail, it is the standfirst.
    standfirst: str | None = None

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason, _ in self.dropped:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def post_pass(
    paragraphs: list[str],
    title: str | None = None,
    description: str | None = None,
    captions: Iterable[str] = (),
    author: str | None = None,
) -> PostPass:
    """Drop metadata lines, prompts and the non-article tail from a page's paragraphs.

    The rules read each paragraph composed (NFC: their words are written composed); what
    they keep and drop is the paragraph as given."""
    composed = [nfc(p) for p in paragraphs]
    if composed == paragraphs:
        return _post_pass(paragraphs, title, description, captions, author)
    result = _post_pass(composed, title, description, captions, author)
    given = dict(zip(composed, paragraphs, strict=True))
    result.kept = [given[t] for t in result.kept]
    result.dropped = [(reason, given[t]) for reason, t in result.dropped]
    result.date_line, result.caption, result.standfirst = (
        given.get(t, t) if t is not None else None
        for t in (result.date_line, result.caption, result.standfirst))
    return result


def _post_pass(paragraphs: list[str], title: str | None, description: str | None,
               captions: Iterable[str], author: str | None) -> PostPass:
    caption_keys = {fold(c) for c in captions} - {""}
    author_keys = [k for k in (fold(a) for a in (author or "").split(";")) if k]
    title_key = fold(title) if title else ""
    description_key = fold(description) if description else ""
    result = PostPass(kept=[])
    entries: list[tuple[str, str | None]] = []
    # Until the first prose paragraph: where captions and date lines sit, and where a
    # description-like paragraph is the lede (sites copy their first paragraph into the
    # meta description), not a leftover standfirst.
    lead = True
    previous: str | None = None  # why the previous paragraph went (None: it stayed)
    for text in paragraphs:
        reason = None
        key = fold(text)
        date_part, rest = split_date_prefix(text) if lead else (None, text)
        if date_part and rest and (is_caption(rest) or fold(rest) in caption_keys):
            result.date_line = result.date_line or date_part
            result.caption = result.caption or rest
            reason = "caption"
        elif is_title(key, title_key):
            reason = "title"
        elif key and key == description_key and previous == "title" and not lead:
            reason = "description"
        elif is_date_line(text, loose=lead):
            result.date_line = result.date_line or text
            reason = "date_line"
        elif key in caption_keys or (lead and is_caption(text)):
            result.caption = result.caption or text
            reason = "caption"
        elif is_credit_line(text):
            reason = "credit"
        elif is_ad_label(text):
            reason = "ad"
        elif is_prompt(text):
            reason = "prompt"
        elif is_legal(text):
            reason = "legal"
        elif author_keys and _is_byline(key, author_keys):
            reason = "byline"
        elif (previous == "title" and not description_key and result.standfirst is None
              and is_headline_like(text) and word_count(text) >= STANDFIRST_MIN_WORDS):
            # Under the headline, not a sentence, and the page declares no description: the
            # standfirst, or the body's first line; kept in the body, and as the description.
            result.standfirst = text
        previous = reason
        entries.append((text, reason))
        if reason:
            result.dropped.append((reason, text))
        elif not is_headline_like(text):
            lead = False
    _mark_related_lists(entries, result)
    result.kept = _trim_tail(entries, result)
    return result


def _is_byline(key: str, author_keys: list[str]) -> bool:
    """A short line made of the author's name and a few words around it ("By Jane Doe",
    "Jane Doe, Reuters", "Words: Jane Doe | Photos: John Roe")."""
    words = len(key.split())
    named = [a for a in author_keys if f" {a} " in f" {key} "]
    if not named:
        return False
    name_words = sum(len(a.split()) for a in named)
    # A one-word name ("Agencies", a username) is a byline only almost on its own.
    extra = BYLINE_EXTRA_WORDS if name_words > 1 else 1
    return words <= name_words + extra


def _is_keyword_line(entries: list[tuple[str, str | None]], i: int, cut: int) -> bool:
    """A tag list closing the page, or under a label that says so ("Tags", "Themen");
    elsewhere a comma list is as likely the article's own (a cast, a list of ingredients).

    Lines already dropped, or cut from `cut` on, do not count: the rule must read the same
    on its own output."""
    if not is_tag_list(entries[i][0]):
        return False
    if all(reason is not None for _, reason in entries[i + 1 : cut]):
        return True
    label = next((text for text, reason in reversed(entries[:i]) if reason is None), "")
    return is_keyword_label(label)


def _mark_related_lists(entries: list[tuple[str, str | None]], result: PostPass) -> None:
    """A recommendation label inside the body with the list of links under it ("Auch
    interessant", then "- Headline" items): both go. The label's wording and the list after
    it are the two signs; a label followed by prose, or a list without a label, stays."""
    i = 0
    while i < len(entries):
        text, reason = entries[i]
        j = i + 1
        while j < len(entries) and entries[j][1] is None and entries[j][0].startswith("- "):
            j += 1
        if reason is None and j > i + 1 and is_recommend_label(text):
            for k in range(i, j):
                entries[k] = (entries[k][0], "related")
                result.dropped.append(("related", entries[k][0]))
            i = j
        else:
            i += 1


def _recommended_block(entries: list[tuple[str, str | None]]) -> int:
    """Where a trailing block of recommended links starts (len(entries) when there is none):
    a label line ("You might also like", "Mehr zum Thema") with only list items or short
    lines after it to the end. Both signs are needed: the label's wording, and the shape of
    what follows (a teaser list, not the article's paragraphs)."""
    start = len(entries)
    for k in range(len(entries) - 1, -1, -1):
        text, reason = entries[k]
        if is_recommend_label(text):
            start = k
        elif reason is not None or is_footer(text) or not word_count(text):
            continue  # what the tail walk drops anyway may follow the block
        elif not (text.startswith("- ") or is_headline_like(text)):
            break
    return start


def _trim_tail(entries: list[tuple[str, str | None]], result: PostPass) -> list[str]:
    """Keep paragraphs, less the trailing run of non-article lines.

    `entries` are (paragraph, reason it was already dropped or None). Walking back from the end,
    the run takes footers, prompts, truncated titles (strong signs) and headline-like lines
    (weak: a related title, a "Most Read" label, but also a tour date or a sign-off). The run is
    cut only from a strong sign on; the weak lines before the first strong sign go too when
    that sign is a prompt or a truncated title (a block of related links), but not when it is
    only a footer (a credit line such as "(Reporting by ...)" before "© Reuters" stays). A
    streak of more than MAX_WEAK_STREAK weak lines ends the run: that many short lines in a
    row is a list the article owns.
    """
    # A labelled block of recommended links goes first; the walk starts above it.
    cut = k = _recommended_block(entries)  # everything from `cut` on goes
    streak = 0
    overflow = False
    block = False  # a prompt or a truncated title: the weak lines around it are links too
    while k > 0:
        text, reason = entries[k - 1]
        if reason == "prompt" or (reason is None and is_truncated_title(text)):
            cut, streak, block = k - 1, 0, True
        elif reason is None and (is_footer(text) or _is_keyword_line(entries, k - 1, cut)):
            cut, streak = k - 1, 0
        elif reason is None and is_headline_like(text):
            streak += 1
            if streak > MAX_WEAK_STREAK:
                overflow = True
                break
        elif reason is None:
            break  # prose: the article ends here
        k -= 1
    if block and not overflow:
        cut = k  # the weak lines just before the first strong sign are the same block
    kept = []
    for i, (text, reason) in enumerate(entries):
        if reason is not None:
            continue
        if i >= cut:
            result.dropped.append(("tail", text))
            if i > 0 and entries[i - 1][1] == "title" and result.standfirst is None:
                result.standfirst = text
        else:
            kept.append(text)
            result.kept_index.append(i)
    return kept
