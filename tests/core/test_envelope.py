"""ModelOnexEnvelope: validation rules and lossless JSON round-trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelErrorInfo, ModelOnexEnvelope

BASE = {
    "envelope_id": "00000000-0000-0000-0000-000000000001",
    "source_node": "client",
    "handler_type": "local",
    "operation": "local.echo",
}


def test_a_minimal_command_decodes_with_defaults() -> None:
    envelope = ModelOnexEnvelope.from_json(json.dumps(BASE))
    assert envelope.envelope_id == UUID(int=1)
    assert envelope.handler_type is EnumHandlerType.LOCAL
    assert envelope.envelope_version == "1.0"
    assert envelope.correlation_id is None
    assert envelope.metadata == {}
    assert envelope.is_response is False


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"envelope_id": "not-a-uuid"}, "envelope_id"),
        ({"envelope_version": "2.0"}, "unsupported envelope_version"),
        ({"envelope_version": "one"}, "must look like"),
        ({"handler_type": "kafka"}, "handler_type"),
        ({"operation": "GET"}, "operation"),
        ({"operation": None}, "needs handler_type and operation"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 1e18}, "ttl_seconds"),
        ({"ttl_seconds": 366 * 24 * 3600 + 1}, "ttl_seconds"),
        ({"timestamp": "9999-12-31T23:59:59Z", "ttl_seconds": 60}, "year 8999 or earlier"),
        ({"timestamp": "2024-01-01T00:00:00"}, "timestamp"),
        ({"payload": [1, 2]}, "payload"),
        ({"source_node": ""}, "source_node"),
    ],
)
def test_invalid_commands_are_rejected_naming_the_field(change: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        ModelOnexEnvelope.from_json(json.dumps({**BASE, **change}))


def test_missing_envelope_id_is_rejected() -> None:
    data = {k: v for k, v in BASE.items() if k != "envelope_id"}
    with pytest.raises(ValidationError, match="envelope_id"):
        ModelOnexEnvelope.model_validate(data)


def test_minor_versions_and_unknown_fields_are_accepted() -> None:
    envelope = ModelOnexEnvelope.model_validate({**BASE, "envelope_version": "1.7", "new": 1})
    assert envelope.envelope_version == "1.7"
    assert "new" not in envelope.model_dump()


def test_envelopes_are_immutable() -> None:
    envelope = ModelOnexEnvelope.model_validate(BASE)
    with pytest.raises(ValidationError):
        envelope.correlation_id = UUID(int=5)  # type: ignore[misc]


def test_responses_do_not_need_handler_type_or_operation() -> None:
    envelope = ModelOnexEnvelope.model_validate(
        {"envelope_id": str(UUID(int=9)), "source_node": "rt", "is_response": True}
    )
    assert envelope.handler_type is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
envelopes = st.builds(
    ModelOnexEnvelope,
    envelope_id=st.uuids(),
    correlation_id=st.none() | st.uuids(),
    causation_id=st.none() | st.uuids(),
    source_node=st.text(min_size=1, max_size=20),
    target_node=st.none() | st.text(max_size=20),
    handler_type=st.sampled_from(EnumHandlerType),
    operation=st.sampled_from(["local.echo", "http.get", "db.query", "graph.get_neighbors"]),
    payload=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    metadata=st.dictionaries(st.text(max_size=10), json_values, max_size=3),
    timestamp=st.none()
    | st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(8999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    ttl_seconds=st.none() | st.integers(min_value=1, max_value=10**6),
    is_response=st.booleans(),
    success=st.none() | st.booleans(),
    error=st.none()
    | st.builds(ModelErrorInfo, code=st.text(min_size=1), message=st.text(), details=st.none()),
)


@given(envelopes)
def test_json_round_trip_is_lossless(envelope: ModelOnexEnvelope) -> None:
    decoded = ModelOnexEnvelope.from_json(envelope.to_json())
    assert decoded == envelope
    assert decoded.to_json() == envelope.to_json()


def test_json_is_plain_utf8_with_string_uuids_and_rfc3339_timestamps() -> None:
    envelope = ModelOnexEnvelope.model_validate(
        {**BASE, "timestamp": "2024-01-01T00:00:00Z", "payload": {"name": "Zoë ☃"}}
    )
    raw = envelope.to_json()
    data = json.loads(raw.decode("utf-8"))
    assert data["envelope_id"] == "00000000-0000-0000-0000-000000000001"
    assert data["timestamp"] == "2024-01-01T00:00:00Z"
    assert data["payload"] == {"name": "Zoë ☃"}


def test_the_latest_timestamp_plus_the_longest_ttl_stays_in_the_calendar() -> None:
    """The bounds documented on the envelope make ``timestamp + ttl`` overflow-free."""
    envelope = ModelOnexEnvelope.from_json(
        json.dumps({**BASE, "timestamp": "8999-12-31T23:59:59Z", "ttl_seconds": 366 * 24 * 3600})
    )
    assert envelope.timestamp is not None and envelope.ttl_seconds is not None
    assert (envelope.timestamp + timedelta(seconds=envelope.ttl_seconds)).year < 9999


@given(envelopes)
def test_an_envelope_from_valid_fields_is_what_model_construct_builds(
    envelope: ModelOnexEnvelope,
) -> None:
    fields = dict(reversed(envelope.__dict__.items()))  # any order in, declaration order out
    built = ModelOnexEnvelope.from_valid_fields(**fields)
    constructed = ModelOnexEnvelope.model_construct(**fields)
    assert list(built.__dict__.items()) == list(constructed.__dict__.items())
    assert built.model_fields_set == constructed.model_fields_set
    assert (built.__pydantic_extra__, built.__pydantic_private__) == (None, None)
    assert built == constructed
    assert built.to_json() == constructed.to_json() == envelope.to_json()


def test_an_envelope_from_valid_fields_needs_every_field() -> None:
    fields = dict(ModelOnexEnvelope(envelope_id=UUID(int=1), source_node="n", is_response=True))
    del fields["timestamp"]
    with pytest.raises(KeyError, match="timestamp"):
        ModelOnexEnvelope.from_valid_fields(**fields)
