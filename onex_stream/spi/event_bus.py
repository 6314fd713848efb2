"""ProtocolEventBus: the abstract transport that feeds envelopes to the runtime."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EnvelopeValidationError

EnvelopeCallback = Callable[[ModelOnexEnvelope], Awaitable[ModelOnexEnvelope]]
"""Answers a decoded command with its response envelope."""

InvalidCallback = Callable[
    [EnvelopeValidationError, UUID | None, UUID | None], Awaitable[ModelOnexEnvelope]
]
"""Answers an undecodable record that still carries (correlation_id, envelope_id)."""

LifecycleHook = Callable[[], Awaitable[None]]


class ProtocolEventBus(ABC):
    """The transport between Kafka-like topics and the runtime host.

    An event bus consumes command envelopes from topics, hands each to the
    subscribed callback (the runtime host, which calls ``NodeRuntime``) and
    publishes the envelope the callback returns on the topic's event topic.
    Records that are not envelopes go to the dead-letter topic with their original
    bytes; if they carry a readable id, ``on_invalid`` is asked for an error
    response. It is NOT a handler: it has no ``handler_type``, performs no
    per-request operation and never interprets payloads. Ordering is per partition
    only; delivery is at-least-once (an offset is committed only after its answer
    is acknowledged by the broker). The bus is configured when constructed.
    """

    @abstractmethod
    async def initialize(self) -> None:
        """Prepare the broker side (topics) before consumption starts."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Stop consuming, finish in-flight envelopes, commit and disconnect."""

    @abstractmethod
    async def publish_envelope(self, envelope: ModelOnexEnvelope, topic: str) -> None:
        """Publish one envelope, keyed by its correlation_id; returns once acknowledged."""

    @abstractmethod
    def subscribe(
        self, topic: str, callback: EnvelopeCallback, on_invalid: InvalidCallback | None = None
    ) -> None:
        """Route every envelope consumed from ``topic`` to ``callback``."""

    @abstractmethod
    def add_lifecycle_hooks(
        self, *, on_start: LifecycleHook, on_ready: LifecycleHook, on_stop: LifecycleHook
    ) -> None:
        """Run ``on_start`` before consumption starts, ``on_ready`` once it runs, and
        ``on_stop`` after it stopped and offsets were committed (each once per start)."""

    @abstractmethod
    async def start_consuming(self) -> None:
        """Start consuming the subscribed topics (returns once consumption runs)."""

    @abstractmethod
    async def health_check(self) -> dict[str, Any]:
        """Structured health, with at least ``healthy: bool``."""
