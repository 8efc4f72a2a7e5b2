"""What sits under httpx: the network transports with their address guard, and the adapter
that lets the async engine use a synchronous transport (an httpx.MockTransport in tests).

Two network transports, chosen by `FetchConfig.transport` (see `network_transport`):

  "aiohttp"  (the default) httpx_aiohttp's AiohttpTransport over an aiohttp session we build:
             `GuardedResolver` checks what DNS answers, IP-literal hosts are checked before
             the request is made, aiohttp errors become the httpx errors the fetcher expects.
             Several times the pages per CPU second of the httpcore one (bench/fetch.py).
  "httpcore" httpx's own transport with `AddressGuard` as httpcore's network backend.

The guard works where the connection is made: every new TCP connection (the first request
to a host, every redirect to another host, robots.txt) resolves the host name with
`loop.getaddrinfo`, refuses it if any address is loopback, private, link-local, multicast,
reserved or unspecified, or an IPv6 address wrapping such an IPv4 one (`refused_kind`),
unless `FetchConfig.allow_private`, and then connects to the addresses it checked, so a
second DNS answer cannot slip another address in. TLS still verifies the certificate
against the host name. An IP-literal host is read as inet_aton reads it ("127.1" is
127.0.0.1) and checked before any request (`check_host`), whatever the HTTP library.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.streams import EofStream
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import (
    AIOHTTP_EXC_MAP,
    AiohttpResponseStream,
    map_aiohttp_exceptions,
)

from .addresses import PrivateAddress, check_host, refused_kind

if TYPE_CHECKING:
    from .config import FetchConfig

class AddressGuard(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks, then connects to what it checked."""

    def __init__(self, config: FetchConfig, backend: httpcore.AsyncNetworkBackend | None = None):
        self._config = config  # read at every connection: allow_private applies at once
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
            )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took more than {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self._config.allow_private:
            for address in addresses:
                kind = refused_kind(address)
                if kind is not None:
                    raise PrivateAddress(host, address, kind)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:  # in the resolver's order; the next one if one refuses
            remaining = None if timeout is None else timeout - (loop.time() - started)
            if remaining is not None and remaining <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host} took more than {timeout} s")
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout=remaining, local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - we never configure a socket path
        raise httpcore.ConnectError("unix sockets are not fetched from")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own async transport, with `AddressGuard` as its network backend.

    httpx keeps its connection pool in `_pool` (httpx 0.27 and 0.28, as pinned); we build
    that pool ourselves because only httpcore's pool takes a network backend. Proxies from
    the environment are not used: the guard could not see where a proxy connects.
    """

    def __init__(self, config: FetchConfig) -> None:  # no super().__init__(): it builds a pool
        # The fetcher's own limits (concurrency, per_host) keep us far below these.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=max(100, 2 * config.concurrency),
            max_keepalive_connections=max(20, config.concurrency),
            keepalive_expiry=5.0,
            network_backend=AddressGuard(config),
        )


def network_transport(config: FetchConfig) -> httpx.AsyncBaseTransport:
    """The network transport `config.transport` names, with the address guard."""
    if config.transport == "aiohttp":
        return GuardedAiohttpTransport(config)
    if config.transport == "httpcore":
        return GuardedTransport(config)
    raise ValueError(f"unknown transport {config.transport!r} (use 'aiohttp' or 'httpcore')")


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver (loop.getaddrinfo), refusing what `refused_kind` refuses.

    aiohttp connects only to the addresses the resolver returned, so what is checked here
    is what is connected to. aiohttp does not ask the resolver about IP-literal hosts:
    `GuardedAiohttpTransport` checks those itself.
    """

    def __init__(self, config: FetchConfig) -> None:
        self._config = config  # read at every look-up: allow_private applies at once
        self._resolver: aiohttp.ThreadedResolver | None = None  # made on the running loop

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._resolver is None:
            self._resolver = aiohttp.ThreadedResolver()
        results = await self._resolver.resolve(host, port, family)
        if not self._config.allow_private:
            for result in results:
                kind = refused_kind(result["host"])
                if kind is not None:
                    raise PrivateAddress(host, result["host"], kind)
        return results

    async def close(self) -> None:
        if self._resolver is not None:
            await self._resolver.close()


