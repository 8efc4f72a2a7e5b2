"""Which addresses the fetcher refuses, and how a URL's host is read as an address.

A URL host that is an IP literal is read the way inet_aton (and so getaddrinfo) reads it,
not the way one HTTP library or another does: "127.1", "2130706433", "0x7f.1" and
"017700000001" all name 127.0.0.1, and are refused as loopback by the fetcher itself
(`check_host`) before any request, whatever the transport. Resolved addresses are judged by
`refused_kind` where the transports resolve them (scraper/transports.py). An IPv6 address
that carries an IPv4 one (v4-mapped, 6to4, Teredo, NAT64, IPv4-compatible) is judged by
the IPv4 address inside.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from records.outcomes import FETCH_BAD_URL, FETCH_PRIVATE_ADDRESS

from .errors import FetchFailure

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# A part of an IPv4 address as inet_aton reads it: decimal, 0x hex or 0-prefixed octal. A
# host whose last label looks like one is an address or no valid host at all (as for the
# WHATWG URL parser): "1.2.3.4.5" and "0x" look like addresses but are none.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0[xX][0-9a-fA-F]*)\Z")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated (RFC 3879), never public
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: a local network's NAT64
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d


@functools.lru_cache(maxsize=4096)  # asked at every hop, for a few hosts again and again
def ip_of_host(host: str) -> IP | None:
    """The address an IP-literal URL host names, or None for a DNS name.

    Reads IPv4 as inet_aton (and so getaddrinfo) does: 1 to 4 dot-separated parts, each
    decimal, 0x hex or 0-prefixed octal, the last filling the remaining bytes ("127.1",
    "2130706433", "0x7f.1", "017700000001" are all 127.0.0.1), and a trailing dot. IPv6 with
    or without brackets, a zone id ("%eth0") ignored. Raises ValueError for a host that
    looks like an address but is none ("1.2.3.4.5", "0x", "1.2.3.256", "[::1::]").
    """
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError as exc:
            raise ValueError(f"{host!r} is not an IP address ({exc})") from None
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None  # a DNS name: no top-level domain is a number
    if len(labels) > 4:
        raise ValueError(f"{host!r} is not an IP address (more than 4 parts)")
    try:
        numbers = [_number(label) for label in labels]
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host!r} is not an IP address (a part is out of range)")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(label: str) -> int:
    if not _NUMERIC_LABEL.match(label):  # int() would also take "+1", " 1", "1_0", "١"
        raise ValueError(label)
    if label[:2].lower() == "0x":
        return int(label[2:], 16)  # "0x" alone: ValueError
    return int(label, 8 if len(label) > 1 and label[0] == "0" else 10)  # "08": ValueError


def refused_kind(address: str) -> str | None:
    """Why an address (in any form `ip_of_host` reads) is not fetched by default
    ("loopback", "6to4 loopback", ...), or None if public; no address: "unrecognised".

    An IPv6 address that carries an IPv4 one is judged by it: IPv4-mapped, 6to4, Teredo
    (server and client), NAT64 and IPv4-compatible (always "reserved" at least).
    """
    try:
        ip = ip_of_host(address)
    except ValueError:
        ip = None
    if ip is None:
        return "unrecognised"
    return _kind(ip)


def _kind(ip: IP) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _kind(ip.ipv4_mapped)  # ::ffff:127.0.0.1 is 127.0.0.1
        wrapped = _wrapped(ip)
        if wrapped is not None:
            form, inner = wrapped
            kinds = [k for k in map(_kind, inner) if k is not None]
            if kinds:
                return f"{form} {kinds[0]}"
            return "reserved" if form == "IPv4-compatible" else None
        if ip in _SITE_LOCAL:
            return "site-local"
        if ip in _LOCAL_NAT64:
            return "non-public"
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


def _wrapped(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """(form, the IPv4 addresses inside) for an IPv6 address that tunnels to IPv4."""
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        return "Teredo", list(ip.teredo)
    if ip in _NAT64:
        return "NAT64", [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _V4_COMPATIBLE and int(ip) > 1:  # not :: or ::1
        return "IPv4-compatible", [ipaddress.IPv4Address(int(ip))]
    return None


def check_host(host: str, allow_private: bool) -> None:
    """Refuse an IP-literal host before anything is sent to it: a host that looks like an
    address but is none (fetch.bad_url), or a refused address unless `allow_private`
    (PrivateAddress). A DNS name passes: it is checked where it is resolved."""
    try:
        ip = ip_of_host(host)
    except ValueError as exc:
        raise FetchFailure(FETCH_BAD_URL, f"invalid URL host: {exc}") from None
    if ip is None or allow_private:
        return
    kind = _kind(ip)
    if kind is not None:
        raise PrivateAddress(host, str(ip), kind)


class PrivateAddress(FetchFailure):
    """A host that resolves to an address we do not fetch from by default."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        article = "an" if kind[0] in "aeiouAEIOU" else "a"
        if host.strip("[]").split("%", 1)[0] == address:
            what = f"{address} is {article} {kind} address"
        else:
            what = f"{host} resolves to {address}, {article} {kind} address"
        super().__init__(FETCH_PRIVATE_ADDRESS, f"refused: {what}")
