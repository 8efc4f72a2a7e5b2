"""The page this project exists for: one record, body once, in order, nothing else."""

import re
from pathlib import Path

import pytest

from cleaner import Cleaner
from records import Page

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = (FIXTURES / "seed-expected.txt").read_text(encoding="utf-8").splitlines()
TITLE, STANDFIRST, DATE, BODY = EXPECTED[0], EXPECTED[1], EXPECTED[2], EXPECTED[3:]
NOT_IN_BODY = [
    "If we didn’t get Hamas leaders this time",  # related headlines
    "Russian drones shot down over Poland",
    "Would you like to comment on this article?",  # comment prompt
    "Sign up (it's quick and free)",
    "Comment Policy",
    "Most Read",
    "Related Articles",
    "Published by Arena Holdings",  # publisher footer
    "Picture: KCNA via REUTERS",  # picture caption
    "Questions raised over unity",  # the headline belongs in `title`
]


def page_for(name: str) -> Page:
    body = (FIXTURES / name).read_bytes()
    ctype = "text/plain" if name.endswith(".txt") else "text/html"
    return Page(url=(FIXTURES / name).as_uri(), final_url=(FIXTURES / name).as_uri(),
                content_type=ctype, body=body, encoding="utf-8", bytes=len(body))


@pytest.mark.parametrize("name", ["seed-same-container.html", "seed-sibling-paragraphs.html",
                                  "seed-dump.txt"])
def test_seed_page_gives_one_clean_record(name):
    result = Cleaner().clean(page_for(name))
    assert result.outcome == "cleaned", result.error
    a = result.article
    assert a.title == TITLE
    assert a.description == STANDFIRST
    assert a.date == DATE
    paragraphs = a.text.split("\n")
    assert paragraphs == BODY  # every body paragraph, once, in order, with the two subheads
    assert "Sticking points" in paragraphs and "‘Denuclearisation’" in paragraphs
    for snippet in NOT_IN_BODY:
        assert snippet not in a.text, snippet
    assert a.repeated_paragraphs_removed >= len(BODY)
    assert a.word_count == len(re.findall(r"\w+", a.text))
    assert len(a.content_hash) == 32


def test_all_three_forms_hash_the_same():
    hashes = {Cleaner().clean(page_for(n)).article.content_hash
              for n in ("seed-same-container.html", "seed-sibling-paragraphs.html",
                        "seed-dump.txt")}
    assert len(hashes) == 1


def test_html_metadata_and_canonical_link():
    a = Cleaner().clean(page_for("seed-same-container.html")).article
    assert a.canonical_url == ("https://news.example.com/news/world/"
                               "2025-09-10-questions-raised-over-unity-of-autocratic-alliance/")
    assert a.sitename == "Example Business News"
    assert a.language == "en"
    assert a.image_caption and a.image_caption.endswith("Picture: KCNA via REUTERS")
    assert a.image_url == "https://news.example.com/images/kim-putin.jpg"


def test_text_dump_keeps_date_and_caption_out_of_the_body():
    a = Cleaner().clean(page_for("seed-dump.txt")).article
    assert a.date == "2025-09-10"
    assert a.image_caption.startswith("North Korean leader Kim Jong Un")
    assert a.text.startswith("Beijing/Seoul/Washington")


def test_every_drop_is_counted_with_its_reason():
    result = Cleaner().clean(page_for("seed-sibling-paragraphs.html"))
    drops = result.drops
    assert drops["repeat"] == len(BODY)
    assert drops["prune.link_run"] == 12  # two lists of five links and their two labels
    assert drops["post.prompt"] == 3
    assert drops["post.title"] == drops["post.description"] == 1
    assert drops["post.caption"] == drops["post.date_line"] == 1


def test_falls_back_to_the_page_as_served_when_the_pruned_page_loses_the_text(monkeypatch):
    from cleaner import stage
    from cleaner.extract import extract as real_extract

    def extract(html, url=None, **options):
        ex = real_extract(html, url, **options)
        if "<script>window.dataLayer" not in html:  # the pruned page has lost its scripts
            ex.paragraphs = ex.paragraphs[:1]  # as if trafilatura chose a tiny block
        return ex

    monkeypatch.setattr(stage, "extract", extract)
    result = Cleaner().clean(page_for("seed-same-container.html"))
    assert result.drops.get("prune.fallback_to_raw") == 1
    assert result.article.text.split("\n") == BODY


def test_falls_back_to_the_page_as_served_when_the_pre_pass_removed_the_article(monkeypatch):
    """Whatever the pre-pass gets wrong, an article it removed whole is not lost: the
    extraction is compared with the <p> text of the page as served."""
    from cleaner import stage
    from cleaner.prune import prune as real_prune

    def prune(html, trace=False):
        pruned, report = real_prune(html, trace)
        body_start = pruned.index("<body")
        report.paragraph_chars = len("Most Read")  # what it left, as it would count it
        return pruned[:body_start] + "<body><p>Most Read</p></body></html>", report

    monkeypatch.setattr(stage, "prune", prune)
    result = Cleaner().clean(page_for("seed-same-container.html"))
    assert result.drops.get("prune.fallback_to_raw") == 1
    assert result.article.text.split("\n") == BODY
