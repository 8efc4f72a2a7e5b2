"""One vocabulary of outcomes (records/outcomes.py): the values stay as stored, the groups
agree with each other, every outcome a run writes is a known one, and no stage spells an
outcome as a string literal of its own."""

from __future__ import annotations

import ast
import gzip
import json
import random
import re
from pathlib import Path

import sqlite_utils

from pipeline.cli import main
from records import outcomes as o

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ("--allow-private", "--delay", "0")  # the `site` fixture is on 127.0.0.1

# The values are in databases and in what people read: a changed value is a changed format.
VALUES = {
    "FETCHED": "fetched", "NOT_MODIFIED": "not_modified", "FETCH_TIMEOUT": "fetch.timeout",
    "FETCH_CONNECT_ERROR": "fetch.connect_error", "FETCH_CONTENT_TYPE": "fetch.content_type",
    "FETCH_TOO_LARGE": "fetch.too_large", "FETCH_TOO_MANY_REDIRECTS": "fetch.too_many_redirects",
    "FETCH_BAD_URL": "fetch.bad_url", "FETCH_BAD_ENCODING": "fetch.bad_encoding",
    "FETCH_NOT_FOUND": "fetch.not_found", "FETCH_BINARY": "fetch.binary",
    "FETCH_ROBOTS": "fetch.robots", "FETCH_PRIVATE_ADDRESS": "fetch.private_address",
    "FETCH_ERROR": "fetch.error", "INPUT_REFUSED": "input.refused", "WARC_ERROR": "warc.error",
    "CLEANED": "cleaned", "CLEAN_TIMEOUT": "clean.timeout", "CLEAN_ERROR": "clean.error",
    "CLEAN_NO_CONTENT": "clean.no_content", "CLEAN_CRASHED": "clean.crashed",
    "CLUSTER_ERROR": "cluster.error", "CLUSTER_CRASHED": "cluster.crashed",
    "NEW": "new", "DUPLICATE": "duplicate", "UPDATED": "updated", "UNCHANGED": "unchanged",
    "STORE_ERROR": "store.error", "ALIAS": "alias", "SKIPPED_FRESH": "skipped.fresh",
    "SOURCE_READ": "source.read", "CRAWL_LISTING": "crawl.listing",
    "CRAWL_NOT_ARTICLE": "crawl.not_article", "LOST": "lost", "RECLEAN_FAILED": "failed",
}


def is_known(outcome: str) -> bool:
    """A named outcome, or any `http_status(code)`."""
    return outcome in o.ALL or o.http_code(outcome) is not None


def named_outcomes() -> dict[str, str]:
    """Every str constant of records.outcomes, by name."""
    return {name: value for name, value in vars(o).items()
            if name.isupper() and not name.startswith("_") and isinstance(value, str)}


def test_every_outcome_keeps_its_value_and_is_in_all():
    assert named_outcomes() == VALUES
    assert o.ALL == frozenset(VALUES.values())  # a new outcome belongs to a group


def test_http_status_outcomes_are_built_and_read_back():
    assert o.http_status(404) == "fetch.http_404" and o.http_status(503) == "fetch.http_503"
    for code in (100, 301, 404, 429, 500, 599):
        assert o.http_code(o.http_status(code)) == code
        assert is_known(o.http_status(code))
    for other in ("fetch.http_", "fetch.http_4x", "fetch.timeout", "new", "http_404", ""):
        assert o.http_code(other) is None, other
    assert not is_known("fetch.nonsense") and not is_known("fetch.http_")


def test_the_groups_nest_and_no_failure_succeeds():
    stored, good, succeeded = set(o.STORED), set(o.GOOD_FETCH), set(o.SUCCEEDED)
    assert stored < good < succeeded
    assert good - stored == {o.NOT_MODIFIED}
    assert succeeded - good == {o.ALIAS, o.SKIPPED_FRESH, o.SOURCE_READ, o.CRAWL_LISTING,
                                o.CRAWL_NOT_ARTICLE}
    assert not succeeded & o.FAILURES and not succeeded & o.IN_FLIGHT
    assert not o.FAILURES & o.IN_FLIGHT and o.FETCH_FAILURES.isdisjoint(o.CLEAN_FAILURES)
    assert all(o.http_code(k) is None for k in succeeded)  # an HTTP error never succeeds
    assert set(o.STORED_ARTICLE_STANDS) <= succeeded and not set(o.STORED_ARTICLE_STANDS) & stored
    assert set(o.ALWAYS_SHOWN) == stored
    assert set(o.RECLEAN_CHANGED) < set(o.RECLEANED) and o.UNCHANGED not in o.RECLEAN_CHANGED
    assert {o.LOST, o.RECLEAN_FAILED} <= set(o.RECLEANED) - succeeded
    # Each group a tuple without repeats (a repeat would count its outcome twice).
    for group in (o.STORED, o.GOOD_FETCH, o.SUCCEEDED, o.RECLEANED, o.RECLEAN_CHANGED):
        assert len(set(group)) == len(group)


