"""The one exception the fetcher uses internally; it never escapes `Fetcher.fetch`."""

from __future__ import annotations


class FetchFailure(Exception):
    """A failed fetch: `outcome` becomes Page.outcome, the message Page.error."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
