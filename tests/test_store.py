"""Store: a fresh database, migrations, one row per canonical URL, every attempt logged."""

import dataclasses

import pytest
import sqlite_utils

from records import Article, Page, Result
from store import MIGRATIONS, Store, migrate, open_db
from store.db import db_file


def article(**kw) -> Article:
    base = dict(url="https://news.example.com/a?utm_source=x", canonical_url="https://news.example.com/a",
                title="A title", text="First paragraph.\nSecond paragraph.", word_count=4,
                content_hash="h1", fetched_at="2026-01-01T00:00:00+00:00")
    base.update(kw)
    return Article(**base)


def page(url="https://news.example.com/a", **kw) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html", body=b"<p>x</p>",
                bytes=8, fetched_at="2026-01-01T00:00:00+00:00", elapsed_ms=12, **kw)


def test_fresh_database_has_schema_and_records_migrations(tmp_path):
    db = open_db(tmp_path / "sub" / "x.db")
    assert {"articles", "fetches", "_migrations"} <= set(db.table_names())
    assert [r["name"] for r in db["_migrations"].rows] == [m.__name__ for m in MIGRATIONS]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Every Article field is a column: the record's names are the database's names.
    assert {f.name for f in dataclasses.fields(Article)} <= set(db["articles"].columns_dict)
    assert migrate(db) == []  # nothing left to apply


def test_migrations_run_once_on_an_existing_database(tmp_path):
    path = tmp_path / "x.db"
    open_db(path).close()
    db = sqlite_utils.Database(path)
    assert migrate(db) == []
    assert db["_migrations"].count == len(MIGRATIONS)


def test_reingest_updates_the_row_never_adds_one(fresh_db):
    with Store(fresh_db) as store:
        r1 = store.write(Result(page=page(), article=article()))
        r2 = store.write(Result(page=page(), article=article()))
        r3 = store.write(Result(page=page(), article=article(title="New title", content_hash="h2")))
        assert (r1.outcome, r2.outcome, r3.outcome) == ("new", "unchanged", "updated")
        assert store.db["articles"].count == 1
        assert store.article("https://news.example.com/a")["title"] == "New title"
        assert store.db["fetches"].count == 3
        ids = {row["article_id"] for row in store.db["fetches"].rows}
        assert ids == {1}


CLEAN, TRACKED = "https://news.example.com/a", "https://news.example.com/a?utm_source=x"


@pytest.mark.parametrize("order", [[TRACKED, CLEAN], [CLEAN, TRACKED]])
def test_the_rows_url_is_the_canonical_one_whichever_copy_came_first(fresh_db, order):
    with Store(fresh_db) as store:
        outcomes = [store.write(Result(page=page(url), article=article(url=url))).outcome
                    for url in order]
        assert outcomes == ["new", "unchanged"]
        assert [r["url"] for r in store.db["articles"].rows] == [CLEAN]
        # A changed copy at the tracking variant updates the row, not its URL.
        edited = article(url=TRACKED, title="Edited", content_hash="h2")
        assert store.write(Result(page=page(TRACKED), article=edited)).outcome == "updated"
        assert [(r["url"], r["title"]) for r in store.db["articles"].rows] == [(CLEAN,
                                                                              "Edited")]


def test_failed_attempt_leaves_a_fetch_row_and_no_article(fresh_db):
    bad = Page(url="https://news.example.com/gone", status=404, error="HTTP 404 Not Found",
               outcome="fetch.http_404", fetched_at="2026-01-01T00:00:00+00:00")
    with Store(fresh_db) as store:
        store.write(Result(page=bad, outcome=bad.outcome, error=bad.error))
        assert store.db["articles"].count == 0
        row = next(iter(store.db["fetches"].rows))
        assert row["url"] == "https://news.example.com/gone"
        assert (row["status"], row["outcome"], row["error"]) == (404, "fetch.http_404",
                                                                 "HTTP 404 Not Found")
        assert row["article_id"] is None


