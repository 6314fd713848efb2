"""The circuit breaker, state by state, with an injected clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onex_stream.core.contracts.handler_binding import ModelCircuitBreaker
from onex_stream.core.errors import (
    CircuitOpenError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
)
from onex_stream.infra.handlers.policies import CircuitBreakerHandler, CircuitState
from onex_stream.infra.observability.metrics import HostMetrics
from tests.infra.handlers.conftest import command
from tests.infra.handlers.policies.scripted import Clock, Scripted

POLICY = ModelCircuitBreaker(failure_threshold=3, reset_timeout_ms=1000)
TIMEOUT = HandlerTimeoutError("slow")
GET = command("http.get", {"url": "http://x/"})


def breaker(
    inner: Scripted, clock: Clock, metrics: HostMetrics | None = None
) -> CircuitBreakerHandler:
    return CircuitBreakerHandler(inner, POLICY, metrics, clock=clock)


async def fail(handler: CircuitBreakerHandler, times: int) -> None:
    for _ in range(times):
        with pytest.raises(HandlerTimeoutError):
            await handler.execute(GET)


async def test_closed_passes_calls_and_a_success_resets_the_failure_count() -> None:
    inner = Scripted(TIMEOUT, TIMEOUT, {"ok": 1}, TIMEOUT, TIMEOUT, {"ok": 2})
    handler = breaker(inner, Clock())
    await fail(handler, 2)
    assert await handler.execute(GET) == {"ok": 1}
    await fail(handler, 2)
    assert await handler.execute(GET) == {"ok": 2}
    assert handler.state is CircuitState.CLOSED


async def test_closed_opens_after_threshold_consecutive_failures() -> None:
    metrics = HostMetrics()
    handler = breaker(Scripted(TIMEOUT), Clock(), metrics)
    await fail(handler, 2)
    assert handler.state is CircuitState.CLOSED
    await fail(handler, 1)
    assert handler.state is CircuitState.OPEN
    assert (
        metrics.registry.get_sample_value("onex_handler_circuit_state", {"handler_type": "http"})
        == 2
    )


async def test_open_refuses_without_calling_the_backend() -> None:
    clock, inner = Clock(), Scripted(TIMEOUT)
    handler = breaker(inner, clock)
    await fail(handler, 3)
    clock.now += 0.999
    with pytest.raises(CircuitOpenError) as raised:
        await handler.execute(GET)
    assert inner.calls == 3
    assert raised.value.code.value == "CIRCUIT_OPEN"
    assert raised.value.details["retry_after_ms"] == 1
    assert raised.value.handler_type == "http"


async def test_half_open_lets_one_probe_through_after_the_reset_timeout() -> None:
    clock, inner = Clock(), Scripted(TIMEOUT, TIMEOUT, TIMEOUT, 0.02)
    handler = breaker(inner, clock)
    await fail(handler, 3)
    clock.now += 1.0
    probe = asyncio.ensure_future(handler.execute(GET))
    await asyncio.sleep(0)
    assert handler.state is CircuitState.HALF_OPEN
    with pytest.raises(CircuitOpenError):  # a second call while the probe runs
        await handler.execute(GET)
    assert await probe == {"slept": 0.02}
    assert inner.calls == 4


async def test_a_successful_probe_closes_the_circuit() -> None:
    clock = Clock()
    handler = breaker(Scripted(TIMEOUT, TIMEOUT, TIMEOUT, {"ok": 1}), clock)
    await fail(handler, 3)
    clock.now += 1.0
    assert await handler.execute(GET) == {"ok": 1}
    assert handler.state is CircuitState.CLOSED
    assert await handler.execute(GET) == {"ok": 1}


async def test_a_failed_probe_reopens_the_circuit_for_another_reset_timeout() -> None:
    clock, inner = Clock(), Scripted(TIMEOUT)
    handler = breaker(inner, clock)
    await fail(handler, 3)
    clock.now += 1.0
    await fail(handler, 1)
    assert handler.state is CircuitState.OPEN
    clock.now += 0.5
    with pytest.raises(CircuitOpenError):
        await handler.execute(GET)
    assert inner.calls == 4


async def test_validation_and_non_transient_errors_do_not_count() -> None:
    handler = breaker(Scripted(InvalidOperationError("bad"), HandlerExecutionError("x")), Clock())
    for _ in range(5):
        with pytest.raises((InvalidOperationError, HandlerExecutionError)):
            await handler.execute(GET)
    assert handler.state is CircuitState.CLOSED


async def test_http_5xx_answers_count_as_failures() -> None:
    handler = breaker(Scripted({"status_code": 500}), Clock())
    for _ in range(3):
        assert await handler.execute(GET) == {"status_code": 500}
    assert handler.state is CircuitState.OPEN


async def test_health_reports_an_open_circuit_as_degraded_without_probing_the_backend() -> None:
    backend = Scripted(TIMEOUT)
    probes = 0
    backend_health = backend.health_check

    async def counted() -> dict[str, Any]:
        nonlocal probes
        probes += 1
        return await backend_health()

    backend.health_check = counted  # type: ignore[method-assign]
    handler = breaker(backend, Clock())
    assert (await handler.health_check())["circuit"] == "closed"
    await fail(handler, 3)
    report = await handler.health_check()
    assert report == {"handler_type": "http", "healthy": False, "degraded": True, "circuit": "open"}
    assert probes == 1
