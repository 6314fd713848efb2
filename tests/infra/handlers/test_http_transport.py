"""GuardedTransport: httpx's public transport API over the SSRF-guarded httpcore pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpcore
import httpx
import pytest

from onex_stream.core.errors import HandlerTimeoutError, OperationNotAllowedError
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.http_address_policy import HostPolicy
from onex_stream.infra.handlers.http_transport import GuardedTransport
from tests.infra.handlers.conftest import WebServer, command

Start = Callable[..., Awaitable[Any]]


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


async def test_a_non_public_address_is_refused_before_any_connection(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer
) -> None:
    with pytest.raises(OperationNotAllowedError, match="non-public address"):
        await client().get(web_server.url("/echo"))
    assert web_server.seen == []


async def test_httpcore_errors_become_httpx_errors(
    client: Callable[..., httpx.AsyncClient], web_server: WebServer, closed_port: int
) -> None:
    with pytest.raises(httpx.ConnectError) as refused:
        await client("127.0.0.1").get(f"http://127.0.0.1:{closed_port}/")
    assert isinstance(refused.value.__cause__, httpcore.ConnectError)
    assert refused.value.request.url.port == closed_port
    with pytest.raises(httpx.ReadTimeout):  # raised while the body is read
        await client("127.0.0.1", timeout=0.2).get(web_server.url("/stall-body"))


async def test_the_connect_timeout_is_connect_timeout_ms_and_is_reported_as_such(
    started: Start, web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    budgets: list[float | None] = []

    async def connect_tcp(
        self: httpcore.AnyIOBackend, host: str, port: int, **options: Any
    ) -> httpcore.AsyncNetworkStream:
        budgets.append(options["timeout"])
        raise httpcore.ConnectTimeout("planted")

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    handler = await started(
        HttpHandler(), timeout_ms=5000, connect_timeout_ms=200, allowed_hosts=["127.0.0.1"]
    )
    with pytest.raises(HandlerTimeoutError, match="could not connect within 200 ms") as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert raised.value.details == {"connect_timeout_ms": 200}
    assert budgets == [0.2]
