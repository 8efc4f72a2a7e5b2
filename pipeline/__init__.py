"""Wiring: the steps of a run, the executors and the `scrape` commands (the record types are
in records/)."""
