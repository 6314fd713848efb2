"""CircuitBreakerHandler: CIRCUIT_OPEN without calling a backend that keeps failing."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from onex_stream.core.contracts.handler_binding import ModelCircuitBreaker
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import CircuitOpenError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.policies.transient import backend_failed
from onex_stream.infra.observability.metrics import HostMetrics


class CircuitState(IntEnum):
    """The breaker's states, valued as the ``onex_handler_circuit_state`` gauge reports them."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreakerHandler(HandlerDecorator):
    """A small state machine (closed -> open -> half-open -> closed or open again).

    Written here rather than taken from a library: the Python breaker libraries are
    synchronous (pybreaker) or unmaintained for asyncio (aiobreaker, circuitbreaker's
    async support), and the machine is a dozen lines, tested state by state.

    - closed: calls pass; ``failure_threshold`` consecutive backend failures
      (``transient.backend_failed``: timeouts, connection failures, HTTP 5xx) open it.
    - open: calls are refused with ``CIRCUIT_OPEN`` without reaching the backend, until
      ``reset_timeout_ms`` has passed since it opened.
    - half-open: one call (the probe) passes, the others are refused; the probe's success
      closes the circuit, its failure reopens it. A probe that ends without reaching a
      verdict (a validation error, a cancellation) frees the slot for the next call.
    """

    def __init__(
        self,
        inner: HandlerPort,
        policy: ModelCircuitBreaker,
        metrics: HostMetrics | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.policy, self._clock = policy, clock
        self._gauge = metrics.circuit_state.labels(inner.handler_type.value) if metrics else None
        self._failures, self._opened_at, self._probing = 0, 0.0, False
        self._set(CircuitState.CLOSED)

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Refuse while open; otherwise call and record the outcome."""
        probe = self._admit(envelope)
        verdict: bool | None = None
        try:
            result = await self.inner.execute(envelope)
            verdict = backend_failed(None, result)
            return result
        except Exception as error:
            verdict = True if backend_failed(error, None) else None
            raise
        finally:
            self._record(verdict, probe)

    async def health_check(self) -> dict[str, Any]:
        """The wrapped handler's health plus ``circuit`` while closed; while not closed,
        ``degraded`` without asking the backend the breaker protects (its calls are
        refused, a health probe would be one more call to a failing dependency)."""
        circuit = self.state.name.lower()
        if self.state is CircuitState.CLOSED:
            return {**await self.inner.health_check(), "circuit": circuit}
        return {
            "handler_type": self.handler_type.value,
            "healthy": False,
            "degraded": True,
            "circuit": circuit,
        }

    def _admit(self, envelope: ModelOnexEnvelope) -> bool:
        """Whether the call is the half-open probe; raises ``CircuitOpenError`` if refused."""
        elapsed = self._clock() - self._opened_at
        if self.state is CircuitState.OPEN and elapsed >= self.policy.reset_timeout_ms / 1000:
            self._set(CircuitState.HALF_OPEN)
        if self.state is CircuitState.CLOSED:
            return False
        if self.state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        remaining = self.policy.reset_timeout_ms - (self._clock() - self._opened_at) * 1000
        raise CircuitOpenError(
            f"circuit open after {self.policy.failure_threshold} consecutive failures",
            correlation_id=envelope.correlation_id,
            handler_type=self.handler_type.value,
            operation=envelope.operation,
            details={
                "state": self.state.name.lower(),
                "failure_threshold": self.policy.failure_threshold,
                "retry_after_ms": max(0, round(remaining)),
            },
        )

    def _record(self, failed: bool | None, probe: bool) -> None:
        if probe:
            self._probing = False
        elif self.state is not CircuitState.CLOSED:
            failed = None  # a call admitted before the circuit opened: no say any more
        if failed is None:
            return
        if not failed:
            self._failures = 0
            self._set(CircuitState.CLOSED)
            return
        self._failures += 1
        if probe or self._failures >= self.policy.failure_threshold:
            self._opened_at = self._clock()
            self._set(CircuitState.OPEN)

    def _set(self, state: CircuitState) -> None:
        self.state = state
        if self._gauge is not None:
            self._gauge.set(int(state))
