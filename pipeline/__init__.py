"""Wiring: the run loop, the executors and the `scrape` commands (the record types are in
records/)."""
