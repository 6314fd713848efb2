"""RetryingHandler: retries transient failures (tenacity) with capped backoff and jitter."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
)

from onex_stream.core.contracts.budgets import backoff_cap_ms
from onex_stream.core.contracts.handler_binding import ModelRetryPolicy
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import OnexError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.policies.transient import (
    may_retry,
    transient_error,
    transient_result,
)
from onex_stream.infra.observability.metrics import HostMetrics

Sleep = Callable[[float], Awaitable[None]]


class RetryingHandler(HandlerDecorator):
    """Up to ``max_retries`` more attempts of a call that failed transiently (see
    ``transient``) on an operation safe to repeat (``may_retry``).

    Waits ``budgets.backoff_cap_ms`` times a jitter in [0.5, 1). A final error carries
    ``details.attempts`` and ``details.last_error`` (code and message of the last attempt);
    a final transient answer (an HTTP 503 after all retries) is returned as it is.
    """

    def __init__(
        self,
        inner: HandlerPort,
        policy: ModelRetryPolicy,
        metrics: HostMetrics | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(inner)
        self.policy = policy
        self._metrics, self._sleep, self._jitter = metrics, sleep, jitter
        self._retrying = AsyncRetrying(  # the retries, once the first attempt failed
            stop=stop_after_attempt(policy.max_retries),
            wait=lambda state: self._delay(state.attempt_number),
            retry=retry_if_exception(transient_error) | retry_if_result(transient_result),
            sleep=self._sleep,
            retry_error_callback=_last_outcome,
        )

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """The first non-transient outcome, or the last one once retries are exhausted.

        The first attempt is a plain call (tenacity costs ~100 µs a call): the retry
        machinery only starts after a transient failure.
        """
        opt_in = self.policy.retry_non_idempotent
        if not self.policy.max_retries or not may_retry(self.handler_type, envelope, opt_in):
            return await self.inner.execute(envelope)
        try:
            result = await self.inner.execute(envelope)
        except OnexError as error:
            if not transient_error(error):
                raise _attempted(error, 1) from None
        else:
            if not transient_result(result):
                return result
        await self._sleep(self._delay(0))
        return await self._retry(envelope)

    async def _retry(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        retrying = self._retrying.copy()
        try:
            result: HandlerResult = await retrying(self.inner.execute, envelope)
        except OnexError as error:
            attempts = 1 + retrying.statistics.get("attempt_number", 1)
            self._count(attempts, "failure")
            raise _attempted(error, attempts) from None
        self._count(1 + retrying.statistics.get("attempt_number", 1), "success")
        return result

    def _delay(self, retry: int) -> float:
        """Seconds before retry ``retry`` (0-based): its cap times a jitter in [0.5, 1)."""
        return backoff_cap_ms(self.policy, retry) / 1000 * (0.5 + self._jitter() / 2)

    def _count(self, attempts: int, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.handler_retries.labels(self.handler_type.value, outcome).inc(attempts - 1)


def _attempted(error: OnexError, attempts: int) -> OnexError:
    last = {"code": error.code.value, "message": error.message}
    error.details = {**error.details, "attempts": attempts, "last_error": last}
    return error


def _last_outcome(state: RetryCallState) -> HandlerResult:
    assert state.outcome is not None  # tenacity calls back only after an attempt
    result: HandlerResult = state.outcome.result()  # raises the last attempt's error
    return result
