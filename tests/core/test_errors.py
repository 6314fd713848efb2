"""The error tree: every error knows its code and carries structured context."""

from __future__ import annotations

from uuid import UUID

import pytest

from onex_stream.core import errors
from onex_stream.core.errors import EnumErrorCode, OnexError, RuntimeHostError

EXPECTED = {
    errors.EnvelopeValidationError: "ENVELOPE_VALIDATION_ERROR",
    errors.EnvelopeExpiredError: "ENVELOPE_EXPIRED",
    errors.NodeNotFoundError: "NODE_NOT_FOUND",
    errors.HandlerNotFoundError: "HANDLER_NOT_FOUND",
    errors.InvalidOperationError: "INVALID_OPERATION",
    errors.OperationNotAllowedError: "OPERATION_NOT_ALLOWED",
    errors.HandlerExecutionError: "HANDLER_EXECUTION_ERROR",
    errors.HandlerTimeoutError: "HANDLER_TIMEOUT",
    errors.RateLimitedError: "RATE_LIMITED",
    errors.CircuitOpenError: "CIRCUIT_OPEN",
    errors.SecretResolutionError: "SECRET_RESOLUTION_ERROR",
    errors.HandlerConfigurationError: "HANDLER_CONFIGURATION_ERROR",
    errors.EventBusError: "EVENT_BUS_ERROR",
    errors.ResponseTooLargeError: "RESPONSE_TOO_LARGE",
    errors.RuntimeHostError: "INTERNAL_ERROR",
}


@pytest.mark.parametrize(("cls", "code"), EXPECTED.items())
def test_each_error_knows_its_code_and_is_a_runtime_host_error(
    cls: type[RuntimeHostError], code: str
) -> None:
    error = cls("boom", correlation_id=UUID(int=3), handler_type="db", operation="db.query")
    assert isinstance(error, RuntimeHostError) and isinstance(error, OnexError)
    assert error.code == EnumErrorCode(code)
    assert error.context() == {
        "code": code,
        "message": "boom",
        "correlation_id": str(UUID(int=3)),
        "handler_type": "db",
        "operation": "db.query",
        "details": {},
    }


def test_timeouts_rate_limits_and_open_circuits_are_execution_errors() -> None:
    for cls in (errors.HandlerTimeoutError, errors.RateLimitedError, errors.CircuitOpenError):
        assert issubclass(cls, errors.HandlerExecutionError)


def test_every_wire_code_has_an_error_class() -> None:
    codes = {cls.code for cls in EXPECTED} | {errors.ContractValidationError.code}
    assert codes == set(EnumErrorCode)


def test_contract_error_renders_file_line_hint_and_action() -> None:
    error = errors.ContractValidationError(
        "Unknown handler type 'kafka'",
        file="/c.yaml",
        line=15,
        column=7,
        hint="Valid handler types are: http, db",
        action="Remove it",
    )
    assert str(error) == (
        "ContractValidationError: Failed to load contract\n"
        "  File: /c.yaml\n"
        "  Error: Unknown handler type 'kafka' at line 15, column 7\n"
        "  Hint: Valid handler types are: http, db\n"
        "  Action: Remove it"
    )
    assert error.location == "/c.yaml:15:7"
    assert error.code == EnumErrorCode.CONTRACT_VALIDATION_ERROR