def test_a_failing_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    from store import migrations

    path = tmp_path / "x.db"
    open_db(path).close()

    def m002_broken(db):
        db["extra"].create({"id": int}, pk="id")
        raise RuntimeError("half-way")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m002_broken])
    db = sqlite_utils.Database(path)
    try:
        migrate(db)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the broken migration should raise")
    assert "extra" not in db.table_names()
    assert migrations.applied(db) == [m.__name__ for m in MIGRATIONS]

    def m002_fixed(db):
        db["extra"].create({"id": int}, pk="id")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m002_fixed])
    assert migrate(db) == ["m002_fixed"]
    assert "extra" in db.table_names()


def committed_articles(path) -> int:
    """Articles another connection sees: what is committed."""
    return sqlite_utils.Database(path)["articles"].count


def test_writes_commit_in_batches_and_at_close(fresh_db):
    path = db_file(fresh_db)
    with Store(fresh_db, batch_rows=3, batch_seconds=3600) as store:
        for n in range(2):
            store.write(Result(page=page(), article=article(
                canonical_url=f"https://news.example.com/{n}", content_hash=f"h{n}")))
        assert committed_articles(path) == 0  # the batch is open
        store.write(Result(page=page(), article=article(
            canonical_url="https://news.example.com/2", content_hash="h2")))
        assert committed_articles(path) == 3  # the third write closed the batch
        store.write(Result(page=page(), article=article(
            canonical_url="https://news.example.com/3", content_hash="h3")))
    assert committed_articles(path) == 4  # close() commits the rest


def test_a_batch_also_commits_after_batch_seconds(fresh_db):
    path = db_file(fresh_db)
    with Store(fresh_db, batch_rows=1000, batch_seconds=0) as store:
        store.write(Result(page=page(), article=article()))
        assert committed_articles(path) == 1


def test_an_article_that_cannot_be_stored_is_recorded_and_the_batch_goes_on(fresh_db):
    broken = article(canonical_url="https://news.example.com/broken", content_hash="hb",
                     title=object())  # sqlite3 cannot bind it
    with Store(fresh_db) as store:
        first = store.write(Result(page=page(), article=article()))
        bad = store.write(Result(page=page("https://news.example.com/broken"), article=broken))
        after = store.write(Result(page=page(), article=article(
            canonical_url="https://news.example.com/after", content_hash="h2")))
    assert (first.outcome, bad.outcome, after.outcome) == ("new", "store.error", "new")
    assert "could not store the article" in bad.error and bad.article_id is None
    db = fresh_db
    assert sorted(r["canonical_url"] for r in db["articles"].rows) == [
        "https://news.example.com/a", "https://news.example.com/after"]
    outcomes = [(r["url"], r["outcome"]) for r in db["fetches"].rows_where(order_by="id")]
    assert outcomes[1] == ("https://news.example.com/broken", "store.error")
    assert len(outcomes) == 3


def test_page_bodies_are_packed_where_cleaning_runs_and_read_back_in_either_format(fresh_db):
    import zlib

    from store.pages import Pack, pack, unpack

    html = b"<html><body>" + b"<p>The tide came in over the harbour wall.</p>" * 200 + b"</body>"
    big = dataclasses.replace(page(), body=html, bytes=len(html))
    failed = page(url="https://x.example/", error="boom")
    results = list(Pack()([Result(page=big, article=article()), Result(page=failed)]))
    assert results[0].stored_body == pack(html) and len(pack(html)) < len(html) // 10
    assert results[1].stored_body is None  # a failed fetch keeps no page
    assert unpack(pack(html)) == html
    assert unpack(zlib.compress(html, 3)) == html  # rows written before migration 006
    with Store(fresh_db) as store:
        results[0].stored_body = pack(b"<p>as packed upstream</p>")  # the writer takes it as is
        store.write(results[0])
        other = dataclasses.replace(big, url="https://news.example.com/b")
        store.write(Result(page=other))  # packed here
    bodies = [unpack(r[0]) for r in fresh_db.execute("SELECT body FROM pages ORDER BY fetch_id")]
    assert bodies == [b"<p>as packed upstream</p>", html]
