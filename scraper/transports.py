"""What sits under httpx: the network transport with its address guard, and the adapter
that lets the async engine use a synchronous transport (an httpx.MockTransport in tests).

The guard works where the connection is made: every new TCP connection (the first request
to a host, every redirect to another host, robots.txt) resolves the host name with
`loop.getaddrinfo`, refuses it if any address is loopback, private, link-local, multicast,
reserved or unspecified (unless `FetchConfig.allow_private`), and then connects to the
addresses it checked, so a second DNS answer cannot slip another address in. TLS still
verifies the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from .errors import FetchFailure

if TYPE_CHECKING:
    from .fetch import FetchConfig

ALLOW_PRIVATE_HINT = "use --allow-private to allow"


def refused_kind(address: str) -> str | None:
    """Why an IP address is not fetched by default ("loopback", "private", ...), or None
    for a public address. An address that cannot be parsed is refused as "unrecognised"."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return "unrecognised"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),  # also documentation and benchmark ranges
        ("non-public", not ip.is_global),  # e.g. 100.64.0.0/10, carrier-grade NAT
    )
    return next((kind for kind, hit in checks if hit), None)


class PrivateAddress(FetchFailure):
    """A host that resolves to an address we do not fetch from by default."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        article = "an" if kind[0] in "aeiou" else "a"
        if host == address:
            what = f"{address} is {article} {kind} address"
        else:
            what = f"{host} resolves to {address}, {article} {kind} address"
        super().__init__("fetch.private_address", f"refused: {what} ({ALLOW_PRIVATE_HINT})")


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
