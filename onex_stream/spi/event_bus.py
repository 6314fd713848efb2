"""ProtocolEventBus: the abstract transport that feeds envelopes to the runtime."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from onex_stream.core.envelope import ModelOnexEnvelope

EnvelopeCallback = Callable[[ModelOnexEnvelope], Awaitable[ModelOnexEnvelope]]


class ProtocolEventBus(ABC):
    """The transport between Kafka-like topics and the runtime host.

    An event bus consumes command envelopes from topics, hands each to the
    subscribed callback (the runtime host, which calls ``NodeRuntime``) and
    publishes the envelope the callback returns. It is NOT a handler: it has no
    ``handler_type``, performs no per-request operation and never inspects
    payloads. Ordering is per partition only; delivery is at-least-once.
    """

    @abstractmethod
    async def initialize(self, config: dict[str, Any]) -> None:
        """Connect to the broker with the contract's event bus config."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Stop consuming, finish in-flight envelopes, commit and disconnect."""

    @abstractmethod
    async def publish_envelope(self, envelope: ModelOnexEnvelope, topic: str) -> None:
        """Publish one envelope, keyed by its correlation_id; returns once acknowledged."""

    @abstractmethod
    def subscribe(self, topic: str, callback: EnvelopeCallback) -> None:
        """Route every envelope consumed from ``topic`` to ``callback``."""

    @abstractmethod
    async def start_consuming(self) -> None:
        """Start consuming the subscribed topics (returns once consumption runs)."""

    @abstractmethod
    async def health_check(self) -> dict[str, Any]:
        """Structured health, with at least ``healthy: bool``."""
