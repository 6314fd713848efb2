"""Credential headers never follow a redirect to another origin (two real loopback servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.infra.handlers.http import HttpHandler
from tests.infra.handlers.conftest import WebServer, command
from tests.support.canary import CANARY

Start = Callable[..., Awaitable[Any]]
LOOPBACK = {"allowed_hosts": ["127.0.0.1"]}
CREDENTIALS = {
    "Authorization": f"Bearer {CANARY}",  # the session's secret canary
    "Proxy-Authorization": "Basic planted-proxy-77aa",
    "Cookie": "sid=planted-cookie-0b3c",
    "X-Api-Token": "planted-api-token-a9f2",
    "X-Api-Key": "planted-api-key-c4d8",
    "X-Session-Id": "planted-session-19be",
    "X-Client-Secret": "planted-secret-6f03",
    "X-Auth-User": "planted-auth-user-2d71",
    "X-Db-Password": "planted-password-8e45",
    "X-Credential": "planted-credential-3a90",
}
PLAIN = {"X-Trace": "t-1", "Accept": "application/json"}


@pytest.fixture
async def origin_b() -> AsyncIterator[WebServer]:
    """A second real server on 127.0.0.1 (another port, so another origin) that records
    every request and, given ``?to=``, redirects there."""
    app = web.Application()
    test_server = TestServer(app, host="127.0.0.1")
    server = WebServer(base="", port=0)

    async def record(request: web.Request) -> web.Response:
        server.seen.append(request)
        if "to" in request.query:
            raise web.HTTPFound(request.query["to"])
        return web.json_response({"at": "b"})

    app.router.add_route("*", "/{tail:.*}", record)
    await test_server.start_server(access_log=None)
    server.port = test_server.port or 0
    server.base = f"http://127.0.0.1:{server.port}"
    yield server
    await test_server.close()


@pytest.fixture
async def http(started: Start) -> HttpHandler:
    """An http handler allowed to reach 127.0.0.1 only."""
    handler: HttpHandler = await started(HttpHandler(), **LOOPBACK)
    return handler


async def get(handler: HttpHandler, url: str, to: str) -> dict[str, Any]:
    payload = {"url": url, "params": {"to": to}, "headers": {**CREDENTIALS, **PLAIN}}
    result = await handler.execute(command("http.get", payload))
    assert result is not None
    return result


async def test_a_cross_origin_redirect_drops_every_credential_header(
    http: HttpHandler, web_server: WebServer, origin_b: WebServer
) -> None:
    result = await get(http, web_server.url("/redirect"), origin_b.url("/landing"))
    assert result["body"] == {"at": "b"}
    (arrived,) = origin_b.seen
    assert arrived.headers["Host"] == f"127.0.0.1:{origin_b.port}"
    assert not any(name in arrived.headers for name in CREDENTIALS)
    assert not any(secret in str(dict(arrived.headers)) for secret in CREDENTIALS.values())
    assert {name: arrived.headers.get(name) for name in PLAIN} == PLAIN
    sent = web_server.seen[0].headers  # the first origin got them all
    assert {name: sent.get(name) for name in CREDENTIALS} == CREDENTIALS


async def test_a_same_origin_redirect_keeps_the_credential_headers(
    http: HttpHandler, web_server: WebServer
) -> None:
    result = await get(http, web_server.url("/redirect"), web_server.url("/echo"))
    assert result["body"]["x_trace"] == "t-1"
    assert web_server.paths() == ["/redirect", "/echo"]
    arrived = web_server.seen[1].headers
    kept = {name: arrived.get(name) for name in CREDENTIALS if name != "Cookie"}
    assert kept == {name: v for name, v in CREDENTIALS.items() if name != "Cookie"}
    assert "Cookie" not in arrived  # httpx rebuilds Cookie from its (always empty) jar


async def test_a_credential_header_dropped_once_does_not_come_back_to_the_first_origin(
    http: HttpHandler, web_server: WebServer, origin_b: WebServer
) -> None:
    back = web_server.url("/echo")
    result = await get(http, web_server.url("/redirect"), origin_b.url(f"/bounce?to={back}"))
    assert result["body"]["x_trace"] == "t-1"
    assert web_server.paths() == ["/redirect", "/echo"]
    for arrived in (origin_b.seen[0].headers, web_server.seen[1].headers):
        assert not any(name in arrived for name in CREDENTIALS)
