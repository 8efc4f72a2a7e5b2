"""The `scrape` program. The reading commands (search, export, stats) start without loading
the fetcher, the cleaner, trafilatura or numpy, which they never use; every other command,
and `scrape --help`, goes through pipeline/cli.py."""

from __future__ import annotations

import sys
from collections.abc import Sequence

READERS = frozenset({"search", "export", "stats"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in READERS:
        from . import cli_store

        return cli_store.main(args)
    from . import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
