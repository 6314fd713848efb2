"""LocalHandler: echo / transform / error without any I/O. DEV AND TEST ONLY."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    CircuitOpenError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
    RateLimitedError,
)
from onex_stream.core.ports import HandlerResult

logger = logging.getLogger(__name__)

_SIMULATED_ERRORS: dict[str, type[HandlerExecutionError]] = {
    cls.code.value: cls
    for cls in (HandlerExecutionError, HandlerTimeoutError, RateLimitedError, CircuitOpenError)
}


class LocalHandler:
    """Echoes, transforms or fails on demand, to exercise the runtime's wiring.

    WARNING: not for production. Production starts refuse a contract that enables
    it unless ``ONEX_ENV`` is ``dev`` or ``test``, and CI fails if infra imports it.

    Operations:
        local.echo: respond with the request payload.
        local.transform: respond with every string value upper-cased (recursively).
        local.error: fail with ``payload.error_message``; ``payload.error_code`` picks
            HANDLER_EXECUTION_ERROR (default), HANDLER_TIMEOUT, RATE_LIMITED or
            CIRCUIT_OPEN.
    """

    supported_operations = frozenset({"local.echo", "local.transform", "local.error"})

    def __init__(self) -> None:
        self._initialized = False

    @property
    def handler_type(self) -> EnumHandlerType:
        """Always ``EnumHandlerType.LOCAL``."""
        return EnumHandlerType.LOCAL

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Mark ready; warns that this handler is for dev/test only."""
        logger.warning("LocalHandler enabled: dev/test only, never use it in production")
        self._initialized = True

    async def shutdown(self) -> None:
        """Nothing to release."""
        self._initialized = False

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Perform local.echo, local.transform or local.error."""
        payload = envelope.payload or {}
        if envelope.operation == "local.echo":
            return dict(payload)
        if envelope.operation == "local.transform":
            transformed: dict[str, Any] = _upper(payload)
            return transformed
        if envelope.operation == "local.error":
            code = str(payload.get("error_code", HandlerExecutionError.code.value))
            error_class = _SIMULATED_ERRORS.get(code, HandlerExecutionError)
            raise error_class(
                str(payload.get("error_message", "Simulated error")),
                correlation_id=envelope.correlation_id,
                handler_type=self.handler_type.value,
                operation=envelope.operation,
            )
        raise InvalidOperationError(
            f"operation '{envelope.operation}' is not supported by the local handler",
            correlation_id=envelope.correlation_id,
            handler_type=self.handler_type.value,
            operation=envelope.operation,
            details={"available_operations": sorted(self.supported_operations)},
        )

    async def health_check(self) -> dict[str, Any]:
        """Healthy once initialized; always flags ``dev_test_only``."""
        return {"healthy": self._initialized, "handler_type": "local", "dev_test_only": True}

    def describe(self) -> dict[str, Any]:
        """Operations, payload fields and response shape."""
        return {
            "handler_type": self.handler_type.value,
            "supported_operations": sorted(self.supported_operations),
            "required_payload_fields": {"local.error": ["error_message (optional)"]},
            "response_shape": "the request payload (echo) or its transformed copy",
            "dev_test_only": True,
        }


def _upper(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, dict):
        return {key: _upper(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_upper(item) for item in value]
    return value
