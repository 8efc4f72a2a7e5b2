"""Dedup: signatures and the LSH index (cleaner/dedup.py), clusters in a real database
(store/dedup.py), and the pipeline's handling of repeated URLs and canonical aliases."""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from cleaner import Cleaner
from cleaner.dedup import (
    DedupConfig,
    LSHIndex,
    MinHasher,
    Signature,
)
from cleaner.text import content_hash, word_count
from pipeline.executors import InProcess, ProcessPool
from pipeline.run import ingest, tasks_for
from records import Article, Page, Result
from scraper import FetchConfig, Fetcher
from store import Store, clusters, open_db
from store.db import db_file
from tests.test_cli import LOCAL, run

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The seed article's body: 24 paragraphs. Its two halves are two different stories on one
# topic, in one outlet's words: the hard case for a deduper.
BODY = (FIXTURES / "seed-expected.txt").read_text(encoding="utf-8").splitlines()[3:]
STORY, OTHER = "\n".join(BODY[:12]), "\n".join(BODY[12:])


LATER = "2025-09-11"


def estimate(a: Signature, b: Signature) -> tuple[float, float]:
    """The Jaccard similarity two signatures estimate (the share of equal positions)."""
    if not a.size or not b.size:
        return 0.0, 0.0
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a), 0.0


def exact_jaccard(a: str, b: str, config: DedupConfig | None = None) -> float:
    """The Jaccard similarity of two texts' shingle sets, computed exactly."""
    hasher = MinHasher(config)
    sa, sb = set(hasher.shingles(a).tolist()), set(hasher.shingles(b).tolist())
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def boilerplate(text: str) -> str:
    return ("Sign up for our morning newsletter\n" + text +
            "\nRelated: Markets close higher as investors weigh trade data"
            "\nCopyright 2025 Other Daily. All rights reserved.")


def drop_paragraph(text: str, i: int = 4) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:i] + lines[i + 1:])


def reword(text: str, share: float = 0.03, seed: int = 1) -> str:
    """Replace about `share` of the words with others, and change case and punctuation."""
    rng = random.Random(seed)
    lines = []
    for line in text.splitlines():
        words = line.split(" ")
        for i in range(len(words)):
            if rng.random() < share:
                words[i] = rng.choice(["officials", "reportedly", "new", "major", "local"])
        lines.append(" ".join(words).replace("“", '"').replace("”", '"'))
    return "\n".join(lines).upper()


def trim(text: str, keep: int = 5) -> str:
    return "\n".join(text.splitlines()[:keep])


def article(url: str, text: str, date: str | None = "2025-09-10",
            canonical_link: str | None = None, title: str = "A story") -> Article:
    return Article(url=url, canonical_url=url, title=title, text=text, date=date,
                   word_count=word_count(text), content_hash=content_hash(text),
                   canonical_link=canonical_link, fetched_at="2026-01-01T00:00:00+00:00")


def result(a: Article) -> Result:
    return Result(page=Page(url=a.url, final_url=a.url, status=200,
                            fetched_at="2026-01-01T00:00:00+00:00"), article=a)


def write_all(db: sqlite_utils.Database | Path, articles: list[Article],
              config: DedupConfig | None = None) -> list[Result]:
    with Store(db, index=LSHIndex(config)) as store:
        return [store.write(result(a)) for a in articles]


def rows_by_url(db: sqlite_utils.Database | Path) -> dict[str, dict]:
    if not isinstance(db, sqlite_utils.Database):
        db = sqlite_utils.Database(db)
    return {r["url"]: r for r in db["articles"].rows}


# -- signatures and the index ----------------------------------------------------------------

def test_signature_estimates_jaccard_and_survives_a_round_trip():
    hasher = MinHasher()
    for a, b in [(STORY, boilerplate(STORY)), (STORY, reword(STORY)), (STORY, OTHER),
                 (STORY, trim(STORY))]:
        jaccard, _ = estimate(hasher(a), hasher(b))
        assert abs(jaccard - exact_jaccard(a, b)) < 0.15, (jaccard, exact_jaccard(a, b))
    sig = hasher(STORY)
    again = Signature.from_bytes(sig.to_bytes(), sig.size)
    assert again.size == sig.size and (again.hashvalues == sig.hashvalues).all()
    assert len(sig.to_bytes()) == 4 * DedupConfig().num_perm