def test_display_orders_are_those_the_summaries_print():
    # `scrape ingest`'s summary line, and `scrape reclean`'s.
    assert o.SUCCEEDED == ("new", "duplicate", "updated", "unchanged", "not_modified", "alias",
                           "skipped.fresh", "source.read", "crawl.listing", "crawl.not_article")
    assert o.RECLEANED == ("updated", "unchanged", "new", "duplicate", "lost", "failed",
                           "store.error")


# -- what runs write ---------------------------------------------------------------------------

def page(title: str, seed: int) -> bytes:
    """An article page, its own story per seed."""
    rng = random.Random(seed)
    words = ("council", "said", "plans", "harbour", "bridge", "would", "go", "ahead", "despite",
             "objections", "residents", "traffic", "noise", "rising", "costs", "engineers")
    text = "".join(f"<p>{' '.join(rng.choice(words) for _ in range(40)).capitalize()}.</p>"
                   for _ in range(6))
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{text}"
            f"</article></body></html>").encode()


def rss(urls: list[str]) -> str:
    items = "".join(f"<item><title>t</title><link>{u}</link></item>" for u in urls)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}'
            "</channel></rss>")


def outcomes_in(db_path: Path) -> tuple[set[str], set[str]]:
    """The outcomes of the `fetches` rows, and the keys of the runs' counts."""
    db = sqlite_utils.Database(db_path)
    try:
        rows = {r[0] for r in db.execute("SELECT DISTINCT outcome FROM fetches")}
        counted: set[str] = set()
        for (counts,) in db.execute("SELECT counts FROM runs"):
            counted |= set(json.loads(counts or "{}"))
        return rows, counted
    finally:
        db.close()


