"""Reading the store: `scrape search`, `scrape export`, `scrape stats` (pipeline/cli_store.py,
store/query.py) on databases written through store.Store, and the Datasette metadata that
`make browse` serves (data/datasette-metadata.json) checked against a fresh schema."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
import sqlite_utils

from pipeline import cli_store
from pipeline.cli import main
from records import Article, Page, Result
from store import Store, open_db
from store import query as store_query
from store.query import EXPORT_COLUMNS, export_rows, parse_since, search, stats
from tests.test_cli import SCRAPE, run

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "data" / "datasette-metadata.json"
FIELDS = [f.name for f in dataclasses.fields(Article)]

# Every kind of text a page may hold: right-to-left scripts, CJK, emoji (outside the BMP),
# combining marks, quotes, and control characters (which a terminal would act on).
UNICODE_TITLE = "שלום עולם — مرحبا بالعالم 北京 🦜"
UNICODE_TEXT = ("Première ligne: l'été à Zürich, «citation» et “quotes” 🦜🏳️‍🌈\n"
                "第二段：北京和東京。한국어 문장.\n"
                "Controls: bell\x07 escape\x1b[31mred\x1b[0m del\x7f nel\x85 csi\x9b "
                "ls\u2028ps\u2029 tab\tcr\r end\n"
                "RTL override \u202eevil\u202c and isolate \u2067x\u2069; nul \x00 kept")


def article(slug: str, title: str, text: str, **kw) -> Article:
    url = f"https://news.example.com/{slug}"
    base = {"url": url + "?utm_source=feed", "canonical_url": url, "title": title,
            "text": text, "word_count": len(text.split()), "content_hash": f"hash-{slug}",
            "date": "2026-01-10", "sitename": "Example News", "language": "en",
            "fetched_at": "2026-01-10T08:00:00+00:00"}
    base.update(kw)
    return Article(**base)


def page(url: str, source: str = "cli", **kw) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html",
                body=b"<p>x</p>", bytes=8, fetched_at="2026-01-10T08:00:00+00:00",
                source=source, **kw)


FILLER = ("The council met on Tuesday to discuss the budget, the schools and the roads, "
          "and agreed to meet again next month after a long debate. ")

ARTICLES = {
    # The word "lighthouse" once, in the headline.
    "title": article("title", "Lighthouse keepers return to the cape",
                     FILLER * 2 + "Keepers are back after ten years."),
    # The same word three times, in the body only, in a body of the same length.
    "body": article("body", "Coastal council notes",
                    FILLER + "The lighthouse was painted. The lighthouse lamp was fixed. "
                             "A lighthouse tour starts in May."),
    # One story at two URLs: the second is an exact copy (same content hash) of the first.
    "story": article("story", "Harbour ferry timetable changes",
                     "The harbour ferry will run every twenty minutes from March, and hourly "
                     "at night.", content_hash="hash-ferry", date="2026-01-09"),
    "copy": article("copy", "Harbour ferry timetable changes (wire)",
                    "The harbour ferry will run every twenty minutes from March, and hourly "
                    "at night.", content_hash="hash-ferry", date="2026-01-09",
                    url="https://wire.example.org/ferry",
                    canonical_url="https://wire.example.org/ferry", sitename="Wire"),
    # Every field set, in every script, with control characters.
    "unicode": article("unicode", UNICODE_TITLE, UNICODE_TEXT,
                       description="Ein Überblick «über» alles\nzweite Zeile",
                       author="Zoë Ø; 李雷", date_modified="2026-01-11",
                       language="he", image_url="https://news.example.com/🦜.jpg",
                       image_caption="Légende \x1b[1m", tags=["中文", "émoji 🦜",
                                                               'quote " and \\ slash', ""],
                       repeated_paragraphs_removed=3,
                       canonical_link="https://other.example/🦜?q=1&r=2"),
}


def build(path: Path) -> dict[str, int]:
    """The fixture database: ARTICLES stored through Store, plus two failed fetches from a
    sitemap source. Returns the article ids by ARTICLES key."""
    ids = {}
    with Store(path) as store:
        for key, a in ARTICLES.items():
            stored = dataclasses.replace(a, tags=list(a.tags))  # Store fills dedup fields
            result = store.write(Result(page=page(a.url), article=stored))
            ids[key] = result.article_id
        for n in (1, 2):
            bad = Page(url=f"https://news.example.com/gone{n}", status=404,
                       error="HTTP 404 Not Found", outcome="fetch.http_404",
                       fetched_at="2026-01-10T08:00:00+00:00",
                       source="sitemap:https://news.example.com/sitemap.xml")
            store.write(Result(page=bad, outcome=bad.outcome, error=bad.error))
    return ids


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "scrape.db"
    build(path)
    return path


@pytest.fixture
def ids(db_path) -> dict[str, int]:
    db = sqlite_utils.Database(db_path)
    by_url = {row["canonical_url"]: row["id"] for row in db["articles"].rows}
    return {key: by_url[a.canonical_url] for key, a in ARTICLES.items()}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored_rows(path: Path) -> dict[int, dict]:
    """The articles as stored, with tags decoded: what an export must give back."""
    db = sqlite_utils.Database(path)
    rows = {}
    for values in db.execute(f"SELECT {', '.join(EXPORT_COLUMNS)} FROM articles"):
        row = dict(zip(EXPORT_COLUMNS, values, strict=True))
        row["tags"] = json.loads(row["tags"])
        rows[row["id"]] = row
    return rows


# -- search ----------------------------------------------------------------------------------

def test_a_title_hit_outranks_a_body_only_hit(db_path, ids, monkeypatch):
    db = open_db(db_path)
    hits = list(search(db, "lighthouse"))
    assert [h.id for h in hits] == [ids["title"], ids["body"]]
    assert hits[0].score > hits[1].score > 0
    # It is the title's weight that does it: with equal weights, three body hits win.
    monkeypatch.setattr(store_query, "WEIGHTS", (1.0, 1.0, 1.0))
    assert [h.id for h in search(db, "lighthouse")] == [ids["body"], ids["title"]]


def test_unique_leaves_out_duplicates(db_path, ids, capsys):
    code, out, _ = cli(capsys, "search", "ferry", "--json", "--db", str(db_path))
    assert code == 0
    hits = [json.loads(line) for line in out.splitlines()]
    assert sorted(h["id"] for h in hits) == sorted([ids["story"], ids["copy"]])
    copy = next(h for h in hits if h["id"] == ids["copy"])
    assert copy["duplicate_of"] == ids["story"]
    assert list(hits[0]) == ["id", "url", "canonical_url", "title", "date", "sitename",
                             "duplicate_of", "score", "snippet", "language", "copies"]
    assert hits[0]["copies"] == (1 if hits[0]["id"] == ids["story"] else 0)

    code, out, _ = cli(capsys, "search", "ferry", "--json", "--unique", "--db", str(db_path))
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids["story"]]


def test_snippets_mark_the_matched_terms(db_path, ids, capsys):
    db = open_db(db_path)
    body = next(h for h in search(db, "lighthouse") if h.id == ids["body"])
    assert "«lighthouse»" in body.snippet and body.snippet.count("«") == 3
    # Diacritics are folded (remove_diacritics 2): "ete" finds "été", marked as written.
    [hit] = search(db, "ete")
    assert hit.id == ids["unicode"] and "«été»" in hit.snippet

    code, out, _ = cli(capsys, "search", "lighthouse", "--db", str(db_path))
    assert code == 0
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 3 and blocks[-1] == "2 hit(s)"
    first = blocks[0].splitlines()
    assert first[0] == "1. Lighthouse keepers return to the cape"
    assert first[1] == f"   2026-01-10  Example News  #{ids['title']}"
    assert first[2] == f"   {ARTICLES['title'].url}"
    assert "«Lighthouse»" in first[3]


@pytest.mark.parametrize("query, expected", [
    ('"harbour ferry', "story"),  # an unterminated string
    ("hourly night AND", "story"),  # an operator with nothing after it: the word "and"
    ("-", None),  # a bare minus: no word to search
    ("AND", None),  # an operator alone: the word "and"
    ("l'été", "unicode"),  # an apostrophe is not FTS5 syntax
    ("ferry (harbour", "story"),  # an unbalanced parenthesis
    ("harbour: ferry", "story"),  # not a column
])
def test_a_query_that_is_not_fts5_syntax_is_searched_as_plain_words(
        db_path, ids, capsys, query, expected):
    code, out, err = cli(capsys, "search", query, "--json", "--unique", "--db", str(db_path))
    assert code == 0, err
    assert "not FTS5 query syntax" in err and "Traceback" not in err
    found = {json.loads(line)["id"] for line in out.splitlines()}
    if query == "AND":  # every article that has the word "and" (the copy is left out)
        assert found == {ids["title"], ids["body"], ids["story"], ids["unicode"]}
    else:
        assert found == ({ids[expected]} if expected else set())


def test_fts5_syntax_is_used_when_it_parses(db_path, ids, capsys):
    db = open_db(db_path)
    assert {h.id for h in search(db, "lighthouse OR ferry", unique=True)} == {
        ids["title"], ids["body"], ids["story"]}
    assert [h.id for h in search(db, "title: lighthouse")] == [ids["title"]]
    assert [h.id for h in search(db, "lighth*", limit=1)] == [ids["title"]]
    code, _, err = cli(capsys, "search", "lighthouse NOT lamp", "--db", str(db_path))
    assert code == 0 and err == ""
    assert [h.id for h in search(db, '"lighthouse lamp"')] == [ids["body"]]


def test_an_empty_query_is_bad_usage(db_path, capsys):
    code, out, err = cli(capsys, "search", "  ", "--db", str(db_path))
    assert code == 2 and out == "" and "query is empty" in err


def test_search_prints_no_control_characters(db_path, ids, capsys):
    code, out, _ = cli(capsys, "search", "escape", "--db", str(db_path))
    assert code == 0 and "1 hit(s)" in out
    assert UNICODE_TITLE in out  # RTL, CJK and emoji printed as they are
    controls = [c for c in out if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0
                                                 or c in "\u2028\u2029\u202e\u2067")]
    assert controls == []
    code, out, _ = cli(capsys, "search", "escape", "--json", "--db", str(db_path))
    [line] = out.splitlines()  # one line, whatever the snippet holds
    assert json.loads(line)["id"] == ids["unicode"]
    assert not any(0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in line)


# -- export ----------------------------------------------------------------------------------

def test_jsonl_export_round_trips_every_field(db_path, ids, tmp_path):
    out = tmp_path / "articles.jsonl"
    proc = run("export", "--db", str(db_path), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and f"{len(ARTICLES)} article(s)" in proc.stderr
    data = out.read_bytes().decode("utf-8")
    # One object per line by every reading of "line" (U+2028, NEL etc. are escaped).
    assert data.splitlines() == data.rstrip("\n").split("\n")
    rows = [json.loads(line) for line in data.splitlines()]
    assert [row["id"] for row in rows] == sorted(ids.values())
    stored = stored_rows(db_path)
    for row in rows:
        assert list(row) == ["id", *FIELDS, "first_seen_at", "updated_at"]
        assert row == stored[row["id"]]
        again = Article(**{k: row[k] for k in FIELDS})
        assert again == Article(**{k: stored[row["id"]][k] for k in FIELDS})
    # The values are those written, Unicode and control characters intact.
    unicode = next(r for r in rows if r["id"] == ids["unicode"])
    written = ARTICLES["unicode"]
    for name in FIELDS:
        if name not in ("duplicate_of", "similarity", "dup_method"):
            assert unicode[name] == getattr(written, name), name
    assert unicode["text"] == UNICODE_TEXT and "\x00" in unicode["text"]
    assert unicode["tags"] == ["中文", "émoji 🦜", 'quote " and \\ slash', ""]
    assert "🦜" in data and "北京" in data  # not \u-escaped (ensure_ascii=False)
    copy = next(r for r in rows if r["id"] == ids["copy"])
    assert (copy["duplicate_of"], copy["similarity"], copy["dup_method"]) == (
        ids["story"], 1.0, "exact")


def test_csv_export_has_the_stored_values_as_text(db_path, ids, capsys):
    code, out, _ = cli(capsys, "export", "--format", "csv", "--db", str(db_path))
    assert code == 0
    raw = {row[0]: row for row in sqlite_utils.Database(db_path).execute(
        f"SELECT {', '.join(EXPORT_COLUMNS)} FROM articles")}
    reader = csv.DictReader(io.StringIO(out, newline=""))
    assert reader.fieldnames == list(EXPORT_COLUMNS)
    rows = list(reader)
    assert len(rows) == len(ARTICLES)
    for row in rows:
        stored = raw[int(row["id"])]
        assert list(row.values()) == ["" if v is None else str(v) for v in stored]
    unicode = next(r for r in rows if r["id"] == str(ids["unicode"]))
    assert unicode["text"] == UNICODE_TEXT
    assert json.loads(unicode["tags"]) == ARTICLES["unicode"].tags  # JSON text in CSV


def set_updated_at(path: Path, ids: dict[str, int], times: dict[str, str]) -> None:
    db = sqlite_utils.Database(path)
    for key, at in times.items():
        db.execute("UPDATE articles SET updated_at = ? WHERE id = ?", [at, ids[key]])
    db.conn.commit()


def exported_ids(capsys, *args: str) -> list[int]:
    code, out, err = cli(capsys, "export", *args)
    assert code == 0, err
    return [json.loads(line)["id"] for line in out.splitlines()]


def test_since_keeps_articles_updated_at_or_after_the_moment(db_path, ids, capsys):
    set_updated_at(db_path, ids, {
        "title": "2026-01-31T23:59:59+00:00", "body": "2026-02-01T00:00:00+00:00",
        "story": "2026-02-01T10:00:00+00:00", "copy": "2026-02-01T10:00:01+00:00",
        "unicode": "2026-02-02T08:00:00+00:00"})
    db = ["--db", str(db_path)]
    # A day is its midnight, UTC, inclusive: the row stored at 00:00:00 is in.
    assert exported_ids(capsys, "--since", "2026-02-01", *db) == [
        ids["body"], ids["story"], ids["copy"], ids["unicode"]]
    # A time with an offset is converted to UTC (12:00+02:00 is 10:00Z): inclusive again.
    assert exported_ids(capsys, "--since", "2026-02-01T12:00:00+02:00", *db) == [
        ids["story"], ids["copy"], ids["unicode"]]
    assert exported_ids(capsys, "--since", "2026-02-01T10:00:00.5Z", *db) == [
        ids["story"], ids["copy"], ids["unicode"]]  # fractions round down: never a miss
    assert exported_ids(capsys, "--since", "2026-02-03", *db) == []
    assert exported_ids(capsys, "--since", "2026-02-01", "--unique", *db) == [
        ids["body"], ids["story"], ids["unicode"]]
    assert parse_since("2026-02-01T10:00") == "2026-02-01T10:00:00+00:00"  # naive is UTC


def test_unique_exports_canonical_articles_only(db_path, ids, capsys):
    everything = exported_ids(capsys, "--db", str(db_path))
    unique = exported_ids(capsys, "--unique", "--db", str(db_path))
    assert ids["copy"] in everything and ids["copy"] not in unique
    assert unique == [i for i in everything if i != ids["copy"]]


def test_output_is_replaced_whole_or_not_at_all(db_path, tmp_path, capsys, monkeypatch):
    out = tmp_path / "export.jsonl"
    out.write_text("the previous export\n")
    out.chmod(0o640)

    def failing(db, **kw):
        rows = export_rows(db, **kw)
        yield next(rows)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(cli_store, "export_rows", failing)
    code, _, err = cli(capsys, "export", "--output", str(out), "--db", str(db_path))
    assert code == 4 and "disk I/O error" in err  # a database error: exit 4 (cli_store.guarded)
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if "scrape.db" not in p.name] == [
        "export.jsonl"]  # no temporary file left behind

    def interrupted(db, **kw):
        yield from list(export_rows(db, **kw))[:2]
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_store, "export_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["export", "--output", str(out), "--db", str(db_path)])
    assert out.read_text() == "the previous export\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    monkeypatch.undo()
    code, _, _ = cli(capsys, "export", "--output", str(out), "--db", str(db_path))
    assert code == 0 and len(out.read_text().splitlines()) == len(ARTICLES)
    assert oct(out.stat().st_mode & 0o777) == oct(0o640)  # the file's mode is kept
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_through_a_link_or_into_a_pipe(db_path, tmp_path, capsys):
    # A link's target is replaced and the link stays; a named pipe (like /dev/stdout or
    # /dev/null) is written to, never replaced by a regular file.
    target, link = tmp_path / "target.jsonl", tmp_path / "link.jsonl"
    link.symlink_to(target)
    code, _, _ = cli(capsys, "export", "--output", str(link), "--db", str(db_path))
    assert code == 0 and link.is_symlink()
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(ARTICLES)

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, _ = cli(capsys, "export", "--output", str(fifo), "--db", str(db_path))
    reader.join(timeout=30)
    assert code == 0 and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(received[0].decode("utf-8").splitlines()) == len(ARTICLES)


def test_export_streams_rows_without_holding_the_table(tmp_path):
    path = tmp_path / "big.db"
    db = open_db(path)
    body = "word " * 10_000  # 50 KB a row, 400 rows: 20 MB of text
    with db.conn:
        for i in range(400):
            db.conn.execute("INSERT INTO articles (url, canonical_url, text, tags) "
                            "VALUES (?, ?, ?, '[]')", [f"u{i}", f"u{i}", body + str(i)])

    class Sink:
        size = 0

        def write(self, text: str) -> None:
            self.size += len(text)

        def flush(self) -> None:
            pass

    sink = Sink()
    tracemalloc.start()
    try:
        count = cli_store.write_jsonl(export_rows(db), sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 400 and sink.size > 400 * 50_000
    assert peak < 2_000_000, peak  # a few rows' worth, not the 20 MB table


def test_export_to_a_closed_pipe_ends_quietly(tmp_path):
    path = tmp_path / "many.db"
    db = open_db(path)
    with db.conn:
        for i in range(300):
            db.conn.execute("INSERT INTO articles (url, canonical_url, text) VALUES (?, ?, ?)",
                            [f"u{i}", f"u{i}", "text " * 200])
    proc = subprocess.Popen([SCRAPE, "export", "--db", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["id"] == 1  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""


# -- stats -----------------------------------------------------------------------------------

def test_stats_counts_are_exact(db_path, capsys):
    s = stats(open_db(db_path))
    assert s["articles"] == {"total": 5, "unique": 4, "duplicates": 1}
    assert s["fetches"] == {"total": 7, "by_source": [
        {"source": "cli", "outcome": "duplicate", "count": 1},
        {"source": "cli", "outcome": "new", "count": 4},
        {"source": "sitemap:https://news.example.com/sitemap.xml",
         "outcome": "fetch.http_404", "count": 2}]}
    assert s["last_run"] is None
    wal = Path(f"{db_path}-wal")
    assert s["size"]["main"] == db_path.stat().st_size > 0
    assert s["size"]["wal"] == (wal.stat().st_size if wal.exists() else 0)
    assert s["size"]["total"] == s["size"]["main"] + s["size"]["wal"]

    code, out, _ = cli(capsys, "stats", "--db", str(db_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "articles: 5 (4 unique, 1 duplicates)"
    assert lines[2:5] == ["fetches: 7 by source and outcome:",
                          "  cli: 5: duplicate 1, new 4",
                          "  sitemap:https://news.example.com/sitemap.xml: 2: fetch.http_404 2"]
    assert lines[-1] == "last run: no runs recorded"


def test_stats_shows_the_last_run(db_path, capsys):
    db = sqlite_utils.Database(db_path)
    db["runs"].insert_all([
        {"id": 1, "command": "ingest", "started_at": "2026-01-09T08:00:00+00:00",
         "finished_at": "2026-01-09T08:05:00+00:00", "status": "completed",
         "counts": json.dumps({"new": 3})},
        {"id": 2, "command": "batch", "started_at": "2026-01-10T08:00:00+00:00",
         "finished_at": "2026-01-10T08:09:00+00:00", "status": "failed",
         "counts": json.dumps({"fetch.http_404": 2, "new": 0})}])
    code, out, _ = cli(capsys, "stats", "--json", "--db", str(db_path))
    assert code == 0
    assert json.loads(out)["last_run"] == {
        "id": 2, "command": "batch", "started_at": "2026-01-10T08:00:00+00:00",
        "finished_at": "2026-01-10T08:09:00+00:00", "status": "failed",
        "counts": {"fetch.http_404": 2, "new": 0}}
    code, out, _ = cli(capsys, "stats", "--db", str(db_path))
    assert out.splitlines()[-1] == (
        "last run: #2 batch failed, started 2026-01-10T08:00:00+00:00, finished "
        "2026-01-10T08:09:00+00:00: fetch.http_404 2, new 0")


# -- the command line as a user runs it ------------------------------------------------------

def test_commands_end_to_end_in_a_subprocess(db_path, ids):
    proc = run("search", "lighthouse", "--limit", "1", "--json", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    [hit] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert hit["id"] == ids["title"] and hit["title"] == ARTICLES["title"].title
    proc = run("stats", "--json", "--db", str(db_path))
    assert proc.returncode == 0 and json.loads(proc.stdout)["articles"]["total"] == 5
    proc = run("export", "--format", "csv", "--unique", "--db", str(db_path))
    assert proc.returncode == 0
    assert len(list(csv.DictReader(proc.stdout.splitlines()))) == 4


@pytest.mark.parametrize("command", [["search", "x"], ["export"], ["stats"]])
def test_a_missing_database_is_exit_1_and_is_not_created(tmp_path, command):
    path = tmp_path / "nothing" / "here.db"
    proc = run(*command, "--db", str(path))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"scrape {command[0]}: no database at {path}"
    assert not path.exists() and not path.parent.exists()


def test_a_file_that_is_not_a_database_is_exit_4(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("not sqlite" * 100)
    code, _, err = cli(capsys, "stats", "--db", str(path))
    assert code == 4 and err.startswith(f"scrape stats: cannot use the database {path}: ")


@pytest.mark.parametrize("args, message", [
    (["export", "--since", "yesterday"], "not a date"),
    (["export", "--format", "xml"], "invalid choice"),
    (["search", "x", "--limit", "0"], "must be at least 1"),
    (["export", "--output", "/nonexistent-dir/x.jsonl"], "no directory"),
])
def test_bad_usage_is_exit_2(db_path, capsys, args, message):
    try:
        code = main([*args, "--db", str(db_path)])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


# -- make browse: the Datasette metadata -----------------------------------------------------

def test_datasette_metadata_names_only_what_a_fresh_database_has(tmp_path):
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    db = open_db(tmp_path / "fresh.db")
    columns = {name: set(db[name].columns_dict) for name in db.table_names() + db.view_names()}
    [(name, database)] = metadata["databases"].items()
    assert name == cli_store.METADATA_NAME
    assert database["title"] and database["description"]
    tables = database["tables"]
    for table, meta in tables.items():
        assert table in columns, table
        named = set(meta.get("columns", {}))
        for facet in meta.get("facets", []):
            named |= {facet} if isinstance(facet, str) else set(facet.values())
        for key in ("sort", "sort_desc", "label_column", "fts_pk"):
            if key in meta:
                named.add(meta[key])
        named |= set(meta.get("sortable_columns", []))
        assert named <= columns[table], (table, named - columns[table])
        if "fts_table" in meta:
            assert meta["fts_table"] in columns and meta["fts_pk"] == "id"
        if not meta.get("hidden"):
            assert meta["title"] and meta["description"], table
    shown = {"articles", "unique_articles", "fetches", "runs", "sources", "pages", "frontier"}
    assert {t for t, m in tables.items() if not m.get("hidden")} == shown
    # Every other table is hidden: the FTS shadow tables, signatures, _migrations...
    assert {t for t, m in tables.items() if m.get("hidden")} == set(columns) - shown
    assert tables["articles"]["fts_table"] == "articles_fts"
    assert {"url", "canonical_url", "duplicate_of", "dup_method", "updated_at"} <= set(
        tables["articles"]["columns"])
    assert "body" in tables["pages"]["columns"]


def test_datasette_metadata_follows_the_database_file_name(tmp_path):
    metadata = cli_store.datasette_metadata(METADATA, tmp_path / "news-2026.db")
    assert list(metadata["databases"]) == ["news-2026"]
    assert metadata["databases"]["news-2026"]["tables"]["articles"]["fts_pk"] == "id"
    proc = subprocess.run([os.fspath(Path(SCRAPE).parent / "python"), "-m",
                           "pipeline.cli_store", str(METADATA), "data/scrape.db"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert list(json.loads(proc.stdout)["databases"]) == ["scrape"]


def test_articles_stored_before_full_text_search_are_found_after_the_migration(
        tmp_path, monkeypatch):
    import store.migrations as migrations
    from store import open_db
    from store.query import search

    path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
    old = open_db(path)
    assert "articles_fts" not in old.table_names()
    old["articles"].insert({"url": "https://a.example/1", "canonical_url": "https://a.example/1",
                            "title": "Harbour reopens", "text": "The harbour reopened today."})
    old.close()
    monkeypatch.undo()
    db = open_db(path)  # migrates: m005 indexes what is already there
    assert [h.url for h in search(db, "harbour")] == ["https://a.example/1"]
    db["articles"].insert({"url": "https://b.example/2", "canonical_url": "https://b.example/2",
                           "title": "Ferry", "text": "Ferries to the harbour resume."})
    assert {h.url for h in search(db, "harbour")} == {"https://a.example/1",
                                                      "https://b.example/2"}


def fts_ok(db: sqlite_utils.Database) -> None:
    """FTS5's own check that the index matches the articles table (raises if not; also
    while articles are still queued for indexing)."""
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")


def test_the_writer_indexes_each_batch_before_it_commits(tmp_path):
    path = tmp_path / "s.db"
    with Store(path, batch_rows=3) as store:
        for n in range(7):
            store.write(Result(page=page(f"https://news.example.com/{n}"),
                               article=article(str(n), f"Tide {n}", f"Lighthouse {n} {FILLER}")))
        # Two batches of three committed: searchable from another connection, nothing queued.
        other = sqlite_utils.Database(path)
        assert len(list(search(other, "lighthouse", limit=50))) == 6
        other.close()
    db = sqlite_utils.Database(path)
    assert db.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 0
    assert len(list(search(db, "lighthouse", limit=50))) == 7
    fts_ok(db)


def test_rows_inserted_around_the_store_are_indexed_and_the_index_stays_whole(tmp_path):
    path = tmp_path / "s.db"
    db = open_db(path)
    table = db["articles"]
    for n, word in enumerate(["heron", "egret", "stork"]):
        table.insert({"url": f"https://b.example/{n}", "canonical_url": f"https://b.example/{n}",
                      "title": word, "text": f"A {word} by the river."})
    assert db.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 3
    # Changed and deleted while still queued: the index must not be asked to drop terms it
    # never had.
    table.update(1, {"title": "crane", "text": "A crane by the river."})
    table.delete(2)
    assert [h.url for h in search(db, "crane")] == ["https://b.example/0"]
    assert db.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 0
    fts_ok(db)
    assert [h.url for h in search(db, "stork")] == ["https://b.example/2"]
    assert list(search(db, "heron")) == [] and list(search(db, "egret")) == []
    # Indexed rows: an update replaces their terms, a delete removes them.
    table.update(3, {"text": "A spoonbill by the river."})
    table.delete(1)
    assert list(search(db, "crane")) == [] and list(search(db, "river")) != []
    assert [h.url for h in search(db, "spoonbill")] == ["https://b.example/2"]
    assert [h.snippet for h in search(db, "stork")] == ["«stork»"]  # its title, unchanged
    fts_ok(db)
    db.close()


def test_a_read_only_search_finds_what_is_indexed(tmp_path):
    path = tmp_path / "s.db"
    db = open_db(path)
    db["articles"].insert({"url": "https://b.example/1", "canonical_url": "https://b.example/1",
                           "title": "Heron", "text": "A heron."})
    db.close()
    ro = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    assert list(search(ro, "heron")) == []  # queued, and this connection may not index it
    ro.close()
    db = sqlite_utils.Database(path)
    assert [h.url for h in search(db, "heron")] == ["https://b.example/1"]


def test_the_reading_commands_load_neither_fetcher_nor_cleaner(db_path):
    """`scrape search`, `export` and `stats` start without the fetcher, the cleaner,
    trafilatura, aiohttp or numpy (pipeline/entry.py): they never use them. numpy stays
    importable after."""
    code = ("import sys\nfrom pipeline.entry import main\n"
            f"for command in (['search', 'storm'], ['export'], ['stats']):\n"
            f"    assert main([*command, '--db', {str(db_path)!r}]) == 0\n"
            "heavy = [m for m in ('trafilatura', 'aiohttp', 'httpx', 'cleaner', 'scraper',\n"
            "                     'pipeline.cli', 'selectolax', 'numpy') if m in sys.modules]\n"
            "import numpy\n"
            "print('LOADED', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED []"
