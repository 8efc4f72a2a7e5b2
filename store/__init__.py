"""SQLite storage through sqlite-utils: schema migrations and the single writer."""

from .db import open_db
from .migrations import MIGRATIONS, migrate
from .writer import Store

__all__ = ["MIGRATIONS", "Store", "migrate", "open_db"]
