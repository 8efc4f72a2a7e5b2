"""Repeated-body collapse: unit cases and properties."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.repeats import collapse_repeats
from cleaner.text import fold

BODY = [
    "The council voted on Tuesday to close the old library after a decade of falling visits.",
    "Residents who spoke at the meeting said the building was the last public space in town.",
    "Funding",
    "The mayor said money saved would go to a mobile service that visits outlying villages.",
    "A final decision on the building itself is expected before the end of the year.",
]


def test_whole_body_twice_keeps_one_copy_in_order():
    paras = ["Photo caption line", *BODY, "Headline of the story", *BODY, "Footer"]
    kept, removed = collapse_repeats(paras)
    assert removed == len(BODY)
    assert kept == ["Photo caption line", *BODY, "Headline of the story", "Footer"]


def test_teaser_then_full_text_keeps_the_full_text():
    teaser = BODY[:2]
    kept, removed = collapse_repeats([*teaser, "Read the full story", *BODY])
    assert removed == 2
    assert kept == ["Read the full story", *BODY]


def test_near_identical_copy_counts_as_repeat():
    altered = [p.replace("’", "'").upper() if i == 0 else p for i, p in enumerate(BODY)]
    altered[3] = BODY[3].replace(" that visits outlying villages", "")  # a clause cut
    kept, removed = collapse_repeats([*BODY, *altered])
    assert removed == len(BODY)
    assert kept == BODY


def test_copy_missing_one_paragraph_is_still_a_repeat():
    shorter = BODY[:1] + BODY[2:]
    kept, removed = collapse_repeats([*BODY, "Related", *shorter])
    assert kept == [*BODY, "Related"]
    assert removed == len(shorter)


def test_short_repeated_lines_are_not_a_body():
    paras = ["Q: Why?", "A: Because.", "Q: Why?", "A: Because."]
    assert collapse_repeats(paras) == (paras, 0)


def test_no_repeat_is_untouched():
    assert collapse_repeats(BODY) == (BODY, 0)


def _is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


sentences = st.sampled_from([
    "The river rose overnight and flooded the lower town for the first time in years.",
    "Officials said the bridge would stay closed until engineers had inspected it.",
    "Short line",
    "Volunteers filled sandbags in the square from early in the morning until dusk.",
    "Schools in the valley were told to keep pupils at home on Wednesday and Thursday.",
    "Another heading",
    "Forecasters expect more rain at the weekend, though less than last week's storm.",
])
para_lists = st.lists(st.one_of(sentences, st.text(min_size=1, max_size=40)), max_size=30)


def _trigrams(text):
    toks = fold(text).split()
    return {tuple(toks[i : i + 3]) for i in range(len(toks) - 2)} | {fold(text)}


@settings(max_examples=300, deadline=None)
@given(para_lists)
def test_collapse_properties(paras):
    kept, removed = collapse_repeats(paras)
    assert removed == len(paras) - len(kept)
    assert _is_subsequence(kept, paras)
    # Idempotent: a collapsed list has nothing left to collapse.
    assert collapse_repeats(kept) == (kept, 0)
    # A paragraph sharing no text with any other paragraph occurs once: it is never dropped.
    grams = [_trigrams(p) for p in paras]
    for i, p in enumerate(paras):
        if fold(p) and not any(grams[i] & g for j, g in enumerate(grams) if j != i):
            assert p in kept


@settings(max_examples=200, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=8, unique=True), st.integers(0, 3))
def test_body_repeated_collapses_to_one_copy(body, extra):
    paras = [*body, *(["Label"] * extra), *body]
    kept, _ = collapse_repeats(paras)
    if sum(p.endswith(".") and len(p.split()) >= 12 for p in body) >= 2:
        # Two long sentences in the same order are a copy of prose. Whatever else happens, each distinct paragraph of the body survives exactly once.
        for p in body:
            assert kept.count(p) == 1
