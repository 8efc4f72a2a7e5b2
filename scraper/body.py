"""Reading a response's body: decoded from its Content-Encoding in bounded steps
(scraper/content.py), no further than a size limit, within the attempt's time budget; a
page's type, size and charset checked on the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from records import Page
from records.outcomes import (
    FETCH_BAD_ENCODING,
    FETCH_CONTENT_TYPE,
    FETCH_TIMEOUT,
    FETCH_TOO_LARGE,
)

from .charset import detect_encoding
from .config import FetchConfig
from .content import (
    ACCEPTED_TYPES,
    HTML,
    BadEncoding,
    ContentDecoder,
    LayerTooLarge,
    looks_like_html,
)
from .errors import FetchFailure, refuse_binary, translate
from .robots import MAX_ROBOTS_BYTES
from .transports import body_chunks

T = TypeVar("T")
# Bodies bigger than this have their charset detected in a worker thread.
DETECT_INLINE_BYTES = 256 * 1024


@dataclass
class Budget:
    """The total timeout of one attempt, as a loop-time deadline."""

    total: float
    deadline: float
    clock: Callable[[], float]  # the event loop's time(): what `deadline` is in

    def remaining(self, phase: str) -> float:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise FetchFailure(
                FETCH_TIMEOUT,
                f"timed out after {self.total} s in total ({phase})",
                retryable=True,
            )
        return remaining


async def read_page(response: httpx.Response, page: Page, budget: Budget,
                    config: FetchConfig) -> None:
    """A page's body into `page`: its type accepted, its size bounded, its charset detected."""
    if page.content_type is not None and page.content_type not in ACCEPTED_TYPES:
        raise FetchFailure(
            FETCH_CONTENT_TYPE, f"unsupported content type {page.content_type}"
        )
    max_bytes = config.max_bytes
    declared = page.headers.get("content-length", "")  # the response's, as _seen read them
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailure(
            FETCH_TOO_LARGE,
            f"response larger than {max_bytes} bytes (Content-Length: {declared})",
        )
    body, received = await read_body(response, page, budget, max_bytes, config)
    page.bytes = received
    if body is None:
        raise FetchFailure(FETCH_TOO_LARGE, f"response larger than {max_bytes} bytes")

    if page.content_type is None:
        if not looks_like_html(body):
            raise FetchFailure(
                FETCH_CONTENT_TYPE, "no content type, and the body does not look like HTML"
            )
        page.content_type = HTML
    refuse_binary(body)
    page.body = body
    header = page.headers.get("content-type")
    if len(body) > DETECT_INLINE_BYTES:  # charset detection can take a while: not here
        page.encoding = await asyncio.to_thread(detect_encoding, body, header)
    else:
        page.encoding = detect_encoding(body, header)

async def read_document(response: httpx.Response, page: Page, budget: Budget,
                        config: FetchConfig) -> None:
    """A sitemap's or a feed's body into `page`, its size bounded."""
    body, received = await read_body(response, page, budget, config.max_bytes, config)
    page.bytes = received
    if body is None:
        raise FetchFailure(FETCH_TOO_LARGE,
                           f"response larger than {config.max_bytes} bytes")
    page.body = body

async def read_robots(response: httpx.Response, page: Page, budget: Budget,
                      config: FetchConfig) -> None:
    """robots.txt's body into `page`, cut at MAX_ROBOTS_BYTES (RFC 9309 asks to read that much)."""
    body, received = await read_body(response, page, budget, MAX_ROBOTS_BYTES, config,
                                     truncate=True)
    page.body, page.bytes = body or b"", received

async def read_body(
    response: httpx.Response, page: Page, budget: Budget, limit: int, config: FetchConfig,
    truncate: bool = False,
) -> tuple[bytes | None, int]:
    """(body, bytes received), reading and decompressing no further than `limit`; `page`
    has the response's headers.

    Past the limit the body is None, or with `truncate` its first `limit` bytes.
    """
    consumed = response.is_stream_consumed  # a MockTransport response of bytes: httpx
    # decoded it when the transport built it
    try:
        decoder = ContentDecoder(
            None if consumed else page.headers.get("content-encoding"), limit)
    except BadEncoding as exc:
        raise FetchFailure(FETCH_BAD_ENCODING, str(exc)) from None
    chunks = aiter_of([response.content]) if consumed else body_chunks(response)
    parts: list[bytes] = []
    received = 0
    decode = decoder.feed if decoder.codings else None  # identity: the chunks as they are
    try:
        async for chunk in chunks:
            for part in decode(chunk) if decode else (chunk,):
                received += len(part)
                if received > limit:  # stop right here: nothing more read or decoded
                    if not truncate:
                        return None, received
                    parts.append(part[: len(part) - (received - limit)])
                    return b"".join(parts), received
                parts.append(part)
            if decode and decoder.finished:
                break
            budget.remaining("reading the response")
        else:
            decoder.end()
    except httpx.HTTPError as exc:
        raise translate(exc, response.request, config) from None
    except BadEncoding as exc:
        raise FetchFailure(FETCH_BAD_ENCODING, str(exc)) from None
    except LayerTooLarge:  # an inner layer past the limit: the body would be too
        return (b"".join(parts) if truncate else None), limit + 1
    return b"".join(parts), received


async def aiter_of(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
