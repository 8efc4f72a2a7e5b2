"""`scrape search`, `scrape export`, `scrape stats`: reading the store."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the `scrape` parser."""
