"""Wiring: the record types every stage shares, the run loop and the `scrape` CLI."""
