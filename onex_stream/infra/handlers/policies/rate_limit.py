"""RateLimitedHandler: a token bucket (aiolimiter) per handler; RATE_LIMITED past the budget."""

from __future__ import annotations

import asyncio
import time

from aiolimiter import AsyncLimiter

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import RateLimitedError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.observability.metrics import HostMetrics


class RateLimitedHandler(HandlerDecorator):
    """At most ``rate`` calls per second (bursts of ``max(1, rate)``).

    A call waits for a token for at most ``budget_ms`` (the handler's ``timeout_ms``: the
    time a caller already accepts to wait for one call); if no token frees within it, the
    call is refused with ``RATE_LIMITED`` (``details.rate_limit_per_second``, ``waited_ms``)
    without reaching the backend.
    """

    def __init__(
        self,
        inner: HandlerPort,
        rate: float,
        budget_ms: int,
        metrics: HostMetrics | None = None,
    ) -> None:
        super().__init__(inner)
        self.rate, self.budget_ms = rate, budget_ms
        self._limiter = AsyncLimiter(rate, 1.0) if rate >= 1 else AsyncLimiter(1, 1 / rate)
        self._wait = metrics.rate_limit_wait.labels(inner.handler_type.value) if metrics else None

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Take a token (waiting up to the budget), then call the wrapped handler."""
        if self._limiter.has_capacity():
            await self._limiter.acquire()
        else:
            await self._queue(envelope)
        return await self.inner.execute(envelope)

    async def _queue(self, envelope: ModelOnexEnvelope) -> None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.budget_ms / 1000):
                await self._limiter.acquire()
        except TimeoutError:
            raise RateLimitedError(
                f"no rate-limit token within {self.budget_ms} ms ({self.rate:g} calls per second)",
                correlation_id=envelope.correlation_id,
                handler_type=self.handler_type.value,
                operation=envelope.operation,
                details={"rate_limit_per_second": self.rate, "waited_ms": self.budget_ms},
            ) from None
        finally:
            if self._wait is not None:
                self._wait.observe(time.monotonic() - started)
