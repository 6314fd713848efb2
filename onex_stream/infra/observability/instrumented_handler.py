"""InstrumentedHandler: times every ``execute`` of a handler into the latency histogram."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.observability.metrics import UNKNOWN, HostMetrics


class InstrumentedHandler:
    """Wraps a handler; everything but the timing of ``execute`` is delegated."""

    def __init__(self, inner: HandlerPort, metrics: HostMetrics) -> None:
        self.inner = inner
        self._metrics = metrics

    @property
    def handler_type(self) -> EnumHandlerType:
        """The wrapped handler's type."""
        return self.inner.handler_type

    @property
    def supported_operations(self) -> frozenset[str]:
        """The wrapped handler's operations."""
        return self.inner.supported_operations

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Initialize the wrapped handler."""
        await self.inner.initialize(config)

    async def shutdown(self) -> None:
        """Shut the wrapped handler down."""
        await self.inner.shutdown()

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

    async def health_check(self) -> dict[str, Any]:
        """The wrapped handler's health."""
        return await self.inner.health_check()

    def describe(self) -> dict[str, Any]:
        """The wrapped handler's description."""
        return self.inner.describe()
