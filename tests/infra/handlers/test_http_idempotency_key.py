"""The http handler sends the command's envelope_id as an idempotency key (real server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.infra.handlers.http import HttpHandler
from tests.infra.handlers.conftest import WebServer, command

Start = Callable[..., Awaitable[Any]]
LOOPBACK = {"allowed_hosts": ["127.0.0.1"]}


async def test_the_envelope_id_arrives_as_idempotency_key_on_every_hop(
    started: Start, web_server: WebServer
) -> None:
    http: HttpHandler = await started(HttpHandler(), **LOOPBACK)
    envelope = command("http.get", {"url": web_server.url("/hops/1")})
    await http.execute(envelope)
    keys = [request.headers.get("Idempotency-Key") for request in web_server.seen]
    assert keys == [str(envelope.envelope_id)] * 2  # the request and its redirect


async def test_the_header_name_is_configurable_and_null_sends_none(
    started: Start, web_server: WebServer
) -> None:
    named: HttpHandler = await started(HttpHandler(), idempotency_header="X-Request-Id", **LOOPBACK)
    envelope = command("http.put", {"url": web_server.url("/echo")})
    await named.execute(envelope)
    off: HttpHandler = await started(HttpHandler(), idempotency_header=None, **LOOPBACK)
    await off.execute(command("http.put", {"url": web_server.url("/echo")}))
    first, second = web_server.seen
    assert first.headers.get("X-Request-Id") == str(envelope.envelope_id)
    assert "Idempotency-Key" not in first.headers
    assert "Idempotency-Key" not in second.headers and "X-Request-Id" not in second.headers


async def test_a_key_the_payload_sets_itself_is_kept(started: Start, web_server: WebServer) -> None:
    http: HttpHandler = await started(HttpHandler(), **LOOPBACK)
    headers = {"Idempotency-Key": "order-17"}
    await http.execute(command("http.post", {"url": web_server.url("/echo"), "headers": headers}))
    assert web_server.seen[0].headers.getall("Idempotency-Key") == ["order-17"]


async def test_a_header_name_that_is_not_a_token_is_refused(started: Start) -> None:
    with pytest.raises(HandlerConfigurationError, match="idempotency_header"):
        await started(HttpHandler(), idempotency_header="Bad Name: x", **LOOPBACK)
