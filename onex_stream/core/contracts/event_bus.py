"""``runtime.event_bus``: transport kind, broker, consumer group, topics, Kafka tuning."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from onex_stream.core.contracts.strict import StrictModel
from onex_stream.core.secret_refs import check_secret_ref
from onex_stream.core.topics import (
    EnumTopicSignal,
    dead_letter_topic_for,
    event_topic_for,
    parse_topic,
)

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
#: The largest record the host writes: Kafka's default producer ``max.request.size``.
DEFAULT_MAX_RECORD_BYTES = 1_000_000
#: Room a dead letter needs beside the original value (key, headers, batch framing).
DEAD_LETTER_HEADROOM_BYTES = 8 * 1024
#: The largest command decoded; anything larger is dead-lettered (truncated to fit).
DEFAULT_MAX_ENVELOPE_BYTES = 960 * 1024


class ModelSubscription(StrictModel):
    """A command topic and the topics its answers and dead letters go to."""

    input: str
    output: str | None = None
    dead_letter: str | None = None

    @field_validator("input")
    @classmethod
    def _input_is_command_topic(cls, value: str) -> str:
        if parse_topic(value).signal is not EnumTopicSignal.CMD:
            raise ValueError(f"input topic {value!r} must be a 'cmd' topic")
        return value

    @field_validator("output", "dead_letter")
    @classmethod
    def _valid_topic(cls, value: str | None) -> str | None:
        if value is not None:
            parse_topic(value)
        return value

    @property
    def event_topic(self) -> str:
        """Where responses are published (derived from ``input`` unless given)."""
        return self.output or event_topic_for(self.input)

    @property
    def dead_letter_topic(self) -> str:
        """Where undecodable records go (derived from ``input`` unless given)."""
        return self.dead_letter or dead_letter_topic_for(self.input)


class ModelKafkaSecurity(StrictModel):
    """How the worker authenticates to Kafka; the password only by reference."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    username: str | None = None
    password_ref: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    _password_ref_form = field_validator("password_ref")(check_secret_ref)

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> ModelKafkaSecurity:
        if self.protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.username and self.password_ref
        ):
            raise ValueError("SASL needs sasl_mechanism, username and password_ref")
        return self


class ModelEventBusSettings(StrictModel):
    """``event_bus.config``: broker, consumer group, topics, delivery tuning."""

    bootstrap_servers: str | None = None
    consumer_group: str | None = Field(default=None, pattern=SLUG_PATTERN)
    topics: ModelSubscription | None = None
    subscriptions: list[ModelSubscription] | None = Field(default=None, min_length=1)
    partitions: int = Field(default=8, ge=1)
    create_topics: bool = False
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    max_inflight_envelopes: int = Field(default=2000, ge=8)
    session_timeout_ms: int = Field(default=10000, ge=100)
    heartbeat_interval_ms: int = Field(default=3000, ge=50)
    rebalance_timeout_ms: int = Field(default=10000, ge=100)
    idempotence: bool = True
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    security: ModelKafkaSecurity = Field(default_factory=ModelKafkaSecurity)
    max_envelope_bytes: int = Field(default=DEFAULT_MAX_ENVELOPE_BYTES, ge=1024)
    max_record_bytes: int = Field(default=DEFAULT_MAX_RECORD_BYTES, ge=16 * 1024)
    max_delivery_attempts: int = Field(default=3, ge=1, le=100)
    startup_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _one_way_to_name_topics(self) -> ModelEventBusSettings:
        if self.topics is not None and self.subscriptions is not None:
            raise ValueError("give either 'topics' or 'subscriptions', not both")
        return self

    @model_validator(mode="after")
    def _transactions_need_idempotence(self) -> ModelEventBusSettings:
        if self.processing_guarantee == "exactly_once" and not self.idempotence:
            raise ValueError(
                "processing_guarantee: exactly_once needs the idempotent producer (Kafka "
                "transactions build on it): remove idempotence: false, or use at_least_once"
            )
        return self

    @model_validator(mode="after")
    def _dead_letter_fits_a_record(self) -> ModelEventBusSettings:
        room = self.max_record_bytes - DEAD_LETTER_HEADROOM_BYTES
        if self.max_envelope_bytes > room:
            raise ValueError(
                f"max_envelope_bytes ({self.max_envelope_bytes}) leaves no room for a dead "
                f"letter within max_record_bytes ({self.max_record_bytes}): keep it at most "
                f"{room}, or raise max_record_bytes (and the broker's message.max.bytes)"
            )
        return self


class ModelEventBusConfig(StrictModel):
    """``runtime.event_bus``: the transport that feeds envelopes to the runtime."""

    kind: Literal["inmemory", "kafka"] = "inmemory"
    config: ModelEventBusSettings = Field(default_factory=ModelEventBusSettings)
