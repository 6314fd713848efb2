"""Helpers shared by the infra handlers: config and payload validation, error context."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    HandlerConfigurationError,
    InvalidOperationError,
    RuntimeHostError,
)

Model = TypeVar("Model", bound=BaseModel)


def load_settings(
    model: type[Model], config: Mapping[str, Any], handler_type: EnumHandlerType
) -> Model:
    """Validate a handler's config; problems -> HandlerConfigurationError naming the keys."""
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        raise HandlerConfigurationError(
            f"invalid {handler_type.value} handler config: {_problems(exc)}",
            handler_type=handler_type.value,
            details={"fields": _fields(exc)},
        ) from None


def parse_payload(
    model: type[Model], envelope: ModelOnexEnvelope, handler_type: EnumHandlerType
) -> Model:
    """Validate an envelope's payload; problems -> InvalidOperationError naming the fields."""
    try:
        return model.model_validate(envelope.payload or {})
    except ValidationError as exc:
        raise InvalidOperationError(
            f"invalid payload for {envelope.operation}: {_problems(exc)}",
            correlation_id=envelope.correlation_id,
            handler_type=handler_type.value,
            operation=envelope.operation,
            details={"fields": _fields(exc)},
        ) from None


def require_operation(
    envelope: ModelOnexEnvelope, supported: frozenset[str], handler_type: EnumHandlerType
) -> str:
    """The envelope's operation, or InvalidOperationError listing the supported ones."""
    if envelope.operation not in supported:
        raise InvalidOperationError(
            f"operation '{envelope.operation}' is not supported by the "
            f"{handler_type.value} handler",
            correlation_id=envelope.correlation_id,
            handler_type=handler_type.value,
            operation=envelope.operation,
            details={"available_operations": sorted(supported)},
        )
    return envelope.operation


def failure(
    error: RuntimeHostError,
    envelope: ModelOnexEnvelope | None,
    handler_type: EnumHandlerType,
    logger: logging.Logger,
) -> RuntimeHostError:
    """``error`` with the envelope's context filled in; logged (without payload values)
    the first time, when it gets its handler type."""
    first = error.handler_type is None
    error.handler_type = error.handler_type or handler_type.value
    if envelope is not None:
        error.correlation_id = error.correlation_id or envelope.correlation_id
        error.operation = error.operation or envelope.operation
    if not first:
        return error
    logger.warning(
        "%s %s failed: %s %s (correlation_id=%s)",
        handler_type.value,
        error.operation or "call",
        error.code.value,
        error.message,
        error.correlation_id,
    )
    return error


def _problems(exc: ValidationError) -> str:
    # loc and msg only: pydantic's ``input`` may hold a secret (a DSN, a token header)
    return "; ".join(
        f"{'.'.join(map(str, item['loc'])) or '(root)'}: {item['msg']}" for item in exc.errors()
    )


def _fields(exc: ValidationError) -> list[str]:
    return sorted({".".join(map(str, item["loc"])) for item in exc.errors() if item["loc"]})
