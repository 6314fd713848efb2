"""GuardedTransport: httpx's public transport API over the SSRF-guarded aiohttp pool."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.errors import (
    HandlerExecutionError,
    HandlerTimeoutError,
    OperationNotAllowedError,
)
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.http_address_policy import HostPolicy
from onex_stream.infra.handlers.http_transport import GuardedConnector, GuardedTransport
from tests.infra.handlers.conftest import FakeDns, WebServer, command

Start = Callable[..., Awaitable[Any]]
LOOPBACK = {"allowed_hosts": ["127.0.0.1"]}


@pytest.fixture
async def client() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """httpx clients on a GuardedTransport for given allowed_hosts; closed afterwards."""
    clients: list[httpx.AsyncClient] = []

    def make(*allowed: str, timeout: float = 5.0) -> httpx.AsyncClient:
        transport = GuardedTransport(HostPolicy(allowed), max_connections=4)
        clients.append(httpx.AsyncClient(transport=transport, timeout=timeout))
        return clients[-1]

    yield make
    for each in clients:
        await each.aclose()


async def test_an_allowed_host_is_reached_through_the_public_transport_api(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer
) -> None:
    response = await client("127.0.0.1").post(web_server.url("/echo"), json={"a": 1})
    assert response.status_code == 200
    assert response.json()["body"] == '{"a":1}'
    assert response.headers["x-server"] == "aiohttp-test"
    assert (response.http_version, response.reason_phrase) == ("HTTP/1.1", "OK")


async def test_a_non_public_address_is_refused_before_any_connection(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer
) -> None:
    with pytest.raises(OperationNotAllowedError, match="non-public address"):
        await client().get(web_server.url("/echo"))
    assert web_server.seen == []


async def test_aiohttp_errors_become_httpx_errors(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer, closed_port: int
) -> None:
    with pytest.raises(httpx.ConnectError) as refused:
        await client("127.0.0.1").get(f"http://127.0.0.1:{closed_port}/")
    assert isinstance(refused.value.__cause__, aiohttp.ClientConnectorError)
    assert refused.value.request.url.port == closed_port
    with pytest.raises(httpx.ReadTimeout):  # raised while the body is read
        await client("127.0.0.1", timeout=0.2).get(web_server.url("/stall-body"))


async def test_the_connect_timeout_is_connect_timeout_ms_and_is_reported_as_such(
    started: Start, web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()

    async def never_connects(sock: socket.socket, address: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(loop, "sock_connect", never_connects)
    handler = await started(HttpHandler(), timeout_ms=5000, connect_timeout_ms=200, **LOOPBACK)
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError, match="could not connect within 200 ms") as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert 0.2 <= time.monotonic() - began < 1.0
    assert raised.value.details == {"connect_timeout_ms": 200}


Failed, TimedOut = HandlerExecutionError, HandlerTimeoutError


@pytest.mark.parametrize(
    ("phase", "raised", "expected", "details"),
    [
        ("connect", aiohttp.ConnectionTimeoutError("planted"), TimedOut, None),
        ("connect", ConnectionResetError(104, "planted"), Failed, "NetworkError"),
        ("connect", aiohttp.ServerDisconnectedError(), Failed, "RemoteProtocolError"),
        ("connect", aiohttp.InvalidURL("planted"), Failed, "UnsupportedProtocol"),
        ("read", aiohttp.SocketTimeoutError("planted"), TimedOut, {"timeout_ms": 5000}),
        ("read", aiohttp.ClientPayloadError("planted"), Failed, "RemoteProtocolError"),
        ("read", aiohttp.ClientConnectionResetError("planted"), Failed, "NetworkError"),
        ("read", aiohttp.ClientError("planted"), Failed, "TransportError"),
        ("read", ConnectionResetError(104, "planted"), Failed, "ConnectionResetError"),
    ],
)
async def test_every_backend_error_becomes_a_handler_error(
    started: Start,
    web_server: WebServer,
    monkeypatch: pytest.MonkeyPatch,
    phase: str,
    raised: Exception,
    expected: type[Exception],
    details: Any,
) -> None:
    """Planted in aiohttp's pool (connect) or body reads (read): never an aiohttp error."""

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise raised

    if phase == "connect":
        monkeypatch.setattr(GuardedConnector, "connect", failing)
    else:
        monkeypatch.setattr(aiohttp.StreamReader, "readany", failing)
    handler = await started(HttpHandler(), timeout_ms=5000, **LOOPBACK)
    with pytest.raises(expected) as caught:
        await handler.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert type(caught.value) is expected
    if isinstance(details, str):
        assert caught.value.details == {"error": details}  # type: ignore[attr-defined]
    elif details is not None:
        assert caught.value.details == details  # type: ignore[attr-defined]


