"""SQLite storage through sqlite-utils: schema migrations and the single writer."""

from .db import open_db
from .dedup import Cluster, clusters
from .history import History, LastFetch
from .migrations import MIGRATIONS, migrate
from .writer import Store

__all__ = ["MIGRATIONS", "Cluster", "clusters", "History", "LastFetch", "Store", "migrate", "open_db"]
