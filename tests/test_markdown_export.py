"""The `markdown` field in the store (migration m008, writer, reclean), in the JSONL and CSV
exports, as Markdown files (`scrape export --format markdown`, pipeline/markdown_files.py),
and `scrape clean --format markdown`; the --links / --images options."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils
import yaml

import pipeline.markdown_files as markdown_files
import store.migrations as migrations
from cleaner import Cleaner
from cleaner.markdown import from_text
from pipeline.cli import build_parser
from pipeline.markdown_files import export_markdown, file_name, markdown_document
from pipeline.options import clean_config, markdown_flags
from pipeline.reclean import reclean
from pipeline.sources_file import source_cleaner
from records import Result
from store import Store, open_db
from store.query import export_rows
from tests.test_cli import TITLE, run
from tests.test_reclean import ingested
from tests.test_search_export import article, cli, page

MARKDOWN = {
    "first": "# Harbour reopens\n\n## The quay\n\n- boats\n- *nets*\n\n> \\#1 said so\n",
    "copy": "# Harbour reopens (wire)\n\nThe same story.\n",
}


def articles() -> dict:
    """A story with every front matter field, an exact copy of it, and an article stored
    without markdown (as a row from before m008 reads)."""
    return {
        "first": article("first", "Harbour reopens: «Ça va?»", "The harbour reopened.",
                         markdown=MARKDOWN["first"], author="Zoë Ø", tags=["port", "ferry"],
                         content_hash="hash-harbour"),
        "copy": article("copy", "Harbour reopens (wire)", "The harbour reopened.",
                        markdown=MARKDOWN["copy"], content_hash="hash-harbour",
                        url="https://wire.example.org/h", canonical_url="https://wire.example.org/h",
                        date="not a day"),
        "plain": article("plain", "Tides *today*", "High tide at 6.\n1. not a list",
                         markdown=None, language=None, sitename=None),
    }


def build(path: Path) -> dict[str, int]:
    ids = {}
    with Store(path) as store:
        for key, a in articles().items():
            ids[key] = store.write(Result(page=page(a.url), article=a)).article_id
    return ids


@pytest.fixture
def stored(tmp_path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "scrape.db"
    return path, build(path)


def split_document(text: str) -> tuple[dict, str]:
    """(front matter as YAML reads it, body) of a Markdown document."""
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    assert body.startswith("\n")
    return yaml.safe_load(head), body[1:]


# The store

def test_a_database_from_before_m008_migrates_and_then_stores_markdown(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:7])
    old = open_db(path)
    assert "markdown" not in old["articles"].columns_dict
    old["articles"].insert({"url": "https://a.example/1", "canonical_url": "https://a.example/1",
                            "title": "Old # story", "text": "Kept *as* text."})
    old.close()
    monkeypatch.undo()

    db = open_db(path)
    assert "m008_article_markdown" in migrations.applied(db)
    assert db["articles"].columns_dict["markdown"] is str
    assert db.execute("SELECT markdown FROM articles").fetchone() == (None,)
    db.close()
    new = article("new", "New story", "A body.", markdown="# New story\n\nA body.\n")
    with Store(path) as store:
        assert store.write(Result(page=page(new.url), article=new)).outcome == "new"
    rows = {r["url"]: r for r in export_rows(sqlite_utils.Database(path))}
    assert rows[new.url]["markdown"] == "# New story\n\nA body.\n"
    # The old row exports as the escaped text under its title.
    old_row = rows["https://a.example/1"]
    assert old_row["markdown"] is None
    _, body = split_document(markdown_document(old_row))
    assert body == from_text("Old # story", "Kept *as* text.")
    assert body.startswith("# Old") and "Kept" in body


def test_insert_update_and_the_unchanged_check_carry_markdown(tmp_path):
    path = tmp_path / "s.db"
    a = article("a", "A", "Body.", markdown="# A\n\nBody.\n")
    with Store(path) as store:
        assert store.write(Result(page=page(a.url), article=a)).outcome == "new"
        same = dataclasses.replace(a)
        assert store.rewrite(Result(page=page(a.url), article=same)).outcome == "unchanged"
        # Only the markdown differs (same text, same hash): a re-clean still stores it.
        other = dataclasses.replace(a, markdown="# A\n\n**Body.**\n")
        assert store.rewrite(Result(page=page(a.url), article=other)).outcome == "updated"
    db = sqlite_utils.Database(path)
    assert db.execute("SELECT markdown FROM articles").fetchone() == ("# A\n\n**Body.**\n",)


def test_reclean_fills_the_markdown_of_a_row_stored_without_it(site, tmp_path, monkeypatch):
    # Until the cleaner fills `markdown` itself, a cleaner that does stands in for it.
    original = Cleaner._clean

    def with_markdown(self, page, drops):
        found = original(self, page, drops)
        if found is not None:
            found.markdown = f"# {found.title}\n\nmarked\n"
        return found

    monkeypatch.setattr(Cleaner, "_clean", with_markdown)
    db_path = ingested(site, tmp_path)
    db = sqlite_utils.Database(db_path)
    assert {r[0] for r in db.execute("SELECT markdown FROM articles")} == {
        "# One\n\nmarked\n", "# Two\n\nmarked\n"}
    db.execute("UPDATE articles SET markdown = NULL")  # as a row stored before m008
    db.conn.commit()

    summary = reclean(db_path)

    assert summary.counts == {"updated": 2, "failed": 1}
    assert {r[0] for r in db.execute("SELECT markdown FROM articles")} == {
        "# One\n\nmarked\n", "# Two\n\nmarked\n"}
    assert reclean(db_path).counts == {"unchanged": 2, "failed": 1}


# JSONL and CSV

def test_jsonl_and_csv_exports_carry_markdown(stored, capsys):
    path, ids = stored
    code, out, err = cli(capsys, "export", "--db", str(path))
    assert code == 0, err
    rows = {row["id"]: row for row in map(json.loads, out.splitlines())}
    assert rows[ids["first"]]["markdown"] == MARKDOWN["first"]
    assert rows[ids["plain"]]["markdown"] is None
    assert list(rows[ids["first"]]).index("markdown") == list(rows[ids["first"]]).index("text") + 1

    code, out, err = cli(capsys, "export", "--format", "csv", "--db", str(path))
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out, newline=""))
    assert "markdown" in reader.fieldnames
    cells = {int(row["id"]): row["markdown"] for row in reader}
    assert cells == {ids["first"]: MARKDOWN["first"], ids["copy"]: MARKDOWN["copy"],
                     ids["plain"]: ""}


# Markdown documents

def test_front_matter_parses_to_the_fields_in_order():
    row = {**articles()["first"].to_dict(), "id": 3, "duplicate_of": "2",
           "tags": '["port", "", "ferry"]'}  # tags as stored: JSON text
    matter, body = split_document(markdown_document(row))
    assert matter == {"title": "Harbour reopens: «Ça va?»",
                      "url": "https://news.example.com/first?utm_source=feed",
                      "canonical_url": "https://news.example.com/first",
                      "date": date(2026, 1, 10), "author": "Zoë Ø",
                      "sitename": "Example News", "language": "en",
                      "tags": ["port", "ferry"], "duplicate_of": 2}
    assert list(matter) == list(markdown_files.FRONT_MATTER)  # this order
    assert body == MARKDOWN["first"]
    text = markdown_document(row)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "Ça va" in text  # Unicode as it is, not escaped


def test_front_matter_leaves_out_empty_keys_and_keeps_odd_values_safe():
    row = {"id": 1, "url": "https://a.example/x", "canonical_url": "https://a.example/x",
           "title": "yes: a\n--- not the end\x00 \u2028 #", "date": "2026-02-30",
           "author": "", "tags": [], "duplicate_of": None, "markdown": "Body\n\n\n"}
    text = markdown_document(row)
    matter, body = split_document(text)
    assert matter == {"title": row["title"], "url": row["url"],
                      "canonical_url": row["canonical_url"], "date": "2026-02-30"}
    assert body == "Body\n"
    assert len(re.findall(r"^---$", text, re.M)) == 2  # the title's "---" is inside quotes


def test_export_writes_one_file_per_article(stored, capsys, tmp_path):
    path, ids = stored
    out = tmp_path / "notes" / "deep"  # created, parents too
    code, _, err = cli(capsys, "export", "--format", "markdown", "--output", str(out),
                       "--db", str(path))
    assert code == 0, err
    assert err.strip() == f"scrape export: 3 article(s) to {out}/"
    names = {ids["first"]: f"{ids['first']}-harbour-reopens-ca-va.md",
             ids["copy"]: f"{ids['copy']}-harbour-reopens-wire.md",
             ids["plain"]: f"{ids['plain']}-tides-today.md"}
    assert sorted(p.name for p in out.iterdir()) == sorted(names.values())
    rows = {row["id"]: row for row in export_rows(sqlite_utils.Database(path))}
    for article_id, name in names.items():
        text = (out / name).read_text(encoding="utf-8")
        assert text == markdown_document(rows[article_id])
        matter, body = split_document(text)
        assert matter["url"] == rows[article_id]["url"]
        if rows[article_id]["markdown"] is not None:
            assert body == rows[article_id]["markdown"]
    first, _ = split_document((out / names[ids["first"]]).read_text(encoding="utf-8"))
    assert isinstance(first["date"], date) and first["tags"] == ["port", "ferry"]
    copy, _ = split_document((out / names[ids["copy"]]).read_text(encoding="utf-8"))
    assert copy["duplicate_of"] == ids["first"] and copy["date"] == "not a day"
    _, plain = split_document((out / names[ids["plain"]]).read_text(encoding="utf-8"))
    assert plain == from_text("Tides *today*", "High tide at 6.\n1. not a list")
    assert plain.startswith("# Tides") and "High tide at 6." in plain
    assert not (out / ".tmp").exists() and not [p for p in out.iterdir() if p.name[0] == "."]


def test_export_applies_unique_and_since_and_overwrites_the_same_names(stored, capsys,
                                                                        tmp_path):
    path, ids = stored
    out = tmp_path / "md"
    code, _, err = cli(capsys, "export", "--format", "markdown", "--unique", "-o", str(out),
                       "--db", str(path))
    assert code == 0, err
    assert {int(p.name.split("-")[0]) for p in out.iterdir()} == {ids["first"], ids["plain"]}
    (out / f"{ids['first']}-harbour-reopens-ca-va.md").write_text("stale", encoding="utf-8")
    code, _, err = cli(capsys, "export", "--format", "markdown", "--since", "2999-01-01",
                       "-o", str(out), "--db", str(path))
    assert code == 0 and "0 article(s)" in err
    code, _, err = cli(capsys, "export", "--format", "markdown", "-o", str(out),
                       "--db", str(path))
    assert code == 0, err
    assert len(list(out.iterdir())) == 3
    text = (out / f"{ids['first']}-harbour-reopens-ca-va.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: ")


@pytest.mark.parametrize("title", ["../x", "/etc/passwd", "CON", "..", ".hidden", "a/b\\c",
                                   "北京", "", None, "nul\x00byte", "~/.bashrc", "x" * 300])
def test_a_title_never_makes_a_path(tmp_path, title):
    name = file_name(12, title)
    assert re.fullmatch(r"12(-[a-z0-9]+(-[a-z0-9]+)*)?\.md", name), name
    assert len(name) <= len("12-.md") + markdown_files.SLUG_CHARS
    out = tmp_path / "out"
    row = {"id": 12, "url": "https://a.example/", "canonical_url": "https://a.example/",
           "title": title, "text": "Body.", "markdown": None}
    assert export_markdown([row], out) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing beside the directory
    assert [p.name for p in out.iterdir()] == [name]


def test_slug_cuts_at_a_word_boundary():
    assert file_name(1, "Zürich élection: Ça va?") == "1-zurich-election-ca-va.md"
    long = " ".join(f"word{n}" for n in range(40))
    slug = file_name(1, long)[2:-3]
    assert len(slug) <= 60 and long.replace(" ", "-").startswith(slug + "-")


def test_a_symlink_at_the_name_is_replaced_not_written_through(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    name = file_name(5, "Hello")
    (out / name).symlink_to(target)
    row = {"id": 5, "url": "https://a.example/", "canonical_url": "https://a.example/",
           "title": "Hello", "markdown": "# Hello\n"}
    assert export_markdown([row], out) == 1
    assert target.read_text(encoding="utf-8") == "keep me"
    assert not (out / name).is_symlink()
    assert (out / name).read_text(encoding="utf-8") == markdown_document(row)


def rows_of(n: int) -> list[dict]:
    return [{"id": i, "url": f"https://a.example/{i}", "canonical_url": f"https://a.example/{i}",
             "title": f"Story {i}", "markdown": f"# Story {i}\n\n" + "word " * 2000}
            for i in range(1, n + 1)]


def test_a_failed_write_stops_the_export_and_leaves_no_partial_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    export_markdown(rows_of(3)[1:2], out)  # an earlier export of story 2
    before = (out / "2-story-2.md").read_text(encoding="utf-8")
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(markdown_files.os, "replace", replace)
    changed = [{**row, "markdown": "# Changed\n"} for row in rows_of(3)]
    with pytest.raises(OSError, match=r"cannot write .*2-story-2\.md: No space left on "
                                      r"device; stopped after 1 file\(s\)"):
        export_markdown(changed, out)
    assert sorted(p.name for p in out.iterdir()) == ["1-story-1.md", "2-story-2.md"]
    assert (out / "1-story-1.md").read_text(encoding="utf-8").endswith("# Changed\n")
    assert (out / "2-story-2.md").read_text(encoding="utf-8") == before  # as it was


def test_an_interrupted_write_removes_its_temporary_file(tmp_path, monkeypatch):
    out = tmp_path / "out"

    def fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(markdown_files.os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        export_markdown(rows_of(2), out)
    assert list(out.iterdir()) == []


def test_a_failed_write_is_one_line_and_exit_1(stored, capsys, tmp_path, monkeypatch):
    path, _ = stored

    def replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(markdown_files.os, "replace", replace)
    out = tmp_path / "out"
    code, _, err = cli(capsys, "export", "--format", "markdown", "-o", str(out), "--db",
                       str(path))
    assert code == 1
    assert err.startswith("scrape export: cannot write ") and "Permission denied" in err
    assert list(out.iterdir()) == []


def test_markdown_export_usage_errors(stored, capsys, tmp_path):
    path, _ = stored
    code, out, err = cli(capsys, "export", "--format", "markdown", "--db", str(path))
    assert code == 2 and out == ""
    assert err.strip() == ("scrape export: --format markdown writes one file per article: "
                           "give --output DIR")
    assert cli(capsys, "export", "--format", "markdown", "-o", "-", "--db", str(path))[0] == 2
    a_file = tmp_path / "notes.md"
    a_file.write_text("mine", encoding="utf-8")
    code, _, err = cli(capsys, "export", "--format", "markdown", "-o", str(a_file), "--db",
                       str(path))
    assert code == 2 and "is not a directory" in err
    assert a_file.read_text(encoding="utf-8") == "mine"
    code, _, err = cli(capsys, "export", "--format", "markdown", "-o", str(path), "--db",
                       str(path))
    assert code == 2 and "would overwrite the database" in err


def test_the_database_in_the_directory_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    db_path = out / "1.md"  # the name article 1 without a slug would get
    a = article("a", "北京", "A body.", markdown="# 北京\n")
    with Store(db_path) as store:
        assert store.write(Result(page=page(a.url), article=a)).article_id == 1
    size = db_path.stat().st_size
    code, _, err = cli(capsys, "export", "--format", "markdown", "-o", str(out), "--db",
                       str(db_path))
    assert code == 2 and "one of the database's files" in err
    assert db_path.stat().st_size == size
    assert sqlite_utils.Database(db_path)["articles"].count == 1


# scrape clean, and the options

def test_clean_prints_front_matter_and_markdown(fixtures_dir):
    proc = run("clean", str(fixtures_dir / "seed-dump.txt"), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    matter, body = split_document(proc.stdout)
    assert matter["title"] == TITLE and matter["date"] == date(2025, 9, 10)
    assert matter["url"].startswith("file://")
    assert body.splitlines()[0] == f"# {TITLE}"
    assert "Beyond the bonhomie" in body


@pytest.mark.parametrize("command", [["clean", "x"], ["ingest", "x"], ["batch"],
                                     ["reclean"]])
def test_links_and_images_reach_the_clean_config(command):
    parser = build_parser()
    plain = parser.parse_args(command)
    both = parser.parse_args([*command, "--links", "--images"])
    assert markdown_flags(plain) == {"links": False, "images": False}
    assert markdown_flags(both) == {"links": True, "images": True}
    if command[0] in ("clean", "ingest"):
        assert (clean_config(plain).links, clean_config(plain).images) == (False, False)
        assert (clean_config(both).links, clean_config(both).images) == (True, True)
    config = source_cleaner([], **markdown_flags(both)).config
    assert (config.links, config.images) == (True, True)


def test_a_recorded_run_records_the_markdown_options(site, tmp_path, capsys):
    db_path = ingested(site, tmp_path)
    code, _, _ = cli(capsys, "reclean", "--db", str(db_path), "--links", "--workers", "0")
    assert code == 0
    runs = list(sqlite_utils.Database(db_path)["runs"].rows_where("command = 'reclean'"))
    arguments = json.loads(runs[-1]["arguments"])
    assert arguments["links"] is True and arguments["images"] is False
