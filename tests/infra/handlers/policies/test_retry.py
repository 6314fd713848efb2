"""The retry policy: what is retried, how long it waits, what the final error says."""

from __future__ import annotations

import pytest

from onex_stream.core.contracts.handler_binding import ModelRetryPolicy
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import (
    CircuitOpenError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
)
from onex_stream.infra.handlers.policies import RetryingHandler
from onex_stream.infra.observability.metrics import HostMetrics
from tests.infra.handlers.conftest import command
from tests.infra.handlers.policies.scripted import Scripted, Sleeps

GET = command("http.get", {"url": "http://x/"})
POST = command("http.post", {"url": "http://x/"})
QUERY = command("db.query", {"sql": "SELECT 1"})
EXPONENTIAL = ModelRetryPolicy(max_retries=3, base_delay_ms=100, max_delay_ms=250)


def retrying(
    inner: Scripted, policy: ModelRetryPolicy = EXPONENTIAL, metrics: HostMetrics | None = None
) -> tuple[RetryingHandler, Sleeps]:
    sleeps = Sleeps()
    return RetryingHandler(inner, policy, metrics, sleep=sleeps, jitter=lambda: 1.0), sleeps


async def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    metrics = HostMetrics()
    inner = Scripted(HandlerTimeoutError("slow"), HandlerTimeoutError("slow"), {"ok": True})
    handler, _ = retrying(inner, metrics=metrics)
    assert await handler.execute(GET) == {"ok": True}
    assert inner.calls == 3
    labels = {"handler_type": "http", "outcome": "success"}
    assert metrics.registry.get_sample_value("onex_handler_retries_total", labels) == 2


async def test_exponential_backoff_doubles_up_to_max_delay() -> None:
    handler, sleeps = retrying(Scripted(HandlerTimeoutError("slow")))
    with pytest.raises(HandlerTimeoutError):
        await handler.execute(GET)
    assert sleeps.delays == pytest.approx([0.1, 0.2, 0.25])


async def test_fixed_backoff_waits_base_delay_with_jitter_in_the_upper_half() -> None:
    policy = ModelRetryPolicy(max_retries=2, backoff_strategy="fixed", base_delay_ms=40)
    sleeps = Sleeps()
    inner = Scripted(HandlerTimeoutError("slow"))
    handler = RetryingHandler(inner, policy, sleep=sleeps, jitter=lambda: 0.0)
    with pytest.raises(HandlerTimeoutError):
        await handler.execute(GET)
    assert sleeps.delays == pytest.approx([0.02, 0.02])


async def test_the_final_error_carries_attempts_and_last_error() -> None:
    handler, _ = retrying(Scripted(HandlerTimeoutError("no answer within 5 ms")))
    with pytest.raises(HandlerTimeoutError) as raised:
        await handler.execute(GET)
    assert raised.value.details["attempts"] == 4
    assert raised.value.details["last_error"] == {
        "code": "HANDLER_TIMEOUT",
        "message": "no answer within 5 ms",
    }


@pytest.mark.parametrize(
    "error",
    [
        InvalidOperationError("bad payload"),
        HandlerExecutionError("PostgreSQL error 42601", details={"sqlstate": "42601"}),
        HandlerExecutionError("HTTP transport failed", details={"error": "LocalProtocolError"}),
        CircuitOpenError("open"),
    ],
)
async def test_validation_and_permanent_errors_are_not_retried(error: Exception) -> None:
    inner = Scripted(error, {"ok": True})
    handler, _ = retrying(inner)
    with pytest.raises(type(error)):
        await handler.execute(GET)
    assert inner.calls == 1


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "08006", "57P01"])
async def test_serialization_deadlock_and_connection_sqlstates_are_retried(sqlstate: str) -> None:
    error = HandlerExecutionError("pg", details={"sqlstate": sqlstate})
    inner = Scripted(error, {"rows": []}, handler_type=EnumHandlerType.DB)
    handler, _ = retrying(inner)
    assert await handler.execute(QUERY) == {"rows": []}
    assert inner.calls == 2


@pytest.mark.parametrize(
    "error", ["ConnectionRefusedError", "ConnectionDoesNotExistError", "InternalClientError"]
)
async def test_connection_failures_named_by_the_db_handler_are_retried(error: str) -> None:
    """InternalClientError: asyncpg's protocol state when the server ended the session under
    an operation ("cannot switch to state 15; another operation (2) is in progress")."""
    failure = HandlerExecutionError(f"database call failed ({error})", details={"error": error})
    inner = Scripted(failure, {"rows": []}, handler_type=EnumHandlerType.DB)
    handler, _ = retrying(inner)
    assert await handler.execute(QUERY) == {"rows": []}
    assert inner.calls == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_http_statuses_are_asked_again_for_get(status: int) -> None:
    inner = Scripted({"status_code": status}, {"status_code": 200})
    handler, _ = retrying(inner)
    assert await handler.execute(GET) == {"status_code": 200}
    assert inner.calls == 2


async def test_a_500_answer_is_not_retried() -> None:
    inner = Scripted({"status_code": 500}, {"status_code": 200})
    handler, _ = retrying(inner)
    assert await handler.execute(GET) == {"status_code": 500}
    assert inner.calls == 1


async def test_the_last_transient_answer_is_returned_once_retries_are_exhausted() -> None:
    inner = Scripted({"status_code": 503})
    handler, _ = retrying(inner)
    assert await handler.execute(GET) == {"status_code": 503}
    assert inner.calls == 4


async def test_post_is_not_retried_unless_the_policy_opts_in() -> None:
    inner = Scripted({"status_code": 503}, {"status_code": 201})
    handler, _ = retrying(inner)
    assert await handler.execute(POST) == {"status_code": 503}
    assert inner.calls == 1
    opted = ModelRetryPolicy(max_retries=1, retry_non_idempotent=True)
    inner = Scripted({"status_code": 503}, {"status_code": 201})
    handler, _ = retrying(inner, opted)
    assert await handler.execute(POST) == {"status_code": 201}
    assert inner.calls == 2


async def test_zero_retries_calls_once() -> None:
    inner = Scripted(HandlerTimeoutError("slow"))
    handler, _ = retrying(inner, ModelRetryPolicy(max_retries=0))
    with pytest.raises(HandlerTimeoutError):
        await handler.execute(GET)
    assert inner.calls == 1
