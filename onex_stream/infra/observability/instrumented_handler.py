"""InstrumentedHandler: times every ``execute`` of a handler into the latency histogram."""

from __future__ import annotations

import time

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.observability.metrics import UNKNOWN, HostMetrics


class InstrumentedHandler(HandlerDecorator):
    """Wraps a handler; everything but the timing of ``execute`` is delegated."""

    def __init__(self, inner: HandlerPort, metrics: HostMetrics) -> None:
        super().__init__(inner)
        self._metrics = metrics

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Execute and observe the duration (also when it fails)."""
        operation = envelope.operation if envelope.operation in self.supported_operations else None
        started = time.perf_counter()
        try:
            return await self.inner.execute(envelope)
        finally:
            self._metrics.observe_latency(
                self.handler_type.value, operation or UNKNOWN, time.perf_counter() - started
            )
