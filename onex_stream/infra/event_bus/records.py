"""Outbound records: response envelopes and dead letters, as (topic, key, value, headers)."""

from __future__ import annotations

from dataclasses import dataclass

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import OnexError

Headers = list[tuple[str, bytes]]
JSON = b"application/json"
DLQ_HEADER_PREFIX = "onex-dlq-"


@dataclass(frozen=True, slots=True)
class Outbound:
    """One record to publish."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a consumed record came from."""

    topic: str
    partition: int
    offset: int


def response_record(envelope: ModelOnexEnvelope, topic: str) -> Outbound:
    """A response keyed by its correlation_id, JSON value, correlation header."""
    key = str(envelope.correlation_id).encode() if envelope.correlation_id else None
    headers: Headers = [("content-type", JSON)]
    if key is not None:
        headers.append(("correlation_id", key))
    return Outbound(topic, key, envelope.to_json(), headers)


def dead_letter_record(
    topic: str, key: bytes | None, value: bytes | None, error: OnexError, origin: Origin
) -> Outbound:
    """The original key and bytes, with the reason and origin in ``onex-dlq-*`` headers."""
    headers: Headers = [
        (f"{DLQ_HEADER_PREFIX}reason", error.message.encode()),
        (f"{DLQ_HEADER_PREFIX}error-code", error.code.value.encode()),
        (f"{DLQ_HEADER_PREFIX}topic", origin.topic.encode()),
        (f"{DLQ_HEADER_PREFIX}partition", str(origin.partition).encode()),
        (f"{DLQ_HEADER_PREFIX}offset", str(origin.offset).encode()),
    ]
    return Outbound(topic, key, value, headers)
