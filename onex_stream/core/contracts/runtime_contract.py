"""ModelRuntimeHostContract: which bus, handlers and nodes a runtime host runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.topics import (
    EnumTopicSignal,
    dead_letter_topic_for,
    event_topic_for,
    parse_topic,
)

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSubscription(_Strict):
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


class ModelEventBusSettings(_Strict):
    """``event_bus.config``: broker, consumer group, topics."""

    bootstrap_servers: str | None = None
    consumer_group: str | None = Field(default=None, pattern=SLUG_PATTERN)
    topics: ModelSubscription | None = None
    subscriptions: list[ModelSubscription] | None = Field(default=None, min_length=1)
    partitions: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _one_way_to_name_topics(self) -> ModelEventBusSettings:
        if self.topics is not None and self.subscriptions is not None:
            raise ValueError("give either 'topics' or 'subscriptions', not both")
        return self


class ModelEventBusConfig(_Strict):
    """``runtime.event_bus``: the transport that feeds envelopes to the runtime."""

    kind: Literal["inmemory", "kafka"] = "inmemory"
    config: ModelEventBusSettings = Field(default_factory=ModelEventBusSettings)


class ModelNodeRef(_Strict):
    """A hosted node; its contract is ``<nodes_dir>/<slug>.yaml``."""

    slug: str = Field(pattern=SLUG_PATTERN)


class ModelEndpointSettings(_Strict):
    """Health and metrics HTTP endpoints (served by the worker's web server)."""

    enabled: bool = True
    port: int = Field(default=6066, ge=0, le=65535)


class ModelRuntimeSection(_Strict):
    """The ``runtime`` section of a runtime host contract."""

    name: str = Field(pattern=SLUG_PATTERN)
    version: str = "1.0.0"
    description: str = ""
    tenant_id: str | None = Field(default=None, pattern=SLUG_PATTERN)
    event_bus: ModelEventBusConfig = Field(default_factory=ModelEventBusConfig)
    handlers: list[ModelHandlerBindingConfig] = Field(default_factory=list)
    nodes: list[ModelNodeRef] = Field(default_factory=list)
    nodes_dir: str = "../nodes"
    max_concurrent_operations: int = Field(default=1, ge=1, le=10000)
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)
    health: ModelEndpointSettings = Field(default_factory=ModelEndpointSettings)
    metrics: ModelEndpointSettings = Field(default_factory=ModelEndpointSettings)

    @property
    def consumer_group(self) -> str:
        """Kafka consumer group (= Faust app id); defaults to the runtime name."""
        return self.event_bus.config.consumer_group or self.name

    @property
    def subscriptions(self) -> list[ModelSubscription]:
        """The command topics consumed, with their event and dead-letter topics."""
        settings = self.event_bus.config
        if settings.subscriptions is not None:
            return list(settings.subscriptions)
        if settings.topics is not None:
            return [settings.topics]
        return [ModelSubscription(input=f"onex.{self.tenant_id or 'local'}.{self.name}.cmd.v1")]


class ModelRuntimeHostContract(_Strict):
    """A runtime host contract file (schema 1.x = MVP, 2.x = Beta)."""

    schema_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    runtime: ModelRuntimeSection
