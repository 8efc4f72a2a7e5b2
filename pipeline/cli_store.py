"""`scrape search`, `scrape export`, `scrape stats`: reading the store.

    scrape search QUERY... [--limit N] [--unique] [--json] [--db PATH]
                                      ranked articles for a full-text query, with snippets
    scrape export [--format jsonl|csv] [--since DATE] [--unique] [--output FILE] [--db PATH]
                                      every stored article, streamed, one per line or row
    scrape export --format markdown --output DIR [--since DATE] [--unique] [--db PATH]
                                      one .md file per article, with YAML front matter
    scrape stats [--json] [--db PATH]
                                      fetches by source and outcome, articles, each site
                                      crawl's last run and frontier, the last run

The queries are store/query.py's; this module parses arguments and prints (stats' text:
pipeline/stats_text.py). Exit status (`guarded`, which `scrape dups` shares): 0 done (also for
a search with no hits), 1 no database at --db (none is created) or the output could not be
written, 2 bad usage (also a search over its bounds, or --output naming the database's
files), 4 the database cannot be used (corrupt, not a database, read-only with an old
schema), 143 stopped by SIGTERM. A database that may not be written is read read-only
(store.db.open_for_reading).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

from store.db import (
    DatabaseUnusable,
    OutputIsDatabase,
    open_for_reading,
    refuse_overwrite,
)
from store.query import (
    EXPORT_COLUMNS,
    MAX_PREFIX_TERMS,
    MAX_TERMS,
    SEARCH_SECONDS,
    Hit,
    QueryError,
    export_rows,
    fts_query,
    parse_since,
    search,
    stats,
)

from .bounds import positive_int
from .command import (
    DEFAULT_DB,
    EXIT_DATABASE,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Stopped,
    run_command,
    sigterm_raises,
)
from .stats_text import describe_stats
from .terminal import json_line, oneline, printable

FLUSH_EVERY = 1000  # exported rows between two flushes of the output


class UsageError(Exception):
    """Bad arguments found after parsing: exit status 2."""


# Characters that would act on a terminal rather than be shown: C0 and C1 controls and DEL
# (escape sequences), and the bidirectional overrides and isolates (which reorder what
# follows them on the line).
def since_arg(text: str) -> str:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def no_database(command: str, db_path: str | os.PathLike[str]) -> bool:
    """True (after saying so) when there is no database file at `db_path`."""
    if Path(db_path).is_file():
        return False
    print(printable(f"scrape {command}: no database at {os.fspath(db_path)}"), file=sys.stderr)
    return True


def guarded(command: str, db_path: str | os.PathLike[str], work: Callable[[], int]) -> int:
    """`work()`'s exit status, or the one line and status of its failure (the module
    docstring): the one translation of errors for the commands that read a database they did
    not create (search, export, stats, dups; a recorded run has pipeline/recorded.py's)."""
    try:
        return work()
    except (UsageError, QueryError, OutputIsDatabase) as exc:
        print(printable(f"scrape {command}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except (sqlite3.DatabaseError, DatabaseUnusable) as exc:
        # Also a failure midway (a corrupt page deep in the file shows only when read).
        print(printable(f"scrape {command}: cannot use the database {os.fspath(db_path)}: "
                        f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_DATABASE
    except Stopped:
        print(f"scrape {command}: stopped (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # the reader went away: command.run_command ends quietly
        raise
    except OSError as exc:  # writing --output: disk full, permissions...
        print(printable(f"scrape {command}: {exc}"), file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, command: Any) -> int:
    """`command(db, args)` on the existing database at --db, opened for reading."""
    if no_database(args.command, args.db):
        return 1

    def work() -> int:
        with closing(open_for_reading(args.db)) as db:
            return command(db, args)

    return guarded(args.command, args.db, work)


# search

def describe_hit(rank: int, hit: Hit) -> str:
    """A hit as a block of lines: rank and title; date, site, id; URL; snippet. (The bm25
    score is in --json only: its scale depends on the corpus, so it reads as noise here.)"""
    about = [printable(hit.date) or "undated"]
    if hit.sitename:
        about.append(printable(hit.sitename))
    about.append(f"#{hit.id}" + (f" (copy of #{hit.duplicate_of})"
                                 if hit.duplicate_of is not None else ""))
    return "\n".join([
        f"{rank}. {printable(oneline(hit.title, 100)) or '(no title)'}",
        "   " + "  ".join(about),
        "   " + printable(hit.url),
        "   " + printable(hit.snippet),
    ])


def cmd_search(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    fts = fts_query(db, query)  # QueryError: exit 2 (guarded)
    if fts.rewritten_because:
        print(f"scrape search: not FTS5 query syntax ({fts.rewritten_because}); "
              f"searched as plain words: {printable(fts.expression)}", file=sys.stderr)
    found = 0
    for found, hit in enumerate(search(db, fts.expression, args.limit, args.unique), 1):
        if args.json:
            print(json_line({name: getattr(hit, name) for name in Hit.__dataclass_fields__}))
        else:
            print(("\n" if found > 1 else "") + describe_hit(found, hit))
    if not args.json:
        print(("\n" if found else "") + f"{found} hit(s)"
              + (f" (the best {args.limit})" if found == args.limit else ""))
    return 0


# export

def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """A text file (UTF-8, newlines as written) that appears at `path` whole or not at all:
    written to a temporary file beside it, synced, then renamed over it. On any error or
    interruption the temporary file is removed and `path` is left as it was.

    A symbolic link's target is replaced, not the link. Something that exists and is not a
    regular file (/dev/stdout, /dev/null, a named pipe) is written to directly: there is
    nothing to replace."""
    if path.is_dir():
        raise UsageError(f"--output {str(path)!r} is a directory")
    if path.exists() and not path.is_file():
        with open(path, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    path = Path(os.path.realpath(path))  # through symbolic links (also a dangling one)
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"no directory {str(parent)!r} for --output {str(path)!r}")
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    with suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextmanager
def stdout_output() -> Iterator[TextIO]:
    """Standard output as UTF-8 text with newlines as written, whatever the locale."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced sys.stdout without bytes underneath: use it as it is
        yield sys.stdout
        return
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield out
        out.flush()
    finally:
        if not out.closed:
            with suppress(ValueError, OSError):
                out.detach()  # leave sys.stdout's buffer open


def write_jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for count, row in enumerate(rows, 1):
        out.write(json_line(row) + "\n")
        if count % FLUSH_EVERY == 0:
            out.flush()
    return count


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR,
# trims them and then may): such text gets a leading ' (OWASP's advice on CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell: text that a spreadsheet would run as a formula, quoted with a
    leading '; numbers and everything else as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    """RFC 4180 CSV (quoted where needed, CRLF line ends), a header row of EXPORT_COLUMNS;
    None becomes an empty field, text starting like a formula gets a leading ' (csv_cell)."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(row[name]) for name in EXPORT_COLUMNS])
        if count % FLUSH_EVERY == 0:
            out.flush()
    return count


def cmd_export(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    to_file = args.output not in (None, "-")
    if to_file:
        try:
            refuse_overwrite(args.output, args.db)
        except OutputIsDatabase as exc:
            raise UsageError(f"--output {exc}") from None
    if args.format == "markdown":  # one file per article (pipeline/markdown_files.py)
        from .markdown_files import export_markdown  # PyYAML only for this format

        if not to_file or (Path(args.output).exists() and not Path(args.output).is_dir()):
            raise UsageError("--format markdown writes one file per article: give --output DIR"
                             + (f" ({args.output} is not a directory)" if to_file else ""))
        rows = export_rows(db, since=args.since, unique=args.unique)
        with closing(rows), sigterm_raises():
            count = export_markdown(rows, Path(args.output), {os.path.realpath(args.db)})
        print(printable(f"scrape export: {count} article(s) to {args.output.rstrip('/')}/"),
              file=sys.stderr)
        return 0
    csv_format = args.format == "csv"
    # CSV carries tags as the stored JSON text; JSONL as an array.
    rows = export_rows(db, since=args.since, unique=args.unique, decode_tags=not csv_format)
    write = write_csv if csv_format else write_jsonl
    with closing(rows):  # the read ends here, whatever happens to the output
        if not to_file:
            with stdout_output() as out:
                write(rows, out)
            return 0
        with sigterm_raises(), atomic_output(Path(args.output)) as out:
            count = write(rows, out)
    print(f"scrape export: {count} article(s) to {args.output}", file=sys.stderr)
    return 0


# stats

def cmd_stats(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    s = stats(db)
    print(json_line(s) if args.json else describe_stats(s))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
    db_help = f"SQLite database (default: {DEFAULT_DB}); it must exist"

    p = sub.add_parser(
        "search", help="full-text search of stored articles, best first",
        description="Search titles, standfirsts and bodies (SQLite FTS5), best first (bm25: "
                    "a word in the title counts most). The query is FTS5 syntax when it "
                    "parses as such: \"a phrase\", OR, NOT, prefix*, title: word, "
                    "NEAR(a b); otherwise each word is searched as a plain term (all of "
                    "them required). Matched terms are marked «like this». At most "
                    f"{MAX_TERMS} terms, {MAX_PREFIX_TERMS} of them prefix*, and "
                    f"{SEARCH_SECONDS:g} s of searching (exit 2 beyond).")
    p.add_argument("query", nargs="+", metavar="QUERY",
                   help="words (all required) or an FTS5 query; quote it for the shell "
                        "when it has quotes, parentheses or *")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N",
                   help="show at most N hits (default: 20)")
    p.add_argument("--unique", action="store_true",
                   help="leave out duplicates: one hit per story (its canonical article)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per hit: id, url, canonical_url, title, date, "
                        "sitename, duplicate_of, score (higher is better), snippet")
    p.add_argument("--db", default=DEFAULT_DB, help=db_help)
    p.set_defaults(func=lambda args: _run(args, cmd_search))

    p = sub.add_parser(
        "export", help="stream stored articles as JSON lines or CSV, or write Markdown files",
        description="Every stored article in id order, streamed (nothing is held in "
                    "memory): id, the record's fields in order, first_seen_at, updated_at. "
                    "JSONL has tags as an array; CSV has them as JSON text and empty fields "
                    "for nulls, and text starting with = + - @ tab or CR gets a leading ' "
                    "(a spreadsheet would run it as a formula). Markdown: a file ID-SLUG.md "
                    "per article in --output DIR (YAML front matter, the markdown field); "
                    "files of the same names are replaced, others kept.")
    p.add_argument("--format", choices=("jsonl", "csv", "markdown"), default="jsonl",
                   help="jsonl: one JSON object per line (default); csv: a header row, "
                        "then one row per article; markdown: one .md file per article "
                        "(needs --output DIR)")
    p.add_argument("--since", type=since_arg, default=None, metavar="DATE",
                   help="only articles stored new or changed (updated_at) at or after DATE: "
                        "YYYY-MM-DD (midnight UTC) or an ISO 8601 date and time (UTC unless "
                        "it has an offset). For a nightly sync, pass the start of the "
                        "previous export, or an earlier day, and upsert by id: rows seen "
                        "twice are the same row")
    p.add_argument("--unique", action="store_true",
                   help="canonical articles only (duplicate_of empty): one per story")
    p.add_argument("--output", "-o", default=None, metavar="FILE",
                   help="write to FILE (replaced whole, only when the export succeeds; "
                        "never the database or its -wal, -shm, -journal, .lock files) "
                        "instead of standard output; with --format markdown, the directory "
                        "DIR (created when missing)")
    p.add_argument("--db", default=DEFAULT_DB, help=db_help)
    p.set_defaults(func=lambda args: _run(args, cmd_export))

    p = sub.add_parser(
        "stats", help="counts: fetches by source and outcome, articles, site crawls, the "
                 "last run, size")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--db", default=DEFAULT_DB, help=db_help)
    p.set_defaults(func=lambda args: _run(args, cmd_stats))


# make browse

METADATA_NAME = "scrape"  # the database's key in data/datasette-metadata.json


def datasette_metadata(template: str | Path, db_path: str | Path) -> dict[str, Any]:
    """The Datasette metadata in `template` for the database at `db_path`: Datasette names a
    database after its file (`data/news.db` is "news"), and the template's one database
    entry is renamed to match, so `make browse DB=...` keeps titles, facets and search."""
    metadata = json.loads(Path(template).read_text(encoding="utf-8"))
    databases = metadata.get("databases", {})
    databases[Path(db_path).stem] = databases.pop(METADATA_NAME)
    return metadata


if __name__ == "__main__":  # make browse: python -m pipeline.cli_store TEMPLATE DB > FILE
    if len(sys.argv) != 3:
        sys.exit("usage: python -m pipeline.cli_store METADATA_TEMPLATE DATABASE")
    print(json.dumps(datasette_metadata(sys.argv[1], sys.argv[2]), ensure_ascii=False,
                     indent=2))


def main(argv: Sequence[str]) -> int:
    """`scrape search|export|stats ...` on its own (pipeline/entry.py): the same commands as
    `scrape`'s parser has, without loading what only the other commands need."""
    parser = argparse.ArgumentParser(prog="scrape")
    register(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(argv))
