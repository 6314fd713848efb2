"""The timeout (per attempt) and rate-limit (token bucket with a wait budget) policies."""

from __future__ import annotations

import asyncio
import time

import pytest

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerTimeoutError, RateLimitedError
from onex_stream.core.ports import HandlerResult
from onex_stream.infra.handlers.policies import RateLimitedHandler, TimeoutHandler
from onex_stream.infra.observability.metrics import HostMetrics
from tests.infra.handlers.conftest import CORRELATION_ID, command
from tests.infra.handlers.policies.scripted import Scripted, Step

GET = command("http.get", {"url": "http://x/"})


async def test_a_call_slower_than_timeout_ms_is_a_handler_timeout() -> None:
    handler = TimeoutHandler(Scripted(0.05), timeout_ms=10)
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError) as raised:
        await handler.execute(GET)
    assert time.monotonic() - began < 0.045
    assert raised.value.details == {"timeout_ms": 10}
    assert raised.value.correlation_id == CORRELATION_ID
    assert raised.value.operation == "http.get"


async def test_a_call_within_timeout_ms_answers() -> None:
    assert await TimeoutHandler(Scripted({"ok": 1}), timeout_ms=1000).execute(GET) == {"ok": 1}


class Suspending(Scripted):
    """Suspends on futures it resolves itself, records what it was sent and thrown."""

    def __init__(self, suspensions: int, then: Step) -> None:
        super().__init__(then)
        self.suspensions = suspensions
        self.seen: list[object] = []
        self.resumed = asyncio.Event()  # set once past the suspensions

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        loop = asyncio.get_running_loop()
        try:
            for n in range(self.suspensions):
                future: asyncio.Future[int] = loop.create_future()
                loop.call_soon(future.set_result, n)
                self.seen.append(await future)
        except asyncio.CancelledError:
            self.seen.append("cancelled")
            raise
        self.resumed.set()
        return await super().execute(envelope)


async def test_a_call_that_suspends_many_times_gets_every_result_and_answers() -> None:
    inner = Suspending(3, {"ok": 2})
    assert await TimeoutHandler(inner, timeout_ms=1000).execute(GET) == {"ok": 2}
    assert inner.seen == [0, 1, 2]


async def test_a_failure_after_a_suspension_reaches_the_caller_unchanged() -> None:
    with pytest.raises(ValueError, match="boom"):
        await TimeoutHandler(Suspending(2, ValueError("boom")), timeout_ms=1000).execute(GET)


async def test_the_handlers_own_timeout_error_is_not_reported_as_handler_timeout() -> None:
    for suspensions in (0, 1):
        inner = Suspending(suspensions, TimeoutError("the backend's own"))
        with pytest.raises(TimeoutError, match="the backend's own"):
            await TimeoutHandler(inner, timeout_ms=1000).execute(GET)


async def test_cancelling_the_caller_cancels_the_suspended_call() -> None:
    inner = Suspending(1, 1.0)  # then sleeps 1 s
    task = asyncio.ensure_future(TimeoutHandler(inner, timeout_ms=5000).execute(GET))
    await asyncio.wait_for(inner.resumed.wait(), 1)  # past its first suspension, asleep
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inner.seen == [0]
    assert task.cancelled()


async def test_a_call_slower_than_timeout_ms_after_suspending_is_cancelled_inside() -> None:
    inner = Suspending(1, 0.05)
    with pytest.raises(HandlerTimeoutError):
        await TimeoutHandler(inner, timeout_ms=10).execute(GET)


async def test_calls_within_the_burst_pass_at_once() -> None:
    inner = Scripted()
    handler = RateLimitedHandler(inner, rate=5, budget_ms=1000)
    began = time.monotonic()
    for _ in range(5):
        await handler.execute(GET)
    assert time.monotonic() - began < 0.05
    assert inner.calls == 5


async def test_a_call_past_the_burst_waits_for_a_token() -> None:
    metrics = HostMetrics()
    handler = RateLimitedHandler(Scripted(), rate=100, budget_ms=1000, metrics=metrics)
    began = time.monotonic()
    await asyncio.gather(*(handler.execute(GET) for _ in range(102)))
    assert time.monotonic() - began >= 0.01  # two tokens at 100/s
    count = metrics.registry.get_sample_value(
        "onex_handler_rate_limit_wait_seconds_count", {"handler_type": "http"}
    )
    assert count is not None and count >= 1


async def test_rate_limited_when_no_token_frees_within_the_budget() -> None:
    inner = Scripted()
    handler = RateLimitedHandler(inner, rate=1, budget_ms=20)
    await handler.execute(GET)
    with pytest.raises(RateLimitedError) as raised:
        await handler.execute(GET)
    assert raised.value.code.value == "RATE_LIMITED"
    assert raised.value.details == {"rate_limit_per_second": 1, "waited_ms": 20}
    assert inner.calls == 1


async def test_a_rate_below_one_per_second_allows_one_call_per_period() -> None:
    inner = Scripted()
    handler = RateLimitedHandler(inner, rate=0.5, budget_ms=10)
    await handler.execute(GET)
    with pytest.raises(RateLimitedError):
        await handler.execute(GET)
