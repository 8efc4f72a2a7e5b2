"""Cleaning: boilerplate pre-pass, trafilatura extraction, repeated-body collapse, post-pass.

`Cleaner` (stage.py) is the stage (Page -> Result); the modules are usable on their own:
prune (selectolax pre-pass), selectors (a source's CSS selectors), extract (trafilatura),
metadata (what a page declares, with titles, authors, dates and values), repeats (collapse),
lines and boilerplate (post-pass rules), text_dump (plain-text input), text (normalisation,
hashes), deadline (the per-page time bound), dedup (MinHash signatures and the LSH index
that the store's deduper is handed).
"""

from .repeats import collapse_repeats
from .selectors import SelectorError, Selectors
from .stage import CleanConfig, Cleaner

__all__ = ["CleanConfig", "Cleaner", "SelectorError", "Selectors", "collapse_repeats"]
