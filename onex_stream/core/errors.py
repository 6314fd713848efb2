"""The ONEX error tree; every error knows the wire code it is reported with.

    OnexError                              INTERNAL_ERROR
    └── RuntimeHostError                   INTERNAL_ERROR
        ├── EnvelopeValidationError        ENVELOPE_VALIDATION_ERROR
        ├── EnvelopeExpiredError           ENVELOPE_EXPIRED
        ├── NodeNotFoundError              NODE_NOT_FOUND
        ├── HandlerNotFoundError           HANDLER_NOT_FOUND
        ├── InvalidOperationError          INVALID_OPERATION
        ├── OperationNotAllowedError       OPERATION_NOT_ALLOWED
        ├── HandlerExecutionError          HANDLER_EXECUTION_ERROR
        │   ├── HandlerTimeoutError        HANDLER_TIMEOUT
        │   ├── RateLimitedError           RATE_LIMITED
        │   └── CircuitOpenError           CIRCUIT_OPEN
        ├── SecretResolutionError          SECRET_RESOLUTION_ERROR
        ├── HandlerConfigurationError      HANDLER_CONFIGURATION_ERROR
        ├── ContractValidationError        CONTRACT_VALIDATION_ERROR
        ├── HostStartError                 (the code of its cause)
        └── EventBusError                  EVENT_BUS_ERROR
            └── ResponseTooLargeError      RESPONSE_TOO_LARGE

Errors carry structured context (correlation_id, handler_type, operation,
details) and never a stack trace: response envelopes are built from these fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID


class EnumErrorCode(StrEnum):
    """Codes reported in ``error.code`` of failed response envelopes."""

    ENVELOPE_VALIDATION_ERROR = "ENVELOPE_VALIDATION_ERROR"
    ENVELOPE_EXPIRED = "ENVELOPE_EXPIRED"
    NODE_NOT_FOUND = "NODE_NOT_FOUND"
    HANDLER_NOT_FOUND = "HANDLER_NOT_FOUND"
    INVALID_OPERATION = "INVALID_OPERATION"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    HANDLER_EXECUTION_ERROR = "HANDLER_EXECUTION_ERROR"
    HANDLER_TIMEOUT = "HANDLER_TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    SECRET_RESOLUTION_ERROR = "SECRET_RESOLUTION_ERROR"
    HANDLER_CONFIGURATION_ERROR = "HANDLER_CONFIGURATION_ERROR"
    CONTRACT_VALIDATION_ERROR = "CONTRACT_VALIDATION_ERROR"
    EVENT_BUS_ERROR = "EVENT_BUS_ERROR"
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class OnexError(Exception):
    """Root of all ONEX errors."""

    code = EnumErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        correlation_id: UUID | None = None,
        handler_type: str | None = None,
        operation: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.correlation_id = correlation_id
        self.handler_type = handler_type
        self.operation = operation
        self.details: dict[str, Any] = details or {}

    def context(self) -> dict[str, Any]:
        """Structured fields for logs (never contains a stack trace)."""
        return {
            "code": self.code.value,
            "message": self.message,
            "correlation_id": str(self.correlation_id) if self.correlation_id else None,
            "handler_type": self.handler_type,
            "operation": self.operation,
            "details": self.details,
        }


class RuntimeHostError(OnexError):
    """Base for every error raised while hosting nodes and routing envelopes."""


class EnvelopeValidationError(RuntimeHostError):
    """An input envelope is malformed (missing fields, wrong types, bad version)."""

    code = EnumErrorCode.ENVELOPE_VALIDATION_ERROR


class EnvelopeExpiredError(RuntimeHostError):
    """A command arrived after its ``ttl_seconds`` elapsed; it is not executed."""

    code = EnumErrorCode.ENVELOPE_EXPIRED


class NodeNotFoundError(RuntimeHostError):
    """The envelope targets a node this runtime does not host."""

    code = EnumErrorCode.NODE_NOT_FOUND


class HandlerNotFoundError(RuntimeHostError):
    """No handler is registered for the envelope's handler type."""

    code = EnumErrorCode.HANDLER_NOT_FOUND


class InvalidOperationError(RuntimeHostError):
    """The handler does not support the requested operation (or its payload)."""

    code = EnumErrorCode.INVALID_OPERATION


class OperationNotAllowedError(RuntimeHostError):
    """The node's contract (or the handler's security policy) forbids the operation."""

    code = EnumErrorCode.OPERATION_NOT_ALLOWED


class HandlerExecutionError(RuntimeHostError):
    """A handler failed while performing an operation."""

    code = EnumErrorCode.HANDLER_EXECUTION_ERROR


class HandlerTimeoutError(HandlerExecutionError):
    """A handler did not finish within its timeout."""

    code = EnumErrorCode.HANDLER_TIMEOUT


class RateLimitedError(HandlerExecutionError):
    """A handler's rate limit refused the call."""

    code = EnumErrorCode.RATE_LIMITED


class CircuitOpenError(HandlerExecutionError):
    """A handler's circuit breaker is open; the call was not attempted."""

    code = EnumErrorCode.CIRCUIT_OPEN


class SecretResolutionError(RuntimeHostError):
    """A ``secret_ref`` could not be resolved."""

    code = EnumErrorCode.SECRET_RESOLUTION_ERROR


class HandlerConfigurationError(RuntimeHostError):
    """Handler wiring is invalid (duplicate type, bad config, unknown type)."""

    code = EnumErrorCode.HANDLER_CONFIGURATION_ERROR


class EventBusError(RuntimeHostError):
    """The event bus failed to publish or consume."""

    code = EnumErrorCode.EVENT_BUS_ERROR


class ResponseTooLargeError(EventBusError):
    """An answer is larger than the broker accepts; its payload was not sent."""

    code = EnumErrorCode.RESPONSE_TOO_LARGE


class HostStartError(RuntimeHostError):
    """The host cannot start (e.g. a handler failed to initialize): one located line.

    It reports the code of the error that caused it.
    """

    def __init__(self, message: str, cause: OnexError) -> None:
        super().__init__(message, handler_type=cause.handler_type, details=cause.details)
        self.code = cause.code


def cannot_start(error: OnexError) -> str:
    """The one line every entry point prints when the host cannot start."""
    return f"cannot start: {error.message}"


class ContractValidationError(RuntimeHostError):
    """A contract failed to load; the message names file, line, hint and action."""

    code = EnumErrorCode.CONTRACT_VALIDATION_ERROR

    def __init__(
        self,
        error: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str = "",
        action: str = "",
    ) -> None:
        self.error = error
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        self.action = action
        super().__init__(self._render(), details={"file": file, "line": line})

    @property
    def location(self) -> str:
        """``file:line:column`` of the offending key, as far as known."""
        parts = [self.file or "<contract>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def _render(self) -> str:
        where = ""
        if self.line is not None:
            where = f" at line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
        lines = [
            "ContractValidationError: Failed to load contract",
            f"  File: {self.file or '<unknown>'}",
            f"  Error: {self.error}{where}",
        ]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        if self.action:
            lines.append(f"  Action: {self.action}")
        return "\n".join(lines)
