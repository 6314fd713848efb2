"""The SSRF address policy: IPv6 forms embedding IPv4, against a real loopback server."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import OperationNotAllowedError
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.http_address_policy import HostPolicy, embedded_ipv4, is_public
from tests.infra.handlers.conftest import FakeDns, WebServer, command

Start = Callable[..., Awaitable[Any]]

# (IPv6 address, the IPv4 addresses it embeds); every one embeds a non-public IPv4.
EMBEDDING_NON_PUBLIC = [
    ("::127.0.0.1", ["127.0.0.1"]),  # IPv4-compatible ::/96
    ("::10.0.0.1", ["10.0.0.1"]),
    ("64:ff9b::127.0.0.1", ["127.0.0.1"]),  # NAT64 well-known prefix 64:ff9b::/96
    ("64:ff9b::a9fe:a9fe", ["169.254.169.254"]),  # ... to the cloud metadata address
    ("64:ff9b::6440:1", ["100.64.0.1"]),  # ... to CGNAT
    ("64:ff9b:1::7f00:1", ["127.0.0.1"]),  # local-use NAT64 64:ff9b:1::/48
    ("64:ff9b:1:ab::c0a8:101", ["192.168.1.1"]),
    ("2002:7f00:1::", ["127.0.0.1"]),  # 6to4 2002::/16, IPv4 in bits 16-48
    ("2002:c0a8:101::1", ["192.168.1.1"]),
    ("2002:e000:1::", ["224.0.0.1"]),  # ... multicast
    ("2001:0:808:808::80ff:fffe", ["8.8.8.8", "127.0.0.1"]),  # Teredo: private client
    ("2001:0:a00:1::f7f7:f7f7", ["10.0.0.1", "8.8.8.8"]),  # Teredo: private server
    ("::ffff:0:7f00:1", ["127.0.0.1"]),  # SIIT ::ffff:0:0:0/96
    ("::ffff:0:ac10:1", ["172.16.0.1"]),
    ("::ffff:127.0.0.1", ["127.0.0.1"]),  # IPv4-mapped ::ffff:0:0/96
    ("::ffff:0.0.0.0", ["0.0.0.0"]),
    ("::ffff:240.0.0.1", ["240.0.0.1"]),  # reserved
]


@pytest.mark.parametrize(("address", "embedded"), EMBEDDING_NON_PUBLIC)
def test_an_ipv6_form_embedding_a_non_public_ipv4_is_not_public(
    address: str, embedded: list[str]
) -> None:
    ip = ipaddress.IPv6Address(address)
    assert embedded_ipv4(ip) == [ipaddress.IPv4Address(v4) for v4 in embedded]
    assert not is_public(ip)
    with pytest.raises(OperationNotAllowedError, match="non-public") as raised:
        HostPolicy([]).check("anything.example", ip)
    assert raised.value.details == {"host": "anything.example"}


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2001:4860:4860::8888", []),  # native IPv6 embeds nothing
        ("2606:4700:4700::1111", []),
        ("64:ff9b::808:808", ["8.8.8.8"]),  # DNS64/NAT64 to a public IPv4 still works
        ("2002:808:808::1", ["8.8.8.8"]),
        ("::ffff:0:808:808", ["8.8.8.8"]),
        ("::ffff:8.8.8.8", ["8.8.8.8"]),
    ],
)
def test_a_public_address_or_a_form_embedding_a_public_ipv4_is_allowed_by_rule(
    address: str, embedded: list[str] | None
) -> None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        assert embedded_ipv4(ip) == [ipaddress.IPv4Address(v4) for v4 in embedded or []]
    assert is_public(ip)
    HostPolicy([]).check("anything.example", ip)


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # CGNAT
        "192.0.0.1",  # IETF protocol assignments
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::8.8.8.8",  # IPv4-compatible is deprecated: refused even to a public IPv4
        "64:ff9b:1::808:808",  # local-use NAT64 is not globally reachable
        "fec0::1",  # site-local (deprecated)
        "ff0e::1",  # global-scope multicast
        "2001:db8::1",  # documentation
    ],
)
def test_reserved_and_special_purpose_ranges_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("entries", "host", "address"),
    [
        (["::127.0.0.1"], "::127.0.0.1", "::127.0.0.1"),  # CIDR /128
        (["64:ff9b::/96"], "nat64.internal", "64:ff9b::a00:5"),  # CIDR
        (["2002:7f00:1::/48"], "2002:7f00:1::", "2002:7f00:1::"),
        (["db.internal"], "db.internal", "64:ff9b::a00:5"),  # exact name
        (["db.internal"], "db.internal", "::ffff:0:a00:5"),
    ],
)
def test_an_allowed_hosts_entry_still_opens_an_embedded_non_public_address(
    entries: list[str], host: str, address: str
) -> None:
    HostPolicy(entries).check(host, ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::", "::ffff:0:7f00:1"])
def test_a_wildcard_entry_never_opens_an_embedded_non_public_address(address: str) -> None:
    with pytest.raises(OperationNotAllowedError, match="non-public"):
        HostPolicy(["*.example.com"]).check("evil.example.com", ipaddress.ip_address(address))


@pytest.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Addresses the guarded transport handed to the real socket layer, in order (every
    outgoing connection of this test's event loop goes through ``loop.sock_connect``)."""
    attempts: list[str] = []
    loop = asyncio.get_running_loop()
    real = loop.sock_connect

    async def counted(sock: socket.socket, address: Any) -> None:
        attempts.append(address[0])
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", counted)
    return attempts


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",
        "[64:ff9b::127.0.0.1]",
        "[64:ff9b:1::7f00:1]",
        "[2002:7f00:1::]",
        "[2001:0:808:808::80ff:fffe]",
        "[::ffff:0:7f00:1]",
        "[::ffff:127.0.0.1]",
    ],
)
async def test_a_url_with_an_embedded_loopback_is_refused_before_any_connection(
    started: Start, web_server: WebServer, connects: list[str], host: str
) -> None:
    handler = await started(HttpHandler())
    with pytest.raises(OperationNotAllowedError) as raised:
        await handler.execute(command("http.get", {"url": f"http://{host}:{web_server.port}/"}))
    assert raised.value.code.value == "OPERATION_NOT_ALLOWED"
    assert "non-public" in raised.value.message
    assert (connects, web_server.seen) == ([], [])
    allowed = await started(HttpHandler(), allowed_hosts=["127.0.0.1"])  # the spy works
    await allowed.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert (connects, web_server.paths()) == (["127.0.0.1"], ["/echo"])


@pytest.mark.parametrize("answer", ["64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:0:7f00:1"])
async def test_a_name_resolving_to_an_embedded_loopback_is_refused_despite_a_wildcard(
    started: Start, web_server: WebServer, fake_dns: FakeDns, connects: list[str], answer: str
) -> None:
    fake_dns.answers["rebind.test"] = [answer]
    handler = await started(HttpHandler(), allowed_hosts=["*.test"])
    url = f"http://rebind.test:{web_server.port}/echo"
    with pytest.raises(OperationNotAllowedError, match="non-public"):
        await handler.execute(command("http.get", {"url": url}))
    assert (fake_dns.asked, connects, web_server.seen) == (["rebind.test"], [], [])
