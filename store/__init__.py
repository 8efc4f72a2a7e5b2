"""SQLite storage through sqlite-utils: schema migrations and the single writer."""

from .db import open_db
from .history import History, LastFetch
from .migrations import MIGRATIONS, migrate
from .writer import Store

__all__ = ["MIGRATIONS", "History", "LastFetch", "Store", "migrate", "open_db"]
