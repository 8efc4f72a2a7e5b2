"""Opening the database: pragmas and migrations in one place; read-only opening for the
commands that only read; the check that an output file is not one of the database's files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from .lock import lock_path
from .migrations import MIGRATIONS, applied, migrate

PAGE_SIZE = 16384


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database at `path`, migrated to the current schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return prepare_db(sqlite_utils.Database(path))


def prepare_db(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Make an open database ready for writing as open_db does (its pragmas and migrations)
    and return it. Idempotent: on a database prepared before, the pragmas change nothing and
    no migration runs. Call it outside a transaction (changing to WAL and migrating need it)."""
    # 16 KiB pages (SQLite's default is 4 KiB), for a new database only (an existing one keeps
    # its size): a compressed raw page spans a quarter as many overflow pages, and the FTS
    # index's segments are fewer (bench/store.py).
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    db.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()  # readers (Datasette, exports) never block the writer
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits
    # (a crash of the process loses nothing committed). FULL would fsync on every commit.
    db.execute("PRAGMA synchronous = NORMAL")
    # A writer holds the lock for one batch (store/writer.py): others wait, not fail.
    db.execute("PRAGMA busy_timeout = 60000")
    # A batch of writes touches the FTS index, the other indexes and new rows all over: a
    # 64 MiB page cache (the default is 2 MiB) holds them (memory is taken as pages are read,
    # per connection), and a checkpoint every 10,000 pages of WAL (~40 MB; the default is
    # 1,000) copies a page changed by several batches to the database once, not after each
    # (bench/store.py).
    db.execute("PRAGMA cache_size = -65536")
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    migrate(db)
    return db


def db_file(db: sqlite_utils.Database) -> Path | None:
    """The file of an open database (its `main` schema), None for an in-memory one."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


class DatabaseUnusable(Exception):
    """A database that cannot be read as it is (see open_for_reading)."""


def open_for_reading(path: str | Path) -> sqlite_utils.Database:
    """The existing database at `path` for a command that only reads.

    When it may be written (the file and its folder), as open_db opens it (a schema from an
    older version is brought up to date). Otherwise read-only: `mode=ro`, so SQLite reads the
    write-ahead log through the existing `-shm` file or one it creates; when neither can be
    (a read-only folder without them), `immutable=1`, which reads the main file alone and is
    refused when a non-empty `-wal` holds commits it would miss. Raises DatabaseUnusable for
    that and for a schema older than this version's (it cannot be upgraded read-only)."""
    path = Path(path)
    real = Path(os.path.realpath(path))
    if os.access(real, os.W_OK) and os.access(real.parent, os.W_OK):
        return open_db(path)
    uri = f"file:{quote(str(real))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 60000")  # as open_db: a writer may be recovering
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_CANTOPEN:
            raise
        # No -shm, and none can be created here: the main file alone, unless the log has more.
        wal = Path(f"{real}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise DatabaseUnusable(
                f"it is read-only and its write-ahead log {wal} holds commits that cannot be "
                f"read without creating {real}-shm in a read-only folder") from None
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True)
    db = sqlite_utils.Database(conn)
    try:
        done = set(applied(db))
        missing = [m.__name__ for m in MIGRATIONS if m.__name__ not in done]
    except BaseException:
        db.close()
        raise
    if missing:
        db.close()
        raise DatabaseUnusable(
            f"its schema is older than this version's (missing {', '.join(missing)}) and it "
            "is read-only, so it cannot be brought up to date: open it once with write access")
    return db


class OutputIsDatabase(ValueError):
    """An output file that is the database or one of its companion files."""


_COMPANIONS = (("", "the database"), ("-wal", "the database's write-ahead log"),
               ("-shm", "the database's shared-memory file"),
               ("-journal", "the database's rollback journal"))


def refuse_overwrite(output: str | os.PathLike[str], db: str | os.PathLike[str],
                     temporary_suffixes: tuple[str, ...] = ()) -> None:
    """Raise OutputIsDatabase when writing `output` (or `output` + a suffix in
    `temporary_suffixes`, a name it is written under first) would replace or write into the
    database at `db`, its -wal, -shm or -journal file, or its run lock file. Compares real
    paths (through symbolic links, `./x` and `x`) and, for files that exist, the files
    themselves (a hard link)."""
    written = [(os.fspath(output), "")] + [
        (f"{os.fspath(output)}{suffix}", f" (written first as {os.fspath(output)}{suffix})")
        for suffix in temporary_suffixes]
    db = os.fspath(db)
    protected = []
    for base in dict.fromkeys((db, os.path.realpath(db))):  # SQLite names them after either
        protected += [(f"{base}{suffix}", role) for suffix, role in _COMPANIONS]
        protected.append((os.fspath(lock_path(base)), "the database's run lock file"))
    for name, note in written:
        real = os.path.realpath(name)
        for file, role in protected:
            if real == os.path.realpath(file) or _same_file(name, file):
                raise OutputIsDatabase(f"{os.fspath(output)}{note} would overwrite {role} "
                                       f"{file}: nothing written")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist
        return False
