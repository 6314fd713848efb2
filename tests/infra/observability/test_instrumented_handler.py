"""InstrumentedHandler is a HandlerDecorator that only times ``execute``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerExecutionError
from onex_stream.core.ports import HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.observability.instrumented_handler import InstrumentedHandler
from onex_stream.infra.observability.metrics import HostMetrics


class Http:
    """An http-typed handler that answers ``http.get`` and fails ``http.post``."""

    handler_type = EnumHandlerType.HTTP
    supported_operations = frozenset({"http.get", "http.post"})

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        if envelope.operation == "http.post":
            raise HandlerExecutionError("planted failure")
        return {"status_code": 200}

    async def health_check(self) -> dict[str, Any]:
        return {"healthy": True, "handler_type": "http"}

    def describe(self) -> dict[str, Any]:
        return {"handler_type": "http"}


def envelope(operation: str) -> ModelOnexEnvelope:
    return ModelOnexEnvelope(
        envelope_id=uuid4(),
        correlation_id=uuid4(),
        source_node="tests",
        handler_type=EnumHandlerType.HTTP,
        operation=operation,
    )


def observed(metrics: HostMetrics, operation: str) -> float | None:
    return metrics.registry.get_sample_value(
        "onex_handler_latency_seconds_count", {"handler_type": "http", "operation": operation}
    )


def test_it_overrides_only_execute() -> None:
    assert issubclass(InstrumentedHandler, HandlerDecorator)
    own = {name for name in vars(InstrumentedHandler) if not name.startswith("_")}
    assert own == {"execute"}


async def test_every_execute_is_timed_also_when_it_fails() -> None:
    metrics = HostMetrics()
    handler = InstrumentedHandler(Http(), metrics)
    assert await handler.execute(envelope("http.get")) == {"status_code": 200}
    with pytest.raises(HandlerExecutionError):
        await handler.execute(envelope("http.post"))
    with pytest.raises(HandlerExecutionError):
        await handler.execute(envelope("http.post"))
    assert (observed(metrics, "http.get"), observed(metrics, "http.post")) == (1.0, 2.0)
    assert await handler.health_check() == {"healthy": True, "handler_type": "http"}
    assert handler.describe() == {"handler_type": "http"}
