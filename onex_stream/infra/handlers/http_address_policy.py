"""Which hosts and addresses the http handler may reach (SSRF policy), checked per connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

from onex_stream.core import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 forms that carry an IPv4 address in their last 32 bits. The translated ones reach
# that IPv4 host and are judged by it alone. The others must pass the IPv6 rules too: they
# lie in the reserved ::/8, so only an allowed_hosts entry opens them.
_TRANSLATED = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # SIIT IPv4-translated
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052)
    )
)
_LAST_32_BITS = (
    *_TRANSLATED,
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
)


class HostPolicy:
    """Which hosts and addresses may be reached; checked on every new connection.

    Without ``allowed_hosts`` any host with only public addresses is allowed. With it, the
    host must match an entry (exact name, ``*.suffix``) or all its addresses a CIDR entry.
    Non-public addresses (see ``is_public``) are reachable only through an exact host name
    or a CIDR entry, never through a wildcard.
    """

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        entries = tuple(allowed_hosts)
        self._networks = [net for net in map(parse_network, entries) if net is not None]
        names = [e for e in entries if parse_network(e) is None]
        self._names = {e for e in names if not e.startswith("*.")}
        self._suffixes = tuple(e[1:] for e in names if e.startswith("*."))
        self._restricted = bool(entries)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host`` (a name or an IP literal) once; its addresses, in the resolver's
        order, if every one of them is allowed (else OPERATION_NOT_ALLOWED)."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        for address in addresses:
            self.check(host.lower(), address)
        return addresses

    def check(self, host: str, address: IPAddress) -> None:
        """Raise errors.OperationNotAllowedError unless ``host`` may be reached at ``address``."""
        if host in self._names or any(address in net for net in self._networks):
            return
        if not is_public(address):
            raise refused(f"host '{host}' resolves to a non-public address", host)
        if self._restricted and not host.endswith(self._suffixes):
            raise refused(f"host '{host}' is not in allowed_hosts", host)


def is_public(address: IPAddress) -> bool:
    """True for globally routable unicast addresses whose every embedded IPv4 is one too.

    Loopback, private, link-local, CGNAT, reserved, multicast and unspecified addresses are
    not public, nor is an IPv6 form embedding one (see ``embedded_ipv4``).
    """
    if isinstance(address, ipaddress.IPv4Address):
        return _routable(address)
    translated = any(address in net for net in _TRANSLATED)
    if not translated and (address.is_site_local or not _routable(address)):
        return False
    return all(map(is_public, embedded_ipv4(address)))


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses inside ``address``: mapped, SIIT, compatible, NAT64 (RFC 6052 and
    8215 local-use, last 32 bits), 6to4 (bits 16-48) and Teredo (server and client)."""
    found = [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)] if _last_32(address) else []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def parse_network(entry: str) -> Network | None:
    """``entry`` as a CIDR network (a bare address is a /32 or /128), else None."""
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


def refused(message: str, host: str) -> errors.OperationNotAllowedError:
    """The OPERATION_NOT_ALLOWED error for ``host`` (its details name the host only)."""
    return errors.OperationNotAllowedError(message, details={"host": host})


def _last_32(address: ipaddress.IPv6Address) -> bool:
    return any(address in net for net in _LAST_32_BITS)


def _routable(address: IPAddress) -> bool:
    return address.is_global and not (address.is_multicast or address.is_reserved)
