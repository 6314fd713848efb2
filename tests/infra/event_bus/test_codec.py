"""encode_envelope writes exactly the bytes of the envelope's own ``to_json``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerExecutionError
from onex_stream.core.responses import ResponseFactory
from onex_stream.infra.event_bus.codec import encode_envelope

REQUEST = ModelOnexEnvelope(
    envelope_id=uuid.UUID(int=1),
    correlation_id=uuid.UUID(int=2),
    source_node="caller",
    target_node="echo_compute",
    handler_type="local",
    operation="local.echo",
    timestamp=datetime(2030, 1, 1, tzinfo=UTC),
)
RESPONSES = ResponseFactory(
    ids=lambda: uuid.UUID(int=3), clock=lambda: datetime(2030, 1, 1, 0, 0, 1, 250, tzinfo=UTC)
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits orjson refuses: pydantic's encoder takes over
    | st.floats()  # NaN and infinities become null in both
    | st.text()
    | st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-3))]))
    | st.uuids()
    | st.decimals(allow_nan=False)  # orjson refuses: pydantic's encoder takes over
)
PAYLOADS = st.dictionaries(
    st.text(),
    st.recursive(
        SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=8
    ),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(PAYLOADS)
def test_a_success_encodes_to_the_same_bytes_as_pydantic(payload: dict[str, Any]) -> None:
    response = RESPONSES.success(REQUEST, payload, source_node="echo_compute")
    assert encode_envelope(response) == response.to_json()


def test_a_failure_with_its_error_details_encodes_to_the_same_bytes_as_pydantic() -> None:
    error = HandlerExecutionError("boom", details={"attempts": 3, "cause": ["a", 1.5]})
    response = RESPONSES.failure(REQUEST, error, source_node="echo_compute")
    assert encode_envelope(response) == response.to_json()


def test_a_payload_orjson_cannot_encode_still_encodes() -> None:
    response = RESPONSES.success(REQUEST, {"amount": Decimal("1.10")}, source_node="n")
    assert encode_envelope(response) == response.to_json()
    assert b'"amount":"1.10"' in encode_envelope(response)
