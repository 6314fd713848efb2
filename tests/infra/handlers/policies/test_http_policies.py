"""The policies around a real HttpHandler, against a local aiohttp server that fails on a script."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.errors import CircuitOpenError, HandlerTimeoutError
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.policies import with_policies
from onex_stream.infra.observability.metrics import HostMetrics
from tests.infra.handlers.conftest import command


@dataclass
class ScriptedServer:
    """Answers GET /x with the next status of ``statuses`` (the last repeats); records when."""

    statuses: list[int] = field(default_factory=lambda: [200])
    stall: bool = False
    arrivals: list[float] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def answer(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.monotonic())
        if self.stall:
            await self.release.wait()
        status = self.statuses[min(len(self.arrivals), len(self.statuses)) - 1]
        return web.json_response({"call": len(self.arrivals)}, status=status)


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/x", scripted.answer)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server(access_log=None)
    scripted.url = f"http://127.0.0.1:{test_server.port}/x"
    yield scripted
    scripted.release.set()
    await test_server.close()


@pytest.fixture
async def policed() -> AsyncIterator[Any]:
    """Builds an HttpHandler inside the policies of a config; shuts them all down."""
    handlers: list[HandlerPort] = []

    async def build(**config: Any) -> HandlerPort:
        binding = ModelHandlerBindingConfig.model_validate(
            {"type": "http", "config": {"allowed_hosts": ["127.0.0.1"], **config}}
        )
        handler = with_policies(HttpHandler(), binding, HostMetrics())
        await handler.initialize(binding.config.handler_settings())
        handlers.append(handler)
        return handler

    yield build
    for handler in handlers:
        await handler.shutdown()


RETRY = {"max_retries": 3, "base_delay_ms": 1, "max_delay_ms": 2}


async def test_503_twice_then_200_is_one_answer_after_three_calls(
    server: ScriptedServer, policed: Any
) -> None:
    server.statuses = [503, 503, 200]
    handler = await policed(retry_policy=RETRY)
    result = await handler.execute(command("http.get", {"url": server.url}))
    assert result["status_code"] == 200
    assert result["body"] == {"call": 3}
    assert len(server.arrivals) == 3


async def test_a_failing_server_opens_the_breaker_and_sees_no_calls_while_open(
    server: ScriptedServer, policed: Any
) -> None:
    server.statuses = [503]
    handler = await policed(
        retry_policy={**RETRY, "max_retries": 1},
        circuit_breaker={"failure_threshold": 2, "reset_timeout_ms": 60000},
    )
    get = command("http.get", {"url": server.url})
    for _ in range(2):
        assert (await handler.execute(get))["status_code"] == 503
    assert len(server.arrivals) == 4  # two calls, each retried once
    for _ in range(5):
        with pytest.raises(CircuitOpenError):
            await handler.execute(get)
    assert len(server.arrivals) == 4


async def test_a_500_is_not_retried_but_counts_toward_the_breaker(
    server: ScriptedServer, policed: Any
) -> None:
    server.statuses = [500]
    handler = await policed(retry_policy=RETRY, circuit_breaker={"failure_threshold": 3})
    get = command("http.get", {"url": server.url})
    for _ in range(3):
        assert (await handler.execute(get))["status_code"] == 500
    with pytest.raises(CircuitOpenError):
        await handler.execute(get)
    assert len(server.arrivals) == 3


async def test_a_slow_server_gives_handler_timeout_after_each_attempt_and_is_retried(
    server: ScriptedServer, policed: Any
) -> None:
    server.stall = True
    handler = await policed(timeout_ms=100, retry_policy={**RETRY, "max_retries": 2})
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError) as raised:
        await handler.execute(command("http.get", {"url": server.url}))
    assert time.monotonic() - began < 1.0
    assert len(server.arrivals) == 3
    assert raised.value.details["attempts"] == 3
    assert raised.value.details["last_error"]["code"] == "HANDLER_TIMEOUT"


async def test_a_slow_post_times_out_once_without_retry(
    server: ScriptedServer, policed: Any
) -> None:
    server.stall = True
    handler = await policed(timeout_ms=150, retry_policy=RETRY)
    with pytest.raises(HandlerTimeoutError) as raised:
        await handler.execute(command("http.post", {"url": server.url}))
    assert len(server.arrivals) == 1  # POST is not idempotent: one attempt
    assert "attempts" not in raised.value.details


async def test_the_server_never_sees_more_than_the_bucket_allows(
    server: ScriptedServer, policed: Any
) -> None:
    rate, burst, calls = 10, 10, 16
    handler = await policed(timeout_ms=5000, rate_limit_per_second=rate)
    get = command("http.get", {"url": server.url})
    began = time.monotonic()
    results = await asyncio.gather(*(handler.execute(get) for _ in range(calls)))
    assert all(result["status_code"] == 200 for result in results)
    offsets = sorted(arrival - began for arrival in server.arrivals)
    for index, offset in enumerate(offsets):
        # by any time t the server has seen at most burst + rate * t requests
        earliest = max(0, index - burst + 1) / rate
        assert offset >= earliest - 0.005, (index, offset, earliest)
    assert len(offsets) == calls
