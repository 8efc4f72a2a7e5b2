"""Hostile uses of the store's readers and outputs (issue 12): an output file naming the
database, spreadsheet formulas in a CSV export, searches that would run without end, corrupt
and read-only databases, SIGTERM during an export. Each leaves the database as it was
(`PRAGMA integrity_check`), and each failure is one line and an exit status."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from store import migrations, open_db
from store import query as store_query
from store.db import PAGE_SIZE
from store.query import QueryError, search
from store.snippets import CLOSE, OPEN, best_snippet
from tests.test_cli import LOCAL, ROOT, run
from tests.test_search_export import ARTICLES, build, stored_rows


def intact(path: Path) -> None:
    """The database passes SQLite's own check (and is still a database)."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "scrape.db"
    build(path)
    return path


# -- 1. an output that is the database ------------------------------------------------------

@pytest.mark.parametrize("name", ["same", "dot", "symlink", "hardlink", "-wal", "-shm",
                                  "-journal", ".lock"])
def test_export_onto_the_database_or_its_files_is_refused(db_path, tmp_path, capsys,
                                                          monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    db_arg = "scrape.db"
    output = {"same": "scrape.db", "dot": "./scrape.db"}.get(name, f"scrape.db{name}")
    if name == "symlink":
        output = "alias.jsonl"
        (tmp_path / output).symlink_to(db_path)
    elif name == "hardlink":
        output = "alias.jsonl"
        os.link(db_path, tmp_path / output)
    before = stored_rows(db_path)

    def files() -> list[str]:  # SQLite's -wal and -shm come and go with connections
        return sorted(p.name for p in tmp_path.iterdir()
                      if not p.name.endswith(("-wal", "-shm")))

    listed = files()
    code, out, err = cli(capsys, "export", "--output", output, "--db", db_arg)
    assert code == 2
    assert err.count("\n") == 1 and f"--output {output} would overwrite " in err
    assert "nothing written" in err
    assert files() == listed  # no file made (a -journal, a .lock) or replaced
    intact(db_path)
    assert stored_rows(db_path) == before


@pytest.mark.parametrize("layout", ["the database", "its .part"])
def test_save_warc_onto_the_database_is_refused(site, fixtures_dir, db_path, tmp_path, layout):
    url = site.add("/news/story", (fixtures_dir / "seed-same-container.html").read_bytes())
    if layout == "the database":
        save, db = db_path, db_path
    else:  # the WARC is written as SAVE.part first: that name is the database
        save, db = tmp_path / "scrape", tmp_path / "scrape.part"
        db_path.rename(db)
    before, files = stored_rows(db), sorted(tmp_path.iterdir())
    proc = run("ingest", url, *LOCAL, "--workers", "0", "--save-warc", str(save),
               "--db", str(db))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "would overwrite the database" in proc.stderr
    assert sorted(tmp_path.iterdir()) == files
    intact(db)
    assert stored_rows(db) == before  # nothing fetched, nothing stored, nothing replaced


# -- 2. CSV formula injection ---------------------------------------------------------------

def test_csv_export_quotes_text_that_starts_like_a_formula(tmp_path, capsys):
    path = tmp_path / "f.db"
    db = open_db(path)
    cells = {"title": "=HYPERLINK(\"https://evil.example\",\"click\")", "description": "+1+2",
             "author": "-2+3", "sitename": "@SUM(A1:A9)", "text": "\tindented=1",
             "image_caption": "\r=1", "language": "en", "date": "2026-01-01"}
    db["articles"].insert({"url": "u", "canonical_url": "u", "word_count": -3,
                           "similarity": 0.5, "tags": '["=x"]', **cells})
    db.close()
    code, out, _ = cli(capsys, "export", "--format", "csv", "--db", str(path))
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out, newline="")))
    for name, text in cells.items():
        expected = text if name in ("language", "date") else "'" + text
        assert row[name] == expected, name
    assert row["word_count"] == "-3" and row["tags"] == '["=x"]'  # numbers, JSON: as they are
    code, out, _ = cli(capsys, "export", "--db", str(path))  # JSONL: untouched
    record = json.loads(out)
    assert {name: record[name] for name in cells} == cells and record["word_count"] == -3


# -- 3. the cost of a search ----------------------------------------------------------------

