"""ModelOnexEnvelope: the one wire format of commands and responses (plain JSON)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from onex_stream.core.enums import EnumHandlerType

SUPPORTED_ENVELOPE_MAJOR = 1
ENVELOPE_VERSION = "1.0"
_VERSION = re.compile(r"^(\d+)\.(\d+)$")
OPERATION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
#: Bounds that keep ``timestamp + ttl_seconds`` inside the calendar (no overflow).
MAX_TTL_SECONDS = 366 * 24 * 3600
LATEST_TIMESTAMP_YEAR = 8999


class ModelErrorInfo(BaseModel):
    """The structured ``error`` of a failed response; never holds a stack trace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    handler_type: str | None = None
    operation: str | None = None
    details: dict[str, Any] | None = None


class ModelOnexEnvelope(BaseModel):
    """A command (``is_response=false``) or the response to one.

    Commands must name ``handler_type`` and ``operation``; responses echo them when
    the request could be decoded. Unknown extra fields are ignored so that minor
    versions can add fields; an unknown major ``envelope_version`` is rejected.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    envelope_id: UUID
    envelope_version: str = ENVELOPE_VERSION
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    source_node: str = Field(min_length=1)
    target_node: str | None = None
    handler_type: EnumHandlerType | None = None
    operation: str | None = Field(default=None, pattern=OPERATION_PATTERN)
    payload: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: AwareDatetime | None = None
    ttl_seconds: int | None = Field(default=None, gt=0, le=MAX_TTL_SECONDS)
    is_response: bool = False
    success: bool | None = None
    error: ModelErrorInfo | None = None

    @field_validator("envelope_version")
    @classmethod
    def _known_major_version(cls, value: str) -> str:
        match = _VERSION.match(value)
        if match is None:
            raise ValueError(f"envelope_version must look like '1.0', got {value!r}")
        if int(match.group(1)) != SUPPORTED_ENVELOPE_MAJOR:
            raise ValueError(
                f"unsupported envelope_version {value!r}: this runtime reads "
                f"{SUPPORTED_ENVELOPE_MAJOR}.x"
            )
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp_within_calendar(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.year > LATEST_TIMESTAMP_YEAR:
            raise ValueError(f"timestamp must be in year {LATEST_TIMESTAMP_YEAR} or earlier")
        return value

    @model_validator(mode="after")
    def _commands_are_routable(self) -> ModelOnexEnvelope:
        if not self.is_response and (self.handler_type is None or self.operation is None):
            raise ValueError("a command envelope needs handler_type and operation")
        return self

    def to_json(self) -> bytes:
        """Encode as UTF-8 JSON bytes (UUIDs as strings, RFC 3339 timestamps)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ModelOnexEnvelope:
        """Decode and validate; raises ``pydantic.ValidationError`` when invalid."""
        return cls.model_validate_json(data)

    @classmethod
    def from_valid_fields(cls, **fields: Any) -> ModelOnexEnvelope:
        """An envelope of every field, already valid (the runtime's own responses), not
        validated: what ``model_construct`` builds, without its alias look-ups per field
        (about 10x cheaper). A missing field is a ``KeyError``."""
        envelope = cls.__new__(cls)
        _set(envelope, "__dict__", {name: fields[name] for name in _FIELDS})
        _set(envelope, "__pydantic_fields_set__", set(_FIELDS))
        _set(envelope, "__pydantic_extra__", None)
        _set(envelope, "__pydantic_private__", None)
        return envelope


#: The envelope's fields in declaration order (the order they are encoded in).
_FIELDS = tuple(ModelOnexEnvelope.model_fields)
_set = object.__setattr__  # the model is frozen
