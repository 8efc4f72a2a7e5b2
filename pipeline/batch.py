"""`scrape batch`: the sources in a TOML file, one locked, recorded run."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