def long_articles(path: Path, count: int = 3, words: int = 3000) -> None:
    """Articles of many short words starting with a..j: `a*` matches a tenth of each."""
    rng = random.Random(12)
    vocabulary = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7)))
                  for _ in range(2000)]
    db = open_db(path)
    with db.conn:
        for i in range(count):
            text = " ".join(rng.choice(vocabulary) for _ in range(words))
            db.conn.execute("INSERT INTO articles (url, canonical_url, title, text) "
                            "VALUES (?, ?, ?, ?)", [f"u{i}", f"u{i}", f"Article {i}", text])
    list(search(db, "anything"))  # indexes the rows inserted around the Store
    db.close()


def test_a_search_of_hundreds_of_terms_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "long.db"
    long_articles(path)
    code, out, err = cli(capsys, "search", " OR ".join(["a*"] * 300), "--db", str(path))
    assert code == 2 and out == ""
    assert err == (f"scrape search: the query has 300 terms; at most {store_query.MAX_TERMS} "
                   "are searched: narrow the query\n")

    db = open_db(path)
    words = [f"w{i}" for i in range(store_query.MAX_TERMS)]
    assert list(search(db, " OR ".join(words))) == []  # at the bound: searched
    with pytest.raises(QueryError, match="65 terms"):
        list(search(db, " OR ".join([*words, "one"])))
    with pytest.raises(QueryError, match="65 terms"):  # a phrase's words count one by one
        list(search(db, '"' + " ".join([*words, "one"]) + '"'))
    prefixes = [f"{c}*" for c in "abcdefgh"]
    assert len(list(search(db, " OR ".join(prefixes)))) == 3
    with pytest.raises(QueryError, match="9 prefix terms"):
        list(search(db, " OR ".join([*prefixes, "i*"])))
    db.close()
    intact(path)


def test_the_time_budget_interrupts_a_costly_search(tmp_path, capsys, monkeypatch):
    path = tmp_path / "long.db"
    long_articles(path, count=40, words=400)
    db = open_db(path)
    assert len(list(search(db, "a* OR b*", limit=50))) == 40
    with pytest.raises(QueryError, match=r"^the search took more than 0 s: narrow the query$"):
        list(search(db, "a* OR b*", limit=50, seconds=0))
    assert len(list(search(db, "a* OR b*", limit=50))) == 40  # the handler is gone after
    db.close()

    monkeypatch.setattr(store_query, "SEARCH_SECONDS", 0)
    code, out, err = cli(capsys, "search", "a* OR b*", "--db", str(path))
    assert code == 2 and out == ""
    assert err == "scrape search: the search took more than 0 s: narrow the query\n"
    intact(path)


