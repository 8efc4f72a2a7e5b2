"""`scrape reclean`: clean the stored raw pages again."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
