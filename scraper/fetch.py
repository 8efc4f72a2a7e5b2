"""Turn FetchTasks into Pages: HTTP(S) through httpx, local files from disk.

`Fetcher.fetch` never raises for a bad URL or page; the failure is recorded on the Page
(`error`: a sentence for people, `outcome`: a key for counters).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from pipeline.records import FetchTask, Page
from pipeline.urls import WEB_SCHEMES, is_local

from .charset import detect_encoding
from .content import (
    ACCEPTED_TYPES,
    HTML,
    collect,
    inflate,
    looks_binary,
    looks_like_html,
    media_type,
)
from .errors import FetchFailure
from .local import local_path, read_file

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
# Only encodings `inflate` decodes in bounded steps; httpx's decoders inflate a whole
# network read at once, which lets a gzip bomb balloon before the size check sees it.
_ACCEPT_ENCODING = "gzip, deflate"
# httpx timeout -> (key in httpx's timeout dict, what we were doing)
_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], tuple[str, str]] = {
    httpx.ConnectTimeout: ("connect", "connecting"),
    httpx.ReadTimeout: ("read", "reading the response"),
    httpx.WriteTimeout: ("write", "sending the request"),
    httpx.PoolTimeout: ("pool", "waiting for a free connection"),
}


@dataclass
class FetchConfig:
    """Limits for one fetch. Read at every fetch, so changes apply to the next one
    (except `user_agent`, which is fixed when the Fetcher is created)."""

    connect_timeout: float = 10.0  # seconds to open the TCP (and TLS) connection
    read_timeout: float = 20.0  # seconds any single read may wait for data
    total_timeout: float = 30.0  # seconds for the whole fetch: redirects, headers and body
    max_bytes: int = 10 * 1024 * 1024  # body size cap (decompressed), enforced while reading
    max_redirects: int = 10
    # Say who you are: replace the placeholder with your contact URL.
    user_agent: str = "scrape-clean/0.1 (+https://example.org/scrape-clean)"


class Fetcher:
    """Fetches pages one at a time over a shared connection pool. Use as a context manager.

    `transport` replaces httpx's network transport (tests pass an httpx.MockTransport).
    """

    def __init__(
        self, config: FetchConfig | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config or FetchConfig()
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,  # followed by hand, to check the deadline at every hop
            headers={
                "User-Agent": self.config.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def __call__(self, tasks: Iterable[FetchTask]) -> Iterator[Page]:
        """One Page per task, in order; a failed task never stops the others."""
        for task in tasks:
            yield self.fetch(task)

    def fetch(self, task: FetchTask) -> Page:
        """Fetch one task. Never raises: failures come back as a Page with `error` set."""
        started = time.monotonic()
        page = Page(
            url=task.url,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            origin_url=task.origin_url,
            source=task.source,
        )
        try:
            target = task.url.strip()
            if not target:
                raise FetchFailure("fetch.bad_url", "empty URL")
            if is_local(target):
                self._fetch_file(target, page)
            else:
                self._fetch_http(target, page, deadline=started + self.config.total_timeout)
        except FetchFailure as failure:
            page.error, page.outcome = failure.message, failure.outcome
        except Exception as exc:  # the contract: a bad page must not stop the run
            page.error = f"unexpected error fetching {task.url}: {type(exc).__name__}: {exc}"
            page.outcome = "fetch.error"
        if page.error is not None:
            page.body, page.encoding = b"", None
        else:
            page.outcome = "fetched"
        page.elapsed_ms = round((time.monotonic() - started) * 1000)
        return page

    # -- local files ---------------------------------------------------------------------

    def _fetch_file(self, target: str, page: Page) -> None:
        path = local_path(target)
        page.final_url = path.as_uri()
        body, content_type = read_file(path, self.config.max_bytes)
        page.content_type, page.bytes = content_type, len(body)
        if content_type not in ACCEPTED_TYPES:
            raise FetchFailure("fetch.content_type", f"unsupported content type {content_type}")
        _refuse_binary(body)
        page.body, page.encoding = body, detect_encoding(body, None)

    # -- HTTP ----------------------------------------------------------------------------

    def _fetch_http(self, url: str, page: Page, deadline: float) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in WEB_SCHEMES:
            raise FetchFailure(
                "fetch.bad_url",
                f"unsupported URL scheme {scheme!r} in {url} (only http, https and file)",
            )
        try:
            request = self._client.build_request("GET", url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchFailure("fetch.bad_url", f"invalid URL {url}: {exc}") from None
        if not request.url.host:
            raise FetchFailure("fetch.bad_url", f"invalid URL {url}: no host")
        redirects = 0
        while True:
            response = self._send(request, deadline)
            try:
                page.final_url = str(response.url)
                page.status = response.status_code
                page.content_type = media_type(response.headers.get("content-type"))
                if response.next_request is None:  # not a redirect: this is the page
                    self._read(response, page, deadline)
                    return
                redirects += 1
                if redirects > self.config.max_redirects:
                    raise FetchFailure(
                        "fetch.too_many_redirects",
                        f"more than {self.config.max_redirects} redirects"
                        f" (the last one pointed to {response.next_request.url})",
                    )
                request = response.next_request
                if request.url.scheme not in WEB_SCHEMES:
                    raise FetchFailure(
                        "fetch.bad_url", f"redirected to an unsupported URL: {request.url}"
                    )
            finally:
                response.close()

    def _send(self, request: httpx.Request, deadline: float) -> httpx.Response:
        remaining = self._remaining(deadline, "before sending the request")
        # Every phase gets at most what is left of the total budget.
        cfg = self.config
        timeout = httpx.Timeout(
            connect=min(cfg.connect_timeout, remaining),
            read=min(cfg.read_timeout, remaining),
            write=min(cfg.read_timeout, remaining),
            pool=min(cfg.connect_timeout, remaining),
        )
        request.extensions = {**request.extensions, "timeout": timeout.as_dict()}
        try:
            return self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._failure(exc, request) from None

    def _read(self, response: httpx.Response, page: Page, deadline: float) -> None:
        status = response.status_code
        if not 200 <= status < 300:
            reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
            raise FetchFailure(f"fetch.http_{status}", f"HTTP {status} {reason}".rstrip())
        if page.content_type is not None and page.content_type not in ACCEPTED_TYPES:
            raise FetchFailure(
                "fetch.content_type", f"unsupported content type {page.content_type}"
            )
        max_bytes = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchFailure(
                "fetch.too_large",
                f"response larger than {max_bytes} bytes (Content-Length: {declared})",
            )

        coding = response.headers.get("content-encoding", "").strip().lower()
        if response.is_stream_consumed:  # read already, e.g. a MockTransport response of bytes
            chunks: Iterable[bytes] = [response.content]
        elif coding in ("gzip", "x-gzip", "deflate"):
            chunks = inflate(response.iter_raw(), raw_fallback=coding == "deflate")
        elif coding in ("", "identity"):
            chunks = response.iter_raw()
        else:  # a server ignoring Accept-Encoding: let httpx decode what it can
            chunks = response.iter_bytes()
        try:
            body, received = collect(self._until(deadline, chunks), max_bytes)
        except httpx.HTTPError as exc:
            raise self._failure(exc, response.request) from None
        except zlib.error as exc:
            message = f"could not decode the {coding} response body: {exc}"
            raise FetchFailure("fetch.error", message) from None
        page.bytes = received
        if body is None:
            raise FetchFailure("fetch.too_large", f"response larger than {max_bytes} bytes")

        if page.content_type is None:
            if not looks_like_html(body):
                raise FetchFailure(
                    "fetch.content_type", "no content type, and the body does not look like HTML"
                )
            page.content_type = HTML
        _refuse_binary(body)
        page.body = body
        page.encoding = detect_encoding(body, response.headers.get("content-type"))

    def _until(self, deadline: float, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass chunks through until the total time budget runs out."""
        for chunk in chunks:
            yield chunk
            self._remaining(deadline, "reading the response")

    def _remaining(self, deadline: float, phase: str) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchFailure(
                "fetch.timeout",
                f"timed out after {self.config.total_timeout} s in total ({phase})",
            )
        return remaining

    def _failure(self, exc: httpx.HTTPError, request: httpx.Request) -> FetchFailure:
        """Translate an httpx error into a FetchFailure with a sentence a person can act on."""
        url = request.url
        if isinstance(exc, httpx.TimeoutException):
            key, phase = next(
                (v for t, v in _TIMEOUT_PHASES.items() if isinstance(exc, t)), ("read", "")
            )
            cfg = self.config
            limit = cfg.connect_timeout if key in ("connect", "pool") else cfg.read_timeout
            applied = request.extensions.get("timeout", {}).get(key)
            if applied is not None and applied < limit:  # cut short by the total budget
                return FetchFailure(
                    "fetch.timeout", f"timed out after {cfg.total_timeout} s in total ({phase})"
                )
            return FetchFailure("fetch.timeout", f"timed out after {limit} s {phase}")
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            where = f"{url.host}:{url.port}" if url.port else url.host
            return FetchFailure("fetch.connect_error", f"could not connect to {where}: {detail}")
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return FetchFailure("fetch.bad_url", f"invalid URL {url}: {detail}")
        if isinstance(exc, httpx.RemoteProtocolError):
            return FetchFailure("fetch.error", f"{url.host} sent an invalid response: {detail}")
        if isinstance(exc, httpx.TransportError):
            return FetchFailure("fetch.error", f"network error talking to {url.host}: {detail}")
        return FetchFailure("fetch.error", f"fetch of {url} failed: {detail}")


def _refuse_binary(body: bytes) -> None:
    """A body declared as text that is not (an image or archive served as text/html)."""
    if looks_binary(body):
        raise FetchFailure("fetch.binary", "the body is binary data, not text or HTML")