def test_a_prefix_search_of_long_articles_costs_little_cpu(tmp_path):
    """Every word of three long articles starts with "a": FTS5's snippet() spent minutes of
    CPU on `a* OR a* ...` inside one SQLite step (no handler stops it). The snippets are
    built from highlight() now: the search runs under a generous CPU limit."""
    path = tmp_path / "a.db"
    rng = random.Random(7)
    vocabulary = ["a" + "".join(rng.choice("bcdefghij") for _ in range(rng.randint(1, 6)))
                  for _ in range(3000)]
    db = open_db(path)
    with db.conn:
        for i in range(3):
            text = "\n".join(" ".join(rng.choice(vocabulary) for _ in range(50))
                             for _ in range(400))
            db.conn.execute("INSERT INTO articles (url, canonical_url, title, text) "
                            "VALUES (?, ?, ?, ?)", [f"u{i}", f"u{i}", f"Article {i}", text])
    list(search(db, "anything"))  # indexes the rows inserted around the Store
    db.close()
    query = " OR ".join(["a*"] * store_query.MAX_PREFIX_TERMS)
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_CPU, (60, 60)); "
              "from pipeline.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, "search", query, "--json", "--db",
                           str(path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(hits) == 3
    for hit in hits:
        marked = hit["snippet"].strip("…").split()
        assert len(marked) == store_query.SNIPPET_TOKENS
        assert all(w.startswith("«a") and w.endswith("»") for w in marked)
    intact(path)


def test_snippets_are_the_best_window_with_balanced_marks():
    o, c = OPEN, CLOSE
    marks = ("[", "]")
    body = " ".join(["w"] * 30 + [f"{o}x{c}", "w", f"{o}y{c}", "w", f"{o}x{c}"] + ["w"] * 30)
    # Two distinct terms beat many repeats of one; the window is centred on the matches.
    many = " ".join([f"{o}x{c}"] * 5 + ["w"] * 40)
    snippet = best_snippet([None, many, body], 8, marks, "…")
    assert snippet == "…w [x] w [y] w [x] w w…"
    # A phrase cut by the window keeps balanced marks; the text's own guillemets and
    # brackets are text.
    phrase = " ".join(["«quoted»"] * 3 + [f"{o}new", "york", f"city{c}"] + ["end"])
    assert best_snippet(["title", phrase], 2, marks, "…") == "…[new york]…"
    inside = " ".join([f"{o}x", f"x{c}", f"{o}y{c}", f"{o}z{c}"])  # best from within "x x"
    assert best_snippet([inside], 3, marks, "…") == "…[x] [y] [z]"
    assert best_snippet(["title", phrase], 5, marks, "…") == "…«quoted» [new york city] end"
    # A tie goes to the first column; no match at all: the start of the first column.
    assert best_snippet([f"{o}x{c} title", f"body {o}x{c}"], 4, marks, "…") == "[x] title"
    assert best_snippet([None, "one two three"], 2, marks, "…") == "one two…"
    assert best_snippet([None, None, None], 2, marks, "…") == ""


# -- 4. corrupt databases -------------------------------------------------------------------

@pytest.fixture(params=["random bytes", "pages overwritten"])
def corrupt(request, tmp_path) -> Path:
    path = tmp_path / "corrupt.db"
    rng = random.Random(4)
    if request.param == "random bytes":
        path.write_bytes(rng.randbytes(200_000))
        return path
    build(path)  # a real database, closed (no -wal), its pages after the first overwritten
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(PAGE_SIZE)
        f.write(rng.randbytes(size - f.tell()))
    return path


@pytest.mark.parametrize("command", [["search", "lighthouse"], ["export"], ["stats"],
                                     ["dups"], ["reclean", "--workers", "0"]])
def test_a_corrupt_database_is_one_line_and_exit_4(corrupt, capsys, command):
    before = corrupt.read_bytes()
    code, out, err = cli(capsys, *command, "--db", str(corrupt))
    assert code == 4, err
    assert err.startswith(f"scrape {command[0]}: cannot use the database {corrupt}: ")
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""
    assert corrupt.read_bytes() == before  # nothing written into it


# -- 5. SIGTERM during an export ------------------------------------------------------------

# The real `scrape export`, with rows coming slowly: the export is surely running when the
# signal comes, however fast the disk.
SLOW_EXPORT = """
import sys, time
from pipeline import cli_store
rows = cli_store.export_rows
def slow(db, **kw):
    for row in rows(db, **kw):
        time.sleep(0.01)
        yield row
cli_store.export_rows = slow
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_an_export_leaves_the_old_output_and_no_temporary_file(db_path,
                                                                             tmp_path):
    db = open_db(db_path)
    with db.conn:
        for i in range(1000):
            db.conn.execute("INSERT INTO articles (url, canonical_url, text) VALUES (?, ?, ?)",
                            [f"u{i}", f"u{i}", "text " * 50])
    db.close()
    out = tmp_path / "export.jsonl"
    out.write_text("the previous export\n")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_EXPORT, "export", "--output", str(out),
                             "--db", str(db_path)], cwd=ROOT, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".export.jsonl.*.tmp")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.01)
    assert list(tmp_path.glob(".export.jsonl.*.tmp")), "the export never started its file"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert proc.stderr is not None and proc.stderr.read() == (
        "scrape export: stopped (SIGTERM)\n")
    assert out.read_text() == "the previous export\n"
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    intact(db_path)


# -- 6. read-only databases -----------------------------------------------------------------

MOUNT_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def read_only(folder: Path, *command: str) -> subprocess.CompletedProcess:
    """`command` run where `folder` is a read-only file system (a user and mount namespace
    with a read-only bind mount of it: file permissions do not stop root)."""
    return subprocess.run(["unshare", "-rm", "sh", "-c", MOUNT_READ_ONLY, "sh", str(folder),
                           *command], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def read_only_ok(tmp_path_factory) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is missing: no read-only file system to test on")
    folder = tmp_path_factory.mktemp("probe")
    proc = read_only(folder, "sh", "-c", f"touch {folder}/x")
    if "Read-only file system" not in proc.stderr:
        pytest.skip(f"cannot mount a read-only folder here (unshare -rm): {proc.stderr.strip()}")


# Several `scrape` commands in one program (one start-up): [[exit status, stdout, stderr]].
COMMANDS = """
import contextlib, io, json, sys
from pipeline.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        results.append([main(args), out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""
READERS = {"stats": ["stats", "--json"],
           "search": ["search", "lighthouse OR lantern OR quokka", "--json"],
           "export": ["export"], "dups": ["dups", "--json"]}


def scrape_many(folder: Path | None, db: Path, commands: list[list[str]]) -> list[list]:
    """Each command's [exit status, stdout, stderr], run with `--db db` where `folder` is
    read-only (with None: as it is)."""
    program = [sys.executable, "-c", COMMANDS,
               json.dumps([[*c, "--db", str(db)] for c in commands])]
    proc = (read_only(folder, *program) if folder is not None else
            subprocess.run(program, capture_output=True, text=True, cwd=ROOT, timeout=120))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def outputs(results: list[list]) -> dict[str, object]:
    """READERS' outputs by name, each checked to have succeeded (stats without its sizes)."""
    got = {}
    for name, (code, out, err) in zip(READERS, results, strict=True):
        assert code == 0 and err == "", (name, err)
        got[name] = out
    stats = json.loads(got.pop("stats"))
    got["stats"] = {k: v for k, v in stats.items() if k != "size"}
    return got


def test_a_read_only_database_is_read(read_only_ok, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "scrape.db"
    build(db)
    assert not Path(f"{db}-wal").exists()  # closed: nothing but the main file
    expected = outputs(scrape_many(None, db, list(READERS.values())))
    *read, [code, out, err] = scrape_many(folder, db, [*READERS.values(),
                                                       ["reclean", "--workers", "0"]])
    assert outputs(read) == expected
    assert code == 4 and out == ""  # reclean writes: it says why it cannot, in one line
    assert err.startswith(f"scrape reclean: cannot create the lock file {db}.lock: ")
    assert err.count("\n") == 1 and "Read-only file system" in err
    assert sorted(p.name for p in folder.iterdir()) == ["scrape.db"]

    # Commits left in the write-ahead log by a process that ended without closing: read
    # through the -shm file that is there. One through the Store (searchable), one around it
    # (queued for indexing, which a read-only search must not fail on).
    writer = f"""
import os
from records import Article, Page, Result
from store import Store
store = Store({str(db)!r})
page = Page(url="https://x.example/l", final_url="https://x.example/l", status=200,
            fetched_at="2026-01-12T08:00:00+00:00", body=b"x", bytes=1)
store.write(Result(page=page, article=Article(url=page.url, canonical_url=page.url,
               title="Lantern night", text="The lantern festival lit the harbour.")))
store.flush()
store.db.conn.execute("INSERT INTO articles (url, canonical_url, text) "
                      "VALUES ('q', 'q', 'quokka')")
store.db.conn.commit()
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", writer], cwd=ROOT, check=True, timeout=60)
    assert Path(f"{db}-wal").stat().st_size > 0 and Path(f"{db}-shm").exists()
    got = outputs(scrape_many(folder, db, list(READERS.values())))
    assert got["stats"]["articles"]["total"] == len(ARTICLES) + 2
    assert len(got["export"].splitlines()) == len(ARTICLES) + 2
    hits = [json.loads(line)["title"] for line in got["search"].splitlines()]
    before = [json.loads(line)["title"] for line in expected["search"].splitlines()]
    assert sorted(hits) == sorted([*before, "Lantern night"])  # the queued row: not yet
    assert got["dups"] == expected["dups"]
    intact(db)
    # Back on a writable folder, the queued row is indexed by the next search.
    writable = open_db(db)
    assert [h.url for h in search(writable, "quokka")] == ["q"]
    writable.close()


@pytest.mark.parametrize("case", ["old schema", "log without -shm"])
def test_a_read_only_database_that_cannot_be_read_is_exit_4(read_only_ok, tmp_path,
                                                            monkeypatch, case):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "scrape.db"
    if case == "old schema":
        monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        open_db(db).close()
        monkeypatch.undo()
        message = "its schema is older than this version's (missing m005_"
    else:
        build(db)
        writer = (f"import os, sqlite3; c = sqlite3.connect({str(db)!r}); "
                  "c.execute(\"UPDATE articles SET title = 'changed'\"); c.commit(); "
                  "os._exit(0)")
        subprocess.run([sys.executable, "-c", writer], check=True, timeout=60)
        Path(f"{db}-shm").unlink()
        message = "holds commits that cannot be read"
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    commands = [["stats"], ["search", "x"], ["export"], ["dups"]]
    for command, (code, out, err) in zip(commands, scrape_many(folder, db, commands),
                                         strict=True):
        assert code == 4 and out == "", err
        assert err.startswith(f"scrape {command[0]}: cannot use the database {db}: ")
        assert message in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    intact(db)
