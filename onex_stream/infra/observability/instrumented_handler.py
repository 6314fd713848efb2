"""InstrumentedHandler: times every ``execute`` of a handler into the latency histogram."""

from __future__ import annotations

from time import perf_counter

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.observability.metrics import UNKNOWN, HostMetrics


class InstrumentedHandler(HandlerDecorator):
    """Wraps a handler; everything but the timing of ``execute`` is delegated."""

    def __init__(self, inner: HandlerPort, metrics: HostMetrics) -> None:
        super().__init__(inner)
        self._metrics = metrics
        self._label = inner.handler_type.value

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Execute and observe the duration (also when it fails)."""
        operation = envelope.operation if envelope.operation in self.supported_operations else None
        started = perf_counter()
        try:
            return await self.inner.execute(envelope)
        finally:
            self._metrics.observe_latency(
                self._label, operation or UNKNOWN, perf_counter() - started
            )
