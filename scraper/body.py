"""Reading a response's body: decoded from its Content-Encoding in bounded steps
(scraper/content.py), no further than a size limit, within the attempt's time budget; a
page's type, size and charset checked on the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from records import Page

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

T = TypeVar("T")
# Bodies bigger than this have their charset detected in a worker thread.
DETECT_INLINE_BYTES = 256 * 1024


@dataclass
class Budget:
    """The total timeout of one attempt, as a loop-time deadline."""

    total: float
    deadline: float

    def remaining(self, phase: str) -> float:
        remaining = self.deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise FetchFailure(
                "fetch.timeout",
                f"timed out after {self.total} s in total ({phase})",
                retryable=True,
            )
        return remaining


async def read_page(response: httpx.Response, page: Page, budget: Budget,
                    config: FetchConfig) -> None:
    """A page's body into `page`: its type accepted, its size bounded, its charset detected."""
    if page.content_type is not None and page.content_type not in ACCEPTED_TYPES:
        raise FetchFailure(
            "fetch.content_type", f"unsupported content type {page.content_type}"
        )
    max_bytes = config.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailure(
            "fetch.too_large",
            f"response larger than {max_bytes} bytes (Content-Length: {declared})",
        )
    body, received = await read_body(response, budget, max_bytes, config)
    page.bytes = received
    if body is None:
        raise FetchFailure("fetch.too_large", f"response larger than {max_bytes} bytes")

    if page.content_type is None:
        if not looks_like_html(body):
            raise FetchFailure(
                "fetch.content_type", "no content type, and the body does not look like HTML"
            )
        page.content_type = HTML
    refuse_binary(body)
    page.body = body
    header = response.headers.get("content-type")
    if len(body) > DETECT_INLINE_BYTES:  # charset detection can take a while: not here
        page.encoding = await asyncio.to_thread(detect_encoding, body, header)
    else:
        page.encoding = detect_encoding(body, header)

async def read_document(response: httpx.Response, page: Page, budget: Budget,
                        config: FetchConfig) -> None:
    """A sitemap's or a feed's body into `page`, its size bounded."""
    body, received = await read_body(response, budget, config.max_bytes, config)
    page.bytes = received
    if body is None:
        raise FetchFailure("fetch.too_large",
                           f"response larger than {config.max_bytes} bytes")
    page.body = body

async def read_robots(response: httpx.Response, page: Page, budget: Budget,
                      config: FetchConfig) -> None:
    """robots.txt's body into `page`, cut at MAX_ROBOTS_BYTES (RFC 9309 asks to read that much)."""
    body, received = await read_body(response, budget, MAX_ROBOTS_BYTES, config, truncate=True)
    page.body, page.bytes = body or b"", received

async def read_body(
    response: httpx.Response, budget: Budget, limit: int, config: FetchConfig,
    truncate: bool = False,
) -> tuple[bytes | None, int]:
    """(body, bytes received), reading and decompressing no further than `limit`.

    Past the limit the body is None, or with `truncate` its first `limit` bytes.
    """
    consumed = response.is_stream_consumed  # a MockTransport response of bytes: httpx
    # decoded it when the transport built it
    try:
        decoder = ContentDecoder(
            None if consumed else response.headers.get("content-encoding"), limit)
    except BadEncoding as exc:
        raise FetchFailure("fetch.bad_encoding", str(exc)) from None
    chunks = aiter_of([response.content]) if consumed else response.aiter_raw()
    parts: list[bytes] = []
    received = 0
    try:
        async for chunk in chunks:
            for part in decoder.feed(chunk) if decoder.codings else (chunk,):
                received += len(part)
                if received > limit:  # stop right here: nothing more read or decoded
                    if not truncate:
                        return None, received
                    parts.append(part[: len(part) - (received - limit)])
                    return b"".join(parts), received
                parts.append(part)
            if decoder.finished:
                break
            budget.remaining("reading the response")
        else:
            decoder.end()
    except httpx.HTTPError as exc:
        raise translate(exc, response.request, config) from None
    except BadEncoding as exc:
        raise FetchFailure("fetch.bad_encoding", str(exc)) from None
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
