"""Which handler failures and answers are transient: the one place retry and breaker decide."""

from __future__ import annotations

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    CircuitOpenError,
    HandlerExecutionError,
    HandlerTimeoutError,
    OnexError,
    RateLimitedError,
)
from onex_stream.core.ports import HandlerResult

IDEMPOTENT_HTTP = frozenset({"http.get", "http.put", "http.delete"})
RETRY_STATUS = frozenset({429, 502, 503, 504})
# serialization failure, deadlock, admin/crash shutdown, cannot connect now; class 08: connection
RETRY_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
# ``details["error"]`` of connection failures, as the handlers name them when they map them
CONNECTION_ERRORS = frozenset(
    {
        "ConnectError",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CannotConnectNowError",
        # asyncpg's own client state gone wrong, seen when the server ends a session under
        # an operation ("cannot switch to state 15; another operation (2) is in
        # progress"); it carries no cause to tell that case from its other, rarer ones
        # (pool bookkeeping, type look-up races), which a new attempt also clears
        "InternalClientError",
    }
)


def may_retry(handler_type: EnumHandlerType, envelope: ModelOnexEnvelope, opt_in: bool) -> bool:
    """Whether the operation is safe to repeat: http GET/PUT/DELETE (POST/PATCH only with
    ``retry_non_idempotent``); every other handler's operations."""
    if handler_type is not EnumHandlerType.HTTP:
        return True
    return opt_in or envelope.operation in IDEMPOTENT_HTTP


def transient_error(error: BaseException) -> bool:
    """A timeout, a connection failure, a PostgreSQL serialization failure or deadlock;
    never validation, permission, not-found, rate-limit or open-circuit errors."""
    if isinstance(error, RateLimitedError | CircuitOpenError) or not isinstance(error, OnexError):
        return False
    if isinstance(error, HandlerTimeoutError):
        return True
    if type(error) is not HandlerExecutionError:
        return False
    sqlstate = error.details.get("sqlstate")
    if isinstance(sqlstate, str):
        return sqlstate in RETRY_SQLSTATES or sqlstate.startswith("08")
    return error.details.get("error") in CONNECTION_ERRORS


def status_code(result: HandlerResult) -> int | None:
    """The HTTP status an answer reports (http answers non-2xx as a success), if any."""
    code = result.get("status_code") if isinstance(result, dict) else None
    return code if isinstance(code, int) else None


def transient_result(result: HandlerResult) -> bool:
    """An answer worth asking again: HTTP 429, 502, 503, 504."""
    return status_code(result) in RETRY_STATUS


def backend_failed(error: BaseException | None, result: HandlerResult) -> bool:
    """What a circuit breaker counts: a transient failure or an HTTP 5xx answer."""
    if error is not None:
        return transient_error(error)
    code = status_code(result)
    return code is not None and code >= 500
