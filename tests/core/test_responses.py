"""ResponseFactory: new id, echoed correlation, causation = request id, injected clock."""

from __future__ import annotations

from uuid import UUID

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerNotFoundError
from onex_stream.core.responses import ResponseFactory
from tests.support.deterministic import DeterministicClock, DeterministicIds

REQUEST = ModelOnexEnvelope.model_validate(
    {
        "envelope_id": str(UUID(int=1)),
        "correlation_id": str(UUID(int=2)),
        "source_node": "client",
        "target_node": "echo_compute",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"a": 1},
    }
)


def test_success_response_links_to_the_request(
    ids: DeterministicIds, clock: DeterministicClock
) -> None:
    response = ResponseFactory(ids, clock).success(REQUEST, {"b": 2}, source_node="echo_compute")
    assert response.envelope_id == UUID(int=1001)
    assert response.correlation_id == UUID(int=2)
    assert response.causation_id == UUID(int=1)
    assert response.target_node == "client"
    assert response.timestamp == clock.now
    assert response.metadata == {"original_target_node": "echo_compute"}
    assert (response.is_response, response.success, response.payload) == (True, True, {"b": 2})
    assert ModelOnexEnvelope.from_json(response.to_json()) == response


def test_failure_response_carries_code_and_context_without_trace(
    ids: DeterministicIds, clock: DeterministicClock
) -> None:
    error = HandlerNotFoundError(
        "no vault",
        handler_type="vault",
        operation="vault.get_secret",
        details={"available_handlers": ["local"]},
    )
    response = ResponseFactory(ids, clock).failure(REQUEST, error, source_node="rt")
    assert response.success is False
    assert response.payload is None
    assert response.error is not None
    assert response.error.model_dump() == {
        "code": "HANDLER_NOT_FOUND",
        "message": "no vault",
        "handler_type": "vault",
        "operation": "vault.get_secret",
        "details": {"available_handlers": ["local"]},
    }
    assert "Traceback" not in response.to_json().decode()


def test_failure_for_undecoded_input_uses_given_correlation(
    ids: DeterministicIds, clock: DeterministicClock
) -> None:
    error = HandlerNotFoundError("x")
    response = ResponseFactory(ids, clock).failure_for_undecoded(
        error, source_node="rt", correlation_id=UUID(int=7), causation_id=None
    )
    assert (response.correlation_id, response.causation_id) == (UUID(int=7), None)
    assert response.is_response and response.success is False