def test_signatures_are_the_same_in_another_process():
    # Stored signatures are compared with ones computed by later runs: no per-process hashing.
    code = ("import sys; from cleaner.dedup import MinHasher; "
            "sys.stdout.write(MinHasher()(sys.stdin.read()).to_bytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], input=STORY, capture_output=True,
                         text=True, cwd=ROOT, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"}).stdout
    assert out == MinHasher()(STORY).to_bytes().hex()


def test_case_punctuation_and_whitespace_do_not_count():
    hasher = MinHasher()
    sig = hasher(STORY)
    folded = hasher("  " + STORY.upper().replace(",", "").replace("\n", "\n\n") + " ")
    assert estimate(sig, folded)[0] == 1.0


def test_index_finds_edited_and_trimmed_copies_but_not_the_other_story():
    index = LSHIndex()
    index.add(1, index.sign(STORY))
    index.add(2, index.sign(OTHER))
    for variant, method in [(boilerplate(STORY), "near"), (drop_paragraph(STORY), "near"),
                            (reword(STORY), "near"), (trim(STORY), "contained")]:
        matches = index.query(index.sign(variant))
        assert [m.key for m in matches] == [1], variant[:60]
        assert matches[0].method == method
    # The other half of the article shares its topic, names and vocabulary: not a copy.
    assert [m.key for m in index.query(index.sign(OTHER), exclude=2)] == []
    assert index.query(index.sign("")) == []  # an empty body matches nothing
    index.remove(1)
    assert index.query(index.sign(boilerplate(STORY))) == [] and len(index) == 1


def random_article(rng: random.Random, words: int = 150) -> str:
    vocabulary = [f"w{n}" for n in range(3000)]
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def test_index_finds_copies_across_merges_removals_and_a_reload(monkeypatch):
    monkeypatch.setattr(LSHIndex, "PENDING", 100)  # merge into the sorted arrays every 3 adds
    rng = random.Random(7)
    texts = {key: random_article(rng) for key in range(40)}
    index = LSHIndex()
    for key, text in texts.items():
        index.add(key, index.sign(text))
    assert len(index._bands) > 0 and index._pending_n < 100  # merged, and still pending
    for key, text in texts.items():
        assert [m.key for m in index.query(index.sign(text + " one more"))] == [key]
    for key in range(0, 40, 4):
        index.remove(key)
    index.add(8, index.sign(texts[9] + " and a new ending"))  # key 8 now holds 9's text
    for key, text in texts.items():
        found = sorted(m.key for m in index.query(index.sign(text + " one more")))
        expected = {8: [], 9: [8, 9]}.get(key, [] if key % 4 == 0 else [key])
        assert found == expected, key
    # A second index loaded from the first's signatures finds the same.
    keys = sorted(index._row)
    sigs = [index.signature(k) for k in keys]
    loaded = LSHIndex()
    loaded.add_stored(keys, [s.to_bytes() for s in sigs], [s.size for s in sigs])
    for key, text in texts.items():
        assert (sorted(m.key for m in loaded.query(loaded.sign(text + " one more")))
                == sorted(m.key for m in index.query(index.sign(text + " one more"))))


def test_a_story_quoting_a_paragraph_of_another_is_not_its_copy():
    follow_up = "\n".join(BODY[:1] + BODY[12:])  # the first paragraph, then other news
    index = LSHIndex()
    index.add(1, index.sign(STORY))
    assert index.query(index.sign(follow_up)) == []


def test_config_is_validated_and_names_its_scheme():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupConfig(bands=50, rows=3)
    with pytest.raises(ValueError):
        DedupConfig(threshold=0)
    assert DedupConfig().scheme != DedupConfig(shingle=4).scheme
    assert DedupConfig().scheme == DedupConfig(threshold=0.7).scheme  # thresholds: query only


# -- clusters in the database ----------------------------------------------------------------

def test_copies_are_stored_as_duplicates_of_one_canonical_article(fresh_db):
    arts = [  # the copies were published a day after the original
        article("https://one.example/story", STORY),
        article("https://two.example/copy", boilerplate(STORY), date=LATER),
        article("https://three.example/exact", STORY.replace("\n", "\n\n"), date=LATER),
        article("https://four.example/trimmed", trim(STORY), date=LATER),
        article("https://five.example/edited", reword(drop_paragraph(STORY)), date=LATER),
        article("https://one.example/other-story", OTHER),
    ]
    results = write_all(fresh_db, arts)
    assert [r.outcome for r in results] == ["new", "duplicate", "duplicate", "duplicate",
                                            "duplicate", "new"]
    rows = rows_by_url(fresh_db)
    head = rows["https://one.example/story"]["id"]
    methods = {u: (r["duplicate_of"], r["dup_method"]) for u, r in rows.items()}
    assert methods == {
        "https://one.example/story": (None, None),
        "https://two.example/copy": (head, "near"),
        "https://three.example/exact": (head, "exact"),
        "https://four.example/trimmed": (head, "contained"),
        "https://five.example/edited": (head, "near"),
        "https://one.example/other-story": (None, None),
    }
    assert rows["https://three.example/exact"]["similarity"] == 1.0
    assert 0.5 <= rows["https://two.example/copy"]["similarity"] < 1.0
    assert results[1].article.duplicate_of == head and results[1].article_id is not None
    db = fresh_db
    unique = {r["url"]: r["copies"] for r in db["unique_articles"].rows}
    assert unique == {"https://one.example/story": 4, "https://one.example/other-story": 0}
    # Every article has its signature stored next to it.
    assert db["signatures"].count == len(arts)
    # Every input also left its fetches row, linked to its own article row.
    assert db["fetches"].count == len(arts)
    assert {r["article_id"] for r in db["fetches"].rows} == {r["id"] for r in rows.values()}


def test_the_page_the_copies_name_as_canonical_takes_over_when_it_arrives(fresh_db):
    original = "https://wire.example/story"
    write_all(fresh_db, [
        article("https://a.example/1", boilerplate(STORY), canonical_link=original),
        article("https://b.example/2", drop_paragraph(STORY), canonical_link=original),
        article(original, STORY, date="2025-09-11"),  # later date, but named by the others
        article("https://c.example/3", STORY, date="2025-09-01"),  # earlier: not enough
    ])
    rows = rows_by_url(fresh_db)
    head = rows[original]["id"]
    assert rows[original]["duplicate_of"] is None
    assert {u: r["duplicate_of"] for u, r in rows.items() if u != original} == {
        "https://a.example/1": head, "https://b.example/2": head, "https://c.example/3": head}


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_canonical_is_earliest_then_longest_whatever_the_arrival_order(fresh_db, order):
    arts = [
        article("https://a.example/undated", STORY, date=None),
        article("https://b.example/late", boilerplate(STORY), date="2025-09-12"),
        article("https://c.example/early-short", drop_paragraph(STORY), date="2025-09-10"),
        article("https://d.example/early-long", STORY + "\nOne more line of reporting here.",
                date="2025-09-10"),
    ]
    write_all(fresh_db, [arts[i] for i in order])
    rows = rows_by_url(fresh_db)
    heads = [u for u, r in rows.items() if r["duplicate_of"] is None]
    assert heads == ["https://d.example/early-long"]
    head = rows[heads[0]]["id"]
    assert all(r["duplicate_of"] == head for u, r in rows.items() if u != heads[0])


def test_a_copy_matching_two_clusters_merges_them(fresh_db):
    start, end = "\n".join(BODY[:8]), "\n".join(BODY[4:12])  # each a trimmed copy of STORY
    assert exact_jaccard(start, end) < 0.4  # too little in common to be linked directly
    results = write_all(fresh_db, [article("https://a.example/start", start),
                                  article("https://b.example/end", end),
                                  article("https://c.example/whole", STORY)])
    assert [r.outcome for r in results] == ["new", "new", "duplicate"]
    rows = rows_by_url(fresh_db)
    head = rows["https://c.example/whole"]["id"]  # the longest: canonical of the merged story
    assert rows["https://c.example/whole"]["duplicate_of"] is None
    assert rows["https://a.example/start"]["duplicate_of"] == head
    assert rows["https://b.example/end"]["duplicate_of"] == head
    assert fresh_db["unique_articles"].count == 1


def test_contained_matches_are_confirmed_on_the_texts():
    index = LSHIndex()
    assert index.contained(trim(STORY), STORY) == 1.0
    assert index.contained(STORY, OTHER) is None
    half = "\n".join(BODY[:6] + BODY[12:18])  # half of it in STORY: not enough
    assert index.contained(half, STORY) is None


def test_a_later_lesser_copy_never_moves_the_canonical(fresh_db):
    write_all(fresh_db, [article("https://a.example/1", STORY, date="2025-09-10")])
    write_all(fresh_db, [article("https://b.example/2", trim(STORY), date="2025-09-10"),
                         article("https://c.example/3", boilerplate(STORY), date="2025-09-11")])
    rows = rows_by_url(fresh_db)
    assert rows["https://a.example/1"]["duplicate_of"] is None
    assert {r["duplicate_of"] for u, r in rows.items() if u != "https://a.example/1"} == {
        rows["https://a.example/1"]["id"]}


def test_a_new_process_on_the_same_database_still_finds_the_copies(fresh_db):
    db_path = db_file(fresh_db)
    write_all(fresh_db, [article("https://a.example/1", STORY)])
    code = (
        "import sys\n"
        "from tests.test_dedup import article, write_all, boilerplate, STORY\n"
        "from pathlib import Path\n"
        "r = write_all(Path(sys.argv[1]), [article('https://b.example/2', boilerplate(STORY), "
        "date='2025-09-11')])\n"
        "print(r[0].outcome, r[0].article.duplicate_of, r[0].article.dup_method)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(db_path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["duplicate", str(rows_by_url(fresh_db)["https://a.example/1"]["id"]), "near"]


def test_articles_stored_before_dedup_existed_are_signed_once_and_matched(fresh_db):
    with Store(fresh_db) as store:  # no index: as a database from before signatures
        store.write(result(article("https://a.example/1", STORY)))
    db = fresh_db
    assert db["signatures"].count == 0
    results = write_all(fresh_db, [article("https://b.example/2", reword(STORY), date=LATER)])
    assert results[0].outcome == "duplicate" and results[0].article.duplicate_of == 1
    assert db["signatures"].count == 2


def test_a_changed_scheme_re_signs_the_stored_articles(fresh_db):
    write_all(fresh_db, [article("https://a.example/1", STORY)])
    other = DedupConfig(shingle=4)
    results = write_all(fresh_db, [article("https://b.example/2", boilerplate(STORY),
                                           date=LATER)], other)
    assert results[0].outcome == "duplicate" and results[0].article.duplicate_of == 1
    schemes = {r["scheme"] for r in fresh_db["signatures"].rows}
    assert schemes == {other.scheme}


def test_an_updated_article_keeps_its_row_and_is_placed_again(fresh_db):
    write_all(fresh_db, [article("https://a.example/1", STORY),
                         article("https://b.example/2", OTHER)])
    # b's page now carries a's story (a correction, a swapped page): it joins a's cluster.
    results = write_all(fresh_db, [article("https://b.example/2", boilerplate(STORY),
                                           date=LATER)])
    assert results[0].outcome == "updated"
    rows = rows_by_url(fresh_db)
    assert len(rows) == 2
    assert rows["https://b.example/2"]["duplicate_of"] == rows["https://a.example/1"]["id"]
    # Seen again unchanged: nothing moves, and the record says what it is.
    again = write_all(fresh_db, [article("https://b.example/2", boilerplate(STORY),
                                         date=LATER)])
    assert again[0].outcome == "unchanged" and again[0].article.dup_method == "near"


def test_two_writers_on_one_database_see_each_others_signatures(fresh_db):
    # One thread drives both: each commits every write (a writer holds the lock per batch).
    # Two connections: the fixture's, and one the second Store opens on its file.
    with (Store(fresh_db, index=LSHIndex(), batch_rows=1) as one,
          Store(db_file(fresh_db), index=LSHIndex(), batch_rows=1) as two):
        for n in range(3):  # interleaved: each write must see the other writer's last one
            writer = (one, two)[n % 2]
            writer.write(result(article(f"https://w{n}.example/a",
                                        reword(STORY, seed=n), date=f"2025-09-1{n}")))
    rows = rows_by_url(fresh_db)
    assert [r["duplicate_of"] for r in rows.values()] == [None, 1, 1]


def _write_copies(db_path: str, worker: int, barrier) -> None:
    barrier.wait()
    # Each copy edited differently: only the near-duplicate index can tie them together,
    # so each writer must see the signatures the others committed.
    arts = [article(f"https://w{worker}-{n}.example/{s}",
                    reword(text, share=0.01, seed=worker * 10 + n))
            for n in range(10) for s, text in (("a", STORY), ("b", OTHER))]
    with Store(Path(db_path), index=LSHIndex()) as store:
        for a in arts:
            store.write(result(a))
            time.sleep(0.005)  # SQLite's lock is not fair: let the other writers in between


def test_concurrent_writers_never_make_two_canonical_rows_for_one_story(fresh_db):
    db_path = db_file(fresh_db)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_write_copies, args=(str(db_path), w, barrier))
             for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    db = fresh_db
    assert db["articles"].count == 3 * 10 * 2
    assert db["unique_articles"].count == 2  # one per story, whoever wrote first


def test_dups_command_lists_clusters(fresh_db, tmp_path):
    db_path = db_file(fresh_db)
    write_all(fresh_db, [article("https://a.example/1", STORY, title="The story"),
                         article("https://b.example/2", boilerplate(STORY), date=LATER),
                         article("https://c.example/3", STORY),
                         article("https://d.example/4", OTHER),
                         article("https://e.example/5", boilerplate(OTHER), date=LATER)])
    listed = list(clusters(fresh_db))
    assert [(c.canonical["url"], c.size) for c in listed] == [
        ("https://a.example/1", 3), ("https://d.example/4", 2)]
    proc = run("dups", "--db", str(db_path), "--min-size", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("3 copies") and "The story" in lines[0]
    assert "https://a.example/1" in lines[0]
    assert lines[1].split()[:2] == ["1.00", "exact"] and lines[1].endswith("https://c.example/3")
    assert lines[2].split()[1] == "near" and lines[2].endswith("https://b.example/2")
    assert lines[-1] == "1 cluster(s) of 3 or more"
    proc = run("dups", "--db", str(db_path), "--json")
    data = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["canonical"]["url"] for d in data] == ["https://a.example/1", "https://d.example/4"]
    assert {m["url"] for m in data[0]["members"]} == {"https://b.example/2", "https://c.example/3"}
    assert run("dups", "--db", str(tmp_path / "missing.db")).returncode == 1


# -- the pipeline ----------------------------------------------------------------------------

def html(title: str, text: str, canonical: str | None = None,
         date: str = "2025-09-10") -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    link += f'<meta property="article:published_time" content="{date}">'
    paragraphs = "".join(f"<p>{p}</p>" for p in text.splitlines())
    return (f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>"
            f"{paragraphs}</article></body></html>").encode()


@pytest.mark.parametrize("workers", [0, 2])
def test_a_url_given_twice_is_fetched_once_and_an_alias_is_recognised(site, tmp_path, workers):
    """An alias is recognised by the canonical link its cleaning found, in process and with
    worker processes alike (the writer parses no page)."""
    executor = ProcessPool(workers) if workers else InProcess()
    story = site.url("/story")
    site.add("/story", html("The story", STORY, canonical=story))
    site.add("/story/amp", html("The story", boilerplate(STORY), canonical=story))
    # A page whose canonical link names the site's home page is not an alias of it.
    site.add("/", html("Home", OTHER))
    site.add("/other", html("Other", OTHER, canonical=site.url("/")))
    db_path = tmp_path / "x.db"
    config = FetchConfig(allow_private=True, delay=0, per_host=1)
    with Fetcher(config) as fetcher:
        ingest(tasks_for([story, story, story + "?utm_source=feed", site.url("/")]),
               db_path, fetcher, Cleaner(), executor=executor)
        summary = ingest(tasks_for([site.url("/story/amp"), site.url("/other")]), db_path,
                         fetcher, Cleaner(), executor=executor)
    assert site.requests.count("/story") == 1
    db = sqlite_utils.Database(db_path)
    fetches = {r["url"].removeprefix(site.url("")): r for r in db["fetches"].rows}
    story_id = db.execute("SELECT id FROM articles WHERE url = ?", [story]).fetchone()[0]
    assert fetches["/story/amp"]["outcome"] == "alias"
    assert fetches["/story/amp"]["article_id"] == story_id
    assert "canonical link" in fetches["/story/amp"]["error"]
    assert summary.counts["alias"] == 1 and summary.failed == 0
    # /other was cleaned and stored under its own URL: a copy of the home page's text.
    other = db.execute("SELECT canonical_url, dup_method FROM articles WHERE url = ?",
                       [site.url("/other")]).fetchone()
    assert other[0] == site.url("/other") and other[1] == "exact"
    assert db["articles"].count == 3


def test_ingest_reports_duplicates_on_the_command_line(site, tmp_path):
    site.add("/a", html("The story", STORY))
    site.add("/b", html("The story, again", boilerplate(STORY), date=LATER))
    site.add("/c", html("The story, edited", reword(STORY), date=LATER))
    db_path = tmp_path / "x.db"
    # One host at a time and cleaning in process: the pages are written in this order.
    proc = run("ingest", *LOCAL, "--per-host", "1", "--workers", "0", "--db", str(db_path),
               site.url("/a"), site.url("/b"), site.url("/c"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("new")
    # Cleaning removed the other site's prompt, links and footer: an exact copy.
    assert lines[1].startswith("duplicate") and "exact copy of #1 (1.00)" in lines[1]
    assert lines[2].startswith("duplicate") and "near copy of #1" in lines[2]
    assert "new 1, duplicate 2" in lines[3]
    proc = run("ingest", *LOCAL, "--db", str(db_path), "--dup-threshold", "0", site.url("/a"))
    assert proc.returncode == 2 and "must be in (0, 1]" in proc.stderr


def test_a_database_from_before_dedup_is_migrated_and_its_articles_matched(tmp_path,
                                                                           monkeypatch):
    import store.migrations as migrations

    db_path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    old = open_db(db_path)
    assert "signatures" not in old.table_names()
    old["articles"].insert({"url": "https://a.example/1", "canonical_url": "https://a.example/1",
                            "text": STORY, "content_hash": content_hash(STORY),
                            "word_count": word_count(STORY), "date": "2025-09-10"})
    old.close()
    monkeypatch.undo()
    results = write_all(db_path, [article("https://b.example/2", reword(STORY), date=LATER)])
    assert results[0].outcome == "duplicate" and results[0].article.duplicate_of == 1
    db = sqlite_utils.Database(db_path)
    assert "m004_duplicates" in [r["name"] for r in db["_migrations"].rows]
    assert db["unique_articles"].count == 1 and db["signatures"].count == 2


def test_rows_whose_cluster_changes_are_marked_updated(fresh_db):
    write_all(fresh_db, [article("https://a.example/1", boilerplate(STORY), date=LATER)])
    db = fresh_db
    db.execute("UPDATE articles SET updated_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    # The original arrives (earlier date): it takes over, and the old row is now a copy.
    write_all(fresh_db, [article("https://b.example/2", STORY)])
    first = rows_by_url(fresh_db)["https://a.example/1"]
    assert first["duplicate_of"] is not None and first["updated_at"] > "2025"
