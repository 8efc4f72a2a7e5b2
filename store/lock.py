"""One writing run at a time per database: an advisory lock on the file `<db>.lock`.

`scrape ingest`, `scrape batch` and `scrape reclean` hold it for their whole run; a second
one started on the same database meanwhile does not wait but stops at once
(RunLock.acquire raises LockHeld).
The lock is flock(2) on an open file: the kernel drops it when the holder's process ends,
however it ends (kill -9, a crash, a reboot), so a dead run never leaves it stuck and there
is no stale-PID guessing. The file's text (pid, host, command, start time) only tells the
refused run who holds it; the file itself stays in place between runs (removing it while
another process has it open would let two runs lock two different files).

The lock keeps runs apart; SQLite's own locking still guards every write (store/db.py), so
writers that do not take this lock (tests, library use of Store) stay safe, only unordered.
flock works across processes on one machine; on a network file system it depends on the
server (NFS emulates it with POSIX locks): keep the database on a local disk.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Self


class LockHeld(Exception):
    """Another process holds the run lock of this database."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path, self.holder = path, holder
        who = f" ({holder})" if holder else ""
        super().__init__(f"another run holds the lock {path}{who}")


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    """The lock file of a database: its path with ".lock" added."""
    return Path(f"{os.fspath(db_path)}.lock")


class RunLock:
    """The run lock of the database at `db_path`.

        with RunLock(db_path).acquire("scrape batch"):   # LockHeld if another run has it
            ...
    """

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self, what: str = "") -> Self:
        """Take the lock without waiting; raise LockHeld when another process has it
        (OSError when the lock file cannot be created)."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC: a program this process starts must not inherit (and keep) the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        note = ", ".join(filter(None, [f"pid {os.getpid()} on {os.uname().nodename}", what]))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, note.encode("utf-8", "replace") + b"\n", 0)
        except OSError:
            pass  # the note is informative only; the lock is what counts
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> Self:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int, wait: float = 0.5) -> str:
    """The holder's note; a holder that has just taken the lock writes it a moment later."""
    deadline = time.monotonic() + wait
    while not (text := _read(fd)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return text


def _read(fd: int) -> str:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return ""
    return " ".join(text.split())
