"""SQLite storage through sqlite-utils: schema migrations and the single writer.

The names below load their module when first used, so a command that only reads (search,
export, stats: store.db and store.query) does not load the writer, its deduper or the page
codec."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import open_db
    from .dedup import Cluster, clusters
    from .history import History, LastFetch
    from .migrations import MIGRATIONS, migrate
    from .writer import Store

_MODULE_OF = {"open_db": ".db", "Cluster": ".dedup", "clusters": ".dedup", "History": ".history",
              "LastFetch": ".history", "MIGRATIONS": ".migrations", "migrate": ".migrations",
              "Store": ".writer"}
__all__ = ["MIGRATIONS", "Cluster", "History", "LastFetch", "Store", "clusters", "migrate",
           "open_db"]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_MODULE_OF[name], __name__), name)
    globals()[name] = value
    return value
