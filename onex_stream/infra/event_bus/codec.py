"""Record values to envelopes and back; decode failures keep any ids they can read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from onex_stream.core.contracts.event_bus import DEFAULT_MAX_ENVELOPE_BYTES
from onex_stream.core.envelope import ModelErrorInfo, ModelOnexEnvelope
from onex_stream.core.errors import EnvelopeValidationError


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """A record that is not a valid envelope, with the ids it still carries.

    ``reason`` is one of a few fixed words (a metric label): no_value, not_utf8,
    not_json, not_object, too_large, invalid_envelope.
    """

    error: EnvelopeValidationError
    reason: str
    correlation_id: UUID | None = None
    envelope_id: UUID | None = None

    @property
    def answerable(self) -> bool:
        """Whether the sender can correlate an error response (an id was readable)."""
        return self.correlation_id is not None or self.envelope_id is not None


def encode_envelope(envelope: ModelOnexEnvelope) -> bytes:
    """The bytes ``envelope.to_json()`` writes, by orjson (~3x faster) whenever every value
    is a JSON type orjson knows; pydantic's encoder otherwise (Decimal, bytes, sets...)."""
    try:
        encoded = orjson.dumps(envelope.__dict__, default=_error_fields, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return envelope.to_json()
    return bytes(memoryview(encoded))  # orjson's bytes hold ~4 KiB; answers may be kept


def _error_fields(value: object) -> dict[str, Any]:
    if isinstance(value, ModelErrorInfo):
        return value.__dict__
    raise TypeError(type(value).__name__)


def decode_envelope(
    raw: bytes | None, max_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES
) -> ModelOnexEnvelope | DecodeFailure:
    """Decode one record value (plain UTF-8 JSON) into an envelope, or say why not."""
    if raw is None:
        return DecodeFailure(EnvelopeValidationError("record has no value"), "no_value")
    invalid: ValidationError | None = None
    if len(raw) <= max_bytes:
        try:
            return ModelOnexEnvelope.model_validate_json(raw)
        except ValidationError as exc:
            invalid = exc
    return _diagnose(raw, max_bytes, invalid)


def _diagnose(raw: bytes, max_bytes: int, invalid: ValidationError | None) -> DecodeFailure:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _not_utf8(raw) or DecodeFailure(
            EnvelopeValidationError(f"record value is not JSON: {exc}"), "not_json"
        )
    if not isinstance(data, dict):
        kind = type(data).__name__
        error = EnvelopeValidationError(f"envelope must be a JSON object, not {kind}")
        return DecodeFailure(error, "not_object")
    correlation_id, envelope_id = _uuid(data, "correlation_id"), _uuid(data, "envelope_id")
    reason = "too_large" if invalid is None else "invalid_envelope"
    if invalid is None:
        message = f"envelope of {len(raw)} bytes exceeds the limit of {max_bytes} bytes"
        details: dict[str, Any] = {"size_bytes": len(raw), "max_bytes": max_bytes}
    else:
        problems = [
            {"field": ".".join(map(str, e["loc"])) or "<root>", "problem": e["msg"]}
            for e in invalid.errors(include_url=False, include_input=False)
        ]
        message = "invalid envelope: " + "; ".join(
            f"{p['field']}: {p['problem']}" for p in problems
        )
        details = {"problems": problems}
    error = EnvelopeValidationError(
        message,
        correlation_id=correlation_id,
        handler_type=_str(data, "handler_type"),
        operation=_str(data, "operation"),
        details=details,
    )
    return DecodeFailure(error, reason, correlation_id, envelope_id)


def _not_utf8(raw: bytes) -> DecodeFailure | None:
    """Say which byte breaks UTF-8 (orjson reports every such fault as "surrogates")."""
    try:
        raw.decode()
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        message = f"record value is not UTF-8: byte 0x{byte:02x} at {exc.start}: {exc.reason}"
        return DecodeFailure(EnvelopeValidationError(message), "not_utf8")
    return None


def _uuid(data: dict[str, Any], key: str) -> UUID | None:
    value = data.get(key)
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None
