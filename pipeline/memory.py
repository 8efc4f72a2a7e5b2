"""Process-wide memory settings: glibc malloc's (`tune_malloc`) and the garbage collector's
(`freeze_long_lived`).

glibc malloc settings keep a long run's memory flat (Linux with glibc only).

Page bodies (a hundred KB or more) are allocated by the fetcher's thread and freed by the
main thread once sent to a worker. glibc raises its mmap threshold the first time such a
block is freed, so later bodies come from the per-thread heaps ("arenas", up to 8 per core),
which fragment and grow with the length of the run (bench/pipeline_speed.py measures the
writer's memory at two run lengths; README "Pipeline speed"). A fixed threshold keeps every
block over 64 KiB in a mapping of its own, returned to the system when freed, and two arenas
are plenty for a process with two busy threads. Only the writer (pipeline/cli.py) does this:
a fresh mapping per large block costs page faults, and the cleaning workers, whose memory
stays flat without it, ran slower with it.
Settings the user made with glibc's own variables (MALLOC_ARENA_MAX,
MALLOC_MMAP_THRESHOLD_) are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys

_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # malloc.h
MMAP_THRESHOLD = 64 * 1024
ARENA_MAX = 2


def tune_malloc() -> bool:
    """Apply the settings to this process (call it before starting threads); True if done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # no glibc (musl has no mallopt)
        return False
    done = True
    if "MALLOC_ARENA_MAX" not in os.environ:
        done &= mallopt(_M_ARENA_MAX, ARENA_MAX) == 1
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        done &= mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return done


def freeze_long_lived() -> None:
    """Take every object that exists now (modules, their tables and caches) out of the garbage
    collector's view for good: they live as long as the process, and each full collection
    would walk them all again (trafilatura, lxml and dateparser hold over a hundred thousand),
    which costs cleaning a noticeable share of its time. Call it once set up; in a fork
    server, before it forks, it also keeps forked workers from writing to (and so copying)
    the memory they share.
    Objects frozen and later dropped in a reference cycle are never freed: call it where
    what exists is the program's own, not a caller's."""
    gc.freeze()