async def test_every_new_connection_resolves_and_checks_again(
    started: Start, web_server: WebServer, fake_dns: FakeDns
) -> None:
    """No DNS cache: a second connection to the same host while the first is busy asks
    again, and an answer the policy refuses is never connected."""
    fake_dns.answers["rebind.test"] = ["127.0.0.1"]
    handler = await started(HttpHandler(), allowed_hosts=["*.test", "127.0.0.1/32"])
    base = f"http://rebind.test:{web_server.port}"
    held = asyncio.create_task(handler.execute(command("http.get", {"url": f"{base}/stall"})))
    for _ in range(500):  # until the server holds it
        if web_server.seen:
            break
        await asyncio.sleep(0.01)
    fake_dns.answers["rebind.test"] = ["127.0.0.2"]  # not in the CIDR entry, not public
    with pytest.raises(OperationNotAllowedError, match="non-public"):
        await handler.execute(command("http.get", {"url": f"{base}/echo"}))
    assert fake_dns.asked == ["rebind.test", "rebind.test"]
    web_server.release.set()
    result = await held
    assert result["body"] == {"late": True}
    assert web_server.paths() == ["/stall"]


async def test_a_kept_alive_connection_is_reused_without_a_new_lookup(
    started: Start, web_server: WebServer, fake_dns: FakeDns
) -> None:
    fake_dns.answers["api.test"] = ["127.0.0.1"]
    handler = await started(HttpHandler(), allowed_hosts=["api.test"])
    url = f"http://api.test:{web_server.port}/echo"
    for _ in range(3):
        await handler.execute(command("http.get", {"url": url}))
    assert (fake_dns.asked, web_server.paths()) == (["api.test"], ["/echo"] * 3)
    ports = {request.transport.get_extra_info("peername")[1] for request in web_server.seen}  # type: ignore[union-attr]
    assert len(ports) == 1


async def test_the_request_goes_where_httpx_parsed_it(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer
) -> None:
    """The URL is handed over as httpx parsed and encoded it (no second parse): the path and
    query arrive byte for byte, userinfo never goes on the wire as a URL part."""
    url = f"http://user:pw@127.0.0.1:{web_server.port}/echo?q=a%20b&r=%2F"
    response = await client("127.0.0.1").get(url)
    assert response.json()["query"] == {"q": "a b", "r": "/"}
    (seen,) = web_server.seen
    assert seen.raw_path == "/echo?q=a%20b&r=%2F"
    assert seen.headers["Authorization"] == "Basic dXNlcjpwdw=="  # httpx's auth from userinfo


@pytest.fixture
async def announced() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A server whose ``/short`` announces a 100-byte body and stalls after 10 bytes, and
    whose ``/full`` sends its 100 announced bytes (bodies read with the headers)."""
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.content_length = 100
        await response.prepare(request)
        await response.write(b"x" * (10 if request.path == "/short" else 100))
        if request.path == "/short":
            await release.wait()
        return response

    app = web.Application()
    app.router.add_get("/{path}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    yield f"http://127.0.0.1:{server.port}", release
    release.set()
    await server.close()


async def test_a_short_announced_body_is_read_with_the_headers_under_the_same_rules(
    client: Callable[..., httpx.AsyncClient],
    started: Start,
    announced: tuple[str, asyncio.Event],
) -> None:
    base, _ = announced
    response = await client("127.0.0.1", timeout=0.2).get(f"{base}/full")
    assert (response.status_code, response.text) == (200, "x" * 100)
    with pytest.raises(httpx.ReadTimeout):  # stalled within an announced body
        await client("127.0.0.1", timeout=0.2).get(f"{base}/short")
    capped = await started(HttpHandler(), max_response_bytes=99, **LOOPBACK)
    with pytest.raises(HandlerExecutionError, match="max_response_bytes") as raised:
        await capped.execute(command("http.get", {"url": f"{base}/full"}))
    assert raised.value.details == {"max_response_bytes": 99, "status_code": 200}
    exact = await started(HttpHandler(), max_response_bytes=100, **LOOPBACK)
    assert (await exact.execute(command("http.get", {"url": f"{base}/full"})))["body"] == "x" * 100


async def test_a_header_aiohttp_refuses_to_send_is_a_local_protocol_error(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer
) -> None:
    with pytest.raises(httpx.LocalProtocolError):
        await client("127.0.0.1").get(web_server.url("/echo"), headers={"X-A": "a\r\nB: 1"})
    assert web_server.seen == []
    response = await client("127.0.0.1").get(web_server.url("/echo"), headers={"X-Trace": "t"})
    assert response.json()["x_trace"] == "t"
    assert (b"X-Trace", b"t") in web_server.seen[0].raw_headers  # sent as given, case kept
