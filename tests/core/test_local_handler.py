"""LocalHandler: echo, transform, error; dev/test only."""

from __future__ import annotations

import logging
from uuid import UUID

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    CircuitOpenError,
    HandlerExecutionError,
    InvalidOperationError,
    RateLimitedError,
)
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerPort


def envelope(operation: str, payload: dict | None) -> ModelOnexEnvelope:
    return ModelOnexEnvelope.model_validate(
        {
            "envelope_id": str(UUID(int=1)),
            "source_node": "c",
            "handler_type": "local",
            "operation": operation,
            "payload": payload,
        }
    )


async def test_echo_returns_the_payload() -> None:
    assert await LocalHandler().execute(envelope("local.echo", {"a": [1]})) == {"a": [1]}


async def test_transform_upper_cases_strings_recursively() -> None:
    result = await LocalHandler().execute(
        envelope("local.transform", {"a": "x", "b": {"c": ["y", 1]}})
    )
    assert result == {"a": "X", "b": {"c": ["Y", 1]}}


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (None, HandlerExecutionError),
        ("RATE_LIMITED", RateLimitedError),
        ("CIRCUIT_OPEN", CircuitOpenError),
    ],
)
async def test_error_raises_the_requested_error(
    code: str | None, cls: type[HandlerExecutionError]
) -> None:
    payload = {"error_message": "nope"} | ({"error_code": code} if code else {})
    with pytest.raises(cls, match="nope") as caught:
        await LocalHandler().execute(envelope("local.error", payload))
    assert type(caught.value) is cls


async def test_unknown_operations_are_invalid() -> None:
    with pytest.raises(InvalidOperationError):
        await LocalHandler().execute(envelope("local.fly", None))


async def test_initialize_warns_dev_only_and_health_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = LocalHandler()
    with caplog.at_level(logging.WARNING):
        await handler.initialize({})
    assert "dev/test only" in caplog.text
    assert await handler.health_check() == {
        "healthy": True,
        "handler_type": "local",
        "dev_test_only": True,
    }
    assert handler.describe()["supported_operations"] == [
        "local.echo",
        "local.error",
        "local.transform",
    ]


def test_it_is_a_local_handler_port() -> None:
    handler = LocalHandler()
    assert isinstance(handler, HandlerPort)
    assert handler.handler_type is EnumHandlerType.LOCAL
