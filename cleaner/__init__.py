"""Cleaning: boilerplate pre-pass, trafilatura extraction, repeated-body collapse, post-pass.

`Cleaner` is the stage (Page -> Result); the modules are usable on their own:
prune (selectolax pre-pass), extract (trafilatura), repeats (collapse), boilerplate
(post-pass rules), selectors (a source's CSS selectors), text_dump (plain-text input),
text (normalisation, hashes).
"""

from .repeats import collapse_repeats
from .selectors import SelectorError, Selectors
from .stage import CleanConfig, Cleaner

__all__ = ["CleanConfig", "Cleaner", "SelectorError", "Selectors", "collapse_repeats"]
