"""ProtocolEventBus: the abstract transport that feeds envelopes to the runtime host."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EnvelopeValidationError

EnvelopeCallback = Callable[[ModelOnexEnvelope], Awaitable[ModelOnexEnvelope]]
"""Answers a decoded command with its response envelope."""

InvalidCallback = Callable[
    [EnvelopeValidationError, UUID | None, UUID | None], Awaitable[ModelOnexEnvelope]
]
"""Answers an undecodable record that still carries (correlation_id, envelope_id)."""

IdempotentPredicate = Callable[[ModelOnexEnvelope], bool]
"""Whether a command's answer is remembered by envelope_id, so that a replay of it gets
that answer again instead of running twice (the host knows each envelope's node)."""

LifecycleHook = Callable[[], Awaitable[None]]
Partition = tuple[str, int]
"""A (topic, partition) pair."""


@dataclass(frozen=True)
class BusHealth:
    """A snapshot of consumption, for readiness."""

    running: bool
    assigned_partitions: int
    rebalancing: bool
    consuming: bool
    broker: str = ""
    """Where the bus consumes from, for messages (``kafka://host:port``)."""


class OffsetSource(Protocol):
    """Where log end and committed offsets come from (for the consumer lag)."""

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        """(log end offset, committed offset or None) per partition."""

    async def close(self) -> None:
        """Release connections."""


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
    is acknowledged by the broker). The bus is configured when constructed and
    prepares its topics itself before consumption starts.
    """

    @abstractmethod
    def subscribe(
        self,
        topic: str,
        callback: EnvelopeCallback,
        on_invalid: InvalidCallback | None = None,
        idempotent: IdempotentPredicate | None = None,
    ) -> None:
        """Route every envelope consumed from ``topic`` to ``callback``.

        With ``idempotent``, the answer of every command it accepts is remembered by
        envelope_id (durably, before the command counts as consumed): a replay of that
        command, or a command re-sent with the same envelope_id to the same partition,
        gets the remembered answer published again and ``callback`` is not called.
        Without it (or when it accepts nothing), nothing is remembered and nothing costs.
        """

    @abstractmethod
    def add_lifecycle_hooks(
        self,
        *,
        on_start: LifecycleHook | None = None,
        on_ready: LifecycleHook | None = None,
        on_stop: LifecycleHook | None = None,
        first: bool = False,
    ) -> None:
        """Run ``on_start`` before consumption starts, ``on_ready`` once it runs, and
        ``on_stop`` after it stopped and offsets were committed (each once per start);
        ``first`` runs them before the hooks added so far."""

    @abstractmethod
    def every(self, seconds: float, hook: LifecycleHook) -> None:
        """Run ``hook`` every ``seconds`` while consuming."""

    @abstractmethod
    async def start_consuming(self) -> None:
        """Start consuming the subscribed topics (returns once consumption runs)."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Stop consuming, finish in-flight envelopes, commit and disconnect."""

    @abstractmethod
    def in_flight(self) -> int:
        """Envelopes consumed and not yet answered."""

    @abstractmethod
    def health(self) -> BusHealth:
        """Whether and how the bus consumes right now."""

    @abstractmethod
    def assigned_partitions(self) -> set[Partition]:
        """The partitions this worker consumes now (empty before consumption starts)."""

    @abstractmethod
    def offset_source(self) -> OffsetSource:
        """A new source of the broker's log end and committed offsets."""

    @abstractmethod
    def worker_app(self) -> Any:
        """The framework application that runs this bus (``faust -A`` starts it; it
        also serves the host's web pages)."""