def test_every_outcome_a_run_writes_is_a_known_one(site, fixtures_dir, tmp_path, capsys):
    story = (fixtures_dir / "seed-same-container.html").read_bytes()
    site.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    urls = [
        site.add("/news/a", page("Story a", seed=1)),
        site.add("/news/b", story),
        site.add("/news/copy-of-b", story),  # the same story at another URL
        site.url("/gone"),
        site.add("/api.json", b'{"title": "x"}', content_type="application/json"),
        site.add("/image", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
        site.add("/empty", "<html><body><nav><a href='/'>Home</a></nav></body></html>"),
        site.add("/private/page", page("Private", seed=2)),
        site.add("/bomb", gzip.compress(b"x"), headers={"Content-Encoding": "br"}),
        site.redirect("/loop", "/loop"),
        site.add("/feed.xml", rss([site.url("/news/c")]), content_type="application/rss+xml"),
        str(tmp_path / "no-such-file.html"),
    ]
    site.add("/news/c", page("Story c", seed=3))
    listing = tmp_path / "list.txt"
    listing.write_text(f"{site.url('/news/a')}\njavascript:alert(1)\n")
    warc = tmp_path / "broken.warc"
    warc.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort")
    db = tmp_path / "scrape.db"
    common = ["--db", str(db), *LOCAL, "--workers", "0", "--retries", "1"]

    main(["ingest", *common, *urls, "--urls", str(listing)])
    main(["ingest", *common, "--max-age", "24", site.url("/news/a")])
    main(["ingest", *common, "--warc", str(warc)])
    main(["reclean", "--db", str(db), "--workers", "0"])
    capsys.readouterr()

    written, counted = outcomes_in(db)
    unknown = {k for k in written | counted if not is_known(k)}
    assert not unknown, unknown
    # The run reached every stage, so the check above saw each one's outcomes.
    assert {o.NEW, o.DUPLICATE, o.SKIPPED_FRESH, o.SOURCE_READ, o.INPUT_REFUSED,
            o.CLEAN_NO_CONTENT, o.FETCH_CONTENT_TYPE, o.FETCH_ROBOTS, o.FETCH_NOT_FOUND,
            o.FETCH_BINARY, o.FETCH_BAD_ENCODING, o.FETCH_TOO_MANY_REDIRECTS, o.WARC_ERROR,
            o.http_status(404)} <= written, written
    assert o.RECLEAN_FAILED in counted  # reclean: the page with no article, cleaned again
    assert not written & o.IN_FLIGHT  # the store names what became of every page


# -- no outcome spelt out of records/outcomes.py -----------------------------------------------

SCANNED = ("scraper", "cleaner", "store", "pipeline")
# A stage's key is searched everywhere. The plain words ("new", "failed"...) mean other things
# too (a mode, a run's status): they are searched where an outcome is assigned, compared or
# counted, and in groups of outcomes (outcome_literals).
DOTTED = re.compile(r"(fetch|clean|store|source|skipped|input|cluster|warc)\.[a-z0-9_]*")
NAMES = {value: name for name, value in named_outcomes().items()}


def _is_outcome(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "outcome") or (
        isinstance(node, ast.Attribute) and node.attr == "outcome")


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _assigned(target: ast.AST, value: ast.AST) -> list[ast.Constant]:
    """The strings of `value` that `target` assigns to an outcome (`a.outcome, a.error = x, y`:
    those of x)."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and (
            len(target.elts) == len(value.elts)):
        return [c for t, v in zip(target.elts, value.elts) for c in _assigned(t, v)]
    return _strings(value) if any(_is_outcome(t) for t in ast.walk(target)) else []


def _named(node: ast.AST, suffix: str) -> bool:
    return (isinstance(node, ast.Name) and node.id.endswith(suffix)) or (
        isinstance(node, ast.Attribute) and node.attr.endswith(suffix))


def outcome_literals(source: str) -> list[tuple[int, str]]:
    """(line, literal) for each string in `source` that spells an outcome: a stage's key
    anywhere ("fetch.timeout", f"fetch.http_{code}"; docstrings are prose), and any string
    assigned to an `outcome`, compared with one or counted (`counts["new"]`), or a tuple,
    list or set of outcomes (a group)."""
    tree = ast.parse(source)
    skip: set[int] = set()
    in_context: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)):
            skip.add(id(body[0].value))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            in_context.update(id(c) for t in targets for c in _assigned(t, node.value))
        elif isinstance(node, ast.keyword) and node.arg == "outcome":
            in_context.update(id(c) for c in _strings(node.value))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_outcome(s) for s in sides):
                for side in sides:
                    in_context.update(id(c) for c in _strings(side))
        elif isinstance(node, ast.Subscript) and _named(node.value, "counts"):
            in_context.update(id(c) for c in _strings(node.slice))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) > 1 and all(
                isinstance(e, ast.Constant) and e.value in o.ALL for e in node.elts):
            in_context.update(id(e) for e in node.elts)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in in_context or (id(node) not in skip and DOTTED.fullmatch(node.value)):
            found.append((node.lineno, node.value))
    return sorted(found)


def test_the_scan_finds_outcomes_spelt_out():
    source = '''
"""A docstring that says "fetch.timeout" and new."""
x = "fetch.timeout"
y = f"fetch.http_{status}"
if page.outcome in ("not_modified", "alias"):
    result.outcome = "lost" if known else "failed"
    page.error, page.outcome = "a message", "failed"
Result(outcome="failed", error="why")
status = "failed"  # a run's status
labels = {"fetched": counts["new"], "mode": "new"}
GOOD = ("new", "unchanged")
'''
    assert outcome_literals(source) == [(3, "fetch.timeout"), (4, "fetch.http_"),
                                        (5, "alias"), (5, "not_modified"), (6, "failed"),
                                        (6, "lost"), (7, "failed"), (8, "failed"),
                                        (10, "new"), (11, "new"), (11, "unchanged")]


def test_no_stage_spells_an_outcome_out():
    found = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for line, literal in outcome_literals(path.read_text(encoding="utf-8")):
                found.append(f"{name}:{line}: {literal!r} (records.outcomes."
                             f"{NAMES.get(literal, 'http_status')})")
    assert not found, "\n".join(found)


def test_the_readme_names_every_outcome():
    """The `fetches` table's description in the README keeps up with the vocabulary."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stored = set(o.SUCCEEDED) | o.FAILURES
    missing = sorted(k for k in stored if f"`{k}`" not in readme)
    assert not missing, missing
