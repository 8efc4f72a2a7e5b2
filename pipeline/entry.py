"""The `scrape` program. The reading commands (search, export, stats) start without loading
the fetcher, the cleaner, trafilatura or numpy, which they never use (pipeline/cli_store.py);
every other command, and `scrape --help`, goes through pipeline/cli.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

READERS = frozenset({"search", "export", "stats"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in READERS:
        with numpy_unseen():
            from . import cli_store

        return cli_store.main(args)
    from . import cli

    return cli.main(argv)


@contextmanager
def numpy_unseen() -> Iterator[None]:
    """sqlite-utils imports numpy, when it is installed, only to know its number types for
    inserts: the reading commands insert nothing, and numpy costs them a third of their
    start-up. Hidden while they import (if nothing has imported it yet), importable after."""
    if "numpy" in sys.modules:
        yield
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # import numpy: ImportError
    try:
        yield
    finally:
        if sys.modules.get("numpy", False) is None:
            del sys.modules["numpy"]


if __name__ == "__main__":
    sys.exit(main())
