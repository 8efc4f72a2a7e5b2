"""The one exception the fetcher uses internally (it never escapes `Fetcher.fetch`), and the
translation of what went wrong into it: httpx's errors, HTTP statuses, binary bodies, each
as an outcome key for counters and a sentence a person can act on."""

from __future__ import annotations

import httpx

from records.outcomes import (
    FETCH_BAD_URL,
    FETCH_BINARY,
    FETCH_CONNECT_ERROR,
    FETCH_ERROR,
    FETCH_TIMEOUT,
    http_status,
)

from .config import FetchConfig
from .content import looks_binary
from .hosts import parse_retry_after


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


# httpx timeout -> (key in httpx's timeout dict, what we were doing)
_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], tuple[str, str]] = {
    httpx.ConnectTimeout: ("connect", "connecting"),
    httpx.ReadTimeout: ("read", "reading the response"),
    httpx.WriteTimeout: ("write", "sending the request"),
    httpx.PoolTimeout: ("pool", "waiting for a free connection"),
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def translate(exc: httpx.HTTPError, request: httpx.Request,
              config: FetchConfig) -> FetchFailure:
    """Translate an httpx error into a FetchFailure with a sentence a person can act on."""
    url = request.url
    if isinstance(exc, httpx.TimeoutException):
        key, phase = next(
            (v for t, v in _TIMEOUT_PHASES.items() if isinstance(exc, t)), ("read", "")
        )
        cfg = config
        limit = cfg.connect_timeout if key in ("connect", "pool") else cfg.read_timeout
        applied = request.extensions.get("timeout", {}).get(key)
        if applied is not None and applied < limit:  # cut short by the total budget
            message = f"timed out after {cfg.total_timeout} s in total ({phase})"
        else:
            message = f"timed out after {limit} s {phase}"
        return FetchFailure(FETCH_TIMEOUT, message, retryable=True)
    detail = detail_of(exc)
    if isinstance(exc, httpx.ConnectError):
        where = f"{url.host}:{url.port}" if url.port else url.host
        return FetchFailure(
            FETCH_CONNECT_ERROR, f"could not connect to {where}: {detail}", retryable=True
        )
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FetchFailure(FETCH_BAD_URL, f"invalid URL {url}: {detail}")
    if isinstance(exc, httpx.RemoteProtocolError):  # also a connection dropped mid-body
        return FetchFailure(
            FETCH_ERROR, f"{url.host} sent an invalid response: {detail}", retryable=True
        )
    if isinstance(exc, httpx.TransportError):  # a reset, a failed read or write
        return FetchFailure(
            FETCH_ERROR, f"network error talking to {url.host}: {detail}", retryable=True
        )
    return FetchFailure(FETCH_ERROR, f"fetch of {url} failed: {detail}")


def check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
    retryable = status in RETRY_STATUSES
    raise FetchFailure(
        http_status(status),
        f"HTTP {status} {reason}".rstrip(),
        retryable=retryable,
        retry_after=parse_retry_after(response.headers.get("retry-after")) if retryable else None,
    )


def detail_of(exc: BaseException) -> str:
    """The first message down the exception's chain: httpx and anyio often wrap an OSError
    ("[Errno 104] Connection reset by peer") in exceptions that say nothing."""
    cause: BaseException | None = exc
    for _ in range(5):
        if cause is None:
            break
        if str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def with_attempts(failure: FetchFailure, tries: int) -> FetchFailure:
    """The failure as the page reports it: with the number of attempts, if more than one."""
    if tries == 1:
        return failure
    return FetchFailure(failure.outcome, f"{failure.message} ({tries} attempts)")


def refuse_binary(body: bytes) -> None:
    """A body declared as text that is not (an image or archive served as text/html)."""
    if looks_binary(body):
        raise FetchFailure(FETCH_BINARY, "the body is binary data, not text or HTML")
