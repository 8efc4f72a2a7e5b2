"""The one exception the fetcher uses internally; it never escapes `Fetcher.fetch`."""

from __future__ import annotations


class FetchFailure(Exception):
    """A failed fetch: `outcome` becomes Page.outcome, the message Page.error.

    `retryable`: a connection error, a timeout or a 429/5xx answer, worth another attempt.
    `retry_after`: the seconds the server asked us to wait (its Retry-After header), if any.
    """

    def __init__(
        self,
        outcome: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
