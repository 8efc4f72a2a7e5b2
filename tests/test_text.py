"""Normalisation, word counts and content hashes."""

import unicodedata

from cleaner.dedup import tokens as dedup_tokens
from cleaner.text import content_hash, normalize_paragraph, split_paragraphs, word_count


def test_whitespace_and_invisible_characters_go_the_unicode_form_stays():
    decomposed = "Cafe\u0301  au\u00a0lait\u00ad \t co\u200bst"
    assert normalize_paragraph(decomposed) == "Cafe\u0301 au lait cost"  # as published


def test_a_decomposed_text_counts_hashes_and_signs_as_the_composed_one():
    composed = "Café crème in München, Straße 5"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert word_count(decomposed) == word_count(composed) == 6
    assert content_hash(decomposed) == content_hash(composed)
    assert dedup_tokens(decomposed) == dedup_tokens(composed)


def test_quotes_and_dashes_are_kept_as_published():
    text = "“It’s done” — she said – ‘twice’"
    assert normalize_paragraph(text) == text


def test_paragraphs_one_per_line():
    assert split_paragraphs("  first  line \n\n\n second\tline \n  \n") == ["first line",
                                                                         "second line"]


def test_hash_folds_case_quotes_and_whitespace_but_not_words():
    a = "“It’s done,” she said.\nThe end."
    b = '"IT\'S DONE," she  said.\n\nthe end'
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(a.replace("done", "over"))


def test_word_counts_latin_and_cjk():
    assert word_count("The harbour, re-opened in 2026.") == 6
    assert word_count("北京今天下雨") == 6
