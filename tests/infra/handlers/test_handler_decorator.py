"""HandlerDecorator delegates every member of the handler port to the handler it wraps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerExecutionError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from tests.infra.handlers.conftest import command


class Recording:
    """A db-typed handler that records every call made to it."""

    handler_type = EnumHandlerType.DB
    supported_operations = frozenset({"db.query"})

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def initialize(self, config: Mapping[str, Any]) -> None:
        self.calls.append(("initialize", dict(config)))

    async def shutdown(self) -> None:
        self.calls.append(("shutdown", None))

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        self.calls.append(("execute", envelope.envelope_id))
        if envelope.payload and envelope.payload.get("fail"):
            raise HandlerExecutionError("planted failure")
        return {"rows": [], "envelope": str(envelope.envelope_id)}

    async def health_check(self) -> dict[str, Any]:
        self.calls.append(("health_check", None))
        return {"healthy": True, "handler_type": "db", "connections": 3}

    def describe(self) -> dict[str, Any]:
        self.calls.append(("describe", None))
        return {"handler_type": "db", "supported_operations": ["db.query"]}


class PassThrough(HandlerDecorator):
    """A decorator that overrides nothing."""


async def test_a_decorator_that_overrides_nothing_behaves_like_its_inner_handler() -> None:
    inner = Recording()
    decorated = PassThrough(inner)
    assert isinstance(decorated, HandlerPort)
    assert decorated.inner is inner
    assert decorated.handler_type is EnumHandlerType.DB
    assert decorated.supported_operations == inner.supported_operations

    await decorated.initialize({"dsn": "postgresql://db/x", "timeout_ms": 5})
    envelope = command("db.query", {"sql": "SELECT 1"})
    assert await decorated.execute(envelope) == await inner.execute(envelope)
    assert await decorated.health_check() == await inner.health_check()
    assert decorated.describe() == inner.describe()
    await decorated.shutdown()
    assert [name for name, _ in inner.calls] == [
        "initialize",
        *("execute", "execute", "health_check", "health_check", "describe", "describe"),
        "shutdown",
    ]
    assert inner.calls[0] == ("initialize", {"dsn": "postgresql://db/x", "timeout_ms": 5})


async def test_the_inner_handler_s_errors_pass_through_unchanged() -> None:
    decorated = PassThrough(Recording())
    with pytest.raises(HandlerExecutionError, match="planted failure"):
        await decorated.execute(command("db.query", {"fail": True}))


async def test_decorators_stack() -> None:
    inner = Recording()
    stacked = PassThrough(PassThrough(inner))
    assert stacked.handler_type is EnumHandlerType.DB
    envelope = command("db.query", {})
    assert await stacked.execute(envelope) == {"rows": [], "envelope": str(envelope.envelope_id)}
    assert inner.calls == [("execute", envelope.envelope_id)]
