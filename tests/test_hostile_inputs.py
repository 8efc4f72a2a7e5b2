"""Hostile inputs and options (issue 12): numbers beyond what a run can do, sources files and
URL lists that are endless, nested or binary, lists that name local files, and a disk that
fills up mid-run. Each ends with a clear message or a recorded `fetches` row, never a crash,
and an output line saying "new" always means the row is committed."""

from __future__ import annotations

import random
import resource
import signal
import sqlite3
import subprocess
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
import sqlite_utils

from pipeline.cli import build_parser, main
from pipeline.cluster import _LocalReader, _run_chunk, host_of
from pipeline.executors import CleanSteps
from records import Article, FetchTask, Page, Result
from scraper import FetchConfig
from scraper.sources import MAX_URL_LINE, read_url_file
from store import Store, open_db
from tests.test_batch import fetches, serve, sources_file
from tests.test_cli import LOCAL, ROOT, SCRAPE

SECRET = "The vault code is written on the back of the harbour master's calendar. " * 20


def scrape(*args: str, limits=None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`scrape ARGS` in a subprocess, with `limits()` run in the child before it starts."""
    return subprocess.run([SCRAPE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=90, preexec_fn=limits)


def at_most_600_mib() -> None:
    """Address space of the child: a reader that held an endless line would fail here."""
    resource.setrlimit(resource.RLIMIT_AS, (600 * 2**20, 600 * 2**20))


def integrity(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def outcomes(db_path: Path) -> Counter:
    return Counter(r["outcome"] for r in fetches(db_path))


def a_source(tmp_path: Path, site) -> Path:
    url = serve(site, ["one"])["one"]
    return sources_file(tmp_path, f'[[source]]\nname = "a"\nkind = "page"\nurl = "{url}"\n')


# -- 1. number options: one table of bounds, on the command line and in the sources file -----


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--workers", "100000000", "must be at least 0 and at most 256, not 100000000"),
    ("--concurrency", str(10**12), "must be at least 1 and at most 1024"),
    ("--per-host", "1000000", "must be at least 1 and at most 64"),
    ("--retries", str(10**9), "must be at least 1 and at most 20"),
    ("--timeout", "nan", "must be more than 0 and at most 86400, not nan"),
    ("--timeout", "inf", "must be more than 0 and at most 86400"),
    ("--timeout", "-1", "must be more than 0"),
    ("--timeout", "0", "must be more than 0"),
    ("--delay", "inf", "must be at least 0 and at most 86400"),
    ("--max-age", "inf", "must be at least 0 and at most 876600"),
    ("--max-age", "1e300", "must be at least 0 and at most 876600"),
    ("--chunk", str(10**9), "must be at least 1 and at most 10000"),
    ("--scheduler-timeout", "inf", "must be more than 0 and at most 86400"),
    ("--workers", "9" * 5000, "must be a whole number"),  # beyond int()'s digit limit
])
def test_number_options_out_of_bounds_are_refused_by_batch_check(site, tmp_path, capsys,
                                                                  option, value, message):
    sources = a_source(tmp_path, site)
    with pytest.raises(SystemExit) as exited:
        main(["batch", "--sources", str(sources), "--check", option, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {message}" in err and len(err) < 2000


def test_the_other_commands_use_the_same_bounds_and_accept_the_limits():
    parser = build_parser()
    for argv in (["ingest", "--max-age", "nan", "x"], ["ingest", "--workers", "1000", "x"],
                 ["search", "x", "--limit", str(10**9)], ["dups", "--min-size", str(10**9)]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
    args = parser.parse_args(["ingest", "x", "--workers", "256", "--timeout", "86400",
                              "--max-age", "876600", "--concurrency", "1024", "--retries", "20",
                              "--per-host", "64", "--delay", "0", "--chunk", "10000"])
    assert (args.workers, args.timeout, args.max_age, args.concurrency) == (256, 86400, 876600,
                                                                            1024)


def test_sources_file_numbers_have_the_bounds_of_the_options(site, tmp_path, capsys):
    url = serve(site, ["one"])["one"]
    path = sources_file(tmp_path, f'[[source]]\nname = "a"\nkind = "page"\nurl = "{url}"\n'
                                  'max_pages = 99999999999999999999\nmax_age_hours = 1e300\n'
                                  '[[source]]\nname = "b"\nkind = "page"\n'
                                  'url = "https://x.example/"\n'
                                  'max_age_hours = inf\nmax_pages = true\n')
    for args in (["--check"], [*LOCAL]):  # refused by the check and by a run alike
        assert main(["batch", "--sources", str(path), "--db", str(tmp_path / "x.db"),
                     *args]) == 2
        err = capsys.readouterr().err.splitlines()
        assert f"scrape batch: {path}:5: source 'a': max_pages must be at least 1 and at most " \
               f"1000000000, not 99999999999999999999" in err
        assert f"scrape batch: {path}:6: source 'a': max_age_hours must be at least 0 and at " \
               f"most 876600, not 1e+300" in err
        assert f"scrape batch: {path}:11: source 'b': max_age_hours must be at least 0 and " \
               f"at most 876600, not inf" in err
        assert any(line.startswith(f"scrape batch: {path}:12: source 'b': max_pages must be a "
                                   f"whole number") for line in err)
    assert not (tmp_path / "x.db").exists()
    # At the bounds, the run goes (islice takes 10**9).
    sources_file(tmp_path, f'[[source]]\nname = "a"\nkind = "page"\nurl = "{url}"\n'
                           'max_pages = 1000000000\nmax_age_hours = 876600\n')
    assert main(["batch", "--sources", str(path), "--db", str(tmp_path / "x.db"), *LOCAL,
                 "--workers", "0"]) == 0
    assert outcomes(tmp_path / "x.db") == {"new": 1}


# -- 2. the sources file: nesting and size ---------------------------------------------------


def test_a_sources_file_nested_too_deeply_is_a_clear_error(tmp_path, capsys):
    path = sources_file(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert main(["batch", "--sources", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert err == f"scrape batch: {path}: not a sources file: arrays or tables nested too " \
                  f"deeply\n"


def test_an_endless_sources_file_is_refused_after_16_mib(tmp_path):
    proc = scrape("batch", "--sources", "/dev/zero", "--check", "--db", str(tmp_path / "x.db"),
                  limits=at_most_600_mib)
    assert proc.returncode == 2
    assert proc.stderr == ("scrape batch: /dev/zero: not a sources file: larger than 16 MiB "
                           "(or endless)\n")
    assert not (tmp_path / "x.db").exists()


# -- 3. URL lists: endless, overlong and binary ----------------------------------------------


def test_urls_dev_zero_ends_with_one_recorded_refusal(tmp_path):
    db_path = tmp_path / "x.db"
    proc = scrape("ingest", "--urls", "/dev/zero", "--workers", "0", "--db", str(db_path),
                  limits=at_most_600_mib)
    assert proc.returncode == 1, proc.stderr  # every input failed
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0] == ("input.refused      -  /dev/zero: binary data at "
                                           "line 1: not a list of URLs  /dev/zero")
    (row,) = fetches(db_path)
    assert (row["url"], row["outcome"]) == ("/dev/zero", "input.refused")
    assert integrity(db_path) == "ok"


def test_an_endless_line_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "one-line.urls"
    with path.open("wb") as fh:
        fh.write(b"http://x.example/" + b"a" * (32 * 2**20) + b"\nhttp://x.example/next\n")
    tracemalloc.start()
    try:
        lines = list(read_url_file(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 * 2**20  # never the 32 MiB line
    assert [(n, refused is None) for n, _, refused in lines] == [(1, False), (2, True)]
    assert lines[0].text.startswith("http://x.example/aaa") and len(lines[0].text) <= 201
    assert lines[0].refused == f"line 1 of {path} is longer than {MAX_URL_LINE} bytes: not a URL"


def test_overlong_lines_and_binary_data_in_a_list_are_refused_and_recorded(site, tmp_path):
    urls = serve(site, ["one", "two", "three"])
    long_url = site.url("/news/" + "a" * 20_000)
    listing = tmp_path / "list.urls"
    listing.write_bytes(f"{urls['one']}\n{long_url}\n{urls['two']}\n".encode()
                        + b"GIF89a\x00\x01\x02\x03\n" + f"{urls['three']}\n".encode())
    db_path = tmp_path / "x.db"
    assert main(["ingest", "--urls", str(listing), "--db", str(db_path), *LOCAL,
                 "--workers", "0"]) == 0
    rows = fetches(db_path)
    assert Counter(r["outcome"] for r in rows) == {"new": 2, "input.refused": 2}
    refused = {r["error"]: r["url"] for r in rows if r["outcome"] == "input.refused"}
    assert refused == {
        f"line 2 of {listing} is longer than {MAX_URL_LINE} bytes: not a URL":
            long_url[:200] + "…",
        f"{listing}: binary data at line 4: not a list of URLs": str(listing)}
    # Nothing past the binary data was read; the long line was never asked for.
    assert sorted(site.paths()) == ["/news/one", "/news/two"]
    assert integrity(db_path) == "ok"


def test_a_list_that_cannot_be_read_is_a_recorded_input(tmp_path):
    db_path = tmp_path / "x.db"
    missing = tmp_path / "missing.urls"
    assert main(["ingest", "--urls", str(missing), "--db", str(db_path), "--workers", "0"]) == 1
    (row,) = fetches(db_path)
    assert (row["url"], row["outcome"]) == (str(missing), "input.refused")
    assert row["error"].startswith(f"cannot read the list of URLs {missing}: ")


# -- 4. local files named by lists -----------------------------------------------------------


def local_lines(tmp_path: Path, site) -> tuple[Path, str, list[str]]:
    """A local page (the secret), a list naming it three ways and three other schemes, and
    an http URL; the working directory is tmp_path/sub, where "../secret.html" is it."""
    secret = tmp_path / "secret.html"
    secret.write_text(f"<html><head><title>Secret</title></head><body><article><h1>Secret"
                      f"</h1><p>{SECRET}</p></article></body></html>")
    (tmp_path / "sub").mkdir()
    good = serve(site, ["fine"])["fine"]
    odd = ["ftp://x.example/a.html", "javascript:alert(1)", "data:text/html,<p>hi</p>"]
    lines = [str(secret), secret.as_uri(), "../secret.html", *odd, good]
    return secret, good, lines


def stored_secret(db_path: Path) -> bool:
    return any(SECRET.strip()[:40] in (r["text"] or "")
               for r in sqlite_utils.Database(db_path)["articles"].rows)


def test_local_files_in_lists_are_refused_unless_allowed(site, tmp_path, monkeypatch, capsys):
    secret, good, lines = local_lines(tmp_path, site)
    monkeypatch.chdir(tmp_path / "sub")
    listing = tmp_path / "list.urls"
    listing.write_text("\n".join(lines) + "\n")
    # --urls FILE and a .urls target: the list's lines are data.
    for n, how in enumerate((["--urls", str(listing)], [str(listing)])):
        db_path = tmp_path / f"refused{n}.db"
        assert main(["ingest", *how, "--db", str(db_path), *LOCAL, "--workers", "0"]) == 0
        rows = {r["url"]: r for r in fetches(db_path)}
        assert set(rows) == set(lines)  # every line has its row
        assert rows[good]["outcome"] == "new"
        for line in lines[:-1]:
            assert rows[line]["outcome"] == "input.refused", line
        assert rows[str(secret)]["error"] == (
            f"a local file named in a list of URLs, not read (line 1 of {listing}) (read only "
            "with --allow-local-files, or allow_local_files = true in a sources file)")
        assert rows["javascript:alert(1)"]["error"] == (
            f"not an http(s) URL (scheme 'javascript') in a list of URLs (line 5 of {listing})")
        assert not stored_secret(db_path) and integrity(db_path) == "ok"
    out = capsys.readouterr().out
    assert "input.refused      -  a local file named in a list of URLs" in out
    # Allowed: the three lines naming the file are read; other schemes stay refused.
    db_path = tmp_path / "allowed.db"
    assert main(["ingest", "--urls", str(listing), "--allow-local-files", "--db", str(db_path),
                 *LOCAL, "--workers", "0"]) == 0
    rows = {r["url"]: r["outcome"] for r in fetches(db_path)}
    assert stored_secret(db_path)
    assert all(rows[line] in ("new", "unchanged") for line in lines[:3])
    assert [rows[line] for line in lines[3:6]] == ["input.refused"] * 3
    # A path on the command line is the user's own choice: read as always.
    db_path = tmp_path / "cli.db"
    assert main(["ingest", "../secret.html", "--db", str(db_path), "--workers", "0"]) == 0
    assert outcomes(db_path) == {"new": 1} and stored_secret(db_path)


def test_a_urls_source_reads_local_files_only_with_allow_local_files(site, tmp_path,
                                                                       monkeypatch, capsys):
    secret, good, lines = local_lines(tmp_path, site)
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "list.urls").write_text("\n".join(lines) + "\n")
    entry = '[[source]]\nname = "list"\nkind = "urls"\npath = "list.urls"\n'
    sources_file(tmp_path, entry)
    batch = ["batch", "--sources", str(tmp_path / "sources.toml"), *LOCAL, "--workers", "0"]
    assert main([*batch, "--db", str(tmp_path / "no.db")]) == 0
    assert outcomes(tmp_path / "no.db") == {"new": 1, "input.refused": 6}
    assert not stored_secret(tmp_path / "no.db")
    assert main([*batch, "--db", str(tmp_path / "flag.db"), "--allow-local-files"]) == 0
    assert stored_secret(tmp_path / "flag.db")
    sources_file(tmp_path, entry + "allow_local_files = true\n")
    assert main([*batch, "--check"]) == 0
    assert "(allow_local_files)" in capsys.readouterr().out
    assert main([*batch, "--db", str(tmp_path / "field.db")]) == 0
    assert stored_secret(tmp_path / "field.db")
    assert outcomes(tmp_path / "field.db")["input.refused"] == 3  # ftp:, javascript:, data:
    # Validated like the other fields.
    path = sources_file(tmp_path, entry + 'allow_local_files = "yes"\n[[source]]\nname = "p"\n'
                                          'kind = "page"\nurl = "https://x.example/"\n'
                                          'allow_local_files = true\n')
    assert main([*batch, "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"scrape batch: {path}:5: source 'list': allow_local_files must be true or false, " \
           f"not 'yes'" in err
    assert f"scrape batch: {path}:10: source 'p': allow_local_files is for a source of kind " \
           f"'urls' (a list whose lines may name local files)" in err


def test_the_cluster_path_refuses_the_same_tasks_without_any_io(site, tmp_path):
    (tmp_path / "secret.html").write_text(f"<html><body><p>{SECRET}</p></body></html>")
    config = FetchConfig(allow_private=True, delay=0)
    url = site.url("/news/refused")
    refused = [FetchTask(url=str(tmp_path / "secret.html"), refused="not allowed"),
               FetchTask(url=url, refused="not allowed either")]
    reader = _LocalReader(config)
    try:
        lanes = list(reader.lanes(refused))
    finally:
        reader.close()
    (here, local), (host, remote) = lanes
    assert here is None and isinstance(local, Page)  # the local file: "read" here
    assert (local.outcome, local.error, local.body) == ("input.refused", "not allowed", b"")
    assert host == host_of(url) and remote is refused[1]  # sent to a worker as it is
    results, _ = _run_chunk([remote], CleanSteps(), config, "run", host, 0)
    assert [(r.outcome, r.error) for r in results] == [("input.refused", "not allowed either")]
    assert site.paths() == []


# -- 5. honest output: a result is reported once committed -----------------------------------


def test_the_store_yields_a_result_only_once_its_row_is_committed(tmp_path):
    db_path = tmp_path / "x.db"
    seen: list[tuple[str, int]] = []

    def committed() -> int:
        return sqlite_utils.Database(db_path)["fetches"].count

    def results():
        for n in range(5):
            article = Article(url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
                              text=f"story {n}", content_hash=f"h{n}")
            yield Result(page=Page(url=article.url), article=article)

    with Store(db_path, batch_rows=2, batch_seconds=3600) as store:
        for result in store(results()):
            seen.append((result.outcome, committed()))
    # Reported in committed pairs, the last one at the end of the stream.
    assert seen == [("new", 2), ("new", 2), ("new", 4), ("new", 4), ("new", 5)]


def article_page(n: int) -> bytes:
    rng = random.Random(n)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(400)]
    body = "".join("<p>" + " ".join(rng.choice(words) for _ in range(60)).capitalize() + ".</p>"
                   for _ in range(20))
    return (f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
            f"{body}</article></body></html>").encode()


def test_on_a_full_disk_no_line_says_new_for_a_row_that_was_not_stored(site, tmp_path):
    # The first page comes after the Store's batch_seconds: committed (and printed) alone.
    # The 39 others come at once and make one batch too big for what is left of the "disk".
    urls = [site.add(f"/news/{n}", article_page(n), delay=2.5 if n == 0 else 0)
            for n in range(40)]
    (tmp_path / "list.urls").write_text("\n".join(urls) + "\n")
    db_path = tmp_path / "x.db"
    open_db(db_path).close()
    limit = db_path.stat().st_size + 256 * 1024

    def small_disk() -> None:  # writes past `limit` fail with EFBIG instead of killing
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = scrape("ingest", "--urls", str(tmp_path / "list.urls"), "--db", str(db_path),
                  *LOCAL, "--per-host", "1", "--workers", "0", limits=small_disk)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "scrape ingest: database error: " in proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "/news/" in line]
    said = {line.rsplit("  ", 1)[-1]: line.split()[0] for line in lines}
    assert len(said) == len(lines) and set(said) <= set(urls)  # (the run ends at the failure)
    stored = {r["url"] for r in sqlite_utils.Database(db_path)["articles"].rows}
    assert {url for url, outcome in said.items() if outcome == "new"} == stored
    assert urls[0] in stored and len(stored) < len(urls)
    assert Counter(said.values()) == {"new": len(stored), "store.error": len(said) - len(stored)}
    failed = next(line for line in lines if line.startswith("store.error"))
    assert "not stored: the database could not commit: OperationalError: " in failed
    assert integrity(db_path) == "ok"
    assert {r["url"] for r in fetches(db_path)} == stored  # the failed batch left nothing

