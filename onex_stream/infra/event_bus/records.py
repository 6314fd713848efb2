"""Outbound records: response envelopes and dead letters, sized to fit the producer's limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import OnexError
from onex_stream.infra.event_bus.codec import encode_envelope

Headers = list[tuple[str, bytes]]
JSON = b"application/json"
DLQ_HEADER_PREFIX = "onex-dlq-"
#: aiokafka's bound on a batch's framing around one record (header 61 B + record 21 B).
_FRAMING_BYTES = 82
#: A length prefix (varint) takes at most this many bytes.
_VARINT_BYTES = 5
#: Longest dead-letter reason kept; longer ones are cut (the code and origin stay exact).
_MAX_REASON_BYTES = 1024
#: Longest original key kept in a dead letter that had to be truncated.
_MAX_KEPT_KEY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Outbound:
    """One record to publish (to ``partition``, else the one its key picks)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a consumed record came from."""

    topic: str
    partition: int
    offset: int


def encoded_size(record: Outbound) -> int:
    """An upper bound of the bytes ``record`` takes in a produce request.

    Never below aiokafka's own estimate, which it checks against ``max_request_size``.
    """
    size = _FRAMING_BYTES + 3 * _VARINT_BYTES + len(record.key or b"") + len(record.value or b"")
    for name, value in record.headers:
        size += 2 * _VARINT_BYTES + len(name.encode()) + len(value)
    return size


def response_record(envelope: ModelOnexEnvelope, topic: str) -> Outbound:
    """A response keyed by its correlation_id, JSON value, correlation header."""
    key = str(envelope.correlation_id).encode() if envelope.correlation_id else None
    headers: Headers = [("content-type", JSON)]
    if key is not None:
        headers.append(("correlation_id", key))
    return Outbound(topic, key, encode_envelope(envelope), headers)


def dead_letter_record(
    topic: str,
    key: bytes | None,
    value: bytes | None,
    error: OnexError,
    origin: Origin,
    *,
    max_bytes: int,
) -> Outbound:
    """The original key and bytes, with the reason and origin in ``onex-dlq-*`` headers.

    A copy larger than ``max_bytes`` keeps the head of the value (and at most 1 KiB of the
    key); ``onex-dlq-original-size`` and ``onex-dlq-sha256`` then describe the full value.
    """
    headers: Headers = [
        (f"{DLQ_HEADER_PREFIX}reason", error.message.encode()[:_MAX_REASON_BYTES]),
        (f"{DLQ_HEADER_PREFIX}error-code", error.code.value.encode()),
        (f"{DLQ_HEADER_PREFIX}topic", origin.topic.encode()),
        (f"{DLQ_HEADER_PREFIX}partition", str(origin.partition).encode()),
        (f"{DLQ_HEADER_PREFIX}offset", str(origin.offset).encode()),
    ]
    record = Outbound(topic, key, value, headers)
    if encoded_size(record) <= max_bytes:
        return record
    raw = value or b""
    headers += [
        (f"{DLQ_HEADER_PREFIX}truncated", b"true"),
        (f"{DLQ_HEADER_PREFIX}original-size", str(len(raw)).encode()),
        (f"{DLQ_HEADER_PREFIX}sha256", hashlib.sha256(raw).hexdigest().encode()),
        (f"{DLQ_HEADER_PREFIX}original-key-size", str(len(key or b"")).encode()),
    ]
    kept_key = key[:_MAX_KEPT_KEY_BYTES] if key is not None else None
    room = max_bytes - encoded_size(Outbound(topic, kept_key, b"", headers))
    return Outbound(topic, kept_key, raw[: max(room, 0)], headers)