class GuardedAiohttpTransport(AiohttpTransport):
    """httpx_aiohttp's transport over an aiohttp session of our own: `GuardedResolver` and
    no DNS cache (every new connection is resolved and checked, as with httpcore), no
    transparent decompression (the fetcher inflates in bounded steps), no cookie jar
    (httpx keeps the cookies), no proxies from the environment (the guard could not see
    where a proxy connects). aiohttp's errors become httpx errors (`_httpx_error`).
    """

    def __init__(self, config: FetchConfig) -> None:
        limits = httpx.Limits(  # the fetcher's own limits keep us far below these
            max_connections=max(100, 2 * config.concurrency),
            max_keepalive_connections=max(20, config.concurrency),
            keepalive_expiry=5.0,
        )
        super().__init__(limits=limits, client=self._session)
        self._config = config

    def _session(self) -> aiohttp.ClientSession:  # made at the first request, on its loop
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            limit_per_host=0,  # the scheduler keeps to FetchConfig.per_host
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            resolver=GuardedResolver(self._config),
            use_dns_cache=False,
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent",),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # aiohttp does not resolve an IP literal (no resolver call), and reads some forms
        # ("127.1") its own way: checked here, whatever the aiohttp version.
        check_host(request.url.host, self._config.allow_private)
        # A redirect's request carries the first one's stream, unread: httpx_aiohttp would
        # send it chunked (a stray "0" after a GET). Read it: b"" goes as no body at all.
        await request.aread()
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        # Sent as AiohttpTransport.handle_async_request sends it (no proxy is configured),
        # its response read by `_MappedStream` directly rather than through its stream.
        timeout = request.extensions.get("timeout", {})
        try:
            sent = self.client.request(
                method=request.method,
                url=str(request.url),
                headers=request.headers,
                data=request.content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(sock_connect=timeout.get("connect"),
                                              sock_read=timeout.get("read"),
                                              connect=timeout.get("pool")),
                server_hostname=request.extensions.get("sni_hostname"),
            )
            answer = await sent.__aenter__()
        except aiohttp.ClientError as exc:  # whether or not httpx_aiohttp would map it
            raise _httpx_error(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        headers = httpx.Headers(answer.raw_headers)
        stream = _MappedStream(answer, request, headers)
        extensions[_BODY_CHUNKS] = stream.chunks
        return httpx.Response(status_code=answer.status, headers=headers, stream=stream,
                              request=request, extensions=extensions)


# The response extension under which GuardedAiohttpTransport leaves its body reader.
_BODY_CHUNKS = "scraper.body_chunks"
# What httpx_aiohttp turns into httpx errors; any other aiohttp error passes through as is.
_MAPPED_BY_HTTPX_AIOHTTP: tuple[type[aiohttp.ClientError], ...] = tuple(AIOHTTP_EXC_MAP)


def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The raw body of `response`, as `response.aiter_raw()` gives it. From
    GuardedAiohttpTransport, read straight off aiohttp's stream in one generator (httpx's
    aiter_raw, its bound stream and httpx_aiohttp's stream add a layer each per chunk); the
    response is closed by its owner (`response.aclose()`), as after a read that stops early."""
    chunks = response.extensions.get(_BODY_CHUNKS)
    if chunks is None or response.is_stream_consumed or response.is_closed:
        return response.aiter_raw()  # which raises for a consumed or closed stream
    response.is_stream_consumed = True
    return chunks()  # type: ignore[no-any-return]


class _MappedStream(httpx.AsyncByteStream):
    """An aiohttp response's body as httpx_aiohttp's AiohttpResponseStream gives it, its
    errors httpx errors mapped by `_httpx_error`."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request,
                 headers: httpx.Headers) -> None:
        self._answer, self._request, self._headers = answer, request, headers

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body in aiohttp's reads of at most CHUNK_SIZE bytes (what iter_chunked
        gives AiohttpResponseStream), with its error mapping and ours in one step."""
        content, size = self._answer.content, AiohttpResponseStream.CHUNK_SIZE
        received = 0
        try:
            while chunk := await content.read(size):
                received += len(chunk)
                yield chunk
        except EofStream:  # how aiohttp's own iterators end too
            return
        except _MAPPED_BY_HTTPX_AIOHTTP as exc:
            raise self._mapped(exc, received) from exc

    def _mapped(self, cause: aiohttp.ClientError, received: int) -> httpx.TransportError:
        reset = _reset_in(cause)
        if isinstance(cause, aiohttp.ClientPayloadError) and reset is None:
            length = self._headers.get("content-length")
            expected = f", expected {length}" if length else ""
            return httpx.RemoteProtocolError(  # worded as httpcore words it
                "peer closed connection without sending complete message body "
                f"(received {received} bytes{expected})", request=self._request,
            )
        return _httpx_error(cause, self._request)

    async def aclose(self) -> None:
        with map_aiohttp_exceptions():  # as AiohttpResponseStream closes
            await self._answer.__aexit__(None, None, None)


# aiohttp names the error that broke a connection mid-body only in ClientPayloadError's
# message: "Response payload is not completed: <...>. ConnectionResetError(104, '...')".
_LOST_BY = re.compile(r"\. (\w+Error)\((\d+), '([^']*)'\)$")


def _reset_in(exc: BaseException) -> OSError | None:
    """The ConnectionResetError (or other OSError) that broke the connection under `exc`:
    down its chain, or named in the message of aiohttp's ClientPayloadError."""
    if isinstance(exc, aiohttp.ClientPayloadError):
        lost = _LOST_BY.search(str(exc))
        if lost is not None:
            return OSError(int(lost[2]), lost[3])
    cause: BaseException | None = exc
    for _ in range(6):
        if cause is None:
            return None
        if isinstance(cause, OSError) and not isinstance(cause, aiohttp.ClientError):
            return cause
        if isinstance(cause, aiohttp.ClientOSError) and cause.errno is not None:
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _httpx_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception the httpcore transport would have raised for aiohttp's `exc`."""
    def error(kind: type[httpx.TransportError], message: str) -> httpx.TransportError:
        return kind(message, request=request)

    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # pool wait or connect
        return error(httpx.ConnectTimeout, str(exc) or "timed out connecting")
    if isinstance(exc, aiohttp.ServerTimeoutError):  # SocketTimeoutError: a read
        return error(httpx.ReadTimeout, str(exc) or "timed out reading")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return error(httpx.ConnectError, f"could not resolve {request.url.host}: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, unreachable, TLS
        return error(httpx.ConnectError, str(exc.os_error) or str(exc))
    if isinstance(exc, (aiohttp.NonHttpUrlClientError,)):
        return error(httpx.UnsupportedProtocol, str(exc))
    if isinstance(exc, aiohttp.InvalidURL):
        return error(httpx.UnsupportedProtocol, f"invalid URL: {exc}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return error(httpx.RemoteProtocolError,
                     "Server disconnected without sending a response.")
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed response
        return error(httpx.RemoteProtocolError, exc.message or str(exc))
    reset = _reset_in(exc)
    if reset is not None:  # a reset, a failed read or write
        return error(httpx.ReadError, str(reset))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return error(httpx.RemoteProtocolError, str(exc))
    return error(httpx.NetworkError, str(exc) or type(exc).__name__)


class ThreadedTransport(httpx.AsyncBaseTransport):
    """A synchronous httpx transport run in worker threads, for the async engine.

    Each request, and each chunk of its response, is one call in a thread; a transport
    that blocks (a MockTransport handler that sleeps) never blocks the event loop.
    """

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await asyncio.to_thread(self._transport.handle_request, request)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ThreadedStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await asyncio.to_thread(self._transport.close)


class _ThreadedStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream | Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = iter(self._stream)
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            try:
                await asyncio.to_thread(close)
            except ValueError:  # "generator already executing": a cancelled read in a thread
                pass
